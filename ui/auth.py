"""The login gate: streamlit-authenticator's form and cookie, with the rules kept in data/services/users.py.

The library is handed a credentials dict built from the `users` table (auto_hash=False) and never
a file. Its password check and its in-memory attempt counter are replaced by data.services.users.attempt_login
(bcrypt; past 5 failures from one source, increasing delays for that source, persisted); its JWT
cookie is honoured only when data.services.users.check_session agrees (the user is active, has not logged
out, been reset, disabled or changed role since the cookie was issued, and the session is within
its idle and absolute limits). Every run re-checks the same. docs/security.md describes the whole
path.
"""

from __future__ import annotations

from collections.abc import Iterable

import jwt
import streamlit as st
import streamlit_authenticator as stauth
from streamlit_authenticator.controllers import AuthenticationController

from data.services import users
from data.storage.db import Database
from data.storage.scope import Scope
from ui import cookie_server
from ui.fmt import md_escape
from ui.session import current_scope, set_scope

COOKIE_NAME = cookie_server.COOKIE_NAME
COOKIE_EXPIRY_DAYS = 1.0
LOGIN_FORM_KEY = "Login"
LOGIN_FIELDS = {"Form name": "用户登录", "Username": "用户名", "Password": "密码", "Login": "登录"}

_MESSAGE = "_auth_message"       # Chinese message for the login form
_ISSUED_AT = "_auth_issued_at"   # unix time the session (or its cookie) was issued
_LAST_SEEN = "_auth_last_seen"   # unix time of this session's last run (the idle limit)
_SET_COOKIE = "_auth_set_cookie"  # write the cookie on the next complete run
_DROP_COOKIE = "_auth_drop_cookie"
_LIBRARY_KEYS = ("name", "username", "authentication_status", "email", "roles")


def _start_session(scope: Scope, issued_at: float | None = None) -> None:
    st.session_state["authentication_status"] = True
    st.session_state["username"] = scope.username
    st.session_state["name"] = scope.display_name or scope.username
    st.session_state["roles"] = [scope.role]
    st.session_state["logout"] = None
    now = users.clock()
    st.session_state[_ISSUED_AT] = issued_at if issued_at is not None else now
    st.session_state[_LAST_SEEN] = now
    users.touch_session(scope.username, now)
    st.session_state.pop(_MESSAGE, None)
    set_scope(scope)


def _end_session(message: str | None = None) -> None:
    for key in _LIBRARY_KEYS:
        st.session_state[key] = None
    st.session_state["logout"] = True  # the library then ignores the cookie in this session
    st.session_state.pop(_ISSUED_AT, None)
    st.session_state.pop(_LAST_SEEN, None)
    set_scope(None)
    if message:
        st.session_state[_MESSAGE] = message


class _DatabaseLogin(AuthenticationController):
    """The library's controller with its checks replaced by data.services.users."""

    def __init__(self, db: Database, credentials: dict, secret_key: str):
        super().__init__(credentials, auto_hash=False, secret_key=secret_key)
        self._db = db

    def login(self, username=None, password=None, max_concurrent_users=None, max_login_attempts=None,
              token=None, single_session=False, callback=None, captcha=False, entered_captcha=None):
        if token:  # the re-login cookie; the library has checked its signature and expiry
            issued_at = float(token["exp_date"]) - COOKIE_EXPIRY_DAYS * 86400
            checked = users.check_session(token.get("username", ""), issued_at, db=self._db)
            if checked.scope is None:
                st.session_state[_DROP_COOKIE] = True
                if checked.message != users.REVOKED_MESSAGE:  # timed out: say so on the form
                    st.session_state[_MESSAGE] = checked.message
                return None
            _start_session(checked.scope, issued_at)
            return None
        if not username or not password:
            st.session_state["authentication_status"] = False
            st.session_state[_MESSAGE] = "请输入用户名和密码。"
            return False
        result = users.attempt_login(self._db, username, password, source=client_source())
        if result.scope is None:
            st.session_state["authentication_status"] = False
            st.session_state[_MESSAGE] = result.message
            return False
        _start_session(result.scope)
        st.session_state[_SET_COOKIE] = True
        return True


def client_source() -> str:
    """The address the browser connects from ("" on this machine or when unknown): login delays
    are kept per account and source. Behind a reverse proxy every user shares the proxy's address."""
    try:
        return st.context.ip_address or ""
    except Exception:  # no client context (a test harness)
        return ""


def _check_running_session(db: Database | None, username: str) -> Scope | None:
    """The session's Scope if it may go on (revocation, idle and absolute limits, checked on the
    server at every run), noting this run as its last activity; otherwise ends it with the reason."""
    now = users.clock()
    issued_at = st.session_state.get(_ISSUED_AT, 0.0)
    checked = users.check_session(username, issued_at, last_seen=st.session_state.get(_LAST_SEEN, issued_at),
                                  now=now, db=db)
    if checked.scope is None:
        _end_session(checked.message)
        st.session_state[_DROP_COOKIE] = True
        return None
    st.session_state[_LAST_SEEN] = now
    users.touch_session(checked.scope.username, now)
    return checked.scope


def _write_cookie(db: Database, username: str, issued_at: float) -> None:
    """Have the server set the login cookie, HttpOnly (ui/cookie_server.py): the library's own
    set_cookie writes it from page script, where it can never be HttpOnly. The token is the one
    the library reads back: HS256 over {username, exp_date} with the cookie key."""
    exp = issued_at + COOKIE_EXPIRY_DAYS * 86400
    token = jwt.encode({"username": username, "exp_date": exp}, users.cookie_key(db), algorithm="HS256")
    nonce = cookie_server.issue_nonce(token, max_age=int(exp - users.clock()))
    st.html(cookie_server.browser_call(cookie_server.SET_PATH, nonce), unsafe_allow_javascript=True)


