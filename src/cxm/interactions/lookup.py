"""Texts seen earlier in an import, found again for a whole column at once (hashes in NumPy, no Python per row).

Arrow's `index_in` builds its hash table of the known texts on every call: ~25 ms a batch against the 100,000
combinations of identity cells of a 1M-row import, more than the rest of the batch's identity work. Here each
text has a 64-bit polynomial hash computed over the column's bytes at once, known hashes stay sorted between
batches, and a match is confirmed by comparing the texts themselves (so a collision costs time, never a wrong
answer).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

BASE = np.uint64(0x100000001B3)  # any odd number would do: matches are confirmed by their text
Numbers = npt.NDArray[np.int64]
Hashes = npt.NDArray[np.uint64]


def combined(cells: list[pa.Array]) -> pa.Array:
    """A row's cells (text, none empty) as one text that tells combinations apart; a missing cell is ''."""
    if len(cells) == 1:
        return pc.fill_null(cells[0], "")
    # Each cell prefixed by its length: no cell's text can pass for another cell's.
    fields = [pc.binary_join_element_wise(pc.cast(pc.utf8_length(c), pa.string()), ":", c, "") for c in cells]
    return pc.binary_join_element_wise(*[pc.fill_null(f, "") for f in fields], "")


def text_hashes(texts: pa.Array) -> Hashes:
    """A 64-bit hash of each text of a string array without nulls, over all its bytes at once."""
    _, offset_buffer, data_buffer = texts.buffers()
    offsets = np.frombuffer(offset_buffer, np.int32)[texts.offset : texts.offset + len(texts) + 1].astype(np.int64)
    if data_buffer is None or not len(texts):
        return np.zeros(len(texts), np.uint64)
    data = np.frombuffer(data_buffer, np.uint8)[offsets[0] : offsets[-1]].astype(np.uint64)
    offsets -= offsets[0]
    lengths = np.diff(offsets)
    position = np.arange(len(data)) - np.repeat(offsets[:-1], lengths)
    powers = np.cumprod(np.concatenate([np.ones(1, np.uint64), np.full(max(int(lengths.max()), 1), BASE)]))
    sums = np.concatenate([np.zeros(1, np.uint64), np.cumsum(data * powers[position], dtype=np.uint64)])
    hashes: Hashes = (sums[offsets[1:]] - sums[offsets[:-1]]) ^ lengths.astype(np.uint64)
    return hashes


class SeenTexts:
    """Texts met so far, each with a number (e.g. the key set of a combination of identity cells)."""

    def __init__(self) -> None:
        self.texts = pa.array([], pa.string())
        self.numbers: Numbers = np.empty(0, np.int64)
        self.hashes: Hashes = np.empty(0, np.uint64)  # sorted
        self.where: Numbers = np.empty(0, np.int64)  # for each sorted hash, its text's position in `texts`

    def __len__(self) -> int:
        return len(self.texts)

    def find(self, texts: pa.Array, hashes: Hashes) -> Numbers:
        """The number of each text (without nulls) seen before, -1 for the others."""
        found = np.full(len(texts), -1, np.int64)
        if not len(self.hashes):
            return found
        slot = np.minimum(np.searchsorted(self.hashes, hashes), len(self.hashes) - 1)
        rows = np.flatnonzero(self.hashes[slot] == hashes)
        candidates = self.where[slot[rows]]
        same = pc.equal(self.texts.take(candidates), texts.take(rows)).to_numpy(zero_copy_only=False)
        found[rows[same]] = self.numbers[candidates[same]]
        return found

    def add(self, texts: pa.Array, hashes: Hashes, numbers: Numbers) -> None:
        """Remember new texts (distinct, not seen before) and their numbers."""
        start = len(self.texts)
        self.texts = pa.concat_arrays([self.texts, texts.cast(pa.string())])
        self.numbers = np.concatenate([self.numbers, numbers])
        order = np.argsort(hashes, kind="stable")
        slots = np.searchsorted(self.hashes, hashes[order])
        self.hashes = np.insert(self.hashes, slots, hashes[order])
        self.where = np.insert(self.where, slots, start + order)
