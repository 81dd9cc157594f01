"""Excel exports checked cell by cell: values, number formats, colours, print settings, and
that no cell anywhere is a formula."""

from __future__ import annotations

import datetime as dt
import io

import polars as pl
import pytest
from openpyxl import load_workbook

import reports.excel
from metrics.scorecard import SCORECARD_COLUMNS
from reports.csv_export import neutralise_text
from reports.excel import (
    DETAILS,
    PERCENT,
    PRINTABLE_REVIEW_SHEETS,
    REVIEW_SHEETS,
    detail_csv,
    detail_frame,
    frozen_detail_csv,
    review_workbook,
    scorecard_workbook,
    timeliness_csv,
)

AS_OF = dt.date(2023, 9, 30)


def _frame() -> pl.DataFrame:
    """Three units by hand: two 县直部门 and one township (unlisted columns are n/a)."""
    rows = [
        {"unit_id": 1, "unit": "县公安局", "unit_kind": "县直部门", "contacts_named": 1, "catalog_published": 1,
         "catalog_mounted_rate": 0.83335, "reply_ontime_rate": 1.0, "tasks_overdue_open": 0,
         "quality_score": 88.125, "composite": 91.235, "grade": "优秀", "rank": 1, "red_lights": 0,
         "suggestion": "表扬"},
        {"unit_id": 2, "unit": "=HYPERLINK(\"http://x\")", "unit_kind": "县直部门", "contacts_named": 0,
         "catalog_published": 0, "catalog_mounted_rate": None, "reply_ontime_rate": 0.4, "tasks_overdue_open": 2,
         "quality_score": None, "composite": 41.5, "grade": "不合格", "rank": 2, "red_lights": 2,
         "suggestion": "约谈"},
        {"unit_id": 3, "unit": "冰溪街道", "unit_kind": "乡镇（街道）", "contacts_named": 1, "catalog_published": 1,
         "catalog_mounted_rate": 0.5, "reply_ontime_rate": None, "tasks_overdue_open": 0,
         "quality_score": None, "composite": 76.0, "grade": "良好", "rank": 1, "red_lights": 0,
         "suggestion": None},
    ]
    schema = {c: pl.Float64 for c in SCORECARD_COLUMNS}
    schema.update(unit_id=pl.Int64, unit=pl.String, unit_kind=pl.String, grade=pl.String, rank=pl.Int64,
                  red_lights=pl.Int64, suggestion=pl.String, contacts_named=pl.Int64, catalog_published=pl.Int64,
                  tasks_overdue_open=pl.Int64)
    return pl.DataFrame([{c: r.get(c) for c in SCORECARD_COLUMNS} for r in rows], schema=schema)


def _book(data: bytes):
    return load_workbook(io.BytesIO(data))


def assert_no_formulas(wb):
    formulas = [(ws.title, c.coordinate) for ws in wb for row in ws.iter_rows() for c in row if c.data_type == "f"]
    assert formulas == []


def assert_printable(ws, title_rows="$1:$3", landscape=True):
    assert ws.page_setup.orientation == ("landscape" if landscape else "portrait")
    assert int(ws.page_setup.paperSize) == 9  # A4
    assert int(ws.page_setup.fitToWidth) == 1 and int(ws.page_setup.fitToHeight) == 0
    assert ws.sheet_properties.pageSetUpPr.fitToPage is True
    if title_rows:
        assert ws.print_title_rows == title_rows


