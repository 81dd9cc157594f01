"""Logins: bcrypt hashes, password policy, login delays, session limits, cookie revocation.

Users live in the `users` table only. streamlit-authenticator is handed the dict that
`credentials_for_authenticator` builds from that table and never sees a file. Login delays, disabled
logins and cookie revocation are enforced here, not by the library (its own attempt counter lives
in memory and resets on restart). docs/security.md explains the whole login path.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import secrets
import threading
import time
from dataclasses import dataclass

import bcrypt
import polars as pl

from data.services.reading import read, resolve_db
from data.storage.audit_log import record
from data.storage.db import Database
from data.storage.plan import normalize_name
from data.storage.scope import ROLES, SYSTEM, PermissionDenied, Scope

# Login and session limits; the office may override each in the `settings` table (JSON numbers).
AUTH_DEFAULTS: dict[str, float] = {
    "login_free_attempts": 5,          # wrong passwords in a row (per account and source) before delays
    "login_delay_seconds": 30,         # the first delay; each further failure doubles it ...
    "login_max_delay_seconds": 900,    # ... up to this
    "session_idle_minutes": 30,        # a session unused this long ends
    "session_max_hours": 12,           # a session (and its cookie) ends this long after the login
}
MIN_PASSWORD_LENGTH = 10
# bcrypt 5 refuses passwords longer than 72 bytes instead of silently truncating them.
MAX_PASSWORD_BYTES = 72
# Work factor; tests lower it to keep hashing fast.
BCRYPT_ROUNDS = 12

ACTION = "用户管理"
# The time source of logins and sessions (unix seconds); tests replace it with a fake clock.
clock = time.time
LOGIN_FAILED_MESSAGE = "用户名或密码错误。"
_USERNAME = re.compile(r"^[\w.\-@\u4e00-\u9fff]{2,32}$")

# Valid hashes of a random secret, checked against when the username is unknown so that a
# wrong username costs as much time as a wrong password (same work factor as real hashes).
_dummy_hashes: dict[int, str] = {}


def _dummy_hash() -> str:
    rounds = BCRYPT_ROUNDS
    if rounds not in _dummy_hashes:
        _dummy_hashes[rounds] = bcrypt.hashpw(secrets.token_bytes(16), bcrypt.gensalt(rounds=rounds)).decode("ascii")
    return _dummy_hashes[rounds]


class UserError(ValueError):
    """A refused user change or login, with a message to show in Chinese."""

    def __init__(self, message_cn: str):
        super().__init__(message_cn)
        self.message_cn = message_cn


@dataclass(frozen=True)
class LoginResult:
    scope: Scope | None
    message: str = ""  # Chinese, shown on the login form when scope is None


# -- audit ---------------------------------------------------------------------------------------
def _record(cur, actor: Scope, action: str, target: str, detail: str, before=None, after=None) -> None:
    record(cur, actor, action, target=target, detail=detail, before=before, after=after)


# -- validation ----------------------------------------------------------------------------------
def normalize_username(username: str) -> str:
    """Usernames compare trimmed and lower-cased (the login library lower-cases them too)."""
    return str(username or "").strip().lower()


def check_username(username: str) -> str:
    name = normalize_username(username)
    if not _USERNAME.match(name):
        raise UserError("用户名须为2至32个字符，可使用汉字、字母、数字及 . _ - @，不能含空格。")
    return name


def check_password(password: str) -> None:
    """The policy: at least 10 characters, with both letters and digits, at most 72 bytes."""
    password = password or ""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"密码至少需要{MIN_PASSWORD_LENGTH}个字符。")
    if not re.search(r"[A-Za-z]", password) or not re.search(r"\d", password):
        raise UserError("密码须同时包含字母和数字。")
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        raise UserError("密码过长（不能超过72个字节）。")


def hash_password(password: str) -> str:
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds=BCRYPT_ROUNDS)).decode("ascii")


def verify_password(password: str, password_hash: str) -> bool:
    try:
        return bcrypt.checkpw((password or "").encode("utf-8"), password_hash.encode("ascii"))
    except ValueError:  # over 72 bytes, or a malformed hash
        return False


def _require_admin(actor: Scope) -> None:
    if not actor.is_admin:
        raise PermissionDenied("此操作仅限领导小组办公室（管理员）。")


def resolve_unit(db_or_cur, unit_name: str | None) -> int:
    """unit_id of a unit named by its name or an alias (compared after normalize_name)."""
    if not unit_name or not str(unit_name).strip():
        raise UserError("单位账号必须指定所属单位。")
    wanted = normalize_name(unit_name)
    rows = _rows(
        db_or_cur,
        "SELECT name, unit_id FROM units UNION ALL SELECT alias, unit_id FROM unit_aliases",
    )
    for name, unit_id in rows:
        if normalize_name(name) == wanted:
            return int(unit_id)
    raise UserError(f"单位“{unit_name}”不存在，请先在单位名录中添加。")


def _rows(db_or_cur, sql: str, params: list | None = None) -> list[tuple]:
    if isinstance(db_or_cur, Database):
        return db_or_cur.rows(sql, params)
    return db_or_cur.execute(sql, params or []).fetchall()


def _user_row(cur, username: str) -> dict | None:
    row = cur.execute(
        "SELECT username, display_name, role, unit_id, disabled, failed_attempts, locked_until, password_hash "
        "FROM users WHERE username = ?",
        [username],
    ).fetchone()
    if row is None:
        return None
    keys = ("username", "display_name", "role", "unit_id", "disabled", "failed_attempts", "locked_until", "hash")
    return dict(zip(keys, row, strict=True))


def _require_user(cur, username: str) -> dict:
    row = _user_row(cur, normalize_username(username))
    if row is None:
        raise UserError(f"用户“{username}”不存在。")
    return row


def _active_admins(cur) -> int:
    return cur.execute("SELECT count(*) FROM users WHERE role = '管理员' AND NOT disabled").fetchone()[0]


def _public(row: dict) -> dict:
    return {k: row[k] for k in ("role", "unit_id", "disabled", "display_name")}


# -- revocation ----------------------------------------------------------------------------------
def _revoke_key(username: str) -> str:
    return f"auth_revoked_at:{username}"


def _revoke_sessions(cur, username: str, now: dt.datetime | None = None) -> None:
    """Every login cookie and session of `username` issued before now becomes invalid."""
    stamp = now.timestamp() if now else clock()
    cur.execute(
        "INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [_revoke_key(username), repr(stamp)],
    )


def revoked_at(db: Database, username: str) -> float:
    """Unix time of the user's last logout / password reset / role change (0 if none)."""
    value = db.scalar("SELECT value FROM meta WHERE key = ?", [_revoke_key(normalize_username(username))])
    return float(value) if value else 0.0


