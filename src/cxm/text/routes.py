"""/api/v1/text: analyse texts, train on rated comments, model versions, themes, sentiment corrections."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session, sessionmaker

from cxm.core.auth import Designer, Reader, SessionDep, Writer
from cxm.text import service
from cxm.text.schemas import (
    AnalyzeRequest,
    CorrectionCreate,
    CorrectionRead,
    TextAnalysisRead,
    TextModelRead,
    ThemeFit,
    ThemeMerge,
    ThemeRead,
    ThemeRename,
)

router = APIRouter(prefix="/text", tags=["text"])


def _engine(request: Request) -> service.OfflineEngine:
    """The engine in use, looked up in a read-only session so analysing never holds the write lock."""
    factory: sessionmaker[Session] = request.app.state.reader
    settings = request.app.state.settings
    with factory() as session, session.begin():
        return service.engine_for(
            session,
            languages=settings.text_languages,
            kind=settings.text_engine,
            model_dir=settings.text_model_dir,
            keyphrases=settings.text_keyphrases,
        )


@router.post("/analyze", response_model=list[TextAnalysisRead])
def analyze(body: AnalyzeRequest, request: Request, _: Reader) -> list[service.TextAnalysis]:
    """Language, sentiment (score and label) and keyphrases of each text, in order."""
    return _engine(request).analyze(body.texts, language=body.language)


@router.post("/models", response_model=TextModelRead, status_code=201)
def train_model(request: Request, session: SessionDep, _: Designer) -> service.TextModel:
    """Train on the company's rated comments; the new model is adopted only if it beats the one in use."""
    settings = request.app.state.settings
    return service.train(
        session, languages=settings.text_languages, kind=settings.text_engine, model_dir=settings.text_model_dir
    )


@router.get("/models", response_model=list[TextModelRead])
def list_models(session: SessionDep, _: Reader) -> list[service.TextModel]:
    """Every training run, newest first; `active` marks the model in use."""
    return service.list_models(session)


def _languages(request: Request) -> list[str]:
    return list(request.app.state.settings.text_languages)


@router.get("/themes", response_model=list[ThemeRead])
def list_themes(session: SessionDep, _: Reader) -> list[service.ThemeSummary]:
    """The themes in use, most frequent first: name, top terms, texts about each, their mean sentiment."""
    return service.list_themes(session)


@router.post("/themes", response_model=list[ThemeRead], status_code=201)
def fit_themes(body: ThemeFit, request: Request, session: SessionDep, _: Designer) -> list[service.ThemeSummary]:
    """Fit the company's themes over its stored texts (replacing those in use) and assign them to every text."""
    settings = request.app.state.settings
    service.fit_themes(
        session,
        languages=_languages(request),
        themes=body.themes,
        kind=settings.text_engine,
        model_dir=settings.text_model_dir,
    )
    return service.list_themes(session)


@router.patch("/themes/{theme_id}", response_model=ThemeRead)
def rename_theme(theme_id: int, body: ThemeRename, session: SessionDep, _: Designer) -> service.ThemeSummary:
    """Rename a theme."""
    service.rename_theme(session, theme_id, body.name)
    return _summary(session, theme_id)


@router.post("/themes/merge", response_model=ThemeRead)
def merge_themes(body: ThemeMerge, request: Request, session: SessionDep, _: Designer) -> service.ThemeSummary:
    """Merge themes into the first one; every text is re-assigned."""
    kept = service.merge_themes(session, body.theme_ids, languages=_languages(request), name=body.name)
    return _summary(session, kept.id)


@router.post("/themes/{theme_id}/split", response_model=list[ThemeRead], status_code=201)
def split_theme(theme_id: int, request: Request, session: SessionDep, _: Designer) -> list[service.ThemeSummary]:
    """Split a theme in two, refitted to its texts; every text is re-assigned."""
    parts = {t.id for t in service.split_theme(session, theme_id, languages=_languages(request))}
    return [s for s in service.list_themes(session) if s.id in parts]


def _summary(session: SessionDep, theme_id: int) -> service.ThemeSummary:
    return next(s for s in service.list_themes(session) if s.id == theme_id)


@router.post("/corrections", response_model=CorrectionRead, status_code=201)
def correct_sentiment(body: CorrectionCreate, session: SessionDep, who: Writer) -> service.TextCorrection:
    """Correct the sentiment of one stored text; the label replaces the engine's and trains the next model."""
    return service.correct_sentiment(
        session,
        source=body.source,
        source_id=body.source_id,
        question_id=body.question_id,
        label=body.label,
        actor=who.actor,
    )
