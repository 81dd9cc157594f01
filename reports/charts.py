"""Plotly figure builders: pure functions frame -> go.Figure with Chinese titles and axis labels.

Colours are fixed here so every page draws lights and grades the same way. Builders read frames
the engine (or data.services.views) already computed; they draw, they do not count.
"""

from __future__ import annotations

import datetime as dt
import html

import plotly.graph_objects as go
import polars as pl

from metrics.cn import cn_date
from metrics.registry import COMPOSITE, LIGHT_LABELS

LIGHT_COLORS = {"red": "#d9534f", "yellow": "#f0ad4e", "green": "#5cb85c"}
LIGHT_NAMES = LIGHT_LABELS
GRADE_COLORS = {"优秀": "#2e7d32", "良好": "#5cb85c", "合格": "#f0ad4e", "不合格": "#d9534f"}
SERIES_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#17becf"]
SHARE_COLORS = {"无条件共享": "#5cb85c", "有条件共享": "#f0ad4e", "不予共享": "#d9534f"}
FONT = "Noto Sans CJK SC, Microsoft YaHei, SimHei, sans-serif"


def safe_labels(values: list) -> list[str]:
    """Names as Plotly category labels: Plotly reads <a>, <b>, <br> … in label text as markup, so a
    unit named with a tag would become a link; escaped, the entities are shown as typed."""
    return [html.escape(str(v), quote=False) for v in values]


def _layout(fig: go.Figure, title: str, x: str, y: str, height: int = 380) -> go.Figure:
    fig.update_layout(
        title={"text": title}, xaxis_title=x, yaxis_title=y, height=height,
        font={"family": FONT}, margin={"l": 40, "r": 20, "t": 60, "b": 40},
        legend={"orientation": "h", "y": -0.2},
    )
    return fig


def light_matrix(frame: pl.DataFrame, title: str = "任务 × 责任单位 红黄绿灯") -> go.Figure:
    """Tasks × units heatmap. `frame`: task_no, unit, light ('red'|'yellow'|'green'), status.
    A cell without an assignment stays blank."""
    units = frame["unit"].unique(maintain_order=True).to_list()
    cells = frame.with_columns(code=pl.col("light").replace_strict(
        {"red": 0, "yellow": 1, "green": 2}, default=None, return_dtype=pl.Int8))
    z_wide = cells.pivot(on="unit", index="task_no", values="code").sort("task_no")
    text_wide = cells.pivot(on="unit", index="task_no", values="status").sort("task_no")
    tasks = z_wide["task_no"].to_list()
    z = z_wide.select(units).rows()
    text = text_wide.select(pl.col(u).fill_null("") for u in units).rows()
    fig = go.Figure(go.Heatmap(
        z=z, x=safe_labels(units), y=[f"任务{t}" for t in tasks], text=text, zmin=0, zmax=2, showscale=False, xgap=1, ygap=1,
        colorscale=[[0, LIGHT_COLORS["red"]], [0.33, LIGHT_COLORS["red"]], [0.34, LIGHT_COLORS["yellow"]],
                    [0.66, LIGHT_COLORS["yellow"]], [0.67, LIGHT_COLORS["green"]], [1, LIGHT_COLORS["green"]]],
        hovertemplate="%{y} · %{x}<br>%{text}<extra></extra>",
    ))
    fig.update_yaxes(autorange="reversed")
    # Every unit gets its label (plotly would skip some when they are dense).
    fig.update_xaxes(dtick=1, tickangle=-90, tickfont={"size": 10}, automargin=True)
    return _layout(fig, title, "责任单位", "重点任务", height=max(380, 28 * len(tasks) + 160))