def cookie_key(db: Database) -> str:
    """The secret that signs login cookies: generated on first use, kept in the meta table."""
    key = db.scalar("SELECT value FROM meta WHERE key = 'cookie_key'")
    if key:
        return key
    with db.transaction() as cur:
        cur.execute(
            "INSERT INTO meta VALUES ('cookie_key', ?) ON CONFLICT DO NOTHING", [secrets.token_urlsafe(48)]
        )
    return db.scalar("SELECT value FROM meta WHERE key = 'cookie_key'")


# -- queries -------------------------------------------------------------------------------------
def has_users(db: Database) -> bool:
    return bool(db.scalar("SELECT count(*) FROM users"))


def list_users(db: Database) -> pl.DataFrame:
    """Every login with its unit name and lock state, office first; never the password hash."""
    return db.frame(
        "SELECT u.username, u.display_name, u.role, u.unit_id, n.name AS unit_name, u.disabled, "
        "u.failed_attempts, u.locked_until, u.created_at "
        "FROM users u LEFT JOIN units n ON n.unit_id = u.unit_id "
        "ORDER BY CASE u.role WHEN '管理员' THEN 1 WHEN '领导' THEN 2 ELSE 3 END, n.sort_order, u.username"
    )


# -- what the 用户管理, 操作日志 and 修改密码 pages read ---------------------------------------------------
@read
def accounts(scope: Scope, *, db: Database | None = None) -> pl.DataFrame:
    """list_users for the 用户管理 page (the page itself is office only)."""
    return list_users(db)


@read
def display_names(scope: Scope, *, db: Database | None = None) -> dict[str, str]:
    """Every login's display name ('' when none), office first: the 操作日志 page's user filter."""
    people = list_users(db)
    return dict(zip(people["username"].to_list(), people["display_name"].fill_null("").to_list(), strict=True))


