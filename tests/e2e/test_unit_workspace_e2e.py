"""A unit handler's own workspace and a leader's shared link, in a real Chromium.

- The unit opens a link to its workspace at a date when requests it provides fall due within 3
  working days, sees them, downloads its own scorecard, and types /requests, /catalog, /infra.
- The office returns (退回) a report with a reason; the unit reads the reason and resubmits.
- A leader opens a link with ?as_of=2024-06-30, logs in, and sees that date; a refresh keeps it;
  a typed date applies on Enter.

Screenshots of the workspace go to docs/screenshots/unit-workspace*.png.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import subprocess

import pytest
from e2e_browser import (
    assert_no_exception,
    choose,
    fill_login,
    goto_nav,
    login,
    login_form_visible,
    main_text,
    rerun_and_wait,
    screenshot,
    sidebar,
    wait_idle,
)
from e2e_harness import ADMIN, LEADER, PYTHON, REPO, UNIT_USER, copy_db, db_values
from openpyxl import load_workbook

pytestmark = [pytest.mark.e2e]

DOCS = REPO / "docs" / "screenshots"

# Run in a child process before the server opens the file: the latest day (going back from
# today) when requests the unit provides have steps falling due within 3 working days.
_DUE_SOON_SCRIPT = """
import datetime as dt, json, sys
import polars as pl
from data.services import workspace
from data.storage.db import Database
from data.storage.scope import SYSTEM
db = Database(sys.argv[1])
try:
    uid = db.scalar("SELECT unit_id FROM units WHERE name = ?", [sys.argv[2]])
    for back in range(0, 240):
        day = dt.date.today() - dt.timedelta(days=back)
        steps = workspace.unit_requests(SYSTEM, day, uid, db=db)
        soon = steps.filter((pl.col("urgency") == "3个工作日内到期") & (pl.col("side") == "提供方"))
        if soon.height:
            print(json.dumps({"as_of": day.isoformat(), "codes": soon["code"].to_list()}))
            break
    else:
        print(json.dumps(None))
finally:
    db.close()
