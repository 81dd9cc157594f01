"""The one place that talks to DuckDB.

One `Database` per file per process holds a single DuckDB connection. Reads take a fresh
cursor per call (DuckDB refuses concurrent use of one cursor, and Streamlit runs every browser
session in its own thread); writes go through one process-wide lock so there is one writer at
a time, each in an explicit transaction that is rolled back on any error.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

DEFAULT_PATH = Path(__file__).resolve().parent / "dashboard.duckdb"

# Data versions are unique across every Database of the process: a file closed and reopened (after
# a restore, say) must never reuse a version a cache has already seen for the same path.
_versions = itertools.count(1)


class DatabaseLockedError(RuntimeError):
    """Another process holds the database file read-write."""

    def __init__(self, path: Path):
        super().__init__(
            f"数据库文件 {path} 正被另一个进程（通常是正在运行的看板）占用：请先停止看板，"
            "或在看板的页面中操作。 / The database file is locked by another process "
            "(usually the running dashboard): stop it first, or use the dashboard's pages."
        )
        self.path = path


def resolve_path(path: str | os.PathLike | None = None) -> Path:
    """`path`, else $DASHBOARD_DB, else data/dashboard.duckdb."""
    if path:
        return Path(path).expanduser().resolve()
    env = os.environ.get("DASHBOARD_DB")
    if env:
        return Path(env).expanduser().resolve()
    return DEFAULT_PATH


class Database:
    """A DuckDB file with a per-call cursor for reads and a single writer."""

    def __init__(self, path: str | os.PathLike | None = None):
        self.path = resolve_path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._con = duckdb.connect(str(self.path))
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():
                raise DatabaseLockedError(self.path) from exc
            raise
        self._write_lock = threading.RLock()
        # Changed after every committed write (and unique per process); caches key on it.
        self.version = next(_versions)

    # -- reads -------------------------------------------------------------------------------
    def frame(self, sql: str, params: Sequence[Any] | None = None) -> pl.DataFrame:
        """Run a query and return its result as a Polars frame."""
        cur = self._con.cursor()
        try:
            return cur.sql(sql, params=list(params) if params else None).pl()
        finally:
            cur.close()

    def rows(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple]:
        cur = self._con.cursor()
        try:
            return cur.execute(sql, list(params) if params else []).fetchall()
        finally:
            cur.close()

    def scalar(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        rows = self.rows(sql, params)
        return rows[0][0] if rows else None

    # -- writes ------------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Yield a cursor inside BEGIN … COMMIT; any exception rolls everything back."""
        with self._write_lock:
            cur = self._con.cursor()
            cur.execute("BEGIN TRANSACTION")
            try:
                yield cur
            except BaseException:
                cur.execute("ROLLBACK")
                cur.close()
                raise
            cur.execute("COMMIT")
            cur.close()
            self.version = next(_versions)

    def checkpoint(self) -> None:
        with self._write_lock:
            self._con.execute("CHECKPOINT")

    def close(self) -> None:
        with self._write_lock:
            self._con.close()


_open: dict[Path, Database] = {}
_open_lock = threading.Lock()


def get_db(path: str | os.PathLike | None = None, *, prepare: bool = True) -> Database:
    """The process-wide `Database` for `path`, created, migrated and seeded on first use."""
    resolved = resolve_path(path)
    with _open_lock:
        db = _open.get(resolved)
        if db is None:
            db = Database(resolved)
            if prepare:
                from data.schema import prepare_database

                try:
                    prepare_database(db)
                except BaseException:
                    db.close()  # do not keep the file locked by a Database nobody can reach
                    raise
            _open[resolved] = db
        return db


def close_db(path: str | os.PathLike | None = None) -> None:
    """Close and forget the shared `Database` for `path` (restore and tests need this)."""
    resolved = resolve_path(path)
    with _open_lock:
        db = _open.pop(resolved, None)
    if db is not None:
        db.close()