@read
def login_limits(scope: Scope, *, db: Database | None = None) -> dict:
    """auth_settings for the page that explains the login delays."""
    return auth_settings(db)


@read
def unit_names(scope: Scope, *, db: Database | None = None) -> list[str]:
    """Every unit's name in plan order: the choices of a 单位 account's unit."""
    from data.storage.facts import load_facts

    return load_facts(db).units["name"].to_list()


def scope_of(db: Database, username: str) -> Scope | None:
    """The current Scope of an active user (None when unknown or disabled)."""
    rows = db.rows(
        "SELECT username, role, unit_id, display_name FROM users WHERE username = ? AND NOT disabled",
        [normalize_username(username)],
    )
    if not rows:
        return None
    name, role, unit_id, display = rows[0]
    return Scope(username=name, role=role, unit_id=unit_id, display_name=display)


def credentials_for_authenticator(db: Database) -> dict:
    """The dict streamlit-authenticator wants, built from active users (hashes pre-computed)."""
    rows = db.rows("SELECT username, display_name, password_hash, role FROM users WHERE NOT disabled")
    return {
        "usernames": {
            name: {"name": display, "password": pw_hash, "roles": [role], "email": None}
            for name, display, pw_hash, role in rows
        }
    }


# -- writes --------------------------------------------------------------------------------------
def _insert_user(cur, username, password, role, unit_id, display_name, now) -> None:
    cur.execute(
        "INSERT INTO users (username, display_name, password_hash, role, unit_id, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [username, display_name, hash_password(password), role, unit_id, now],
    )


def add_user(
    actor: Scope,
    username: str,
    password: str,
    role: str,
    unit_name: str | None = None,
    display_name: str | None = None,
    *,
    db: Database | None = None,
) -> None:
    db = resolve_db(db)
    _require_admin(actor)
    name = check_username(username)
    if role not in ROLES:
        raise UserError(f"角色须为{'、'.join(ROLES)}之一。")
    check_password(password)
    display = (display_name or "").strip() or name
    with db.transaction() as cur:
        if _user_row(cur, name) is not None:
            raise UserError(f"用户名“{name}”已存在。")
        unit_id = resolve_unit(cur, unit_name) if role == "单位" else None
        _insert_user(cur, name, password, role, unit_id, display, dt.datetime.now())
        _record(cur, actor, ACTION, name, f"新增用户（{role}）", None,
                {"role": role, "unit_id": unit_id, "disabled": False, "display_name": display})


def create_first_admin(db: Database, username: str, password: str, display_name: str) -> Scope:
    """The one-time setup: only when the table is empty, creates a 管理员 and returns its Scope."""
    name = check_username(username)
    check_password(password)
    display = (display_name or "").strip() or name
    with db.transaction() as cur:
        if cur.execute("SELECT count(*) FROM users").fetchone()[0]:
            raise UserError("系统已有用户，不能再次初始化管理员。")
        _insert_user(cur, name, password, "管理员", None, display, dt.datetime.now())
        actor = Scope(username=name, role="管理员", display_name=display)
        _record(cur, actor, ACTION, name, "首次启动：创建第一个管理员", None,
                {"role": "管理员", "unit_id": None, "disabled": False, "display_name": display})
    return actor


def reset_password(actor: Scope, username: str, password: str, *, db: Database | None = None) -> None:
    """Set a new password, clear the lock and sign the user out everywhere."""
    db = resolve_db(db)
    if normalize_username(username) != actor.username:
        _require_admin(actor)
    check_password(password)
    with db.transaction() as cur:
        row = _require_user(cur, username)
        cur.execute(
            "UPDATE users SET password_hash = ?, failed_attempts = 0, locked_until = NULL WHERE username = ?",
            [hash_password(password), row["username"]],
        )
        cur.execute("DELETE FROM login_throttle WHERE username = ?", [row["username"]])
        _revoke_sessions(cur, row["username"])
        detail = "修改本人密码" if row["username"] == actor.username else "重置密码并解除锁定"
        _record(cur, actor, ACTION, row["username"], detail)


