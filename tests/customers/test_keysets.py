"""Records' keys as key set numbers, and their resolution (one per distinct set) on a real database."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy.orm import Session

from cxm.core.errors import InvalidInput
from cxm.customers import service
from cxm.customers.keysets import first_seen

ANN = (("email", "ann@example.com"),)
BOB = (("email", "bob@example.com"),)
LINK = (("email", "ann@example.com"), ("phone", "+420777123456"))


def records(sets: service.KeySets, *rows: tuple[tuple[str, str], ...]) -> service.RecordKeys:
    """Records with the given keys, numbered in `sets`."""
    return service.RecordKeys(sets, np.array([sets.code_of(row) for row in rows], np.int64))


def test_first_seen_lists_codes_in_order_of_appearance_and_places_each_record() -> None:
    codes, position = first_seen(np.array([5, 3, 5, 9, 3], np.int64))
    assert codes.tolist() == [5, 3, 9]
    assert position.tolist() == [0, 1, 0, 2, 1]


def test_record_keys_read_as_a_sequence_of_key_tuples() -> None:
    sets = service.KeySets()
    keys = records(sets, ANN, BOB, ANN)
    assert list(keys) == [ANN, BOB, ANN] and keys[1] == BOB and len(keys) == 3
    assert list(keys.take([2, 1])) == [ANN, BOB] and list(keys[1:]) == [BOB, ANN]
    assert sets.code_of(ANN) == keys.codes[0] != sets.unshared()


def test_records_resolve_as_plain_key_lists_do_across_calls_and_merges(session: Session) -> None:
    sets, memory = service.KeySets(), service.KnownOwners()
    first = service.resolve_keys(session, records(sets, ANN, BOB, ANN), [None] * 3, actor="t", known=memory)
    ann, bob = first[0], first[1]
    assert first == [ann, bob, ann] and ann != bob
    bob_phone = (("email", "bob@example.com"), ("phone", "+420777123456"))
    second = service.resolve_keys(
        session, records(sets, BOB, bob_phone, ANN, LINK), [None] * 4, actor="t", known=memory
    )
    # The phone joins Bob's and Ann's profiles: every record follows the merge, those of sets known before too.
    assert second == [min(ann, bob)] * 4
    third = service.resolve_keys(session, records(sets, BOB, ANN), [None] * 2, actor="t", known=memory)
    assert third == [min(ann, bob)] * 2


def test_a_record_without_keys_is_refused_naming_its_place(session: Session) -> None:
    sets = service.KeySets()
    with pytest.raises(InvalidInput, match="item 1: needs identities"):
        service.resolve_keys(session, records(sets, ANN, ()), [None, None], actor="t")
