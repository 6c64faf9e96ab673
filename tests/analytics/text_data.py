"""Scored responses with analysed comments: a planted theme (`delivery`) pulls the NPS down most."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from cxm.customers.models import Customer
from cxm.text.models import TextSignal, TextTheme, ThemeModel
from tests.analytics.driver_data import _answer, _response, _survey

THEMES = ("delivery", "staff", "price")
TEXTS = ("note", "extra")


@dataclass
class TextData:
    """What was written, one record per complete response: nps, waiting, sentiment label and score, themes."""

    rows: list[dict[str, object]] = field(default_factory=list)
    theme_ids: dict[str, int] = field(default_factory=dict)


def _label(score: float) -> str:
    return "positive" if score > 0.2 else "negative" if score < -0.2 else "neutral"


def _comments(rng: random.Random) -> list[tuple[float, str, list[str]]]:
    """0-2 comments: (sentiment score, label, themes)."""
    found = []
    for _ in range(rng.choice([0, 1, 1, 1, 2])):
        score = round(rng.uniform(-1, 1), 3)
        label = "mixed" if rng.random() < 0.1 else _label(score)
        found.append((score, label, [t for t in THEMES if rng.random() < 0.35]))
    return found


def _response_sentiment(comments: list[tuple[float, str, list[str]]]) -> tuple[str | None, float | None]:
    """The documented definition: one comment -> its label; several -> the label of the mean score."""
    if not comments:
        return None, None
    mean = sum(c[0] for c in comments) / len(comments)
    return (comments[0][1] if len(comments) == 1 else _label(mean)), mean


def _signals(session: Session, response: int, person: int, at: datetime, comments: list[tuple[float, str, list[str]]],
             themes: dict[str, int], questions: dict[str, int]) -> None:  # fmt: skip
    for (score, label, about), key in zip(comments, TEXTS, strict=False):
        base = {"source": "response", "source_id": response, "question_id": questions[key], "customer_id": person,
                "text_hash": f"{response}-{key}", "model": "test", "written_at": at}  # fmt: skip
        session.add(TextSignal(kind="language", label="en", value=None, **base))
        session.add(TextSignal(kind="sentiment", label=label, value=score, **base))
        for name in about:
            session.add(TextSignal(kind="theme", label=str(themes[name]), value=0.5, theme_id=themes[name], **base))


def _themes(session: Session) -> dict[str, int]:
    model = ThemeModel(active=True, texts=0, data=b"")
    session.add(model)
    session.flush()
    rows = [TextTheme(model_id=model.id, name=name, terms=[name]) for name in THEMES]
    session.add_all(rows)
    session.flush()
    return {row.name: row.id for row in rows}


def _nps(rng: random.Random, waiting: int, about: set[str]) -> int:
    score = 8.0 + 0.4 * (waiting - 3) - 4.5 * ("delivery" in about) + 0.5 * ("staff" in about) + rng.gauss(0, 1.0)
    return min(10, max(0, round(score)))


def load(session: Session, seed: int = 5) -> TextData:
    """Write 40 customers, 420 responses (every 10th partial): NPS, a waiting rating and 0-2 analysed comments."""
    rng, data = random.Random(seed), TextData()
    people = [Customer(name=f"T{i}", segment="retail", attributes={}) for i in range(40)]
    session.add_all(people)
    session.flush()
    questions = [{"key": "nps", "kind": "nps"}, {"key": "waiting", "kind": "rating"}]
    survey, ids = _survey(session, "visit", [*questions, *({"key": k, "kind": "text"} for k in TEXTS)])
    themes, start = _themes(session), datetime(2026, 3, 1, tzinfo=UTC)
    data.theme_ids = themes
    for index in range(420):
        person, at, comments = rng.choice(people), start + timedelta(hours=index), _comments(rng)
        about = {t for c in comments for t in c[2]}
        scores: dict[str, int | None] = {"waiting": rng.randint(1, 5)}
        scores["nps"] = _nps(rng, int(scores["waiting"] or 0), about)
        response = _response(session, survey, person, at, complete=index % 10 != 0)
        _answer(session, response, ids, scores)
        _signals(session, response.id, person.id, at, comments, themes, ids)
        if response.status == "complete":
            label, mood = _response_sentiment(comments)
            data.rows.append(scores | {"customer_id": person.id, "sentiment": label, "mood": mood, "themes": about})
    return data