def _set_disabled(db: Database, actor: Scope, username: str, disabled: bool) -> None:
    _require_admin(actor)
    with db.transaction() as cur:
        row = _require_user(cur, username)
        if row["disabled"] == disabled:
            return
        if disabled and row["role"] == "管理员" and _active_admins(cur) <= 1:
            raise UserError("这是最后一个启用的管理员账号，不能停用，否则将无人能够管理系统。")
        cur.execute("UPDATE users SET disabled = ? WHERE username = ?", [disabled, row["username"]])
        if disabled:
            _revoke_sessions(cur, row["username"])
        _record(cur, actor, ACTION, row["username"], "停用账号" if disabled else "启用账号",
                _public(row), {**_public(row), "disabled": disabled})


def disable_user(actor: Scope, username: str, *, db: Database | None = None) -> None:
    _set_disabled(resolve_db(db), actor, username, True)


def enable_user(actor: Scope, username: str, *, db: Database | None = None) -> None:
    _set_disabled(resolve_db(db), actor, username, False)


def change_role(actor: Scope, username: str, role: str, unit_name: str | None = None, *,
                db: Database | None = None) -> None:
    """Change a user's role (and unit, for 单位); the user's sessions end so the new scope applies."""
    db = resolve_db(db)
    _require_admin(actor)
    if role not in ROLES:
        raise UserError(f"角色须为{'、'.join(ROLES)}之一。")
    with db.transaction() as cur:
        row = _require_user(cur, username)
        unit_id = resolve_unit(cur, unit_name) if role == "单位" else None
        if row["role"] == role and row["unit_id"] == unit_id:
            return
        if row["role"] == "管理员" and role != "管理员" and not row["disabled"] and _active_admins(cur) <= 1:
            raise UserError("这是最后一个启用的管理员账号，不能改为其他角色。")
        cur.execute("UPDATE users SET role = ?, unit_id = ? WHERE username = ?", [role, unit_id, row["username"]])
        _revoke_sessions(cur, row["username"])
        _record(cur, actor, ACTION, row["username"], f"角色由{row['role']}改为{role}",
                _public(row), {**_public(row), "role": role, "unit_id": unit_id})


# -- login throttle ------------------------------------------------------------------------------
# After `login_free_attempts` wrong passwords in a row for one account from one source (the client's
# address), each further attempt from that source must wait a delay that doubles, from
# `login_delay_seconds` up to `login_max_delay_seconds`. The account is never locked for everyone:
# someone guessing from another address does not delay the rightful user, and a 管理员 can lift the
# delay at once (用户管理 page or `python -m data user unlock`). State per (username, source) lives
# in the login_throttle table, so a restart does not reset it.
def auth_settings(db_or_cur) -> dict:
    """The login and session limits: AUTH_DEFAULTS overridden by the `settings` table."""
    values = dict(AUTH_DEFAULTS)
    rows = _rows(db_or_cur, "SELECT key, value FROM settings WHERE key IN ({})".format(
        ", ".join("?" * len(AUTH_DEFAULTS))), list(AUTH_DEFAULTS))
    for key, raw in rows:
        try:
            value = json.loads(raw)
        except (TypeError, ValueError):
            continue
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
            values[key] = value
    return values


def login_delay(failures: int, limits: dict) -> float:
    """Seconds the next attempt must wait after `failures` consecutive failures (0 while free)."""
    extra = failures - int(limits["login_free_attempts"])
    if extra < 0:
        return 0.0
    return float(min(limits["login_delay_seconds"] * 2 ** min(extra, 30), limits["login_max_delay_seconds"]))


def _wait_message(until: dt.datetime, now: dt.datetime) -> str:
    seconds = max(1, math.ceil((until - now).total_seconds()))
    wait = f"{seconds}秒" if seconds < 60 else f"{math.ceil(seconds / 60)}分钟"
    return (f"登录失败次数过多，请于{wait}后（{until:%H:%M:%S}以后）再试；"
            "如忘记密码，请联系领导小组办公室重置密码或解除限制。")


# Failures older than this are forgotten (and their rows pruned), so that a wrong password now and
# then over months never adds up to a delay.
FORGET_AFTER = dt.timedelta(days=1)

# Failed attempts on usernames that do not exist, so that they are delayed exactly like real ones
# and the messages cannot tell which usernames exist. In memory and bounded: it only has to hide
# existence, not to survive a restart.
_unknown_failures: dict[tuple[str, str], tuple[int, dt.datetime | None, dt.datetime]] = {}
_unknown_lock = threading.Lock()
_UNKNOWN_MAX = 10_000


