"""Backup and restore: a consistent snapshot that restores every table exactly, atomically."""

from __future__ import annotations

import datetime as dt
import json
import zipfile

import pytest

from data.storage import backup as bk
from data.storage.connect import close_db, get_db
from data.storage.db import scratch_dir

D = dt.date

DATA_TABLES = (
    "units", "unit_aliases", "contacts", "catalog_items", "demands", "share_requests", "tasks",
    "assignment_groups", "task_assignments", "progress_reports", "milestones", "systems", "networks",
    "security_assessments", "quality_checks", "village_coverage", "settings", "sla_rules", "calendar_days",
    "users", "import_log", "published_months", "published_scores", "meta", "schema_version",
)


def _fill(db):
    """A few hand-written facts, enough for every KPI domain to have something."""
    police = db.scalar("SELECT unit_id FROM units WHERE name = '县公安局'")
    finance = db.scalar("SELECT unit_id FROM units WHERE name = '县财政局'")
    with db.transaction() as cur:
        cur.execute("INSERT INTO contacts VALUES (?, '分管领导', '王某', '副局长', '13800000001', DATE '2023-05-20')", [police])
        cur.execute("INSERT INTO contacts VALUES (?, '经办人', '李某', '科员', '13800000002', DATE '2023-05-21')", [police])
        cur.execute(
            "INSERT INTO catalog_items (code, name, unit_id, summary, format, share_type, open_type, update_cycle, "
            "published_on, last_updated_on, mounted_on, item_count) VALUES "
            "('C1', '户籍人口', ?, '户籍人口基本信息', '库表', '有条件共享', '不予开放', '每月', "
            "DATE '2023-08-01', DATE '2023-09-15', DATE '2023-08-20', 12)",
            [police],
        )
        cur.execute(
            "INSERT INTO share_requests (code, requester_id, provider_id, catalog_code, purpose, received_on, "
            "reviewed_on, review_result, forwarded_on, replied_on, reply_result) VALUES "
            "('R1', ?, ?, 'C1', '社保核验', DATE '2023-09-28', DATE '2023-10-09', '通过', DATE '2023-10-09', "
            "DATE '2023-10-20', '同意')",
            [finance, police],
        )
        cur.execute(
            "INSERT INTO progress_reports (task_no, unit_id, reported_on, status, percent, completed_on) "
            "VALUES (2, ?, DATE '2023-06-05', '已完成', 100, DATE '2023-06-01')",
            [police],
        )
        cur.execute("INSERT INTO systems VALUES (?, '警务综合平台', FALSE, TRUE, DATE '2023-07-01', FALSE, NULL, TRUE)", [police])
        cur.execute("INSERT INTO security_assessments VALUES (?, DATE '2023-11-30', TRUE, TRUE, FALSE, NULL)", [police])
        cur.execute("UPDATE settings SET value = '5' WHERE key = 'praise_top_n'")


def _snapshot(db) -> dict:
    return {t: db.rows(f"SELECT * FROM {t} ORDER BY ALL") for t in DATA_TABLES}


def test_backup_writes_a_zip_with_manifest(db, tmp_path):
    _fill(db)
    path = bk.backup(db, tmp_path / "bk")
    assert path.parent == tmp_path / "bk"
    assert path.name.startswith("t-") and path.suffix == ".zip"
    with zipfile.ZipFile(path) as zf:
        assert bk.DB_MEMBER in zf.namelist()
        manifest = json.loads(zf.read(bk.MANIFEST))
    assert manifest["format"] == bk.FORMAT
    assert manifest["counts"]["units"] == 46
    assert manifest["counts"]["catalog_items"] == 1
    assert bk.read_manifest(path) == manifest
    # the backup itself is audited in the live database
    assert db.rows("SELECT action, target FROM audit_log") == [("备份", path.name)]


def test_default_directory_is_beside_the_database(db, db_path):
    path = bk.backup(db)
    assert path.parent == db_path.parent / "backups"


def test_keep_only_the_newest(db, tmp_path):
    made = [bk.backup(db, tmp_path / "bk", keep=3) for _ in range(5)]
    left = bk.list_backups(tmp_path / "bk", "t")
    assert left == made[-3:]
    assert len({p.name for p in made}) == 5  # names never repeat, even within one second