def test_scorecard_cells():
    wb = _book(scorecard_workbook(_frame(), AS_OF))
    ws = wb["记分卡"]
    assert ws["A1"].value == "政务数据共享工作记分卡（截至2023年9月30日）"
    header = [c.value for c in ws[3]]
    assert header[:4] == ["单位名称", "单位类型", "明确分管领导和经办人", "目录已发布"]
    assert header[-5:] == ["综合得分", "等次", "排名", "红灯数", "建议"]
    col = {label: i + 1 for i, label in enumerate(header)}
    # grouped by kind: a shaded row names each kind
    assert ws["A4"].value == "县直部门（2 个单位）"
    assert [ws.cell(row=r, column=1).value for r in (5, 6, 8)] == ["县公安局", '=HYPERLINK("http://x")', "冰溪街道"]
    assert ws["A7"].value == "乡镇（街道）（1 个单位）"
    mounted = ws.cell(row=5, column=col["目录挂接率"])
    assert (mounted.value, mounted.number_format) == (0.8334, PERCENT)   # 0.83335 rounds half away
    assert ws.cell(row=6, column=col["目录挂接率"]).value is None           # n/a stays empty
    assert ws.cell(row=5, column=col["答复按时率"]).number_format == "0.00%"
    quality = ws.cell(row=5, column=col["数据质量得分"])
    assert (quality.value, quality.number_format) == (88.13, "0.00")
    composite = ws.cell(row=5, column=col["综合得分"])
    assert (composite.value, composite.number_format) == (91.24, "0.00")
    flag = ws.cell(row=6, column=col["明确分管领导和经办人"])
    assert (flag.value, flag.number_format) == (0, '"是";"是";"否"')
    assert ws.cell(row=6, column=col["排名"]).value == 2
    # grades and red lights coloured
    assert ws.cell(row=5, column=col["等次"]).fill.fgColor.rgb == "00C6EFCE"
    assert ws.cell(row=6, column=col["等次"]).fill.fgColor.rgb == "00FFC7CE"
    assert ws.cell(row=6, column=col["红灯数"]).fill.fgColor.rgb == "00FFC7CE"
    assert ws.cell(row=5, column=col["红灯数"]).fill.fgColor.rgb == "00000000"
    assert ws.freeze_panes == "B4"
    assert_printable(ws)
    assert ws.oddFooter.center.text == "第 &P 页，共 &N 页"


def test_formula_looking_text_is_neutralised():
    wb = _book(scorecard_workbook(_frame(), AS_OF))
    cell = wb["记分卡"]["A6"]
    assert cell.data_type == "s" and cell.quotePrefix is True
    assert cell.value == '=HYPERLINK("http://x")'
    assert_no_formulas(wb)


# -- the monthly review on a small imported database --------------------------------------------
@pytest.fixture
def facts(db):
    from data.imports.importer import import_workbook
    from data.storage.facts import load_facts
    from tests.fixtures.workbooks import TODAY, full_workbook_rows, workbook_bytes

    rows = full_workbook_rows()
    # received Friday 2023-09-01, never reviewed: due 2023-09-06 (3rd working day after), overdue
    # on 2023-09-30 by 16 working days (Sep 7-8, 11-15, 18-22, 25-28; Sep 29 is 中秋节).
    rows["共享申请"].append(["SQ-2", "县民政局", "县公安局", None, "@核查", None, "2023-09-01", None, None, None,
                          None, None, None, None])
    assert import_workbook(db, workbook_bytes(rows), "基础.xlsx", today=TODAY).ok
    return load_facts(db)


def test_review_sheets_print_and_formulas(facts):
    wb = _book(review_workbook(facts, "2023-09", bulletin="标题\n=SUM(A1:A2)\n一、正文"))
    assert wb.sheetnames == REVIEW_SHEETS
    assert_no_formulas(wb)
    for name in REVIEW_SHEETS[:-1]:
        assert_printable(wb[name])
        assert wb[name].freeze_panes == "A4"
    assert_printable(wb["通报"], title_rows=None, landscape=False)
    assert [c.value for c in wb["通报"]["A"]] == ["标题", "=SUM(A1:A2)", "一、正文"]
    assert wb["通报"]["A2"].quotePrefix is True


def test_review_overdue_list(facts):
    ws = _book(review_workbook(facts, "2023-09"))["逾期清单"]
    assert ws["A1"].value == "逾期事项清单 2023年9月（截至2023年9月30日）"
    assert [c.value for c in ws[3]] == ["类别", "编号", "事项", "责任单位", "截止日期", "逾期工作日"]
    rows = [r for r in ws.iter_rows(min_row=4, values_only=True) if r[0] == "共享申请初审"]
    assert rows == [("共享申请初审", "SQ-2", "申请SQ-2的初审", "县大数据发展中心", dt.datetime(2023, 9, 6), 16)]
    due = next(c for c in ws["E"][3:] if c.value == dt.datetime(2023, 9, 6))
    assert due.number_format == 'yyyy"年"m"月"d"日"'


