"""data/services/users.py: password policy, persistent lockout, last-admin protection, revocation."""

import datetime as dt

import pytest

from data.services import users
from data.services.users import UserError
from data.storage.db import Database
from data.storage.schema import prepare_database
from data.storage.scope import SYSTEM, PermissionDenied, Scope

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
        users.add_user(SYSTEM, "wang", password, "领导", db=db)
    assert not users.has_users(db)


def test_add_user_stores_a_bcrypt_hash_and_audits(db):
    users.add_user(SYSTEM, " Wang ", GOOD, "领导", display_name="王组长", db=db)
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
        users.add_user(SYSTEM, "u1", GOOD, "单位", db=db)
    with pytest.raises(UserError, match="不存在"):
        users.add_user(SYSTEM, "u1", GOOD, "单位", unit_name="县不存在局", db=db)
    # 县网信中心 is an alias of 县委网信中心; a trailing full-width space is folded away
    users.add_user(SYSTEM, "u1", GOOD, "单位", unit_name="县网信中心\u3000", db=db)
    expected = db.scalar("SELECT unit_id FROM units WHERE name = '县委网信中心'")
    assert users.list_users(db).select("unit_id", "unit_name").row(0) == (expected, "县委网信中心")


def test_only_an_admin_may_change_users(db):
    leader = Scope("boss", "领导")
    with pytest.raises(PermissionDenied):
        users.add_user(leader, "x1", GOOD, "领导", db=db)


def test_duplicate_username_refused(db):
    users.add_user(SYSTEM, "wang", GOOD, "领导", db=db)
    with pytest.raises(UserError, match="已存在"):
        users.add_user(SYSTEM, "WANG", GOOD, "管理员", db=db)


def test_first_admin_only_once(db):
    assert not users.has_users(db)
    scope = users.create_first_admin(db, "admin", GOOD, "办公室")
    assert scope == Scope("admin", "管理员", None, "办公室")
    with pytest.raises(UserError, match="已有用户"):
        users.create_first_admin(db, "admin2", GOOD, "又一个")
    assert users.list_users(db)["username"].to_list() == ["admin"]


def test_good_and_bad_login(db):
    users.add_user(SYSTEM, "wang", GOOD, "领导", display_name="王组长", db=db)
    assert users.check_login("Wang", GOOD, db=db) == Scope("wang", "领导", None, "王组长")
    bad = users.attempt_login(db, "wang", "wrongpass99")
    assert bad.scope is None and bad.message == "用户名或密码错误。"
    assert db.scalar("SELECT failed_attempts FROM users") == 1
    # an unknown username gets the very same message
    assert users.attempt_login(db, "nobody", "wrongpass99").message == "用户名或密码错误。"


def test_delays_after_five_failures_double_up_to_a_cap_and_persist(db_path, db):
    users.add_user(SYSTEM, "wang", GOOD, "领导", db=db)
    now = dt.datetime(2026, 11, 25, 9, 0)
    for attempt in range(1, 5):
        assert users.attempt_login(db, "wang", "wrongpass99", now, source="10.0.0.9").message == "用户名或密码错误。"
        assert db.scalar("SELECT failed_attempts FROM users") == attempt
    fifth = users.attempt_login(db, "wang", "wrongpass99", now, source="10.0.0.9")
    assert fifth.message.startswith("登录失败次数过多，请于30秒后（09:00:30以后）再试")
    db.close()

    reopened = Database(db_path)  # a restart does not lift the delay
    # even the right password is refused, unchecked, while the delay runs
    early = users.attempt_login(reopened, "wang", GOOD, now + dt.timedelta(seconds=29), source="10.0.0.9")
    assert early.scope is None and "请于1秒后" in early.message
    # each further failure doubles the wait: 60 s, 120 s, ... and never more than 15 minutes
    at, waits = now + dt.timedelta(seconds=30), []
    for _ in range(7):
        result = users.attempt_login(reopened, "wang", "wrongpass99", at, source="10.0.0.9")
        until = reopened.scalar("SELECT next_allowed_at FROM login_throttle WHERE username = 'wang'")
        waits.append(int((until - at).total_seconds()))
        assert result.scope is None and "登录失败次数过多" in result.message
        at = until
    assert waits == [60, 120, 240, 480, 900, 900, 900]
    # after the wait the rightful user gets in, and the counters are cleared
    assert users.check_login("wang", GOOD, at, source="10.0.0.9", db=reopened) is not None
    assert reopened.rows("SELECT failed_attempts, locked_until FROM users") == [(0, None)]
    assert reopened.scalar("SELECT count(*) FROM login_throttle") == 0
    assert [r[1] for r in audit_rows(reopened, "账号锁定")] == ["wang"]
    reopened.close()


