"""Excel exports built with openpyxl: the printable scorecard and the monthly review workbook.

Pure functions `frame -> bytes`. Every sheet prints on A4 landscape, fitted to the page width,
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
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.styles.fonts import DEFAULT_FONT
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from metrics.cn import cn_date, cn_month
from metrics.registry import (
    COLUMN_LABELS,
    CSV_KPI_CODES,
    KPI_BY_CODE,
    LIGHT_LABELS,
    UNIT_KINDS,
    formula_settings,
    formula_texts,
    setting,
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
LIGHT_NAMES = LIGHT_LABELS
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


def print_setup(ws: Worksheet, title_rows: str) -> None:
    """A4 landscape, fitted to one page wide, title and header repeated, page numbers."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = title_rows
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"


def table_sheet(wb: Workbook, name: str, title: str, frame: pl.DataFrame, cols: Sequence[Col],
                note: str | None = None, fills: dict[str, dict] | None = None) -> Worksheet:
    """A titled table: row 1 title, row 2 note, row 3 headers, data from row 4."""
    ws = wb.create_sheet(name)
    ncol = len(cols)
    put(ws, 1, 1, title).font = TITLE_FONT
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=max(ncol, 1))
    ws.row_dimensions[1].height = 24
    if note:
        put(ws, 2, 1, note).alignment = Alignment(wrap_text=False)
    header = cell_style(wb, fill=HEADER_FILL, font=BOLD, alignment=HEADER_ALIGN)
    for j, col in enumerate(cols, start=1):
        put(ws, 3, j, col.label, style=header)
    widths = [_text_width(c.label) for c in cols]
    rows = frame.select([c.key for c in cols]).rows() if frame.height else []
    fills = fills or {}
    for i, values in enumerate(rows, start=4):
        lines = 1
        for j, (col, value) in enumerate(zip(cols, values, strict=True), start=1):
            fmt = None if value is None else col.fmt or (DATE if isinstance(value, dt.date) else None)
            fill = fills[col.key].get(value) if col.key in fills else None
            wrapped = bool(col.wrap and col.width)
            put(ws, i, j, value, style=cell_style(wb, fmt, fill, alignment=WRAP if wrapped else None))
            if wrapped:
                lines = max(lines, -(-_text_width(value) // int(col.width - 2)))
            else:
                widths[j - 1] = max(widths[j - 1], _text_width(value))
        if lines > 1:
            ws.row_dimensions[i].height = 15 * lines
    if not rows:
        put(ws, 4, 1, "（无）")
    for j, col in enumerate(cols, start=1):
        least = 10 if col.fmt in (PERCENT, SCORE) else 6  # room for 100.00% and 100.00
        ws.column_dimensions[get_column_letter(j)].width = col.width or min(max(widths[j - 1] + 2, least), 60)
    ws.freeze_panes = "A4"
    print_setup(ws, "1:3")
    return ws


# -- the scorecard ------------------------------------------------------------------------------
def kpi_format(code: str) -> str:
    unit = KPI_BY_CODE[code].kind
    return {"rate": PERCENT, "score": SCORE, "flag": FLAG}.get(unit, INTEGER)


def rounded_scorecard(frame: pl.DataFrame) -> pl.DataFrame:
    """The values as the CSV shows them: rates 4 decimals, scores 2 (half away from zero)."""
    from metrics.scorecard import round_half_away

    exprs = []
    for code in [*CSV_KPI_CODES, "composite"]:
        if code not in frame.columns:
            continue
        places = 2 if code == "composite" or KPI_BY_CODE[code].kind == "score" else (
            4 if KPI_BY_CODE[code].kind == "rate" else 0)
        # round() after the half-away rounding drops the representation noise (0.6275000000000001).
        exprs.append(round_half_away(pl.col(code).cast(pl.Float64), places).round(places).alias(code))
    return frame.with_columns(exprs)


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
    ws = wb.create_sheet(name)
    put(ws, 1, 1, title).font = TITLE_FONT
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(cols))
    ws.row_dimensions[1].height = 24
    put(ws, 2, 1, "说明：比率以百分比显示，空白表示该指标对该单位不适用；排名在同类型单位内计算，得分相同者名次相同。")
    header = cell_style(wb, fill=HEADER_FILL, font=BOLD, alignment=HEADER_ALIGN)
    for j, col in enumerate(cols, start=1):
        put(ws, 3, j, col.label, style=header)
    ws.row_dimensions[3].height = 48
    row = 4
    kinds = [k for k in UNIT_KINDS if k in set(frame["unit_kind"].to_list())]
    kinds += sorted(set(frame["unit_kind"].drop_nulls().to_list()) - set(kinds))
    for kind in kinds:
        part = frame.filter(pl.col("unit_kind") == kind)
        cell = put(ws, row, 1, f"{kind}（{part.height} 个单位）")
        cell.font = BOLD
        for j in range(1, len(cols) + 1):
            ws.cell(row=row, column=j).fill = GROUP_FILL
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=len(cols))
        row += 1
        for values in part.select([c.key for c in cols]).rows(named=True):
            for j, col in enumerate(cols, start=1):
                value = values[col.key]
                fill = font = None
                if col.key == "grade" and value in GRADE_FILLS:
                    fill = GRADE_FILLS[value]
                if col.key in ("red_lights", "tasks_overdue_open") and value:
                    fill, font = LIGHT_FILLS["red"], RED_BOLD
                if col.key == "suggestion" and value == "约谈":
                    font = RED_BOLD
                put(ws, row, j, value, style=cell_style(
                    wb, None if value is None else col.fmt, fill, font,
                    CENTER if col.fmt == FLAG or col.key in CENTERED else None))
            row += 1
    widths = {"unit": 22, "unit_kind": 13, "grade": 7, "rank": 6, "suggestion": 7, "composite": 9}
    for j, col in enumerate(cols, start=1):
        ws.column_dimensions[get_column_letter(j)].width = widths.get(col.key, 10)
    ws.freeze_panes = "B4"
    print_setup(ws, "1:3")
    return ws


