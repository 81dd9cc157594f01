"""总览 as a leader reads it in Chromium at county scale: each milestone says its bar (达标线), how
many units meet it, and who misses it with their value; 本月至今 is compared with the same days."""

from __future__ import annotations

import re

import pytest
from e2e_browser import assert_no_exception, goto_nav, login, main_text, rerun_and_wait, screenshot, set_as_of
from e2e_harness import LEADER

pytestmark = [pytest.mark.e2e]


def test_the_milestone_view_says_the_bar_and_who_misses_it(page, county_server):
    login(page, county_server.url, LEADER)
    goto_nav(page, "总览")
    set_as_of(page, "2024-12-02")
    assert_no_exception(page, "总览")
    text = main_text(page)
    # Each milestone: how many of the units it applies to meet it.
    for code in ("M1", "M2", "M3", "M4"):
        assert re.search(rf"{code} .+到期）：(已达成|未达成|未到期)，\d+个单位中\d+个达标、\d+个未达标", text), text[:3000]
    # M4 (due 2024-12-31, the current stage) is open: its bars in words, with n / N.
    assert "答复按时率 ≥ 90%" in text and "安全措施落实率 ≥ 100%" in text
    # The units below a bar, with their value, in an expander.
    summary = page.locator('[data-testid="stExpander"] summary').filter(has_text="答复按时率 ≥ 90%：未达标的").first
    rerun_and_wait(page, summary.click)
    box = page.locator('[data-testid="stExpander"]').filter(has_text="答复按时率 ≥ 90%：未达标的").first
    grid = box.locator('[data-testid="stDataFrame"]').first
    grid.wait_for(timeout=30_000)
    # The grid draws on a canvas; its accessible cells carry the text.
    cells = grid.locator('[role="gridcell"]').all_inner_texts()
    assert any(re.fullmatch(r"\d+\.\d%", c.strip()) for c in cells), cells[:20]
    # 本月至今: two days of December against two days of November.
    assert "本月至今收到申请（12月1日—2日）" in text and "较上月同期" in text
    screenshot(page, "领导_总览_工作目标")
