"""Milestone criteria (工作目标达标线): thresholds, effective-from dates, n/a, 未到期/已达成/未达成.

Hand-computed fixture, as of 2024-06-30:
- reply steps: 县公安局 (2) 49 of 50 on time = 98 %, 县民政局 (3) 8 of 10 = 80 %; the office (1),
  冰溪街道 (4) and 县供电公司 (5) answer no request, so 答复按时率 is n/a for them.
- task 1 is assigned to the office (completed 2024-05-20) and to 冰溪街道 (推进中).
- 冰溪街道 named both contacts; 县公安局 named none (but the contacts criterion is for townships).
"""

from __future__ import annotations

import dataclasses

import polars as pl
import pytest
from kpi_fixtures import D, make_facts, request, task

from data.storage.plan import PLAN_TASKS
from metrics.criteria import CRITERIA_SCHEMA
from metrics.milestones import (
    DEFAULT_CRITERIA,
    criteria_in_force,
    milestone_criteria,
    milestone_gaps,
    milestone_status,
    threshold_text,
)
from metrics.registry import KPI_BY_CODE, OFFICE, UNIT_KINDS

ALL = list(UNIT_KINDS)
AS_OF = D(2024, 6, 30)

MILESTONES = [
    {"code": "M1", "due_date": D(2024, 5, 31), "title": "第一阶段", "requirement": "要求一"},
    {"code": "M2", "due_date": D(2024, 12, 31), "title": "第二阶段", "requirement": "要求二"},
    {"code": "M3", "due_date": D(2024, 12, 31), "title": "第三阶段", "requirement": "要求三"},
]


SINCE = D(2023, 1, 1)


def crit(milestone, criterion, threshold, kinds=ALL, op=">=", since=SINCE, active=True):
    return {"milestone": milestone, "criterion": criterion, "effective_from": since, "op": op,
            "threshold": float(threshold), "unit_kinds": kinds, "active": active, "note": None}


CRITERIA = [
    crit("M1", "task:1", 1),
    crit("M1", "contacts_named", 1, ["乡镇（街道）"]),
    crit("M1", "reply_ontime_rate", 0.9),
    crit("M2", "reply_ontime_rate", 0.9),
    crit("M3", "reply_ontime_rate", 0.5),
]


def replies(provider: int, on_time: int, late: int) -> list[dict]:
    # Received Monday 2024-03-04, reviewed and forwarded on the 5th: the reply is due on the 10th
    # working day after the 5th (2024-03-19). On time: replied the 6th; late: replied 2024-04-30.
    rows = []
    for i in range(on_time + late):
        replied = D(2024, 3, 6) if i < on_time else D(2024, 4, 30)
        rows.append(request(f"R{provider}-{i}", D(2024, 3, 4), provider=provider, requester=1,
                            reviewed_on=D(2024, 3, 5), review_result="通过", forwarded_on=D(2024, 3, 5),
                            replied_on=replied, reply_result="同意"))
    return rows


def facts(criteria=CRITERIA):
    base = make_facts(
        milestones=MILESTONES,
        requests=replies(2, 49, 1) + replies(3, 8, 2),
        tasks=[task(1, D(2024, 5, 31), "建立机制")],
        assignments=[{"task_no": 1, "unit_id": 1, "origin": "x"}, {"task_no": 1, "unit_id": 4, "origin": "x"}],
        reports=[{"task_no": 1, "unit_id": 1, "reported_on": D(2024, 5, 20), "status": "已完成",
                  "completed_on": D(2024, 5, 20)},
                 {"task_no": 1, "unit_id": 4, "reported_on": D(2024, 5, 20), "status": "推进中"}],
        contacts=[{"unit_id": 4, "role": r, "name": "甲", "named_on": D(2024, 1, 5)} for r in ("分管领导", "经办人")],
    )
    return dataclasses.replace(base, milestone_criteria=pl.DataFrame(criteria, schema=CRITERIA_SCHEMA))


def test_each_criterion_says_its_threshold_and_how_many_units_meet_it():
    out = milestone_criteria(facts(), AS_OF)
    assert out.select("code", "label", "applicable", "meeting", "share", "failing").rows() == [
        ("M1", "任务1「建立机制」已完成", 2, 1, 0.5, ["冰溪街道（逾期未完成）"]),
        ("M1", "明确分管领导和经办人：是", 1, 1, 1.0, []),
        # 98 % meets ≥ 90 %; the three units without a reply step are not counted (n/a).
        ("M1", "答复按时率 ≥ 90%", 2, 1, 0.5, ["县民政局（80.0%）"]),
        ("M2", "答复按时率 ≥ 90%", 2, 1, 0.5, ["县民政局（80.0%）"]),
        ("M3", "答复按时率 ≥ 50%", 2, 2, 1.0, []),
    ]


def test_gaps_give_each_failing_unit_its_value():
    gaps = milestone_gaps(facts(), AS_OF).filter(pl.col("code") == "M1")
    assert gaps.select("unit", "item", "detail", "label").rows() == [
        ("县民政局", "答复按时率", "80.0%", "答复按时率 ≥ 90%"),
        ("冰溪街道", "任务1", "逾期未完成", "任务1「建立机制」已完成"),
    ]
    assert gaps.filter(pl.col("unit") == "县民政局")["value"].to_list() == [pytest.approx(0.8)]
    # The 98 % unit is nowhere among the gaps.
    assert "县公安局" not in milestone_gaps(facts(), AS_OF)["unit"].to_list()