def _save(wb: Workbook) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def points_frame(card: pl.DataFrame, points: pl.DataFrame) -> pl.DataFrame:
    """得分明细 as a long table: per unit (in the scorecard's order) its applicable indicators,
    most points lost first, then a 合计 row whose points earned are the composite.
    Columns: unit, unit_kind, label, score, weight, eff_weight, earned, lost."""
    order = card.select(pl.col("unit_id").cast(pl.Int64), "unit", "unit_kind", "composite").with_row_index("_u")
    rows = (
        points.filter(pl.col("applicable"))
        .join(order, on="unit_id", how="inner")
        .with_columns(_line=pl.lit(0))
        .select("_u", "_line", "unit", "unit_kind", "label", "score", "weight", "eff_weight", "earned", "lost")
    )
    totals = order.filter(pl.col("composite").is_not_null()).select(
        "_u", _line=pl.lit(1), unit="unit", unit_kind="unit_kind", label=pl.lit("合计（综合得分）"),
        score=pl.lit(None, dtype=pl.Float64), weight=pl.lit(None, dtype=pl.Float64),
        eff_weight=pl.lit(100.0), earned=pl.col("composite").cast(pl.Float64),
        lost=100.0 - pl.col("composite").cast(pl.Float64))
    return (
        pl.concat([rows, totals], how="vertical_relaxed")
        .sort(["_u", "_line", "lost", "eff_weight"], descending=[False, False, True, True], nulls_last=True)
        .drop("_u", "_line")
    )


