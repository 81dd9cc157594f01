"""How numbers and dates read on screen: 2023年5月31日, 87.50%, 92.35 分.

Pure functions of values and Polars frames (no Streamlit import), so tables, metrics and
captions all format the same way and tests can call them directly.
"""

from __future__ import annotations

import datetime as dt
import re

import polars as pl

from metrics.cn import cn_date, cn_date_expr, cn_month
from metrics.registry import COLUMN_LABELS as REGISTRY_LABELS
from metrics.registry import COMPOSITE, GRADE, RANK, RED_LIGHTS

NA = "不适用"

# Characters that Streamlit's markdown (CommonMark + GFM, math, :color[...] / :material/...: /
# :emoji: directives) gives a meaning: escaped, user text reads as typed. `.` and `@` are escaped
# so that www.example / name@example are not turned into links by GFM's autolinks; `:` so that
# http:// is not either.
_MD_SPECIAL = re.compile(r"([\\`*_\[\](){}#+\-!<>|~$:.@=&])")


def md_escape(text) -> str:
    """User text (a unit name, a file name, a display name, a typed note) made safe to show through
    st.markdown / st.caption / st.success / st.info / st.warning / st.error: no link, image,
    heading, emphasis or directive is rendered; it reads exactly as typed. Line breaks become
    spaces (a message is one line)."""
    if text is None:
        return ""
    flat = re.sub(r"[\r\n]+", " ", str(text))
    return _MD_SPECIAL.sub(r"\\\1", flat)

# Column codes of the engine's frames and the Chinese headers users read.
COLUMN_LABELS = {
    **{c: REGISTRY_LABELS[c] for c in ("unit", "unit_kind")},
    **{m.code: m.label for m in (COMPOSITE, GRADE, RANK, RED_LIGHTS)},
    "change": "较上月变化",
    "rank_change": "排名变化",
    "suggestion": REGISTRY_LABELS["suggestion"],
    "task_no": "任务序号",
    "title": "重点任务",
    "due_date": "完成时限",
    "deadline_text": "时限（原文）",
    "status": "状态",
    "light": "灯色",
    "completed_on": "完成日期",
    "last_report_on": "最近报送",
    "percent": "完成进度（%）",
    "reported_on": "报送日期",
    "note": "进展说明",
    "verified": "已核验",
    "submitted_by": "报送人",
    "verified_by": "核验人",
    "code": "编号",
    "requester": "申请单位",
    "provider": "提供单位",
    "step": "环节",
    "started_on": "起算日期",
    "deadline": "截止日期",
    "done_on": "办理日期",
    "workdays_overdue": "超期工作日",
    "workdays_left": "剩余工作日",
    "rule": "适用时限规定",
    "received_on": "提交日期",
    "replied_on": "答复日期",
    "reply_result": "答复结果",
    "legal_basis": "法律政策依据",
    "refusal_reason": "不予共享理由",
    "missing": "缺少",
    "name": "名称",
    "share_type": "共享类型",
    "nonshare_basis": "不予共享依据",
    "published_on": "发布日期",
    "content": "需求内容",
    "raised_on": "提出日期",
    "matched_on": "对接日期",
    "villages": "行政村数",
    "connected": "已联通",
    "coverage_rate": "覆盖率",
    "counted_on": "统计日期",
    "role": "职务类别",
    "phone": "联系电话",
    "person": "姓名",
    "named_on": "明确日期",
    "items": "目录条数",
    "month": "月份",
}

def fmt_date(value: dt.date | None) -> str:
    """2023年5月31日 (no zero padding, as official documents write it); None reads empty."""
    return "" if value is None else cn_date(value)


def fmt_month(value: dt.date | str) -> str:
    """2023年5月 from a date or a 'YYYY-MM' string."""
    return cn_month(value)


def fmt_pct(value: float | None, digits: int = 2) -> str:
    """A fraction 0–1 as a percentage; None (n/a) reads 不适用."""
    if value is None:
        return NA
    return f"{_round(value * 100, digits):.{digits}f}%"