def test_status_not_due_met_and_missed():
    out = milestone_status(facts(), AS_OF)
    assert out.select("code", "met", "status", "units_missing", "units_applicable", "units_meeting",
                      "criteria").rows() == [
        # Due 2024-05-31, passed: 县民政局 (80 %) and 冰溪街道 (task 1 open) miss it; the office
        # (task 1 done) and 县公安局 (98 %) meet every criterion that applies to them.
        ("M1", False, "未达成", 2, 4, 2, 3),
        ("M2", False, "未到期", 1, 2, 1, 1),   # not met, due 2024-12-31
        ("M3", True, "已达成", 0, 2, 2, 1),    # met before its due date
    ]
    assert out.filter(pl.col("code") == "M1")["missing"].to_list()[0] == [
        "县民政局：答复按时率（80.0%）", "冰溪街道：任务1（逾期未完成）",
    ]


def test_the_criterion_in_force_is_the_latest_effective_from_on_or_before_d():
    criteria = CRITERIA + [
        crit("M1", "reply_ontime_rate", 0.75, since=D(2024, 6, 1)),
        crit("M1", "contacts_named", 1, ["乡镇（街道）"], since=D(2024, 6, 1), active=False),
        crit("M1", "task:1", 1, since=D(2024, 7, 1), active=False),  # after D: not yet in force
    ]
    before = milestone_criteria(facts(criteria), D(2024, 5, 31))
    after = milestone_criteria(facts(criteria), AS_OF)
    m1_before = before.filter(pl.col("code") == "M1")
    m1_after = after.filter(pl.col("code") == "M1")
    assert m1_before["label"].to_list() == ["任务1「建立机制」已完成", "明确分管领导和经办人：是", "答复按时率 ≥ 90%"]
    # From 2024-06-01 the bar is 75 %: 县民政局 at 80 % now meets it; the contacts criterion is withdrawn.
    assert m1_after.select("label", "meeting", "applicable").rows() == [
        ("任务1「建立机制」已完成", 1, 2), ("答复按时率 ≥ 75%", 2, 2),
    ]
    assert milestone_status(facts(criteria), AS_OF).row(0, named=True)["units_missing"] == 1
    assert criteria_in_force(facts(criteria), D(2022, 12, 31)).is_empty()


def test_kinds_limit_a_criterion():
    # The contacts criterion is for townships only: 县公安局 named nobody and is no gap for it.
    gaps = milestone_gaps(facts(), AS_OF)
    assert gaps.filter(pl.col("criterion") == "contacts_named").is_empty()
    everyone = [crit("M1", "contacts_named", 1)]
    missing = milestone_gaps(facts(everyone), AS_OF)
    assert missing["unit"].to_list() == [OFFICE, "县公安局", "县民政局", "县供电公司"]
    assert set(missing["detail"]) == {"否"}


@pytest.mark.parametrize(("criterion", "op", "threshold", "text"), [
    ("reply_ontime_rate", ">=", 0.9, "答复按时率 ≥ 90%"),
    ("security_rate", ">=", 2 / 3, "安全措施落实率 ≥ 66.7%"),
    ("security_rate", ">=", 1.0, "安全措施落实率 ≥ 100%"),
    ("quality_score", ">=", 60.0, "数据质量得分 ≥ 60分"),
    ("tasks_overdue_open", "<=", 0.0, "红灯任务数为0"),
    ("contacts_named", ">=", 1.0, "明确分管领导和经办人：是"),
    ("task:4", ">=", 1.0, "任务4已完成"),
])
def test_threshold_text(criterion, op, threshold, text):
    assert threshold_text(criterion, op, threshold) == text


def test_security_at_two_of_three_meets_the_two_thirds_bar():
    base = facts([crit("M1", "security_rate", 2 / 3)])
    base = dataclasses.replace(base, security=pl.DataFrame(
        [{"unit_id": 2, "assessed_on": D(2024, 1, 1), "desensitization": True, "encryption": True,
          "access_auth": False, "note": None}],
        schema=base.security.schema))
    out = milestone_criteria(base, AS_OF).row(0, named=True)
    # Every unit is judged on security (no assessment scores 0): only 县公安局 meets it.
    assert (out["applicable"], out["meeting"]) == (5, 1)


def test_default_criteria_are_known_and_defensible():
    tasks = {no: text for no, _s, _t, _g, text, *_ in PLAN_TASKS}
    for milestone, criterion, op, threshold, kinds in DEFAULT_CRITERIA:
        assert milestone in {"M1", "M2", "M3", "M4"}
        assert op in (">=", "<=") and set(kinds) <= set(UNIT_KINDS) and kinds
        if criterion.startswith("task:"):
            assert "持续" not in tasks[int(criterion[5:])]   # an ongoing task is never "completed"
        else:
            kpi = KPI_BY_CODE[criterion]
            assert threshold < 1 or kpi.kind != "rate" or criterion == "security_rate"
    # No default asks 100 % of a rate except security (three measures every unit must have).
    rates = [(c, t) for _m, c, _o, t, _k in DEFAULT_CRITERIA if c in KPI_BY_CODE and KPI_BY_CODE[c].kind == "rate"]
    assert {c for c, t in rates if t >= 1} == {"security_rate"}
