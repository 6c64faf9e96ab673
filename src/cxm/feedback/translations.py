"""The survey pages' own words in each language: gettext catalogs, page language choice, Jinja2 environments."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from babel.core import negotiate_locale
from babel.support import NullTranslations
from jinja2 import Environment, FileSystemLoader

from cxm.core.catalogs import po_catalog
from cxm.feedback.answers import AnswerProblem

HERE = Path(__file__).parent
LOCALES = HERE / "locales"
PAGES = HERE / "pages"
DOMAIN = "cxm"
REQUIRED = "an answer is required"
MAX_ACCEPTED = 20


def ui_languages() -> list[str]:
    """Languages the built-in page texts are translated into."""
    return sorted(path.name for path in LOCALES.iterdir() if (path / "LC_MESSAGES" / f"{DOMAIN}.po").is_file())


@lru_cache(maxsize=32)
def catalog(language: str) -> NullTranslations:
    """The page texts of a language (English, the message ids themselves, when there is no catalog)."""
    return po_catalog(LOCALES, language, DOMAIN)


@lru_cache(maxsize=32)
def environment(language: str) -> Environment:
    """A Jinja2 environment for the page templates speaking one language; everything is autoescaped."""
    env = Environment(
        loader=FileSystemLoader(PAGES),
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(catalog(language), newstyle=True)  # type: ignore[attr-defined]
    return env


def problem_text(problem: AnswerProblem, language: str) -> str:
    """Why an answer was refused, in the page's language."""
    return catalog(language).gettext(problem.template).format(**problem.values)


def required_text(language: str) -> str:
    """'An answer is required', in the page's language."""
    return catalog(language).gettext(REQUIRED)


def accepted_languages(header: str | None) -> list[str]:
    """The languages of an Accept-Language header, most wanted first."""
    ranked = []
    for position, part in enumerate((header or "").split(",")[:MAX_ACCEPTED]):
        tag, _, parameters = part.strip().partition(";")
        weight = _weight(parameters)
        if tag.strip() and tag.strip() != "*" and weight > 0:
            ranked.append((-weight, position, tag.strip()))
    return [tag for _, _, tag in sorted(ranked)]


def _weight(parameters: str) -> float:
    name, _, value = parameters.strip().partition("=")
    if name.strip() != "q":
        return 1.0
    try:
        return float(value)
    except ValueError:
        return 0.0


def best_language(wanted: Sequence[str], available: Sequence[str]) -> str | None:
    """The first of `wanted` (a region falls back to its language) among `available`, spelled as there."""
    spelled = {code.lower(): code for code in available}
    match = negotiate_locale([code.replace("_", "-") for code in wanted], list(spelled), sep="-", aliases={})
    return spelled.get(match.lower()) if match else None


def page_language(
    available: Sequence[str], default: str, *, chosen: str | None, customer: str | None, accept: str | None
) -> str:
    """A link's ?lang=, else the customer's language, else the browser's, else the survey default."""
    for wanted in (chosen, customer):
        match = best_language([wanted], available) if wanted else None
        if match:
            return match
    return best_language(accepted_languages(accept), available) or default
