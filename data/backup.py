"""Backup and restore of the whole database file.

A backup is a zip archive holding a byte copy of the DuckDB file (and of its write-ahead log, if
one is present) taken under the process's write lock right after a CHECKPOINT, plus a small
manifest. No write can run while the files are copied (the write lock is held in this process,
and DuckDB's file lock keeps every other process out), so the pair is one consistent state; a
copy of the file itself restores with every table, sequence and setting exactly as it was.

Restore never touches the live file until the very end: the archive is unpacked into a temporary
file beside the database, opened, migrated to the current schema, checked and given its audit
row; only then does `os.replace` swap it in, so a failed restore leaves the database as it was.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

from data import audit
from data.db import Database, close_db, resolve_path
from data.scope import SYSTEM, Scope

MANIFEST = "manifest.json"
DB_MEMBER = "dashboard.duckdb"
WAL_MEMBER = "dashboard.duckdb.wal"
FORMAT = "dashboard-backup-1"


class BackupError(RuntimeError):
    """A backup file that cannot be restored; the message is Chinese, `english` the English line."""

    def __init__(self, message: str, english: str):
        super().__init__(message)
        self.english = english


def default_dir(db: Database) -> Path:
    """Backups live beside the database: data/backups/ for the default data/dashboard.duckdb."""
    return db.path.parent / "backups"


def _counts(db_or_cur, tables=("units", "catalog_items", "share_requests", "progress_reports", "users")) -> dict:
    out = {}
    for table in tables:
        row = db_or_cur.execute(f"SELECT count(*) FROM {table}").fetchone()
        out[table] = int(row[0])
    return out


def _archive_name(directory: Path, stem: str, now: dt.datetime) -> Path:
    # Milliseconds in the name: two backups within a second (scripts, tests) never share a name,
    # and a pruned name is never reused, so names sort in the order the backups were taken.
    path = directory / f"{stem}-{now:%Y%m%d-%H%M%S}-{now.microsecond // 1000:03d}.zip"
    while path.exists():
        now = dt.datetime.now()
        path = directory / f"{stem}-{now:%Y%m%d-%H%M%S}-{now.microsecond // 1000:03d}.zip"
    return path


def list_backups(directory: str | os.PathLike, stem: str = "dashboard") -> list[Path]:
    """Backup archives in `directory`, oldest first."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    files = [p for p in directory.glob(f"{stem}-*.zip") if p.is_file()]
    return sorted(files, key=lambda p: p.name)  # the names carry the time, to the millisecond


def backup(
    db: Database, target_dir: str | os.PathLike | None = None, keep: int = 10, actor: Scope = SYSTEM
) -> Path:
    """Write a consistent snapshot of `db` into `target_dir` (default: beside the database, in
    backups/) as `<name>-YYYYmmdd-HHMMSS-mmm.zip`; keep only the newest `keep` archives there."""
    directory = Path(target_dir) if target_dir else default_dir(db)
    directory.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now()
    target = _archive_name(directory, db.path.stem, now)

    with db.transaction() as cur:
        counts = _counts(cur)
        audit.record(cur, actor, "备份", target.name, f"备份到 {directory}", after=counts)

    with tempfile.TemporaryDirectory(dir=directory, prefix=".backup-") as tmp:
        tmp_db = Path(tmp) / DB_MEMBER
        tmp_wal = Path(tmp) / WAL_MEMBER
        # Single writer: nothing is written while the files are copied. CHECKPOINT folds the
        # write-ahead log into the file; if DuckDB skipped it (an open reader), the log is copied
        # too and replayed on restore.
        with db._write_lock:  # noqa: SLF001  (the package's own lock; backup is part of data/)
            db.checkpoint()
            shutil.copyfile(db.path, tmp_db)
            wal = Path(str(db.path) + ".wal")
            has_wal = wal.exists() and wal.stat().st_size > 0
            if has_wal:
                shutil.copyfile(wal, tmp_wal)
        manifest = {
            "format": FORMAT,
            "created_at": now.replace(microsecond=0).isoformat(),
            "source": str(db.path),
            "schema_version": int(db.scalar("SELECT max(version) FROM schema_version")),
            "counts": counts,
        }
        partial = target.with_suffix(".zip.part")
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
            zf.writestr(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2))
            zf.write(tmp_db, DB_MEMBER)
            if has_wal:
                zf.write(tmp_wal, WAL_MEMBER)
        os.replace(partial, target)

    if keep and keep > 0:
        archives = list_backups(directory, db.path.stem)
        for old in archives[: max(0, len(archives) - keep)]:
            old.unlink(missing_ok=True)
    return target