"""


def _due_soon(db, unit: str) -> dict | None:
    proc = subprocess.run([PYTHON, "-c", _DUE_SOON_SCRIPT, str(db), unit], cwd=REPO, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def unit_server(county_template, e2e_dir, server_factory):
    db = copy_db(county_template, e2e_dir / "unit_workspace.duckdb")
    due = _due_soon(db, UNIT_USER.unit)
    # A task of the unit with no report dated today, so that a new report today is accepted.
    task_no = db_values(db, (
        "SELECT min(a.task_no) FROM task_assignments a JOIN units u USING (unit_id) "
        f"WHERE u.name = '{UNIT_USER.unit}' AND NOT EXISTS (SELECT 1 FROM progress_reports p "
        "WHERE p.task_no = a.task_no AND p.unit_id = a.unit_id AND p.reported_on = current_date)"))[0]
    server = server_factory(db, "unit-workspace")
    server.due, server.task_no = due, task_no
    return server


@pytest.fixture
def second_page(browser, browser_context_args):
    context = browser.new_context(**browser_context_args)
    yield context.new_page()
    context.close()


def _cn(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _open_link_and_login(page, url: str, account) -> None:
    """Open `url` logged out, log in on the form it shows, and wait for the page."""
    page.goto(url)
    wait_idle(page)
    assert login_form_visible(page), main_text(page)[:400]
    fill_login(page, account.username, account.password)
    page.locator('[data-testid="stSidebarNav"] a[data-testid="stSidebarNavLink"]').first.wait_for(timeout=60_000)
    wait_idle(page)


def _headings(page) -> list[str]:
    return [h.strip() for h in page.locator('[data-testid="stMain"] h1').all_inner_texts()]


def test_unit_opens_requests_due_soon_and_downloads_its_scorecard(page, unit_server):
    due = unit_server.due
    if due is None:
        pytest.skip(f"the demo data gives {UNIT_USER.unit} no step due within 3 working days")
    as_of = dt.date.fromisoformat(due["as_of"])
    _open_link_and_login(page, f"{unit_server.url}/?as_of={as_of.isoformat()}", UNIT_USER)
    assert _headings(page) == ["本单位工作台"]
    text = main_text(page)
    assert f"考评日：{_cn(as_of)}" in text and UNIT_USER.unit in text, text[:500]
    provide = page.locator('[data-testid="stDataFrame"]').first
    provide.wait_for(timeout=30_000)
    # Every step the engine says falls due is listed (grid cells are drawn on a canvas, so read
    # the page's accessible table).
    cells = " ".join(provide.locator('[role="gridcell"]').all_inner_texts())
    for code in due["codes"][:5]:
        assert code in cells, (code, cells[:500])
    assert "3个工作日内到期" in cells
    assert_no_exception(page, "unit workspace")
    screenshot(page, "unit-workspace", DOCS)

    button = page.get_by_role("button", name="下载本单位记分卡（Excel，A4打印）")
    with page.expect_download(timeout=120_000) as info:
        button.click()
    book = load_workbook(io.BytesIO(open(info.value.path(), "rb").read()))
    sheet = book.worksheets[0]
    words = {c.value for row in sheet.iter_rows() for c in row if isinstance(c.value, str)}
    assert UNIT_USER.unit in words
    assert not words & {"县财政局", "县委办", "县教育局"}, "another unit's row is in the unit's scorecard"
    assert sheet.page_setup.paperSize in (9, "9")

    # Typed county URLs open the unit's own views (the session keeps the date).
    for path, title in (("requests", "本单位共享申请"), ("catalog", "本单位目录"), ("infra", "本单位系统与安全")):
        page.goto(f"{unit_server.url}/{path}?as_of={as_of.isoformat()}")
        wait_idle(page)
        assert not login_form_visible(page)
        assert _headings(page) == [title], (path, _headings(page), main_text(page)[:300])
        assert_no_exception(page, f"/{path} for a unit")
        screenshot(page, f"unit-workspace-{path}", DOCS)


def test_office_returns_a_report_and_the_unit_resubmits(page, second_page, unit_server):
    task_no = unit_server.task_no
    login(page, unit_server.url, UNIT_USER)
    goto_nav(page, "任务督办")
    choose(page, "选择任务", f"任务{task_no} ")
    form = page.locator('[data-testid="stForm"]').first  # 进展状态 defaults to 推进中
    form.locator('[data-testid="stNumberInput"] input').first.fill("40")
    form.locator("textarea").first.fill("端到端测试：目录梳理中")
    rerun_and_wait(page, lambda: form.locator('[data-testid="stFormSubmitButton"] button').first.click())
    assert "待办公室核验" in main_text(page)

    office = second_page
    login(office, unit_server.url, ADMIN)
    goto_nav(office, "任务督办")
    choose(office, "选择要核验的报告", f"任务{task_no}·{UNIT_USER.unit}·")
    office.get_by_label("退回理由（退回时必填）").fill("请写明已梳理的目录条数")
    rerun_and_wait(office, lambda: office.get_by_role("button", name="退回", exact=True).click())
    assert "已退回" in main_text(office)
    assert_no_exception(office, "after returning")

    goto_nav(page, "本单位工作台")
    text = main_text(page)
    assert "办公室退回了1份进展报告" in text, text[:800]
    assert "请写明已梳理的目录条数" in " ".join(page.locator('[role="gridcell"]').all_inner_texts()) + \
        " ".join(page.locator('[data-testid="stSelectbox"]').all_inner_texts())
    screenshot(page, "unit-workspace-returned", DOCS)
    form = page.locator('[data-testid="stForm"]').filter(has_text="重新报送").first
    form.locator('[data-testid="stNumberInput"] input').first.fill("60")
    form.locator("textarea").first.fill("端到端测试：已梳理目录12条")
    rerun_and_wait(page, lambda: form.locator('[data-testid="stFormSubmitButton"] button').first.click())
    text = main_text(page)
    assert f"已重新报送任务{task_no}的进展" in text and "被退回的进展报告" not in text, text[:3000]
    assert_no_exception(page, "after resubmitting")

    # Back in the office's queue, with the earlier reason beside it.
    goto_nav(office, "单位考评")
    goto_nav(office, "任务督办")
    picked = office.locator('[data-testid="stSelectbox"] input').evaluate_all("els => els.map(e => e.value)")
    assert any(v.startswith(f"任务{task_no}·{UNIT_USER.unit}·") for v in picked), picked
    assert "请写明已梳理的目录条数" in " ".join(office.locator('[role="gridcell"]').all_inner_texts())


def test_leader_opens_a_link_with_a_date(page, unit_server):
    _open_link_and_login(page, f"{unit_server.url}/?as_of=2024-06-30", LEADER)
    assert "考评日：2024年6月30日" in main_text(page), main_text(page)[:400]
    field = sidebar(page).locator('[data-testid="stTextInput"] input').first
    assert field.input_value() == "2024-06-30"
    assert "as_of=2024-06-30" in page.url
    # A refresh keeps it (a new session: the date comes back from the URL).
    page.reload()
    wait_idle(page)
    assert "考评日：2024年6月30日" in main_text(page)
    # A typed date applies on Enter and goes into the URL.
    field = sidebar(page).locator('[data-testid="stTextInput"] input').first
    field.fill("2024-03-31")
    rerun_and_wait(page, lambda: field.press("Enter"))
    assert "考评日：2024年3月31日" in main_text(page) and "as_of=2024-03-31" in page.url
    # An invalid one is refused in Chinese and the date stays.
    field = sidebar(page).locator('[data-testid="stTextInput"] input').first
    field.fill("2024-13-01")
    rerun_and_wait(page, lambda: field.press("Enter"))
    assert "不是有效的考评日期" in sidebar(page).inner_text()
    assert "考评日：2024年3月31日" in main_text(page)
    assert_no_exception(page, "after the dates")
