"""app.py with the login gate: good and bad login, lockout and its expiry, first-run setup,
logout, cookie re-login and revocation, and each role's menu."""

from __future__ import annotations

import time
from pathlib import Path

import jwt
import pytest
from streamlit.testing.v1 import AppTest

from data.services import users
from data.storage.connect import close_db, get_db
from data.storage.scope import SYSTEM
from ui import auth, navigation

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "abcdefgh12"
SUBMIT = f"FormSubmitter:{auth.LOGIN_FORM_KEY}-登录"


@pytest.fixture(autouse=True)
def fast_bcrypt(monkeypatch):
    monkeypatch.setattr(users, "BCRYPT_ROUNDS", 4)
    users._unknown_failures.clear()
    users._last_seen.clear()


class FakeClock:
    """The time source of logins and sessions, moved by hand (starts at the real time so that the
    library's own cookie expiry check agrees)."""

    def __init__(self):
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(users, "clock", fake)
    return fake


@pytest.fixture
def app_db(tmp_path, monkeypatch):
    """A fresh database that app.py opens through $DASHBOARD_DB (plan loaded, no users)."""
    path = tmp_path / "app.duckdb"
    monkeypatch.setenv("DASHBOARD_DB", str(path))
    db = get_db(path)
    yield db
    close_db(path)


@pytest.fixture
def staffed(app_db):
    """One login per role: admin (管理员), leader (领导), finance (单位, 县财政局)."""
    users.add_user(SYSTEM, "admin", PASSWORD, "管理员", display_name="办公室", db=app_db)
    users.add_user(SYSTEM, "leader", PASSWORD, "领导", display_name="张组长", db=app_db)
    users.add_user(SYSTEM, "finance", PASSWORD, "单位", unit_name="县财政局", display_name="财政局经办人", db=app_db)
    return app_db


def new_app() -> AppTest:
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)


def field(at: AppTest, label: str):
    """The login form's text box labelled `label` (the form's boxes carry no key)."""
    (box,) = [t for t in at.text_input if t.label == label]
    return box


def login(at: AppTest, username: str, password: str) -> AppTest:
    field(at, "用户名").input(username)
    field(at, "密码").input(password)
    return at.button(key=SUBMIT).click().run()


def rerun_app(at: AppTest) -> AppTest:
    """The next run of app.py in the same browser session. (AppTest itself reruns only the page
    script once st.navigation has chosen one, so the session is carried into a new AppTest.)"""
    nxt = new_app()
    for key in ("scope", "authentication_status", "username", "name", "roles", "logout", "_auth_issued_at",
                "_auth_last_seen"):
        if key in at.session_state:
            nxt.session_state[key] = at.session_state[key]
    return nxt.run()


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def logged_in(at: AppTest) -> dict | None:
    return at.session_state["scope"] if "scope" in at.session_state else None


def test_login_form_is_shown_to_a_stranger(staffed):
    at = new_app().run()
    assert not at.exception
    assert [t.value for t in at.title] == ["政务数据共享督查考评看板"]
    assert [t.label for t in at.text_input] == ["用户名", "密码"]
    assert logged_in(at) is None


def test_good_login_sets_the_scope(staffed):
    at = login(new_app().run(), "Finance", PASSWORD)
    assert not at.exception and errors(at) == []
    unit_id = staffed.scalar("SELECT unit_id FROM units WHERE name = '县财政局'")
    assert logged_in(at) == {"username": "finance", "role": "单位", "unit_id": unit_id, "display_name": "财政局经办人"}
    labels = [t.label for t in at.text_input]
    assert "用户名" not in labels and "密码" not in labels  # the form is gone, a page is drawn
    assert at.button(key="logout_button").label == "退出登录"


def test_bad_login_says_so_without_naming_the_user(staffed):
    at = login(new_app().run(), "admin", "wrongpass99")
    assert errors(at) == ["用户名或密码错误。"]
    assert logged_in(at) is None
    at = login(at, "nobody", "wrongpass99")
    assert errors(at) == ["用户名或密码错误。"]


def test_delay_after_five_failures_then_the_right_password_works(staffed, clock):
    at = new_app().run()
    for _ in range(4):
        at = login(at, "leader", "wrongpass99")
        assert errors(at) == ["用户名或密码错误。"]
    at = login(at, "leader", "wrongpass99")
    assert errors(at)[0].startswith("登录失败次数过多，请于30秒后")
    at = login(at, "leader", PASSWORD)  # the right password does not help during the delay
    assert "登录失败次数过多" in errors(at)[0] and logged_in(at) is None

    # the delay is in the database: a new browser session from the same place waits too ...
    at = login(new_app().run(), "leader", PASSWORD)
    assert "登录失败次数过多" in errors(at)[0]
    # ... until it has passed: then the rightful user gets in
    clock.advance(31)
    at = login(new_app().run(), "leader", PASSWORD)
    assert errors(at) == [] and logged_in(at)["role"] == "领导"


