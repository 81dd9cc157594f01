"""Logins: bcrypt hashes, password policy, persistent lockout, cookie revocation.

Users live in the `users` table only. streamlit-authenticator is handed the dict that
`credentials_for_authenticator` builds from that table and never sees a file. Lockout, disabled
logins and cookie revocation are enforced here, not by the library (its own attempt counter lives
in memory and resets on restart). docs/security.md explains the whole login path.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import threading
from dataclasses import dataclass

import bcrypt
import polars as pl

from data.audit import record
from data.db import Database
from data.plan import normalize_name
from data.scope import ROLES, SYSTEM, PermissionDenied, Scope

MAX_FAILED_ATTEMPTS = 5
LOCK_MINUTES = 15
MIN_PASSWORD_LENGTH = 10
# bcrypt 5 refuses passwords longer than 72 bytes instead of silently truncating them.
MAX_PASSWORD_BYTES = 72
# Work factor; tests lower it to keep hashing fast.
BCRYPT_ROUNDS = 12

ACTION = "用户管理"
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
    stamp = (now or dt.datetime.now()).timestamp()
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
    db: Database,
    actor: Scope,
    username: str,
    password: str,
    role: str,
    unit_name: str | None = None,
    display_name: str | None = None,
) -> None:
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


def reset_password(db: Database, actor: Scope, username: str, password: str) -> None:
    """Set a new password, clear the lock and sign the user out everywhere."""
    if normalize_username(username) != actor.username:
        _require_admin(actor)
    check_password(password)
    with db.transaction() as cur:
        row = _require_user(cur, username)
        cur.execute(
            "UPDATE users SET password_hash = ?, failed_attempts = 0, locked_until = NULL WHERE username = ?",
            [hash_password(password), row["username"]],
        )
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


def disable_user(db: Database, actor: Scope, username: str) -> None:
    _set_disabled(db, actor, username, True)


def enable_user(db: Database, actor: Scope, username: str) -> None:
    _set_disabled(db, actor, username, False)


def change_role(db: Database, actor: Scope, username: str, role: str, unit_name: str | None = None) -> None:
    """Change a user's role (and unit, for 单位); the user's sessions end so the new scope applies."""
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


# -- login ---------------------------------------------------------------------------------------
# Failed attempts on usernames that do not exist, so that they lock exactly like real ones and
# the lock message cannot be used to tell which usernames exist. In memory and bounded: it only
# has to hide existence, not to survive a restart.
_unknown_failures: dict[str, tuple[int, dt.datetime | None]] = {}
_unknown_lock = threading.Lock()
_UNKNOWN_MAX = 10_000


def _locked_message(until: dt.datetime) -> str:
    return (
        f"连续{MAX_FAILED_ATTEMPTS}次登录失败，该账号已被锁定{LOCK_MINUTES}分钟，"
        f"请于{until:%H:%M}后再试，或联系管理员重置密码。"
    )


def _unknown_attempt(name: str, now: dt.datetime) -> LoginResult:
    with _unknown_lock:
        count, until = _unknown_failures.get(name, (0, None))
        if until is not None and until > now:
            return LoginResult(None, _locked_message(until))
        count += 1
        if count >= MAX_FAILED_ATTEMPTS:
            until = now + dt.timedelta(minutes=LOCK_MINUTES)
            _unknown_failures[name] = (0, until)
            return LoginResult(None, _locked_message(until))
        if len(_unknown_failures) >= _UNKNOWN_MAX:
            _unknown_failures.clear()
        _unknown_failures[name] = (count, None)
    return LoginResult(None, LOGIN_FAILED_MESSAGE)


def attempt_login(
    db: Database, username: str, password: str, now: dt.datetime | None = None, purpose: str = "密码登录"
) -> LoginResult:
    """Check a login; count failures and lock for 15 minutes after 5 in a row (persisted).

    The messages never say whether the username exists: an unknown username fails, and locks,
    exactly like a wrong password."""
    now = now or dt.datetime.now()
    name = normalize_username(username)
    if not name or not db.rows("SELECT 1 FROM users WHERE username = ?", [name]):
        verify_password(password, _dummy_hash())
        return _unknown_attempt(name, now)
    with db.transaction() as cur:
        row = _user_row(cur, name)
        if row["locked_until"] is not None and row["locked_until"] > now:
            return LoginResult(None, _locked_message(row["locked_until"]))
        if verify_password(password, row["hash"]):
            if row["disabled"]:
                return LoginResult(None, "该账号已停用，请联系领导小组办公室。")
            cur.execute("UPDATE users SET failed_attempts = 0, locked_until = NULL WHERE username = ?", [name])
            scope = Scope(username=name, role=row["role"], unit_id=row["unit_id"], display_name=row["display_name"])
            _record(cur, scope, "登录", name, purpose)
            return LoginResult(scope)
        failed = row["failed_attempts"] + 1
        if failed >= MAX_FAILED_ATTEMPTS:
            until = now + dt.timedelta(minutes=LOCK_MINUTES)
            cur.execute("UPDATE users SET failed_attempts = 0, locked_until = ? WHERE username = ?", [until, name])
            _record(cur, SYSTEM, "账号锁定", name,
                    f"连续{MAX_FAILED_ATTEMPTS}次密码错误，锁定至{until:%Y-%m-%d %H:%M}")
            return LoginResult(None, _locked_message(until))
        cur.execute("UPDATE users SET failed_attempts = ?, locked_until = NULL WHERE username = ?", [failed, name])
        return LoginResult(None, LOGIN_FAILED_MESSAGE)


def check_login(
    db: Database, username: str, password: str, now: dt.datetime | None = None, purpose: str = "密码登录"
) -> Scope | None:
    """The Scope of a good login, None otherwise (attempt_login says why, in Chinese)."""
    return attempt_login(db, username, password, now, purpose).scope


def session_scope(db: Database, username: str, issued_at: float) -> Scope | None:
    """The current Scope for a session or cookie issued at `issued_at` (unix time), or None when
    the user is gone, disabled, or signed out / reset / changed role after it was issued."""
    scope = scope_of(db, username)
    if scope is None or issued_at < revoked_at(db, username):
        return None
    return scope


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