def deadline_timeline(tasks: pl.DataFrame, as_of: dt.date, title: str = "任务完成时限与考评日") -> go.Figure:
    """One marker per task with a due date, coloured by its worst light; a line at the as-of date.
    `tasks`: task_no, title, due_date, light (the task's worst light as of D)."""
    dated = tasks.filter(pl.col("due_date").is_not_null()).sort("due_date")
    fig = go.Figure()
    for light in ("red", "yellow", "green"):
        part = dated.filter(pl.col("light") == light)
        if part.height:
            fig.add_trace(go.Scatter(
                x=part["due_date"].to_list(), y=part.select(pl.format("任务{} {}", "task_no", "title"))[:, 0].to_list(),
                mode="markers", name=LIGHT_NAMES[light], marker={"color": LIGHT_COLORS[light], "size": 14},
                hovertemplate="%{y}<br>时限 %{x|%Y年%m月%d日}<extra></extra>",
            ))
    fig.add_shape(type="line", x0=as_of, x1=as_of, y0=0, y1=1, yref="paper",
                  line={"color": "#333", "dash": "dash"})
    fig.add_annotation(x=as_of, y=1, yref="paper", text=f"考评日 {cn_date(as_of)}", showarrow=False,
                       yanchor="bottom")
    fig.update_xaxes(tickformat="%Y年%m月")
    return _layout(fig, title, "完成时限", "重点任务", height=max(380, 30 * dated.height + 160))


def ranking_bar(frame: pl.DataFrame, title: str = "综合得分排名", limit: int | None = None) -> go.Figure:
    """Horizontal bars of composite per unit, coloured by grade. `frame`: unit, composite, grade.
    With `limit`, only the `limit` lowest composites are drawn (the title says so when that cuts
    anything): a thousand bars are unreadable and slow to draw; the ranking table has every unit."""
    ordered = frame.filter(pl.col("composite").is_not_null()).sort("composite", "unit")
    if limit is not None and ordered.height > limit:
        ordered = ordered.head(limit)
        title = f"{title}（得分最低的{limit}个单位）"
    fig = go.Figure()
    for grade, colour in GRADE_COLORS.items():
        part = ordered.filter(pl.col("grade") == grade)
        if part.height:
            fig.add_trace(go.Bar(x=part["composite"].to_list(), y=safe_labels(part["unit"].to_list()), orientation="h",
                                 name=grade, marker_color=colour,
                                 hovertemplate="%{y}：%{x:.2f} 分<extra></extra>"))
    fig.update_yaxes(categoryorder="array", categoryarray=safe_labels(ordered["unit"].to_list()))
    fig.update_xaxes(range=[0, 100])
    return _layout(fig, title, COMPOSITE.label, "单位", height=max(380, 22 * ordered.height + 140))


def _month_text(day: dt.date) -> str:
    return f"{day.year}年{day.month}月"


def _point_text(day: dt.date) -> str:
    """The month of a trend point; a point that is not a month end (D inside its month) says up to
    which day: 2026年12月（至2日）."""
    month_end = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    return _month_text(day) + ("" if day == month_end else f"（至{day.day}日）")


def month_tick_text(days: list[dt.date]) -> list[str]:
    """Chinese month ticks: 2024年12月 when there are few points; with more than six, the year is
    written (on a second line, under the month) only at the first point and at each January:
    1月<br>2024年, 2月, …; a point inside its month says up to which day (12月<br>至2日)."""
    if len(days) <= 6:
        return [_point_text(d) for d in days]
    out = []
    for i, d in enumerate(days):
        text = _point_text(d).replace(f"{d.year}年", "")
        text = text.replace("（", "<br>").replace("）", "")
        out.append(f"{text}<br>{d.year}年" if i == 0 or d.month == 1 else text)
    return out


def _month_axis(fig: go.Figure, days: list[dt.date]) -> list[str]:
    """A category axis with one tick per point (no 2025年1月 tick at as-of 2024-12-31, and a point
    at 12月2日 is not squeezed against 11月30日), written in Chinese, horizontal. Returns the x
    values (the points' month texts)."""
    xs = [_point_text(d) for d in days]
    fig.update_xaxes(type="category", tickmode="array", tickvals=xs, ticktext=month_tick_text(days), tickangle=0)
    return xs


