"""The versioned schema: every table exists, the version is the latest, migrations are idempotent."""

from __future__ import annotations

import datetime as dt
import re

from data.storage import backup as bk
from data.storage import schema
from data.storage.connect import close_db, get_db
from data.storage.schema import LATEST_VERSION, MIGRATIONS, current_version, migrate

# Written out by hand (not derived from MIGRATIONS), so a migration or a table dropped from the
# schema fails here: the tables each migration creates, per the docs that introduced them
# (interfaces.md, import.md migration 3, security.md, kpi-decisions.md migration 5, supervision.md
# migration 8), and schema_version, which migrate() creates before any migration.
TABLES_BY_MIGRATION = {
    1: {"units", "unit_aliases", "contacts", "catalog_items", "demands", "share_requests", "tasks",
        "assignment_groups", "task_assignments", "progress_reports", "milestones", "systems", "networks",
        "security_assessments", "quality_checks", "village_coverage", "settings", "sla_rules",
        "calendar_days", "users", "audit_log", "import_log", "published_months", "published_scores", "meta"},
    2: {"catalog_updates"},
    3: {"import_batches"},
    4: {"login_throttle"},
    5: {"milestone_criteria"},
    6: {"bulletin_drafts", "published_bulletins", "published_frames"},
    7: set(),  # columns of progress_reports only
    8: {"interviews", "commitments", "extension_requests"},
}
EXPECTED_VERSIONS = [1, 2, 3, 4, 5, 6, 7, 8]
EXPECTED_TABLES = {
    "units", "unit_aliases", "contacts", "catalog_items", "demands", "share_requests", "tasks",
    "assignment_groups", "task_assignments", "progress_reports", "milestones", "systems", "networks",
    "security_assessments", "quality_checks", "village_coverage", "settings", "sla_rules",
    "calendar_days", "users", "audit_log", "import_log", "published_months", "published_scores",
    "meta", "schema_version", "catalog_updates", "bulletin_drafts", "published_bulletins", "published_frames",
    "import_batches", "login_throttle", "milestone_criteria", "interviews", "commitments", "extension_requests",
}


def _tables(db) -> set[str]:
    return {r[0] for r in db.rows("SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'")}


def test_every_table_exists(db):
    assert EXPECTED_TABLES <= _tables(db)
    assert _tables(db) == EXPECTED_TABLES  # a new table is written into the lists above too


def test_each_migration_creates_the_tables_written_out_for_it(db):
    assert set().union(*TABLES_BY_MIGRATION.values()) | {"schema_version"} == EXPECTED_TABLES
    created = {
        n: {m.group(1) for s in statements if (m := re.match(r"\s*CREATE TABLE (\w+)", s))}
        for n, _d, statements in MIGRATIONS
    }
    assert created == TABLES_BY_MIGRATION
    assert set().union(*created.values()) <= _tables(db)


def test_schema_version_is_latest(db):
    assert LATEST_VERSION == EXPECTED_VERSIONS[-1]
    assert current_version(db) == LATEST_VERSION
    assert db.scalar("SELECT max(version) FROM schema_version") == LATEST_VERSION
    versions = [r[0] for r in db.rows("SELECT version FROM schema_version ORDER BY version")]
    assert versions == [n for n, _d, _s in MIGRATIONS]
    assert versions == EXPECTED_VERSIONS


def test_migrate_twice_is_a_no_op(db):
    rows_before = db.rows("SELECT version, description, applied_at FROM schema_version ORDER BY version")
    units_before = db.scalar("SELECT count(*) FROM units")
    version_before = db.version
    assert migrate(db) == LATEST_VERSION
    assert migrate(db) == LATEST_VERSION
    assert db.rows("SELECT version, description, applied_at FROM schema_version ORDER BY version") == rows_before
    assert db.scalar("SELECT count(*) FROM units") == units_before
    assert db.version == version_before  # nothing was written


def test_reopening_a_prepared_file_changes_nothing(db_path):
    db = get_db(db_path)
    counts = {t: db.scalar(f"SELECT count(*) FROM {t}") for t in ("units", "tasks", "task_assignments", "calendar_days")}
    close_db(db_path)
    db = get_db(db_path)
    try:
        assert {t: db.scalar(f"SELECT count(*) FROM {t}") for t in counts} == counts
        assert current_version(db) == LATEST_VERSION
    finally:
        close_db(db_path)


def test_unprepared_file_has_version_zero(db_path):
    db = get_db(db_path, prepare=False)
    try:
        assert current_version(db) == 0
        assert migrate(db) == LATEST_VERSION
        assert current_version(db) == LATEST_VERSION
        assert db.scalar("SELECT count(*) FROM tasks") == 0  # migrate alone loads no plan
    finally:
        close_db(db_path)