POINTS_COLS = [
    Col("unit", "单位名称"), Col("unit_kind", "单位类型"), Col("label", "指标"), Col("score", "得分", SCORE),
    Col("weight", "设定权重", SCORE), Col("eff_weight", "权重（折算后）", SCORE),
    Col("earned", "得分贡献（得分）", SCORE), Col("lost", "失分", SCORE),
]
POINTS_NOTE = ("说明：得分为该指标折算成的0–100分；不适用的指标不计入，其余指标的权重按比例折算为合计100；"
               "得分贡献 = 得分 × 折算后权重 ÷ 100，失分 = 折算后权重 − 得分贡献；各项得分贡献之和即综合得分。"
               "权重为0的指标只作展示，不计失分。")


def points_sheet(wb: Workbook, card: pl.DataFrame, points: pl.DataFrame, title: str) -> Worksheet:
    ws = table_sheet(wb, "得分明细", title, points_frame(card, points), POINTS_COLS, note=POINTS_NOTE)
    for row in ws.iter_rows(min_row=4, max_col=3):
        if row[2].value == "合计（综合得分）":
            for cell in ws[row[0].row]:
                cell.font = BOLD
    return ws


def scorecard_workbook(frame: pl.DataFrame, as_of: dt.date, points: pl.DataFrame | None = None) -> bytes:
    """The printable scorecard of every unit (frame = metrics.scorecard.scorecard(facts, as_of));
    with `points` (metrics.points.unit_points) a 得分明细 sheet follows."""
    wb = Workbook()
    wb.remove(wb.active)
    scorecard_sheet(wb, frame, f"政务数据共享工作记分卡（截至{cn_date(as_of)}）")
    if points is not None:
        points_sheet(wb, frame, points, f"各单位得分明细（截至{cn_date(as_of)}）")
    return _save(wb)


# -- the monthly review -------------------------------------------------------------------------
def _month_end(month: str) -> dt.date:
    from metrics.monthly import month_bounds

    return month_bounds(month)[1]


def _names(facts) -> pl.DataFrame:
    return facts.units.select(pl.col("unit_id").cast(pl.Int64), pl.col("name"), pl.col("kind"))


def _kind_order() -> pl.Expr:
    return pl.col("unit_kind").replace_strict({k: i for i, k in enumerate(UNIT_KINDS)}, default=len(UNIT_KINDS),
                                              return_dtype=pl.Int32)


def _cards(facts, as_of: dt.date, card: pl.DataFrame | None, prev: pl.DataFrame | None):
    """The scorecards at D and at the previous month end: given (frozen ones for published months)
    or computed."""
    from metrics.scorecard import scorecard
    from metrics.trend import previous_month_end

    return (scorecard(facts, as_of) if card is None else card,
            scorecard(facts, previous_month_end(as_of)) if prev is None else prev)


def ranking_frame(facts, as_of: dt.date, card: pl.DataFrame | None = None,
                  prev: pl.DataFrame | None = None) -> pl.DataFrame:
    """Composite, grade and rank beside last month's, red lights and the suggestion. `card` and
    `prev` (scorecards at D and at the previous month end) default to a computation."""
    from metrics.scorecard import round_half_away

    card, prev = _cards(facts, as_of, card, prev)
    before = prev.select(pl.col("unit_id").cast(pl.Int64), pl.col("composite").alias("composite_prev"),
                         pl.col("grade").alias("grade_prev"), pl.col("rank").alias("rank_prev"))
    change = (
        card.select(pl.col("unit_id").cast(pl.Int64), "unit", "unit_kind", "composite", "grade", "rank")
        .join(before, on="unit_id", how="left")
        .with_columns(composite_change=pl.col("composite") - pl.col("composite_prev"),
                      rank_change=pl.col("rank_prev") - pl.col("rank"))
        .with_columns(round_half_away(pl.col(c), 2).round(2).alias(c)
                      for c in ("composite", "composite_prev", "composite_change"))
    )
    extra = card.select(pl.col("unit_id").cast(pl.Int64), "red_lights", "suggestion")
    return change.join(extra, on="unit_id", how="left").sort(_kind_order(), "rank", "unit_id", nulls_last=True)