def test_the_rightful_user_is_not_kept_out_by_failures_from_elsewhere(db):
    users.add_user(SYSTEM, "admin", GOOD, "管理员", db=db)
    now = dt.datetime(2026, 11, 25, 9, 0)
    for _ in range(20):  # someone guessing from another address
        users.attempt_login(db, "admin", "wrongpass99", now, source="203.0.113.7")
    assert "登录失败次数过多" in users.attempt_login(db, "admin", GOOD, now, source="203.0.113.7").message
    assert users.check_login("admin", GOOD, now, source="10.0.0.2", db=db) == Scope("admin", "管理员", None, "admin")
    # one audit row for the run of failures, not one per guess
    assert [r[1] for r in audit_rows(db, "账号锁定")] == ["admin"]
    assert "来自203.0.113.7的连续5次密码错误" in audit_rows(db, "账号锁定")[0][2]


def test_failures_a_day_old_are_forgotten(db):
    users.add_user(SYSTEM, "wang", GOOD, "领导", db=db)
    monday = dt.datetime(2026, 11, 23, 9, 0)
    for _ in range(4):
        users.attempt_login(db, "wang", "wrongpass99", monday)
    tuesday = monday + dt.timedelta(days=1, minutes=1)
    assert users.attempt_login(db, "wang", "wrongpass99", tuesday).message == "用户名或密码错误。"  # 1, not 5
    assert db.scalar("SELECT failures FROM login_throttle WHERE username = 'wang'") == 1
    for _ in range(4):  # an unknown name alike
        users.attempt_login(db, "ghost", "wrongpass99", monday)
    assert users.attempt_login(db, "ghost", "wrongpass99", tuesday).message == "用户名或密码错误。"


