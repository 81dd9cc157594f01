"""What the office and the units do with the dashboard, end to end in a real browser: a unit's
progress report verified by the office turns a light, an uploaded workbook reaches the figures,
and the exported workbooks open in openpyxl.

The writing tests share one server on a private copy of the county database; each asserts a
difference it causes itself, so their order does not matter.
"""

from __future__ import annotations

import datetime as dt
import io

import pytest
from e2e_browser import (
    assert_no_exception,
    choose,
    fill_date,
    goto_nav,
    login,
    main_text,
    metric_int,
    rerun_and_wait,
    screenshot,
    upload_file,
    wait_idle,
)
from e2e_harness import ADMIN, LEADER, UNIT_USER, copy_db, task_lights
from e2e_workbooks import catalog_workbook
from openpyxl import load_workbook

pytestmark = [pytest.mark.e2e]


@pytest.fixture(scope="module")
def work_server(county_template, e2e_dir, server_factory):
    db = copy_db(county_template, e2e_dir / "workflows.duckdb")
    server = server_factory(db, "workflows")
    server.db_path = db
    return server


@pytest.fixture
def second_page(browser, browser_context_args):
    """Another browser context: the office at its desk while the unit works at its own."""
    context = browser.new_context(**browser_context_args)
    yield context.new_page()
    context.close()


def test_unit_report_verified_by_the_office_turns_the_light(page, second_page, work_server):
    today = dt.date.today()
    lights = task_lights(work_server.db_path, UNIT_USER.unit, today)
    red = sorted(n for n, light in lights.items() if light == "red")
    if not red:
        pytest.skip(f"the demo data gives {UNIT_USER.unit} no red light today: {lights}")
    task_no = red[0]

    # The unit reports the task done.
    login(page, work_server.url, UNIT_USER)
    goto_nav(page, "单位考评")
    red_before = metric_int(page, "红灯任务")
    assert red_before == len(red)
    goto_nav(page, "任务督办")
    choose(page, "选择任务", f"任务{task_no} ")
    form = page.locator('[data-testid="stForm"]').first
    choose(page, "进展状态", "已完成", scope=form)
    form.locator('[data-testid="stNumberInput"] input').first.fill("100")
    completed = form.locator('[data-testid="stDateInput"]').filter(has_text="完成日期").first
    fill_date(page, completed, today)
    form.locator("textarea").first.fill("端到端测试：已全部完成并报办公室")
    rerun_and_wait(page, lambda: form.locator('[data-testid="stFormSubmitButton"] button').first.click())
    text = main_text(page)
    assert "待办公室核验" in text, text[:600]
    screenshot(page, "workflow_01_单位报送进展")
    goto_nav(page, "单位考评")
    assert metric_int(page, "红灯任务") == red_before, "an unverified report changed the light"

    # The office verifies it.
    office = second_page
    login(office, work_server.url, ADMIN)
    goto_nav(office, "任务督办")
    choose(office, "选择要核验的报告", f"任务{task_no}·{UNIT_USER.unit}·")
    rerun_and_wait(office, lambda: office.get_by_role("button", name="核验通过").click())
    assert "已核验" in main_text(office)
    assert_no_exception(office, "after verifying")
    screenshot(office, "workflow_02_办公室核验")

    # The unit sees one red light fewer: the task is now 逾期完成 (yellow).
    goto_nav(page, "任务督办")
    goto_nav(page, "单位考评")
    assert metric_int(page, "红灯任务") == red_before - 1
    assert_no_exception(page, "unit scorecard after verification")


def test_workbook_uploaded_on_the_import_page_reaches_the_figures(page, work_server, tmp_path):
    book = catalog_workbook(tmp_path / "县公安局数据目录.xlsx", 40, UNIT_USER.unit, prefix="E2EUP")
    login(page, work_server.url, ADMIN)
    goto_nav(page, "总览")
    published_before = metric_int(page, "已发布目录（条）")

    goto_nav(page, "数据导入")
    upload_file(page, book)
    text = main_text(page)
    assert "检查通过" in text, text[:800]
    screenshot(page, "workflow_03_导入检查通过")
    rerun_and_wait(page, lambda: page.get_by_role("button", name="确认导入").click(), timeout=120)
    text = main_text(page)
    assert "导入完成" in text and "40" in text, text[:800]
    assert_no_exception(page, "after import")

    goto_nav(page, "总览")
    assert metric_int(page, "已发布目录（条）") == published_before + 40


def _download(page, button_name: str) -> bytes:
    button = page.locator('[data-testid="stDownloadButton"]').filter(has_text=button_name).first
    button.wait_for(timeout=60_000)
    with page.expect_download(timeout=120_000) as info:
        button.click()
    path = info.value.path()
    return open(path, "rb").read()


def _formulas(wb) -> list[str]:
    return [f"{ws.title}!{c.coordinate}" for ws in wb.worksheets for row in ws.iter_rows() for c in row
            if c.data_type == "f"]


def test_review_workbook_downloads_and_opens(page, county_server):
    login(page, county_server.url, LEADER)
    goto_nav(page, "月度考评")
    data = _download(page, "下载月度考评工作簿")
    wb = load_workbook(io.BytesIO(data))
    for sheet in ("排名汇总", "单位记分卡", "任务台账", "逾期清单", "申请时效汇总"):
        assert sheet in wb.sheetnames, wb.sheetnames
    assert any("通报" in name for name in wb.sheetnames), wb.sheetnames
    assert wb["排名汇总"].max_row > 10  # a county has dozens of units
    assert not _formulas(wb)
    # the request steps of the month: summarised in the workbook, row by row in their own download
    assert "逐条明细" in wb["申请时效汇总"]["A2"].value
    detail = _download(page, "下载申请时效明细（CSV）").decode("utf-8-sig").splitlines()
    assert detail[0].startswith("申请编号,申请单位,提供单位,环节,责任单位")
    due = sum(r[2] for r in wb["申请时效汇总"].iter_rows(min_row=4, values_only=True))
    assert len(detail) - 1 == due > 0


def test_scorecard_workbook_downloads_and_opens(page, county_server):
    login(page, county_server.url, ADMIN)
    goto_nav(page, "单位考评")
    data = _download(page, "记分卡")
    wb = load_workbook(io.BytesIO(data))
    ws = wb.worksheets[0]
    cells = [str(c.value) for row in ws.iter_rows(max_row=6) for c in row if c.value is not None]
    assert any("单位名称" in c for c in cells), cells
    assert any("综合得分" in c for c in cells), cells
    assert ws.max_row > 10
    assert not _formulas(wb)
    wait_idle(page)
