"""月度考评 page: ranking, suggestions, the editable 通报 draft, publishing and its differences."""

from __future__ import annotations

import pytest

from data.storage.facts import load_facts
from reports.bulletin import bulletin_text
from tests.pages.conftest import run_page, table, texts
from tests.pages.small_county import ADMIN, AS_OF, LEADER, UNIT2


def test_admin_reads_the_month_and_publishes_it(county):
    at = run_page("review", ADMIN, AS_OF)
    assert not at.exception
    assert at.title[0].value == "月度考评"
    assert at.selectbox(key="review_month").value == "2023-10"
    assert at.selectbox(key="review_month").options[0] == "2023年5月"
    assert "按2023年10月31日（月末）的数据计算；排名在同类单位内进行，得分变化与上月末比较。" in texts(at)
    ranking = table(at, "得分较上月")
    assert {"单位名称", "综合得分", "等次", "得分较上月"} <= set(ranking.columns)
    area = at.text_area(key="review_bulletin_2023-10")
    assert area.value == bulletin_text(load_facts(county), "2023-10")
    assert area.value.startswith("关于2023年10月全县政务数据共享工作情况的通报（征求意见稿）")
    assert at.button(key="review_publish_2023-10").disabled      # a confirmation comes first
    at.checkbox(key="review_publish_sure_2023-10").check().run()
    at.button(key="review_publish_2023-10").click().run()
    assert not at.exception
    assert county.rows("SELECT month, published_by FROM published_months") == [("2023-10", "office")]
    assert "按当前数据重新计算，结果与已发布的一致。" in texts(at)
    assert any(t.startswith("本月结果已于") for t in texts(at).splitlines())


def test_leader_reads_but_cannot_publish_or_edit(county):
    at = run_page("review", LEADER, AS_OF)
    assert not at.exception
    assert at.text_area(key="review_bulletin_2023-10").disabled
    assert [b.key for b in at.button] == []
    assert "本月结果尚未发布。" in texts(at)
    assert "可修改" not in texts(at)
    assert [h.value for h in at.subheader if h.value.startswith("通报")] == ["通报（草稿）"]


def test_a_unit_user_cannot_open_it(county):
    at = run_page("review", UNIT2, AS_OF)
    assert not at.exception
    assert [e.value for e in at.error] == ["您的账号无权打开此页面。如需使用，请联系领导小组办公室。"]


def test_a_correction_after_publishing_shows_the_difference_and_its_source(county):
    from data.imports.importer import import_workbook
    from data.services.publish import publish_month
    from data.storage.scope import Scope
    from tests.fixtures.workbooks import workbook_bytes

    publish_month(county, Scope(username="office", role="管理员"), "2023-10")
    # 县政府办 names its 经办人 on 2023-07-02: contacts_named 0 -> 1 for October
    rows = {"责任人": [["单位名称", "角色", "姓名", "明确日期"], ["县政府办", "经办人", "周九", "2023-07-02"]]}
    assert import_workbook(county, workbook_bytes(rows), "补报.xlsx").ok
    at = run_page("review", ADMIN, AS_OF)
    assert not at.exception
    diff = table(at, "重新计算")
    row = diff[(diff["单位名称"] == "县政府办") & (diff["项目"] == "明确分管领导和经办人")]
    assert row[["已发布", "重新计算"]].values.tolist() == [["0", "1"]]
    changes = table(at, "操作")
    assert changes[["操作", "对象"]].values.tolist() == [["导入", "补报.xlsx"]]
    # the ranking and the 通报 stay as published
    ranking = table(at, "得分较上月")
    frozen = county.scalar("SELECT num_value FROM published_scores WHERE month = '2023-10' AND score_col = "
                           "'composite' AND unit_id = (SELECT unit_id FROM units WHERE name = '县政府办')")
    assert ranking[ranking["单位名称"] == "县政府办"]["综合得分"].tolist() == [f"{frozen:.2f}"]
    assert at.text_area(key="review_bulletin_2023-10").value == county.scalar(
        "SELECT text FROM published_bulletins WHERE month = '2023-10'")
    assert "通报（已发布）" in texts(at)


# -- the 通报 as a stored document ------------------------------------------------------------------

def _edit_and_save(at, month: str, old: str, new: str):
    area = at.text_area(key=f"review_bulletin_{month}")
    edited = area.value.replace(old, new)
    assert edited != area.value
    area.input(edited).run()
    at.button(key=f"review_save_{month}").click().run()
    assert not at.exception
    return edited


