"""The 通报 is fair: the office is never in its own 约谈 list and has its own paragraph, 表扬 only
where a kind is large enough, 失分项 ranked by points lost and weighted only, plain unit lists."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "metrics"))
from kpi_fixtures import D, item, make_facts, request, task  # noqa: E402

from data.storage.plan import OFFICE  # noqa: E402
from reports.bulletin import bulletin_text, unit_names  # noqa: E402

MONTH = "2023-12"
SETTINGS = {"weights": {"contacts_named": 40, "share_rate": 30, "reply_ontime_rate": 30}}
UNITS = [
    {"unit_id": 1, "name": OFFICE, "kind": "县直部门"},
    {"unit_id": 2, "name": "县公安局", "kind": "县直部门"},
    {"unit_id": 3, "name": "县民政局", "kind": "县直部门"},
    {"unit_id": 4, "name": "县财政局", "kind": "县直部门"},
    {"unit_id": 5, "name": "县司法局", "kind": "县直部门"},
    {"unit_id": 6, "name": "冰溪街道", "kind": "乡镇（街道）"},
    {"unit_id": 8, "name": "县档案馆", "kind": "其他"},
]


def named(unit):
    return [{"unit_id": unit, "role": r, "name": "李四", "named_on": D(2023, 6, 1)} for r in ("分管领导", "经办人")]


def facts():
    unshared = {"share_type": "不予共享", "nonshare_basis": "涉及个人隐私"}
    return make_facts(
        settings=SETTINGS,
        units=UNITS,
        # the office names nobody: contacts 0 -> composite 0, 不合格
        contacts=[*named(2), *named(3), *named(4), *named(6), *named(8)],
        catalog=[item("A1", 2, D(2023, 12, 15)), item("B1", 3, D(2023, 12, 15)),
                 item("C1", 4, D(2023, 12, 15)), item("C2", 4, D(2023, 12, 15), **unshared),
                 item("E1", 5, D(2023, 12, 15), **unshared)],
        # 县司法局 raised a demand nobody matched: demand_matched_rate 0 %, but it weighs 0
        demands=[{"code": "X1", "unit_id": 5, "content": "户籍", "target_code": None, "raised_on": D(2023, 12, 1)}],
        # the office reviewed late (received Dec 1, due Dec 6, reviewed Dec 8): review 0 %
        requests=[request("Q1", D(2023, 12, 1), requester=2, provider=3, reviewed_on=D(2023, 12, 8),
                          review_result="通过", forwarded_on=D(2023, 12, 8), replied_on=D(2023, 12, 11),
                          reply_result="同意")],
        tasks=[task(1, D(2023, 11, 30), "编制目录"), task(2, D(2023, 11, 30), "建设平台")],
        # task 1: only 县财政局, never reported (red); task 2: the office, never reported (red)
        assignments=[{"task_no": 1, "unit_id": 4, "origin": "x"}, {"task_no": 2, "unit_id": 1, "origin": "x"}],
    )


def section(text: str, heading: str) -> list[str]:
    lines = text.splitlines()
    start = lines.index(heading) + 1
    end = next(i for i in range(start, len(lines)) if lines[i] == "")
    return lines[start:end]


def test_the_office_is_never_interviewed_and_has_its_own_paragraph():
    text = bulletin_text(facts(), MONTH)
    interviews = "\n".join(section(text, "三、需要加强的单位"))
    assert OFFICE not in interviews
    assert "县司法局综合得分0.00分" in interviews
    own = section(text, "四、领导小组办公室自身工作情况")
    assert own[0] == (f"{OFFICE}综合得分0.00分，等次不合格（县直部门第4名）；初审按时率0.00%（按时0件、超时办结1件、"
                      "逾期未审0件）；承担分工任务1项，已完成0项（按期0项），红灯1项（任务2）；"
                      "主要失分项：明确分管领导和经办人：否（失100.00分）。")
    assert own[1].startswith("领导小组办公室是本通报的发文单位，按回避原则不列入表扬和约谈建议")


def test_lost_points_name_only_weighted_indicators_most_lost_first():
    interviews = section(bulletin_text(facts(), MONTH), "三、需要加强的单位")
    justice = next(line for line in interviews if line.startswith("县司法局"))
    # contacts (weight 40 of 70 -> 57.14) lost in full, share 0 % (30 of 70 -> 42.86) lost in full;
    # demand_matched_rate 0 % and mounting 0 % are applicable but unweighted: never named
    assert justice == ("县司法局综合得分0.00分，等次不合格；主要失分项：明确分管领导和经办人：否（失57.14分）、"
                       "目录共享率 0.00%（失42.86分）。")
    assert "需求对接率" not in "\n".join(interviews)


def test_praise_only_in_kinds_with_enough_units():
    text = bulletin_text(facts(), MONTH)
    praise = section(text, "二、表现较好的单位")
    # 县直部门 has 5 units: its top three without the office are 县公安局 and 县民政局 (100) and
    # 县财政局 ((40×100 + 30×50) / 70 = 78.57; one red light is below the 约谈 bar of two)
    assert praise[0] == "县直部门：县公安局（100.00分）、县民政局（100.00分）、县财政局（78.57分）。"
    assert "县档案馆" not in "\n".join(praise) and "冰溪街道" not in "\n".join(praise)
    assert praise[-1] == "乡镇（街道）、其他参与考评的单位不足4个，排名不作为表扬依据。"


def test_one_unit_is_named_without_a_count():
    text = bulletin_text(facts(), MONTH)
    overdue = "\n".join(section(text, "五、逾期事项"))
    assert "任务1「编制目录」（县财政局）" in overdue
    assert "等1个单位" not in text


@pytest.mark.parametrize(("names", "expected"), [
    (["县公安局"], "县公安局"),
    (["县公安局", "县民政局"], "县公安局、县民政局"),
    (["甲", "乙", "丙"], "甲、乙、丙"),
    (["甲", "乙", "丙", "丁", "戊"], "甲、乙、丙等5个单位"),
])
def test_unit_names(names, expected):
    assert unit_names(names) == expected


def test_red_lights_read_as_a_count_among_the_lost_points():
    f = facts()
    f.settings["weights"] = {"contacts_named": 40, "tasks_overdue_open": 60}
    interviews = section(bulletin_text(f, MONTH), "三、需要加强的单位")
    # 县财政局: contacts 40 earned, one red light scores 80 and loses 60 × 20 % = 12: 88, 良好, not
    # interviewed (one red light is below the bar of two)
    assert not any(line.startswith("县财政局") for line in interviews)
    own = section(bulletin_text(f, MONTH), "四、领导小组办公室自身工作情况")[0]
    # the office: contacts 0 (lost 40), one red light (score 80, lost 12)
    assert own.endswith("主要失分项：明确分管领导和经办人：否（失40.00分）、红灯任务数 1项（失12.00分）。")
