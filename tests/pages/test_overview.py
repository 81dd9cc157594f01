"""总览 page: headline figures with month-over-month change, milestones, trend, best/worst."""

from __future__ import annotations

import datetime as dt
import json

from data.storage.facts import load_facts
from metrics.milestones import milestone_status
from tests.pages.conftest import metrics, run_page, table, texts
from tests.pages.small_county import ADMIN, AS_OF, LEADER, UNIT2


def test_headline_figures_and_changes(county):
    at = run_page("overview", LEADER, AS_OF)
    assert not at.exception
    assert at.title[0].value == "总览"
    shown = metrics(at)
    # At 2023-10-31 against 2023-09-30: 5 items published (C4 on 2023-10-20 is new), 2 mounted
    # (C1, C4), 4 requests received in October (R3, R4, R6, R7), 3 in September (R1, R2, R5).
    assert shown["已发布目录（条）"] == ("5", "+1")
    assert shown["已挂接目录（条）"] == ("2", "+1")
    assert shown["本月收到共享申请（件）"] == ("4", "+1 较上月")
    assert shown["已明确分管领导和经办人的单位"] == ("2", "持平")   # the office and 县委办
    # Review on time 3 of 5 now, 2 of 2 (R1, R5) at the end of September: −40 points.
    assert shown["初审按时率（全县）"] == ("60.00%", "-40.00 个百分点")
    assert "2023年9月30日" in texts(at)


def test_milestones_read_as_the_engine_says(county):
    at = run_page("overview", LEADER, AS_OF)
    assert not at.exception
    engine = milestone_status(load_facts(county), AS_OF)
    shown = texts(at)
    for row in engine.iter_rows(named=True):
        assert f"**{row['code']} {row['title']}**" in shown
    # M1 (2023-05-31) is not met: 47 units, 1 meets every criterion that applies to it.
    assert "**M1 建立协调机制、明确责任人**（2023年5月31日到期）：**未达成**，47个单位中1个达标、46个未达标" in shown
    assert "**M3 平台能力到位、质量改善**（2023年12月31日到期）：**未到期**" in shown


def test_each_criterion_shows_its_bar_and_the_units_below_it(county):
    # The latest milestone due by D (M2) is open by default; pick M3 to see the rates.
    at = run_page("overview", LEADER, AS_OF, overview_milestone="M3")
    assert not at.exception
    criteria = table(at, "达标线")
    reply = criteria[criteria["达标线"] == "答复按时率 ≥ 90%"].iloc[0]
    # Three units answer requests; 县政府办 (0 %) is the one below 90 %.
    assert (reply["达标单位"], round(reply["达标比例"], 1), reply["未达标单位数"]) == ("2 / 3", 66.7, 1)
    assert "初审按时率 ≥ 90%" in set(criteria["达标线"])
    labels = [e.label for e in at.expander]
    assert "答复按时率 ≥ 90%：未达标的1个单位（达标2 / 3）" in labels
    failing = [t.value for t in at.dataframe if "现值" in t.value.columns]
    rows = [[tuple(r) for r in f[["单位名称", "现值"]].itertuples(index=False)] for f in failing]
    assert [("县政府办", "0.0%")] in rows                      # 答复按时率 ≥ 90%
    assert [("县大数据发展中心", "60.0%")] in rows             # 初审按时率 ≥ 90%
    # 业务专网迁移率: both units at 0 %.
    assert [("县委办", "0.0%"), ("县政府办", "0.0%")] in rows
    # The quality criterion is met by the one unit with checks: no expander for it.
    assert not any(label.startswith("数据质量得分") for label in labels)


def test_best_and_worst_by_kind(county):
    at = run_page("overview", ADMIN, AS_OF)
    extremes = table(at, "位置")
    best = extremes[(extremes["单位类型"] == "县直部门") & (extremes["位置"] == "最好")]
    assert list(best["单位名称"])[0] == "县委办" and list(best["综合得分"])[0] == "64.93"
    town = extremes[extremes["单位类型"] == "乡镇（街道）"]
    assert set(town["单位名称"]) == {"冰溪街道"}


def test_earlier_date_moves_everything(county):
    at = run_page("overview", ADMIN, dt.date(2023, 9, 30))
    assert not at.exception
    shown = metrics(at)
    # C1 and C2 were published on 2023-08-01, C3 on 2023-09-01, C5 on 2023-09-15.
    assert shown["已发布目录（条）"] == ("4", "+2")
    assert "2023年8月31日" in texts(at)


