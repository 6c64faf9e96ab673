"""/api/v1/text: analyse texts, train on rated comments, list model versions."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session, sessionmaker

from cxm.core.auth import Designer, Reader, SessionDep
from cxm.text import service
from cxm.text.schemas import AnalyzeRequest, TextAnalysisRead, TextModelRead

router = APIRouter(prefix="/text", tags=["text"])


def _engine(request: Request) -> service.OfflineEngine:
    """The engine in use, looked up in a read-only session so analysing never holds the write lock."""
    factory: sessionmaker[Session] = request.app.state.reader
    with factory() as session, session.begin():
        return service.engine_for(session, languages=request.app.state.settings.text_languages)


@router.post("/analyze", response_model=list[TextAnalysisRead])
def analyze(body: AnalyzeRequest, request: Request, _: Reader) -> list[service.TextAnalysis]:
    """Language, sentiment (score and label) and keyphrases of each text, in order."""
    return _engine(request).analyze(body.texts, language=body.language)


@router.post("/models", response_model=TextModelRead, status_code=201)
def train_model(request: Request, session: SessionDep, _: Designer) -> service.TextModel:
    """Train on the company's rated comments; the new model is adopted only if it beats the one in use."""
    return service.train(session, languages=request.app.state.settings.text_languages)


@router.get("/models", response_model=list[TextModelRead])
def list_models(session: SessionDep, _: Reader) -> list[service.TextModel]:
    """Every training run, newest first; `active` marks the model in use."""
    return service.list_models(session)