def test_failed_write_rolls_back(db):
    before = db.scalar("SELECT count(*) FROM units")
    version = db.version
    try:
        with db.transaction() as cur:
            cur.execute("INSERT INTO units (unit_id, name, kind) VALUES (9999, '测试单位', '县直部门')")
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert db.scalar("SELECT count(*) FROM units") == before
    assert db.version == version
    # the connection is usable afterwards
    with db.transaction() as cur:
        cur.execute("INSERT INTO units (unit_id, name, kind) VALUES (9999, '测试单位', '县直部门')")
    assert db.scalar("SELECT count(*) FROM units") == before + 1
    assert db.version != version


def _version_1_database(path, monkeypatch):
    """A database as the release before migration 2 left it, with two catalog items."""
    with monkeypatch.context() as m:
        m.setattr(schema, "MIGRATIONS", MIGRATIONS[:1])
        m.setattr(schema, "LATEST_VERSION", 1)
        db = get_db(path)
    assert current_version(db) == 1
    assert "catalog_updates" not in _tables(db)
    with db.transaction() as cur:
        cur.execute(
            "INSERT INTO catalog_items (code, name, unit_id, format, share_type, update_cycle, published_on, "
            "last_updated_on) VALUES ('C1', '户籍人口', 2, '库表', '无条件共享', '每月', DATE '2023-08-01', "
            "DATE '2023-09-15'), ('C2', '婚姻登记', 2, '库表', '无条件共享', '每月', DATE '2023-08-01', NULL)")
    return db


def test_migration_2_back_fills_an_existing_database(tmp_path, monkeypatch):
    path = tmp_path / "old.duckdb"
    db = _version_1_database(path, monkeypatch)
    try:
        assert migrate(db) == LATEST_VERSION
        # C1's latest update becomes its history; C2, never updated, has none
        assert db.rows("SELECT code, updated_on FROM catalog_updates") == [("C1", dt.date(2023, 9, 15))]
        assert db.rows("SELECT last_updated_on FROM catalog_items WHERE code = 'C1'") == [(dt.date(2023, 9, 15),)]
        assert [r[0] for r in db.rows("SELECT version FROM schema_version ORDER BY version")] == [
            n for n, _d, _s in MIGRATIONS]
        assert [r[0] for r in db.rows("SELECT version FROM schema_version ORDER BY version")] == EXPECTED_VERSIONS
    finally:
        close_db(path)


def test_restoring_a_version_1_backup_brings_it_to_the_current_schema(tmp_path, monkeypatch):
    old = tmp_path / "old.duckdb"
    db = _version_1_database(old, monkeypatch)
    try:
        archive = bk.backup(db, tmp_path / "bk")
    finally:
        close_db(old)
    live = tmp_path / "live.duckdb"
    get_db(live)
    bk.restore(archive, live)
    restored = get_db(live)
    try:
        assert current_version(restored) == LATEST_VERSION
        assert restored.rows("SELECT code, updated_on FROM catalog_updates") == [("C1", dt.date(2023, 9, 15))]
    finally:
        close_db(live)


def test_an_existing_database_gets_the_default_milestone_criteria(tmp_path, monkeypatch):
    from data.storage.schema import prepare_database
    from metrics.milestones import DEFAULT_CRITERIA

    path = tmp_path / "old.duckdb"
    db = _version_1_database(path, monkeypatch)
    try:
        assert "milestone_criteria" not in _tables(db)
        prepare_database(db)
        assert db.scalar("SELECT count(*) FROM milestone_criteria") == len(DEFAULT_CRITERIA)
        assert db.rows("SELECT op, threshold, unit_kinds FROM milestone_criteria "
                       "WHERE milestone = 'M3' AND criterion = 'reply_ontime_rate'") == [
            (">=", 0.9, ["县直部门", "乡镇（街道）", "公共服务企业", "其他"])]
    finally:
        close_db(path)


def test_migration_7_adds_the_return_state_to_existing_reports(tmp_path, monkeypatch):
    path = tmp_path / "old.duckdb"
    db = _version_1_database(path, monkeypatch)
    try:
        with db.transaction() as cur:
            cur.execute("INSERT INTO progress_reports (task_no, unit_id, reported_on, status) "
                        "VALUES (2, 3, DATE '2023-06-20', '推进中')")
        migrate(db)
        assert db.rows("SELECT returned, returned_reason, resubmitted_at FROM progress_reports") == [
            (False, None, None)]
    finally:
        close_db(path)