def read_manifest(path: str | os.PathLike) -> dict:
    """The manifest of a backup archive; BackupError if it is not one."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"找不到备份文件：{path}", f"Backup file not found: {path}")
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            if MANIFEST not in names or DB_MEMBER not in names:
                raise BackupError(
                    f"{path.name} 不是本看板的备份文件（缺少 {MANIFEST} 或 {DB_MEMBER}）。",
                    f"{path.name} is not a dashboard backup (missing {MANIFEST} or {DB_MEMBER}).",
                )
            manifest = json.loads(zf.read(MANIFEST))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise BackupError(
            f"备份文件 {path.name} 无法读取或已损坏。", f"Backup file {path.name} is unreadable or damaged: {exc}"
        ) from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(
            f"{path.name} 的备份格式无法识别。", f"{path.name} has an unknown backup format."
        )
    return manifest


def restore(path: str | os.PathLike, db_path: str | os.PathLike | None = None, actor: Scope = SYSTEM) -> None:
    """Replace the database at `db_path` (default: $DASHBOARD_DB / data/dashboard.duckdb) with the
    backup `path`, atomically. The shared Database of that file in this process is closed; the next
    `get_db` opens the restored one. Raises BackupError for a file that is not a usable backup and
    DatabaseLockedError if another process holds the database."""
    import duckdb

    from data.schema import prepare_database

    path = Path(path).resolve()
    target = resolve_path(db_path)
    manifest = read_manifest(path)
    target.parent.mkdir(parents=True, exist_ok=True)

    # Refuse early (before unpacking anything) when another process holds the live file.
    close_db(target)
    live_counts = None
    mode = None
    if target.exists():
        mode = target.stat().st_mode & 0o777
        try:
            live = Database(target)  # DatabaseLockedError (not caught) if another process holds it
        except duckdb.Error:
            live = None  # a damaged live file is exactly what a restore is for
        if live is not None:
            try:
                live_counts = _counts(live._con)  # noqa: SLF001
            except duckdb.Error:  # a foreign or half-migrated file is replaced all the same
                live_counts = None
            finally:
                live.close()

    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.restore-", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    tmp_wal = Path(tmp_name + ".wal")
    try:
        with zipfile.ZipFile(path) as zf:
            with zf.open(DB_MEMBER) as src, open(tmp, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
            if WAL_MEMBER in zf.namelist():
                with zf.open(WAL_MEMBER) as src, open(tmp_wal, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
        try:
            restored = Database(tmp)
        except duckdb.Error as exc:
            raise BackupError(
                f"备份文件 {path.name} 中的数据库无法打开。", f"The database in {path.name} cannot be opened: {exc}"
            ) from exc
        try:
            if not restored.scalar(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'"
            ):
                raise BackupError(
                    f"备份文件 {path.name} 中没有看板的数据表。", f"{path.name} holds no dashboard tables."
                )
            prepare_database(restored)  # an older backup is brought up to the current schema
            with restored.transaction() as cur:
                audit.record(
                    cur,
                    actor,
                    "恢复",
                    path.name,
                    f"从备份恢复（备份时间 {manifest.get('created_at', '未知')}）",
                    before=live_counts,
                    after=_counts(cur),
                )
            restored.checkpoint()
        finally:
            restored.close()
        tmp_wal.unlink(missing_ok=True)  # folded in by the checkpoint and the clean close
        # The old file's log must not be replayed onto the restored file.
        close_db(target)
        Path(str(target) + ".wal").unlink(missing_ok=True)
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
        tmp_wal.unlink(missing_ok=True)
