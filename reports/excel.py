"""Excel exports built with openpyxl: the printable scorecard and the monthly review workbook.

Pure functions `frame -> bytes`; the tables come from reports/frames.py. Every sheet prints on A4 landscape, fitted to the page width,
with its title and header rows repeated on each printed page. No cell ever holds a formula:
text that Excel would read as one (starting with = + - @, or a tab / carriage return) is written
as a text cell carrying Excel's own quote prefix (what typing a leading apostrophe does), so
the visible text is unchanged and nothing can be evaluated. docs/import.md explains the choice.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from copy import copy
from dataclasses import dataclass

import polars as pl
from openpyxl import Workbook
from openpyxl.cell import Cell
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.styles.fonts import DEFAULT_FONT
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from metrics.cn import cn_date, cn_month
from metrics.registry import COLUMN_LABELS, CSV_KPI_CODES, KPI_BY_CODE, LIGHT_LABELS, UNIT_KINDS, setting
from reports.frames import (
    detail_frame,
    month_cards,
    points_frame,
    ranking_frame,
    rounded_scorecard,
    suggestion_frame,
    timeliness_frame,
    timeliness_summary_frame,
)

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PERCENT = "0.00%"
SCORE = "0.00"
INTEGER = "0"
FLAG = '"是";"是";"否"'          # 1 reads 是, 0 reads 否; the cell keeps the number
DATE = 'yyyy"年"m"月"d"日"'

GRADE_FILLS = {
    "优秀": PatternFill("solid", fgColor="C6EFCE"),
    "良好": PatternFill("solid", fgColor="DDEBF7"),
    "合格": PatternFill("solid", fgColor="FFEB9C"),
    "不合格": PatternFill("solid", fgColor="FFC7CE"),
}
LIGHT_FILLS = {
    "red": PatternFill("solid", fgColor="FFC7CE"),
    "yellow": PatternFill("solid", fgColor="FFEB9C"),
    "green": PatternFill("solid", fgColor="C6EFCE"),
}
HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")
GROUP_FILL = PatternFill("solid", fgColor="F2F2F2")
THIN = Side(style="thin", color="999999")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
TITLE_FONT = Font(bold=True, size=14)
BOLD = Font(bold=True)
RED_BOLD = Font(bold=True, color="C00000")
CENTER = Alignment(horizontal="center")
HEADER_ALIGN = Alignment(horizontal="center", vertical="center", wrap_text=True)
WRAP = Alignment(wrap_text=True, vertical="top")
CENTERED = ("grade", "rank", "red_lights", "suggestion", "tasks_overdue_open")


def put(ws: Worksheet, row: int, col: int, value, number_format: str | None = None, style: str | None = None):
    """Write one cell; text that looks like a formula stays text (see the module docstring).
    `style` is a named style of the workbook (`cell_style`); it carries the number format."""
    if isinstance(value, float) and value != value:  # NaN
        value = None
    cell = ws.cell(row=row, column=col)
    cell.value = value
    if style is not None:
        cell.style = style
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        cell.data_type = "s"
        cell.quotePrefix = True
    if number_format and value is not None and style is None:
        cell.number_format = number_format
    return cell


def cell_style(wb: Workbook, number_format: str | None = None, fill: PatternFill | None = None,
               font: Font | None = None, alignment: Alignment | None = None, boxed: bool = True) -> str:
    """The name of a named style (box border, number format, fill, font, alignment), registered in
    `wb` the first time it is asked for. Giving a cell a named style is one cheap assignment;
    setting border, fill and format cell by cell made openpyxl hash those objects for every cell
    (most of the time of a big workbook). Fills, fonts and alignments are this module's constants,
    so they are told apart by identity. The names are Chinese, as Excel lists them."""
    styles = wb.__dict__.setdefault("_dashboard_styles", {})
    key = (number_format, id(fill), id(font), id(alignment), boxed)
    name = styles.get(key)
    if name is None:
        taken = set(wb.named_styles)
        n = len(styles) + 1
        while f"考评表格{n}" in taken:
            n += 1
        name = f"考评表格{n}"
        wb.add_named_style(NamedStyle(name=name, font=copy(font or DEFAULT_FONT), fill=copy(fill or PatternFill()),
                                      border=copy(BOX) if boxed else Border(),
                                      alignment=copy(alignment or Alignment()),
                                      number_format=number_format or "General"))
        styles[key] = name
    return name


def _template(wb: Workbook, ws, name: str):
    """The style array of named style `name` (a cell given it once, then copied into each new
    cell): building a cell from it skips openpyxl's lookup of the name per cell."""
    templates = wb.__dict__.setdefault("_dashboard_templates", {})
    style = templates.get(name)
    if style is None:
        cell = Cell(ws)
        cell.style = name
        style = templates[name] = cell._style
    return style