def test_round_trip_restores_every_table_exactly(db, db_path, tmp_path):
    _fill(db)
    with db.transaction() as cur:  # a few audit rows, so the sequence has moved
        for i in range(3):
            cur.execute("INSERT INTO audit_log (username, action, target) VALUES ('system', '修改设置', ?)", [str(i)])
    expected = _snapshot(db)
    audit_before = db.rows("SELECT id, action, target FROM audit_log ORDER BY id")
    path = bk.backup(db, tmp_path / "bk")
    audit_at_backup = db.rows("SELECT id, action, target FROM audit_log ORDER BY id")
    # the 备份 row is written once the archive exists, so it is in the live log, not the archive
    assert audit_at_backup == audit_before + [(audit_before[-1][0] + 1, "备份", path.name)]

    # the office then changes things, which the restore must undo
    with db.transaction() as cur:
        cur.execute("DELETE FROM share_requests")
        cur.execute("UPDATE settings SET value = '1' WHERE key = 'praise_top_n'")
        cur.execute("INSERT INTO units (unit_id, name, kind) VALUES (500, '临时单位', '其他')")
    assert _snapshot(db) != expected

    bk.restore(path, db_path)
    restored = get_db(db_path)
    assert restored is not db  # the old shared Database was closed
    assert _snapshot(restored) == expected
    audit_after = restored.rows("SELECT id, action, target FROM audit_log ORDER BY id")
    assert audit_after[:-1] == audit_before
    # the sequence came back with the file at its value at the snapshot: the next id follows on
    assert audit_after[-1] == (audit_before[-1][0] + 1, "恢复", path.name)


def test_snapshot_keeps_sequences_and_schema_version(db, tmp_path):
    """The DuckDB-level copy keeps each sequence's current value (a used and an unused one) and the
    schema version: the restored file hands out exactly the ids the live one would have."""
    from data.storage.schema import LATEST_VERSION

    with db.transaction() as cur:
        for i in range(5):
            cur.execute("INSERT INTO audit_log (username, action, target) VALUES ('system', '修改设置', ?)", [str(i)])
    path = bk.backup(db, tmp_path / "bk")
    assert bk.read_manifest(path)["schema_version"] == LATEST_VERSION
    other = tmp_path / "copy.duckdb"
    bk.restore(path, other)
    try:
        copy = get_db(other)
        assert copy.rows("SELECT version FROM schema_version ORDER BY version") == db.rows(
            "SELECT version FROM schema_version ORDER BY version")
        # restore wrote one audit row (id 6, after the 5 above); the live file wrote the 备份 row as 6
        assert copy.scalar("SELECT max(id) FROM audit_log") == 6
        assert copy.scalar("SELECT nextval('audit_seq')") == db.scalar("SELECT nextval('audit_seq')") == 7
        assert copy.scalar("SELECT nextval('import_seq')") == db.scalar("SELECT nextval('import_seq')")
    finally:
        close_db(other)


def test_restore_is_audited_with_counts(db, db_path, tmp_path):
    _fill(db)
    path = bk.backup(db, tmp_path / "bk")
    with db.transaction() as cur:
        cur.execute("DELETE FROM catalog_items")
    bk.restore(path, db_path)
    row = get_db(db_path).rows(
        "SELECT username, counts_before, counts_after FROM audit_log WHERE action = '恢复'"
    )[0]
    assert row[0] == "system"
    assert json.loads(row[1])["catalog_items"] == 0  # the database that was replaced
    assert json.loads(row[2])["catalog_items"] == 1  # the restored one


def test_facts_are_not_served_from_a_stale_cache_after_restore(db, db_path, tmp_path):
    from data.storage.facts import load_facts

    path = bk.backup(db, tmp_path / "bk")  # no requests yet
    _fill(db)
    assert load_facts(db).requests.height == 1
    bk.restore(path, db_path)
    assert load_facts(get_db(db_path)).requests.height == 0


def test_restore_into_a_new_path(db, tmp_path):
    _fill(db)
    path = bk.backup(db, tmp_path / "bk")
    other = tmp_path / "elsewhere" / "copy.duckdb"
    bk.restore(path, other)
    try:
        copy = get_db(other)
        assert _snapshot(copy) == _snapshot(db)
    finally:
        close_db(other)


