"""用户管理 page: the table, adding, disabling, resetting and changing role; refused for others."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from data.services import users
from data.storage.connect import close_db, get_db
from data.storage.scope import SYSTEM
from tests.pages.conftest import table as table_with

# AppTest puts pages/ on sys.path when it runs a page directly, where pages/requests.py would
# shadow the `requests` package that streamlit-authenticator imports: import it first.
import ui.auth  # noqa: E402, F401  isort: skip

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "abcdefgh12"


@pytest.fixture(autouse=True)
def fast_bcrypt(monkeypatch):
    monkeypatch.setattr(users, "BCRYPT_ROUNDS", 4)


@pytest.fixture
def app_db(tmp_path, monkeypatch):
    path = tmp_path / "users.duckdb"
    monkeypatch.setenv("DASHBOARD_DB", str(path))
    db = get_db(path)
    users.add_user(SYSTEM, "admin", PASSWORD, "管理员", display_name="办公室", db=db)
    users.add_user(SYSTEM, "finance", PASSWORD, "单位", unit_name="县财政局", display_name="财政局经办人", db=db)
    yield db
    close_db(path)


def open_page(scope: dict) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / "users.py"), default_timeout=30)
    at.session_state["scope"] = scope
    return at.run()


ADMIN = {"username": "admin", "role": "管理员", "unit_id": None, "display_name": "办公室"}


def table(at):
    return table_with(at, "用户名")


def test_table_lists_logins_in_chinese(app_db):
    at = open_page(ADMIN)
    assert not at.exception
    assert [t.value for t in at.title] == ["用户管理"]
    frame = table(at)
    assert list(frame.columns) == ["用户名", "显示名称", "角色", "所属单位", "状态", "登录须等待至", "创建日期"]
    assert frame[["用户名", "角色", "所属单位", "状态"]].values.tolist() == [
        ["admin", "管理员", "—", "启用"],
        ["finance", "单位", "县财政局", "启用"],
    ]


def test_add_a_unit_user(app_db):
    at = open_page(ADMIN)
    at.text_input(key="users_add_name").input("Li")
    at.text_input(key="users_add_display").input("县公安局 李经办")
    at.selectbox(key="users_add_role").select("单位")
    at.selectbox(key="users_add_unit").select("县公安局")
    at.text_input(key="users_add_password").input("lijingban01")
    at = at.button(key="FormSubmitter:users_add-新增用户").click().run()
    assert not at.exception
    assert [s.value for s in at.success] == ["已新增用户“li”（单位）。"]
    assert ["li", "县公安局"] in table(at)[["用户名", "所属单位"]].values.tolist()
    assert users.check_login("li", "lijingban01", db=app_db).role == "单位"


def test_weak_password_is_refused_on_the_page(app_db):
    at = open_page(ADMIN)
    at.text_input(key="users_add_name").input("zhao")
    at.selectbox(key="users_add_role").select("领导")
    at.text_input(key="users_add_password").input("password")
    at = at.button(key="FormSubmitter:users_add-新增用户").click().run()
    assert [e.value for e in at.error] == ["密码至少需要10个字符。"]
    assert len(table(at)) == 2


def test_the_last_admin_cannot_be_disabled_from_the_page(app_db):
    at = open_page(ADMIN)
    at.selectbox(key="users_state_name").select("admin")
    at = at.button(key="FormSubmitter:users_state-停用账号").click().run()
    assert "最后一个启用的管理员" in at.error[0].value
    at.selectbox(key="users_state_name").select("finance")
    at = at.button(key="FormSubmitter:users_state-停用账号").click().run()
    assert [s.value for s in at.success] == ["已停用“finance”。"]
    assert ["finance", "已停用"] in table(at)[["用户名", "状态"]].values.tolist()


def test_reset_password_and_change_role(app_db):
    at = open_page(ADMIN)
    at.selectbox(key="users_reset_name").select("finance")
    at.text_input(key="users_reset_password").input("newpassword9")
    at.text_input(key="users_reset_confirm").input("newpassword9")
    at = at.button(key="FormSubmitter:users_reset-重置密码").click().run()
    assert [s.value for s in at.success] == ["已重置“finance”的密码并解除锁定。"]
    assert users.check_login("finance", "newpassword9", db=app_db) is not None

    at.selectbox(key="users_role_name").select("finance")
    at.selectbox(key="users_role_role").select("领导")
    at = at.button(key="FormSubmitter:users_role-保存角色").click().run()
    assert [s.value for s in at.success] == ["已将“finance”改为领导。"]
    assert ["finance", "领导", "—"] in table(at)[["用户名", "角色", "所属单位"]].values.tolist()


def test_a_unit_user_opening_the_page_directly_is_refused(app_db):
    unit_id = app_db.scalar("SELECT unit_id FROM units WHERE name = '县财政局'")
    at = open_page({"username": "finance", "role": "单位", "unit_id": unit_id, "display_name": "财政局经办人"})
    assert not at.exception
    assert [e.value for e in at.error] == ["您的账号无权打开此页面。如需使用，请联系领导小组办公室。"]
    assert at.title == [] and at.dataframe == []


def test_a_disabled_admin_session_is_stopped(app_db):
    users.add_user(SYSTEM, "admin2", PASSWORD, "管理员", db=app_db)
    users.disable_user(SYSTEM, "admin2", db=app_db)
    at = open_page({"username": "admin2", "role": "管理员", "unit_id": None, "display_name": "admin2"})
    assert at.dataframe == [] and "登录已失效" in at.warning[0].value


def test_the_office_lifts_a_login_delay_while_the_dashboard_runs(app_db):
    for _ in range(7):  # someone kept guessing the last admin's password
        users.attempt_login(app_db, "admin", "wrongpass99", source="203.0.113.7")
    assert "登录失败次数过多" in users.attempt_login(app_db, "admin", PASSWORD, source="203.0.113.7").message
    at = open_page(ADMIN)
    waiting = table(at).set_index("用户名")["登录须等待至"]
    assert waiting["admin"] != "" and waiting["finance"] == ""
    at.selectbox(key="users_unlock_name").select("admin")
    at = at.button(key="FormSubmitter:users_unlock-解除登录限制").click().run()
    assert not at.exception
    assert [s.value for s in at.success] == ["已解除“admin”的登录限制，可立即登录。"]
    assert table(at).set_index("用户名")["登录须等待至"]["admin"] == ""
    assert users.check_login("admin", PASSWORD, source="203.0.113.7", db=app_db) is not None
    details = app_db.rows("SELECT username, target, detail FROM audit_log WHERE action = '用户管理' "
                          "ORDER BY id DESC LIMIT 1")
    assert details == [("admin", "admin", "解除登录限制（清除密码错误次数和等待时间）")]
