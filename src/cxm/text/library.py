"""Text analytics from Python: `hub.text.analyze([...])` returns a DataFrame."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from cxm.text import service

if TYPE_CHECKING:
    import pandas as pd

COLUMNS = ["text", "language", "sentiment", "label", "keyphrases"]


class TextLibrary:
    """Analyse texts and train on rated comments against one hub's database."""

    def __init__(
        self,
        session: Callable[[], AbstractContextManager[Session]],
        languages: Sequence[str],
        *,
        kind: str = "offline",
        model_dir: str | None = None,
        keyphrases: str = "yake",
    ) -> None:
        self._session = session
        self.languages = list(languages)
        self.kind, self.model_dir, self.keyphrases = kind, model_dir, keyphrases

    def analyze(self, texts: Sequence[str], *, language: str | None = None) -> pd.DataFrame:
        """One row per text: language, sentiment score in [-1, 1], label, keyphrases."""
        import pandas as pd

        analyses = self.engine().analyze(list(texts), language=language)
        return pd.DataFrame(list(_rows(texts, analyses)), columns=COLUMNS)

    def engine(self) -> service.OfflineEngine:
        """The engine in use (cold start, plus the company's adopted model once trained)."""
        with self._session() as session:
            return service.engine_for(
                session, languages=self.languages, kind=self.kind, model_dir=self.model_dir, keyphrases=self.keyphrases
            )

    def backfill(
        self, progress: Callable[[int, int], None] | None = None, *, sources: Sequence[str] = service.SOURCES
    ) -> int:
        """Analyse every stored comment and/or interaction text (current ones are skipped); texts analysed."""
        with self._session() as session:
            batches = service.backfill_batches(session, sources=sources)
        total, done, analysed = sum(len(ids) for _, ids in batches), 0, 0
        for source, ids in batches:
            with self._session() as session:  # one transaction per batch: an interrupted backfill keeps its work
                analysed += service.analyze_stored(
                    session, source, ids, languages=self.languages, kind=self.kind, model_dir=self.model_dir
                )
            done += len(ids)
            if progress is not None:
                progress(done, total)
        return analysed

    def themes(self) -> pd.DataFrame:
        """The themes in use: id, name, top terms, texts about each and their mean sentiment."""
        import pandas as pd

        with self._session() as session:
            rows = [vars(s) for s in service.list_themes(session)]
        return pd.DataFrame(rows, columns=THEME_COLUMNS)

    def fit_themes(self, themes: int = 8) -> pd.DataFrame:
        """Fit the company's themes over its stored texts and assign them to every text; the new themes."""
        with self._session() as session:
            service.fit_themes(
                session, languages=self.languages, themes=themes, kind=self.kind, model_dir=self.model_dir
            )
        return self.themes()

    def rename_theme(self, theme_id: int, name: str) -> None:
        """Rename a theme."""
        with self._session() as session:
            service.rename_theme(session, theme_id, name)

    def merge_themes(self, theme_ids: Sequence[int], *, name: str | None = None) -> int:
        """Merge themes into the first; its id."""
        with self._session() as session:
            return service.merge_themes(session, theme_ids, languages=self.languages, name=name).id

    def split_theme(self, theme_id: int) -> list[int]:
        """Split a theme in two; the new themes' ids."""
        with self._session() as session:
            return [t.id for t in service.split_theme(session, theme_id, languages=self.languages)]

    def correct(self, source: str, source_id: int, label: str, *, question_id: int | None = None) -> None:
        """Correct the sentiment of one stored text (used by the next training)."""
        with self._session() as session:
            service.correct_sentiment(
                session, source=source, source_id=source_id, question_id=question_id, label=label, actor="library"
            )

    def train(self) -> service.TextModel:
        """Train on the rated comments; adopted only when better on the newest comments."""
        with self._session() as session:
            model = service.train(session, languages=self.languages, kind=self.kind, model_dir=self.model_dir)
            session.expunge(model)
            return model

    def models(self) -> pd.DataFrame:
        """Every training run with its figures, newest first."""
        import pandas as pd

        with self._session() as session:
            rows = [{c: getattr(m, c) for c in MODEL_COLUMNS} for m in service.list_models(session)]
        return pd.DataFrame(rows, columns=MODEL_COLUMNS)


THEME_COLUMNS = ["id", "name", "terms", "texts", "sentiment"]
MODEL_COLUMNS = [
    "id",
    "active",
    "created_at",
    "train_size",
    "test_size",
    "accuracy",
    "macro_f1",
    "baseline_accuracy",
    "baseline_macro_f1",
    "trained_until",
]


def _rows(texts: Sequence[str], analyses: list[service.TextAnalysis]) -> Iterator[tuple[object, ...]]:
    for text, a in zip(texts, analyses, strict=True):
        yield text, a.language, a.sentiment.score, a.sentiment.label, a.keyphrases
