"""The supervision loop in the engine: extension effects, commitment states, the 督查 proposal,
authorisation states and the 督办单 items, each against hand-computed fixtures."""

from __future__ import annotations

import datetime as dt

import polars as pl

from metrics.facts import EXTENSIONS_SCHEMA
from metrics.scorecard import indicators
from metrics.tasks import assignment_status, extension_marks, extensions_per_unit, task_indicators
from tests.metrics.kpi_fixtures import make_facts, task

D = dt.date

# Task 1 due 2023-06-30, assigned to unit 2 (县公安局) and unit 3 (县民政局).
TASKS = [task(1, D(2023, 6, 30))]
ASSIGN = [{"task_no": 1, "unit_id": 2, "origin": "测试"}, {"task_no": 1, "unit_id": 3, "origin": "测试"}]
REPORTS = [
    # unit 2: 推进中 on 6-20, completed on 8-20 (after the plan's date, before the extended one)
    {"task_no": 1, "unit_id": 2, "reported_on": D(2023, 6, 20), "status": "推进中", "percent": 50},
    {"task_no": 1, "unit_id": 2, "reported_on": D(2023, 8, 20), "status": "已完成", "percent": 100,
     "completed_on": D(2023, 8, 20)},
    # unit 3: completed on time
    {"task_no": 1, "unit_id": 3, "reported_on": D(2023, 6, 25), "status": "已完成", "percent": 100,
     "completed_on": D(2023, 6, 25)},
]
# Unit 2's request approved on 2023-06-25: due 2023-08-31.
APPROVED = [{"task_no": 1, "unit_id": 2, "approved_due": D(2023, 8, 31), "decided_on": D(2023, 6, 25)}]


def ext_facts(extensions=(), settings=None):
    facts = make_facts(settings=settings, tasks=TASKS, assignments=ASSIGN, reports=REPORTS)
    frame = pl.DataFrame(list(extensions), schema=EXTENSIONS_SCHEMA, orient="row") if extensions \
        else pl.DataFrame(schema=EXTENSIONS_SCHEMA)
    from dataclasses import replace

    return replace(facts, extensions=frame)


def _row(facts, as_of, unit=2):
    return assignment_status(facts, as_of).filter(pl.col("unit_id") == unit).row(0, named=True)


def test_approved_extension_replaces_the_due_date_for_status_light_and_rate():
    facts = ext_facts(APPROVED)
    # Before the decision (6-24) the plan's date holds: 推进中, due in 6 days -> yellow.
    before = _row(facts, D(2023, 6, 24))
    assert (before["due_date"], before["status"], before["light"]) == (D(2023, 6, 30), "推进中", "yellow")
    # 7-10: without the extension this would be 逾期未完成 / red; with it 推进中, 52 days left -> green.
    mid = _row(facts, D(2023, 7, 10))
    assert (mid["due_date"], mid["status"], mid["light"]) == (D(2023, 8, 31), "推进中", "green")
    # 9-01: completed 8-20 <= 8-31: 按期完成, so task_ontime_rate = 1/1 for unit 2.
    after = _row(facts, D(2023, 9, 1))
    assert (after["status"], after["light"]) == ("按期完成", "green")
    rates = task_indicators(facts, D(2023, 9, 1)).filter(pl.col("unit_id") == 2).row(0, named=True)
    assert rates["task_ontime_rate"] == 1.0 and rates["tasks_overdue_open"] == 0
    # unit 3 is untouched
    assert _row(facts, D(2023, 7, 10), unit=3)["due_date"] == D(2023, 6, 30)


def test_no_extension_or_a_refused_one_leaves_the_plan_date():
    # A refused request never reaches the engine (data.storage.facts loads approved ones only).
    facts = ext_facts()
    mid = _row(facts, D(2023, 7, 10))
    assert (mid["status"], mid["light"]) == ("逾期未完成", "red")
    after = _row(facts, D(2023, 9, 1))
    assert (after["status"], after["light"]) == ("逾期完成", "yellow")
    assert task_indicators(facts, D(2023, 9, 1)).filter(pl.col("unit_id") == 2)["task_ontime_rate"][0] == 0.0


