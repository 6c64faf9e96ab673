"""Analysed comments for the page-test company (`pages_data.store_company`): a sentiment from each score, one theme,
and what detractors would improve, written as text analysis would."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, delete, select

from cxm.core.db import make_sessionmaker
from cxm.feedback.models import Answer, Question, Response
from cxm.text.models import TextSignal, TextTheme, ThemeModel

UNANALYSED = 5  # customers c0..c4 wrote nothing analysed
WRITTEN = datetime(2026, 9, 6, tzinfo=UTC)


def mood_of(score: int) -> str:
    """The sentiment the test company's comment of this score is given."""
    return "positive" if score >= 9 else "negative" if score <= 6 else "neutral"


def stored_answers() -> list[tuple[int, int]]:
    """(customer n, NPS) of every stored response, as `store_company` writes them."""
    return [(n, (n + month) % 11) for n in range(30) for month in (9, 10)]


def analyse(db: Engine) -> int:
    """Sentiment from each score and the theme `delivery` on every third customer's comments, and what detractors
    would improve (price for odd customers, delivery for even ones); the theme's id."""
    with make_sessionmaker(db)() as session, session.begin():
        # A live server's worker may have analysed the comments already: these signals replace its. (Its later jobs
        # fail on this test's empty theme model, so they cannot overwrite them.)
        session.execute(delete(TextSignal).where(TextSignal.source == "response"))
        asked = {q.key: q.id for q in session.scalars(select(Question).where(Question.key.in_(["reason", "improve"])))}
        model = ThemeModel(active=True, texts=0, data=b"")
        session.add(model)
        session.flush()
        theme = TextTheme(model_id=model.id, name="delivery", terms=["delivery"])
        session.add(theme)
        session.flush()
        for response in session.scalars(select(Response)):
            _, person, month = str(response.external_id).split("-")  # r-{n}-{month}
            n, score = int(person), (int(person) + int(month)) % 11
            if score <= 6:
                chosen = ["price"] if n % 2 else ["delivery"]
                session.add(Answer(response_id=response.id, question_id=asked["improve"], choices=chosen))
            if n < UNANALYSED:
                continue
            base = {
                "source": "response",
                "source_id": response.id,
                "question_id": asked["reason"],
                "customer_id": response.customer_id,
                "text_hash": str(response.id),
                "model": "test",
                "written_at": WRITTEN,
            }
            session.add(TextSignal(kind="sentiment", label=mood_of(score), value=0.0, **base))
            if n % 3 == 0:
                session.add(TextSignal(kind="theme", label=str(theme.id), value=0.5, theme_id=theme.id, **base))
        return int(theme.id)
