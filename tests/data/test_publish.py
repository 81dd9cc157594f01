"""Publishing a month freezes its scorecard; corrections show up as differences, not silently."""

from __future__ import annotations

import datetime as dt
import io

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from data.imports.importer import import_workbook
from data.services.months import PublishError, published_months, published_scorecard
from data.services.publish import diff_published, publish_month, unpublish_month
from data.storage.facts import load_facts
from data.storage.scope import PermissionDenied, Scope
from metrics.scorecard import scorecard
from tests.fixtures.workbooks import TODAY, full_workbook_rows, workbook_bytes

OFFICE = Scope(username="office", role="管理员")
LEADER = Scope(username="boss", role="领导")
SEPT_END = dt.date(2023, 9, 30)


@pytest.fixture
def loaded(db):
    assert import_workbook(db, workbook_bytes(full_workbook_rows()), "基础.xlsx", today=TODAY).ok
    return db


def test_publish_freezes_the_scorecard(loaded):
    expected = scorecard(load_facts(loaded), SEPT_END)
    assert publish_month(loaded, OFFICE, "2023-09", today=TODAY) == expected.height
    frozen = published_scorecard(loaded, "2023-09")
    assert_frame_equal(frozen, expected, check_dtypes=False)
    assert published_months(loaded).select("month", "as_of", "published_by").rows() == [
        ("2023-09", SEPT_END, "office")]
    assert loaded.rows("SELECT action, target FROM audit_log WHERE action = '发布月度'") == [("发布月度", "2023-09")]
    assert published_scorecard(loaded, "2023-08") is None


def test_a_correction_shows_as_a_difference_not_silently(loaded):
    publish_month(loaded, OFFICE, "2023-09", today=TODAY)
    assert diff_published(loaded, "2023-09", scorecard(load_facts(loaded), SEPT_END)).height == 0
    # correct the data: GA-002 was in fact mounted on 2023-07-10
    rows = {"数据目录": [["目录编码", "资源名称", "提供单位", "资源格式", "共享类型", "更新周期", "发布日期", "挂接日期"],
                     ["GA-002", "=出入境", "县公安局", "接口", "无条件共享", "实时", "2023-07-01", "2023-07-10"]]}
    assert import_workbook(loaded, workbook_bytes(rows), "更正.xlsx", today=TODAY).updated == {"数据目录": 1}
    current = scorecard(load_facts(loaded), SEPT_END)
    # the published figures did not move
    police = published_scorecard(loaded, "2023-09").filter(pl.col("unit") == "县公安局")
    assert police["catalog_mounted_rate"].to_list() == [0.5]
    diff = diff_published(loaded, "2023-09", current)
    mounted = diff.filter(pl.col("code") == "catalog_mounted_rate")
    assert mounted.select("unit", "label", "old", "new").rows() == [("县公安局", "目录挂接率", "50.00%", "100.00%")]
    assert set(diff["unit"]) == {"县公安局"}  # only that unit's figures changed


def test_publishing_twice_or_an_unfinished_month_is_refused(loaded):
    publish_month(loaded, OFFICE, "2023-09", today=TODAY)
    with pytest.raises(PublishError, match="^2023年9月已发布；如需重新发布，请先撤销发布。$"):
        publish_month(loaded, OFFICE, "2023-09", today=TODAY)
    with pytest.raises(PublishError, match="^2024年1月尚未结束，不能发布。$"):
        publish_month(loaded, OFFICE, "2024-01", today=TODAY)
    with pytest.raises(PublishError, match="^月份格式应为 YYYY-MM：2023-13$"):
        publish_month(loaded, OFFICE, "2023-13", today=TODAY)


