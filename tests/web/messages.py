"""The dashboard's message ids: `_()` in the templates and `N_()` in the Python code of cxm.web."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir

WEB = Path(__file__).resolve().parents[2] / "src" / "cxm" / "web"


def message_ids() -> set[str]:
    """Every message id the dashboard shows."""
    found: set[str] = set()
    templates = extract_from_dir(
        WEB / "templates",
        method_map=[("**.html", "jinja2")],
        options_map={"**.html": {"extensions": "jinja2.ext.i18n"}},
    )
    code = extract_from_dir(WEB, method_map=[("**.py", "python")], keywords={"N_": None})
    for _, _, message, _, _ in [*templates, *code]:
        found.add(message if isinstance(message, str) else message[0])
    return found
