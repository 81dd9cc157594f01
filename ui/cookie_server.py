"""The login cookie written by the server, HttpOnly (and Secure under HTTPS).

streamlit-authenticator writes its re-login cookie from the browser (extra-streamlit-components'
CookieManager, i.e. `document.cookie`), and a cookie written by page script can never be HttpOnly:
any script on the page could read it. So the dashboard writes the cookie itself, from an HTTP
response: after a login the script keeps the signed token under a one-time nonce
(`issue_nonce`), and a small script on the page POSTs that nonce to SET_PATH; the server answers
with `Set-Cookie: …; HttpOnly; SameSite=Strict; Path=/` (+ `Secure` when the request came over
HTTPS, directly or through a proxy that says so in X-Forwarded-Proto). CLEAR_PATH deletes it the
same way on logout. The library still *reads* the cookie, on the server, from the request headers
(`st.context.cookies`), so nothing on the page ever sees the token.

The routes exist when the dashboard is started through `serve.py` (`streamlit run serve.py`,
which wraps app.py in `st.App` with these routes). Started as `streamlit run app.py` the routes
are missing: logins still work, but no cookie is written, so a reload asks for the password again.
"""

from __future__ import annotations

import secrets
import threading
import time

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

COOKIE_NAME = "yushan_dashboard_auth"
SET_PATH = "/_auth/cookie"
CLEAR_PATH = "/_auth/cookie/clear"
NONCE_SECONDS = 120  # a nonce not used within this time is forgotten
_MAX_PENDING = 10_000

# nonce -> (what to do: the token to set, or None to clear; max age in seconds; created at)
_pending: dict[str, tuple[str | None, int, float]] = {}
_lock = threading.Lock()


def issue_nonce(token: str | None, max_age: int = 0) -> str:
    """A one-time nonce that lets the browser fetch Set-Cookie for `token` (None: delete it)."""
    nonce = secrets.token_urlsafe(32)
    now = time.monotonic()
    with _lock:
        if len(_pending) >= _MAX_PENDING:
            for key, (_t, _a, created) in list(_pending.items()):
                if now - created > NONCE_SECONDS:
                    del _pending[key]
            if len(_pending) >= _MAX_PENDING:
                _pending.clear()
        _pending[nonce] = (token, int(max_age), now)
    return nonce


def _take(nonce: str) -> tuple[str | None, int] | None:
    with _lock:
        entry = _pending.pop(nonce, None)
    if entry is None or time.monotonic() - entry[2] > NONCE_SECONDS:
        return None
    return entry[0], entry[1]


def is_https(request: Request) -> bool:
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return request.url.scheme == "https" or forwarded == "https"


async def _answer(request: Request, want_token: bool) -> Response:
    nonce = (await request.body())[:200].decode("ascii", "replace").strip()
    entry = _take(nonce)
    if entry is None or (entry[0] is not None) != want_token:
        return Response(status_code=403)
    token, max_age = entry
    response = Response(status_code=204, headers={"Cache-Control": "no-store"})
    if token is None:
        response.delete_cookie(COOKIE_NAME, path="/", secure=is_https(request), httponly=True, samesite="strict")
    else:
        response.set_cookie(COOKIE_NAME, token, max_age=max_age, path="/", secure=is_https(request), httponly=True,
                            samesite="strict")
    return response


async def set_cookie(request: Request) -> Response:
    return await _answer(request, want_token=True)


async def clear_cookie(request: Request) -> Response:
    return await _answer(request, want_token=False)


def routes() -> list[Route]:
    return [Route(SET_PATH, set_cookie, methods=["POST"]), Route(CLEAR_PATH, clear_cookie, methods=["POST"])]


def browser_call(path: str, nonce: str) -> str:
    """The page script that hands `nonce` to the server (same origin, so the answer's Set-Cookie
    applies to the dashboard)."""
    return (
        "<script>fetch(" + repr(path) + ", {method: 'POST', credentials: 'same-origin', "
        "headers: {'Content-Type': 'text/plain'}, body: " + repr(nonce) + "}).catch(() => {});</script>"
    )