def fmt_score(value: float | None) -> str:
    if value is None:
        return NA
    return f"{_round(value, 2):.2f}"


def fmt_delta_pct(value: float | None) -> str | None:
    """Change of a rate in percentage points, for st.metric's delta (None: no arrow)."""
    if value is None:
        return None
    points = _round(value * 100, 2)
    return "持平" if points == 0 else f"{points:+.2f} 个百分点"


def delta_arrow(value: float | int | None, digits: int = 2) -> str:
    """'off' for a change that reads as zero once rounded (no green or red arrow for 持平)."""
    if value is None or _round(float(value), digits) == 0:
        return "off"
    return "auto"


def fmt_delta(value: float | int | None, unit: str = "") -> str | None:
    if value is None:
        return None
    if isinstance(value, int):
        return "持平" if value == 0 else f"{value:+d}{unit}"
    shown = _round(value, 2)
    return "持平" if shown == 0 else f"{shown:+.2f}{unit}"


def _round(value: float, digits: int) -> float:
    """Half away from zero, as kpis.md requires for display."""
    return float(pl.Series([value]).round(digits, mode="half_away_from_zero")[0])


def table(frame: pl.DataFrame, rates: tuple[str, ...] = (), scores: tuple[str, ...] = (),
          labels: dict[str, str] | None = None) -> pl.DataFrame:
    """A frame ready for st.dataframe: dates as 2023年5月31日, rates as percentages, scores with
    two decimals, booleans as 是/否, and Chinese headers."""
    names = {**COLUMN_LABELS, **(labels or {})}
    exprs = []
    for col, dtype in frame.schema.items():
        c = pl.col(col)
        if col in rates:
            c = _pct_expr(c)
        elif col in scores:
            c = pl.when(c.is_null()).then(pl.lit(NA)).otherwise(
                c.round(2, mode="half_away_from_zero").cast(pl.Decimal(10, 2)).cast(pl.String))
        elif dtype == pl.Date:
            c = cn_date_expr(c).fill_null("")
        elif dtype == pl.Boolean:
            c = pl.when(c).then(pl.lit("是")).otherwise(pl.lit("否"))
        exprs.append(c.alias(names.get(col, col)))
    return frame.select(exprs)


def _pct_expr(c: pl.Expr) -> pl.Expr:
    scaled = (c * 100).round(2, mode="half_away_from_zero")
    return pl.when(c.is_null()).then(pl.lit(NA)).otherwise(
        pl.format("{}%", scaled.cast(pl.Decimal(10, 2)).cast(pl.String)))


def indicator_values(frame: pl.DataFrame, value_col: str = "value", kind_col: str = "kind") -> pl.Expr:
    """The text of an indicator value by its unit: rates as percentages, 0/1 flags as 是/否,
    counts as integers, scores with two decimals; null reads 不适用."""
    v = pl.col(value_col)
    return (
        pl.when(v.is_null()).then(pl.lit(NA))
        .when(pl.col(kind_col) == "rate").then(_pct_expr(v))
        .when(pl.col(kind_col) == "flag").then(pl.when(v >= 1).then(pl.lit("是")).otherwise(pl.lit("否")))
        .when(pl.col(kind_col) == "count").then(v.cast(pl.Int64).cast(pl.String))
        .otherwise(v.round(2, mode="half_away_from_zero").cast(pl.Decimal(10, 2)).cast(pl.String))
    )


def indicator_table(frame: pl.DataFrame) -> pl.DataFrame:
    """data.services.views.indicator_rows -> the table users read (指标, 数值, 权重, 计算方法, 不适用情形)."""
    return frame.select(
        pl.col("label").alias("指标"),
        indicator_values(frame).alias("数值"),
        pl.when(pl.col("weight") > 0).then(pl.format("{}", pl.col("weight").cast(pl.Int64)))
        .otherwise(pl.lit("不计分")).alias("权重"),
        pl.col("formula").alias("计算方法"),
        pl.col("na_rule").alias("不适用情形"),
    )

