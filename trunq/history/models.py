"""SQLAlchemy models of the history database (step events, run index, schema version)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Float, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

SCHEMA_VERSION = 1


class Base(DeclarativeBase):
    pass


class SchemaVersion(Base):
    __tablename__ = "trunq_schema_version"

    version: Mapped[int] = mapped_column(Integer, primary_key=True)


class StepEvent(Base):
    """One status change of one step (RUNNING, DONE, FAILED, ...), with its duration when it ended."""

    __tablename__ = "trunq_step_events"
    __table_args__ = (
        Index("ix_trunq_step_events_family_ts", "family", "ts"),
        Index("ix_trunq_step_events_step_ts", "step_id", "ts"),
        Index("ix_trunq_step_events_status_ts", "status", "ts"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    step_id: Mapped[str] = mapped_column(String(512))
    family: Mapped[str] = mapped_column(String(255))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(32))
    worker: Mapped[str | None] = mapped_column(String(255), nullable=True)
    ts: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    duration: Mapped[float | None] = mapped_column(Float, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


class RunIndex(Base):
    """The searchable summary of one Run folder (the folder stays the source of truth)."""

    __tablename__ = "trunq_runs"
    __table_args__ = (
        Index("ix_trunq_runs_family_start", "family", "start_time"),
        Index("ix_trunq_runs_status", "status"),
    )

    name: Mapped[str] = mapped_column(String(512), primary_key=True)
    status: Mapped[str] = mapped_column(String(32))
    run_type: Mapped[str | None] = mapped_column(String(32), nullable=True)
    start_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    end_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    duration: Mapped[float | None] = mapped_column(Float, nullable=True)
    fn_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    step_id: Mapped[str | None] = mapped_column(String(512), nullable=True, index=True)
    family: Mapped[str | None] = mapped_column(String(255), nullable=True)
    host: Mapped[str | None] = mapped_column(String(255), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
