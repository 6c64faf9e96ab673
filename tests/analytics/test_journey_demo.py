"""The demo company has a funnel worth reading and customers on most rungs of the loyalty ladder."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine as SqlEngine
from sqlalchemy import text

from cxm import demo
from cxm.analytics import service
from cxm.analytics.engines import open_engine
from cxm.analytics.sync import sync
from cxm.core.db import make_sessionmaker


def test_demo_journeys_and_ladder(db: SqlEngine, tmp_path: Path) -> None:
    with make_sessionmaker(db)() as session, session.begin():
        demo.generate(session, customers=300, interactions=6000)
        referrals = session.execute(text("SELECT count(*) FROM interactions WHERE type = 'referral'")).scalar()
    if db.dialect.name == "sqlite":
        sync(db, str(tmp_path / "store.duckdb"))
        engine = open_engine(f"duckdb:///{tmp_path / 'store.duckdb'}")
    else:
        engine = open_engine(db.url.render_as_string(hide_password=False).replace("+psycopg", ""))
    funnel = service.funnel(engine, service.JourneyQuery())
    customers = funnel["customers"].tolist()
    assert referrals and customers[0] > customers[1] > customers[2] > 0
    assert all(30 < share < 100 for share in funnel["conversion_pct"].dropna())
    ladder = service.loyalty_ladder(engine, service.LoyaltyQuery(months=3))
    newest = ladder[ladder["month"] == ladder["month"].max()].set_index("rung")
    assert (newest["customers"] > 0).sum() >= 5 and newest.loc["advocate", "customers"] > 0
    assert newest["value_pct"].sum() > 99.9
    assert service.paths(engine, service.JourneyQuery(top=1))["path"].iloc[0].startswith("awareness > purchase")