def unit_indicator_frame(facts, as_of: dt.date, card: pl.DataFrame | None = None,
                         prev: pl.DataFrame | None = None) -> pl.DataFrame:
    """Long form: one row per unit and indicator, this month, last month, change and formula."""
    codes = list(CSV_KPI_CODES)

    def long(frame: pl.DataFrame, name: str) -> pl.DataFrame:
        return rounded_scorecard(frame).select("unit_id", "unit", "unit_kind", *[
            pl.col(c).cast(pl.Float64) for c in codes]).unpivot(
            index=["unit_id", "unit", "unit_kind"], variable_name="code", value_name=name)

    card, prev = _cards(facts, as_of, card, prev)
    now = long(card, "value")
    prev = long(prev, "prev").select("unit_id", "code", "prev")
    order = pl.DataFrame({"code": codes, "order": list(range(len(codes))),
                          "label": [KPI_BY_CODE[c].label for c in codes],
                          "formula": formula_texts(codes, formula_settings(facts, as_of))})
    return (
        now.join(prev, on=["unit_id", "code"], how="left")
        .join(order, on="code", how="left")
        .with_columns(change=(pl.col("value") - pl.col("prev")).round(4))
        .sort(_kind_order(), "unit_id", "order")
    )


def task_ledger_frame(facts, as_of: dt.date) -> pl.DataFrame:
    from metrics.tasks import assignment_status

    return (
        assignment_status(facts, as_of)
        .join(facts.tasks.select("task_no", "title", "deadline_text"), on="task_no", how="left")
        .join(_names(facts), on="unit_id", how="left")
        .with_columns(light_name=pl.col("light").replace_strict(LIGHT_NAMES, default=None))
        .sort("task_no", "unit_id")
    )


def overdue_frame(facts, as_of: dt.date) -> pl.DataFrame:
    """Overdue request steps and overdue open tasks, with working days overdue as of D."""
    from metrics.registry import STEP_LABELS
    from metrics.requests import request_steps
    from metrics.workdays import workdays_between

    names = _names(facts).select("unit_id", "name")
    steps = (
        request_steps(facts, as_of).filter(pl.col("status") == "overdue")
        .join(names.rename({"unit_id": "responsible_id"}), on="responsible_id", how="left")
        .select(
            kind=pl.lit("共享申请") + pl.col("step").replace_strict(STEP_LABELS, default=None),
            ref=pl.col("code"),
            what=pl.lit("申请") + pl.col("code") + pl.lit("的") + pl.col("step").replace_strict(STEP_LABELS,
                                                                                             default=None),
            unit=pl.col("name"),
            due=pl.col("deadline"),
            workdays=pl.col("workdays_overdue").cast(pl.Int64),
        )
    )
    tasks = task_ledger_frame(facts, as_of).filter(pl.col("status") == "逾期未完成").with_columns(
        _as_of=pl.lit(as_of))
    tasks = workdays_between(tasks, "due_date", "_as_of", facts.calendar, "wd").select(
        kind=pl.lit("任务"),
        ref=pl.col("task_no").cast(pl.String),
        what=pl.col("title"),
        unit=pl.col("name"),
        due=pl.col("due_date"),
        workdays=pl.col("wd").cast(pl.Int64),
    )
    return pl.concat([steps, tasks]).sort("workdays", "due", "ref", descending=[True, False, False])


