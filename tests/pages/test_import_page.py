"""数据导入 page: upload, the preview a user reads, errors listed, confirm writes, roles."""

from __future__ import annotations

import re

from tests.fixtures.workbooks import workbook_bytes
from tests.pages.conftest import run_page, table
from tests.pages.conftest import texts as raw_texts
from tests.pages.small_county import ADMIN, AS_OF, LEADER, UNIT2

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CONTACTS = ["单位名称", "角色", "姓名", "明确日期"]
LEADER_REFUSAL = "您的账号无权打开此页面。如需使用，请联系领导小组办公室。"


def texts(at) -> str:
    """The messages as a reader sees them: markdown escapes rendered away."""
    return re.sub(r"\\(.)", r"\1", raw_texts(at))


def _upload(at, name, data):
    at.file_uploader(key="import_file").set_value((name, data, XLSX))
    return at.run()


def test_good_workbook_previews_then_imports_on_confirm(county):
    at = run_page("import", ADMIN, AS_OF)
    assert not at.exception
    assert at.title[0].value == "数据导入"
    before = county.scalar("SELECT count(*) FROM contacts")
    data = workbook_bytes({"责任人": [CONTACTS, ["县政府办", "经办人", "周九", "2023-07-02"]]})
    at = _upload(at, "责任人.xlsx", data)
    assert not at.exception
    assert table(at, "数据行数").to_dict("records") == [{"工作表": "责任人", "数据行数": 1}]
    assert "检查通过，可以导入。" in texts(at)
    assert county.scalar("SELECT count(*) FROM contacts") == before      # nothing written yet
    (confirm,) = [b for b in at.button if b.label == "确认导入"]
    confirm.click().run()
    assert not at.exception
    assert "导入完成：「责任人」：共 1 行，新增 1 行，更新 0 行" in texts(at)
    assert county.scalar("SELECT count(*) FROM contacts") == before + 1


def test_errors_are_listed_and_nothing_can_be_confirmed(county):
    at = run_page("import", ADMIN, AS_OF)
    data = workbook_bytes({"责任人": [CONTACTS, ["县政府办", "经办人", "周九", "2023-02-30"],
                                   ["不存在局", "经办人", "吴十", "2023-07-02"]]})
    at = _upload(at, "坏.xlsx", data)
    assert not at.exception
    assert "发现 2 处错误，未导入任何数据。请修改后重新上传。" in texts(at)
    errors = table(at, "行号")
    assert errors[["行号", "列", "值"]].values.tolist() == [[2, "明确日期", "2023-02-30"], [3, "单位名称", "不存在局"]]
    assert [b.label for b in at.button] == []   # no 确认导入


