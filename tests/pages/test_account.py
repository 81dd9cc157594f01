"""修改密码 page: a user changes their own password and stays logged in."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from data.services import users
from data.storage.connect import close_db, get_db
from data.storage.scope import SYSTEM

# AppTest puts pages/ on sys.path when it runs a page directly, where pages/requests.py would
# shadow the `requests` package that streamlit-authenticator imports: import it first.
import ui.auth  # noqa: E402, F401  isort: skip

ROOT = Path(__file__).resolve().parents[2]
LEADER = {"username": "leader", "role": "领导", "unit_id": None, "display_name": "张组长"}
SUBMIT = "FormSubmitter:account_password-修改密码"


@pytest.fixture(autouse=True)
def fast_bcrypt(monkeypatch):
    monkeypatch.setattr(users, "BCRYPT_ROUNDS", 4)


@pytest.fixture
def app_db(tmp_path, monkeypatch):
    path = tmp_path / "account.duckdb"
    monkeypatch.setenv("DASHBOARD_DB", str(path))
    db = get_db(path)
    users.add_user(SYSTEM, "leader", "abcdefgh12", "领导", display_name="张组长", db=db)
    yield db
    close_db(path)


def fill(at, old, new, again):
    at.text_input(key="account_old").input(old)
    at.text_input(key="account_new").input(new)
    at.text_input(key="account_again").input(again)
    return at.button(key=SUBMIT).click().run()


def open_page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / "account.py"), default_timeout=30)
    at.session_state["scope"] = LEADER
    return at.run()


def test_wrong_old_password_counts_as_a_failed_login(app_db):
    at = fill(open_page(), "wrongpass99", "newpassw0rd", "newpassw0rd")
    assert [e.value for e in at.error] == ["原密码不正确。"]
    assert app_db.scalar("SELECT failed_attempts FROM users") == 1


def test_mismatch_and_weak_password(app_db):
    at = fill(open_page(), "abcdefgh12", "newpassw0rd", "newpassw0rx")
    assert [e.value for e in at.error] == ["两次输入的新密码不一致。"]
    at = fill(at, "abcdefgh12", "short1", "short1")
    assert [e.value for e in at.error] == ["密码至少需要10个字符。"]


def test_change_own_password_and_stay_logged_in(app_db):
    at = fill(open_page(), "abcdefgh12", "newpassw0rd", "newpassw0rd")
    assert not at.exception
    assert [s.value for s in at.success] == ["密码已修改。"]
    assert at.session_state["scope"]["username"] == "leader"  # this session continues
    assert users.check_login("leader", "newpassw0rd", db=app_db) is not None
    assert users.check_login("leader", "abcdefgh12", db=app_db) is None
