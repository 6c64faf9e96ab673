"""Per-installation values kept in the database, such as the secret that signs survey links, and counts of events
that readers check cheaply for a change."""

from __future__ import annotations

import secrets

from sqlalchemy import Engine, Integer, String, cast, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from cxm.core.db import Base

# Signals deleted (a text re-analysed, themes refitted): the analytics worker's change check compares this count, where
# counting every signal grew with them (4-6 ms per 1M signals every round, warm).
SIGNALS_REMOVED = "text_signals.removed"


class InstanceSetting(Base):
    """One named value of this installation."""

    __tablename__ = "instance_settings"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(String(500))


def instance_secret(session: Session, name: str) -> str:
    """A random secret made on first use and kept, so links signed with it stay valid across restarts."""
    value = session.scalar(select(InstanceSetting.value).where(InstanceSetting.name == name))
    if value is not None:
        return value
    bind = session.get_bind()
    if isinstance(bind, Engine) and bind.get_execution_options().get("cxm_read_only", False):
        # A page read (e.g. the first survey page) must not write in its read transaction: on SQLite that fails
        # at once when anyone wrote since it began. The secret is made in a short transaction of its own.
        with Session(bind.execution_options(cxm_read_only=False)) as own, own.begin():
            return _made(own, name)
    return _made(session, name)


def _made(session: Session, name: str) -> str:
    """The secret, made now unless another transaction made it first."""
    stored = select(InstanceSetting.value).where(InstanceSetting.name == name)
    try:
        with session.begin_nested():
            session.add(InstanceSetting(name=name, value=secrets.token_urlsafe(48)))
    except IntegrityError:
        pass  # another process made it at the same moment: theirs is the one
    value = session.scalar(stored)
    assert value is not None
    return value


def tally(session: Session, name: str) -> None:
    """Add one to a named count of this installation (whoever remembers its value can tell that something happened)."""
    counted = update(InstanceSetting).where(InstanceSetting.name == name)
    bumped = counted.values(value=cast(cast(InstanceSetting.value, Integer) + 1, String))
    if getattr(session.execute(bumped), "rowcount", 0):
        return
    try:
        with session.begin_nested():
            session.add(InstanceSetting(name=name, value="1"))
    except IntegrityError:  # another transaction counted the first one at the same moment
        session.execute(bumped)
