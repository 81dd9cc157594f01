"""data/users.py: password policy, persistent lockout, last-admin protection, revocation."""

import datetime as dt

import pytest

from data import users
from data.db import Database
from data.schema import prepare_database
from data.scope import SYSTEM, PermissionDenied, Scope
from data.users import UserError

GOOD = "abcdefgh12"  # 10 characters, letters and digits


@pytest.fixture(autouse=True)
def fast_bcrypt(monkeypatch):
    monkeypatch.setattr(users, "BCRYPT_ROUNDS", 4)
    users._unknown_failures.clear()


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "t.duckdb"


@pytest.fixture
def db(db_path):
    database = Database(db_path)
    prepare_database(database)
    yield database
    database.close()


def audit_rows(db, action):
    return db.rows("SELECT username, target, detail FROM audit_log WHERE action = ? ORDER BY id", [action])


@pytest.mark.parametrize(
    "password, message",
    [
        ("abc12", "至少需要10个字符"),
        ("abcdefghijk", "同时包含字母和数字"),
        ("1234567890", "同时包含字母和数字"),
        ("a1" * 40, "过长"),
    ],
)
def test_password_policy_refuses(db, password, message):
    with pytest.raises(UserError, match=message):
        users.add_user(db, SYSTEM, "wang", password, "领导")
    assert not users.has_users(db)


def test_add_user_stores_a_bcrypt_hash_and_audits(db):
    users.add_user(db, SYSTEM, " Wang ", GOOD, "领导", display_name="王组长")
    frame = users.list_users(db)
    assert frame.select("username", "display_name", "role", "unit_id", "disabled").rows() == [
        ("wang", "王组长", "领导", None, False)
    ]
    assert "password_hash" not in frame.columns
    stored = db.scalar("SELECT password_hash FROM users")
    assert stored.startswith("$2b$") and GOOD not in stored
    assert audit_rows(db, "用户管理") == [("system", "wang", "新增用户（领导）")]


def test_unit_user_needs_an_existing_unit_matched_by_alias(db):
    with pytest.raises(UserError, match="必须指定所属单位"):
        users.add_user(db, SYSTEM, "u1", GOOD, "单位")
    with pytest.raises(UserError, match="不存在"):
        users.add_user(db, SYSTEM, "u1", GOOD, "单位", unit_name="县不存在局")
    # 县网信中心 is an alias of 县委网信中心; a trailing full-width space is folded away
    users.add_user(db, SYSTEM, "u1", GOOD, "单位", unit_name="县网信中心\u3000")
    expected = db.scalar("SELECT unit_id FROM units WHERE name = '县委网信中心'")
    assert users.list_users(db).select("unit_id", "unit_name").row(0) == (expected, "县委网信中心")


def test_only_an_admin_may_change_users(db):
    leader = Scope("boss", "领导")
    with pytest.raises(PermissionDenied):
        users.add_user(db, leader, "x1", GOOD, "领导")


def test_duplicate_username_refused(db):
    users.add_user(db, SYSTEM, "wang", GOOD, "领导")
    with pytest.raises(UserError, match="已存在"):
        users.add_user(db, SYSTEM, "WANG", GOOD, "管理员")


def test_first_admin_only_once(db):
    assert not users.has_users(db)
    scope = users.create_first_admin(db, "admin", GOOD, "办公室")
    assert scope == Scope("admin", "管理员", None, "办公室")
    with pytest.raises(UserError, match="已有用户"):
        users.create_first_admin(db, "admin2", GOOD, "又一个")
    assert users.list_users(db)["username"].to_list() == ["admin"]


def test_good_and_bad_login(db):
    users.add_user(db, SYSTEM, "wang", GOOD, "领导", display_name="王组长")
    assert users.check_login(db, "Wang", GOOD) == Scope("wang", "领导", None, "王组长")
    bad = users.attempt_login(db, "wang", "wrongpass99")
    assert bad.scope is None and bad.message == "用户名或密码错误。"
    assert db.scalar("SELECT failed_attempts FROM users") == 1
    # an unknown username gets the very same message
    assert users.attempt_login(db, "nobody", "wrongpass99").message == "用户名或密码错误。"


def test_lockout_after_five_failures_persists_across_a_new_database_object(db_path, db):
    users.add_user(db, SYSTEM, "wang", GOOD, "领导")
    now = dt.datetime(2026, 11, 25, 9, 0)
    for attempt in range(1, 5):
        assert users.attempt_login(db, "wang", "wrongpass99", now).message == "用户名或密码错误。"
        assert db.scalar("SELECT failed_attempts FROM users") == attempt
    fifth = users.attempt_login(db, "wang", "wrongpass99", now)
    assert "已被锁定15分钟" in fifth.message and "09:15" in fifth.message
    db.close()

    reopened = Database(db_path)  # a restart does not unlock
    assert reopened.scalar("SELECT locked_until FROM users") == dt.datetime(2026, 11, 25, 9, 15)
    # even the right password is refused while locked
    locked = users.attempt_login(reopened, "wang", GOOD, now + dt.timedelta(minutes=14))
    assert locked.scope is None and "已被锁定" in locked.message
    # after 15 minutes it works again and the counters are cleared
    assert users.check_login(reopened, "wang", GOOD, now + dt.timedelta(minutes=15, seconds=1)) is not None
    assert reopened.rows("SELECT failed_attempts, locked_until FROM users") == [(0, None)]
    assert [r[1] for r in audit_rows(reopened, "账号锁定")] == ["wang"]
    reopened.close()


