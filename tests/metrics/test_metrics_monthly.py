"""Monthly rates, the warning list, trends, month-over-month change, rows behind (milestones:
test_metrics_milestones.py)."""

from __future__ import annotations

import polars as pl
import pytest
from kpi_fixtures import PLAN_RULE, D, make_facts, request, task
from polars.testing import assert_frame_equal
from test_metrics_requests import NATIONAL_DAY

from metrics.monthly import month_rates, warning_list
from metrics.registry import KPIS, OFFICE
from metrics.trace import rows_behind
from metrics.trend import change_since_last_month, county_trend, monthly_trend, trend_points


def test_month_rates_october_2023():
    # As of Oct 31, steps due in October: reviews R1 R2 R3 R4 R5 R6 R9 (R3, due Oct 30, never reviewed:
    # overdue; R2 late), replies R1 (on time), R2 (overdue), R5 (replied Oct 30 after Oct 24: late),
    # R6 (due Oct 31, on time). R7 and R8 fall due in November.
    out = month_rates(make_facts(requests=NATIONAL_DAY), "2023-10")
    expected = pl.DataFrame(
        [
            (1, OFFICE, "县直部门", "review", 5, 1, 1, 0, 7, 5 / 7),
            (2, "县公安局", "县直部门", "reply", 1, 0, 0, 0, 1, 1.0),
            (3, "县民政局", "县直部门", "reply", 1, 1, 1, 0, 3, 1 / 3),
        ],
        schema={"unit_id": pl.Int64, "unit": pl.String, "unit_kind": pl.String, "step": pl.String,
                "on_time": pl.Int64, "late": pl.Int64, "overdue": pl.Int64, "pending": pl.Int64,
                "judged": pl.Int64, "ontime_rate": pl.Float64},
        orient="row",
    )
    assert_frame_equal(out, expected)


def test_month_rates_mid_month_apply_the_as_of_rule():
    # As of Fri 2023-10-27, inside October: R3's review (due Oct 30, after D) is pending, not
    # overdue; R5's reply of Oct 30 does not exist yet, so that step (due Oct 24) is overdue, not
    # late. At the month's end the same month reads 5/1/1/0 and 1/1/1/0 (test above).
    out = month_rates(make_facts(requests=NATIONAL_DAY), "2023-10", D(2023, 10, 27))
    assert out.select("unit_id", "step", "on_time", "late", "overdue", "pending", "judged", "ontime_rate").rows() == [
        (1, "review", 5, 1, 0, 1, 6, 5 / 6),
        (2, "reply", 1, 0, 0, 0, 1, 1.0),
        (3, "reply", 1, 0, 2, 0, 3, 1 / 3),
    ]
    # A D after the month changes nothing: the month is judged at its last day.
    assert_frame_equal(month_rates(make_facts(requests=NATIONAL_DAY), "2023-10", D(2024, 3, 1)),
                       month_rates(make_facts(requests=NATIONAL_DAY), "2023-10"))


def test_warning_list_three_working_days():
    # As of Wed 2023-10-25 the horizon is the 3rd working day after: Oct 30.
    # W1 (received Fri Oct 20) is due on D itself: 0 working days left; R3 is due Oct 30: 3 left.
    # R2 and R5 replies are already overdue and R6 (due Oct 31) is beyond the horizon.
    reqs = [*NATIONAL_DAY, request("W1", D(2023, 10, 20))]
    out = warning_list(make_facts(requests=reqs), D(2023, 10, 25))
    expected = pl.DataFrame(
        [
            ("W1", "review", 1, OFFICE, 2, 3, D(2023, 10, 20), D(2023, 10, 25), 0, PLAN_RULE),
            ("R3", "review", 1, OFFICE, 2, 3, D(2023, 10, 25), D(2023, 10, 30), 3, PLAN_RULE),
        ],
        schema={"code": pl.String, "step": pl.String, "responsible_id": pl.Int64, "responsible": pl.String,
                "requester_id": pl.Int64, "provider_id": pl.Int64, "started_on": pl.Date, "deadline": pl.Date,
                "workdays_left": pl.Int32, "rule": pl.String},
        orient="row",
    )
    assert_frame_equal(out, expected)


def test_rows_behind_reply_rate_lists_failures_first():
    rows = rows_behind(make_facts(requests=NATIONAL_DAY), D(2023, 10, 27), 3, "reply_ontime_rate")
    assert rows.select("申请编号", "办理时限", "状态", "超期工作日", "是否达标").rows() == [
        ("R2", D(2023, 10, 24), "逾期未办", 3, "否"),
        ("R5", D(2023, 10, 24), "逾期未办", 3, "否"),
        ("R1", D(2023, 10, 23), "按时", 0, "是"),
    ]