def _below(fig: go.Figure) -> go.Figure:
    fig.update_layout(legend={"orientation": "h", "y": -0.32}, margin={"b": 90})
    return fig


SCORE_SERIES = {"composite", "quality_score"}
COUNT_SERIES = {"red_lights", "tasks_overdue_open", "units_scored", "interviews", "praises"}


def trend_lines(frame: pl.DataFrame, series: dict[str, str], title: str, y_title: str,
                percent: bool = False) -> go.Figure:
    """Lines over month ends. `frame`: as_of (the month-end Date) plus one column per series;
    `series` maps column -> Chinese legend name. Rates (0–1) are drawn as percentages (axis 0–100 %),
    scores on a 0–100 axis. A score and a count never share an axis: use score_and_red_lights."""
    if set(series) & SCORE_SERIES and set(series) & COUNT_SERIES:
        raise ValueError("a score and a count must not share an axis: use score_and_red_lights")
    fig = go.Figure()
    xs = _month_axis(fig, frame["as_of"].to_list())
    for i, (col, name) in enumerate(series.items()):
        values = frame[col] * 100 if percent else frame[col]
        fig.add_trace(go.Scatter(
            x=xs, y=values.to_list(), mode="lines+markers", name=name,
            line={"color": SERIES_COLORS[i % len(SERIES_COLORS)]},
            hovertemplate=f"{name}<br>%{{x}}：%{{y:.2f}}{'%' if percent else ''}<extra></extra>",
        ))
    if percent:
        fig.update_yaxes(range=[0, 105], ticksuffix="%")
    elif set(series) <= SCORE_SERIES:
        fig.update_yaxes(range=[0, 100])
    return _below(_layout(fig, title, "月份", y_title))


