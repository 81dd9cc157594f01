"""`python -m data …` run as the operator runs it: a subprocess against a temporary database."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from data.storage.connect import close_db, get_db

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Yushan2023data"  # 14 characters, letters and digits


def run(*args, db=None, stdin: str | None = None, env: dict | None = None, cwd=ROOT):
    cmd = [sys.executable, "-m", "data", *map(str, args)]
    if db is not None:
        cmd += ["--db", str(db)]
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run(
        cmd, input=stdin if stdin is not None else "", capture_output=True, text=True, cwd=cwd, env=full_env,
        timeout=300,
    )


def assert_two_line_error(result, *, code: int):
    assert result.returncode == code, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2, result.stderr
    assert any("\u4e00" <= ch <= "\u9fff" for ch in lines[0]), "first line is Chinese"
    assert lines[1].isascii() or not any("\u4e00" <= ch <= "\u9fff" for ch in lines[1][:20]), "second is English"
    assert "Traceback" not in result.stderr


def count(db_path: Path, sql: str):
    db = get_db(db_path)
    try:
        return db.scalar(sql)
    finally:
        close_db(db_path)


# -- init ------------------------------------------------------------------------------------
def test_init_twice_exits_0_and_leaves_no_duplicates(tmp_path):
    db = tmp_path / "cli.duckdb"
    first = run("init", db=db)
    assert first.returncode == 0, first.stderr
    assert "单位：46" in first.stdout and "任务：15" in first.stdout
    second = run("init", db=db)
    assert second.returncode == 0, second.stderr
    assert second.stdout == first.stdout
    assert count(db, "SELECT count(*) FROM units") == 46
    assert count(db, "SELECT count(*) FROM tasks") == 15
    assert count(db, "SELECT count(*) FROM task_assignments") == 356


def test_init_keeps_office_edits_and_restores_missing_plan_rows(tmp_path):
    db_path = tmp_path / "edit.duckdb"
    assert run("init", db=db_path).returncode == 0
    db = get_db(db_path)
    with db.transaction() as cur:
        cur.execute("UPDATE tasks SET due_date = DATE '2024-03-31', deadline_text = '2024年3月底' WHERE task_no = 7")
        cur.execute("DELETE FROM milestones WHERE code = 'M4'")
    close_db(db_path)
    result = run("init", db=db_path)
    assert result.returncode == 0, result.stderr
    db = get_db(db_path)
    try:
        assert db.rows("SELECT due_date, deadline_text FROM tasks WHERE task_no = 7") == [
            (dt.date(2024, 3, 31), "2024年3月底")
        ]
        assert db.scalar("SELECT count(*) FROM milestones") == 4  # the deleted plan row is back
        assert db.scalar("SELECT count(*) FROM audit_log WHERE action = '初始化'") == 1
    finally:
        close_db(db_path)


def test_db_option_before_the_command_and_env_fallback(tmp_path):
    db = tmp_path / "before.duckdb"
    result = subprocess.run(
        [sys.executable, "-m", "data", "--db", str(db), "init"],
        capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr
    assert db.exists()
    env_db = tmp_path / "env-chosen.duckdb"
    result = run("init", env={"DASHBOARD_DB": str(env_db)})
    assert result.returncode == 0, result.stderr
    assert env_db.exists()
    assert str(env_db) in result.stdout


def test_every_command_prepares_a_new_database(tmp_path):
    db = tmp_path / "fresh.duckdb"
    result = run("backup", tmp_path / "bk", db=db)
    assert result.returncode == 0, result.stderr
    assert count(db, "SELECT count(*) FROM tasks") == 15


# -- usage errors ----------------------------------------------------------------------------
def test_unknown_command_exits_2_with_argparse_usage(tmp_path):
    result = run("frobnicate", db=tmp_path / "x.duckdb")
    assert result.returncode == 2
    assert "usage:" in result.stderr and "invalid choice" in result.stderr
    assert "命令或参数有误" in result.stderr  # the Chinese line before argparse's English one
    assert not (tmp_path / "x.duckdb").exists()  # nothing opened for a usage error


def test_missing_command_and_bad_role_exit_2(tmp_path):
    assert run(db=tmp_path / "x.duckdb").returncode == 2
    assert run("user", "add", "zhao", "--role", "局长", db=tmp_path / "x.duckdb").returncode == 2
    assert run("demo", "--scale", "planet", db=tmp_path / "x.duckdb").returncode == 2


# -- users -----------------------------------------------------------------------------------
def test_user_add_list_reset_disable(tmp_path):
    db = tmp_path / "u.duckdb"
    added = run("user", "add", "office1", "--role", "管理员", "--display", "办公室王某", db=db, stdin=PASSWORD + "\n")
    assert added.returncode == 0, added.stderr
    unit = run("user", "add", "police1", "--role", "单位", "--unit", "县公安局", db=db, stdin=PASSWORD + "\n")
    assert unit.returncode == 0, unit.stderr
    listed = run("user", "list", db=db)
    assert listed.returncode == 0, listed.stderr
    assert "office1" in listed.stdout and "办公室王某" in listed.stdout
    assert "police1" in listed.stdout and "县公安局" in listed.stdout
    assert PASSWORD not in listed.stdout
    stored = count(db, "SELECT password_hash FROM users WHERE username = 'office1'")
    assert stored.startswith("$2") and PASSWORD not in stored  # bcrypt

    reset = run("user", "reset", "police1", db=db, stdin="NewPassword2024\n")
    assert reset.returncode == 0, reset.stderr
    assert count(db, "SELECT password_hash FROM users WHERE username = 'police1'") != stored
    disabled = run("user", "disable", "police1", db=db)
    assert disabled.returncode == 0, disabled.stderr
    assert count(db, "SELECT disabled FROM users WHERE username = 'police1'") is True
    assert "已停用" in run("user", "list", db=db).stdout
    assert count(db, "SELECT count(*) FROM audit_log WHERE action = '用户管理'") == 4


def test_user_add_weak_password_exits_1(tmp_path):
    db = tmp_path / "u.duckdb"
    for weak in ("short1", "onlyletterslong", "12345678901234"):
        result = run("user", "add", "zhao", "--role", "领导", db=db, stdin=weak + "\n")
        assert_two_line_error(result, code=1)
    assert count(db, "SELECT count(*) FROM users") == 0


def test_user_add_unknown_unit_exits_1(tmp_path):
    db = tmp_path / "u.duckdb"
    result = run("user", "add", "qian", "--role", "单位", "--unit", "县不存在局", db=db, stdin=PASSWORD + "\n")
    assert_two_line_error(result, code=1)
    assert "县不存在局" in result.stderr
    assert count(db, "SELECT count(*) FROM users") == 0


def test_user_errors_duplicate_unknown_and_empty_password(tmp_path):
    db = tmp_path / "u.duckdb"
    assert run("user", "add", "sun", "--role", "领导", db=db, stdin=PASSWORD + "\n").returncode == 0
    assert_two_line_error(run("user", "add", "sun", "--role", "领导", db=db, stdin=PASSWORD + "\n"), code=1)
    assert_two_line_error(run("user", "disable", "nobody", db=db), code=1)
    assert_two_line_error(run("user", "reset", "nobody", db=db, stdin=PASSWORD + "\n"), code=1)
    assert_two_line_error(run("user", "add", "li", "--role", "领导", db=db, stdin=""), code=1)


def test_user_list_on_an_empty_database(tmp_path):
    result = run("user", "list", db=tmp_path / "u.duckdb")
    assert result.returncode == 0
    assert "还没有任何账号" in result.stdout


# -- backup / restore ------------------------------------------------------------------------
def test_backup_then_restore_round_trip(tmp_path):
    db = tmp_path / "b.duckdb"
    assert run("user", "add", "zhou", "--role", "领导", db=db, stdin=PASSWORD + "\n").returncode == 0
    made = run("backup", tmp_path / "bk", db=db)
    assert made.returncode == 0, made.stderr
    archives = sorted((tmp_path / "bk").glob("b-*.zip"))
    assert len(archives) == 1
    assert str(archives[0]) in made.stdout
    assert zipfile.is_zipfile(archives[0])

    assert run("user", "disable", "zhou", db=db).returncode == 0
    assert count(db, "SELECT disabled FROM users WHERE username = 'zhou'") is True

    restored = run("restore", archives[0], db=db)
    assert restored.returncode == 0, restored.stderr
    assert count(db, "SELECT disabled FROM users WHERE username = 'zhou'") is False
    assert count(db, "SELECT count(*) FROM audit_log WHERE action = '恢复'") == 1
    assert count(db, "SELECT count(*) FROM units") == 46


def test_backup_keep_option(tmp_path):
    db = tmp_path / "k.duckdb"
    for _ in range(3):
        assert run("backup", tmp_path / "bk", "--keep", "2", db=db).returncode == 0
    assert len(list((tmp_path / "bk").glob("k-*.zip"))) == 2


def test_restore_of_a_bad_file_exits_2_and_keeps_the_database(tmp_path):
    db = tmp_path / "r.duckdb"
    assert run("init", db=db).returncode == 0
    junk = tmp_path / "junk.zip"
    junk.write_text("not a backup")
    assert_two_line_error(run("restore", junk, db=db), code=2)
    assert_two_line_error(run("restore", tmp_path / "missing.zip", db=db), code=2)
    assert count(db, "SELECT count(*) FROM units") == 46


def test_debug_shows_the_traceback(tmp_path):
    result = run("restore", tmp_path / "missing.zip", "--debug", db=tmp_path / "r.duckdb")
    assert result.returncode == 2
    assert "Traceback" in result.stderr
    assert "找不到备份文件" in result.stderr


# -- a database held by another process ------------------------------------------------------
@pytest.fixture
def held_database(tmp_path):
    """Another process (standing in for the running dashboard) holds the file read-write."""
    db = tmp_path / "held.duckdb"
    assert run("init", db=db).returncode == 0
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('ready', flush=True); "
         "sys.stdin.read()", str(db)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        yield db
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)


def test_locked_database_exits_3_with_a_clear_message(held_database, tmp_path):
    for args in (("init",), ("user", "list"), ("backup", tmp_path / "bk")):
        result = run(*args, db=held_database)
        assert_two_line_error(result, code=3)
        chinese, english = result.stderr.strip().splitlines()
        assert "占用" in chinese and "停止看板" in chinese
        assert "locked by another process" in english


def test_restore_refuses_a_locked_database(held_database, tmp_path):
    # a backup of a different database, to be restored over the held one
    other = tmp_path / "other.duckdb"
    assert run("backup", tmp_path / "bk", db=other).returncode == 0
    archive = next((tmp_path / "bk").glob("other-*.zip"))
    before = held_database.stat().st_mtime_ns
    result = run("restore", archive, db=held_database)
    assert_two_line_error(result, code=3)
    time.sleep(0.01)
    assert held_database.stat().st_mtime_ns == before
    assert not list(tmp_path.glob(".held.duckdb.restore-*"))


def test_template_needs_no_database_lock(held_database, tmp_path):
    out = tmp_path / "模板.xlsx"
    result = run("template", out, db=held_database)
    assert result.returncode == 0, result.stderr
    assert out.exists()


# -- template, import and demo commands ------------------------------------------------------
def test_template_writes_the_workbook(tmp_path):
    import openpyxl
    out = tmp_path / "模板.xlsx"
    result = run("template", out, db=tmp_path / "t.duckdb")
    assert result.returncode == 0, result.stderr
    # import-format.md: the 11 entity sheets, the 2 of the supervision loop, plus the 说明 sheet
    sheets = openpyxl.load_workbook(out).sheetnames
    assert set(sheets) - {"说明"} == {
        "单位", "责任人", "数据目录", "需求清单", "共享申请", "任务进展", "信息系统", "业务专网", "安全措施", "质量检查", "外网覆盖",
        "约谈记录", "整改承诺",
    }


def test_import_of_an_unreadable_file_exits_2(tmp_path):
    bad = tmp_path / "坏文件.xlsx"
    bad.write_bytes(b"this is not a workbook")
    db = tmp_path / "i.duckdb"
    result = run("import", bad, db=db)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert count(db, "SELECT count(*) FROM import_log") == 0


def test_demo_prints_counts_and_is_audited(tmp_path):
    db = tmp_path / "d.duckdb"
    result = run("demo", "--scale", "county", "--seed", "7", db=db)
    assert result.returncode == 0, result.stderr
    assert "演示数据已生成" in result.stdout and "共享申请" in result.stdout
    assert count(db, "SELECT count(*) FROM share_requests") > 0
    assert count(db, "SELECT count(*) FROM audit_log WHERE action = '演示数据'") == 1

    cleared = run("demo", "--clear", db=db)
    assert cleared.returncode == 0, cleared.stderr
    assert "演示数据已删除" in cleared.stdout
    assert count(db, "SELECT count(*) FROM share_requests") == 0
    assert count(db, "SELECT count(*) FROM tasks") == 15  # the plan stays
    assert count(db, "SELECT count(*) FROM meta WHERE key = 'demo'") == 0


# -- the password on a terminal --------------------------------------------------------------
def _run_on_terminal(args, answers: list[bytes], timeout: float = 60.0) -> tuple[str, int]:
    """Run the CLI with a pseudo-terminal as its controlling terminal; type `answers` at the
    prompts. Returns everything the terminal showed and the exit code."""
    import pty
    import select

    pid, fd = pty.fork()
    if pid == 0:  # the child: becomes the CLI
        os.environ["PYTHONPATH"] = str(ROOT)
        os.chdir(ROOT)
        os.execv(sys.executable, [sys.executable, "-m", "data", *map(str, args)])
    shown = b""
    deadline = time.time() + timeout
    pending = list(answers)
    prompts_seen = 0
    while time.time() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 1024)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
        if pending and shown.count(b"assword: ") > prompts_seen:  # Password: / Repeat password:
            prompts_seen += 1
            os.write(fd, pending.pop(0))
    else:
        os.kill(pid, 9)  # stuck at a prompt: fail the test instead of hanging
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return shown.decode("utf-8", errors="replace"), os.waitstatus_to_exitcode(status)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pseudo-terminal test needs Linux")
def test_password_typed_on_a_terminal_is_asked_twice_and_not_echoed(tmp_path):
    db = tmp_path / "tty.duckdb"
    shown, code = _run_on_terminal(
        ["user", "add", "ttyuser", "--role", "领导", "--db", db], [b"Terminal2024pw\n", b"Terminal2024pw\n"]
    )
    assert code == 0, shown
    assert "密码 / Password:" in shown and "再次输入密码 / Repeat password:" in shown
    assert "Terminal2024pw" not in shown  # no echo
    assert "账号 ttyuser（领导）已创建" in shown

    shown, code = _run_on_terminal(
        ["user", "add", "ttyuser2", "--role", "领导", "--db", db], [b"Terminal2024pw\n", b"Terminal2024px\n"]
    )
    assert code == 1, shown
    assert "两次输入的密码不一致" in shown
    assert count(db, "SELECT count(*) FROM users") == 1


# -- a database held by a dashboard that has taken backups -------------------------------------
_DASHBOARD_LIKE = """
import sys
from data.storage import backup
from data.storage.connect import get_db
db = get_db(sys.argv[1])
backup.backup(db, sys.argv[2])  # what every page import does first
backup.backup(db, sys.argv[2])
with open(sys.argv[1], "rb") as handle:  # any handle closed by path drops DuckDB's own lock
    handle.read(16)
