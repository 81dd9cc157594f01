"""The process's one open `Database` per file: `get_db` opens, migrates and seeds it on first use;
restore and tests close it (`close_db`) or move a new file over it (`replace_file`).

Kept apart from data.storage.db so the connection class knows nothing of the schema: this module
composes the two (db <- schema <- plan <- calendar, all pointing down to db)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from data.storage.db import Database, _held, _held_guard, resolve_path
from data.storage.schema import prepare_database

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


def shared_db(path: str | os.PathLike | None = None) -> Database | None:
    """The process's shared `Database` for `path` if one is open (never opens one)."""
    with _open_lock:
        return _open.get(resolve_path(path))


def replace_file(path: str | os.PathLike | None, new_file: Path) -> None:
    """Move `new_file` over the database `path`: the shared Database is closed first and no thread
    of this process can open the old file meanwhile (get_db waits), so nothing goes on writing to
    the replaced file. The caller holds the lock of `path` (`hold_lock`)."""
    resolved = resolve_path(path)
    with _open_lock:
        db = _open.pop(resolved, None)
        if db is not None:
            db.close()
        with _held_guard:
            held = _held.get(resolved)
            others = held.count - 1 if held is not None else 0  # the caller's own hold is one
        if others > 0:  # a Database opened directly (not through get_db) would write to the old file
            raise RuntimeError(
                f"数据库文件 {resolved} 在本进程中还有其他连接打开着，未替换。 / The database file is still open "
                "elsewhere in this process; not replaced."
            )
        # The old file's write-ahead log must not be replayed onto the new file.
        Path(str(resolved) + ".wal").unlink(missing_ok=True)
        os.replace(new_file, resolved)
