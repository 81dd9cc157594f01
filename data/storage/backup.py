"""Backup and restore of the whole database.

A backup never opens the live .duckdb file (or its .wal) a second time: closing any descriptor of
that file would drop the POSIX lock DuckDB holds on it for the whole process. Instead, under the
process's write lock, DuckDB itself copies the live catalog into a new database file through the
existing connection (`ATTACH … ; COPY FROM DATABASE live TO snapshot; DETACH`): every table, every
sequence with its current value, the schema version. The snapshot lives in a scratch folder beside
the database (`.<file>.tmp/`, never in backups/) only until it is zipped with a small manifest; the
archive is written as a hidden `.….zip.part` and renamed when complete; the `备份` audit row is
written after the archive exists. Whatever fails (a full disk included) removes the partial files;
after a kill, the next process that opens the database removes them.

Restore never touches the live file until the very end: it holds the database's lock throughout
(another process holding the database gets DatabaseLockedError), checks the archive member's size
against a cap and the free space, unpacks it into the scratch folder, opens, migrates and checks it,
gives it its audit row, and only then moves it over the database file (`db.replace_file`), so a
failed restore leaves the database as it was. See docs/security.md, "Database lock and backups".
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
import shutil
import threading
import uuid
import zipfile
from pathlib import Path

from data.storage import audit_log
from data.storage.connect import replace_file, shared_db
from data.storage.db import Database, DatabaseLockedError, hold_lock, resolve_path, scratch_dir
from data.storage.scope import SYSTEM, Scope

MANIFEST = "manifest.json"
DB_MEMBER = "dashboard.duckdb"
WAL_MEMBER = "dashboard.duckdb.wal"
FORMAT = "dashboard-backup-1"

# A restore refuses an archive whose database is larger than this when unpacked (the province-scale
# demo, the largest database this dashboard was measured with, is 499 MB).
MAX_RESTORE_BYTES = 4 * 1024**3
# Room left on the disk beyond what a backup or a restore itself needs.
SPACE_MARGIN = 32 * 1024**2

_backup_guard = threading.Lock()  # one backup at a time in a process


class BackupError(RuntimeError):
    """A backup file that cannot be restored; the message is Chinese, `english` the English line."""

    def __init__(self, message: str, english: str, kind: str = "archive"):
        super().__init__(message)
        self.english = english
        self.kind = kind  # "archive": the file is not a usable backup; "space": the disk is (nearly) full


def default_dir(db: Database) -> Path:
    """Backups live beside the database: data/backups/ for the default data/dashboard.duckdb."""
    return db.path.parent / "backups"


def _counts(db_or_cur, tables=("units", "catalog_items", "share_requests", "progress_reports", "users"),
            catalog: str | None = None) -> dict:
    out = {}
    for table in tables:
        name = f'"{catalog}".main.{table}' if catalog else table
        row = db_or_cur.execute(f"SELECT count(*) FROM {name}").fetchone()
        out[table] = int(row[0])
    return out


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _mb(n: int) -> str:
    return f"{max(1, round(n / 1024**2)):,} MB"


def _disk_full(what: str, path: Path) -> BackupError:
    return BackupError(
        f"磁盘空间不足，{what}没有完成（{path.parent}）：请清理磁盘空间后重试；已写入的临时文件已删除。",
        f"The disk is full: the {'backup' if what == '备份' else 'restore'} was not done ({path.parent}); "
        "free some space and try again. Partial files were removed.",
        kind="space",
    )


def _check_space(needs: dict[Path, int], what: str) -> None:
    """BackupError when a folder's file system has less free space than it needs (plus a margin);
    folders on one file system add up."""
    per_device: dict[int, list] = {}
    for folder, amount in needs.items():
        dev = folder.stat().st_dev
        entry = per_device.setdefault(dev, [folder, 0])
        entry[1] += amount
    for folder, amount in per_device.values():
        free = shutil.disk_usage(folder).free
        if free < amount + SPACE_MARGIN:
            raise BackupError(
                f"磁盘空间不足，无法{what}：{folder} 所在磁盘需要约 {_mb(amount + SPACE_MARGIN)}，"
                f"只剩 {_mb(free)}。请清理磁盘空间（例如删除较早的备份）后重试。数据库未作任何改动。",
                f"Not enough disk space to {'back up' if what == '备份' else 'restore'}: {folder} needs about "
                f"{_mb(amount + SPACE_MARGIN)}, {_mb(free)} free. Free some space and try again; nothing was changed.",
                kind="space",
            )


def _is_disk_full(exc: BaseException) -> bool:
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    text = str(exc).lower()
    return "no space left" in text or "disk is full" in text


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
    backups/) as `<name>-YYYYmmdd-HHMMSS-mmm.zip`; keep only the newest `keep` archives there.

    BackupError (Chinese message) when the disk has too little space or fills up meanwhile; then
    no archive, no partial file and no audit row is left."""
    directory = Path(target_dir) if target_dir else default_dir(db)
    directory.mkdir(parents=True, exist_ok=True)
    scratch = scratch_dir(db.path)
    with _backup_guard:
        # What a killed backup of this database left in this folder (only the process holding the
        # database's lock backs it up, and within it one backup runs at a time).
        for stale in directory.glob(f".{db.path.stem}-*.zip.part"):
            stale.unlink(missing_ok=True)
        size = db.path.stat().st_size if db.path.exists() else 0
        wal = Path(str(db.path) + ".wal")
        size += wal.stat().st_size if wal.exists() else 0
        scratch.mkdir(mode=0o700, exist_ok=True)
        # The snapshot is about the size of the file; the archive at most that again.
        _check_space({scratch: size, directory: size}, "备份")

        now = dt.datetime.now()
        target = _archive_name(directory, db.path.stem, now)
        partial = directory / f".{target.name}.part"
        snapshot = scratch / f"backup-{uuid.uuid4().hex}.duckdb"
        try:
            counts, version = _snapshot(db, snapshot)
            manifest = {
                "format": FORMAT,
                "created_at": now.replace(microsecond=0).isoformat(),
                "source": str(db.path),
                "schema_version": version,
                "counts": counts,
            }
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # password hashes inside
            with os.fdopen(fd, "wb") as raw:
                with zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
                    zf.writestr(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2))
                    zf.write(snapshot, DB_MEMBER)
                    snapshot_wal = Path(str(snapshot) + ".wal")
                    if snapshot_wal.exists() and snapshot_wal.stat().st_size > 0:
                        zf.write(snapshot_wal, WAL_MEMBER)
                raw.flush()
                os.fsync(raw.fileno())
            os.replace(partial, target)
        except BaseException as exc:
            partial.unlink(missing_ok=True)
            if _is_disk_full(exc):
                raise _disk_full("备份", target) from exc
            raise
        finally:
            snapshot.unlink(missing_ok=True)
            Path(str(snapshot) + ".wal").unlink(missing_ok=True)

        # Only now, with the archive in place, the audit row: no 备份 row for an archive never written.
        try:
            with db.transaction() as cur:
                audit_log.record(cur, actor, "备份", target.name, f"备份到 {directory}", after=counts)
        except BaseException:
            target.unlink(missing_ok=True)  # nor an archive without its audit row
            raise

        if keep and keep > 0:
            archives = list_backups(directory, db.path.stem)
            for old in archives[: max(0, len(archives) - keep)]:
                old.unlink(missing_ok=True)
    return target


