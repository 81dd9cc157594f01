"""The one place that talks to DuckDB.

One `Database` per file per process holds a single DuckDB connection. Reads take a fresh
cursor per call (DuckDB refuses concurrent use of one cursor, and Streamlit runs every browser
session in its own thread); writes go through one process-wide lock so there is one writer at
a time, each in an explicit transaction that is rolled back on any error.

One process per file: besides DuckDB's own lock (a POSIX record lock on the .duckdb file, which
the kernel drops as soon as *any* descriptor of that file is closed anywhere in the process), every
process that opens a database first takes an exclusive `flock` on `<file>.lock` beside it, held on
a descriptor that only this module knows and closes. A second process (the command line while the
dashboard runs) is refused with `DatabaseLockedError` whatever else the first process has done
with the file. See docs/security.md, "Database lock and backups".
"""

from __future__ import annotations

import errno
import fcntl
import itertools
import os
import shutil
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

DEFAULT_PATH = Path(__file__).resolve().parents[1] / "dashboard.duckdb"  # data/dashboard.duckdb

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


class DatabaseUnavailableError(RuntimeError):
    """The database file cannot be opened or written: damaged, truncated, or the disk is full.

    `kind` is "damaged", "disk_full" or "io"; the message is Chinese, `english` the English line."""

    def __init__(self, path: Path, kind: str, detail: str = ""):
        self.path = path
        self.kind = kind
        self.detail = detail
        if kind == "disk_full":
            chinese = (f"数据库所在磁盘已满，无法写入 {path}：请清理磁盘空间（例如删除 {path.parent / 'backups'} "
                       "中较早的备份或其他大文件）后重新启动看板。")
            english = f"The disk holding {path} is full: free some space, then start the dashboard again."
        elif kind == "damaged":
            chinese = (f"数据库文件 {path} 已损坏，无法打开。请停止看板，用最近的备份恢复："
                       f"bash scripts/cli data restore {path.parent / 'backups'}/<最近的备份>.zip --db {path}，"
                       "然后重新启动看板。")
            english = (f"The database file {path} is damaged and cannot be opened: stop the dashboard and restore "
                       "the latest backup with `bash scripts/cli data restore <backup.zip>`.")
        else:
            chinese = f"数据库文件 {path} 无法读写（{detail or '输入输出错误'}）。请检查磁盘和文件权限后重新启动看板。"
            english = f"The database file {path} cannot be read or written: check the disk and the file's permissions."
        super().__init__(f"{chinese} / {english}")
        self.chinese = chinese
        self.english = english


def classify_error(path: Path, exc: BaseException) -> DatabaseUnavailableError | None:
    """A DatabaseUnavailableError for an exception that says the file is damaged or the disk full."""
    if isinstance(exc, DatabaseUnavailableError):
        return exc
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return DatabaseUnavailableError(path, "disk_full")
    if not isinstance(exc, duckdb.Error):  # another file's OSError is not the database's business
        return None
    text = str(exc).lower()
    if "no space left" in text or "disk is full" in text or "disk full" in text:
        return DatabaseUnavailableError(path, "disk_full")
    damaged = ("not a valid duckdb database", "corrupt", "checksum", "invalid magic", "the file is not a",
               "failed to read database header", "could not read enough bytes", "unable to read",
               "serialization error", "invalid database", "truncated", "missing magic bytes",
               "unrecognized file format", "read past end")
    if any(word in text for word in damaged):
        return DatabaseUnavailableError(path, "damaged", str(exc)[:200])
    if "invalidated" in text:  # DuckDB refuses every further statement after a fatal error
        return DatabaseUnavailableError(path, "io", str(exc)[:200])
    if isinstance(exc, duckdb.IOException) and "lock" not in text:
        return DatabaseUnavailableError(path, "io", str(exc)[:200])
    return None


def lock_path(path: Path) -> Path:
    """The lock file every process holding `path` keeps an exclusive flock on."""
    return path.with_name(path.name + ".lock")


