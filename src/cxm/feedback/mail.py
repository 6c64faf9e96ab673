"""Survey invitation e-mails: texts per language, composed as plain text and HTML, sent over SMTP."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from functools import cache
from importlib.resources import files

import yaml
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from cxm.config import Settings

MAIL_LANGUAGES = ("en", "cs", "pl", "hr", "ro")
FALLBACK = "en"
# Long enough for a slow relay, short enough that a dead one does not hold a worker (and SQLite's write lock).
SMTP_TIMEOUT = 20

_pages = Environment(
    loader=PackageLoader("cxm.feedback", "mail_texts"),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    keep_trailing_newline=True,
)


@dataclass(frozen=True)
class Letter:
    """What one invitation (or reminder) e-mail says, and to whom."""

    to: str
    name: str | None
    language: str
    survey_title: str
    link: str
    reminder: bool = False


@cache
def catalog(language: str) -> dict[str, str]:
    """The e-mail texts of a language (English for a language without its own)."""
    chosen = language if language in MAIL_LANGUAGES else FALLBACK
    text = (files("cxm.feedback") / "mail_texts" / f"{chosen}.yaml").read_text(encoding="utf-8")
    return {str(name): str(value) for name, value in yaml.safe_load(text).items()}


def one_line(value: str) -> str:
    """A header-safe version of untrusted text: no line breaks, no runs of spaces."""
    return " ".join(value.split())


def _texts(letter: Letter) -> dict[str, str]:
    texts = catalog(letter.language)
    return {
        "greeting": texts["greeting"] if letter.name else texts["greeting_anonymous"],
        "message": texts["reminder"] if letter.reminder else texts["invite"],
        "subject": texts["reminder_subject"] if letter.reminder else texts["subject"],
        **{name: texts[name] for name in ("button", "personal", "footer")},
    }


def _values(letter: Letter) -> dict[str, str]:
    return {"name": one_line(letter.name or ""), "survey": one_line(letter.survey_title)}


def bodies(letter: Letter) -> tuple[str, str, str]:
    """The subject, the plain-text body and the HTML body (names and titles escaped there)."""
    texts, values = _texts(letter), _values(letter)
    plain = {name: text.format(**values) for name, text in texts.items()}
    # Markup.format escapes the values it fills in; the catalog texts themselves are ours.
    html: dict[str, Markup] = {name: escape(text).format(**values) for name, text in texts.items()}
    context = {"link": letter.link, "language": catalog_language(letter.language)}
    text_body = _pages.get_template("invitation.txt").render(**plain, **context)
    html_body = _pages.get_template("invitation.html").render(**html, **context)
    return plain["subject"], text_body, html_body


def catalog_language(language: str) -> str:
    """The language the e-mail texts are actually written in."""
    return language if language in MAIL_LANGUAGES else FALLBACK


def compose(letter: Letter, *, sender: str) -> EmailMessage:
    """The e-mail of a letter: subject, plain text with an HTML alternative."""
    subject, text_body, html_body = bodies(letter)
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = Address(display_name=one_line(letter.name or ""), addr_spec=letter.to)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=parseaddr(sender)[1].rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text_body)
    message.add_alternative(html_body, subtype="html")
    message["Content-Language"] = catalog_language(letter.language)  # after the bodies: they reset Content-*
    return message


def send(settings: Settings, message: EmailMessage) -> None:
    """Hand a message to the configured SMTP server; raises when it cannot be delivered there."""
    context = ssl.create_default_context()
    if settings.smtp_ssl:
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(
            settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT, context=context
        )
    else:
        smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT)
    with smtp:
        if settings.smtp_starttls and not settings.smtp_ssl:
            smtp.starttls(context=context)
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password or "")
        smtp.send_message(message)


def check_smtp(settings: Settings) -> str:
    """Connect to the configured SMTP server (TLS and login as configured) without sending; its greeting."""
    context = ssl.create_default_context()
    if settings.smtp_ssl:
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(
            settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT, context=context
        )
    else:
        smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT)
    with smtp:
        code, greeting = smtp.ehlo()
        if settings.smtp_starttls and not settings.smtp_ssl:
            smtp.starttls(context=context)
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password or "")
        smtp.noop()
    return f"{code} {greeting.decode(errors='replace').splitlines()[0] if greeting else ''}".strip()
