"""Records' identity keys as codes into a table of distinct key sets (the rows of one customer share one).

A large import resolves each distinct key set once, however many rows repeat it: resolution looks owners up by
code (`KnownOwners.of_sets`) instead of hashing every row's keys.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import overload

import numpy as np
import numpy.typing as npt

from cxm.customers.identities import Key

KeySet = tuple[Key, ...]
Codes = npt.NDArray[np.int64]


class KeySets:
    """The distinct key sets met so far (one import), numbered from 0; equal sets share a number."""

    def __init__(self) -> None:
        self.sets: list[KeySet] = []
        self._codes: dict[KeySet, int] = {}

    def __len__(self) -> int:
        return len(self.sets)

    def code_of(self, keys: KeySet) -> int:
        """The number of a key set, given a new one if it was not met before."""
        code = self._codes.get(keys)
        if code is None:
            code = self._codes[keys] = self.unshared()
            self.sets[code] = keys
        return code

    def unshared(self) -> int:
        """A new number for an empty key set of its own (a row rejected for one of its identities)."""
        self.sets.append(())
        return len(self.sets) - 1


class RecordKeys(Sequence[KeySet]):
    """Each record's keys: `sets.sets[codes[i]]`, a sequence of tuples to everyone else."""

    def __init__(self, sets: KeySets, codes: Codes) -> None:
        self.sets = sets
        self.codes = codes

    def __len__(self) -> int:
        return len(self.codes)

    @overload
    def __getitem__(self, index: int) -> KeySet: ...

    @overload
    def __getitem__(self, index: slice) -> RecordKeys: ...

    def __getitem__(self, index: int | slice) -> KeySet | RecordKeys:
        if isinstance(index, slice):
            return RecordKeys(self.sets, self.codes[index])
        return self.sets.sets[int(self.codes[index])]

    def __iter__(self) -> Iterator[KeySet]:
        sets = self.sets.sets
        return (sets[code] for code in self.codes.tolist())

    def take(self, indexes: list[int]) -> RecordKeys:
        """Only the records at `indexes`, in that order."""
        return RecordKeys(self.sets, self.codes[np.asarray(indexes, dtype=np.int64)])


def first_seen(codes: Codes) -> tuple[Codes, Codes]:
    """The distinct codes in order of first appearance, and for each record the position of its code there."""
    unique, first, inverse = np.unique(codes, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    position = np.empty_like(order)
    position[order] = np.arange(len(order))
    return unique[order], position[inverse]
