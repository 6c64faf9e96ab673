"""Per-installation values kept in the database, such as the secret that signs survey links."""

from __future__ import annotations

import secrets

from sqlalchemy import String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from cxm.core.db import Base


class InstanceSetting(Base):
    """One named value of this installation."""

    __tablename__ = "instance_settings"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(String(500))


def instance_secret(session: Session, name: str) -> str:
    """A random secret made on first use and kept, so links signed with it stay valid across restarts."""
    stored = select(InstanceSetting.value).where(InstanceSetting.name == name)
    value = session.scalar(stored)
    if value is None:
        try:
            with session.begin_nested():
                session.add(InstanceSetting(name=name, value=secrets.token_urlsafe(48)))
        except IntegrityError:
            pass  # another process made it at the same moment: theirs is the one
        value = session.scalar(stored)
    assert value is not None
    return value