def _unknown_attempt(db: Database, name: str, password: str, source: str, now: dt.datetime) -> LoginResult:
    limits = auth_settings(db)
    with _unknown_lock:
        count, until, last = _unknown_failures.get((name, source), (0, None, now))
    if last < now - FORGET_AFTER and (until is None or until <= now):
        count, until = 0, None
    if until is not None and until > now:
        return LoginResult(None, _wait_message(until, now))
    verify_password(password, _dummy_hash())  # the same cost as a real wrong password
    count += 1
    delay = login_delay(count, limits)
    until = now + dt.timedelta(seconds=delay) if delay else None
    with _unknown_lock:
        if len(_unknown_failures) >= _UNKNOWN_MAX:
            _unknown_failures.clear()
        _unknown_failures[(name, source)] = (count, until, now)
    return LoginResult(None, _wait_message(until, now) if until else LOGIN_FAILED_MESSAGE)


def _throttle(cur, name: str, source: str, now: dt.datetime) -> tuple[int, dt.datetime | None]:
    row = cur.execute("SELECT failures, next_allowed_at, last_failed_at FROM login_throttle "
                      "WHERE username = ? AND source = ?", [name, source]).fetchone()
    if row is None or (row[2] < now - FORGET_AFTER and (row[1] is None or row[1] <= now)):
        return 0, None
    return int(row[0]), row[1]


def _sync_user_summary(cur, name: str) -> None:
    """users.failed_attempts / locked_until summarise the throttle rows (the lists show them)."""
    cur.execute(
        "UPDATE users SET failed_attempts = coalesce((SELECT sum(failures) FROM login_throttle t "
        "WHERE t.username = users.username), 0), locked_until = (SELECT max(next_allowed_at) "
        "FROM login_throttle t WHERE t.username = users.username) WHERE username = ?",
        [name],
    )


def attempt_login(
    db: Database, username: str, password: str, now: dt.datetime | None = None, purpose: str = "密码登录",
    source: str = "",
) -> LoginResult:
    """Check a login from `source` (the client's address; "" when unknown). Wrong passwords are
    counted per (account, source); past the free attempts, each further attempt from that source
    must wait the delay of `login_delay` (persisted), and is refused unchecked until then.

    The messages never say whether the username exists: an unknown username fails, and is
    delayed, exactly like a wrong password."""
    now = now or dt.datetime.fromtimestamp(clock())
    name = normalize_username(username)
    source = str(source or "")[:64]
    if not name or not db.rows("SELECT 1 FROM users WHERE username = ?", [name]):
        return _unknown_attempt(db, name, password, source, now)
    limits = auth_settings(db)
    with db.transaction() as cur:
        failures, until = _throttle(cur, name, source, now)
        if until is not None and until > now:
            return LoginResult(None, _wait_message(until, now))
        row = _user_row(cur, name)
        if verify_password(password, row["hash"]):
            if row["disabled"]:
                return LoginResult(None, "该账号已停用，请联系领导小组办公室。")
            cur.execute("DELETE FROM login_throttle WHERE username = ? AND source = ?", [name, source])
            _sync_user_summary(cur, name)
            scope = Scope(username=name, role=row["role"], unit_id=row["unit_id"], display_name=row["display_name"])
            _record(cur, scope, "登录", name, purpose)
            return LoginResult(scope)
        failures += 1
        delay = login_delay(failures, limits)
        until = now + dt.timedelta(seconds=delay) if delay else None
        cur.execute("DELETE FROM login_throttle WHERE last_failed_at < ? AND coalesce(next_allowed_at, "
                    "last_failed_at) <= ?", [now - FORGET_AFTER, now])
        cur.execute(
            "INSERT INTO login_throttle VALUES (?, ?, ?, ?, ?) ON CONFLICT (username, source) "
            "DO UPDATE SET failures = excluded.failures, next_allowed_at = excluded.next_allowed_at, "
            "last_failed_at = excluded.last_failed_at",
            [name, source, failures, until, now],
        )
        _sync_user_summary(cur, name)
        if failures == int(limits["login_free_attempts"]):  # logged once per run of failures
            _record(cur, SYSTEM, "账号锁定", name,
                    f"来自{source or '未知地址'}的连续{failures}次密码错误，此后该来源每次尝试须等待，"
                    f"等待时间逐次加倍，最长{_duration(limits['login_max_delay_seconds'])}")
        if until is None:
            return LoginResult(None, LOGIN_FAILED_MESSAGE)
        return LoginResult(None, _wait_message(until, now))


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds % 3600 == 0:
        return f"{seconds // 3600}小时"
    if seconds % 60 == 0:
        return f"{seconds // 60}分钟"
    return f"{seconds}秒"