def test_rows_behind_unknown_code():
    with pytest.raises(ValueError, match="未知指标"):
        rows_behind(make_facts(), D(2024, 1, 1), 1, "nope")


# -- trends --------------------------------------------------------------------------------------

def contacts_facts():
    # Only contacts_named weighted; unit 2 names both on 2024-01-10.
    return make_facts(
        settings={"weights": {"contacts_named": 100}},
        contacts=[{"unit_id": 2, "role": r, "name": "王五", "named_on": D(2024, 1, 10)} for r in ("分管领导", "经办人")],
    )


def test_trend_points_end_with_the_day_itself():
    assert trend_points(D(2024, 1, 15), 3) == [D(2023, 11, 30), D(2023, 12, 31), D(2024, 1, 15)]
    assert trend_points(D(2024, 3, 31), 2) == [D(2024, 2, 29), D(2024, 3, 31)]


def test_monthly_and_county_trend():
    facts = contacts_facts()
    trend = monthly_trend(facts, D(2024, 1, 15), months=3)
    unit2 = trend.filter(pl.col("unit_id") == 2).select("month", "composite")
    assert unit2.rows() == [("2023-11", 0.0), ("2023-12", 0.0), ("2024-01", 100.0)]
    county = county_trend(facts, D(2024, 1, 15), months=3, trend=trend)
    # five units, one at 100 in January: mean 20
    assert county.select("month", "units_scored", "composite").rows() == [
        ("2023-11", 5, 0.0), ("2023-12", 5, 0.0), ("2024-01", 5, 20.0)]


def test_trend_starts_at_the_plans_start_month():
    # At 2023-09-30 a 12-month trend would reach back to 2022-10; the plan starts in 2023-05.
    trend = monthly_trend(contacts_facts(), D(2023, 9, 30))
    assert trend["month"].unique(maintain_order=True).to_list() == ["2023-05", "2023-06", "2023-07", "2023-08",
                                                                    "2023-09"]
    county = county_trend(contacts_facts(), D(2023, 9, 30))
    assert county["month"].to_list()[0] == "2023-05"
    # Before the plan there is nothing to draw.
    assert monthly_trend(contacts_facts(), D(2023, 4, 30)).is_empty()
    assert county_trend(contacts_facts(), D(2023, 4, 30)).is_empty()
    # The setting moves the start.
    later = make_facts(settings={"plan_start_month": "2023-08"})
    assert monthly_trend(later, D(2023, 9, 30))["month"].unique(maintain_order=True).to_list() == ["2023-08",
                                                                                                  "2023-09"]


def test_no_change_against_a_month_before_the_plan():
    out = change_since_last_month(contacts_facts(), D(2023, 5, 15))
    assert out["composite"].null_count() == 0
    assert out["composite_prev"].null_count() == out.height
    assert out["composite_change"].null_count() == out.height


def test_change_since_last_month():
    out = change_since_last_month(contacts_facts(), D(2024, 1, 15)).filter(pl.col("unit_kind") == "县直部门")
    # Dec 31: all three 县直部门 at 0 share rank 1; Jan 15: unit 2 first, units 1 and 3 share rank 2.
    assert out.select("unit_id", "composite", "composite_prev", "composite_change", "rank", "rank_prev",
                      "rank_change").sort("unit_id").rows() == [
        (1, 0.0, 0.0, 0.0, 2, 1, -1),
        (2, 100.0, 0.0, 100.0, 1, 1, 0),
        (3, 0.0, 0.0, 0.0, 2, 1, -1),
    ]


@pytest.mark.parametrize("code", [k.code for k in KPIS])
def test_rows_behind_every_indicator_has_chinese_columns(code):
    import re

    from test_metrics_catalog import DEMANDS, ITEMS
    from test_metrics_infra import FACTS

    facts = make_facts(requests=NATIONAL_DAY, catalog=ITEMS, demands=DEMANDS, **FACTS,
                       tasks=[task(1, D(2023, 12, 31))], assignments=[{"task_no": 1, "unit_id": 2, "origin": "x"}])
    rows = rows_behind(facts, D(2024, 1, 31), 2, code)
    assert rows.width > 0
    assert all(not re.search(r"[A-Za-z]", c) for c in rows.columns), rows.columns


def test_scorecard_of_no_units_is_empty():
    from metrics.scorecard import SCORECARD_COLUMNS, scorecard

    card = scorecard(make_facts(units=[]), D(2024, 1, 31))
    assert card.height == 0 and card.columns == SCORECARD_COLUMNS
