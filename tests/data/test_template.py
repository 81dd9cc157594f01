"""The import template: named sheets, frozen headers, dropdowns, an example row, a 说明 sheet,
and a filled-in template imports (round trip)."""

from __future__ import annotations

import datetime as dt
import io

from openpyxl import load_workbook

from data.imports.importer import import_workbook
from data.imports.spec import SHEETS
from data.imports.template import template_bytes, write_template
from tests.fixtures.workbooks import TODAY

SHEET_NAMES = ["说明", "单位", "责任人", "数据目录", "需求清单", "共享申请", "任务进展", "信息系统", "业务专网",
               "安全措施", "质量检查", "外网覆盖", "约谈记录", "整改承诺"]


def _template():
    return load_workbook(io.BytesIO(template_bytes()))


def test_sheets_headers_frozen_and_example():
    wb = _template()
    assert wb.sheetnames == SHEET_NAMES
    ws = wb["共享申请"]
    assert [c.value for c in ws[1]] == ["申请编号", "申请单位", "提供单位", "目录编码", "用途", "使用期限至", "提交日期",
                                        "初审日期", "初审结果", "转送日期", "答复日期", "答复结果", "法律政策依据",
                                        "不予共享理由"]
    assert ws.freeze_panes == "A2"
    assert ws.max_row == 2
    assert ws["G2"].value == dt.datetime(2023, 7, 3)
    assert ws["G2"].number_format == 'yyyy"年"m"月"d"日"'
    # required headers are red and bold, optional ones black
    assert ws["A1"].font.b and ws["A1"].font.color.rgb == "00C00000"
    assert ws["F1"].font.color is None
    for name in SHEET_NAMES[1:-2]:  # the supervision sheets: tests/data/test_supervision.py
        assert wb[name].freeze_panes == "A2"
        assert [c.value for c in wb[name][1]] == [c.label for c in next(s for s in SHEETS if s.name == name).columns]


def test_dropdowns_for_enumerations_and_yes_no():
    wb = _template()
    lists = {str(dv.sqref): dv.formula1 for dv in wb["共享申请"].data_validations.dataValidation}
    assert lists == {"I2:I2000": '"通过,退回"', "L2:L2000": '"同意,部分同意,不同意"'}
    units = {str(dv.sqref): dv.formula1 for dv in wb["单位"].data_validations.dataValidation}
    assert units == {"B2:B2000": '"县直部门,乡镇（街道）,公共服务企业,其他"', "C2:C2000": '"是,否"'}
    catalog = {str(dv.sqref): dv.formula1 for dv in wb["数据目录"].data_validations.dataValidation}
    assert catalog["J2:J2000"] == '"实时,每日,每周,每月,每季度,每半年,每年,不定期"'


def test_column_widths_fit_the_header():
    ws = _template()["共享申请"]
    # 不予共享理由: 6 CJK characters = 12 units + 2 padding
    assert ws.column_dimensions["N"].width == 14
    # 用途 is short but its example 用途示例 is 4 characters
    assert ws.column_dimensions["E"].width == 10


def test_guide_explains_every_column():
    ws = _template()["说明"]
    rows = [r for r in ws.iter_rows(values_only=True) if r and r[0] in SHEET_NAMES[1:]]
    from data.imports.spec import SUPERVISION_SHEETS

    assert len(rows) == sum(len(s.columns) for s in (*SHEETS, *SUPERVISION_SHEETS))
    assert ("共享申请", "答复结果", "选填", "同意、部分同意、不同意", "填写答复结果时必须填写答复日期", None) in rows
    assert ("共享申请", "申请编号", "必填", "文本", None, "申请编号") in rows
    assert ("任务进展", "任务序号", "必填", "1–15 的整数", "附件2的任务序号 1–15", "任务序号+单位名称+报送日期") in rows


def test_write_template(tmp_path):
    path = write_template(tmp_path / "模板.xlsx")
    assert load_workbook(path).sheetnames == SHEET_NAMES


def test_template_filled_in_round_trips(db):
    wb = _template()
    wb["单位"].append(["紫湖镇", "乡镇（街道）", "否"])
    wb["数据目录"].append(["MZ-001", "低保对象", "县民政局", "低保名单", "库表", "有条件共享", "政务使用", None,
                         "不予开放", "每季度", dt.date(2023, 8, 1), None, dt.date(2023, 8, 10), 15])
    wb["共享申请"].append(["SQ-9", "县卫健委", "县民政局", "MZ-001", "医保核查", None, "2023/9/4", "2023/9/6", "通过",
                         "2023/9/6", "2023/9/20", "部分同意", "《个人信息保护法》", "涉及个人隐私"])
    wb["外网覆盖"].append(["紫湖镇", "2023年12月1日", 9, 9])
    buf = io.BytesIO()
    wb.save(buf)
    result = import_workbook(db, buf.getvalue(), "填好的模板.xlsx", today=TODAY)
    assert result.validation.error_messages() == []
    assert result.inserted == {"单位": 1, "责任人": 0, "数据目录": 1, "需求清单": 0, "共享申请": 1, "任务进展": 0,
                               "信息系统": 0, "业务专网": 0, "安全措施": 0, "质量检查": 0, "外网覆盖": 1,
                               "约谈记录": 0, "整改承诺": 0}
    # every untouched example row is skipped with a notice
    from data.imports.spec import SUPERVISION_SHEETS

    assert sorted(m for m in result.validation.warning_messages() if "示例行" in m) == sorted(
        f"「{s.name}」第 2 行：模板示例行，未导入" for s in (*SHEETS, *SUPERVISION_SHEETS))
    assert db.rows("SELECT code, reviewed_on, reply_result, legal_basis FROM share_requests") == [
        ("SQ-9", dt.date(2023, 9, 6), "部分同意", "《个人信息保护法》")]
    assert db.rows("SELECT v.villages, v.connected FROM village_coverage v JOIN units u USING (unit_id) "
                   "WHERE u.name = '紫湖镇'") == [(9, 9)]
    again = import_workbook(db, buf.getvalue(), "填好的模板.xlsx", today=TODAY)
    assert sum(again.inserted.values()) == 0 and sum(again.updated.values()) == 0
