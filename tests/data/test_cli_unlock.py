"""`python -m data user unlock NAME`: the operator lifts a login delay."""

from __future__ import annotations

from data.services import users
from data.storage.db import Database
from data.storage.schema import prepare_database
from tests.data.test_cli import PASSWORD, run


def test_user_unlock_lifts_the_delay_and_is_audited(tmp_path):
    path = tmp_path / "u.duckdb"
    assert run("user", "add", "office1", "--role", "管理员", db=path, stdin=PASSWORD + "\n").returncode == 0
    db = Database(path)
    prepare_database(db)
    for _ in range(6):
        users.attempt_login(db, "office1", "wrongpass99")
    assert "登录失败次数过多" in users.attempt_login(db, "office1", PASSWORD).message
    db.close()

    done = run("user", "unlock", "OFFICE1", db=path)
    assert done.returncode == 0, done.stderr
    assert "账号 OFFICE1 的登录限制已解除。" in done.stdout
    again = run("user", "unlock", "office1", db=path)
    assert again.returncode == 0 and "没有登录限制" in again.stdout
    missing = run("user", "unlock", "ghost", db=path)
    assert missing.returncode == 1 and "用户“ghost”不存在" in missing.stderr

    db = Database(path)
    assert users.check_login("office1", PASSWORD, db=db) is not None
    assert db.scalar("SELECT count(*) FROM audit_log WHERE detail LIKE '解除登录限制%'") == 1
    db.close()