def _cell(ws, value, style: str | None = None) -> Cell:
    """A cell for a write-only sheet (`ws.append`), as `put` writes one: NaN is empty, text that
    looks like a formula stays text."""
    if isinstance(value, float) and value != value:  # NaN
        value = None
    cell = Cell(ws, value=value, style_array=None if style is None else _template(ws.parent, ws, style))
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        cell.data_type = "s"
        cell.quotePrefix = True
    return cell


def _write_only(wb: Workbook) -> bool:
    return bool(getattr(wb, "write_only", False))


def _text_width(value) -> int:
    if value is None:
        return 0
    if isinstance(value, dt.date):
        value = cn_date(value)
    elif isinstance(value, float):
        value = f"{value:.2f}"
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in str(value))


@dataclass(frozen=True)
class Col:
    key: str            # frame column
    label: str          # Chinese header
    fmt: str | None = None
    width: float | None = None
    wrap: bool = False  # wrap long text within `width`; the row grows to show every line


def _a4(ws: Worksheet, orientation: str) -> None:
    """A4 in `orientation`, fitted to one page wide, page numbers in the footer."""
    ws.page_setup.orientation = orientation
    ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"


def print_setup(ws: Worksheet, title_rows: str) -> None:
    """A4 landscape, fitted to one page wide, title and header repeated, page numbers."""
    _a4(ws, "landscape")
    ws.print_title_rows = title_rows
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.6


def _workbook() -> Workbook:
    """A new empty workbook in openpyxl's write-only mode: rows are streamed to the file as they
    are appended instead of kept as cell objects, several times faster for the big sheets (a row
    per unit and indicator). So each sheet's column widths, frozen panes and row heights are set
    before its rows are appended (`_titled_sheet`)."""
    return Workbook(write_only=True)


def _placed(cells, row: int) -> list[Cell]:
    """The cells of one appended row, given their coordinates (see `_sheet`)."""
    for column, cell in enumerate(cells, start=1):
        cell.row, cell.column = row, column
    return cells


def _sheet(wb: Workbook, name: str) -> Worksheet:
    """A new sheet whose rows are appended as lists of cells (`_cell`). A write-only sheet of
    openpyxl first tries each appended item as a value and takes it as a cell only after the
    conversion failed (an exception formatting the cell's repr, per cell); its rows here are
    always cells, so they are placed directly."""
    ws = wb.create_sheet(name)
    if _write_only(wb):
        ws._values_to_row = _placed
    return ws


def _merge(ws, ref: str) -> None:
    if _write_only(ws.parent):
        ws.merged_cells.add(ref)
    else:
        ws.merge_cells(ref)


def _titled_sheet(wb: Workbook, name: str, title: str, cols: Sequence[Col], widths: Sequence[float],
                  freeze: str, note: str | None = None, note_alignment: Alignment | None = None,
                  header_height: float | None = None) -> Worksheet:
    """A new sheet with `title` across row 1, `note` in row 2 and the headers of `cols` in row 3,
    its column `widths`, panes frozen at `freeze` and A4 landscape print setup; the data rows
    follow with `ws.append` (a write-only sheet needs the layout before its first row)."""
    ws = _sheet(wb, name)
    for j, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(j)].width = width
    ws.freeze_panes = freeze
    print_setup(ws, "1:3")
    ws.row_dimensions[1].height = 24
    if header_height:
        ws.row_dimensions[3].height = header_height
    cell = _cell(ws, title)
    cell.font = TITLE_FONT
    ws.append([cell])
    _merge(ws, f"A1:{get_column_letter(max(len(cols), 1))}1")
    if note:
        cell = _cell(ws, note)
        if note_alignment is not None:
            cell.alignment = note_alignment
        ws.append([cell])
    else:
        ws.append([])
    header = cell_style(wb, fill=HEADER_FILL, font=BOLD, alignment=HEADER_ALIGN)
    ws.append([_cell(ws, col.label, header) for col in cols])
    return ws