def test_only_the_office_publishes_and_unpublishes(loaded):
    with pytest.raises(PermissionDenied):
        publish_month(loaded, LEADER, "2023-09", today=TODAY)
    publish_month(loaded, OFFICE, "2023-09", today=TODAY)
    unit = Scope(username="ga", role="单位", unit_id=1)
    with pytest.raises(PermissionDenied):
        unpublish_month(loaded, unit, "2023-09")
    unpublish_month(loaded, OFFICE, "2023-09")
    assert published_scorecard(loaded, "2023-09") is None
    assert loaded.scalar("SELECT count(*) FROM published_scores") == 0
    assert loaded.rows("SELECT action, target FROM audit_log WHERE action LIKE '%发布%' ORDER BY id") == [
        ("发布月度", "2023-09"), ("撤销发布", "2023-09")]
    with pytest.raises(PublishError, match="^2023年9月尚未发布，无需撤销。$"):
        unpublish_month(loaded, OFFICE, "2023-09")
    # and it can be published again
    assert publish_month(loaded, OFFICE, "2023-09", today=TODAY) > 0


def test_changes_since_publication_explain_a_difference(loaded):
    from data.services.publish import changes_since_published

    publish_month(loaded, OFFICE, "2023-09", today=TODAY)
    assert changes_since_published(loaded, "2023-09").height == 0
    rows = {"业务专网": [["专网名称", "单位名称", "是否涉密", "是否已迁移", "迁移日期"],
                     ["政务专网", "县公安局", "否", "是", "2023-08-01"]]}
    import_workbook(loaded, workbook_bytes(rows), "专网.xlsx", today=TODAY)
    changes = changes_since_published(loaded, "2023-09")
    assert changes.columns == ["时间", "用户", "操作", "对象", "说明"]
    assert changes.select("用户", "操作", "对象").rows() == [("system", "导入", "专网.xlsx")]
    assert changes["说明"][0].startswith("「业务专网」：共 1 行，新增 1 行，更新 0 行；SHA-256 ")


# -- published months, everywhere -----------------------------------------------------------------

@pytest.fixture
def county(db):
    from tests.pages import small_county

    small_county.fill(db)
    return db


def _verify_the_late_report(county):
    """县政府办's report of 2023-10-25 on task 6 is verified after October was published: its
    October report_rate (and so its composite) changes."""
    from data.services.progress import verify_report
    from tests.pages.small_county import ZHENGFUBAN

    verify_report(OFFICE, 6, ZHENGFUBAN, dt.date(2023, 10, 25), db=county)


def test_a_published_month_stays_frozen_everywhere_after_a_verified_correction(county):
    from openpyxl import load_workbook

    from data.services import overview, scorecards
    from data.services.bulletin_store import current_bulletin
    from data.services.publish import changes_since_published, review_workbook_for
    from tests.pages.small_county import ZHENGFUBAN

    oct_end = dt.date(2023, 10, 31)
    before = scorecard(load_facts(county), oct_end)
    publish_month(county, OFFICE, "2023-10", today=dt.date(2023, 11, 5))
    text_at_publication = current_bulletin(county, "2023-10")
    card_before = scorecards.unit_scorecard(OFFICE, oct_end, ZHENGFUBAN, db=county)
    points_before = scorecards.indicator_rows(OFFICE, oct_end, ZHENGFUBAN, db=county)
    _verify_the_late_report(county)

    after = scorecard(load_facts(county), oct_end)
    row = pl.col("unit_id") == ZHENGFUBAN
    assert after.filter(row)["composite"][0] != before.filter(row)["composite"][0]  # the data did change

    # the 通报: the published text, not a regenerated one
    assert current_bulletin(county, "2023-10") == text_at_publication
    # the unit's card on the month's last day: frozen, with the differences beside it
    card = scorecards.unit_scorecard(OFFICE, oct_end, ZHENGFUBAN, db=county)
    assert card["composite"] == card_before["composite"] == before.filter(row)["composite"][0]
    assert card["frozen_month"] == "2023-10"
    assert {d["label"] for d in card["differences"]} >= {"进展报送率", "综合得分"}
    assert_frame_equal(scorecards.indicator_rows(OFFICE, oct_end, ZHENGFUBAN, db=county), points_before)
    # the ranking at that date and the trend's October point are the frozen ones
    ranking = scorecards.ranking(OFFICE, oct_end, db=county)
    assert ranking.filter(row)["composite"][0] == before.filter(row)["composite"][0]
    trend = scorecards.unit_trend(OFFICE, dt.date(2023, 11, 30), ZHENGFUBAN, db=county)
    assert trend.filter(pl.col("month") == "2023-10")["composite"][0] == before.filter(row)["composite"][0]
    county_oct = overview.county_trend(OFFICE, dt.date(2023, 11, 30), db=county).filter(pl.col("month") == "2023-10")
    assert county_oct["composite"][0] == pytest.approx(before["composite"].mean())
    # November's change is measured from the frozen October
    nov = scorecards.ranking(OFFICE, dt.date(2023, 11, 30), db=county).filter(row)
    assert nov["composite_change"][0] == pytest.approx(nov["composite"][0] - before.filter(row)["composite"][0])
    # a day that is not the month's end is computed as usual
    assert scorecards.unit_scorecard(OFFICE, dt.date(2023, 10, 30), ZHENGFUBAN, db=county)["frozen_month"] is None

    # the review workbook: the frozen sheets plus a 差异 sheet naming the change and its source
    wb = load_workbook(io.BytesIO(review_workbook_for(county, "2023-10")))
    assert wb.sheetnames[-1] == "差异"
    ranking_sheet = {r[2]: r[3] for r in wb["排名汇总"].iter_rows(min_row=4, values_only=True)}
    assert ranking_sheet["县政府办"] == pytest.approx(round(before.filter(row)["composite"][0], 2))
    assert [c.value or "" for c in wb["通报"]["A"]] == text_at_publication.split("\n")
    diff_rows = list(wb["差异"].iter_rows(min_row=4, values_only=True))
    assert ("县政府办", "进展报送率") in {r[:2] for r in diff_rows}
    assert any(r[2] == "核验进展" for r in diff_rows if r[0] is not None and r[1] == "office")
    assert changes_since_published(county, "2023-10")["操作"].to_list() == ["核验进展"]