def test_the_last_admin_is_never_locked_out_for_good(staffed, clock):
    at = new_app().run()
    for _ in range(30):  # far more guesses than before: still only a capped delay
        users.attempt_login(staffed, "admin", "wrongpass99")
    clock.advance(15 * 60 + 1)
    at = login(at, "admin", PASSWORD)
    assert errors(at) == [] and logged_in(at)["role"] == "管理员"


def test_an_idle_session_ends_on_the_server(staffed, clock):
    at = login(new_app().run(), "leader", PASSWORD)
    assert logged_in(at)["username"] == "leader"
    clock.advance(20 * 60)
    at = rerun_app(at)  # used within 30 minutes: still in
    assert logged_in(at)["username"] == "leader"
    clock.advance(20 * 60)
    at = rerun_app(at)  # 40 minutes after the login, but never 30 idle
    assert logged_in(at)["username"] == "leader"
    clock.advance(30 * 60 + 1)
    at = rerun_app(at)
    assert logged_in(at) is None
    assert errors(at) == ["超过30分钟未操作，登录已超时，请重新登录。"]
    assert [t.label for t in at.text_input] == ["用户名", "密码"]


def test_a_session_ends_after_its_absolute_lifetime_however_busy(staffed, clock):
    staffed.rows("INSERT INTO settings VALUES ('session_max_hours', '1') "
                 "ON CONFLICT (key) DO UPDATE SET value = excluded.value")
    at = login(new_app().run(), "admin", PASSWORD)
    for _ in range(3):
        clock.advance(20 * 60)
        at = rerun_app(at)
        assert logged_in(at)["username"] == "admin"
    clock.advance(60)
    at = rerun_app(at)
    assert logged_in(at) is None
    assert errors(at) == ["登录已超过1小时，为安全起见请重新登录。"]


def test_a_page_run_checks_the_limits_too(staffed, clock):
    at = login(new_app().run(), "admin", PASSWORD)
    at = at.switch_page("pages/users.py").run()
    assert [t.value for t in at.title] == ["用户管理"]
    clock.advance(31 * 60)
    at = at.run()  # AppTest reruns only the page script here
    assert "超过30分钟未操作，登录已超时" in at.warning[0].value
    assert [t.value for t in at.title] == []


def test_first_run_setup_creates_the_first_admin_once(app_db):
    at = new_app().run()
    assert "还没有任何账号" in at.info[0].value
    at.text_input(key="setup_username").input("office")
    at.text_input(key="setup_display").input("县大数据发展中心")
    at.text_input(key="setup_password").input("short1")
    at.text_input(key="setup_confirm").input("short1")
    at = at.button(key="FormSubmitter:first_admin-创建管理员并登录").click().run()
    assert errors(at) == ["密码至少需要10个字符。"] and not users.has_users(app_db)

    at.text_input(key="setup_password").input(PASSWORD)
    at.text_input(key="setup_confirm").input(PASSWORD)
    at = at.button(key="FormSubmitter:first_admin-创建管理员并登录").click().run()
    assert not at.exception
    assert logged_in(at) == {"username": "office", "role": "管理员", "unit_id": None, "display_name": "县大数据发展中心"}
    assert users.list_users(app_db)["role"].to_list() == ["管理员"]
    # the next visitor gets the login form, not the setup form
    fresh = new_app().run()
    assert [t.label for t in fresh.text_input] == ["用户名", "密码"]


def test_logout_clears_the_session_and_revokes_the_cookie(staffed):
    at = login(new_app().run(), "admin", PASSWORD)
    issued = time.time() - 1
    assert logged_in(at)["username"] == "admin"
    at = at.button(key="logout_button").click().run()
    assert logged_in(at) is None
    assert at.session_state["authentication_status"] is None
    assert at.session_state["logout"] is True  # the library then ignores any cookie in this session
    assert [t.label for t in rerun_app(at).text_input] == ["用户名", "密码"]
    # a cookie issued before the logout is no longer honoured by the server
    assert users.session_scope(staffed, "admin", issued) is None


def _cookie_for(db, username: str, issued_at: float) -> str:
    exp = issued_at + auth.COOKIE_EXPIRY_DAYS * 86400
    return jwt.encode({"username": username, "exp_date": exp}, users.cookie_key(db), algorithm="HS256")


def _app_with_cookie(monkeypatch, token: str) -> AppTest:
    """Simulate a browser refresh: a new session whose request carries the login cookie."""
    from streamlit_authenticator.models import cookie_model

    class Context:
        cookies = {auth.COOKIE_NAME: token}

    monkeypatch.setattr(cookie_model.st, "context", Context())
    return new_app()


