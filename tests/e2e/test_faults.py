"""Faults: an import killed halfway, broken uploads, and a backup that must restore exactly.

The outcomes are printed with a `[e2e-faults]` prefix (run with -s to see them); docs/e2e.md
records the last measured ones.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from e2e_harness import PYTHON, REPO, cli, cli_ok, copy_db, db_values
from e2e_workbooks import catalog_workbook, requests_workbook

pytestmark = [pytest.mark.e2e]

KILL_ROWS = 5_000  # about 4 s to import on a 2-core machine: room for kills inside each phase
AS_OF = "2024-06-30"


def _count_prefix(db: Path, prefix: str) -> int:
    return db_values(db, f"SELECT count(*) FROM share_requests WHERE code LIKE '{prefix}-%'")[0]


def test_cli_import_killed_midway_is_all_or_nothing(county_template, tmp_path):
    """SIGKILL `python -m data import` at several moments: the rows are all there or none is."""
    book = requests_workbook(tmp_path / "共享申请-大批量.xlsx", KILL_ROWS, prefix="KILL")

    # A full run first: how long an import of this size takes, and that it lands whole.
    full = copy_db(county_template, tmp_path / "full.duckdb")
    started = time.monotonic()
    cli_ok("data", "import", str(book), "--db", str(full), db=full, timeout=600)
    duration = time.monotonic() - started
    assert _count_prefix(full, "KILL") == KILL_ROWS

    outcomes = []
    # Fractions of the full run (validation is most of it); "wal": the moment the write-ahead log
    # appears, i.e. while the commit of the one write transaction is being written; "printed": just
    # after the command reported success, before it could exit (and checkpoint) cleanly.
    for when in (0.3, 0.6, "wal", 0.97, "printed"):
        db = copy_db(county_template, tmp_path / f"kill-{when}.duckdb")
        wal = db.with_name(db.name + ".wal")
        before = db_values(db, "SELECT count(*) FROM share_requests")[0]
        proc = subprocess.Popen(
            [PYTHON, "-m", "data", "import", str(book), "--db", str(db)],
            cwd=REPO, env={**os.environ, "DASHBOARD_DB": str(db)},
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        if when == "printed":
            proc.stdout.readline()  # the first line of the success report
        elif when == "wal":
            deadline = time.monotonic() + duration * 3
            while not wal.exists() and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.002)
        else:
            time.sleep(duration * when)
        killed = proc.poll() is None
        if killed:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stdout.close()
        after_rows = db_values(db, "SELECT count(*) FROM share_requests")[0]
        imported = _count_prefix(db, "KILL")
        assert imported in (0, KILL_ROWS), f"kill at {when} left {imported} of {KILL_ROWS} rows"
        assert after_rows == before + imported
        # The file still opens and the engine computes a scorecard from it.
        cli_ok("metrics", "scorecard", "--as-of", AS_OF, "--db", str(db), db=db)
        outcomes.append((when, killed, "after" if imported else "before"))
    print(f"\n[e2e-faults] CLI import of {KILL_ROWS} rows takes {duration:.1f} s; "
          "SIGKILL at -> (killed?, data state): " + ", ".join(f"{w}->({k}, {s})" for w, k, s in outcomes))


def test_backup_restores_an_identical_scorecard(fresh_county_db, tmp_path):
    """backup, change the data, restore: the scorecard is byte for byte the one before."""
    db = fresh_county_db
    before = cli_ok("metrics", "scorecard", "--as-of", AS_OF, "--db", str(db), db=db)
    backups = tmp_path / "backups"
    cli_ok("data", "backup", str(backups), "--db", str(db), db=db)
    archives = sorted(backups.glob("*.zip"))
    assert archives, f"no backup archive in {backups}"

    book = catalog_workbook(tmp_path / "数据目录.xlsx", 40, "县公安局", prefix="BKUP")
    cli_ok("data", "import", str(book), "--db", str(db), db=db)
    changed = cli_ok("metrics", "scorecard", "--as-of", AS_OF, "--db", str(db), db=db)
    assert changed != before, "the import did not change the scorecard: the test would prove nothing"

    cli_ok("data", "restore", str(archives[-1]), "--db", str(db), db=db)
    restored = cli_ok("metrics", "scorecard", "--as-of", AS_OF, "--db", str(db), db=db)
    assert restored == before
    assert db_values(db, "SELECT count(*) FROM catalog_items WHERE code LIKE 'BKUP-%'") == [0]


# "huge": one formatted cell at XFD1048576 makes a sheet claim a million rows by 16,384 columns.
# Until commit ea2eb66 the importer padded rows to that range (MemoryError); it must not again.
BROKEN = ["truncated", "renamed_binary", "empty", "huge"]
MESSAGES = {"truncated": "损坏", "renamed_binary": "不是有效的 Excel", "empty": "为空", "huge": ""}


def _broken(kind: str, folder: Path) -> Path:
    import e2e_workbooks as wbs

    make = {"truncated": wbs.truncated_xlsx, "renamed_binary": wbs.renamed_binary, "empty": wbs.empty_file,
            "huge": wbs.huge_sheet}[kind]
    return make(folder / f"{kind}.xlsx")


@pytest.mark.parametrize("kind", BROKEN)
def test_cli_refuses_broken_file(kind, fresh_county_db, tmp_path):
    """The command line says in Chinese what is wrong, exits 2, and writes nothing; the huge sheet
    (valid rows in a sheet claiming the whole grid) is read like any other and lands whole. Run
    under a 3 GB memory cap so a runaway reader cannot hurt the shared machine."""
    path = _broken(kind, tmp_path)
    db = fresh_county_db
    before = cli_ok("metrics", "scorecard", "--as-of", AS_OF, "--db", str(db), db=db)
    proc = cli("data", "import", str(path), "--db", str(db), db=db, memory_mb=3000, timeout=300)
    assert "Traceback" not in proc.stderr
    assert "MemoryError" not in proc.stderr + proc.stdout, proc.stderr
    if kind == "huge":
        assert proc.returncode == 0, proc.stderr
        assert "30000" in proc.stdout.replace(",", ""), proc.stdout
        assert db_values(db, "SELECT count(*) FROM catalog_items WHERE code LIKE 'HUGE-%'") == [30_000]
        return
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert MESSAGES[kind] in proc.stderr + proc.stdout, proc.stderr
    assert any("\u4e00" <= ch <= "\u9fff" for ch in proc.stderr), proc.stderr
    assert cli_ok("metrics", "scorecard", "--as-of", AS_OF, "--db", str(db), db=db) == before


# -- through the browser ---------------------------------------------------------------------------
PAGE_KILL_ROWS = 3_000


@pytest.mark.parametrize("when", ["wal", "after-click"])
def test_server_killed_during_a_page_import_is_all_or_nothing(when, page, server_factory, fresh_county_db, tmp_path):
    """Upload, confirm, SIGKILL the server (at the commit, or a moment after the click), restart it:
    the rows are all there or none is, and the dashboard works again."""
    from e2e_browser import assert_no_exception, goto_nav, login, main_text, upload_file
    from e2e_harness import ADMIN

    db = fresh_county_db
    wal = db.with_name(db.name + ".wal")
    book = requests_workbook(tmp_path / "共享申请.xlsx", PAGE_KILL_ROWS, prefix="PKILL")
    before = db_values(db, "SELECT count(*) FROM share_requests")[0]
    server = server_factory(db, f"page-kill-{when}")
    login(page, server.url, ADMIN)
    goto_nav(page, "数据导入")
    upload_file(page, book)
    assert "检查通过" in main_text(page)
    wal_before = wal.stat().st_size if wal.exists() else -1
    page.get_by_role("button", name="确认导入").click()
    if when == "wal":
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            size = wal.stat().st_size if wal.exists() else -1
            if size != wal_before and size > 0:
                break
            time.sleep(0.002)
    else:
        time.sleep(1.0)
    server.kill()

    imported = _count_prefix(db, "PKILL")
    total = db_values(db, "SELECT count(*) FROM share_requests")[0]
    assert imported in (0, PAGE_KILL_ROWS), f"kill ({when}) left {imported} of {PAGE_KILL_ROWS} rows"
    assert total == before + imported
    print(f"\n[e2e-faults] page import of {PAGE_KILL_ROWS} rows, SIGKILL at {when}: "
          f"{'after' if imported else 'before'}")

    server.start()
    page.context.clear_cookies()
    login(page, server.url, ADMIN)
    goto_nav(page, "总览")
    assert_no_exception(page, "after restart")


@pytest.fixture(scope="module")
def capped_server(county_template, e2e_dir, server_factory):
    """A server under a 4 GB address-space cap, for uploads that might make a reader run away."""
    db = copy_db(county_template, e2e_dir / "broken-uploads.duckdb")
    return server_factory(db, "broken-uploads", memory_mb=4000)


@pytest.mark.parametrize("kind", BROKEN)
def test_broken_upload_gets_a_clear_message_and_the_server_stays_up(kind, page, capped_server, tmp_path):
    from e2e_browser import assert_no_exception, goto_nav, login, main_text, screenshot, upload_file
    from e2e_harness import ADMIN

    path = _broken(kind, tmp_path)
    login(page, capped_server.url, ADMIN)
    goto_nav(page, "数据导入")
    started = time.monotonic()
    upload_file(page, path)
    seconds = time.monotonic() - started
    text = main_text(page)
    screenshot(page, f"fault_{kind}")
    alerts = " ".join(page.locator('[data-testid="stAlert"]').all_inner_texts())
    print(f"\n[e2e-faults] {kind} upload answered in {seconds:.1f} s: {alerts[-160:]!r}")
    assert capped_server.alive() and capped_server.healthy(), "the server died"
    assert_no_exception(page, f"upload of a {kind} file")
    if kind == "huge":
        # Read and checked like any workbook (30,000 valid rows): never a hang or a crash.
        assert "检查通过" in alerts, text[:600]
    else:
        assert "无法读取" in alerts and MESSAGES[kind] in alerts, alerts
        assert "确认导入" not in text
    # The server still serves other pages.
    goto_nav(page, "总览")
    assert_no_exception(page, "总览 after a broken upload")


# -- one writer, always ------------------------------------------------------------------------------
def _posix_locks_of(pid: int, path: Path) -> list[str]:
    """The kinds of lock ("POSIX", "FLOCK") process `pid` holds on `path`, from /proc/locks."""
    st = path.stat()
    inode = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    kinds = []
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        if len(fields) >= 6 and fields[4] == str(pid) and fields[5] == inode:
            kinds.append(fields[1])
    return kinds


def test_dashboard_backups_keep_the_command_line_out(page, server_factory, fresh_county_db, tmp_path):
    """Two page imports (each takes a backup first) while the server runs; then `python -m data
    import` and `restore` against the same file exit 3 with the Chinese explanation, the server's
    process still holds DuckDB's lock and the lock file, and after a restart nothing is lost: both
    page imports with their import_log and audit rows, none of the command line's rows."""
    from e2e_browser import assert_no_exception, goto_nav, login, main_text, rerun_and_wait, upload_file
    from e2e_harness import ADMIN

    db = fresh_county_db
    backups = db.parent / "backups"
    queries = (
        "SELECT count(*) FROM catalog_items WHERE code LIKE 'ONEW-A-%'",
        "SELECT count(*) FROM catalog_items WHERE code LIKE 'ONEW-B-%'",
        "SELECT count(*) FROM catalog_items WHERE code LIKE 'ONEW-CLI-%'",
        "SELECT count(*) FROM import_log",
        "SELECT count(*) FROM audit_log WHERE action = '导入'",
        "SELECT count(*) FROM audit_log WHERE action = '备份'",
        "SELECT count(*) FROM audit_log WHERE action = '恢复'",
        "SELECT count(*) FROM users WHERE disabled",
    )
    before = db_values(db, *queries)
    server = server_factory(db, "one-writer")
    login(page, server.url, ADMIN)
    for i, prefix in enumerate(("ONEW-A", "ONEW-B")):
        goto_nav(page, "数据导入")
        upload_file(page, catalog_workbook(tmp_path / f"数据目录{i}.xlsx", 7, "县公安局", prefix=prefix))
        assert "检查通过" in main_text(page)
        rerun_and_wait(page, lambda: page.get_by_role("button", name="确认导入").click(), timeout=120)
        deadline = time.monotonic() + 120  # the run may still be going when the page first looks idle
        while "导入完成" not in main_text(page) and time.monotonic() < deadline:
            page.wait_for_timeout(300)
        assert "导入完成" in main_text(page), main_text(page)[:600]
        assert_no_exception(page, f"page import {prefix}")
    assert len(list(backups.glob("county-*.zip"))) == 2, "each page import takes a backup"

    pid = server.proc.pid
    assert "POSIX" in _posix_locks_of(pid, db), "a backup dropped DuckDB's lock in the server process"
    assert "FLOCK" in _posix_locks_of(pid, db.with_name(db.name + ".lock"))

    cli_book = catalog_workbook(tmp_path / "命令行目录.xlsx", 2, "县公安局", prefix="ONEW-CLI")
    for args in (("import", str(cli_book)), ("restore", str(sorted(backups.glob("county-*.zip"))[0])),
                 ("user", "disable", ADMIN.username)):
        proc = cli("data", *args, "--db", str(db), db=db)
        assert proc.returncode == 3, (args, proc.returncode, proc.stdout, proc.stderr)
        assert "占用" in proc.stderr and "locked by another process" in proc.stderr
        assert "Traceback" not in proc.stderr
    assert "POSIX" in _posix_locks_of(pid, db)

    # The server goes on working, then stops; what it wrote is all on disk.
    goto_nav(page, "总览")
    assert_no_exception(page, "总览 after the refused commands")
    server.stop()
    after = db_values(db, *queries)
    added = [a - b for a, b in zip(after, before, strict=True)]
    assert added == [7, 7, 0, 2, 2, 2, 0, 0], (before, after)
    server.start()
    page.context.clear_cookies()
    login(page, server.url, ADMIN)
    goto_nav(page, "总览")
    assert_no_exception(page, "after restart")
