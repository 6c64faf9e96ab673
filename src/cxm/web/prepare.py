"""The dashboard's default views, computed ahead: after the worker's analytics sync, before anyone asks."""

from __future__ import annotations

from fastapi import FastAPI

from cxm.analytics import service as analytics_service
from cxm.core.errors import CxmError
from cxm.web.figures import CARDS, metric_cards
from cxm.web.filters import FilterBar
from cxm.web.pages import breakdowns, feedback, overview

FEEDBACK_CARDS = ("nps", "csat", "ces")


def prepare_default_views(app: FastAPI) -> None:
    """Compute (and so remember) the figures of the unfiltered Overview, Channels, Journey and Feedback pages, the
    latest significant changes, the churn scores and every customer's rung, on one store connection; a page asking
    meanwhile waits for the same figures."""
    engine = analytics_service.engine_for(app.state.settings)
    if engine.data_version() is None:  # a live engine: figures are not remembered, nothing to prepare
        return
    unfiltered = FilterBar(zone=engine.zone)
    with engine.holding():
        metric_cards(engine, CARDS, unfiltered)
        overview.channel_volume(engine)
        for by in ("channel", "journey_stage"):
            breakdowns.metric_table(engine, unfiltered, by)
        breakdowns.store_table(engine, unfiltered)
        breakdowns.journey_funnel(engine, unfiltered)
        metric_cards(engine, FEEDBACK_CARDS, unfiltered)
        feedback.distributions(engine, unfiltered)
        overview.latest_alerts(engine)
        _insights(engine)


def _insights(engine: analytics_service.Engine) -> None:
    """Every customer's rung and churn score: the 360 page's loyalty and risk panel reads them."""
    try:
        analytics_service.prepare_insights(engine)
    except CxmError:  # the panel says what is missing itself
        return