def test_thresholds_are_settings(db):
    users.add_user(SYSTEM, "wang", GOOD, "领导", db=db)
    db.rows("INSERT INTO settings VALUES ('login_free_attempts', '2'), ('login_delay_seconds', '10') "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value")
    now = dt.datetime(2026, 11, 25, 9, 0)
    assert users.attempt_login(db, "wang", "wrongpass99", now).message == "用户名或密码错误。"
    assert "请于10秒后" in users.attempt_login(db, "wang", "wrongpass99", now).message


def test_unlock_lifts_every_delay_and_is_audited(db):
    users.add_user(SYSTEM, "admin", GOOD, "管理员", db=db)
    users.add_user(SYSTEM, "wang", GOOD, "领导", db=db)
    now = dt.datetime(2026, 11, 25, 9, 0)
    for _ in range(8):
        users.attempt_login(db, "wang", "wrongpass99", now, source="10.0.0.9")
    assert users.list_users(db).filter(username="wang")["locked_until"][0] > now
    with pytest.raises(PermissionDenied):
        users.unlock_user(Scope("li", "领导", None, "李"), "wang", db=db)
    assert users.unlock_user(users.scope_of(db, "admin"), "wang", db=db) is True
    assert db.rows("SELECT failed_attempts, locked_until FROM users WHERE username = 'wang'") == [(0, None)]
    assert users.check_login("wang", GOOD, now, source="10.0.0.9", db=db) is not None
    assert [r[2] for r in audit_rows(db, "用户管理")][-1] == "解除登录限制（清除密码错误次数和等待时间）"
    assert users.unlock_user(users.scope_of(db, "admin"), "wang", db=db) is False  # nothing to lift


def test_unknown_usernames_are_delayed_like_real_ones(db):
    users.add_user(SYSTEM, "wang", GOOD, "领导", db=db)
    now = dt.datetime(2026, 11, 25, 9, 0)
    ghost = [users.attempt_login(db, "ghost", "wrongpass99", now).message for _ in range(6)]
    real = [users.attempt_login(db, "wang", "wrongpass99", now).message for _ in range(6)]
    assert ghost == real
    assert ghost[:4] == ["用户名或密码错误。"] * 4 and "请于30秒后" in ghost[4] and "请于30秒后" in ghost[5]


def test_disabled_user_cannot_log_in_and_is_not_handed_to_the_library(db):
    users.add_user(SYSTEM, "admin", GOOD, "管理员", db=db)
    users.add_user(SYSTEM, "wang", GOOD, "领导", db=db)
    users.disable_user(SYSTEM, "wang", db=db)
    assert users.attempt_login(db, "wang", GOOD).message == "该账号已停用，请联系领导小组办公室。"
    assert list(users.credentials_for_authenticator(db)["usernames"]) == ["admin"]
    users.enable_user(SYSTEM, "wang", db=db)
    assert users.check_login("wang", GOOD, db=db) is not None


def test_credentials_dict_for_the_library(db):
    users.add_user(SYSTEM, "admin", GOOD, "管理员", display_name="办公室", db=db)
    creds = users.credentials_for_authenticator(db)
    entry = creds["usernames"]["admin"]
    assert entry["name"] == "办公室" and entry["roles"] == ["管理员"]
    assert entry["password"] == db.scalar("SELECT password_hash FROM users")


def test_last_active_admin_cannot_be_disabled_or_demoted(db):
    users.add_user(SYSTEM, "admin", GOOD, "管理员", db=db)
    with pytest.raises(UserError, match="最后一个启用的管理员"):
        users.disable_user(SYSTEM, "admin", db=db)
    with pytest.raises(UserError, match="最后一个启用的管理员"):
        users.change_role(SYSTEM, "admin", "领导", db=db)
    users.add_user(SYSTEM, "admin2", GOOD, "管理员", db=db)
    users.disable_user(SYSTEM, "admin", db=db)  # now allowed: admin2 is still active
    with pytest.raises(UserError, match="最后一个启用的管理员"):
        users.change_role(SYSTEM, "admin2", "单位", unit_name="县财政局", db=db)
    assert db.rows("SELECT username, disabled FROM users ORDER BY username") == [("admin", True), ("admin2", False)]


def test_change_role_to_unit_and_back(db):
    users.add_user(SYSTEM, "li", GOOD, "领导", db=db)
    users.change_role(SYSTEM, "li", "单位", unit_name="县财政局", db=db)
    finance = db.scalar("SELECT unit_id FROM units WHERE name = '县财政局'")
    assert users.scope_of(db, "li") == Scope("li", "单位", finance, "li")
    users.change_role(SYSTEM, "li", "领导", db=db)
    assert users.scope_of(db, "li").unit_id is None
    assert [r[2] for r in audit_rows(db, "用户管理")] == ["新增用户（领导）", "角色由领导改为单位", "角色由单位改为领导"]


def test_reset_password_unlocks_and_revokes_sessions(db):
    users.add_user(SYSTEM, "wang", GOOD, "领导", db=db)
    for _ in range(6):
        users.attempt_login(db, "wang", "wrongpass99")
    assert "登录失败次数过多" in users.attempt_login(db, "wang", GOOD).message
    issued = dt.datetime.now().timestamp() - 1
    assert users.session_scope(db, "wang", issued) is not None
    users.reset_password(SYSTEM, "wang", "newpassw0rd", db=db)
    assert users.session_scope(db, "wang", issued) is None  # the old cookie/session no longer counts
    assert users.check_login("wang", "newpassw0rd", db=db) is not None
    assert users.check_login("wang", GOOD, db=db) is None


def test_logout_revokes_older_cookies_only(db):
    users.add_user(SYSTEM, "wang", GOOD, "领导", db=db)
    before = dt.datetime.now().timestamp() - 5
    users.logout(db, "wang")
    after = dt.datetime.now().timestamp() + 1
    assert users.session_scope(db, "wang", before) is None
    assert users.session_scope(db, "wang", after) == Scope("wang", "领导", None, "wang")
    assert audit_rows(db, "退出登录") == [("wang", "wang", "退出登录")]


def test_a_user_may_change_only_their_own_password(db):
    users.add_user(SYSTEM, "admin", GOOD, "管理员", db=db)
    users.add_user(SYSTEM, "wang", GOOD, "领导", db=db)
    wang = users.scope_of(db, "wang")
    users.reset_password(wang, "wang", "anotherpw12", db=db)
    with pytest.raises(PermissionDenied):
        users.reset_password(wang, "admin", "anotherpw12", db=db)


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