def test_setting_off_ignores_approved_extensions_but_still_marks_them():
    facts = ext_facts(APPROVED, settings={"extension_applies": False})
    mid = _row(facts, D(2023, 7, 10))
    assert (mid["due_date"], mid["status"], mid["light"]) == (D(2023, 6, 30), "逾期未完成", "red")
    assert task_indicators(facts, D(2023, 9, 1)).filter(pl.col("unit_id") == 2)["task_ontime_rate"][0] == 0.0
    marks = extension_marks(facts, D(2023, 7, 10)).row(0, named=True)
    assert marks == {"task_no": 1, "unit_id": 2, "original_due": D(2023, 6, 30), "extended_due": D(2023, 8, 31),
                     "extensions": 1, "applied": False}


def test_extension_marks_and_counts_follow_the_as_of_date():
    facts = ext_facts(APPROVED)
    assert extension_marks(facts, D(2023, 6, 24)).is_empty()
    marks = extension_marks(facts, D(2023, 7, 1)).row(0, named=True)
    assert (marks["original_due"], marks["extended_due"], marks["applied"]) == (D(2023, 6, 30), D(2023, 8, 31), True)
    counts = dict(extensions_per_unit(facts, D(2023, 7, 1)).iter_rows())
    assert counts[2] == 1 and counts[3] == 0 and counts[1] == 0
    # the scorecard's red-light count follows the extended date too
    assert indicators(facts, D(2023, 7, 10)).filter(pl.col("unit_id") == 2)["tasks_overdue_open"][0] == 0


# -- 约谈, 整改承诺, 督查 ----------------------------------------------------------------------------
from dataclasses import replace  # noqa: E402

from metrics.facts import COMMITMENTS_SCHEMA, INTERVIEWS_SCHEMA, USE_UNTIL_SCHEMA  # noqa: E402
from metrics.supervision import (  # noqa: E402
    authorisation_states,
    commitment_states,
    commitments_due_in,
    expiring_authorisations,
    inspection_proposals,
    interview_reasons,
    notice_items,
    open_commitments,
    points_lost,
    requested_completion,
)

WEIGHTS = {"contacts_named": 40, "task_ontime_rate": 40, "tasks_overdue_open": 20}
LOOP_ASSIGN = [{"task_no": 1, "unit_id": u, "origin": "测试"} for u in (2, 3, 4)]
LOOP_REPORTS = [
    # unit 2 completes 2023-07-20 (late for the plan's 6-30, in time for its commitment of 7-31)
    {"task_no": 1, "unit_id": 2, "reported_on": D(2023, 7, 20), "status": "已完成", "percent": 100,
     "completed_on": D(2023, 7, 20)},
    # unit 3 completes 2023-08-25: after its commitment's due date (kept late)
    {"task_no": 1, "unit_id": 3, "reported_on": D(2023, 8, 25), "status": "已完成", "percent": 100,
     "completed_on": D(2023, 8, 25)},
    # unit 4 never completes
]
CONTACTS = [  # unit 2 named both on 2023-07-10 (its indicator commitment is kept)
    {"unit_id": 2, "role": "分管领导", "name": "王一", "named_on": D(2023, 7, 10)},
    {"unit_id": 2, "role": "经办人", "name": "李二", "named_on": D(2023, 7, 10)},
]
INTERVIEWS = [
    (1, "2023-06", 2, D(2023, 7, 5), "王一", "红灯"),
    (2, "2023-06", 3, D(2023, 7, 5), "张三", "红灯"),
    (3, "2023-06", 4, D(2023, 7, 5), "赵四", "红灯"),
    (4, "2023-08", 5, D(2023, 9, 5), "钱五", "不合格"),
    (5, "2023-09", 5, D(2023, 9, 28), "钱五", "不合格"),
]
COMMITMENTS = [
    (1, 1, 2, None, None, 1, D(2023, 7, 31), None),               # kept on time
    (2, 2, 3, None, None, 1, D(2023, 7, 31), None),               # kept late (8-25)
    (3, 3, 4, None, None, 1, D(2023, 7, 31), None),               # not kept
    (4, 3, 4, "contacts_named", 1.0, None, D(2023, 10, 31), None),  # not yet due at 9-30
    (5, 1, 2, "contacts_named", 1.0, None, D(2023, 7, 31), None),   # indicator kept (1 >= 1)
]
AUTHS = [
    ("A1", 2, 3, "C1", "核验", D(2023, 10, 30), D(2023, 9, 1), "同意"),     # 30 days left: 即将到期
    ("A2", 2, 3, "C1", "核验", D(2023, 10, 31), D(2023, 9, 1), "同意"),     # 31 days: 有效
    ("A3", 3, 2, "C2", "统计", D(2023, 9, 29), D(2023, 9, 1), "部分同意"),  # yesterday: 已到期
    ("A4", 3, 2, "C2", "统计", D(2023, 9, 30), D(2023, 9, 1), "同意"),      # today: 即将到期
    ("A5", 4, 2, "C2", "统计", None, D(2023, 9, 1), "同意"),                # no limit: 有效
    ("A6", 4, 3, "C1", "统计", D(2023, 12, 31), D(2023, 10, 5), "同意"),    # replied after D: absent
]
S_AS_OF = D(2023, 9, 30)