def test_a_file_that_is_not_a_backup_changes_nothing(db, db_path, tmp_path):
    _fill(db)
    expected = _snapshot(db)
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip at all")
    with pytest.raises(bk.BackupError, match="无法读取"):
        bk.restore(junk, db_path)
    other_zip = tmp_path / "other.zip"
    with zipfile.ZipFile(other_zip, "w") as zf:
        zf.writestr("readme.txt", "hello")
    with pytest.raises(bk.BackupError, match="不是本看板的备份文件"):
        bk.restore(other_zip, db_path)
    with pytest.raises(bk.BackupError, match="找不到"):
        bk.restore(tmp_path / "missing.zip", db_path)
    assert _snapshot(get_db(db_path)) == expected
    assert not list(scratch_dir(db_path).glob("*")) if scratch_dir(db_path).exists() else True  # no temp files


def test_a_damaged_database_inside_the_archive_changes_nothing(db, db_path, tmp_path):
    _fill(db)
    expected = _snapshot(db)
    good = bk.backup(db, tmp_path / "bk")
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w") as dst:
        dst.writestr(bk.MANIFEST, src.read(bk.MANIFEST))
        dst.writestr(bk.DB_MEMBER, b"\0" * 8192 + b"garbage")
    with pytest.raises(bk.BackupError):
        bk.restore(bad, db_path)
    assert _snapshot(get_db(db_path)) == expected


def test_restored_database_gives_an_identical_scorecard(db, db_path, tmp_path):
    from data.storage.facts import load_facts
    from metrics import scorecard
    from reports.csv_export import scorecard_csv

    _fill(db)
    as_of = D(2024, 1, 31)
    before = scorecard.scorecard(load_facts(db), as_of)
    path = bk.backup(db, tmp_path / "bk")
    with db.transaction() as cur:
        cur.execute("DELETE FROM contacts")
    bk.restore(path, db_path)
    after = scorecard.scorecard(load_facts(get_db(db_path)), as_of)
    assert after.equals(before)
    assert scorecard_csv(after) == scorecard_csv(before)


def test_restore_over_a_damaged_database(db, db_path, tmp_path):
    _fill(db)
    expected = _snapshot(db)
    path = bk.backup(db, tmp_path / "bk")
    close_db(db_path)
    db_path.write_bytes(b"\0" * 4096 + b"disk error")
    bk.restore(path, db_path)
    restored = get_db(db_path)
    assert _snapshot(restored) == expected
    before = restored.scalar("SELECT counts_before FROM audit_log WHERE action = '恢复'")
    assert before is None  # nothing could be counted in the damaged file


# -- a full disk, a kill, an oversized archive --------------------------------------------------------
def _fake_free(monkeypatch, free: int):
    import shutil
    from collections import namedtuple

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**12, 10**12 - free, free))


def _leftovers(*folders) -> list[str]:
    return sorted(str(p) for folder in folders if folder.exists() for p in folder.rglob("*"))


def _backup_rows(db) -> int:
    return db.scalar("SELECT count(*) FROM audit_log WHERE action = '备份'")


def test_disk_full_while_writing_the_archive_leaves_nothing(db, db_path, tmp_path, monkeypatch):
    import errno

    target = tmp_path / "bk"

    def full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(zipfile.ZipFile, "write", full)
    with pytest.raises(bk.BackupError, match="磁盘空间不足") as info:
        bk.backup(db, target)
    assert info.value.kind == "space"
    assert _leftovers(target, scratch_dir(db_path)) == []  # no .zip.part, no archive, no snapshot
    assert _backup_rows(db) == 0  # no 备份 row for an archive never written