def test_review_timeliness_and_ranking(facts):
    wb = _book(review_workbook(facts, "2023-09"))
    ws = wb["申请时效明细"]
    assert [r[:10] for r in ws.iter_rows(min_row=4, values_only=True)] == [
        ("SQ-2", "县民政局", "县公安局", "初审", "县大数据发展中心", dt.datetime(2023, 9, 1), dt.datetime(2023, 9, 6),
         None, "逾期未办", 16)]
    ranking = wb["排名汇总"]
    header = [c.value for c in ranking[3]]
    assert header[:5] == ["单位类型", "排名", "单位名称", "综合得分", "等次"]
    kinds = [r[0] for r in ranking.iter_rows(min_row=4, values_only=True)]
    assert kinds == sorted(kinds, key=["县直部门", "乡镇（街道）", "公共服务企业", "其他"].index)
    assert ranking["D4"].number_format == "0.00"
    cards = wb["单位记分卡"]
    police = [r for r in cards.iter_rows(min_row=4) if r[0].value == "县公安局" and r[2].value == "目录挂接率"]
    # GA-001 mounted 2023-06-15, GA-002 never: 1/2 both at the end of September and of August
    assert [(c.value, c.number_format) for c in police[0][3:6]] == [(0.5, PERCENT), (0.5, PERCENT), (0, PERCENT)]


def test_printable_review_summarises_the_request_steps_and_the_detail_is_its_own_csv(facts):
    from tests.pages.downloads import csv_rows

    wb = _book(review_workbook(facts, "2023-09", detail=False))
    assert wb.sheetnames == PRINTABLE_REVIEW_SHEETS and "申请时效明细" not in wb.sheetnames
    assert_no_formulas(wb)
    ws = wb["申请时效汇总"]
    assert_printable(ws)
    assert ws.freeze_panes == "A4"
    assert ws["A1"].value == "共享申请办理时效汇总（截止日期在2023年9月）"
    assert ws["A2"].value == ("按责任单位和环节汇总，截至2023年9月30日；逐条明细共1条，不在本工作簿中，"
                              "请在“月度考评”页面点击“下载申请时效明细（CSV）”。")
    assert [c.value for c in ws[3]] == ["责任单位", "环节", "到期环节数", "按时", "超时办结", "逾期未办", "最长超时工作日"]
    assert [r for r in ws.iter_rows(min_row=4, values_only=True)] == [("县大数据发展中心", "初审", 1, 0, 0, 1, 16)]
    # the other sheets are those of the whole workbook
    whole = _book(review_workbook(facts, "2023-09"))
    assert [c.value for c in wb["排名汇总"]["C"]] == [c.value for c in whole["排名汇总"]["C"]]
    rows = csv_rows(timeliness_csv(facts, "2023-09"))
    assert rows[0] == [c.value for c in whole["申请时效明细"][3]]
    assert rows[1][:10] == ["SQ-2", "县民政局", "县公安局", "初审", "县大数据发展中心", "2023-09-01", "2023-09-06",
                            "", "逾期未办", "16"]
    assert len(rows) == 2


def _same(text: str, value) -> bool:
    """A CSV cell holds what the sheet's cell holds: n/a empty, a date as 2023-09-30, the same
    number, the same (neutralised) text."""
    if value is None:
        return text == ""
    if isinstance(value, dt.datetime):
        return text == value.date().isoformat()
    if isinstance(value, (int, float)):
        return float(text) == value
    return text == neutralise_text(value)


def _table(ws, width: int) -> list[tuple]:
    """Header row and data rows of a table_sheet."""
    return list(ws.iter_rows(min_row=3, max_col=width, values_only=True))