def loop_facts(**settings):
    replies = [{"code": code, "requester_id": req, "provider_id": prov, "catalog_code": item, "purpose": purpose,
                "received_on": replied - dt.timedelta(days=2), "reviewed_on": replied - dt.timedelta(days=1),
                "review_result": "通过", "forwarded_on": replied - dt.timedelta(days=1), "replied_on": replied,
                "reply_result": result}
               for code, req, prov, item, purpose, _until, replied, result in AUTHS]
    facts = make_facts(settings={"weights": WEIGHTS, **settings}, tasks=TASKS, assignments=LOOP_ASSIGN,
                       reports=LOOP_REPORTS, contacts=CONTACTS,
                       requests=[{"code": "R1", "requester_id": 2, "provider_id": 3, "purpose": "核验",
                                  "received_on": D(2023, 9, 1), "reviewed_on": D(2023, 9, 4),
                                  "review_result": "通过", "forwarded_on": D(2023, 9, 4)}, *replies])
    return replace(
        facts,
        interviews=pl.DataFrame(INTERVIEWS, schema=INTERVIEWS_SCHEMA, orient="row"),
        commitments=pl.DataFrame(COMMITMENTS, schema=COMMITMENTS_SCHEMA, orient="row"),
        use_until=pl.DataFrame([(a[0], a[5]) for a in AUTHS if a[5] is not None], schema=USE_UNTIL_SCHEMA,
                               orient="row"),
    )


def _states(as_of):
    return {r["commitment_id"]: r for r in commitment_states(loop_facts(), as_of).iter_rows(named=True)}


def test_commitment_states_on_time_late_not_kept_and_not_yet_due():
    s = _states(S_AS_OF)
    assert (s[1]["state"], s[1]["kept_late"], s[1]["follow_up"]) == ("已整改", False, "按期整改到位")
    assert (s[2]["state"], s[2]["kept_late"], s[2]["kept_on"]) == ("逾期未整改", True, D(2023, 8, 25))
    assert s[2]["follow_up"] == "已于2023年8月25日整改（逾期）"
    assert (s[3]["state"], s[3]["kept_late"], s[3]["follow_up"]) == ("逾期未整改", False, "逾期未整改（期限2023年7月31日）")
    assert (s[4]["state"], s[4]["follow_up"]) == ("整改中", "整改期限2023年10月31日")
    assert (s[5]["state"], s[5]["value_at_due"]) == ("已整改", 1.0)


def test_on_the_due_date_an_unmet_commitment_is_still_open_and_the_next_day_overdue():
    on_due = _states(D(2023, 7, 31))
    assert [on_due[i]["state"] for i in (1, 2, 3)] == ["已整改", "整改中", "整改中"]
    after = _states(D(2023, 8, 1))
    assert [after[i]["state"] for i in (1, 2, 3)] == ["已整改", "逾期未整改", "逾期未整改"]
    assert not after[2]["kept_late"]     # not yet completed on 8-01
    # before the interview was held, its commitments do not exist
    assert _states(D(2023, 7, 4)) == {}


