"""No tracebacks: a damaged database, a full disk or an unexpected error gives a Chinese page that
says what to do, to anonymous visitors and logged-in users alike."""

from __future__ import annotations

import tomllib
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from data.services import users
from data.storage.connect import close_db, get_db
from data.storage.scope import SYSTEM
from ui import auth, navigation

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "abcdefgh12"
SUBMIT = f"FormSubmitter:{auth.LOGIN_FORM_KEY}-登录"


def field(at: AppTest, label: str):
    """The login form's text box labelled `label` (the form's boxes carry no key)."""
    (box,) = [t for t in at.text_input if t.label == label]
    return box


def new_app() -> AppTest:
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)


def everything(at: AppTest) -> str:
    parts = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning", "error", "success", "code"):
        parts.extend(str(e.value) for e in getattr(at, kind))
    return "\n".join(parts)


def assert_no_traceback(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    text = everything(at)
    assert "Traceback" not in text and "Error:" not in text and ".py" not in text, text


@pytest.fixture
def db_file(tmp_path, monkeypatch):
    path = tmp_path / "dashboard.duckdb"
    monkeypatch.setenv("DASHBOARD_DB", str(path))
    yield path
    close_db(path)


def test_error_details_are_off_in_the_config():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["client"]["showErrorDetails"] == "none"


@pytest.mark.parametrize("damage", ["garbage", "truncated_header", "zeroed_blocks"])
def test_a_damaged_database_gives_the_restore_command(damage, db_file, monkeypatch):
    from data.storage import backup as bk

    db = get_db(db_file)
    archive = bk.backup(db)  # an archive in backups/ beside the database
    close_db(db_file)
    data = db_file.read_bytes()
    damaged = {
        "garbage": b"this is not a database" * 100,
        "truncated_header": data[:4096],
        "zeroed_blocks": data[:12288] + b"\0" * (len(data) - 12288),
    }[damage]
    db_file.write_bytes(damaged)
    monkeypatch.chdir(db_file.parent)  # the operator's working directory: paths are shown relative to it

    at = new_app().run()  # an anonymous visitor: the login page would come next
    assert_no_traceback(at)
    assert at.title[0].value == "看板暂时无法使用"
    assert "已损坏" in at.error[0].value
    assert [c.value for c in at.code] == [f"bash scripts/cli data restore backups/{archive.name} --db dashboard.duckdb"]
    assert not at.text_input  # no login form over a broken database


@pytest.mark.parametrize("where", ["write", "backup before an import"])
def test_a_full_disk_says_to_free_space(where, db_file, monkeypatch):
    from data.storage.backup import BackupError

    get_db(db_file)

    def disk_full(db):
        if where == "write":
            raise duckdb.IOException('IO Error: Could not write file "dashboard.duckdb.wal": No space left on device')
        raise BackupError("磁盘空间不足，无法备份。", "Not enough disk space to back up.", kind="space")

    monkeypatch.setattr(auth, "login_gate", disk_full)
    at = new_app().run()
    assert_no_traceback(at)
    assert "磁盘空间已满" in at.error[0].value
    assert "清理服务器磁盘空间" in everything(at)


def test_a_database_invalidated_after_a_failed_write_on_a_nearly_full_disk(db_file, monkeypatch):
    import shutil
    from collections import namedtuple

    get_db(db_file)

    def invalidated(db):
        raise duckdb.FatalException("FATAL Error: database has been invalidated because of a previous fatal error")

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(auth, "login_gate", invalidated)
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**9, 10**9 - 1024, 1024))
    at = new_app().run()
    assert_no_traceback(at)
    assert "磁盘空间已满" in at.error[0].value


def test_an_unexpected_error_is_a_chinese_message_with_a_reference(db_file, monkeypatch):
    get_db(db_file)
    users.add_user(SYSTEM, "admin", PASSWORD, "管理员", db=get_db(db_file))
    monkeypatch.setattr(users, "BCRYPT_ROUNDS", 4)

    def boom(role):
        raise RuntimeError("secret detail /srv/dashboard/data/services/views.py line 12 SELECT * FROM users")

    monkeypatch.setattr(navigation, "navigation_pages", boom)
    at = new_app().run()
    field(at, "用户名").input("admin")
    field(at, "密码").input(PASSWORD)
    at = at.button(key=SUBMIT).click().run()
    assert_no_traceback(at)
    message = at.error[0].value
    assert "页面出现意外错误" in message and "错误编号" in message
    assert "secret" not in everything(at) and "SELECT" not in everything(at)


def test_an_error_in_a_button_callback_is_a_chinese_message_too(db_file, monkeypatch):
    """Callbacks run before app.py (outside its guard): Streamlit's own error display is routed to
    the same Chinese message."""
    monkeypatch.setattr(users, "BCRYPT_ROUNDS", 4)
    users.add_user(SYSTEM, "admin", PASSWORD, "管理员", db=get_db(db_file))

    def broken_logout(db):
        raise duckdb.IOException("IO Error: Could not write file: No space left on device")

    monkeypatch.setattr(auth, "logout", broken_logout)  # bound to the button when it is drawn
    at = new_app().run()
    field(at, "用户名").input("admin")
    field(at, "密码").input(PASSWORD)
    at = at.button(key=SUBMIT).click().run()
    assert not at.exception
    at = at.button(key="logout_button").click().run()
    assert_no_traceback(at)
    assert any("磁盘空间已满" in e.value for e in at.error), [e.value for e in at.error]
