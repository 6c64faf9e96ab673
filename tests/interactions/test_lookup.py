"""Texts found again by hash (identity cells of an import): equal texts match, different ones never do."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from cxm.interactions.lookup import SeenTexts, combined, text_hashes


def test_equal_texts_hash_alike_wherever_they_sit_in_their_arrays() -> None:
    first = pa.array(["", "ann@example.com", "+420777123456", "ann@example.co"])
    second = pa.array(["x", "+420777123456", "ann@example.com", ""]).slice(1)
    hashes = text_hashes(first)
    assert list(text_hashes(second)) == [hashes[2], hashes[1], hashes[0]]
    assert len(set(hashes.tolist())) == 4


def test_seen_texts_are_found_with_their_numbers_and_others_are_not() -> None:
    seen = SeenTexts()
    known = pa.array(["a", "bb", "ccc"])
    seen.add(known, text_hashes(known), np.array([7, 8, 9]))
    asked = pa.array(["ccc", "zz", "a", "a"])
    assert seen.find(asked, text_hashes(asked)).tolist() == [9, -1, 7, 7]


def test_texts_whose_hashes_collide_are_still_told_apart() -> None:
    seen = SeenTexts()
    colliding = np.zeros(2, np.uint64)  # every text given the same hash
    seen.add(pa.array(["one", "two"]), colliding, np.array([1, 2]))
    asked = pa.array(["two", "three", "one"])
    found = seen.find(asked, np.zeros(3, np.uint64))
    assert found[1] == -1 and set(found.tolist()) <= {1, 2, -1}
    assert found[0] in (2, -1) and found[2] in (1, -1)  # a match is confirmed by the text itself


def test_combinations_of_cells_never_run_together() -> None:
    left = [pa.array(["ab", "a", None]), pa.array(["c", "bc", "abc"])]
    texts = combined(left).to_pylist()
    assert len(set(texts)) == 3
    assert combined([pa.array(["x", None])]).to_pylist() == ["x", ""]