def test_unknown_usernames_lock_like_real_ones(db):
    messages = [users.attempt_login(db, "ghost", "wrongpass99").message for _ in range(6)]
    assert messages[:4] == ["用户名或密码错误。"] * 4
    assert "已被锁定15分钟" in messages[4] and "已被锁定15分钟" in messages[5]


def test_disabled_user_cannot_log_in_and_is_not_handed_to_the_library(db):
    users.add_user(db, SYSTEM, "admin", GOOD, "管理员")
    users.add_user(db, SYSTEM, "wang", GOOD, "领导")
    users.disable_user(db, SYSTEM, "wang")
    assert users.attempt_login(db, "wang", GOOD).message == "该账号已停用，请联系领导小组办公室。"
    assert list(users.credentials_for_authenticator(db)["usernames"]) == ["admin"]
    users.enable_user(db, SYSTEM, "wang")
    assert users.check_login(db, "wang", GOOD) is not None


def test_credentials_dict_for_the_library(db):
    users.add_user(db, SYSTEM, "admin", GOOD, "管理员", display_name="办公室")
    creds = users.credentials_for_authenticator(db)
    entry = creds["usernames"]["admin"]
    assert entry["name"] == "办公室" and entry["roles"] == ["管理员"]
    assert entry["password"] == db.scalar("SELECT password_hash FROM users")


def test_last_active_admin_cannot_be_disabled_or_demoted(db):
    users.add_user(db, SYSTEM, "admin", GOOD, "管理员")
    with pytest.raises(UserError, match="最后一个启用的管理员"):
        users.disable_user(db, SYSTEM, "admin")
    with pytest.raises(UserError, match="最后一个启用的管理员"):
        users.change_role(db, SYSTEM, "admin", "领导")
    users.add_user(db, SYSTEM, "admin2", GOOD, "管理员")
    users.disable_user(db, SYSTEM, "admin")  # now allowed: admin2 is still active
    with pytest.raises(UserError, match="最后一个启用的管理员"):
        users.change_role(db, SYSTEM, "admin2", "单位", unit_name="县财政局")
    assert db.rows("SELECT username, disabled FROM users ORDER BY username") == [("admin", True), ("admin2", False)]


def test_change_role_to_unit_and_back(db):
    users.add_user(db, SYSTEM, "li", GOOD, "领导")
    users.change_role(db, SYSTEM, "li", "单位", unit_name="县财政局")
    finance = db.scalar("SELECT unit_id FROM units WHERE name = '县财政局'")
    assert users.scope_of(db, "li") == Scope("li", "单位", finance, "li")
    users.change_role(db, SYSTEM, "li", "领导")
    assert users.scope_of(db, "li").unit_id is None
    assert [r[2] for r in audit_rows(db, "用户管理")] == ["新增用户（领导）", "角色由领导改为单位", "角色由单位改为领导"]


def test_reset_password_unlocks_and_revokes_sessions(db):
    users.add_user(db, SYSTEM, "wang", GOOD, "领导")
    db.rows("UPDATE users SET failed_attempts = 0, locked_until = ?", [dt.datetime.now() + dt.timedelta(minutes=10)])
    issued = dt.datetime.now().timestamp() - 1
    assert users.session_scope(db, "wang", issued) is not None
    users.reset_password(db, SYSTEM, "wang", "newpassw0rd")
    assert users.session_scope(db, "wang", issued) is None  # the old cookie/session no longer counts
    assert users.check_login(db, "wang", "newpassw0rd") is not None
    assert users.check_login(db, "wang", GOOD) is None


def test_logout_revokes_older_cookies_only(db):
    users.add_user(db, SYSTEM, "wang", GOOD, "领导")
    before = dt.datetime.now().timestamp() - 5
    users.logout(db, "wang")
    after = dt.datetime.now().timestamp() + 1
    assert users.session_scope(db, "wang", before) is None
    assert users.session_scope(db, "wang", after) == Scope("wang", "领导", None, "wang")
    assert audit_rows(db, "退出登录") == [("wang", "wang", "退出登录")]


def test_a_user_may_change_only_their_own_password(db):
    users.add_user(db, SYSTEM, "admin", GOOD, "管理员")
    users.add_user(db, SYSTEM, "wang", GOOD, "领导")
    wang = users.scope_of(db, "wang")
    users.reset_password(db, wang, "wang", "anotherpw12")
    with pytest.raises(PermissionDenied):
        users.reset_password(db, wang, "admin", "anotherpw12")


def test_cookie_key_generated_once_and_kept(db_path, db):
    key = users.cookie_key(db)
    assert len(key) >= 48 and users.cookie_key(db) == key
    db.close()
    reopened = Database(db_path)
    assert users.cookie_key(reopened) == key
    reopened.close()


def test_unknown_username_costs_a_bcrypt_check_of_the_same_work_factor(monkeypatch):
    # "$2b$04$": an unknown name is checked against a hash as expensive as real ones
    assert users._dummy_hash()[:7] == users.hash_password(GOOD)[:7] == "$2b$04$"
    monkeypatch.setattr(users, "BCRYPT_ROUNDS", 5)
    assert users._dummy_hash()[:7] == "$2b$05$"