def test_refresh_with_a_valid_cookie_logs_in_without_the_form(staffed, monkeypatch):
    at = _app_with_cookie(monkeypatch, _cookie_for(staffed, "leader", time.time())).run()
    assert not at.exception
    assert logged_in(at)["username"] == "leader"
    assert "用户名" not in [t.label for t in at.text_input]


def test_after_logout_the_old_cookie_shows_the_login_form(staffed, monkeypatch):
    token = _cookie_for(staffed, "leader", time.time() - 60)
    users.logout(staffed, "leader")
    at = _app_with_cookie(monkeypatch, token).run()
    assert logged_in(at) is None
    assert [t.label for t in at.text_input] == ["用户名", "密码"]


def test_a_cookie_older_than_the_absolute_limit_is_refused(staffed, monkeypatch, clock):
    at = _app_with_cookie(monkeypatch, _cookie_for(staffed, "leader", clock.now - 13 * 3600)).run()
    assert logged_in(at) is None
    assert errors(at) == ["登录已超过12小时，为安全起见请重新登录。"]


def test_a_cookie_of_an_idle_user_is_refused(staffed, monkeypatch, clock):
    token = _cookie_for(staffed, "leader", clock.now)
    clock.advance(31 * 60)  # nobody used this login since it was issued
    at = _app_with_cookie(monkeypatch, token).run()
    assert logged_in(at) is None
    assert errors(at) == ["超过30分钟未操作，登录已超时，请重新登录。"]


def test_a_cookie_of_a_user_active_in_another_tab_is_honoured(staffed, monkeypatch, clock):
    token = _cookie_for(staffed, "leader", clock.now)
    clock.advance(25 * 60)
    users.touch_session("leader")  # the same user clicked in another tab just now
    clock.advance(25 * 60)
    at = _app_with_cookie(monkeypatch, token).run()
    assert logged_in(at)["username"] == "leader"


def test_a_disabled_user_is_signed_out_on_the_next_rerun(staffed):
    at = login(new_app().run(), "leader", PASSWORD)
    assert logged_in(at)["username"] == "leader"
    users.disable_user(SYSTEM, "leader", db=staffed)
    at = rerun_app(at)
    assert logged_in(at) is None
    assert "登录已失效" in errors(at)[0]


@pytest.mark.parametrize(
    "role, expected",
    [
        ("管理员", ["总览", "单位考评", "任务督办", "共享申请", "目录与需求", "基础设施与安全", "月度考评",
                 "督查督办", "数据导入", "用户管理", "系统设置", "操作日志", "修改密码"]),
        ("领导", ["总览", "单位考评", "任务督办", "共享申请", "目录与需求", "基础设施与安全", "月度考评", "督查督办",
                "修改密码"]),
        ("单位", ["本单位工作台", "本单位共享申请", "本单位目录", "本单位系统与安全", "单位考评", "任务督办", "督查督办",
                 "数据导入", "修改密码"]),
    ],
)
def test_each_role_is_offered_its_pages(tmp_path, role, expected):
    for spec in navigation.PAGES:  # a tree where every page exists
        (tmp_path / spec.file).parent.mkdir(exist_ok=True)
        (tmp_path / spec.file).write_text("")
    assert navigation.titles_for(role, tmp_path) == expected


def test_only_existing_page_files_are_registered(tmp_path):
    (tmp_path / "pages").mkdir()
    (tmp_path / "pages" / "tasks.py").write_text("")
    assert navigation.titles_for("管理员", tmp_path) == ["任务督办"]
    assert navigation.titles_for("单位", tmp_path) == ["任务督办"]


def test_a_unit_user_cannot_reach_an_admin_page(staffed):
    at = login(new_app().run(), "finance", PASSWORD)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/users.py")  # the menu st.navigation got has no such page
    admin = login(new_app().run(), "admin", PASSWORD)
    admin = admin.switch_page("pages/users.py").run()
    assert not admin.exception
    assert [t.value for t in admin.title] == ["用户管理"]


def test_a_unit_user_typing_a_county_url_opens_its_own_view(staffed):
    """/requests, /catalog and /infra are the unit's own pages for a 单位 user (no bounce)."""
    at = login(new_app().run(), "finance", PASSWORD)
    assert [t.value for t in at.title] == ["本单位工作台"]            # the unit's default page
    # (AppTest's page switch cannot follow a custom url_path that matches another file's name; the
    # typed URL itself is driven in real Chromium: tests/e2e/test_unit_workspace_e2e.py.)
    specs = {s.url_path: s.file for s in navigation.specs_for("单位") if s.url_path}
    assert specs == {"requests": "pages/my_requests.py", "catalog": "pages/my_catalog.py", "infra": "pages/my_infra.py"}