def unlock_user(actor: Scope, username: str, *, db: Database | None = None) -> bool:
    """Lift every login delay of `username` (all sources). Office only; audited. False when the
    account had no failed attempts to clear."""
    db = resolve_db(db)
    _require_admin(actor)
    with db.transaction() as cur:
        row = _require_user(cur, username)
        had = cur.execute("SELECT count(*) FROM login_throttle WHERE username = ?", [row["username"]]).fetchone()[0]
        cur.execute("DELETE FROM login_throttle WHERE username = ?", [row["username"]])
        cur.execute("UPDATE users SET failed_attempts = 0, locked_until = NULL WHERE username = ?", [row["username"]])
        if had or row["failed_attempts"] or row["locked_until"] is not None:
            _record(cur, actor, ACTION, row["username"], "解除登录限制（清除密码错误次数和等待时间）")
            return True
    return False


def check_login(
    username: str, password: str, now: dt.datetime | None = None, purpose: str = "密码登录",
    source: str = "", *, db: Database | None = None,
) -> Scope | None:
    """The Scope of a good login, None otherwise (attempt_login says why, in Chinese)."""
    return attempt_login(resolve_db(db), username, password, now, purpose, source).scope


REVOKED_MESSAGE = "登录已失效（账号被停用、密码被重置、角色变更或已在别处退出），请重新登录。"

# The last time each user was seen by this server process (unix seconds), so that a login cookie
# brought back by a new browser tab is held to the idle limit too. In memory: after a restart a
# cookie counts as idle from the time it was issued.
_last_seen: dict[str, float] = {}
_last_seen_lock = threading.Lock()


def touch_session(username: str, at: float | None = None) -> None:
    """Note that `username` used the dashboard at `at` (default now)."""
    with _last_seen_lock:
        _last_seen[normalize_username(username)] = clock() if at is None else at


def check_session(
    username: str, issued_at: float, last_seen: float | None = None, now: float | None = None, *,
    db: Database | None = None,
) -> LoginResult:
    """Whether a session (or login cookie) issued at `issued_at` (unix time) may go on at `now`.

    Refused, with the Chinese reason, when the user is gone, disabled, or signed out / reset /
    changed role after it was issued (revocation), when it was last used more than
    `session_idle_minutes` ago (`last_seen`; for a cookie without a session, the user's last
    activity on this server, or the issue time), or when it is older than `session_max_hours`."""
    db = resolve_db(db)
    now = clock() if now is None else now
    scope = scope_of(db, username)
    if scope is None or issued_at < revoked_at(db, username):
        return LoginResult(None, REVOKED_MESSAGE)
    limits = auth_settings(db)
    if now - issued_at > limits["session_max_hours"] * 3600:
        return LoginResult(None, f"登录已超过{_duration(limits['session_max_hours'] * 3600)}，"
                                 "为安全起见请重新登录。")
    if last_seen is None:
        with _last_seen_lock:
            last_seen = max(_last_seen.get(scope.username, 0.0), issued_at)
    if now - last_seen > limits["session_idle_minutes"] * 60:
        return LoginResult(None, f"超过{_duration(limits['session_idle_minutes'] * 60)}未操作，"
                                 "登录已超时，请重新登录。")
    return LoginResult(scope)


def session_scope(
    db: Database, username: str, issued_at: float, last_seen: float | None = None, now: float | None = None,
) -> Scope | None:
    """The current Scope for a session or cookie issued at `issued_at` (unix time), or None when
    check_session refuses it."""
    return check_session(username, issued_at, last_seen, now, db=db).scope


def logout(db: Database, username: str) -> None:
    """End every session and cookie of `username` (a cookie cannot be taken back from a browser,
    so the server stops honouring the ones issued before now)."""
    name = normalize_username(username)
    with db.transaction() as cur:
        row = _user_row(cur, name)
        if row is None:
            return
        _revoke_sessions(cur, name)
        actor = Scope(username=name, role=row["role"], unit_id=row["unit_id"], display_name=row["display_name"])
        _record(cur, actor, "退出登录", name, "退出登录")
