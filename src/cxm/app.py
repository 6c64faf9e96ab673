"""The FastAPI application: API routers, pages and error handlers."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

from fastapi import APIRouter, Depends, FastAPI
from sqlalchemy import Engine

import cxm.tables  # noqa: F401  (every table is known before the first request)
from cxm import __version__
from cxm.access import service as access_service
from cxm.analytics import service as analytics_service
from cxm.analytics.routes import router as analytics_router
from cxm.config import Settings
from cxm.core.api import document_bodies, install_error_handlers, known_parameters_only
from cxm.core.db import make_engine, make_sessionmaker, read_only
from cxm.core.traffic import CountRequests, Traffic
from cxm.customers.routes import router as customers_router
from cxm.feedback.distribution_routes import router as distribution_router
from cxm.feedback.pages import install_pages
from cxm.feedback.routes import router as feedback_router
from cxm.feedback.widget import router as widget_router
from cxm.interactions.routes import router as interactions_router
from cxm.text.routes import router as text_router
from cxm.web.i18n import compile_templates
from cxm.web.prepare import prepare_default_views
from cxm.web.routes import install_dashboard
from cxm.worker import BackgroundWorker


def api_router() -> APIRouter:
    """Every /api/v1 route."""
    router = APIRouter(prefix="/api/v1", dependencies=[Depends(known_parameters_only)])
    router.include_router(customers_router)
    router.include_router(interactions_router)
    router.include_router(feedback_router)
    router.include_router(analytics_router)
    router.include_router(distribution_router)
    router.include_router(text_router)
    return router


def create_app(settings: Settings | None = None, *, engine: Engine | None = None) -> FastAPI:
    """Build the app for a database (from settings, or an engine the caller owns)."""
    settings = settings or Settings()
    own_engine = engine is None
    bound = engine or make_engine(settings.database_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Everything loaded so far lives as long as the server: keep the collector from rescanning it
        # on every large batch (a tenth of a 10,000-event batch went to full collections). A 10,000-event
        # batch holds ~100,000 objects while it is stored: collect young objects in larger steps
        # (measured: collector time per batch down from ~60 to ~20 ms).
        analytics_service.warm_up(settings, bound)
        compile_templates()
        gc.freeze()
        gc.set_threshold(50_000, 20, 10)
        prepare = partial(prepare_default_views, _app)
        worker = None
        if settings.serve_worker:
            worker = BackgroundWorker(bound, settings, after_sync=prepare, traffic=_app.state.traffic)
        _app.state.worker = worker
        if worker is not None:
            worker.start()
        yield
        if worker is not None:
            worker.stop()
        if own_engine:
            bound.dispose()

    app = FastAPI(
        title="cxm",
        version=__version__,
        lifespan=lifespan,
        description="Customer hub API: every interaction from every channel on one profile.",
    )
    app.state.settings = settings
    app.state.engine = bound
    app.state.sessionmaker = make_sessionmaker(bound)
    app.state.reader = make_sessionmaker(read_only(bound))
    app.state.authenticate = access_service.authenticate
    app.state.authenticate_session = access_service.authenticate_session
    install_error_handlers(app)
    app.include_router(api_router())
    app.include_router(widget_router)  # before the survey pages: /s/widget.js and /s/{survey}/widget* are not pages
    install_dashboard(app)
    document_bodies(app)
    install_pages(app)
    app.state.traffic = Traffic()
    app.add_middleware(CountRequests, traffic=app.state.traffic)
    return app
