"""督查督办 page: the office records an interview with a commitment and the unit sees it; a unit
asks for an extension, the office approves it and the task's light changes; scoping per role."""

from __future__ import annotations

import datetime as dt

from data.services.supervision import extendable_assignments
from data.storage.scope import Scope
from tests.pages.conftest import run_page, table, table_by_key, texts
from tests.pages.small_county import ADMIN, AS_OF, LEADER, UNIT2, UNIT3, WEIBAN, ZHENGFUBAN


def _button(at, label):
    return next(b for b in at.button if b.label == label)


def test_office_records_an_interview_and_the_unit_sees_it(county):
    at = run_page("supervision", ADMIN, AS_OF, sv_month="2023-10", sv_unit="县政府办")
    assert not at.exception
    assert "截至考评日没有约谈记录。" in texts(at)
    reasons = at.text_area(key=f"sv_reasons_2023-10_{ZHENGFUBAN}").value
    assert reasons.startswith("红灯任务2项：任务2“明确工作职责”（时限2023年6月10日）")   # pre-filled
    at.date_input(key="sv_held_on").set_value(dt.date(2023, 10, 31))
    at.text_input(key="sv_attendees").set_value("县政府办分管领导")
    at.radio(key="sv_kind").set_value("完成任务")
    at.number_input(key="sv_task").set_value(2)
    at.date_input(key="sv_due").set_value(dt.date(2023, 11, 30))
    _button(at, "保存约谈记录").click().run()
    assert not at.exception and not at.error
    assert "已记录县政府办2023年10月的约谈。" in texts(at)
    promises = table(at, "整改承诺")
    assert list(promises["整改承诺"]) == ["完成任务2“明确工作职责”"] and list(promises["整改情况"]) == ["整改中"]
    # the unit sees its own interview and commitment; another unit sees none
    mine = run_page("supervision", UNIT3, AS_OF)
    assert not mine.exception
    assert list(table(mine, "约谈事由")["单位名称"]) == ["县政府办"]
    assert "督办单" not in [t.label for t in mine.tabs]
    other = run_page("supervision", UNIT2, AS_OF)
    assert "截至考评日没有约谈记录。" in texts(other)
    # leaders read, with the 督查 proposals, and have no form
    lead = run_page("supervision", LEADER, dt.date(2023, 12, 1))
    assert "记录约谈" not in texts(lead)
    assert list(table(lead, "整改情况")["整改情况"]) == ["逾期未整改"]
    assert list(table(lead, "理由")["单位名称"]) == ["县政府办"]


def _future_task(db, due: dt.date) -> None:
    with db.transaction() as cur:
        cur.execute("INSERT INTO tasks VALUES (16, '测试', '数据治理专项', '完成专项治理', '测试时限', ?, FALSE, '县委办')",
                    [due])
        cur.execute("INSERT INTO task_assignments VALUES (16, ?, '县委办')", [WEIBAN])


def test_unit_requests_an_extension_the_office_approves_and_the_light_changes(county):
    today = dt.date.today()
    due = today + dt.timedelta(days=30)
    later = today + dt.timedelta(days=45)       # after the plan's date: red without an extension
    _future_task(county, due)
    scope = Scope("weiban", "单位", unit_id=WEIBAN)
    lights = extendable_assignments(scope, today, db=county)
    index = lights.select("task_no").to_series().to_list().index(16)
    at = run_page("supervision", UNIT2, today, sv_ext_pick=index)
    at.text_area(key="sv_ext_reason").set_value("需等待省级平台接口开放")
    at.date_input(key="sv_ext_due").set_value(today + dt.timedelta(days=90))
    _button(at, "提交延期申请").click().run()
    assert not at.exception and not at.error
    assert "已提交县委办任务16的延期申请，待办公室审批。" in texts(at)
    before = run_page("tasks", ADMIN, later, tasks_task=16)
    status = table_by_key(before, "tasks_status").set_index("单位名称")
    assert status.loc["县委办", "灯色"] == "红灯"
    office = run_page("supervision", ADMIN, today)
    office.date_input(key="sv_decide_due").set_value(today + dt.timedelta(days=60))
    office.button(key="sv_approve").click().run()
    assert not office.exception and not office.error
    assert "已批准延期申请" in texts(office)
    after = run_page("tasks", ADMIN, later, tasks_task=16)
    status = table_by_key(after, "tasks_status").set_index("单位名称")
    assert status.loc["县委办", "灯色"] != "红灯" and status.loc["县委办", "状态"] == "未启动"
    assert status.loc["县委办", "延期"].startswith(f"已延期（原时限{due.year}年{due.month}月{due.day}日")
    card = run_page("scorecards", UNIT2, later, scorecards_unit="县委办")
    assert "延期申请获批：1项；任务16已延期（原时限" in texts(card)


