"""The login cookie is written by the server: HttpOnly, SameSite=Strict, Secure under HTTPS,
only against a one-time nonce the login issued."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from streamlit.testing.v1 import AppTest

from ui import cookie_server


def _post(path: str, body: str, *, scheme: str = "http", forwarded: str | None = None):
    from starlette.requests import Request

    headers = [(b"content-type", b"text/plain")]
    if forwarded:
        headers.append((b"x-forwarded-proto", forwarded.encode()))
    scope = {"type": "http", "method": "POST", "path": path, "scheme": scheme, "headers": headers,
             "query_string": b"", "server": ("dashboard", 443 if scheme == "https" else 80)}

    async def receive():
        return {"type": "http.request", "body": body.encode(), "more_body": False}

    endpoint = cookie_server.set_cookie if path == cookie_server.SET_PATH else cookie_server.clear_cookie
    # A thread of its own: in a whole-suite run the browser tests' synchronous Playwright API keeps
    # an event loop running in the main thread, where asyncio.run() refuses to start another.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, endpoint(Request(scope, receive))).result()


def _set_cookie_header(response) -> str:
    return response.headers.get("set-cookie", "")


def test_a_nonce_sets_an_httponly_strict_cookie_once():
    nonce = cookie_server.issue_nonce("signed.token.value", max_age=3600)
    response = _post(cookie_server.SET_PATH, nonce)
    assert response.status_code == 204
    header = _set_cookie_header(response)
    assert header.startswith("yushan_dashboard_auth=signed.token.value;")
    parts = {p.strip().lower() for p in header.split(";")}
    assert {"httponly", "samesite=strict", "path=/", "max-age=3600"} <= parts
    assert "secure" not in parts
    again = _post(cookie_server.SET_PATH, nonce)  # a nonce works once
    assert again.status_code == 403 and not _set_cookie_header(again)


def test_secure_under_https_directly_or_behind_a_proxy():
    direct = _post(cookie_server.SET_PATH, cookie_server.issue_nonce("t", 60), scheme="https")
    proxied = _post(cookie_server.SET_PATH, cookie_server.issue_nonce("t", 60), forwarded="https")
    for response in (direct, proxied):
        assert "secure" in {p.strip().lower() for p in _set_cookie_header(response).split(";")}


def test_unknown_or_mismatched_nonces_are_refused():
    assert _post(cookie_server.SET_PATH, "made-up").status_code == 403
    clear_nonce = cookie_server.issue_nonce(None)
    assert _post(cookie_server.SET_PATH, clear_nonce).status_code == 403  # a clear nonce cannot set
    set_nonce = cookie_server.issue_nonce("t", 60)
    assert _post(cookie_server.CLEAR_PATH, set_nonce).status_code == 403


def test_clearing_deletes_the_cookie():
    response = _post(cookie_server.CLEAR_PATH, cookie_server.issue_nonce(None))
    assert response.status_code == 204
    header = _set_cookie_header(response).lower()
    assert header.startswith('yushan_dashboard_auth="";') and "max-age=0" in header and "httponly" in header


def test_serve_py_mounts_the_routes_on_the_app():
    import ast
    from pathlib import Path

    source = (Path(__file__).resolve().parents[2] / "serve.py").read_text(encoding="utf-8")
    assert "st.App(\"app.py\", routes=routes())" in source
    ast.parse(source)
    paths = {r.path for r in cookie_server.routes()}
    assert paths == {cookie_server.SET_PATH, cookie_server.CLEAR_PATH}


def _login_app():
    from data.storage.connect import get_db
    from ui.auth import login_gate

    login_gate(get_db())


def test_the_login_hands_the_browser_a_nonce_not_a_token(tmp_path, monkeypatch):
    """After a login the page carries a script that posts a nonce; the token never reaches it."""
    import jwt

    from data.services import users
    from data.storage.connect import close_db, get_db
    from data.storage.scope import SYSTEM
    from ui import auth

    monkeypatch.setattr(users, "BCRYPT_ROUNDS", 4)
    path = tmp_path / "c.duckdb"
    monkeypatch.setenv("DASHBOARD_DB", str(path))
    db = get_db(path)
    try:
        users.add_user(SYSTEM, "admin", "abcdefgh12", "管理员", db=db)
        issued = {}
        original = cookie_server.issue_nonce

        def spy(token, max_age=0):
            issued["token"], issued["max_age"] = token, max_age
            return original(token, max_age)

        monkeypatch.setattr(cookie_server, "issue_nonce", spy)
        at = AppTest.from_function(_login_app, default_timeout=30).run()
        at.text_input[0].input("admin")
        at.text_input[1].input("abcdefgh12")
        # the form run ends with st.rerun(); the cookie is written on the complete run after it
        at = at.button(key=f"FormSubmitter:{auth.LOGIN_FORM_KEY}-登录").click().run()
        assert not at.exception
        claims = jwt.decode(issued["token"], users.cookie_key(db), algorithms=["HS256"])
        assert claims["username"] == "admin"
        assert 86000 < issued["max_age"] <= 86400
        scripts = [h.proto.body for h in at.get("html")]
        assert any(cookie_server.SET_PATH in body for body in scripts)
        assert not any(issued["token"] in body for body in scripts)
    finally:
        close_db(path)
