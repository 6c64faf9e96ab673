"""The Python library: the hub's operations for notebooks and scripts, returning DataFrames."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import TypeAdapter, ValidationError
from sqlalchemy.orm import Session

import cxm.tables  # noqa: F401  (every table is known)
from cxm.analytics import service as analytics_service
from cxm.analytics.library import Analyses, Metrics
from cxm.config import Settings
from cxm.core.db import make_engine, make_sessionmaker
from cxm.core.errors import InvalidInput
from cxm.core.migrate import upgrade
from cxm.customers import service as customers_service
from cxm.customers.schemas import CustomerRead, CustomerUpsert
from cxm.feedback import service as feedback_service
from cxm.interactions import importers
from cxm.interactions import service as interactions_service
from cxm.interactions.schemas import InteractionIn, OrderIn
from cxm.text.library import TextLibrary

if TYPE_CHECKING:
    import pandas as pd

T = TypeVar("T")
ACTOR = "library"


def validate_items(schema: type[T], items: Sequence[dict[str, Any]]) -> list[T]:
    """Validate a list of plain dicts, reporting every bad item by index."""
    try:
        return TypeAdapter(list[schema]).validate_python(list(items))  # type: ignore[valid-type]
    except ValidationError as error:
        details: list[dict[str, Any]] = [
            {"index": e["loc"][0], "field": ".".join(map(str, e["loc"][1:])) or None, "message": e["msg"]}
            for e in error.errors()
        ]
        indexes = sorted({int(d["index"]) for d in details})
        raise InvalidInput(f"invalid item(s) {indexes[:20]}; nothing was stored", details=details) from None


class Hub:
    """One customer hub database, opened from Python."""

    def __init__(self, database_url: str | None = None, *, migrate: bool = True) -> None:
        self.database_url = database_url or Settings().database_url
        self.engine = make_engine(self.database_url)
        if migrate:
            upgrade(self.engine)
        self.sessionmaker = make_sessionmaker(self.engine)
        self.settings = Settings(database_url=self.database_url)
        self._analytics: analytics_service.Engine | None = None
        self.metrics = Metrics(self._analytics_engine)
        self.analytics = Analyses(self._analytics_engine)
        self.text = TextLibrary(
            self.session,
            self.settings.text_languages,
            kind=self.settings.text_engine,
            model_dir=self.settings.text_model_dir,
            keyphrases=self.settings.text_keyphrases,
        )

    def _analytics_engine(self) -> analytics_service.Engine:
        if self._analytics is None:
            self._analytics = analytics_service.engine_for(self.settings)
        return self._analytics

    def sync_analytics(self) -> analytics_service.SyncReport | None:
        """Bring the analytics store up to date (None when the engine reads the database directly)."""
        return analytics_service.sync_store(self.settings, self.engine)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed when the block ends, rolled back on error."""
        with self.sessionmaker() as session, session.begin():
            yield session

    def _run(self, action: Callable[[Session], T]) -> T:
        with self.session() as session:
            return action(session)

    def ingest_interactions(self, items: Sequence[dict[str, Any]]) -> interactions_service.IngestResult:
        """Store interactions (all or nothing), resolving identities to customers."""
        valid = validate_items(InteractionIn, items)
        return self._run(lambda s: interactions_service.ingest_interactions(s, valid, actor=ACTOR))

    def ingest_orders(self, items: Sequence[dict[str, Any]]) -> interactions_service.IngestResult:
        """Store orders (all or nothing), resolving identities to customers."""
        valid = validate_items(OrderIn, items)
        return self._run(lambda s: interactions_service.ingest_orders(s, valid, actor=ACTOR))

    def upsert_customers(self, items: Sequence[dict[str, Any]]) -> list[int]:
        """Create or update customers by identity; returns their ids."""
        valid = validate_items(CustomerUpsert, items)
        return self._run(lambda s: customers_service.upsert_customers(s, valid, actor=ACTOR))

    def import_file(
        self,
        kind: str,
        path: str | Path,
        *,
        file_format: str | None = None,
        mapping: dict[str, str] | None = None,
        rejected_path: str | Path | None = None,
    ) -> importers.ImportSummary:
        """Import customers, interactions or orders from a CSV, JSON Lines or Parquet file (one transaction)."""
        rejected = Path(rejected_path) if rejected_path is not None else None
        return self._run(
            lambda s: importers.import_file(
                s, kind, Path(path), file_format=file_format, mapping=mapping, rejected_path=rejected, actor=ACTOR
            )
        )

    def import_responses(
        self,
        path: str | Path,
        *,
        survey: str | None = None,
        file_format: str | None = None,
        mapping: str | Path | dict[str, Any] | None = None,
        rejected_path: str | Path | None = None,
    ) -> feedback_service.ResponseImportSummary:
        """Import survey responses from a Qualtrics export or a CSV file with a mapping (one transaction)."""
        read: feedback_service.ResponseMapping | None = None
        if isinstance(mapping, dict):
            read = feedback_service.ResponseMapping.model_validate(mapping)
        elif mapping is not None:
            read = feedback_service.load_mapping(Path(mapping))
        rejected = Path(rejected_path) if rejected_path is not None else None
        return self._run(
            lambda s: feedback_service.import_responses(
                s, Path(path), survey=survey, file_format=file_format, mapping=read, rejected_path=rejected, actor=ACTOR
            )
        )

    def customer(self, ref: int | str) -> CustomerRead:
        """A customer by id or by identity (`email:ann@example.com`)."""

        def read(session: Session) -> CustomerRead:
            found = ref if isinstance(ref, int) else customers_service.find_by_identity(session, ref).id
            return customers_service.read_customer(session, found)

        return self._run(read)

    def search(self, q: str | None = None, *, limit: int = 100, offset: int = 0) -> pd.DataFrame:
        """Customers whose name or identity contains `q`, as a DataFrame."""
        page = self._run(lambda s: customers_service.search_customers(s, q=q, limit=limit, offset=offset))
        import pandas as pd  # imported on use: pandas alone takes seconds to load in the CLI

        return pd.DataFrame([item.model_dump() for item in page.items])

    def timeline(self, customer_id: int, *, limit: int = 1000) -> pd.DataFrame:
        """Everything that happened to a customer, newest first, as a DataFrame."""
        entries = self._run(lambda s: customers_service.timeline(s, customer_id, limit=limit, offset=0))
        columns = ["occurred_at", "kind", "id", "channel", "summary", "data"]
        import pandas as pd

        return pd.DataFrame([{c: getattr(e, c) for c in columns} for e in entries], columns=columns)

    def merge(self, survivor_id: int, merged_id: int, *, reason: str = "manual merge") -> int:
        """Merge one profile into another; returns the merge id (for undo)."""
        return self._run(
            lambda s: (
                customers_service.merge_customers(
                    s, survivor_id=survivor_id, merged_id=merged_id, actor=ACTOR, reason=reason
                ).id
            )
        )

    def undo_merge(self, merge_id: int) -> None:
        """Undo a recorded merge."""
        self._run(lambda s: customers_service.undo_merge(s, merge_id=merge_id, actor=ACTOR))

    def export(self, customer_id: int) -> dict[str, Any]:
        """Everything held about a person."""
        return self._run(lambda s: customers_service.export_person(s, customer_id))

    def erase(self, customer_id: int) -> list[int]:
        """Erase a person's personal data everywhere."""
        return self._run(lambda s: customers_service.erase_person(s, customer_id, actor=ACTOR))

    def responses(self, survey: str | None = None) -> pd.DataFrame:
        """Completed survey responses, one row each and one column per question."""

        def read(session: Session) -> pd.DataFrame:
            survey_id = feedback_service.get_survey(session, survey).id if survey else None
            return feedback_service.responses_frame(session, feedback_service.ResponseFilter(survey_id=survey_id))

        return self._run(read)

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()


def connect(database_url: str | None = None, *, migrate: bool = True) -> Hub:
    """Open a hub (default: `CXM_DATABASE_URL` or `sqlite:///cxm.db`), upgrading its schema."""
    return Hub(database_url, migrate=migrate)
