"""The 单位 user's own workspace: 本单位工作台, 本单位共享申请 (/requests), 本单位目录 (/catalog),
本单位系统与安全 (/infra). Each shows the own unit only; another unit is refused in data/."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from data.services import workspace
from data.services.progress import return_report
from data.storage.scope import PermissionDenied, Scope
from tests.pages.conftest import run_page, table_after, texts
from tests.pages.small_county import ADMIN, AS_OF, LEADER, UNIT2, UNIT3, WEIBAN, ZHENGFUBAN

PAGES = ("my_unit", "my_requests", "my_catalog", "my_infra")


def _table(at, column):
    for frame in at.dataframe:
        value = frame.value
        if column in value.columns:
            return value
    raise AssertionError(f"no table with column {column!r}")


def test_workspace_shows_what_falls_due_for_the_providing_unit(county):
    at = run_page("my_unit", UNIT3, AS_OF)
    assert not at.exception
    assert at.title[0].value == "本单位工作台"
    shown = {m.label: m.value for m in at.metric}
    # 县政府办 provides R3 (reply overdue since 2023-10-24) and R4 (review due 2023-11-01, 1 working day).
    assert shown["已逾期"] == "1件" and shown["3个工作日内到期"] == "1件" and shown["须本单位办理"] == "1件"
    provide = table_after(at, "本单位作为提供方")
    assert list(provide["编号"]) == ["R3", "R4"]
    assert list(provide["办理提示"]) == ["逾期", "3个工作日内到期"]
    assert list(provide["截止日期"]) == ["2023年10月24日", "2023年11月1日"]
    assert list(provide["超期工作日"]) == ["5", "0"] and list(provide["剩余工作日"]) == ["", "1"]
    # Its own catalog item C4 (每日, published 2023-10-20, never updated since) is stale.
    catalog = _table(at, "存在问题")
    assert list(catalog["目录编码"]) == ["C4"] and list(catalog["存在问题"]) == ["更新不及时"]
    assert {m.label: m.value for m in at.metric}["更新不及时"] == "1条"
    assert at.metric[0].label == "综合得分"


def test_workspace_flags_the_units_catalog_items_with_the_engine_rules(county):
    at = run_page("my_catalog", UNIT2, AS_OF)
    assert not at.exception
    items = _table(at, "存在问题").set_index("目录编码")
    assert sorted(items.index) == ["C1", "C2", "C3"]              # 县委办's items only
    assert items.loc["C2", "存在问题"] == "未挂接"
    assert items.loc["C3", "存在问题"] == "未挂接、元数据不完整"
    assert items.loc["C1", "存在问题"] == ""
    assert {m.label: m.value for m in at.metric}["未挂接"] == "2条"
    at.toggle(key="my_catalog_problems").set_value(True).run()
    assert sorted(_table(at, "存在问题")["目录编码"]) == ["C2", "C3"]


def test_infra_page_shows_own_systems_networks_security_and_quality(county):
    at = run_page("my_infra", UNIT2, AS_OF)
    assert not at.exception
    assert list(_table(at, "系统名称")["系统名称"]) == ["公文交换系统"]       # the classified one is left out
    assert list(_table(at, "专网名称")["已迁移至政务外网"]) == ["否"]          # migrated after D
    security = _table(at, "访问认证")
    assert list(security["访问认证"]) == ["否"] and list(security["评估日期"]) == ["2023年9月1日"]
    assert list(_table(at, "检查得分")["检查得分"]) == ["85.00"]
    assert set(_table(at, "姓名")["姓名"]) == {"王小明", "李华"}
    at = run_page("my_infra", UNIT3, AS_OF)
    assert "还没有安全评估记录" in texts(at)
    assert list(_table(at, "系统名称")["系统名称"]) == ["审批系统"]


def test_requests_page_lists_both_sides_and_finished_steps(county):
    at = run_page("my_requests", UNIT2, AS_OF)
    assert not at.exception
    assert "没有需要本单位答复的申请" in texts(at)       # 县委办 replied R1 and R2 in time
    asked = table_after(at, "本单位作为申请方")
    assert list(asked["编号"]) == ["R3", "R4"]            # 县委办 asked 县政府办: both still open
    assert list(asked["办理单位"]) == ["县政府办", "县大数据发展中心"]   # the office reviews R4
    assert list(_table(at, "不予共享理由")["编号"]) == ["R2"]
    finished = _table(at, "本单位身份")
    assert set(finished["编号"]) == {"R1", "R2", "R3"}
    assert set(finished["本单位身份"]) == {"提供方", "申请方"}


def test_scorecard_download_holds_the_own_unit_only(county):
    at = run_page("my_unit", UNIT3, AS_OF)
    button = at.get("download_button")[0]
    assert button.proto.label == "下载本单位记分卡（Excel，A4打印）"
    data = workspace.unit_scorecard_workbook(Scope(**UNIT3), AS_OF, db=county)
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    names = {c.value for row in sheet.iter_rows() for c in row if isinstance(c.value, str)}
    assert "县政府办" in names and "县委办" not in names
    assert sheet.page_setup.paperSize in (9, "9")     # A4


@pytest.mark.parametrize("read", [workspace.unit_requests, workspace.unit_catalog, workspace.unit_infra,
                                  workspace.unit_scorecard_workbook], ids=lambda fn: fn.__name__)
def test_another_units_id_is_refused_in_the_data_layer(county, read):
    with pytest.raises(PermissionDenied):
        read(Scope(**UNIT3), AS_OF, WEIBAN, db=county)
    # Its own id, or none, is fine; the office may open any unit.
    read(Scope(**UNIT3), AS_OF, ZHENGFUBAN, db=county)
    read(Scope(**ADMIN), AS_OF, WEIBAN, db=county)
    with pytest.raises(PermissionDenied, match="请选择"):
        read(Scope(**LEADER), AS_OF, db=county)


def test_report_rows_of_another_unit_are_refused(county):
    with pytest.raises(PermissionDenied):
        workspace.report_rows(Scope(**UNIT2), AS_OF, None, None, ZHENGFUBAN, db=county)
    assert set(workspace.report_rows(Scope(**UNIT2), AS_OF, db=county)["unit_id"]) == {WEIBAN}


@pytest.mark.parametrize("who", [LEADER, ADMIN])
@pytest.mark.parametrize("page", PAGES)
def test_workspace_pages_are_for_units_only(county, page, who):
    at = run_page(page, who, AS_OF)
    assert not at.exception
    assert [e.value for e in at.error] == ["您的账号无权打开此页面。如需使用，请联系领导小组办公室。"]
    assert not at.dataframe


def test_returned_report_is_shown_on_the_workspace(county):
    import datetime as dt

    return_report(Scope(**ADMIN), 6, ZHENGFUBAN, dt.date(2023, 10, 25), "请补充目录条数", db=county)
    at = run_page("my_unit", UNIT3, AS_OF)
    assert "办公室退回了1份进展报告" in texts(at)
    assert list(_table(at, "退回理由")["退回理由"]) == ["请补充目录条数"]