def _snapshot(db: Database, snapshot: Path) -> tuple[dict, int]:
    """Copy the live database into the new file `snapshot` through DuckDB (no second handle on the
    live file); return the snapshot's row counts and schema version."""
    alias = f"backup_snapshot_{uuid.uuid4().hex[:12]}"
    with db._write_lock:  # noqa: SLF001  (the package's own lock: no write runs during the copy)
        cur = db._con.cursor()  # noqa: SLF001
        try:
            live = cur.execute("SELECT current_database()").fetchone()[0]
            cur.execute(f"ATTACH '{str(snapshot).replace(chr(39), chr(39) * 2)}' AS {_quote(alias)}")
            try:
                cur.execute(f"COPY FROM DATABASE {_quote(live)} TO {_quote(alias)}")
                counts = _counts(cur, catalog=alias)
                version = int(cur.execute(f"SELECT max(version) FROM {_quote(alias)}.main.schema_version").fetchone()[0])
            finally:
                cur.execute(f"DETACH {_quote(alias)}")
        finally:
            cur.close()
    return counts, version


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


def restore(
    path: str | os.PathLike,
    db_path: str | os.PathLike | None = None,
    actor: Scope = SYSTEM,
    *,
    max_bytes: int = MAX_RESTORE_BYTES,
) -> None:
    """Replace the database at `db_path` (default: $DASHBOARD_DB / data/dashboard.duckdb) with the
    backup `path`, atomically. The database's lock is held throughout: DatabaseLockedError (before
    anything is unpacked) if another process holds it. In a process that has the database open, its
    shared Database is closed at the swap and the next `get_db` opens the restored file. Raises
    BackupError for a file that is not a usable backup, too large, or too large for the free space."""
    import duckdb

    from data.storage.schema import prepare_database

    path = Path(path).resolve()
    target = resolve_path(db_path)
    manifest = read_manifest(path)
    target.parent.mkdir(parents=True, exist_ok=True)

    with hold_lock(target):
        with zipfile.ZipFile(path) as zf:
            members = [zf.getinfo(DB_MEMBER)] + ([zf.getinfo(WAL_MEMBER)] if WAL_MEMBER in zf.namelist() else [])
        unpacked = sum(m.file_size for m in members)
        if unpacked > max_bytes:
            raise BackupError(
                f"备份文件 {path.name} 中的数据库解压后有 {_mb(unpacked)}，超过上限 {_mb(max_bytes)}，"
                "不是本看板正常的备份，未恢复。数据库未作任何改动。",
                f"The database in {path.name} would unpack to {_mb(unpacked)}, over the {_mb(max_bytes)} cap; "
                "not restored.",
            )
        scratch = scratch_dir(target)
        scratch.mkdir(mode=0o700, exist_ok=True)
        # The unpacked file, then its migration and checkpoint: about twice its size at the peak.
        _check_space({scratch: 2 * unpacked}, "恢复")

        live_counts = None
        mode = None
        if target.exists():
            mode = target.stat().st_mode & 0o777
            live_counts = _live_counts(target)

        tmp = scratch / f"restore-{uuid.uuid4().hex}.duckdb"
        tmp_wal = Path(str(tmp) + ".wal")
        try:
            try:
                with zipfile.ZipFile(path) as zf:
                    for member, dest in zip(members, (tmp, tmp_wal), strict=False):
                        _unpack(zf, member, dest)
            except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
                raise BackupError(
                    f"备份文件 {path.name} 无法读取或已损坏。", f"Backup file {path.name} is unreadable or damaged: {exc}"
                ) from exc
            try:
                restored = Database(tmp)
            except Exception as exc:  # damaged (DatabaseUnavailableError) or not DuckDB at all
                if _is_disk_full(exc) or getattr(exc, "kind", "") == "disk_full":
                    raise _disk_full("恢复", target) from exc
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
                    audit_log.record(
                        cur,
                        actor,
                        "恢复",
                        path.name,
                        f"从备份恢复（备份时间 {manifest.get('created_at', '未知')}）",
                        before=live_counts,
                        after=_counts(cur),
                    )
                restored.checkpoint()
            except duckdb.Error as exc:
                if _is_disk_full(exc):
                    raise _disk_full("恢复", target) from exc
                raise BackupError(
                    f"备份文件 {path.name} 中的数据库无法使用。", f"The database in {path.name} is unusable: {exc}"
                ) from exc
            finally:
                restored.close()
            tmp_wal.unlink(missing_ok=True)  # folded in by the checkpoint and the clean close
            if mode is not None:
                os.chmod(tmp, mode)
            replace_file(target, tmp)
        except OSError as exc:
            if _is_disk_full(exc):
                raise _disk_full("恢复", target) from exc
            raise
        finally:
            tmp.unlink(missing_ok=True)
            tmp_wal.unlink(missing_ok=True)
            Path(str(tmp) + ".lock").unlink(missing_ok=True)


