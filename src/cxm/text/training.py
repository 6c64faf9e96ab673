"""Learning from the company's own ratings: train, compare on a time-ordered hold-out, adopt only if better."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from cxm.core.errors import InvalidInput
from cxm.feedback import service as feedback_service
from cxm.text.corrections import corrected_examples
from cxm.text.engine import OfflineEngine
from cxm.text.evaluation import Figures, figures
from cxm.text.models import TextModel
from cxm.text.sentiment import CharModel, Scorer

MIN_COMMENTS = 40
POLAR = ("negative", "positive")
HOLDOUT = 0.2
# New rated comments since the last run that start another one (`text.train` jobs, queued by analysis).
RETRAIN_EVERY = 200


def training_due(session: Session, analysed_comments: int) -> str | None:
    """The key of a training run due now (None when not): at MIN_COMMENTS comments, then every RETRAIN_EVERY more.

    Before any run, every further MIN_COMMENTS comments try again (a first try may find only one kind of score).
    """
    last = session.scalar(select(func.max(TextModel.train_size + TextModel.test_size)).where(TextModel.kind == "char"))
    if last is None:
        return f"first:{analysed_comments // MIN_COMMENTS}" if analysed_comments >= MIN_COMMENTS else None
    return f"after:{last}" if analysed_comments >= last + RETRAIN_EVERY else None


def active_model(session: Session) -> TextModel | None:
    """The adopted model in use, if any."""
    return session.scalars(select(TextModel).where(TextModel.active.is_(True))).first()


def train_char_model(
    session: Session, *, languages: Sequence[str], min_comments: int = MIN_COMMENTS, head: Scorer | None = None
) -> TextModel:
    """Train on the older rated comments, test on the newest; the candidate replaces the engine only if better."""
    return keep_training(session, fit_on_ratings(session, languages=languages, min_comments=min_comments, head=head))


def fit_on_ratings(
    session: Session, *, languages: Sequence[str], min_comments: int = MIN_COMMENTS, head: Scorer | None = None
) -> TextModel:
    """A training run, not yet stored: fitted and compared with the engine in use (reads only; the slow part).

    `head` is the configured engine's sentiment model (the onnx model; None: the shipped E5 head). The baseline is
    that head with the adopted character model; the candidate is that head with the new one, as it would be used.
    """
    comments, extra = with_corrections(feedback_service.rated_comments(session), corrected_examples(session))
    train, test = _time_split(comments, min_comments)
    examples = [(c.text, c.label) for c in train] + extra
    candidate = CharModel().fit([t for t, _ in examples], [label for _, label in examples])
    texts, labels = [c.text for c in test], [c.label for c in test]
    baseline = _figures(_engine(languages, active_model(session), head), texts, labels)
    result = _figures(OfflineEngine(languages=languages, char_model=candidate, head=head), texts, labels)
    record = _record(train, test, result, baseline)
    record.train_size += len(extra)
    if result.macro_f1 > baseline.macro_f1:
        record.active, record.data = True, candidate.to_bytes()
    return record


def keep_training(session: Session, record: TextModel) -> TextModel:
    """Store a training run; an adopted model becomes the only active one."""
    if record.active:
        session.execute(update(TextModel).where(TextModel.active.is_(True)).values(active=False))
    session.add(record)
    session.flush()
    return record


def with_corrections(
    comments: list[feedback_service.RatedComment], examples: list[tuple[str, int, str, str]]
) -> tuple[list[feedback_service.RatedComment], list[tuple[str, str]]]:
    """Analysts' labels replace those read from scores; other corrected texts become extra training examples."""
    by_response = {i: label for source, i, _, label in examples if source == "response"}
    relabelled = [replace(c, label=by_response.get(c.response_id, c.label)) for c in comments]
    rated = {c.response_id for c in comments}
    extra = [
        (text, label)
        for source, i, text, label in examples
        if label in POLAR and not (source == "response" and i in rated)
    ]
    return [c for c in relabelled if c.label in POLAR], extra


def _time_split(
    comments: list[feedback_service.RatedComment], min_comments: int
) -> tuple[list[feedback_service.RatedComment], list[feedback_service.RatedComment]]:
    """Oldest 80% to learn from, newest 20% to test on; both labels needed in each."""
    cut = int(len(comments) * (1 - HOLDOUT))
    train, test = comments[:cut], comments[cut:]
    if len(comments) < min_comments or any(
        {c.label for c in part} != {"negative", "positive"} for part in (train, test)
    ):
        raise InvalidInput(
            f"training needs at least {min_comments} rated comments with both clearly negative and clearly positive "
            f"scores among the older and the newest; there are {len(comments)}"
        )
    return train, test


def _engine(languages: Sequence[str], model: TextModel | None, head: Scorer | None) -> OfflineEngine:
    char_model = CharModel.from_bytes(model.data) if model is not None and model.data else None
    return OfflineEngine(languages=languages, char_model=char_model, head=head)


def _figures(engine: OfflineEngine, texts: list[str], labels: list[str]) -> Figures:
    return figures(labels, engine.scores(texts))


def _record(
    train: list[feedback_service.RatedComment],
    test: list[feedback_service.RatedComment],
    result: Figures,
    baseline: Figures,
) -> TextModel:
    return TextModel(
        kind="char",
        active=False,
        train_size=len(train),
        test_size=len(test),
        accuracy=result.accuracy,
        macro_f1=result.macro_f1,
        baseline_accuracy=baseline.accuracy,
        baseline_macro_f1=baseline.macro_f1,
        trained_until=train[-1].completed_at,
    )
