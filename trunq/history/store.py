"""The history database: step events and the run index; SQLite by default, PostgreSQL by URL.

``History.from_url()`` uses ``$TRUNQ_HISTORY_URL`` or ``<runs root>/history.sqlite3``.
Every write is one short transaction; ``bulk_step_events`` writes many in one.
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import create_engine, delete, event, insert, select
from sqlalchemy.engine import CursorResult, Engine
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import sessionmaker

from trunq.core.errors import HistorySchemaError
from trunq.core.status import Status, spellings
from trunq.history.models import SCHEMA_VERSION, Base, RunIndex, SchemaVersion, StepEvent

# Older rows spell outcomes FAILURE/ERROR/SUCCESS/COMPLETED: ``Status.parse`` maps them.
FAILED_STATUSES = spellings(Status.FAILED)
DONE_STATUSES = spellings(Status.DONE)
ENDED_STATUSES = FAILED_STATUSES | DONE_STATUSES | {Status.DISABLED, "CANCELLED"}




@dataclass(frozen=True)
class StepEventRecord:
    step_id: str
    family: str
    params: dict[str, Any]
    status: str
    ts: datetime
    worker: str | None = None
    duration: float | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ts"] = self.ts.isoformat()
        return data


@dataclass(frozen=True)
class RunRecord:
    name: str
    status: str
    run_type: str | None
    start_time: datetime | None
    end_time: datetime | None
    duration: float | None
    step_id: str | None
    family: str | None
    error: str | None
    config: dict[str, Any]


class History:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._ensure_schema()

    @classmethod
    def from_url(cls, url: str | None = None) -> History:
        engine = create_engine(_resolve_url(url))
        event.listen(engine, "connect", _sqlite_pragmas)
        return cls(engine)

    def close(self) -> None:
        self.engine.dispose()

    def _ensure_schema(self) -> None:
        try:
            Base.metadata.create_all(self.engine)
        except DatabaseError as exc:  # a damaged file, or not a database at all
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else type(exc).__name__
            where = self.engine.url.render_as_string(hide_password=True)
            raise HistorySchemaError(f"the history database {where} cannot be read ({reason}): move it aside "
                                     "and trunq starts a new one") from None
        with self._sessions.begin() as session:
            found = session.scalars(select(SchemaVersion.version)).all()
            if not found:
                session.add(SchemaVersion(version=SCHEMA_VERSION))
            elif max(found) > SCHEMA_VERSION:
                raise HistorySchemaError(
                    f"history database schema v{max(found)} is newer than this trunq (v{SCHEMA_VERSION})")

    # ---- writes ------------------------------------------------------------------------------
    def step_event(self, step_id: str, family: str, params: Mapping[str, Any], status: str, *,
                   worker: str | None = None, ts: datetime | None = None, duration: float | None = None,
                   error: str | None = None) -> None:
        self.bulk_step_events([{"step_id": step_id, "family": family, "params": params, "status": status,
                                "worker": worker, "ts": ts, "duration": duration, "error": error}])

    def bulk_step_events(self, events: Iterable[Mapping[str, Any]]) -> int:
        rows = [_event_row(item) for item in events]
        if rows:
            with self._sessions.begin() as session:
                session.execute(insert(StepEvent), rows)
        return len(rows)

    def index_run(self, config: Mapping[str, Any]) -> None:
        """Insert or update the index row of a run from its ``config_for_run.json`` dict."""
        start, end = _time(config.get("start_time")), _time(config.get("end_time"))
        step = config.get("step") or {}
        row = RunIndex(
            name=str(config["name"]), status=str(config.get("status") or "NOT_STARTED"),
            run_type=config.get("run_type"), start_time=start, end_time=end,
            duration=(end - start).total_seconds() if start and end else None,
            fn_name=config.get("fn_name"), step_id=step.get("step_id"), family=step.get("family"),
            host=config.get("host"), error=config.get("error"), config=_jsonable(config),
        )
        with self._sessions.begin() as session:
            session.merge(row)

    def forget_before(self, moment: datetime) -> int:
        """Delete step events older than ``moment``; returns how many."""
        with self._sessions.begin() as session:
            # A DELETE gives a CursorResult, which has the rowcount.
            result = cast(CursorResult[Any], session.execute(delete(StepEvent).where(StepEvent.ts < _aware(moment))))
        return result.rowcount or 0

    # ---- queries -----------------------------------------------------------------------------
    def families(self) -> list[str]:
        with self._sessions() as session:
            return list(session.scalars(select(StepEvent.family).distinct().order_by(StepEvent.family)))

    def step_events(self, step_id: str) -> list[StepEventRecord]:
        query = select(StepEvent).where(StepEvent.step_id == step_id).order_by(StepEvent.ts, StepEvent.id)
        return self._events(query)

    def last_run(self, step_id: str) -> StepEventRecord | None:
        """The latest finished execution (done or failed) of a step."""
        query = (select(StepEvent).where(StepEvent.step_id == step_id, StepEvent.status.in_(ENDED_STATUSES))
                 .order_by(StepEvent.ts.desc(), StepEvent.id.desc()).limit(1))
        found = self._events(query)
        return found[0] if found else None

    def family_runs(self, family: str, since: datetime | None = None, limit: int = 100) -> list[StepEventRecord]:
        """Finished executions of a step family, newest first, with durations and statuses."""
        query = select(StepEvent).where(StepEvent.family == family, StepEvent.status.in_(ENDED_STATUSES))
        if since is not None:
            query = query.where(StepEvent.ts >= _aware(since))
        return self._events(query.order_by(StepEvent.ts.desc(), StepEvent.id.desc()).limit(limit))

    def failures(self, since: datetime | None = None, limit: int = 100) -> list[StepEventRecord]:
        query = select(StepEvent).where(StepEvent.status.in_(FAILED_STATUSES))
        if since is not None:
            query = query.where(StepEvent.ts >= _aware(since))
        return self._events(query.order_by(StepEvent.ts.desc(), StepEvent.id.desc()).limit(limit))

    def family_stats(self, family: str, since: datetime | None = None) -> dict[str, Any]:
        """Counts, failure rate and duration statistics, overall and per UTC day."""
        runs = list(reversed(self.family_runs(family, since=since, limit=1_000_000)))
        by_day: dict[str, list[StepEventRecord]] = {}
        for record in runs:
            by_day.setdefault(record.ts.date().isoformat(), []).append(record)
        summary = _summarize(runs)
        summary["family"] = family
        summary["by_day"] = [{"day": day, **_summarize(items)} for day, items in by_day.items()]
        return summary

    def runs(self, family: str | None = None, status: str | None = None, limit: int = 100) -> list[RunRecord]:
        query = select(RunIndex)
        if family is not None:
            query = query.where(RunIndex.family == family)
        if status is not None:
            query = query.where(RunIndex.status == status.upper())
        query = query.order_by(RunIndex.start_time.desc()).limit(limit)
        with self._sessions() as session:
            return [_run_record(row) for row in session.scalars(query)]

    def _events(self, query: Any) -> list[StepEventRecord]:
        with self._sessions() as session:
            return [_event_record(row) for row in session.scalars(query)]


def _summarize(records: list[StepEventRecord]) -> dict[str, Any]:
    durations = [r.duration for r in records if r.duration is not None]
    failures = sum(1 for r in records if r.status == Status.FAILED)
    return {
        "runs": len(records), "failures": failures,
        "failure_rate": failures / len(records) if records else 0.0,
        "mean_duration": statistics.fmean(durations) if durations else None,
        "median_duration": statistics.median(durations) if durations else None,
        "min_duration": min(durations) if durations else None,
        "max_duration": max(durations) if durations else None,
    }


def _resolve_url(url: str | None) -> str:
    url = url or os.environ.get("TRUNQ_HISTORY_URL")
    if not url:
        from trunq.runs._fs import runs_root

        root = runs_root()
        root.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{root / 'history.sqlite3'}"
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):  # psycopg (v3) is the driver trunq installs
            return "postgresql+psycopg://" + url[len(plain):]
    return url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL + busy timeout so several worker processes can write one SQLite file."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()


def _event_row(item: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "step_id": str(item["step_id"]), "family": str(item["family"]),
        "params": _jsonable(dict(item.get("params") or {})), "status": str(item["status"]).upper(),
        "worker": item.get("worker"), "ts": _aware(item.get("ts") or datetime.now(UTC)),
        "duration": item.get("duration"), "error": item.get("error"),
    }


def _event_record(row: StepEvent) -> StepEventRecord:
    return StepEventRecord(step_id=row.step_id, family=row.family, params=dict(row.params or {}),
                           status=_step_status(row.status), ts=_aware(row.ts), worker=row.worker,
                           duration=row.duration, error=row.error)


def _run_record(row: RunIndex) -> RunRecord:
    return RunRecord(name=row.name, status=row.status, run_type=row.run_type,
                     start_time=_aware(row.start_time) if row.start_time else None,
                     end_time=_aware(row.end_time) if row.end_time else None, duration=row.duration,
                     step_id=row.step_id, family=row.family, error=row.error, config=dict(row.config or {}))


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes: everything stored is UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _time(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return _aware(value)
    text = str(value)
    if text.isdigit():
        return datetime.fromtimestamp(int(text) / 1e9, UTC)
    return _aware(datetime.fromisoformat(text))


def _jsonable(data: Mapping[str, Any]) -> dict[str, Any]:
    import json

    return json.loads(json.dumps(dict(data), default=str))


def _step_status(raw: str) -> str:
    """Old rows' FAILURE/ERROR/SUCCESS/COMPLETED read as the vocabulary; others unchanged."""
    status = Status.parse(raw)
    return raw if status is Status.UNKNOWN else status.value
