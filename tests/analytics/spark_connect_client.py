"""Run in a process of its own (PySpark allows no Spark Connect session beside a local one): the shared questions
asked of `spark://sc://...?lake=...`, printed as JSON, one table per question."""

from __future__ import annotations

import json
import sys

from cxm.analytics import service
from cxm.analytics.dimensions import Query
from cxm.analytics.engines import open_engine

QUESTIONS = {
    "nps by channel and month": ("nps", Query(by=["channel"], period="month")),
    "csat by segment": ("csat", Query(by=["segment"])),
    "ces by stage and quarter, filtered": ("ces", Query(by=["journey_stage"], period="quarter",
                                                        where={"language": ["cs", "en"]})),
    "response rate by survey": ("response_rate", Query(by=["survey"])),
    "first response time by channel": ("first_response_time", Query(by=["channel"])),
    "nps by customer attribute": ("nps", Query(by=["attr.tier"])),
}  # fmt: skip


def answers(url: str) -> dict[str, str]:
    """Each question's table as JSON (dates as ISO text)."""
    engine = open_engine(url)
    return {
        name: service.metric(engine, metric, query).to_json(orient="records", date_format="iso")
        for name, (metric, query) in QUESTIONS.items()
    }


if __name__ == "__main__":
    print(json.dumps(answers(sys.argv[1])))
