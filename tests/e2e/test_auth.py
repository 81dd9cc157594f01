"""Logging in and out in a real Chromium: first-run setup, each role, refresh, logout, lockout, URLs.

Labels come from ui/auth.py (用户登录 / 用户名 / 密码 / 登录, 初始化管理员, 退出登录) and the page
registry ui/navigation.py (titles and the roles that may open each page).
"""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest
from e2e_browser import (
    assert_no_exception,
    fill_login,
    goto_nav,
    login,
    login_form_visible,
    logout,
    main_text,
    nav_links,
    rerun_and_wait,
    screenshot,
    wait_idle,
)
from e2e_harness import ACCOUNTS, ADMIN, LEADER, UNIT_USER, Account, copy_db, db_values

pytestmark = [pytest.mark.e2e]

# What each role's menu holds (ui/navigation.py), for the pages that exist when the suite runs.
EXPECTED_MENU = {
    "管理员": ["总览", "单位考评", "任务督办", "共享申请", "目录与需求", "基础设施与安全",
            "月度考评", "督查督办", "数据导入", "用户管理", "系统设置", "操作日志", "修改密码"],
    "领导": ["总览", "单位考评", "任务督办", "共享申请", "目录与需求", "基础设施与安全", "月度考评", "督查督办",
           "修改密码"],
    "单位": ["本单位工作台", "本单位共享申请", "本单位目录", "本单位系统与安全", "单位考评", "任务督办", "督查督办",
           "数据导入", "修改密码"],
}
# A 单位 user typing these county URLs opens its own unit's page registered under the same path.
UNIT_OWN_VIEW = {"requests": "本单位共享申请", "catalog": "本单位目录", "infra": "本单位系统与安全"}
NOT_FOR_UNIT = ["总览", "共享申请", "目录与需求", "基础设施与安全", "月度考评", "用户管理", "系统设置", "操作日志"]


def test_first_start_setup_creates_the_first_admin(page, server_factory, tmp_path):
    """An empty database shows the one-time setup form; the admin it creates can log in later."""
    db = tmp_path / "empty.duckdb"
    server = server_factory(db, "first-start")
    page.goto(server.url)
    wait_idle(page)
    text = main_text(page)
    assert "初始化管理员" in text and "还没有任何账号" in text
    screenshot(page, "首次启动_初始化管理员")

    form = page.locator('[data-testid="stForm"]')
    inputs = form.locator("input")
    inputs.nth(0).fill("office")
    inputs.nth(1).fill("领导小组办公室")
    inputs.nth(2).fill("Yushan2023data")
    inputs.nth(3).fill("Yushan2023data")
    rerun_and_wait(page, lambda: form.get_by_role("button", name="创建管理员并登录").click())
    page.wait_for_timeout(500)
    wait_idle(page)
    assert not login_form_visible(page)
    assert_no_exception(page, "after first-start setup")
    assert "管理员" in page.locator('[data-testid="stSidebar"]').inner_text()

    # The form never shows again: a new browser context gets the ordinary login.
    context = page.context.browser.new_context(viewport={"width": 1400, "height": 900})
    other = context.new_page()
    other.goto(server.url)
    wait_idle(other)
    assert "初始化管理员" not in main_text(other)
    login(other, server.url, Account("office", "Yushan2023data", "管理员"))
    context.close()
    server.stop()
    assert db_values(db, "SELECT count(*) FROM users", "SELECT role FROM users WHERE username = 'office'") == [1, "管理员"]


@pytest.mark.parametrize("role", ["管理员", "领导", "单位"])
def test_login_as_each_role_shows_its_menu(role, page, county_server):
    account = ACCOUNTS[role]
    login(page, county_server.url, account)
    assert_no_exception(page, f"after login as {role}")
    titles = [label for label, _ in nav_links(page)]
    assert titles == EXPECTED_MENU[role], titles
    side = page.locator('[data-testid="stSidebar"]').inner_text()
    assert f"（{role}）" in side  # "当前用户：…（角色）"


def test_wrong_password_is_refused_without_saying_why(page, county_server):
    page.goto(county_server.url)
    wait_idle(page)
    fill_login(page, LEADER.username, "Wrong2023pass")
    assert login_form_visible(page)
    wrong_user = main_text(page)
    fill_login(page, "nobody_here", "Wrong2023pass")
    assert login_form_visible(page)
    # The same words for a wrong password and an unknown user: nothing tells which usernames exist.
    alerts = page.locator('[data-testid="stAlert"]').all_inner_texts()
    assert alerts and alerts[-1] in wrong_user