def test_a_late_extension_request_is_refused_in_chinese(county):
    # task 2 was due 2023-06-10: long past today
    scope = Scope("weiban", "单位", unit_id=WEIBAN)
    lights = extendable_assignments(scope, AS_OF, db=county)
    index = lights.select("task_no").to_series().to_list().index(2)
    at = run_page("supervision", UNIT2, AS_OF, sv_ext_pick=index)
    at.text_area(key="sv_ext_reason").set_value("来不及")
    at.date_input(key="sv_ext_due").set_value(dt.date(2030, 1, 1))
    _button(at, "提交延期申请").click().run()
    assert "任务2的完成时限2023年6月10日已过，不能再申请延期" in at.error[0].value


def test_authorisations_are_scoped_and_notices_download(county):
    # R1 (县政府办 <- 县委办, 同意 on 2023-09-12) carries no use_until: valid without limit
    with county.transaction() as cur:
        cur.execute("UPDATE share_requests SET use_until = DATE '2023-11-20' WHERE code = 'R1'")
    at = run_page("supervision", UNIT3, AS_OF)
    register = table(at, "授权状态")
    assert list(register["编号"]) == ["R1"] and list(register["授权状态"]) == ["即将到期"]
    assert list(register["剩余天数"]) == [20]
    office = run_page("supervision", ADMIN, AS_OF)
    notices = table(office, "督办事项")
    assert "县政府办" in set(notices["单位名称"]) and "县大数据发展中心" not in set(notices["单位名称"])
    office.button(key="sv_notices_make").click().run()
    assert not office.exception
    assert any(b.label.startswith("下载全部督办单（Word，") for b in office.get("download_button"))


def test_monthly_review_shows_commitments_due_and_open(county):
    from data.services.supervision import record_interview
    from data.storage.scope import Scope

    office = Scope("office", "管理员")
    # two commitments of 县政府办: task 2 due in November (kept if completed), task 6 due in December
    record_interview(office, "2023-10", ZHENGFUBAN, dt.date(2023, 11, 3), "张三", "红灯任务",
                     [{"task_no": 2, "due_on": dt.date(2023, 11, 20)}, {"task_no": 6, "due_on": dt.date(2023, 12, 15)}], db=county)
    with county.transaction() as cur:
        cur.execute("INSERT INTO progress_reports (task_no, unit_id, reported_on, status, percent, completed_on) "
                    "VALUES (2, ?, DATE '2023-11-15', '已完成', 100, DATE '2023-11-15')", [ZHENGFUBAN])
    at = run_page("review", ADMIN, dt.date(2023, 12, 5), review_month="2023-11")
    assert not at.exception
    due = table_by_key(at, "review_sv_due")
    assert list(due["整改承诺"]) == ["完成任务2“明确工作职责”"] and list(due["整改情况"]) == ["已整改"]
    assert "尚未整改到位的承诺" in texts(at)
    open_ = table_by_key(at, "review_sv_open")
    assert list(open_["整改承诺"]) == ["完成任务6“编制政务数据目录和供需对接清单”"]
    assert list(open_["整改情况"]) == ["整改中"]


def test_review_offers_the_bulletin_as_an_official_word_document(county):
    import io

    from docx import Document

    at = run_page("review", ADMIN, dt.date(2023, 11, 5), review_month="2023-10")
    assert not at.exception
    button = next(b for b in at.get("download_button") if b.proto.label == "下载通报（Word，公文格式）")
    assert button is not None
    from data.services import review
    from data.storage.scope import Scope

    text = at.text_area(key="review_bulletin_2023-10").value
    doc = Document(io.BytesIO(review.bulletin_document(Scope(**ADMIN), "2023-10", text, db=county)))
    assert doc.paragraphs[0].text == text.splitlines()[0]