def timeliness_frame(facts, month: str) -> pl.DataFrame:
    """Request steps whose deadline falls in the month, as of the month's last day."""
    from metrics.monthly import month_bounds
    from metrics.registry import STATUS_LABELS, STEP_LABELS
    from metrics.requests import request_steps

    first, last = month_bounds(month)
    names = _names(facts).select("unit_id", "name")
    return (
        request_steps(facts, last).filter(pl.col("deadline").is_between(pl.lit(first), pl.lit(last)))
        .join(names.rename({"unit_id": "requester_id", "name": "requester"}), on="requester_id", how="left")
        .join(names.rename({"unit_id": "provider_id", "name": "provider"}), on="provider_id", how="left")
        .join(names.rename({"unit_id": "responsible_id", "name": "responsible"}), on="responsible_id", how="left")
        .with_columns(
            step_name=pl.col("step").replace_strict(STEP_LABELS, default=None),
            status_name=pl.col("status").replace_strict(STATUS_LABELS, default=None),
            workdays_overdue=pl.col("workdays_overdue").cast(pl.Int64),
        )
        .sort("deadline", "code", "step", descending=[False, False, True])
    )


def suggestion_frame(facts, as_of: dt.date, card: pl.DataFrame | None = None) -> pl.DataFrame:
    from metrics.scorecard import scorecard

    fail = (facts.settings or {}).get("fail_grade", "不合格")
    card = scorecard(facts, as_of) if card is None else card
    card = rounded_scorecard(card).filter(pl.col("suggestion").is_not_null())
    reason = (
        pl.when(pl.col("suggestion") == "表扬")
        .then(pl.format("{}第{}名，综合得分{}分", "unit_kind", "rank", pl.col("composite").round(2)))
        .otherwise(pl.concat_str([
            pl.when(pl.col("grade") == fail).then(pl.lit("等次为" + fail)),
            pl.when(pl.col("red_lights") > 0).then(pl.format("红灯任务{}项", "red_lights")),
        ], separator="；", ignore_nulls=True))
    )
    return card.with_columns(reason=reason).sort(
        pl.col("suggestion").replace_strict({"表扬": 0, "约谈": 1}, default=2), _kind_order(), "rank", "unit_id")


