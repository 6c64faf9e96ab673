"""Character n-gram counts of many texts at once, in NumPy, exactly as sklearn's `char_wb` analyzer counts them.

Each character the vocabulary uses gets a 12-bit id (0: a character no term holds), so an n-gram of up to five
characters is one exact 64-bit code; a text's n-grams are coded with array arithmetic over all texts together and
looked up among the vocabulary's sorted codes. Nothing is hashed: a code is equal only for equal strings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

BITS = 12
SPACE = ord(" ")


@dataclass(frozen=True)
class CodedVocabulary:
    """A vocabulary's characters (sorted code points, id = position + 1) and its terms' codes (sorted, with index)."""

    characters: np.ndarray
    codes: np.ndarray
    columns: np.ndarray
    size: int
    low: int
    high: int


def coded(vocabulary: Mapping[str, int], low: int, high: int) -> CodedVocabulary | None:
    """The vocabulary coded for `counts` (None when it uses too many characters for 12-bit ids)."""
    terms = np.array(sorted(vocabulary, key=vocabulary.__getitem__), dtype=f"<U{high}")
    points = terms.view(np.uint32).reshape(len(terms), high) if len(terms) else np.zeros((0, high), np.uint32)
    characters = np.unique(points[points > 0])
    if len(characters) >= 2**BITS - 1:
        return None
    ids = np.searchsorted(characters, points).astype(np.uint64) + 1
    ids[points == 0] = 0
    codes = np.zeros(len(terms), dtype=np.uint64)
    for k in range(high):
        codes |= ids[:, k] << np.uint64(BITS * k)
    order = np.argsort(codes, kind="stable")
    return CodedVocabulary(characters, codes[order], order.astype(np.int64), len(terms), low, high)


def counts(documents: Sequence[str], vocabulary: CodedVocabulary) -> sparse.csr_matrix:
    """Raw counts of the vocabulary's n-grams in each (lowercased, whitespace-split, space-padded) document."""
    padded = [f" {'  '.join(words)} " if (words := d.lower().split()) else "" for d in documents]
    lengths = np.fromiter(map(len, padded), dtype=np.int64, count=len(padded))
    text = "".join(padded)
    points = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32) if text else np.zeros(0, np.uint32)
    owner = np.repeat(np.arange(len(documents)), lengths)
    rows, columns = _found(points, owner, vocabulary)
    found = sparse.coo_matrix((np.ones(len(rows)), (rows, columns)), shape=(len(documents), vocabulary.size)).tocsr()
    found.sum_duplicates()
    return found


def _ids(points: np.ndarray, vocabulary: CodedVocabulary) -> np.ndarray:
    """Each character's id (0 for characters no term holds)."""
    at = np.minimum(np.searchsorted(vocabulary.characters, points), max(len(vocabulary.characters) - 1, 0))
    known = vocabulary.characters[at] == points if len(vocabulary.characters) else np.zeros(len(points), bool)
    return np.where(known, at.astype(np.uint64) + 1, np.uint64(0))


def _found(points: np.ndarray, owner: np.ndarray, vocabulary: CodedVocabulary) -> tuple[np.ndarray, np.ndarray]:
    """(document, column) of every n-gram occurrence that is a vocabulary term."""
    ids, space = _ids(points, vocabulary), points == SPACE
    spaces = np.concatenate([[0], np.cumsum(space)])
    unknown = np.concatenate([[0], np.cumsum(ids == 0)])
    code = ids.copy()
    rows: list[np.ndarray] = []
    columns: list[np.ndarray] = []
    for n in range(2, vocabulary.high + 1):
        starts = len(points) - n + 1
        if starts <= 0:
            break
        code = code[:starts] | (ids[n - 1 : n - 1 + starts] << np.uint64(BITS * (n - 1)))
        if n < vocabulary.low:
            continue
        known = (unknown[n : n + starts] - unknown[:starts]) == 0
        where = np.flatnonzero(_within_a_word(space, spaces, n, starts) & known)
        at = np.searchsorted(vocabulary.codes, code[where])
        at = np.minimum(at, max(vocabulary.size - 1, 0))
        hit = vocabulary.codes[at] == code[where] if vocabulary.size else np.zeros(len(where), bool)
        rows.append(owner[where[hit]])
        columns.append(vocabulary.columns[at[hit]])
    if not rows:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(rows), np.concatenate(columns)


def _within_a_word(space: np.ndarray, spaces: np.ndarray, n: int, starts: int) -> np.ndarray:
    """N-grams inside one padded word: no space inside, and not two spaces (the gap between words)."""
    if n == 2:
        return np.asarray(~(space[:starts] & space[1 : 1 + starts]))
    return np.asarray((spaces[n - 1 : n - 1 + starts] - spaces[1 : 1 + starts]) == 0)
