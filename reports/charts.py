"""Plotly figure builders: pure functions frame -> go.Figure with Chinese titles and axis labels.

Colours are fixed here so every page draws lights and grades the same way. Builders read frames
the engine (or data.views) already computed; they draw, they do not count.
"""

from __future__ import annotations

import datetime as dt

import plotly.graph_objects as go
import polars as pl

LIGHT_COLORS = {"red": "#d9534f", "yellow": "#f0ad4e", "green": "#5cb85c"}
LIGHT_NAMES = {"red": "红灯", "yellow": "黄灯", "green": "绿灯"}
GRADE_COLORS = {"优秀": "#2e7d32", "良好": "#5cb85c", "合格": "#f0ad4e", "不合格": "#d9534f"}
SERIES_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#17becf"]
SHARE_COLORS = {"无条件共享": "#5cb85c", "有条件共享": "#f0ad4e", "不予共享": "#d9534f"}
FONT = "Noto Sans CJK SC, Microsoft YaHei, SimHei, sans-serif"


def _layout(fig: go.Figure, title: str, x: str, y: str, height: int = 380) -> go.Figure:
    fig.update_layout(
        title={"text": title}, xaxis_title=x, yaxis_title=y, height=height,
        font={"family": FONT}, margin={"l": 40, "r": 20, "t": 60, "b": 40},
        legend={"orientation": "h", "y": -0.2},
    )
    return fig


def _date_text(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


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
        z=z, x=units, y=[f"任务{t}" for t in tasks], text=text, zmin=0, zmax=2, showscale=False, xgap=1, ygap=1,
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
    fig.add_annotation(x=as_of, y=1, yref="paper", text=f"考评日 {_date_text(as_of)}", showarrow=False,
                       yanchor="bottom")
    fig.update_xaxes(tickformat="%Y年%m月")
    return _layout(fig, title, "完成时限", "重点任务", height=max(380, 30 * dated.height + 160))


def ranking_bar(frame: pl.DataFrame, title: str = "综合得分排名") -> go.Figure:
    """Horizontal bars of composite per unit, coloured by grade. `frame`: unit, composite, grade."""
    ordered = frame.filter(pl.col("composite").is_not_null()).sort("composite")
    fig = go.Figure()
    for grade, colour in GRADE_COLORS.items():
        part = ordered.filter(pl.col("grade") == grade)
        if part.height:
            fig.add_trace(go.Bar(x=part["composite"].to_list(), y=part["unit"].to_list(), orientation="h",
                                 name=grade, marker_color=colour,
                                 hovertemplate="%{y}：%{x:.2f} 分<extra></extra>"))
    fig.update_yaxes(categoryorder="array", categoryarray=ordered["unit"].to_list())
    fig.update_xaxes(range=[0, 100])
    return _layout(fig, title, "综合得分", "单位", height=max(380, 22 * ordered.height + 140))


def trend_lines(frame: pl.DataFrame, series: dict[str, str], title: str, y_title: str,
                percent: bool = False) -> go.Figure:
    """Lines over month ends. `frame`: as_of (the month-end Date) plus one column per series;
    `series` maps column -> Chinese legend name. Rates (0–1) are drawn as percentages."""
    fig = go.Figure()
    for i, (col, name) in enumerate(series.items()):
        values = frame[col] * 100 if percent else frame[col]
        fig.add_trace(go.Scatter(
            x=frame["as_of"].to_list(), y=values.to_list(), mode="lines+markers", name=name,
            line={"color": SERIES_COLORS[i % len(SERIES_COLORS)]},
            hovertemplate=f"{name}<br>%{{x|%Y年%m月}}：%{{y:.2f}}{'%' if percent else ''}<extra></extra>",
        ))
    fig.update_xaxes(tickformat="%Y年%m月")
    if percent:
        fig.update_yaxes(range=[0, 105], ticksuffix="%")
    return _layout(fig, title, "月份", y_title)


def rate_bars(frame: pl.DataFrame, label_col: str, rate_col: str, title: str, x_title: str,
              limit: int | None = None) -> go.Figure:
    """Horizontal bars of one rate (0–1) per label, drawn as percentages; red below 60%,
    yellow below 90%, green otherwise (the grade bands of the scorecard). With `limit`, only the
    `limit` lowest rates are drawn (the title says so when that cuts anything)."""
    ordered = frame.filter(pl.col(rate_col).is_not_null()).sort(rate_col, label_col)
    if limit is not None and ordered.height > limit:
        ordered = ordered.head(limit)
        title = f"{title}（最低的{limit}个）"
    pct_col = pl.col(rate_col) * 100
    coloured = ordered.select(
        pct=pct_col,
        colour=pl.when(pct_col < 60).then(pl.lit(LIGHT_COLORS["red"]))
        .when(pct_col < 90).then(pl.lit(LIGHT_COLORS["yellow"])).otherwise(pl.lit(LIGHT_COLORS["green"])),
    )
    pct, colours = coloured["pct"].to_list(), coloured["colour"].to_list()
    fig = go.Figure(go.Bar(x=pct, y=ordered[label_col].to_list(), orientation="h", marker_color=colours,
                           hovertemplate="%{y}：%{x:.2f}%<extra></extra>"))
    fig.update_xaxes(range=[0, 105], ticksuffix="%")
    return _layout(fig, title, x_title, "", height=max(320, 22 * ordered.height + 140))


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
    units = wide["unit"].to_list()
    fig = go.Figure()
    for share_type, colour in SHARE_COLORS.items():
        fig.add_trace(go.Bar(x=wide[share_type].to_list(), y=units, orientation="h", name=share_type,
                             marker_color=colour, hovertemplate="%{y}：%{x} 条<extra></extra>"))
    fig.update_layout(barmode="stack")
    return _layout(fig, title, "目录条数", "单位", height=max(380, 22 * len(units) + 140))