def test_too_little_free_space_refuses_the_backup_before_writing(db, db_path, tmp_path, monkeypatch):
    _fake_free(monkeypatch, db_path.stat().st_size // 2)
    with pytest.raises(bk.BackupError, match="磁盘空间不足，无法备份"):
        bk.backup(db, tmp_path / "bk")
    assert _leftovers(tmp_path / "bk", scratch_dir(db_path)) == []
    assert _backup_rows(db) == 0


def test_a_failed_audit_row_removes_the_archive(db, tmp_path, monkeypatch):
    from data.storage import audit_log

    def refuse(*args, **kwargs):
        raise RuntimeError("audit failed")

    monkeypatch.setattr(audit_log, "record", refuse)
    with pytest.raises(RuntimeError):
        bk.backup(db, tmp_path / "bk")
    assert _leftovers(tmp_path / "bk") == []  # every archive has its audit row


_KILLED_BACKUP = """
import os, signal, sys, zipfile
from data.storage import backup
from data.storage.connect import get_db
db = get_db(sys.argv[1])
real_write = zipfile.ZipFile.write
def write_then_die(self, filename, arcname=None, *args, **kwargs):
    real_write(self, filename, arcname, *args, **kwargs)
    os.kill(os.getpid(), signal.SIGKILL)  # a kill while the archive is being written
zipfile.ZipFile.write = write_then_die
backup.backup(db, sys.argv[2])
"""


def test_a_killed_backup_leaves_no_copy_of_the_database_in_backups(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    live = tmp_path / "live.duckdb"
    get_db(live)
    close_db(live)
    target = tmp_path / "backups"
    proc = subprocess.run([sys.executable, "-c", _KILLED_BACKUP, str(live), str(target)], cwd=root, timeout=120,
                          env={**__import__("os").environ, "PYTHONPATH": str(root)})
    assert proc.returncode == -9
    # backups/ holds no database copy (the snapshot was in the scratch folder), only the partial archive
    left = _leftovers(target)
    assert all(name.endswith(".zip.part") for name in left), left
    assert not list(target.glob("*.zip"))
    # the next process to open the database removes what the killed one left
    get_db(live)
    try:
        assert _leftovers(target, scratch_dir(live)) == []
    finally:
        close_db(live)


def _big_archive(path, size: int):
    """A dashboard backup whose database member unpacks to `size` bytes (zeros compress to little)."""
    manifest = {"format": bk.FORMAT, "created_at": "2024-01-01T00:00:00", "schema_version": 1, "counts": {}}
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr(bk.MANIFEST, json.dumps(manifest))
        with zf.open(bk.DB_MEMBER, "w", force_zip64=True) as member:
            chunk = b"\0" * (1 << 20)
            for _ in range(size // len(chunk)):
                member.write(chunk)
    return path


def test_a_300_mb_member_is_not_unpacked_without_the_space(db, db_path, tmp_path, monkeypatch):
    _fill(db)
    expected = _snapshot(db)
    archive = _big_archive(tmp_path / "big.zip", 300 * 1024**2)
    assert archive.stat().st_size < 5 * 1024**2
    _fake_free(monkeypatch, 400 * 1024**2)  # less than the unpacked file plus its migration needs
    with pytest.raises(bk.BackupError, match="磁盘空间不足，无法恢复") as info:
        bk.restore(archive, db_path)
    assert info.value.kind == "space"
    assert _leftovers(scratch_dir(db_path)) == []  # nothing was unpacked
    assert _snapshot(get_db(db_path)) == expected


def test_a_member_over_the_cap_is_refused(db, db_path, tmp_path):
    archive = _big_archive(tmp_path / "big.zip", 8 * 1024**2)
    with pytest.raises(bk.BackupError, match="超过上限"):
        bk.restore(archive, db_path, max_bytes=4 * 1024**2)
    assert _leftovers(scratch_dir(db_path)) == []


def test_disk_full_while_unpacking_leaves_the_database_as_it_was(db, db_path, tmp_path, monkeypatch):
    import errno

    _fill(db)
    expected = _snapshot(db)
    good = bk.backup(db, tmp_path / "bk")

    def full(zf, member, dest):
        dest.write_bytes(b"partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(bk, "_unpack", full)
    with pytest.raises(bk.BackupError, match="磁盘空间不足") as info:
        bk.restore(good, db_path)
    assert info.value.kind == "space"
    assert _leftovers(scratch_dir(db_path)) == []
    assert _snapshot(get_db(db_path)) == expected


def test_archives_are_readable_by_the_owner_only(db, tmp_path):
    path = bk.backup(db, tmp_path / "bk")
    assert path.stat().st_mode & 0o777 == 0o600  # they hold the password hashes