def _column_widths(frame: pl.DataFrame, cols: Sequence[Col]) -> list[float]:
    """Each column as wide as its longest text (header or value, CJK counting double), at most 60,
    or its fixed `width`; measured on the distinct values before any row is written."""
    widths = []
    for col in cols:
        if col.width:
            widths.append(col.width)
            continue
        longest = _text_width(col.label)
        if frame.height:
            longest = max([longest, *(_text_width(v) for v in frame[col.key].unique().to_list())])
        least = 10 if col.fmt in (PERCENT, SCORE) else 6  # room for 100.00% and 100.00
        widths.append(min(max(longest + 2, least), 60))
    return widths


def table_sheet(wb: Workbook, name: str, title: str, frame: pl.DataFrame, cols: Sequence[Col],
                note: str | None = None, fills: dict[str, dict] | None = None,
                formats: dict[str, Sequence[str | None]] | None = None,
                bold: tuple[str, object] | None = None) -> Worksheet:
    """A titled table: row 1 title, row 2 note, row 3 headers, data from row 4. `formats` gives
    some columns a number format row by row (frame order) instead of their `fmt`; `bold` =
    (column, value) sets the rows holding that value in bold."""
    ws = _titled_sheet(wb, name, title, cols, _column_widths(frame, cols), "A4", note=note,
                       note_alignment=Alignment(wrap_text=False))
    fills = fills or {}
    formats = formats or {}
    keys = [c.key for c in cols]
    per_row = [formats.get(k) for k in keys]
    fill_of = [fills.get(k) for k in keys]
    wrapped = [bool(c.wrap and c.width) for c in cols]
    bold_at = keys.index(bold[0]) if bold else None
    rows = frame.select(keys).rows() if frame.height else []
    for i, values in enumerate(rows):
        lines = 1
        font = BOLD if bold_at is not None and values[bold_at] == bold[1] else None
        cells = []
        for j, (col, value) in enumerate(zip(cols, values, strict=True)):
            if per_row[j] is not None:
                fmt = per_row[j][i]
            else:
                fmt = None if value is None else col.fmt or (DATE if isinstance(value, dt.date) else None)
            fill = fill_of[j].get(value) if fill_of[j] is not None else None
            cells.append(_cell(ws, value, cell_style(wb, fmt, fill, font, WRAP if wrapped[j] else None)))
            if wrapped[j]:
                lines = max(lines, -(-_text_width(value) // int(col.width - 2)))
        if lines > 1:
            ws.row_dimensions[i + 4].height = 15 * lines
        ws.append(cells)
    if not rows:
        ws.append([_cell(ws, "（无）")])
    return ws


# -- the scorecard ------------------------------------------------------------------------------
def kpi_format(code: str) -> str:
    unit = KPI_BY_CODE[code].kind
    return {"rate": PERCENT, "score": SCORE, "flag": FLAG}.get(unit, INTEGER)


def scorecard_columns(frame: pl.DataFrame) -> list[Col]:
    cols = [Col("unit", "单位名称"), Col("unit_kind", "单位类型")]
    cols += [Col(code, COLUMN_LABELS[code], kpi_format(code)) for code in CSV_KPI_CODES if code in frame.columns]
    cols += [Col("composite", COLUMN_LABELS["composite"], SCORE), Col("grade", COLUMN_LABELS["grade"]), Col("rank", COLUMN_LABELS["rank"], INTEGER)]
    cols += [Col(c, COLUMN_LABELS[c], INTEGER if c == "red_lights" else None)
             for c in ("red_lights", "suggestion") if c in frame.columns]
    return cols


def scorecard_sheet(wb: Workbook, frame: pl.DataFrame, title: str, name: str = "记分卡") -> Worksheet:
    """One row per unit grouped by kind (a shaded row names each kind), headers in row 3."""
    frame = rounded_scorecard(frame)
    cols = scorecard_columns(frame)
    widths = {"unit": 22, "unit_kind": 13, "grade": 7, "rank": 6, "suggestion": 7, "composite": 9}
    ws = _titled_sheet(wb, name, title, cols, [widths.get(c.key, 10) for c in cols], "B4", header_height=48,
                       note="说明：比率以百分比显示，空白表示该指标对该单位不适用；排名在同类型单位内计算，得分相同者名次相同。")
    group = cell_style(wb, fill=GROUP_FILL, boxed=False)
    group_name = cell_style(wb, fill=GROUP_FILL, font=BOLD, boxed=False)
    last = get_column_letter(len(cols))
    row = 4
    kinds = [k for k in UNIT_KINDS if k in set(frame["unit_kind"].to_list())]
    kinds += sorted(set(frame["unit_kind"].drop_nulls().to_list()) - set(kinds))
    for kind in kinds:
        part = frame.filter(pl.col("unit_kind") == kind)
        ws.append([_cell(ws, f"{kind}（{part.height} 个单位）", group_name),
                   *(_cell(ws, None, group) for _ in cols[1:])])
        _merge(ws, f"A{row}:{last}{row}")
        row += 1
        for values in part.select([c.key for c in cols]).rows(named=True):
            cells = []
            for col in cols:
                value = values[col.key]
                fill = font = None
                if col.key == "grade" and value in GRADE_FILLS:
                    fill = GRADE_FILLS[value]
                if col.key in ("red_lights", "tasks_overdue_open") and value:
                    fill, font = LIGHT_FILLS["red"], RED_BOLD
                if col.key == "suggestion" and value == "约谈":
                    font = RED_BOLD
                cells.append(_cell(ws, value, cell_style(
                    wb, None if value is None else col.fmt, fill, font,
                    CENTER if col.fmt == FLAG or col.key in CENTERED else None)))
            ws.append(cells)
            row += 1
    return ws


def _save(wb: Workbook) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


POINTS_COLS = [
    Col("unit", "单位名称"), Col("unit_kind", "单位类型"), Col("label", "指标"), Col("score", "得分", SCORE),
    Col("weight", "设定权重", SCORE), Col("eff_weight", "权重（折算后）", SCORE),
    Col("earned", "得分贡献（得分）", SCORE), Col("lost", "失分", SCORE),
]
POINTS_NOTE = ("说明：得分为该指标折算成的0–100分；不适用的指标不计入，其余指标的权重按比例折算为合计100；"
               "得分贡献 = 得分 × 折算后权重 ÷ 100，失分 = 折算后权重 − 得分贡献；各项得分贡献之和即综合得分。"
               "权重为0的指标只作展示，不计失分。")


def points_sheet(wb: Workbook, card: pl.DataFrame, points: pl.DataFrame, title: str) -> Worksheet:
    """The points behind each composite; each unit's 合计 row in bold."""
    return _points_table(wb, points_frame(card, points), title)


def _points_table(wb: Workbook, frame: pl.DataFrame, title: str) -> Worksheet:
    return table_sheet(wb, "得分明细", title, frame, POINTS_COLS, note=POINTS_NOTE, bold=("label", "合计（综合得分）"))


def scorecard_workbook(frame: pl.DataFrame, as_of: dt.date, points: pl.DataFrame | None = None) -> bytes:
    """The printable scorecard of every unit (frame = metrics.scorecard.scorecard(facts, as_of));
    with `points` (metrics.points.unit_points) a 得分明细 sheet follows."""
    wb = _workbook()
    scorecard_sheet(wb, frame, f"政务数据共享工作记分卡（截至{cn_date(as_of)}）")
    if points is not None:
        points_sheet(wb, frame, points, f"各单位得分明细（截至{cn_date(as_of)}）")
    return _save(wb)


# -- the monthly review -------------------------------------------------------------------------
def _month_end(month: str) -> dt.date:
    from metrics.monthly import month_bounds

    return month_bounds(month)[1]


def bulletin_sheet(wb: Workbook, title: str, text: str) -> Worksheet:
    ws = _sheet(wb, "通报")
    ws.column_dimensions["A"].width = 76
    _a4(ws, "portrait")
    for row, paragraph in enumerate(text.split("\n"), start=1):
        cell = _cell(ws, paragraph)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        if row == 1:
            cell.font = TITLE_FONT
            cell.alignment = Alignment(horizontal="center", wrap_text=True)
        elif paragraph[:2] in ("一、", "二、", "三、", "四、", "五、", "六、"):
            cell.font = BOLD
        # about 35 CJK characters per line at this width
        ws.row_dimensions[row].height = max(1, -(-_text_width(paragraph) // 70)) * 18
        ws.append([cell])
    return ws


REVIEW_SHEETS = ["排名汇总", "单位记分卡", "得分明细", "任务台账", "逾期清单", "申请时效明细", "表扬约谈", "通报"]
# The printable workbook the 月度考评 page offers: the request steps are summarised per unit and
# step; their row-by-row detail (hundreds of thousands of rows at province scale) is its own download.
SUMMARY_SHEET = "申请时效汇总"
PRINTABLE_REVIEW_SHEETS = [SUMMARY_SHEET if s == "申请时效明细" else s for s in REVIEW_SHEETS]
DETAIL_DOWNLOAD = "下载申请时效明细（CSV）"
TIMELINESS_COLS = [
    Col("code", "申请编号"), Col("requester", "申请单位"), Col("provider", "提供单位"), Col("step_name", "环节"),
    Col("responsible", "责任单位"), Col("started_on", "起算日期", DATE), Col("deadline", "办理时限", DATE),
    Col("done_on", "办理日期", DATE), Col("status_name", "状态"), Col("workdays_overdue", "超时工作日", INTEGER),
    Col("rule", "适用规则"),
]
SUMMARY_COLS = [
    Col("responsible", "责任单位"), Col("step_name", "环节"), Col("steps", "到期环节数", INTEGER),
    Col("on_time", "按时", INTEGER), Col("late", "超时办结", INTEGER), Col("overdue", "逾期未办", INTEGER),
    Col("most_overdue", "最长超时工作日", INTEGER),
]


def _csv(frame: pl.DataFrame, cols: Sequence[Col], *, from_cells: bool = False) -> bytes:
    """The columns `cols` of `frame` as a download: a neutralised CSV (reports/csv_export.py) with
    the sheet's Chinese headers, dates as 2023-09-30, n/a (null or NaN) as an empty cell, and
    fractional numbers written as the workbook stores them (openpyxl keeps 16 significant digits,
    "%.16g"), so that each figure equals the cell of the sheet it comes from. `from_cells`: the
    numbers were read from a stored workbook's cells and are written as they read back."""
    from reports.csv_export import frame_to_csv_bytes

    number = _cell_number if from_cells else _stored_number

    def column(col: Col) -> pl.Expr:
        expr = pl.col(col.key)
        if frame.schema[col.key].is_float():
            expr = expr.fill_nan(None).map_elements(number, return_dtype=pl.String)
        return expr.alias(col.label)

    return frame_to_csv_bytes(frame.select([column(c) for c in cols]))


def _stored_number(value: float) -> str:
    """The text openpyxl stores for a number: 16 significant digits (1.0 is 1)."""
    return f"{value:.16g}"


def _cell_number(value: float) -> str:
    """A number read from a cell: its stored text when that reads back as the same number (nearly
    always), else Python's exact shortest text."""
    text = f"{value:.16g}"
    return text if float(text) == value else repr(value)


def timeliness_csv(facts, month: str) -> bytes:
    """The 申请时效明细 of `month` as its own download: a neutralised CSV with the sheet's headers
    (dates as 2023-09-30, n/a as an empty cell)."""
    return _csv(timeliness_frame(facts, month), TIMELINESS_COLS)


# -- the four big detail sheets: rows per unit and indicator, points, tasks, overdue items --------------
# At province scale (7,000 units) they hold 36,000-133,000 rows each, and openpyxl writes a cell in
# about 20 µs: minutes of work for a workbook nobody prints whole. The printable workbook (detail=False)
# keeps a detail sheet of at most this many rows (a county's ~1,300); a longer one becomes a short
# sheet of the same name naming the 月度考评 page's CSV download that holds its rows (detail_csv).
PRINTABLE_DETAIL_ROWS = 20_000
INDICATOR_COLS = [
    Col("unit", "单位名称"), Col("unit_kind", "单位类型"), Col("label", "指标"), Col("value", "本月", PERCENT),
    Col("prev", "上月", PERCENT), Col("change", "变化", PERCENT), Col("formula", "计算口径", width=80, wrap=True),
]
TASK_LEDGER_COLS = [
    Col("task_no", "任务序号", INTEGER), Col("title", "任务名称"), Col("name", "责任单位"),
    Col("deadline_text", "完成时限"), Col("due_date", "截止日期", DATE), Col("status", "状态"),
    Col("light_name", "灯号"), Col("completed_on", "完成日期", DATE), Col("last_report_on", "最近报送", DATE),
    Col("percent", "完成比例（%）", INTEGER),
]
OVERDUE_COLS = [
    Col("kind", "类别"), Col("ref", "编号"), Col("what", "事项"), Col("unit", "责任单位"),
    Col("due", "截止日期", DATE), Col("workdays", "逾期工作日", INTEGER),
]


@dataclass(frozen=True)
class Detail:
    sheet: str          # the sheet's name, also the CSV's file name (单位记分卡_2025-05.csv)
    cols: Sequence[Col]
    button: str         # the label of its download on the 月度考评 page
    key: str            # that button's widget key


DETAILS = {d.sheet: d for d in (
    Detail("单位记分卡", INDICATOR_COLS, "下载单位记分卡明细（CSV）", "review_indicators_download"),
    Detail("得分明细", POINTS_COLS, "下载得分明细（CSV）", "review_points_download"),
    Detail("任务台账", TASK_LEDGER_COLS, "下载任务台账（CSV）", "review_tasks_download"),
    Detail("逾期清单", OVERDUE_COLS, "下载逾期清单（CSV）", "review_overdue_download"),
)}


def detail_csv(frame: pl.DataFrame, sheet: str) -> bytes:
    """`frame` (detail_frame of `sheet`) as its own download, with the sheet's headers and values
    (dates as 2023-09-30, n/a as an empty cell)."""
    return _csv(frame, DETAILS[sheet].cols)


def frozen_detail_csv(workbook: bytes, sheet: str) -> bytes | None:
    """The rows of detail sheet `sheet` of a stored review workbook (a published month's frozen
    one) as detail_csv writes them, or None when the workbook has no such table (a sheet with
    other headers). Headers are row 3, data from row 4, as table_sheet writes them."""
    from openpyxl import load_workbook

    cols = DETAILS[sheet].cols
    wb = load_workbook(io.BytesIO(workbook), read_only=True)
    try:
        if sheet not in wb.sheetnames:
            return None
        rows = wb[sheet].iter_rows(min_row=3, max_col=len(cols), values_only=True)
        if list(next(rows, ())) != [c.label for c in cols]:
            return None
        rows = list(rows)
    finally:
        wb.close()
    if len(rows) == 1 and rows[0][0] == "（无）" and all(v is None for v in rows[0][1:]):
        rows = []  # table_sheet's line for an empty table
    columns = {}
    for j, col in enumerate(cols):
        values = [r[j] for r in rows]
        if col.fmt == DATE:
            values = [v.date() if isinstance(v, dt.datetime) else v for v in values]
        columns[col.key] = pl.Series(col.key, values, strict=False)
    return _csv(pl.DataFrame(columns), cols, from_cells=True)


def _detail_note_sheet(wb: Workbook, sheet: str, title: str, rows: int) -> Worksheet:
    """In place of a detail sheet too long to print: its title and a line naming how many rows it
    has and the 月度考评 page's download that holds them."""
    ws = _sheet(wb, sheet)
    ws.column_dimensions["A"].width = 100
    _a4(ws, "landscape")
    cell = _cell(ws, title)
    cell.font = TITLE_FONT
    ws.append([cell])
    ws.append([_cell(ws, f"本表明细共{rows}行（超过{PRINTABLE_DETAIL_ROWS}行），不在本工作簿中，"
                         f"请在“月度考评”页面“明细数据下载”中点击“{DETAILS[sheet].button}”（CSV，可用Excel打开）。")])
    return ws


def review_workbook(facts, month: str, bulletin: str | None = None, *, card: pl.DataFrame | None = None,
                    prev: pl.DataFrame | None = None, points: pl.DataFrame | None = None,
                    detail: bool = True) -> bytes:
    """The monthly review (月度考评) as of the month's last day; `bulletin` is the office's edited
    通报 text (default: reports.bulletin.bulletin_text). `card`, `prev` (the scorecards of the
    month and of the previous month) and `points` default to a computation; the data layer passes
    the frozen figures of published months. With `detail` (sheets REVIEW_SHEETS) every request
    step due in the month is a row of 申请时效明细; without it (PRINTABLE_REVIEW_SHEETS) a
    申请时效汇总 sheet summarises them per unit and step and names the page's CSV download
    (timeliness_csv) that holds the rows, and each detail sheet of DETAILS longer than
    PRINTABLE_DETAIL_ROWS rows is a note naming its own CSV download (detail_csv) instead."""
    from metrics.points import unit_points
    from reports.bulletin import bulletin_text

    as_of = _month_end(month)
    card, prev = month_cards(facts, as_of, card, prev)
    points = unit_points(facts, as_of) if points is None else points
    label = f"{cn_month(month)}（截至{cn_date(as_of)}）"
    wb = _workbook()

    ranking = ranking_frame(facts, as_of, card, prev)
    table_sheet(wb, "排名汇总", f"政务数据共享工作月度考评排名汇总 {label}", ranking, [
        Col("unit_kind", "单位类型"), Col("rank", COLUMN_LABELS["rank"], INTEGER), Col("unit", "单位名称"),
        Col("composite", COLUMN_LABELS["composite"], SCORE), Col("grade", COLUMN_LABELS["grade"]), Col("composite_prev", "上月得分", SCORE),
        Col("composite_change", "得分变化", SCORE), Col("rank_prev", "上月排名", INTEGER),
        Col("rank_change", "名次变化（正数为上升）", INTEGER), Col("red_lights", COLUMN_LABELS["red_lights"], INTEGER),
        Col("suggestion", "建议"),
    ], note="同类型单位内排名；得分变化、名次变化与上月末比较。", fills={"grade": GRADE_FILLS})

    limit = None if detail else PRINTABLE_DETAIL_ROWS

    def detail_sheet(sheet: str, title: str, frame: pl.DataFrame, draw) -> None:
        if limit is not None and frame.height > limit:
            _detail_note_sheet(wb, sheet, title, frame.height)
        else:
            draw(title, frame)

    def indicator_table(title: str, indicators: pl.DataFrame) -> None:
        # Each row's number format follows its indicator's unit.
        fmts = [kpi_format(code) for code in indicators["code"].to_list()]
        table_sheet(wb, "单位记分卡", title, indicators, INDICATOR_COLS, note="空白表示该指标对该单位不适用。",
                    formats={"value": fmts, "prev": fmts, "change": ["+0;-0;0" if f == FLAG else f for f in fmts]})

    frames = {sheet: detail_frame(facts, month, sheet, card=card, prev=prev, points=points) for sheet in DETAILS}
    detail_sheet("单位记分卡", f"各单位指标明细 {label}", frames["单位记分卡"], indicator_table)
    detail_sheet("得分明细", f"各单位得分明细 {label}", frames["得分明细"],
                 lambda title, frame: _points_table(wb, frame, title))
    detail_sheet("任务台账", f"任务分工台账 {label}", frames["任务台账"], lambda title, frame: table_sheet(
        wb, "任务台账", title, frame, TASK_LEDGER_COLS,
        fills={"light_name": {LIGHT_LABELS[k]: v for k, v in LIGHT_FILLS.items()}}))
    detail_sheet("逾期清单", f"逾期事项清单 {label}", frames["逾期清单"], lambda title, frame: table_sheet(
        wb, "逾期清单", title, frame, OVERDUE_COLS,
        note="共享申请：初审时限为收到后第3个工作日，答复时限为转送后第10个工作日（不含当日）；任务：按附件2完成时限。"))

    steps = timeliness_frame(facts, month)
    if detail:
        table_sheet(wb, "申请时效明细", f"共享申请办理时效明细（截止日期在{cn_month(month)}）", steps, TIMELINESS_COLS)
    else:
        table_sheet(wb, SUMMARY_SHEET, f"共享申请办理时效汇总（截止日期在{cn_month(month)}）",
                    timeliness_summary_frame(steps), SUMMARY_COLS,
                    note=f"按责任单位和环节汇总，截至{cn_date(as_of)}；逐条明细共{steps.height}条，不在本工作簿中，"
                         f"请在“月度考评”页面点击“{DETAIL_DOWNLOAD}”。")

    table_sheet(wb, "表扬约谈", f"表扬和约谈建议 {label}", suggestion_frame(facts, as_of, card), [
        Col("suggestion", "建议"), Col("unit", "单位名称"), Col("unit_kind", "单位类型"),
        Col("composite", COLUMN_LABELS["composite"], SCORE), Col("grade", COLUMN_LABELS["grade"]), Col("rank", COLUMN_LABELS["rank"], INTEGER),
        Col("red_lights", COLUMN_LABELS["red_lights"], INTEGER), Col("reason", "理由"),
    ], note=f"参与考评不少于{setting(facts, 'praise_min_units')}个单位的类型，前三名（不含领导小组办公室）建议表扬；"
            "等次不合格或红灯任务两项及以上的建议约谈；领导小组办公室不列入表扬和约谈建议。", fills={"grade": GRADE_FILLS})

    text = bulletin if bulletin is not None else bulletin_text(facts, month, card=card, prev=prev, points=points)
    bulletin_sheet(wb, "通报", text)
    return _save(wb)


DIFF_SHEET = "差异"


def with_diff_sheet(frozen: bytes, month: str, diff: pl.DataFrame, changes: pl.DataFrame) -> bytes:
    """A published month's frozen review workbook with a 差异 sheet appended: what recomputing
    the month with today's data would change (unit, item, published, recomputed), then the writes
    recorded since publication that explain it."""
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(frozen))
    if DIFF_SHEET in wb.sheetnames:
        del wb[DIFF_SHEET]
    note = ("本工作簿为已发布（冻结）的结果；下表列出按当前数据重新计算后不同的数值，已发布结果不变。"
            if diff.height else "按当前数据重新计算，结果与已发布的一致。")
    ws = table_sheet(wb, DIFF_SHEET, f"{cn_month(month)}已发布结果与重新计算结果的差异", diff, [
        Col("unit", "单位名称"), Col("label", "项目"), Col("old", "已发布"), Col("new", "重新计算"),
    ], note=note)
    row = ws.max_row + 2
    put(ws, row, 1, "发布之后记录的数据变更（差异的来源）：").font = BOLD
    headers = ["时间", "用户", "操作", "对象", "说明"]
    for j, h in enumerate(headers, start=1):
        cell = put(ws, row + 1, j, h)
        cell.font, cell.fill, cell.border = BOLD, HEADER_FILL, BOX
    lines = changes.select(headers).rows() if changes.height else []
    for i, values in enumerate(lines, start=row + 2):
        for j, value in enumerate(values, start=1):
            put(ws, i, j, value, DATE + " hh:mm" if isinstance(value, dt.datetime) else None).border = BOX
    if not lines:
        put(ws, row + 2, 1, "（无）")
    return _save(wb)