def score_and_red_lights(frame: pl.DataFrame, title: str = "综合得分与红灯任务",
                         score_col: str = "composite", count_col: str = "red_lights",
                         score_name: str = "综合得分（单位平均）", count_name: str = "红灯任务（个）") -> go.Figure:
    """The mean composite as a line on a 0–100 score axis (left) and the red lights as bars on a
    count axis of their own (right): a score and a count never share an axis."""
    from plotly.subplots import make_subplots

    fig = make_subplots(specs=[[{"secondary_y": True}]])
    xs = _month_axis(fig, frame["as_of"].to_list())
    fig.add_trace(go.Bar(
        x=xs, y=frame[count_col].to_list(), name=count_name, marker_color=LIGHT_COLORS["red"], opacity=0.45,
        hovertemplate=f"{count_name}<br>%{{x}}：%{{y}} 个<extra></extra>",
    ), secondary_y=True)
    fig.add_trace(go.Scatter(
        x=xs, y=frame[score_col].to_list(), mode="lines+markers", name=score_name,
        line={"color": SERIES_COLORS[0]}, hovertemplate=f"{score_name}<br>%{{x}}：%{{y:.2f}} 分<extra></extra>",
    ), secondary_y=False)
    top = int(frame[count_col].max() or 0) if frame.height else 0
    step = next(s for s in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 10**9) if top / s <= 5)
    fig.update_yaxes(title_text="综合得分（分）", range=[0, 100], dtick=20, secondary_y=False)
    fig.update_yaxes(title_text="红灯任务（个）", range=[0, step * (top // step + 1)], tickmode="linear", tick0=0,
                     dtick=step, showgrid=False, secondary_y=True)
    fig = _layout(fig, title, "月份", "综合得分（分）")
    fig.update_layout(yaxis2={"title": {"text": "红灯任务（个）"}})
    return _below(fig)


NA_COLOR = "#9e9e9e"
MIN_BAR = 0.8   # percentage points: a 0 % bar is drawn this wide so that it is seen (its label says 0.0%)


def rate_bars(frame: pl.DataFrame, label_col: str, rate_col: str, title: str, x_title: str,
              limit: int | None = None) -> go.Figure:
    """Horizontal bars of one rate (0–1) per label, drawn as percentages and labelled (0.0%);
    red below 60%, yellow below 90%, green otherwise (the grade bands of the scorecard). A 0 % bar
    is drawn as a thin visible bar; a label whose rate is n/a is shown as 不适用 in grey, with no
    bar. With `limit`, only the `limit` lowest rates are drawn (the title says so when that cuts
    anything; the n/a labels are then left out)."""
    ordered = frame.filter(pl.col(rate_col).is_not_null()).sort(rate_col, label_col)
    na = frame.filter(pl.col(rate_col).is_null()).sort(label_col)
    if limit is not None and ordered.height + na.height > limit:
        ordered = ordered.head(limit)
        na = na.clear()
        title = f"{title}（最低的{limit}个）"
    pct_col = pl.col(rate_col) * 100
    coloured = ordered.select(
        pct=pct_col,
        colour=pl.when(pct_col < 60).then(pl.lit(LIGHT_COLORS["red"]))
        .when(pct_col < 90).then(pl.lit(LIGHT_COLORS["yellow"])).otherwise(pl.lit(LIGHT_COLORS["green"])),
    )
    pct, colours = coloured["pct"].to_list(), coloured["colour"].to_list()
    fig = go.Figure(go.Bar(
        x=[max(p, MIN_BAR) for p in pct], y=safe_labels(ordered[label_col].to_list()), orientation="h", marker_color=colours,
        name=x_title, text=[f"{p:.1f}%" for p in pct], textposition="outside", cliponaxis=False,
        customdata=pct, hovertemplate="%{y}：%{customdata:.2f}%<extra></extra>",
    ))
    if na.height:
        fig.add_trace(go.Bar(
            x=[0] * na.height, y=safe_labels(na[label_col].to_list()), orientation="h", marker_color=NA_COLOR, name="不适用",
            text=["不适用"] * na.height, textposition="outside", cliponaxis=False,
            textfont={"color": NA_COLOR}, hovertemplate="%{y}：不适用<extra></extra>",
        ))
    fig.update_yaxes(categoryarray=safe_labels(na[label_col].to_list() + ordered[label_col].to_list()), categoryorder="array")
    fig.update_xaxes(range=[0, 112], ticksuffix="%", tickvals=[0, 20, 40, 60, 80, 100])
    fig.update_layout(showlegend=False)
    return _layout(fig, title, x_title, "", height=max(320, 22 * (ordered.height + na.height) + 140))


def share_mix(frame: pl.DataFrame, title: str = "各单位目录共享类型构成", limit: int | None = None) -> go.Figure:
    """Stacked bars. `frame`: unit, share_type, items. With `limit`, only the `limit` units with
    the most items are drawn."""
    wide = frame.pivot(on="share_type", index="unit", values="items", aggregate_function="sum").fill_null(0)
    wide = wide.with_columns(
        [pl.lit(0).alias(t) for t in SHARE_COLORS if t not in wide.columns]
    ).with_columns(_total=pl.sum_horizontal(list(SHARE_COLORS))).sort("_total", "unit")
    if limit is not None and wide.height > limit:
        wide = wide.tail(limit)
        title = f"{title}（目录最多的{limit}个单位）"
    units = safe_labels(wide["unit"].to_list())
    fig = go.Figure()
    for share_type, colour in SHARE_COLORS.items():
        fig.add_trace(go.Bar(x=wide[share_type].to_list(), y=units, orientation="h", name=share_type,
                             marker_color=colour, hovertemplate="%{y}：%{x} 条<extra></extra>"))
    fig.update_layout(barmode="stack")
    return _layout(fig, title, "目录条数", "单位", height=max(380, 22 * len(units) + 140))
