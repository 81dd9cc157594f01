"""单位考评 page: the ranking and one unit's indicators, read as a user reads them."""

from __future__ import annotations

import polars as pl

from data.storage.facts import load_facts
from metrics.scorecard import scorecard
from tests.pages.conftest import metrics, run_page, table, table_by_key, texts
from tests.pages.small_county import ADMIN, AS_OF, EARLIER, UNIT2, UNIT3, WEIBAN, ZHENGFUBAN
from ui.fmt import fmt_score


def _row(db, as_of, unit_id):
    return scorecard(load_facts(db), as_of).filter(pl.col("unit_id") == unit_id).row(0, named=True)


def test_admin_reads_the_ranking_and_a_units_scores(county):
    at = run_page("scorecards", ADMIN, AS_OF, scorecards_unit="县委办")
    assert not at.exception
    assert at.title[0].value == "单位考评"
    ranking = table_by_key(at, "scorecards_ranking")
    expected = _row(county, AS_OF, WEIBAN)
    row = ranking[ranking["单位名称"] == "县委办"].iloc[0]
    assert row["综合得分"] == fmt_score(expected["composite"]) == "64.93"
    assert row["等次"] == "合格" and row["排名"] == 1
    shown = metrics(at)
    assert shown["综合得分"][0] == "64.93"
    assert shown["排名（县直部门）"][0] == "第1名"
    indicators = table(at, "计算方法").set_index("指标")["数值"]  # the indicator table
    # 县委办 at 2023-10-31: 1 of 3 items mounted, 2 of 3 shared, the 不予共享 item lacks its basis.
    assert indicators["目录挂接率"] == "33.33%"
    assert indicators["目录共享率"] == "66.67%"
    assert indicators["不予共享依据完备率"] == "0.00%"
    assert indicators["明确分管领导和经办人"] == "是"
    assert indicators["需求对接率"] == "0.00%"                # D3 is still open
    assert indicators["初审按时率"] == "不适用"              # only the office is judged on review


def test_the_as_of_date_changes_what_is_read(county):
    at = run_page("scorecards", ADMIN, EARLIER, scorecards_unit="县委办")
    assert not at.exception
    expected = _row(county, EARLIER, WEIBAN)
    assert metrics(at)["综合得分"][0] == fmt_score(expected["composite"])
    indicators = table(at, "计算方法").set_index("指标")["数值"]  # the indicator table
    # On 2023-06-30 no catalog item is published yet.
    assert indicators["目录已发布"] == "否"
    assert indicators["目录挂接率"] == "不适用"
    assert "2023年6月30日" in texts(at)


def test_a_unit_user_sees_the_ranking_and_only_its_own_detail(county):
    at = run_page("scorecards", UNIT3, AS_OF, scorecards_unit="县委办")
    assert not at.exception
    ranking = table_by_key(at, "scorecards_ranking")
    assert "县委办" in set(ranking["单位名称"])           # the county ranking is public
    assert "建议" not in ranking.columns and "红灯数" not in ranking.columns
    assert at.selectbox(key="scorecards_unit").options == ["县政府办"]
    expected = _row(county, AS_OF, ZHENGFUBAN)
    assert metrics(at)["综合得分"][0] == fmt_score(expected["composite"])


def test_rows_behind_an_indicator(county):
    at = run_page("scorecards", UNIT2, AS_OF, scorecards_unit="县委办", scorecards_kpi="目录挂接率")
    assert not at.exception
    behind = table(at, "目录编码")
    assert sorted(behind["目录编码"]) == ["C1", "C2", "C3"]


def test_points_per_indicator_answer_why_the_composite(county):
    """得分明细: 得分, 权重, 得分贡献, 失分 per applicable indicator, most points lost first, the
    contributions adding up to the composite and unweighted indicators never losing points."""
    at = run_page("scorecards", ADMIN, AS_OF, scorecards_unit="县委办")
    assert not at.exception
    pts = table(at, "得分贡献（得分）")
    assert list(pts.columns) == ["指标", "得分", "权重", "得分贡献（得分）", "失分"]
    assert pts.iloc[-1]["指标"] == "合计（综合得分）"
    assert pts.iloc[-1]["得分贡献（得分）"] == "64.93"
    body = pts.iloc[:-1]
    lost = [float(x) for x in body["失分"]]
    assert lost == sorted(lost, reverse=True)
    assert abs(sum(float(x) for x in body["得分贡献（得分）"]) - 64.93) < 0.01 * len(body)
    assert abs(sum(float(x) for x in body["权重"]) - 100) < 0.01 * len(body)
    demand = body[body["指标"] == "需求对接率"].iloc[0]     # applicable, 0 %, but weight 0
    assert (demand["权重"], demand["失分"]) == ("0.00", "0.00")
    assert "初审按时率" not in set(body["指标"])            # n/a for 县委办: not listed
    # the mounted rate (weight 10 of the applicable weights) at 33.33 % is the largest loss here
    views_rows = body.set_index("指标")
    assert float(views_rows.loc["目录挂接率", "失分"]) > 0


def test_a_published_months_card_is_frozen_with_the_differences_beside_it(county):
    import datetime as dt

    from data.services.progress import verify_report
    from data.services.publish import publish_month
    from data.storage.scope import Scope

    office = Scope(username="office", role="管理员")
    frozen = _row(county, AS_OF, ZHENGFUBAN)["composite"]
    publish_month(county, office, "2023-10", today=dt.date(2023, 11, 5))
    verify_report(office, 6, ZHENGFUBAN, dt.date(2023, 10, 25), db=county)  # a verified correction
    assert _row(county, AS_OF, ZHENGFUBAN)["composite"] != frozen
    at = run_page("scorecards", UNIT3, AS_OF)
    assert not at.exception
    assert metrics(at)["综合得分"][0] == fmt_score(frozen)
    assert "已发布（冻结）数据：2023年10月考评结果已发布，本页按已发布的结果显示。" in texts(at)
    diff = table(at, "重新计算")
    assert "进展报送率" in set(diff["项目"]) and "综合得分" in set(diff["项目"])
    composite = diff[diff["项目"] == "综合得分"].iloc[0]
    assert composite["已发布"] == fmt_score(frozen)
    assert table(at, "得分贡献（得分）").iloc[-1]["得分贡献（得分）"] == fmt_score(frozen)
    # the day before is not a published month's end: computed as usual, no note
    at = run_page("scorecards", UNIT3, dt.date(2023, 10, 30))
    assert "已发布（冻结）数据" not in texts(at)
