"""Identity resolution in bulk: attach records to the customer owning their identities."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from cxm.core.bulk import Column, insert_columns, rows_matching, table_of
from cxm.core.db import utcnow
from cxm.core.errors import InvalidInput, NotFound
from cxm.customers.identities import Key
from cxm.customers.keysets import Codes, KeySets, RecordKeys, first_seen
from cxm.customers.merging import current_customer, lock_resolution, merge_customers
from cxm.customers.models import Customer, Identity


@dataclass(slots=True)
class Claim:
    """What one incoming record says about whom it concerns."""

    keys: tuple[Key, ...]
    customer_id: int | None = None
    traits: dict[str, Any] = field(default_factory=dict)


@dataclass
class KnownOwners:
    """Identity owners a transaction has read or written, reused by its next resolutions (an import's batches).

    Valid while the transaction holds the resolution lock, which every change of ownership takes (resolution,
    merge, undo, erasure); a resolution that merges profiles forgets them all. Owners of whole key sets
    (`RecordKeys`) are kept too, by their number: one look-up per record instead of one per key.
    """

    owners: dict[Key, int] = field(default_factory=dict)
    limit: int = 1_000_000
    sets: KeySets | None = None
    set_owners: Codes = field(default_factory=lambda: np.empty(0, np.int64))

    def of(self, session: Session, keys: set[Key]) -> dict[Key, int]:
        """Owners of `keys` (and of other keys known already), reading from the database only those not known."""
        self.owners.update(owners(session, keys - self.owners.keys()))
        return self.owners

    def of_sets(self, sets: KeySets) -> Codes:
        """The known owner of each of `sets` by number (-1 where not known)."""
        if self.sets is not sets:
            self.sets, self.set_owners = sets, np.empty(0, np.int64)
        if len(self.set_owners) < len(sets):
            grown = np.full(len(sets) + len(sets) // 2, -1, np.int64)
            grown[: len(self.set_owners)] = self.set_owners
            self.set_owners = grown
        return self.set_owners

    def learn(self, added: dict[Key, int], merged: bool) -> None:
        """Remember the identities a resolution added; after a merge, forget everything instead."""
        if merged or len(self.owners) > self.limit:
            self.owners.clear()
            self.set_owners = np.empty(0, np.int64)
        else:
            self.owners.update(added)


class _Components:
    """Union-find over identity keys and existing customer ids."""

    def __init__(self) -> None:
        self.parent: dict[object, object] = {}

    def find(self, node: object) -> object:
        root = self.parent.setdefault(node, node)
        while root != self.parent[root]:
            root = self.parent[root]
        while node != root:
            self.parent[node], node = root, self.parent[node]
        return root

    def union(self, nodes: Iterable[object]) -> object:
        roots = [self.find(node) for node in nodes]
        for other in roots[1:]:
            self.parent[other] = roots[0]
        return roots[0]


def owners(session: Session, keys: Iterable[Key]) -> dict[Key, int]:
    """The customer that owns each of `keys` now."""
    found: dict[Key, int] = {}
    by_kind: dict[str, list[str]] = {}
    for kind, value in set(keys):
        by_kind.setdefault(kind, []).append(value)
    # One kind at a time: a plain `value IN (...)` uses the index, where (kind, value) row values were slow.
    for kind, values in by_kind.items():
        rows = rows_matching(session, table_of(Identity), ["value", "customer_id"], "value", values, kind=kind)
        found.update({(kind, value): owner for value, owner in rows})
    return found


def _explicit_owner(session: Session, claim: Claim, index: int) -> int | None:
    if claim.customer_id is None:
        return None
    try:
        found = current_customer(session, claim.customer_id)
    except NotFound:
        found = None
    if found is None or found.erased_at is not None:
        problem = "unknown customer" if found is None else "customer was erased"
        raise InvalidInput(
            f"item {index}: {problem} {claim.customer_id}",
            details=[{"index": index, "field": "customer_id", "message": problem}],
        )
    return found.id


def _group(session: Session, claims: Sequence[Claim], existing: dict[Key, int]) -> tuple[_Components, list[object]]:
    components = _Components()
    for key in {key for claim in claims for key in claim.keys if key in existing}:
        components.union([key, ("customer", existing[key])])
    roots = []
    for index, claim in enumerate(claims):
        explicit = _explicit_owner(session, claim, index)
        nodes: list[object] = [*claim.keys] + ([("customer", explicit)] if explicit is not None else [])
        if not nodes:
            raise InvalidInput(
                f"item {index}: needs identities or a customer_id",
                details=[{"index": index, "field": "identities", "message": "no identity given"}],
            )
        roots.append(components.union(nodes))
    return components, [components.find(root) for root in roots]


def _members(components: _Components, roots: Iterable[object]) -> dict[object, list[int]]:
    wanted = dict.fromkeys(roots)  # first-seen order: new profiles are numbered as they arrived
    members: dict[object, list[int]] = {root: [] for root in wanted}
    for node in list(components.parent):
        if isinstance(node, tuple) and node[0] == "customer":
            root = components.find(node)
            if root in wanted:
                members[root].append(int(node[1]))
    return members


def _merge_group(session: Session, ids: list[int], keys: list[Key], actor: str, now: datetime) -> int:
    survivor, *others = sorted(set(ids))
    shown = ", ".join(f"{kind}:{value}" for kind, value in sorted(keys)[:6])
    for other in others:
        reason = f"identity resolution: identities {shown} link customers {survivor} and {other}"
        merge_customers(session, survivor_id=survivor, merged_id=other, actor=actor, reason=reason, now=now)
    return survivor


def _new_customers(session: Session, traits: list[dict[str, Any]], now: datetime) -> list[int]:
    """Create one profile per traits, given column by column (no row of its own per customer)."""
    if not traits:
        return []
    empty: dict[str, Any] = {}  # one object for every profile without attributes: serialised once
    defaults = {"name": None, "language": None, "country": None, "segment": None, "attributes": empty}
    columns: dict[str, Column] = {name: [t.get(name, default) for t in traits] for name, default in defaults.items()}
    columns["created_at"] = columns["updated_at"] = [now] * len(traits)
    return insert_columns(session, table_of(Customer), columns)


def resolve(session: Session, claims: Sequence[Claim], *, actor: str, now: datetime | None = None) -> list[int]:
    """Customer id for each claim: found by identity, created, or merged when it links profiles."""
    keys = [claim.keys for claim in claims]
    customer_ids = [claim.customer_id for claim in claims]
    owners, survivors = _resolved(
        session, keys, customer_ids, claims.__getitem__, actor, now or utcnow(), KnownOwners()
    )
    return [survivors.get(owner, owner) for owner in owners]


def resolve_keys(
    session: Session,
    keys: Sequence[tuple[Key, ...]],
    customer_ids: Sequence[int | None],
    *,
    actor: str,
    now: datetime | None = None,
    known: KnownOwners | None = None,
) -> list[int]:
    """Like `resolve`, for records given as columns: each one's keys and explicit customer id (no traits).

    `known` carries identity owners from one call to the next within a transaction (see KnownOwners).
    """
    memory = known or KnownOwners()
    if isinstance(keys, RecordKeys) and customer_ids.count(None) == len(customer_ids):
        return _resolved_sets(session, keys, actor, now or utcnow(), memory)

    def claim_at(index: int) -> Claim:
        return Claim(keys[index], customer_ids[index])

    owners, survivors = _resolved(session, keys, customer_ids, claim_at, actor, now or utcnow(), memory)
    return [survivors.get(owner, owner) for owner in owners]


def _resolved_sets(session: Session, keys: RecordKeys, actor: str, now: datetime, memory: KnownOwners) -> list[int]:
    """`resolve_keys` for records without explicit ids: each distinct key set not known yet resolved once.

    Owners known by set number were resolved earlier in this transaction, which holds the resolution lock since.
    """
    found = memory.of_sets(keys.sets)[keys.codes]
    missing = np.flatnonzero(found < 0)
    if not len(missing):
        return list(found.tolist())
    codes, position = first_seen(keys.codes[missing])
    distinct = [keys.sets.sets[code] for code in codes.tolist()]
    if not all(distinct):  # a record without keys: let the general path say which one
        owners, survivors = _resolved(session, keys, [None] * len(keys), lambda i: Claim(keys[i]), actor, now, memory)
        return [survivors.get(owner, owner) for owner in owners]
    owners, survivors = _resolved(
        session, distinct, [None] * len(distinct), lambda i: Claim(distinct[i]), actor, now, memory
    )
    resolved = np.asarray(owners, dtype=np.int64)
    found[missing] = resolved[position]
    _follow_merges(found, survivors, memory, keys.sets, codes, resolved)
    return list(found.tolist())


def _follow_merges(
    found: Codes, survivors: dict[int, int], memory: KnownOwners, sets: KeySets, codes: Codes, resolved: Codes
) -> None:
    """Point records at the survivors of this resolution's merges, or else remember the new sets' owners."""
    moved = {old: new for old, new in survivors.items() if old != new}
    for old, new in moved.items():
        found[found == old] = new  # records whose owner was known before this batch too
    if not moved:  # after a merge the memory was cleared (KnownOwners.learn)
        memory.of_sets(sets)[codes] = resolved


def _resolved(
    session: Session,
    keys: Sequence[tuple[Key, ...]],
    customer_ids: Sequence[int | None],
    claim_at: Callable[[int], Claim],
    actor: str,
    now: datetime,
    memory: KnownOwners,
) -> tuple[list[int], dict[int, int]]:
    """Each record's owner (before merges of this resolution) and where merged-away customers went."""
    lock_resolution(session)
    existing = memory.of(session, {key for row in keys for key in row})
    known = _single_owners(keys, customer_ids, existing)
    rest = [index for index, owner in enumerate(known) if owner is None]
    found, survivors, added = _resolve_linked(session, [claim_at(i) for i in rest], existing, actor, now)
    memory.learn(added, merged=any(old != new for old, new in survivors.items()))
    for index, owner in zip(rest, found, strict=True):
        known[index] = owner
    return [owner for owner in known if owner is not None], survivors


def _single_owners(
    keys: Sequence[tuple[Key, ...]], customer_ids: Sequence[int | None], existing: dict[Key, int]
) -> list[int | None]:
    """Each record's owner when all its keys are known and owned by one customer (the common case), else None."""
    get = existing.get
    known: list[int | None] = []
    for row, customer_id in zip(keys, customer_ids, strict=True):
        owner = get(row[0]) if row and customer_id is None else None
        if owner is not None and len(row) > 1 and any(get(key) != owner for key in row):
            owner = None
        known.append(owner)
    return known


def _resolve_linked(
    session: Session, claims: Sequence[Claim], existing: dict[Key, int], actor: str, now: datetime
) -> tuple[list[int], dict[int, int], dict[Key, int]]:
    """Owners of claims that bring new keys, explicit ids or links; where merged-away customers went; new keys."""
    components, roots = _group(session, claims, existing)
    batch_keys = {key for claim in claims for key in claim.keys if key in existing}
    members = _members(components, roots)
    survivor_of: dict[object, int] = {}
    survivors: dict[int, int] = {}
    new_roots: list[object] = []
    first_traits: dict[object, dict[str, Any]] = {}
    for root, claim in zip(roots, claims, strict=True):
        first_traits.setdefault(root, claim.traits)
    for root, ids in members.items():
        keys = [k for k in batch_keys if components.find(k) == root] if len(set(ids)) > 1 else []
        if ids:
            survivor_of[root] = _merge_group(session, ids, keys, actor, now) if len(set(ids)) > 1 else ids[0]
            survivors.update(dict.fromkeys(ids, survivor_of[root]))
        else:
            new_roots.append(root)
    created = _new_customers(session, [first_traits[root] for root in new_roots], now)
    survivor_of.update(zip(new_roots, created, strict=True))
    added = _add_identities(session, claims, roots, survivor_of, existing, now)
    return [survivor_of[root] for root in roots], survivors, added


def _add_identities(
    session: Session,
    claims: Sequence[Claim],
    roots: list[object],
    survivor_of: dict[object, int],
    existing: dict[Key, int],
    now: datetime,
) -> dict[Key, int]:
    fresh: dict[Key, int] = {}
    for root, claim in zip(roots, claims, strict=True):
        for key in claim.keys:
            if key not in existing:
                fresh.setdefault(key, survivor_of[root])
    columns: dict[str, Column] = {
        "kind": [kind for kind, _ in fresh],
        "value": [value for _, value in fresh],
        "customer_id": list(fresh.values()),
        "created_at": [now] * len(fresh),
    }
    insert_columns(session, table_of(Identity), columns)
    return fresh
