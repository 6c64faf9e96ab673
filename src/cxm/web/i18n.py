"""The dashboard's own words in each language (gettext catalogs), and numbers and dates in the reader's locale."""

from __future__ import annotations

import math
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal, format_percent
from babel.support import NullTranslations
from jinja2 import Environment, FileSystemLoader

from cxm.core.catalogs import po_catalog

HERE = Path(__file__).parent
LOCALES = HERE / "locales"
TEMPLATES = HERE / "templates"
DOMAIN = "web"
MISSING = "\u2013"  # an en dash where a figure is missing
LANGUAGES = ("en", "cs", "pl", "hr", "ro")


def N_(message: str) -> str:
    """Mark a message id for the catalogs where it is defined; it is translated where it is shown."""
    return message


# Words that reach templates as values (`_(user.role.value)`, `_(survey.status)`, `_(entry.kind)`).
SHOWN_VALUES = (
    *(N_("admin"), N_("analyst"), N_("agent"), N_("viewer")),
    *(N_("draft"), N_("active"), N_("closed")),
    *(N_("single_choice"), N_("multi_choice")),
    *(N_("interaction"), N_("order"), N_("response"), N_("merge")),
    *(N_("lost"), N_("at risk"), N_("unknown"), N_("satisfied"), N_("loyal"), N_("advocate")),
)


@lru_cache(maxsize=8)
def catalog(language: str) -> NullTranslations:
    """The dashboard texts of a language (English, the message ids themselves, when there is no catalog)."""
    return po_catalog(LOCALES, language, DOMAIN)


def gettext(language: str, message: str) -> str:
    """One built-in text in a language."""
    return catalog(language).gettext(message)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def number_filter(language: str) -> Any:
    """A Jinja filter: a number in the locale, with `digits` decimals (a dash when missing); `signed` writes a plus
    before a positive one (a change)."""

    def number(value: Any, digits: int = 0, signed: bool = False) -> str:
        if _missing(value):
            return MISSING
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        if signed:
            pattern = f"+{pattern};-{pattern}"
        return str(format_decimal(value, format=pattern, locale=language))

    return number


def percent_filter(language: str) -> Any:
    """A Jinja filter: a 0-100 figure as a percentage in the locale (its own spacing), with `digits` decimals."""
    pattern = str(Locale.parse(language).percent_formats[None].pattern).split(";")[0]
    last = pattern.rfind("0")

    def percent(value: Any, digits: int = 1) -> str:
        if _missing(value):
            return MISSING
        decimals = "." + "0" * digits if digits else ""
        wanted = pattern[: last + 1] + decimals + pattern[last + 1 :]
        return str(format_percent(float(value) / 100, format=wanted, locale=language))

    return percent


def date_filter(language: str) -> Any:
    """A Jinja filter: a date or time in the locale (medium length)."""

    def when(value: Any, style: str = "date") -> str:
        if _missing(value):
            return MISSING
        if style == "datetime" and isinstance(value, datetime):
            return str(format_datetime(value, format="medium", locale=language))
        day = value.date() if isinstance(value, datetime) else value
        return str(format_date(day, format="medium", locale=language)) if isinstance(day, date) else str(value)

    return when


@lru_cache(maxsize=8)
def environment(language: str) -> Environment:
    """A Jinja2 environment for the dashboard speaking one language; everything is autoescaped."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(catalog(language), newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(number=number_filter(language), percent=percent_filter(language), when=date_filter(language))
    return env


def compile_templates() -> None:
    """Compile every dashboard template in every language (~0.1 s a language, once per process: at start-up
    instead of in the first page each reader opens)."""
    for language in LANGUAGES:
        templates = environment(language)
        for name in templates.list_templates(extensions=["html"]):
            templates.get_template(name)