def test_printable_review_leaves_a_long_detail_sheet_to_its_own_csv(facts, monkeypatch):
    from tests.pages.downloads import csv_rows

    # the default threshold: a small county keeps every detail sheet, as in the whole workbook
    kept_data = review_workbook(facts, "2023-09", detail=False)
    kept, whole = _book(kept_data), _book(review_workbook(facts, "2023-09"))
    assert kept.sheetnames == PRINTABLE_REVIEW_SHEETS
    for sheet in DETAILS:
        assert [[c.value for c in r] for r in kept[sheet].iter_rows()] == [
            [c.value for c in r] for r in whole[sheet].iter_rows()]
    # a threshold below the fixture's rows: each detail sheet is a note naming its download
    monkeypatch.setattr(reports.excel, "PRINTABLE_DETAIL_ROWS", 1)
    short = _book(review_workbook(facts, "2023-09", detail=False))
    assert short.sheetnames == PRINTABLE_REVIEW_SHEETS
    assert_no_formulas(short)
    for sheet, spec in DETAILS.items():
        table = _table(kept[sheet], len(spec.cols))
        assert len(table) > 2, sheet                      # more than the patched threshold
        note = short[sheet]
        assert [[c.value for c in r] for r in note.iter_rows()] == [
            [kept[sheet]["A1"].value],
            [f"本表明细共{len(table) - 1}行（超过1行），不在本工作簿中，请在“月度考评”页面“明细数据下载”中点击"
             f"“{spec.button}”（CSV，可用Excel打开）。"]]
        assert_printable(note, title_rows=None)
        # the CSV holds exactly the rows and values the sheet holds with the threshold high
        rows = csv_rows(detail_csv(detail_frame(facts, "2023-09", sheet), sheet))
        assert rows[0] == [c.label for c in spec.cols] == list(table[0])
        assert len(rows) == len(table)
        for line, cells in zip(rows[1:], table[1:], strict=True):
            assert all(_same(t, v) for t, v in zip(line, cells, strict=True)), (sheet, line, cells)
        # read back from a stored workbook (a published month's), the same file
        assert frozen_detail_csv(kept_data, sheet) == detail_csv(detail_frame(facts, "2023-09", sheet), sheet)
    assert [r for r in csv_rows(detail_csv(detail_frame(facts, "2023-09", "逾期清单"), "逾期清单"))
            if r[1] == "SQ-2"] == [["共享申请初审", "SQ-2", "申请SQ-2的初审", "县大数据发展中心", "2023-09-06", "16"]]
    # the threshold counts rows: at exactly the rows of a sheet it stays
    monkeypatch.setattr(reports.excel, "PRINTABLE_DETAIL_ROWS", len(_table(kept["任务台账"], 10)) - 1)
    assert _table(_book(review_workbook(facts, "2023-09", detail=False))["任务台账"], 10) == _table(kept["任务台账"], 10)
    # the whole workbook (CLI, publication) never leaves a sheet out
    assert _table(_book(review_workbook(facts, "2023-09"))["单位记分卡"], 7) == _table(whole["单位记分卡"], 7)


def test_bulletin_names_the_overdue_request(facts):
    from reports.bulletin import bulletin_text

    text = bulletin_text(facts, "2023-09")
    lines = text.splitlines()
    assert lines[0] == "关于2023年9月全县政务数据共享工作情况的通报（征求意见稿）"
    assert "共享申请逾期未办1件（初审1件、答复0件），逾期最久的是县大数据发展中心办理的申请SQ-2，已逾期16个工作日。" in lines
    assert any(line.startswith("截至2023年9月30日，全县参与考评的单位共") for line in lines)
    for heading in ("一、总体进展", "二、表现较好的单位", "三、需要加强的单位", "四、领导小组办公室自身工作情况",
                    "五、逾期事项", "六、下月工作要求"):
        assert heading in lines


def _points() -> pl.DataFrame:
    """Hand-made points of units 1 and 3 (unit 2 gets none: the sheet skips what is not given)."""
    rows = [
        # unit 1: contacts 50/50 earned, reply 40 of 50 (lost 10), mounted applicable but unweighted
        (1, "contacts_named", "明确分管领导和经办人", 1.0, 100.0, 5.0, 50.0, 50.0, 0.0, True),
        (1, "reply_ontime_rate", "答复按时率", 0.8, 80.0, 5.0, 50.0, 40.0, 10.0, True),
        (1, "catalog_mounted_rate", "目录挂接率", 0.5, 50.0, 0.0, 0.0, 0.0, 0.0, True),
        (1, "security_rate", "安全措施落实率", None, None, 5.0, None, None, None, False),
        (3, "contacts_named", "明确分管领导和经办人", 1.0, 100.0, 5.0, 100.0, 100.0, 0.0, True),
    ]
    from metrics.points import POINTS_COLUMNS, POINTS_SCHEMA

    return pl.DataFrame(rows, schema=POINTS_SCHEMA, orient="row").select(POINTS_COLUMNS)