def test_unreadable_file_is_refused_with_a_message(county):
    at = _upload(run_page("import", ADMIN, AS_OF), "旧.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
    assert "无法读取「旧.xls」：不支持旧版 Excel（.xls）格式：请在 Excel 中“另存为”.xlsx 格式后再导入。" in texts(at)


def test_unit_user_is_told_about_verification_and_limited_to_its_unit(county):
    at = run_page("import", UNIT2, AS_OF)
    assert "单位账号只能导入本单位的数据；导入的数据须经领导小组办公室核验后才写入并计入考评。" in texts(at)
    data = workbook_bytes({"责任人": [CONTACTS, ["县政府办", "经办人", "周九", "2023-07-02"]]})
    at = _upload(at, "别人的.xlsx", data)
    assert "发现 1 处错误，未导入任何数据。请修改后重新上传。" in texts(at)


def test_leader_cannot_open_the_page(county):
    at = run_page("import", LEADER, AS_OF)
    assert not at.exception
    assert len(at.file_uploader) == 0
    assert [e.value for e in at.error] == [LEADER_REFUSAL]


HOSTILE_NAME = "![图](http://evil.example/a.png)[点此](http://evil.example) **粗** :red[红].xls"


def test_a_file_name_never_renders_as_markdown(county):
    at = _upload(run_page("import", ADMIN, AS_OF), HOSTILE_NAME, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
    message = at.error[0].value
    # Every markdown character of the name is escaped: no image, link, bold or colour directive.
    assert "\\!\\[图\\]\\(http\\:" in message and "\\*\\*粗\\*\\*" in message and "\\:red\\[红\\]" in message
    assert re.search(r"(?<!\\)[\[\]()*:!]", message.split("「", 1)[1].split("」", 1)[0]) is None
    assert f"无法读取「{HOSTILE_NAME}」" in texts(at)


def test_md_escape_makes_user_text_inert():
    from ui.fmt import md_escape

    assert md_escape("[a](http://x.example)\n# 标题 $x$ <b>") == \
        "\\[a\\]\\(http\\://x\\.example\\) \\# 标题 \\$x\\$ \\<b\\>"


def test_errors_beyond_the_cap_are_counted_not_listed(county):
    rows = [CONTACTS] + [["县政府办", "经办人", f"人{i}", "2023-02-30"] for i in range(230)]
    at = _upload(run_page("import", ADMIN, AS_OF), "很多错误.xlsx", workbook_bytes({"责任人": rows}))
    assert not at.exception
    assert "发现 230 处错误，未导入任何数据。请修改后重新上传。" in texts(at)
    assert "以下仅列出前 200 处错误，其余 30 处未列出。" in texts(at)
    assert len(table(at, "行号")) == 200


def test_a_file_is_checked_once_however_often_the_page_reruns(county, monkeypatch):
    import data.imports.validate as validate

    calls = []
    real = validate.validate_workbook
    monkeypatch.setattr(validate, "validate_workbook", lambda *a, **k: calls.append(1) or real(*a, **k))
    data = workbook_bytes({"责任人": [CONTACTS, ["县政府办", "经办人", "周九", "2023-02-30"]]})
    at = _upload(run_page("import", ADMIN, AS_OF), "一次.xlsx", data)
    at.run()
    at.run()
    assert "发现 1 处错误，未导入任何数据。请修改后重新上传。" in texts(at)
    assert len(calls) == 1


def test_a_units_import_waits_for_the_office_who_verifies_it_on_this_page(county):
    handler = "SELECT name FROM contacts WHERE unit_id = ? AND role = '经办人'"
    before = county.scalar(handler, [UNIT2["unit_id"]])
    assert before != "周九"
    at = run_page("import", UNIT2, AS_OF)
    unit = county.scalar("SELECT name FROM units WHERE unit_id = ?", [UNIT2["unit_id"]])
    data = workbook_bytes({"责任人": [CONTACTS, [unit, "经办人", "周九", "2023-07-02"]]})
    at = _upload(at, "本单位.xlsx", data)
    assert "检查通过，可以提交，待领导小组办公室核验。" in texts(at)
    at.button(key=[b.key for b in at.button if b.label == "提交核验"][0]).click().run()
    assert not at.exception
    assert any(t.startswith("已提交第 ") and "待领导小组办公室核验后写入" in t for t in texts(at).splitlines())
    assert county.scalar(handler, [UNIT2["unit_id"]]) == before          # held, not written
    office = run_page("import", ADMIN, AS_OF)
    assert "待核验的单位导入（1 份）" in texts(office)
    assert office.dataframe[0].value[["单位", "文件", "内容", "状态"]].values.tolist() == [
        [unit, "本单位.xlsx", "「责任人」1 行", "待核验"]]
    office.button(key="import_batch_verify").click().run()
    assert not office.exception
    assert "导入完成：第 1 号核验通过；「责任人」：共 1 行，新增 0 行，更新 1 行" in texts(office)
    assert county.scalar(handler, [UNIT2["unit_id"]]) == "周九"
    assert "待核验的单位导入" not in texts(office)
    mine = run_page("import", UNIT2, AS_OF)
    assert mine.dataframe[0].value["状态"].tolist() == ["已核验"]


def test_the_office_returns_a_submission_with_a_reason(county):
    at = run_page("import", UNIT2, AS_OF)
    unit = county.scalar("SELECT name FROM units WHERE unit_id = ?", [UNIT2["unit_id"]])
    at = _upload(at, "退回的.xlsx", workbook_bytes({"责任人": [CONTACTS, [unit, "经办人", "周九", "2023-07-02"]]}))
    at.button(key=[b.key for b in at.button if b.label == "提交核验"][0]).click().run()
    office = run_page("import", ADMIN, AS_OF)
    office.button(key="import_batch_return").click().run()
    assert "退回时请填写退回原因。" in texts(office)
    office.text_input(key="import_batch_reason").input("姓名有误").run()
    office.button(key="import_batch_return").click().run()
    assert "待核验的单位导入" not in texts(office)
    mine = run_page("import", UNIT2, AS_OF)
    assert mine.dataframe[0].value[["状态", "说明"]].values.tolist() == [["已退回", "姓名有误"]]


def test_a_defect_in_the_check_is_a_chinese_message_not_a_traceback(county, monkeypatch):
    import data.imports.validate as validate

    def broken(*_a, **_k):
        raise RuntimeError("SELECT * FROM secret")

    monkeypatch.setattr(validate, "validate_workbook", broken)
    at = _upload(run_page("import", ADMIN, AS_OF), "出错.xlsx", workbook_bytes({"责任人": [CONTACTS]}))
    assert not at.exception
    assert "无法读取「出错.xlsx」：检查文件时出错，未导入任何数据：请把这个文件交给系统管理员查看。" in texts(at)
    assert "SELECT" not in raw_texts(at)
