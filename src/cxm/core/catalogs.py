"""Gettext catalogs read straight from their .po files (no compiled .mo files to keep in step)."""

from __future__ import annotations

import io
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations


def po_catalog(locales: Path, language: str, domain: str) -> NullTranslations:
    """The texts of `domain` in a language (the message ids themselves, i.e. English, when there is no catalog)."""
    path = locales / language / "LC_MESSAGES" / f"{domain}.po"
    if not path.is_file():
        return NullTranslations()
    with path.open("rb") as source:
        messages = read_po(source, locale=language, domain=domain)
    compiled = io.BytesIO()
    write_mo(compiled, messages)
    compiled.seek(0)
    return Translations(compiled, domain=domain)
