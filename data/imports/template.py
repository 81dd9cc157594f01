"""The import template (导入模板): one sheet per entity of import-format.md plus a 说明 sheet.

Built from `data.imports.spec.SHEETS`, so the template and the validator cannot drift apart: the
headers, the dropdowns (data validation) and the example row all come from the same declaration.
An untouched example row is recognised by the importer and skipped with a notice.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from data.imports.spec import SHEETS, SUPERVISION_SHEETS, YES_NO, Column, Sheet

DATE_FORMAT = 'yyyy"年"m"月"d"日"'
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
REQUIRED_FONT = Font(bold=True, color="C00000")
HEADER_FONT = Font(bold=True)
EXAMPLE_FONT = Font(italic=True, color="808080")
LAST_ROW = 2000  # dropdowns reach this far down


def allowed_values(col: Column) -> str:
    if col.kind == "enum":
        return "、".join(col.choices)
    if col.kind == "bool":
        return "是/否（也可填 Y/N、1/0、TRUE/FALSE）"
    if col.kind == "date":
        return "日期：2023-05-31、2023/5/31、2023.5.31、2023年5月31日 或 Excel 日期" + (
            "（可晚于今天）" if col.future_ok else "（2000年1月1日至今天）")
    if col.kind == "unit":
        return "已登记的单位名称（或本工作簿「单位」表中新增的单位）"
    if col.kind == "catalog":
        return "已有的目录编码（数据库或本工作簿「数据目录」表中）"
    if col.kind == "month":
        return "考评月份：2023-10 或 2023年10月"
    if col.kind == "int":
        if col.high is not None:
            return f"{col.low:g}–{col.high:g} 的整数"
        return "不小于 0 的整数"
    if col.kind == "score":
        return f"{col.low:g}–{col.high:g} 的数值"
    return "文本"


def _width(values) -> float:
    """Column width in Excel units: CJK characters count double."""
    longest = 0
    for value in values:
        if value is None:
            continue
        text = f"{value.year}年{value.month}月{value.day}日" if isinstance(value, dt.date) else str(value)
        longest = max(longest, sum(2 if ord(ch) > 0x2E80 else 1 for ch in text))
    return min(max(longest + 2, 8), 50)


def _data_sheet(wb: Workbook, sheet: Sheet) -> None:
    ws = wb.create_sheet(sheet.name)
    ws.append([c.label for c in sheet.columns])
    ws.append(list(sheet.example))
    for idx, col in enumerate(sheet.columns, start=1):
        letter = get_column_letter(idx)
        head = ws.cell(row=1, column=idx)
        head.font = REQUIRED_FONT if col.required else HEADER_FONT
        head.fill = HEADER_FILL
        head.alignment = Alignment(horizontal="center", vertical="center")
        example = ws.cell(row=2, column=idx)
        example.font = EXAMPLE_FONT
        if col.kind == "date":
            example.number_format = DATE_FORMAT
        choices = col.choices if col.kind == "enum" else YES_NO if col.kind == "bool" else ()
        if choices:
            dv = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=not col.required,
                                showErrorMessage=True, errorTitle="取值不在列表中",
                                error="请从下拉列表中选择：" + "、".join(choices))
            dv.add(f"{letter}2:{letter}{LAST_ROW}")
            ws.add_data_validation(dv)
        ws.column_dimensions[letter].width = _width([col.label, sheet.example[idx - 1]])
    ws.freeze_panes = "A2"
    ws.row_dimensions[1].height = 20


def _guide_sheet(wb: Workbook) -> None:
    ws = wb.create_sheet("说明", 0)
    ws.append(["政务数据共享督查考评看板 导入模板说明"])
    ws["A1"].font = Font(bold=True, size=14)
    notes = [
        "1. 每个工作表对应一类数据，工作表名称不可修改；不需要导入的工作表可以删除或留空。",
        "2. 第一行为列名（红色加粗为必填列），列的顺序可以调整，多余的列会被忽略并提示。",
        "3. 第二行灰色斜体为示例行：原样保留时不会导入，请在其下方或覆盖它填写实际数据。",
        "4. 导入时先检查整个工作簿，任何一处有错误都不会写入任何数据，并列出全部错误（工作表、行号、列、值）。",
        "5. 同一条记录（按“唯一标识”）重复导入只会更新，不会重复新增；导入不会删除已有数据。",
        "6. 以 =、+、-、@ 开头的内容按文本保存，不会作为公式计算。",
        "7. 单位账号只能导入本单位的数据，导入后须经领导小组办公室核验才写入并计入考评；初审、转送、对接日期和"
        "质量检查由领导小组办公室填写，单位账号作为提供单位只填写答复。",
        "8. 隐藏的工作表不会导入（请取消隐藏或删除）；名称相同的工作表（忽略空格、全角半角）只能有一个。",
    ]
    for line in notes:
        ws.append([line])
    ws.append([])
    header_row = ws.max_row + 1
    ws.append(["工作表", "列名", "是否必填", "允许的取值与格式", "说明", "唯一标识"])
    for cell in ws[header_row]:
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
    for sheet in (*SHEETS, *SUPERVISION_SHEETS):
        key = "+".join(sheet.column(k).label for k in sheet.key)
        for col in sheet.columns:
            ws.append([sheet.name, col.label, "必填" if col.required else "选填", allowed_values(col), col.note or None,
                       key if col.field in sheet.key else None])
    for letter, width in zip("ABCDEF", (12, 20, 10, 60, 48, 26), strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = ws.cell(row=header_row + 1, column=1)


def build_template() -> Workbook:
    wb = Workbook()
    wb.remove(wb.active)
    _guide_sheet(wb)
    for sheet in (*SHEETS, *SUPERVISION_SHEETS):
        _data_sheet(wb, sheet)
    wb.active = 0
    return wb


def template_bytes() -> bytes:
    buf = io.BytesIO()
    build_template().save(buf)
    return buf.getvalue()


def write_template(path: str | Path) -> Path:
    path = Path(path)
    path.write_bytes(template_bytes())
    return path
