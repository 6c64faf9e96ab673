"""cxm: a self-hosted Customer Experience Management platform.

import cxm
hub = cxm.connect("sqlite:///cxm.db")
"""

from __future__ import annotations

__version__ = "0.1.0"

from cxm.hub import Hub, connect

__all__ = ["Hub", "__version__", "connect"]