def scratch_dir(path: Path) -> Path:
    """Temporary files of backups and restores of `path`: beside it (same file system, so a restore
    can `os.replace`), never in backups/, removed when they are done and, after a kill, by the next
    process that takes the database's lock."""
    return path.with_name(f".{path.name}.tmp")


class _HeldLock:
    __slots__ = ("fd", "count")

    def __init__(self, fd: int):
        self.fd = fd
        self.count = 1


_held: dict[Path, _HeldLock] = {}
_held_guard = threading.Lock()


def acquire_lock(path: Path) -> None:
    """Take (or, in a process that holds it already, count once more) the exclusive lock of `path`;
    DatabaseLockedError when another process holds it."""
    path = Path(path)
    with _held_guard:
        held = _held.get(path)
        if held is not None:
            held.count += 1
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_CLOEXEC (Python's default): a child process never inherits the lock.
        fd = os.open(lock_path(path), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise DatabaseLockedError(path) from exc
            raise
        _held[path] = _HeldLock(fd)
        try:  # for an operator wondering who holds it; the lock, not the text, is what counts
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        except OSError:
            pass
    # Nobody else can be backing up or restoring this file now: what is left is a killed run's.
    shutil.rmtree(scratch_dir(path), ignore_errors=True)
    for stale in (path.parent / "backups").glob(f".{path.stem}-*.zip.part"):
        stale.unlink(missing_ok=True)


def release_lock(path: Path) -> None:
    """Undo one `acquire_lock`; the last one closes the descriptor, which releases the lock."""
    path = Path(path)
    with _held_guard:
        held = _held.get(path)
        if held is None:
            return
        held.count -= 1
        if held.count <= 0:
            del _held[path]
            os.close(held.fd)


def holds_lock(path: str | os.PathLike) -> bool:
    """Whether this process holds the lock of `path`."""
    with _held_guard:
        return Path(path) in _held


@contextmanager
def hold_lock(path: str | os.PathLike | None) -> Iterator[Path]:
    """Hold the lock of `path` (resolved) for the block; DatabaseLockedError if another process has it."""
    resolved = resolve_path(path)
    acquire_lock(resolved)
    try:
        yield resolved
    finally:
        release_lock(resolved)


def resolve_path(path: str | os.PathLike | None = None) -> Path:
    """`path`, else $DASHBOARD_DB, else data/dashboard.duckdb."""
    if path:
        return Path(path).expanduser().resolve()
    env = os.environ.get("DASHBOARD_DB")
    if env:
        return Path(env).expanduser().resolve()
    return DEFAULT_PATH


# The memory limit that Database.release_buffers sets for a moment.
RELEASE_LIMIT = "64MB"


class Database:
    """A DuckDB file with a per-call cursor for reads and a single writer."""

    def __init__(self, path: str | os.PathLike | None = None):
        self.path = resolve_path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        acquire_lock(self.path)  # DatabaseLockedError before DuckDB even looks at the file
        try:
            self._con = duckdb.connect(str(self.path))
        except BaseException as exc:
            release_lock(self.path)
            if isinstance(exc, duckdb.IOException) and "lock" in str(exc).lower():
                raise DatabaseLockedError(self.path) from exc  # a process that predates the lock file
            unavailable = classify_error(self.path, exc)
            if unavailable is not None:
                raise unavailable from exc
            raise
        self._closed = False
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

    def release_buffers(self) -> None:
        """Give back the table blocks DuckDB keeps in memory after a large read. Reading the facts
        leaves about 200 MB of them behind at province scale, never read again: the engine works on
        its own copy in Polars. Lowering the memory limit for a moment evicts them (blocks are read
        from the file again when a query needs them), then the default limit is back. The dashboard
        never sets a limit of its own, so RESET is the limit it had. Under the writer lock: a write
        holding more than the moment's limit in memory waits instead of failing."""
        with self._write_lock:
            cur = self._con.cursor()
            try:
                cur.execute(f"SET memory_limit = '{RELEASE_LIMIT}'")
                cur.execute("RESET memory_limit")
            finally:
                cur.close()

    def close(self) -> None:
        with self._write_lock:
            if self._closed:
                return
            self._closed = True
            try:
                self._con.close()
            finally:
                release_lock(self.path)