def _live_counts(target: Path) -> dict | None:
    """Row counts of the database about to be replaced; None if it cannot be read (damaged)."""
    import duckdb

    live = shared_db(target)
    opened = None
    if live is None:
        try:
            live = opened = Database(target)
        except DatabaseLockedError:  # DuckDB's own lock: a process that does not take the lock file
            raise
        except Exception:  # noqa: BLE001  a damaged live file is exactly what a restore is for
            return None
    try:
        with live._write_lock:  # noqa: SLF001  counted between writes
            cur = live._con.cursor()  # noqa: SLF001
            try:
                return _counts(cur)
            finally:
                cur.close()
    except duckdb.Error:  # a foreign or half-migrated file is replaced all the same
        return None
    finally:
        if opened is not None:
            opened.close()


def _unpack(zf: zipfile.ZipFile, member: zipfile.ZipInfo, dest: Path) -> None:
    """Unpack one member, never more than its declared (and already checked) size."""
    left = member.file_size
    with zf.open(member) as src, open(dest, "wb") as dst:
        while True:
            chunk = src.read(min(1 << 20, left + 1))
            if not chunk:
                break
            left -= len(chunk)
            if left < 0:
                raise zipfile.BadZipFile(f"{member.filename} is larger than declared")
            dst.write(chunk)