def test_unpublishing_keeps_the_drafts_and_takes_a_reason(county):
    from data.services.bulletin_store import save_draft, versions

    save_draft(county, OFFICE, "2023-10", "通报第一稿")
    publish_month(county, OFFICE, "2023-10", today=dt.date(2023, 11, 5))
    assert county.rows("SELECT version, text FROM published_bulletins") == [(1, "通报第一稿")]
    unpublish_month(county, OFFICE, "2023-10", reason="数据更正后重新发布")
    assert county.scalar("SELECT count(*) FROM published_frames") == 0
    assert county.scalar("SELECT count(*) FROM published_bulletins") == 0
    assert versions(county, "2023-10")["version"].to_list() == [1]
    assert county.scalar("SELECT detail FROM audit_log WHERE action = '撤销发布'").endswith("原因：数据更正后重新发布")


def test_publishing_without_a_saved_draft_stores_the_generated_text_as_version_1(county):
    from data.services.bulletin_store import current_bulletin, generated_bulletin

    generated = generated_bulletin(county, "2023-10")
    publish_month(county, OFFICE, "2023-10", today=dt.date(2023, 11, 5))
    assert county.rows("SELECT version, text, edited_by FROM bulletin_drafts") == [(1, generated, "office")]
    assert current_bulletin(county, "2023-10") == generated


def test_a_draft_saved_while_publishing_stops_the_publication(county, monkeypatch):
    """The published text is the stored version at publish time: a version saved between reading
    the draft and writing the publication refuses it, with nothing written."""
    from data.services import bulletin_store
    from data.services import publish as pub

    bulletin_store.save_draft(county, OFFICE, "2023-10", "第一稿")
    real = pub._frozen_outputs

    def racing(*args, **kwargs):
        out = real(*args, **kwargs)
        bulletin_store.save_draft(county, OFFICE, "2023-10", "第二稿")  # someone saves meanwhile
        return out

    monkeypatch.setattr(pub, "_frozen_outputs", racing)
    with pytest.raises(PublishError, match="通报草稿刚被修改"):
        publish_month(county, OFFICE, "2023-10", today=dt.date(2023, 11, 5))
    assert county.scalar("SELECT count(*) FROM published_months") == 0
    assert county.scalar("SELECT count(*) FROM published_frames") == 0