def bulletin_sheet(wb: Workbook, title: str, text: str) -> Worksheet:
    ws = wb.create_sheet("通报")
    ws.column_dimensions["A"].width = 76
    row = 1
    for paragraph in text.split("\n"):
        cell = put(ws, row, 1, paragraph)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        if row == 1:
            cell.font = TITLE_FONT
            cell.alignment = Alignment(horizontal="center", wrap_text=True)
        elif paragraph[:2] in ("一、", "二、", "三、", "四、", "五、", "六、"):
            cell.font = BOLD
        # about 35 CJK characters per line at this width
        ws.row_dimensions[row].height = max(1, -(-_text_width(paragraph) // 70)) * 18
        row += 1
    ws.page_setup.orientation = "portrait"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"
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


def timeliness_summary_frame(detail: pl.DataFrame) -> pl.DataFrame:
    """timeliness_frame summarised per responsible unit and step: steps due in the month, how many
    were done on time, done late and still overdue at the month's end, and the longest overrun;
    units with steps still overdue first."""
    count = {k: (pl.col("status") == k).sum().cast(pl.Int64).alias(k) for k in ("on_time", "late", "overdue")}
    return (
        detail.group_by("responsible", "step", "step_name")
        .agg(pl.len().cast(pl.Int64).alias("steps"), *count.values(),
             pl.col("workdays_overdue").max().alias("most_overdue"))
        .sort(["overdue", "late", "responsible", "step"], descending=[True, True, False, True], nulls_last=True)
    )


def timeliness_csv(facts, month: str) -> bytes:
    """The 申请时效明细 of `month` as its own download: a neutralised CSV with the sheet's headers
    (dates as 2023-09-30, n/a as an empty cell)."""
    from reports.csv_export import frame_to_csv_bytes

    frame = timeliness_frame(facts, month).select([pl.col(c.key).alias(c.label) for c in TIMELINESS_COLS])
    return frame_to_csv_bytes(frame)


def review_workbook(facts, month: str, bulletin: str | None = None, *, card: pl.DataFrame | None = None,
                    prev: pl.DataFrame | None = None, points: pl.DataFrame | None = None,
                    detail: bool = True) -> bytes:
    """The monthly review (月度考评) as of the month's last day; `bulletin` is the office's edited
    通报 text (default: reports.bulletin.bulletin_text). `card`, `prev` (the scorecards of the
    month and of the previous month) and `points` default to a computation; the data layer passes
    the frozen figures of published months. With `detail` (sheets REVIEW_SHEETS) every request
    step due in the month is a row of 申请时效明细; without it (PRINTABLE_REVIEW_SHEETS) a
    申请时效汇总 sheet summarises them per unit and step and names the page's CSV download
    (timeliness_csv) that holds the rows."""
    from metrics.points import unit_points
    from reports.bulletin import bulletin_text

    as_of = _month_end(month)
    card, prev = _cards(facts, as_of, card, prev)
    points = unit_points(facts, as_of) if points is None else points
    label = f"{cn_month(month)}（截至{cn_date(as_of)}）"
    wb = Workbook()
    wb.remove(wb.active)

    ranking = ranking_frame(facts, as_of, card, prev)
    table_sheet(wb, "排名汇总", f"政务数据共享工作月度考评排名汇总 {label}", ranking, [
        Col("unit_kind", "单位类型"), Col("rank", COLUMN_LABELS["rank"], INTEGER), Col("unit", "单位名称"),
        Col("composite", COLUMN_LABELS["composite"], SCORE), Col("grade", COLUMN_LABELS["grade"]), Col("composite_prev", "上月得分", SCORE),
        Col("composite_change", "得分变化", SCORE), Col("rank_prev", "上月排名", INTEGER),
        Col("rank_change", "名次变化（正数为上升）", INTEGER), Col("red_lights", COLUMN_LABELS["red_lights"], INTEGER),
        Col("suggestion", "建议"),
    ], note="同类型单位内排名；得分变化、名次变化与上月末比较。", fills={"grade": GRADE_FILLS})

    indicators = unit_indicator_frame(facts, as_of, card, prev)
    ws = table_sheet(wb, "单位记分卡", f"各单位指标明细 {label}", indicators, [
        Col("unit", "单位名称"), Col("unit_kind", "单位类型"), Col("label", "指标"), Col("value", "本月", PERCENT),
        Col("prev", "上月", PERCENT), Col("change", "变化", PERCENT), Col("formula", "计算口径", width=80, wrap=True),
    ], note="空白表示该指标对该单位不适用。")
    # Each row's number format follows its indicator's unit.
    for i, code in enumerate(indicators["code"].to_list(), start=4):
        fmt = kpi_format(code)
        ws.cell(row=i, column=4).number_format = ws.cell(row=i, column=5).number_format = fmt
        ws.cell(row=i, column=6).number_format = "+0;-0;0" if fmt == FLAG else fmt

    points_sheet(wb, card, points, f"各单位得分明细 {label}")

    table_sheet(wb, "任务台账", f"任务分工台账 {label}", task_ledger_frame(facts, as_of), [
        Col("task_no", "任务序号", INTEGER), Col("title", "任务名称"), Col("name", "责任单位"),
        Col("deadline_text", "完成时限"), Col("due_date", "截止日期", DATE), Col("status", "状态"),
        Col("light_name", "灯号"), Col("completed_on", "完成日期", DATE), Col("last_report_on", "最近报送", DATE),
        Col("percent", "完成比例（%）", INTEGER),
    ], fills={"light_name": {LIGHT_NAMES[k]: v for k, v in LIGHT_FILLS.items()}})

    table_sheet(wb, "逾期清单", f"逾期事项清单 {label}", overdue_frame(facts, as_of), [
        Col("kind", "类别"), Col("ref", "编号"), Col("what", "事项"), Col("unit", "责任单位"),
        Col("due", "截止日期", DATE), Col("workdays", "逾期工作日", INTEGER),
    ], note="共享申请：初审时限为收到后第3个工作日，答复时限为转送后第10个工作日（不含当日）；任务：按附件2完成时限。")

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