def test_refresh_on_a_sub_page_keeps_the_user_there(page, county_server):
    login(page, county_server.url, ADMIN)
    goto_nav(page, "任务督办")
    assert urlparse(page.url).path.rstrip("/").endswith("/tasks")
    heading = page.locator("h1").first.inner_text()
    page.reload()
    wait_idle(page)
    page.wait_for_timeout(500)
    wait_idle(page)
    assert not login_form_visible(page), "the refresh logged the user out"
    assert urlparse(page.url).path.rstrip("/").endswith("/tasks"), page.url
    assert "as_of=" in urlparse(page.url).query, page.url  # the as-of date survives the refresh
    assert page.locator("h1").first.inner_text() == heading
    assert_no_exception(page, "after refresh")


def test_the_login_cookie_is_httponly_and_invisible_to_page_script(page, county_server):
    login(page, county_server.url, ADMIN)
    page.wait_for_timeout(800)  # the server answers the page's cookie request
    cookies = {c["name"]: c for c in page.context.cookies()}
    cookie = cookies.get("yushan_dashboard_auth")
    assert cookie is not None, cookies
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict" and cookie["path"] == "/"
    assert cookie["secure"] is False  # plain HTTP here; Secure is set when served over HTTPS
    assert "yushan_dashboard_auth" not in page.evaluate("document.cookie")


def test_logout_then_reload_shows_the_login(page, county_server):
    login(page, county_server.url, LEADER)
    logout(page)
    assert login_form_visible(page)
    page.reload()
    wait_idle(page)
    page.wait_for_timeout(800)  # the cookie component answers on a second run
    wait_idle(page)
    assert login_form_visible(page), "a reload after logout logged the user back in"
    screenshot(page, "登录")


def test_login_delay_after_five_failures_survives_a_restart(page, server_factory, fresh_county_db):
    from data.storage.db import Database

    db = Database(fresh_county_db)  # a first wait of 10 minutes, so that the restart falls inside it
    db.rows("INSERT INTO settings VALUES ('login_delay_seconds', '600') "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value")
    db.close()
    server = server_factory(fresh_county_db, "lockout")
    page.goto(server.url)
    wait_idle(page)
    for _ in range(5):
        fill_login(page, UNIT_USER.username, "NotMyPass2023")
    assert "登录失败次数过多" in main_text(page)
    # The right password does not help during the wait…
    fill_login(page, UNIT_USER.username, UNIT_USER.password)
    assert login_form_visible(page)
    assert "登录失败次数过多" in main_text(page)
    # …nor does a restart of the server: the wait is in the database.
    server.stop()
    server.start()
    page.goto(server.url)
    wait_idle(page)
    fill_login(page, UNIT_USER.username, UNIT_USER.password)
    assert login_form_visible(page)
    assert re.search(r"请于\d+(秒|分钟)后", main_text(page))
    # Other users are not affected.
    login(page, server.url, ADMIN)


def test_unit_user_typing_another_pages_url_is_refused(page, county_server):
    """A 单位 user who types /requests, /users … never sees that page's content."""
    paths = {
        "总览": "overview", "共享申请": "requests", "目录与需求": "catalog", "基础设施与安全": "infra",
        "月度考评": "review", "用户管理": "users", "系统设置": "settings", "操作日志": "audit",
    }
    login(page, county_server.url, UNIT_USER)
    for title in NOT_FOR_UNIT:
        path = paths[title]
        page.goto(f"{county_server.url}/{path}")
        wait_idle(page)
        assert not login_form_visible(page), f"/{path} asked a logged-in user to log in again"
        text = main_text(page)
        headings = [h.strip() for h in page.locator("h1").all_inner_texts()]
        assert title not in headings, f"{title} opened for a 单位 user: {text[:300]}"
        if path in UNIT_OWN_VIEW:  # the unit's own view of the same subject, under the same URL
            assert headings[:1] == [UNIT_OWN_VIEW[path]], (path, headings, text[:300])
            continue
        # Either the refusal of ui.auth.require_role, or Streamlit's "page not found" falling back
        # to the role's default page (本单位工作台): never the page itself.
        assert "无权" in text or headings[:1] == ["本单位工作台"], (path, headings, text[:300])
        assert_no_exception(page, f"typed URL /{path}")


def test_copy_db_helper_is_independent(county_template, tmp_path):
    """The harness itself: a copy carries the three test logins."""
    db = copy_db(county_template, tmp_path / "c.duckdb")
    names = db_values(db, "SELECT string_agg(username, ',' ORDER BY username) FROM users")[0]
    assert names.split(",") == sorted(a.username for a in ACCOUNTS.values())
