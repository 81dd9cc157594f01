"""The supervision loop in a real browser: the office records an interview with a commitment, the
unit sees it, the unit completes the task and the office verifies it, and the review of the month
the commitment fell due shows it kept; a unit asks for an extension, the office approves it and
the unit's red lights drop by one.

Each test runs its own server on a private copy of the county demo database."""

from __future__ import annotations

import calendar
import datetime as dt
import subprocess

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
    set_as_of,
)
from e2e_harness import ADMIN, PYTHON, REPO, UNIT_USER, copy_db, task_lights

pytestmark = [pytest.mark.e2e]


@pytest.fixture
def second_page(browser, browser_context_args):
    context = browser.new_context(**browser_context_args)
    yield context.new_page()
    context.close()


def _form(page, button: str):
    return page.locator('[data-testid="stForm"]').filter(has_text=button).first


def _submit(page, form) -> None:
    rerun_and_wait(page, lambda: form.locator('[data-testid="stFormSubmitButton"] button').first.click())


def _tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()
    page.wait_for_timeout(300)


def test_interview_commitment_seen_by_the_unit_and_kept(page, second_page, county_template, tmp_path,
                                                       server_factory):
    db = copy_db(county_template, tmp_path / "interview.duckdb")
    today = dt.date.today()
    red = sorted(n for n, light in task_lights(db, UNIT_USER.unit, today).items() if light == "red")
    if not red:
        pytest.skip(f"the demo data gives {UNIT_USER.unit} no red light today")
    task_no, due = red[0], today + dt.timedelta(days=2)
    server = server_factory(db, "interview")

    # The office records the interview with one commitment: complete the red task in two days.
    login(page, server.url, ADMIN)
    goto_nav(page, "督查督办")
    choose(page, "约谈单位", UNIT_USER.unit)
    form = _form(page, "保存约谈记录")
    assert "红灯任务" in form.locator("textarea").first.input_value()       # reasons pre-filled
    form.locator('[data-testid="stTextInput"] input').first.fill("县公安局分管领导、经办人")
    form.get_by_text("完成任务", exact=True).click()
    form.locator('[data-testid="stNumberInput"]').filter(has_text="任务序号").locator("input").fill(str(task_no))
    fill_date(page, form.locator('[data-testid="stDateInput"]').filter(has_text="整改期限").first, due)
    _submit(page, form)
    assert f"已记录{UNIT_USER.unit}" in main_text(page)
    assert_no_exception(page, "after recording the interview")
    screenshot(page, "supervision_01_办公室记录约谈")

    # The unit sees its interview and the open commitment.
    unit = second_page
    login(unit, server.url, UNIT_USER)
    goto_nav(unit, "督查督办")
    text = main_text(unit)
    assert "截至考评日共约谈1次，最近一次：县公安局" in text and "共1项整改承诺：已整改0项、整改中1项" in text
    screenshot(unit, "supervision_02_单位查看约谈")

    # The unit reports the task done today; the office verifies it.
    goto_nav(unit, "任务督办")
    choose(unit, "选择任务", f"任务{task_no} ")
    report = unit.locator('[data-testid="stForm"]').first
    choose(unit, "进展状态", "已完成", scope=report)
    fill_date(unit, report.locator('[data-testid="stDateInput"]').filter(has_text="完成日期").first, today)
    report.locator("textarea").first.fill("按整改承诺完成")
    _submit(unit, report)
    goto_nav(page, "任务督办")
    choose(page, "选择要核验的报告", f"任务{task_no}·{UNIT_USER.unit}·")
    rerun_and_wait(page, lambda: page.get_by_role("button", name="核验通过").click())
    assert "已核验" in main_text(page)

    # The review of the month the commitment fell due shows it kept.
    month_end = due.replace(day=calendar.monthrange(due.year, due.month)[1])
    set_as_of(page, month_end)
    goto_nav(page, "月度考评")
    choose(page, "考评月份", f"{due.year}年{due.month}月")
    text = main_text(page)
    assert "督查督办" in text and "本月到期1项：已整改1项、逾期未整改0项。" in text, text[-800:]
    assert_no_exception(page, "review with the supervision section")
    screenshot(page, "supervision_03_月度考评已整改")


_FUTURE_TASK = """
import datetime as dt, sys
from data.storage.db import Database
db = Database(sys.argv[1])
try:
    due = dt.date.fromisoformat(sys.argv[2])
    with db.transaction() as cur:
        cur.execute("INSERT INTO tasks VALUES (16, '测试', '数据治理专项', '完成专项治理', '测试时限', ?, FALSE, ?)",
                    [due, sys.argv[3]])
        cur.execute("INSERT INTO task_assignments SELECT 16, unit_id, name FROM units WHERE name = ?", [sys.argv[3]])
finally:
    db.close()
"""


def test_extension_requested_by_the_unit_and_approved_turns_a_light(page, second_page, county_template, tmp_path,
                                                                    server_factory):
    db = copy_db(county_template, tmp_path / "extension.duckdb")
    today = dt.date.today()
    due, later = today + dt.timedelta(days=30), today + dt.timedelta(days=45)
    subprocess.run([PYTHON, "-c", _FUTURE_TASK, str(db), due.isoformat(), UNIT_USER.unit], cwd=REPO, check=True,
                   capture_output=True, timeout=120)
    server = server_factory(db, "extension")

    # The unit asks for task 16 to be extended by 60 days.
    login(page, server.url, UNIT_USER)
    goto_nav(page, "督查督办")
    _tab(page, "延期申请")
    form = _form(page, "提交延期申请")
    choose(page, "任务与单位", f"任务16·{UNIT_USER.unit}", scope=form)
    form.locator("textarea").first.fill("需等待省级平台接口开放")
    fill_date(page, form.locator('[data-testid="stDateInput"]').filter(has_text="申请延期至").first,
              today + dt.timedelta(days=90))
    _submit(page, form)
    assert f"已提交{UNIT_USER.unit}任务16的延期申请" in main_text(page)
    screenshot(page, "supervision_04_单位申请延期")

    # Judged 45 days from now, task 16 is overdue: one more red light.
    office = second_page
    login(office, server.url, ADMIN)
    set_as_of(office, later)
    goto_nav(office, "单位考评")
    choose(office, "选择单位", UNIT_USER.unit)
    red_before = metric_int(office, "红灯任务")

    goto_nav(office, "督查督办")
    _tab(office, "延期申请")
    rerun_and_wait(office, lambda: office.get_by_role("button", name="批准").click())
    assert "已批准延期申请" in main_text(office)
    assert_no_exception(office, "after approving")
    screenshot(office, "supervision_05_办公室批准延期")

    goto_nav(office, "单位考评")
    choose(office, "选择单位", UNIT_USER.unit)
    assert metric_int(office, "红灯任务") == red_before - 1
    assert "延期申请获批：1项" in main_text(office)
