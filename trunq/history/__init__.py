"""History database: step events and the run index (SQLAlchemy; SQLite by default, PostgreSQL by URL)."""

from trunq.history.store import History, HistorySchemaError, RunRecord, StepEventRecord

__all__ = ["History", "HistorySchemaError", "RunRecord", "StepEventRecord"]