def test_the_draft_survives_navigation_and_new_sessions(county):
    at = run_page("review", ADMIN, AS_OF)
    at.selectbox(key="review_month").select("2023-09").run()
    assert "尚未保存：以下为按本月数据生成的草稿，修改后请点击“保存草稿”。" in texts(at)
    assert county.scalar("SELECT count(*) FROM bulletin_drafts") == 0   # reading writes nothing
    edited = _edit_and_save(at, "2023-09", "（征求意见稿）", "（第二稿）")
    assert "通报草稿已保存为第1版。" in texts(at)
    assert county.rows("SELECT month, version, text, edited_by FROM bulletin_drafts") == [
        ("2023-09", 1, edited, "office")]
    assert county.rows("SELECT action, target FROM audit_log WHERE action = '保存通报草稿'") == [
        ("保存通报草稿", "2023-09")]
    # Another page and back: widget state is dropped, the kept month (a plain session key) is not.
    back = run_page("review", ADMIN, AS_OF, review_month_kept=at.session_state["review_month_kept"])
    assert back.selectbox(key="review_month").value == "2023-09"
    assert back.text_area(key="review_bulletin_2023-09").value == edited
    assert any(t.startswith("已保存第1版（office，") for t in texts(back).splitlines())
    # A new session (here a leader's): the latest month first, the saved text read-only.
    fresh = run_page("review", LEADER, AS_OF)
    assert fresh.selectbox(key="review_month").value == "2023-10"
    fresh.selectbox(key="review_month").select("2023-09").run()
    area = fresh.text_area(key="review_bulletin_2023-09")
    assert area.value == edited and area.disabled
    assert "可修改" not in texts(fresh)


def test_versions_are_kept_and_publishing_freezes_the_saved_text(county):
    from data.services.bulletin_store import current_bulletin, save_draft
    from data.services.months import PublishError
    from data.storage.scope import Scope

    at = run_page("review", ADMIN, AS_OF)
    first = _edit_and_save(at, "2023-10", "（征求意见稿）", "（第二稿）")
    second = _edit_and_save(at, "2023-10", "（第二稿）", "（送审稿）")
    assert "通报草稿已保存为第2版。" in texts(at)
    assert county.rows("SELECT version, text FROM bulletin_drafts ORDER BY version") == [(1, first), (2, second)]
    assert table(at, "版本")["版本"].tolist() == [2, 1]
    # unsaved edits hold the publication back
    at.text_area(key="review_bulletin_2023-10").input(second + "\n补充").run()
    at.checkbox(key="review_publish_sure_2023-10").check().run()
    assert "通报有未保存的修改，请先保存草稿再发布（发布的是已保存的通报）。" in texts(at)
    assert at.button(key="review_publish_2023-10").disabled
    at.text_area(key="review_bulletin_2023-10").input(second).run()
    at.button(key="review_publish_2023-10").click().run()
    assert not at.exception
    assert county.rows("SELECT month, version, text FROM published_bulletins") == [("2023-10", 2, second)]
    assert [h.value for h in at.subheader if h.value.startswith("通报")] == ["通报（已发布）"]
    assert at.text_area(key="review_bulletin_2023-10").disabled
    assert at.text_area(key="review_bulletin_2023-10").value == second
    assert "review_save_2023-10" not in [b.key for b in at.button]
    assert current_bulletin(county, "2023-10") == second
    with pytest.raises(PublishError, match="已发布，通报不能修改"):
        save_draft(county, Scope(username="office", role="管理员"), "2023-10", "改")
    leader = run_page("review", LEADER, AS_OF)
    assert [h.value for h in leader.subheader if h.value.startswith("通报")] == ["通报（已发布）"]
    assert leader.text_area(key="review_bulletin_2023-10").disabled
    assert "可修改" not in texts(leader)


def test_leaders_cannot_save_a_draft_in_the_data_layer(county):
    from data.services.bulletin_store import save_draft
    from data.storage.scope import PermissionDenied, Scope

    with pytest.raises(PermissionDenied):
        save_draft(county, Scope(username="boss", role="领导"), "2023-10", "通报")
    assert county.scalar("SELECT count(*) FROM bulletin_drafts") == 0


def test_the_month_and_the_saved_draft_survive_switching_pages_in_the_app(county, monkeypatch):
    """Through app.py's navigation: choose a month and save, go to 总览 and back."""
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    from data.services import users
    from data.storage.scope import SYSTEM
    from ui import auth

    monkeypatch.setattr(users, "BCRYPT_ROUNDS", 4)
    users.add_user(SYSTEM, "office2", "abcdefgh12", "管理员", display_name="办公室", db=county)
    at = AppTest.from_file(str(Path(__file__).resolve().parents[2] / "app.py"), default_timeout=60).run()
    [b for b in at.text_input if b.label == "用户名"][0].input("office2")
    [b for b in at.text_input if b.label == "密码"][0].input("abcdefgh12")
    at = at.button(key=f"FormSubmitter:{auth.LOGIN_FORM_KEY}-登录").click().run()
    at.session_state["as_of"] = AS_OF.isoformat()
    at = at.switch_page("pages/review.py").run()
    assert not at.exception
    at.selectbox(key="review_month").select("2023-09").run()
    edited = _edit_and_save(at, "2023-09", "（征求意见稿）", "（修改稿）")
    at.text_area(key="review_bulletin_2023-09").input(edited + "\n未保存的一行").run()
    at = at.switch_page("pages/overview.py").run()
    assert not at.exception and at.title[0].value != "月度考评"
    at = at.switch_page("pages/review.py").run()
    assert at.selectbox(key="review_month").value == "2023-09"
    assert at.text_area(key="review_bulletin_2023-09").value == edited