print("ready", flush=True)
sys.stdin.read()
db.close()
"""


@pytest.fixture
def dashboard_after_backups(tmp_path):
    """A process standing in for the dashboard: it holds the database and has taken backups (and
    even closed a handle of the file, which drops DuckDB's POSIX lock in that process)."""
    db = tmp_path / "dash.duckdb"
    assert run("user", "add", "zhou", "--role", "领导", db=db, stdin=PASSWORD + "\n").returncode == 0
    holder = subprocess.Popen(
        [sys.executable, "-c", _DASHBOARD_LIKE, str(db), str(tmp_path / "dash-bk")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        yield db
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)


def test_every_writing_command_exits_3_while_the_dashboard_holds_the_database(dashboard_after_backups, tmp_path):
    from openpyxl import Workbook

    db = dashboard_after_backups
    book = tmp_path / "数据目录.xlsx"
    wb = Workbook()
    ws = wb.active
    ws.title = "数据目录"
    ws.append(["目录编码", "资源名称", "提供单位", "资源格式", "共享类型", "更新周期", "发布日期", "最近更新日期", "挂接日期"])
    ws.append(["LOCK-1", "锁测试资源", "县公安局", "库表", "无条件共享", "每月",
               dt.date(2024, 1, 15), dt.date(2024, 2, 14), dt.date(2024, 1, 15)])
    wb.save(book)
    archive = next((tmp_path / "dash-bk").glob("dash-*.zip"))
    commands = [
        ("import", book), ("restore", archive), ("init",), ("backup", tmp_path / "cli-bk"),
        ("user", "list"), ("user", "disable", "zhou"), ("demo",),
    ]
    for args in commands:
        result = run(*args, db=db)
        assert_two_line_error(result, code=3)
        chinese, english = result.stderr.strip().splitlines()
        assert "占用" in chinese and "停止看板" in chinese, (args, chinese)
        assert "locked by another process" in english
    for args in (("user", "add", "li", "--role", "领导"), ("user", "reset", "zhou")):
        assert_two_line_error(run(*args, db=db, stdin=PASSWORD + "\n"), code=3)
    assert not (tmp_path / "cli-bk").exists() or not list((tmp_path / "cli-bk").glob("*.zip"))


def test_nothing_was_written_by_the_refused_commands(dashboard_after_backups, tmp_path):
    db = dashboard_after_backups
    archive = next((tmp_path / "dash-bk").glob("dash-*.zip"))
    before = (db.stat().st_ino, db.stat().st_size)
    assert run("restore", archive, db=db).returncode == 3
    assert run("user", "disable", "zhou", db=db).returncode == 3
    assert (db.stat().st_ino, db.stat().st_size) == before  # not replaced
    assert not list(tmp_path.glob(".dash.duckdb.tmp/*"))


def test_a_duckdb_lock_conflict_met_after_opening_exits_3(monkeypatch, capsys, tmp_path):
    """However DuckDB reports another process's lock (at a commit, say), the answer is exit 3."""
    import duckdb

    from data import cli

    def commit_refused(args):
        raise duckdb.IOException('IO Error: Could not set lock on file "x.duckdb.wal": Conflicting lock is held')

    monkeypatch.setitem(cli.COMMANDS, "init", commit_refused)
    assert cli.main(["init", "--db", str(tmp_path / "x.duckdb")]) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "占用" in err[0] and "locked by another process" in err[1]


def test_backup_on_a_full_disk_exits_1_with_two_lines_and_leaves_nothing(monkeypatch, capsys, tmp_path):
    import shutil
    from collections import namedtuple

    from data import cli

    db = tmp_path / "full.duckdb"
    get_db(db)
    close_db(db)
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**12, 10**12 - 1024, 1024))
    try:
        assert cli.main(["backup", str(tmp_path / "bk"), "--db", str(db)]) == 1
    finally:
        close_db(db)
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "磁盘空间不足" in err[0] and "Not enough disk space" in err[1], err
    assert not list((tmp_path / "bk").glob("*"))


def test_metrics_commands_exit_3_while_the_database_is_held(held_database, tmp_path):
    """The `python -m metrics` commands name the lock like `python -m data` does: exit 3, two lines."""
    root = Path(__file__).resolve().parents[2]
    for args in (("scorecard", "--as-of", "2024-06-30"), ("publish", "--month", "2024-06"),
                 ("packet", "--month", "2024-06", "--out", str(tmp_path / "packet"))):
        result = subprocess.run([sys.executable, "-m", "metrics", *args, "--db", str(held_database)],
                                cwd=root, capture_output=True, text=True, timeout=120)
        assert result.returncode == 3, result.stderr
        chinese, english = result.stderr.strip().splitlines()
        assert "占用" in chinese and "停止看板" in chinese
        assert "locked by another process" in english