def test_unit_user_is_refused(county):
    at = run_page("overview", UNIT2, AS_OF)
    assert not at.exception
    assert "无权打开此页面" in at.error[0].value
    assert len(at.metric) == 0


def _received(db, days):
    from tests.pages.small_county import WEIBAN, ZHENGFUBAN

    with db.transaction() as cur:
        cur.executemany(
            "INSERT INTO share_requests (code, requester_id, provider_id, purpose, received_on) VALUES (?, ?, ?, ?, ?)",
            [(f"X{i}", ZHENGFUBAN, WEIBAN, "核验", day) for i, day in enumerate(days)])


def test_month_to_date_is_compared_with_the_same_days_of_last_month(county):
    # November: 2 requests on the 1st and 2nd, 3 more later (5 in the month). December: 3 on the
    # 1st and 2nd, 1 on the 3rd (after D). At D = 12月2日, 3 against November 1–2's 2: +1, not −2.
    D = dt.date
    _received(county, [D(2023, 11, 1), D(2023, 11, 2), D(2023, 11, 3), D(2023, 11, 20), D(2023, 11, 30),
                       D(2023, 12, 1), D(2023, 12, 2), D(2023, 12, 2), D(2023, 12, 3)])
    at = run_page("overview", LEADER, D(2023, 12, 2))
    assert not at.exception
    shown = metrics(at)
    assert shown["本月至今收到申请（12月1日—2日）"] == ("3", "+1 较上月同期")
    help_text = next(m.help for m in at.metric if m.label.startswith("本月至今"))
    assert help_text == "本月至今（12月1日—2日）收到共享申请3件，上月同期（11月1日—2日）2件"
    # At the month's end the whole month compares with the whole previous month.
    at = run_page("overview", LEADER, D(2023, 11, 30))
    assert metrics(at)["本月收到共享申请（件）"] == ("5", "+1 较上月")  # October: R3, R4, R6, R7


def test_month_length_is_clamped():
    from data.services.overview import month_to_date

    D = dt.date
    # 3月30日: the same days of February are the whole of February (29 days in 2024).
    assert month_to_date(D(2024, 3, 30)) == (D(2024, 3, 1), D(2024, 3, 30), D(2024, 2, 1), D(2024, 2, 29), True)
    assert month_to_date(D(2023, 3, 29)) == (D(2023, 3, 1), D(2023, 3, 29), D(2023, 2, 1), D(2023, 2, 28), True)
    assert month_to_date(D(2024, 3, 31)) == (D(2024, 3, 1), D(2024, 3, 31), D(2024, 2, 1), D(2024, 2, 29), False)
    assert month_to_date(D(2024, 12, 1)) == (D(2024, 12, 1), D(2024, 12, 1), D(2024, 11, 1), D(2024, 11, 1), True)


def test_trend_starts_at_the_plans_start_month(county):
    at = run_page("overview", LEADER, dt.date(2023, 9, 30))
    assert not at.exception
    assert any("2023年5月至2023年9月30日" in c.value for c in at.caption)
    dates = [x for fig in at.get("plotly_chart") for x in json.loads(fig.proto.spec)["data"][0]["x"]]
    assert dates[0] == "2023年5月"
    at = run_page("overview", LEADER, dt.date(2023, 4, 30))
    assert not at.exception
    assert "考评日在实施方案开始月份之前，尚无考评月份。" in [i.value for i in at.info]


def test_score_and_red_lights_are_drawn_on_two_axes(county):
    at = run_page("overview", LEADER, AS_OF)
    specs = [json.loads(fig.proto.spec) for fig in at.get("plotly_chart")]
    chart = next(s for s in specs if s["layout"]["title"]["text"] == "综合得分与红灯任务")
    assert chart["layout"]["yaxis"]["range"] == [0, 100]
    assert chart["layout"]["yaxis2"]["title"]["text"] == "红灯任务（个）"
    assert {t["name"]: t.get("yaxis", "y") for t in chart["data"]} == {"红灯任务（个）": "y2", "综合得分（单位平均）": "y"}
    assert chart["layout"]["xaxis"]["ticktext"] == ["2023年5月", "2023年6月", "2023年7月", "2023年8月", "2023年9月",
                                                    "2023年10月"]
    assert chart["layout"]["yaxis2"]["range"][0] == 0


def test_the_current_stage_is_open_by_default(county):
    at = run_page("overview", LEADER, AS_OF)
    assert at.radio(key="overview_milestone").value == "M2"     # due 2023-09-30, the latest by 2023-10-31
    assert "目录元数据完整率 ≥ 90%" in set(table(at, "达标线")["达标线"])
