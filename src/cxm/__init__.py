"""cxm: a self-hosted Customer Experience Management platform.

import cxm
hub = cxm.connect("sqlite:///cxm.db")
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Hub", "__version__", "connect"]

if TYPE_CHECKING:
    from cxm.hub import Hub, connect


def __getattr__(name: str) -> Any:
    """Load the library on first use, so `cxm --help` and the server start fast."""
    if name in {"Hub", "connect"}:
        from cxm import hub

        return getattr(hub, name)
    raise AttributeError(f"module 'cxm' has no attribute {name!r}")