def test_open_commitments_and_those_due_in_the_month():
    facts = loop_facts()
    assert sorted(open_commitments(facts, S_AS_OF)["commitment_id"].to_list()) == [3, 4]
    july = commitments_due_in(facts, "2023-07")
    assert dict(zip(july["commitment_id"], july["state"], strict=True)) == {
        1: "已整改", 2: "逾期未整改", 3: "逾期未整改", 5: "已整改"}   # as of 7-31 the day is over
    assert commitments_due_in(facts, "2023-10")["commitment_id"].to_list() == [4]


def test_inspection_proposals_broken_commitments_or_two_consecutive_months():
    out = inspection_proposals(loop_facts(), S_AS_OF)
    assert out.select("unit_id", "broken", "consecutive", "reason").rows() == [
        (4, 1, False, "逾期未整改承诺1项"),
        (5, 0, True, "连续两个月被约谈"),
    ]
    # two months on, unit 5's consecutive interviews (08, 09) are no longer recent
    later = inspection_proposals(loop_facts(), D(2023, 11, 30))
    assert later["unit_id"].to_list() == [4]   # unit 4 still broken (task 1 never done); commitment 4 now overdue too
    assert later["broken"].to_list() == [2]


def test_points_lost_and_the_prefilled_interview_reasons():
    lost = points_lost(loop_facts(), S_AS_OF)
    unit4 = lost.filter(pl.col("unit_id") == 4).select("code", "weight", "earned", "lost").rows()
    assert unit4 == [("contacts_named", 40.0, 0.0, 40.0), ("task_ontime_rate", 40.0, 0.0, 40.0),
                     ("tasks_overdue_open", 20.0, 16.0, 4.0)]
    # unit 5 has no assignment: only contacts_named applies, its weight scaled up to 100
    assert lost.filter(pl.col("unit_id") == 5).select("code", "weight", "lost").rows() == [
        ("contacts_named", 100.0, 100.0)]
    text = interview_reasons(loop_facts(), "2023-09", 4)
    assert text == ("红灯任务1项：任务1“任务1”（时限2023年6月30日）；失分较多的指标：明确分管领导和经办人（失40.00分）、"
                    "任务按期完成率（失40.00分）、红灯任务数（失4.00分）。")
    assert interview_reasons(loop_facts(), "2023-09", 2) == "失分较多的指标：任务按期完成率（失40.00分）。"


def test_authorisation_states_around_the_window():
    states = authorisation_states(loop_facts(), S_AS_OF)
    assert dict(zip(states["code"], states["state"], strict=True)) == {
        "A1": "即将到期", "A2": "有效", "A3": "已到期", "A4": "即将到期", "A5": "有效"}
    narrow = authorisation_states(loop_facts(authorisation_warning_days=10), S_AS_OF)
    assert dict(zip(narrow["code"], narrow["state"], strict=True))["A1"] == "有效"
    assert expiring_authorisations(loop_facts(), "2023-09")["code"].to_list() == ["A4", "A1"]


def test_notice_items_per_unit_with_days_overdue():
    items = notice_items(loop_facts(), S_AS_OF)
    rows = items.select("unit_id", "kind", "deadline", "days_overdue", "day_kind").rows()
    assert rows == [
        # R1's reply was due 2023-09-18 (10 working days after 9-04); 9-19..22, 9-25..28 are 8
        # working days, 9-29 and 9-30 are the Mid-Autumn holiday
        (3, "逾期申请环节", D(2023, 9, 18), 8, "工作日"),
        # unit 4: its commitment (due 7-31: 61 days) and task 1 (due 6-30: 92 days)
        (4, "红灯任务", D(2023, 6, 30), 92, "日"),
        (4, "逾期未整改承诺", D(2023, 7, 31), 61, "日"),
    ]
    assert items.filter(pl.col("unit_id") == 4)["item"].to_list() == [
        "任务1“任务1”逾期未完成", "2023年6月约谈承诺：完成任务1"]
    # issued Friday 2023-10-13: ten working days later is 2023-10-27
    assert requested_completion(loop_facts(), D(2023, 10, 13)) == D(2023, 10, 27)