def _clear_cookie() -> None:
    st.html(cookie_server.browser_call(cookie_server.CLEAR_PATH, cookie_server.issue_nonce(None)),
            unsafe_allow_javascript=True)


def authenticator(db: Database) -> stauth.Authenticate:
    """A fresh Authenticate for this run (the cookie component must be rendered on every run)."""
    credentials = users.credentials_for_authenticator(db)
    key = users.cookie_key(db)
    auth = stauth.Authenticate(
        credentials, COOKIE_NAME, key, COOKIE_EXPIRY_DAYS, auto_hash=False, login_sleep_time=0
    )
    auth.authentication_controller = _DatabaseLogin(db, credentials, key)
    return auth


def _setup_form(db: Database) -> None:
    st.info("系统中还没有任何账号。请创建第一个管理员账号（领导小组办公室使用），此页面仅出现这一次。")
    with st.form("first_admin"):
        st.subheader("初始化管理员")
        username = st.text_input("用户名", key="setup_username")
        display = st.text_input("显示名称", key="setup_display", placeholder="例如：县大数据发展中心")
        password = st.text_input("密码", type="password", key="setup_password",
                                 help="至少10个字符，须同时包含字母和数字。")
        confirm = st.text_input("再次输入密码", type="password", key="setup_confirm")
        submitted = st.form_submit_button("创建管理员并登录")
    if not submitted:
        return
    if password != confirm:
        st.error("两次输入的密码不一致。")
        return
    try:
        scope = users.create_first_admin(db, username, password, display)
    except users.UserError as exc:
        st.error(md_escape(exc.message_cn))
        return
    _start_session(scope)
    st.session_state[_SET_COOKIE] = True
    st.rerun()


def login_gate(db: Database) -> Scope:
    """The logged-in user's Scope; otherwise draws the login (or first-run setup) form and stops.

    A refresh arrives with the cookie on the first run: the user is logged in before any page is
    chosen, so st.navigation still sees the sub-page of the URL."""
    auth = authenticator(db)
    if st.session_state.get("authentication_status") and st.session_state.get("username"):
        scope = _check_running_session(db, st.session_state["username"])
        if scope is not None:
            set_scope(scope)  # a name or unit change applies on the next rerun
            if st.session_state.pop(_SET_COOKIE, False):
                _write_cookie(db, scope.username, st.session_state.get(_ISSUED_AT, users.clock()))
            return scope

    # Until st.navigation runs, Streamlit would list the pages/ files in the sidebar to a visitor.
    st.html("<style>[data-testid='stSidebar'],[data-testid='stSidebarCollapsedControl']"
            "{display:none}</style>")
    if not users.has_users(db):
        _setup_form(db)
        st.stop()

    st.title("政务数据共享督查考评看板")
    st.caption("玉山县政务数据共享工作领导小组办公室")
    auth.login(location="main", fields=LOGIN_FIELDS, key=LOGIN_FORM_KEY)
    if st.session_state.pop(_DROP_COOKIE, False):
        _clear_cookie()  # hygiene: the server no longer honours it anyway
    if st.session_state.get("authentication_status"):
        # Logged in by a valid cookie (a refresh or a new tab), or by the form just now.
        if st.session_state.get(_SET_COOKIE):
            st.rerun()  # draw the app without the form; the cookie is written on that run
        return current_scope()
    if st.session_state.get(_MESSAGE):
        st.error(st.session_state[_MESSAGE])
    st.stop()


def renew_session() -> None:
    """After the user's own password change (which revokes every older session and cookie):
    this session continues, with a fresh cookie."""
    st.session_state[_ISSUED_AT] = users.clock()
    st.session_state[_SET_COOKIE] = True


def logout(db: Database) -> None:
    """Sign the user out here and everywhere: the server stops honouring older cookies."""
    username = st.session_state.get("username")
    if username:
        users.logout(db, username)
    _end_session()
    st.session_state[_DROP_COOKIE] = True


def logout_button(db: Database, scope: Scope) -> None:
    with st.sidebar:
        st.button("退出登录", key="logout_button", on_click=logout, args=(db,), width="stretch")


def require_role(scope: Scope, roles: Iterable[str]) -> Scope:
    """Pages call this first: a role outside `roles` sees a Chinese refusal and nothing else."""
    if scope.role not in tuple(roles):
        st.error("您的账号无权打开此页面。如需使用，请联系领导小组办公室。")
        st.stop()
    return scope


def page_scope(roles: Iterable[str]) -> Scope:
    """The first line of every page: the session's Scope, re-checked against the database (the
    user may have been disabled, reset or signed out since) and against `roles`.

    Pages check for themselves because a page script can run without app.py in front of it
    (Streamlit's pages/ directory mode before st.navigation is first called, a test harness)."""
    scope = current_scope()
    # A page run on its own (a test harness) has a scope but no login time: its session starts now.
    st.session_state.setdefault(_ISSUED_AT, users.clock())
    fresh = _check_running_session(None, scope.username)  # None: the dashboard's database
    if fresh is None:
        st.warning(f"{st.session_state.get(_MESSAGE) or '登录已失效，请重新登录。'}刷新页面即可看到登录框。")
        st.stop()
    return require_role(fresh, roles)