def test_scorecard_workbook_points_sheet():
    frame = _frame().with_columns(
        composite=pl.when(pl.col("unit_id") == 1).then(90.0).when(pl.col("unit_id") == 3).then(100.0)
        .otherwise(pl.col("composite")))
    wb = _book(scorecard_workbook(frame, AS_OF, points=_points()))
    assert wb.sheetnames == ["记分卡", "得分明细"]
    ws = wb["得分明细"]
    assert_printable(ws)
    assert [c.value for c in ws[3]] == ["单位名称", "单位类型", "指标", "得分", "设定权重", "权重（折算后）",
                                        "得分贡献（得分）", "失分"]
    rows = list(ws.iter_rows(min_row=4, values_only=True))
    # 县公安局: most points lost first, the unweighted one shown with weight 0, n/a left out, then 合计
    assert [r[2] for r in rows[:4]] == ["答复按时率", "明确分管领导和经办人", "目录挂接率", "合计（综合得分）"]
    assert rows[3][6:] == (90.0, 10.0)
    assert rows[2][5:] == (0.0, 0.0, 0.0)
    assert ws["G4"].number_format == "0.00"
    assert_no_formulas(wb)


def test_review_workbook_points_sum_to_the_composite(facts):
    wb = _book(review_workbook(facts, "2023-09"))
    ws = wb["得分明细"]
    rows = list(ws.iter_rows(min_row=4, values_only=True))
    ranking = {r[2]: r[3] for r in wb["排名汇总"].iter_rows(min_row=4, values_only=True)}
    earned: dict[str, float] = {}
    for unit, _kind, label, _s, _w, _e, got, _lost in rows:
        if label == "合计（综合得分）":
            assert got == pytest.approx(earned.pop(unit)), unit
            assert round(got, 2) == pytest.approx(ranking[unit]), unit
        else:
            earned[unit] = earned.get(unit, 0.0) + got
    assert earned == {}


# -- the layout of the write-only workbooks (rows are streamed: the layout is set before them) ---
def test_review_layout_survives_streaming(facts):
    wb = _book(review_workbook(facts, "2023-09", detail=False))
    cards = wb["单位记分卡"]
    assert "A1:G1" in {str(r) for r in cards.merged_cells.ranges}
    assert cards["A1"].font.b and cards["A1"].font.sz == 14 and cards.row_dimensions[1].height == 24
    assert cards["A3"].fill.fgColor.rgb == "00D9E1F2" and cards["A3"].font.b
    assert cards.column_dimensions["G"].width == 80 and cards["G4"].alignment.wrap_text
    assert cards.column_dimensions["A"].width >= 2 * len("县大数据发展中心")  # measured on the values
    assert cards["A4"].border.left.style == "thin"
    # a flag indicator's row: 是/否 this month and last, its change signed
    flag = next(r for r in cards.iter_rows(min_row=4) if r[2].value == "明确分管领导和经办人")
    assert [c.number_format for c in flag[3:6]] == ['"是";"是";"否"', '"是";"是";"否"', "+0;-0;0"]
    points = wb["得分明细"]
    total = next(r for r in points.iter_rows(min_row=4) if r[2].value == "合计（综合得分）")
    assert all(c.font.b for c in total)
    for name in PRINTABLE_REVIEW_SHEETS[:-1]:
        assert wb[name].print_title_rows == "$1:$3"


def test_scorecard_group_rows_are_merged_and_shaded():
    ws = _book(scorecard_workbook(_frame(), AS_OF))["记分卡"]
    merged = {str(r) for r in ws.merged_cells.ranges}
    last = ws.max_column
    from openpyxl.utils import get_column_letter

    assert {f"A1:{get_column_letter(last)}1", f"A4:{get_column_letter(last)}4", f"A7:{get_column_letter(last)}7"} <= merged
    assert ws["A4"].font.b and ws["A4"].fill.fgColor.rgb == "00F2F2F2"
    assert ws.row_dimensions[3].height == 48 and ws.column_dimensions["A"].width == 22
    assert ws["A5"].value == "县公安局" and ws["A5"].border.left.style == "thin"


def test_streamed_text_is_kept_exactly():
    frame = _frame().with_columns(unit=pl.when(pl.col("unit_id") == 1).then(pl.lit(" 县公安局\r\n<甲&乙> "))
                                  .when(pl.col("unit_id") == 3).then(pl.lit("\t冰溪街道"))
                                  .otherwise(pl.col("unit")))
    ws = _book(scorecard_workbook(frame, AS_OF))["记分卡"]
    assert [ws.cell(row=r, column=1).value for r in (5, 6, 8)] == [" 县公安局\r\n<甲&乙> ", '=HYPERLINK("http://x")',
                                                                   "\t冰溪街道"]
    assert ws["A8"].quotePrefix is True and ws["A5"].quotePrefix is False
