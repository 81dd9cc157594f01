"""共享申请 page: county and provider rates, overdue/warning lists, refusals, the monthly view."""

from __future__ import annotations

import datetime as dt

import polars as pl

from data.storage.facts import load_facts
from metrics.monthly import month_rates
from metrics.requests import request_steps
from tests.pages.conftest import metrics, run_page, table
from tests.pages.small_county import ADMIN, AS_OF, UNIT2

COLUMN = {"requests_provider_table": "答复按时率", "requests_overdue": "超期工作日",
          "requests_warning": "剩余工作日", "requests_refusals": "不予共享理由", "requests_monthly": "办理单位"}


def _table(at, key):
    return table(at, COLUMN[key])


def test_county_rates_and_lists_at_the_end_of_october(county):
    at = run_page("requests", ADMIN, AS_OF)
    assert not at.exception
    assert at.title[0].value == "共享申请"
    steps = request_steps(load_facts(county), AS_OF)
    judged = steps.filter(pl.col("status") != "pending")
    review = judged.filter(pl.col("step") == "review")
    # Review: R1, R3, R5 on time, R2 late (deadline 2023-10-09), R7 overdue; R4, R6 pending -> 3/5.
    assert review.height == 5 and (review["status"] == "on_time").sum() == 3
    shown = metrics(at)
    assert shown["初审按时率（全县）"][0] == "60.00%"
    # Reply: R1, R2, R5 on time, R3 overdue -> 3/4.
    assert shown["答复按时率（全县）"][0] == "75.00%"
    providers = _table(at, "requests_provider_table").set_index("单位名称")
    assert providers.loc["县委办", "答复按时率"] == "100.00%"
    assert providers.loc["县政府办", "答复按时率"] == "0.00%"
    overdue = _table(at, "requests_overdue")
    assert list(overdue["编号"]) == ["R3", "R7"]
    assert overdue.iloc[0]["超期工作日"] == 5          # deadline 2023-10-24; 25, 26, 27, 30, 31 October
    assert overdue.iloc[0]["截止日期"] == "2023年10月24日"
    assert overdue.iloc[1]["超期工作日"] == 3 and overdue.iloc[1]["环节"] == "初审"
    warning = _table(at, "requests_warning")
    assert list(warning["编号"]) == ["R4", "R6"] and set(warning["环节"]) == {"初审"}
    assert list(warning["剩余工作日"]) == [1, 2]      # due 2023-11-01 and 2023-11-02
    refusals = _table(at, "requests_refusals")
    assert sorted(refusals["编号"]) == ["R2", "R5"]


def test_monthly_view_follows_the_month_selector(county):
    at = run_page("requests", ADMIN, AS_OF, requests_month="2023-09")
    assert not at.exception
    monthly = _table(at, "requests_monthly")
    engine = month_rates(load_facts(county), "2023-09")
    # Office reviews of R1 and R5, replies of 县委办 (R1) and of the office (R5).
    assert len(monthly) == engine.height == 3
    assert set(monthly["按时率"]) == {"100.00%"}
    at.selectbox(key="requests_month").set_value("2023-10").run()
    monthly = _table(at, "requests_monthly").set_index("办理单位")
    assert monthly.loc["县政府办", "逾期未办"] == 1


def test_an_earlier_date_has_nothing_overdue(county):
    at = run_page("requests", ADMIN, dt.date(2023, 9, 30))
    assert not at.exception
    assert metrics(at)["答复按时率（全县）"][0] == "100.00%"
    assert "截至考评日没有逾期未办的申请。" in [i.value for i in at.info]


def test_a_unit_user_is_refused(county):
    # The page registry (ui/navigation.py) opens this page to 管理员 and 领导 only; data.services
    # would still give a 单位 user only its own rows (tests/data/test_reads.py).
    at = run_page("requests", UNIT2, AS_OF)
    assert not at.exception
    assert "无权打开此页面" in at.error[0].value
    assert len(at.dataframe) == 0



def test_the_month_in_progress_is_judged_at_the_as_of_date(county):
    # At 2023-10-19 October is not over. 县政府办's reply to R3 is due 10-24: pending, not overdue
    # (at the month's end it is 逾期未办). 县委办 replied to R2 on 10-20, after D: that reply does not
    # exist yet, so the step (due 10-24) is pending, not on time. R7 (received 10-23) does not exist.
    at = run_page("requests", ADMIN, dt.date(2023, 10, 19), requests_month="2023-10")
    assert not at.exception
    monthly = _table(at, "requests_monthly").set_index("办理单位")
    assert monthly.loc["县政府办", ["逾期未办", "未到期"]].tolist() == [0, 1]
    assert monthly.loc["县委办", ["按时", "未到期"]].tolist() == [0, 1]
    assert monthly.loc["县大数据发展中心", ["按时", "超时办结", "逾期未办"]].tolist() == [1, 1, 0]
    assert any("该月尚未结束：按考评日（2023年10月19日）的办理情况判断" in c.value for c in at.caption)
    engine = month_rates(load_facts(county), "2023-10", dt.date(2023, 10, 19))
    assert len(monthly) == engine.height == 3
