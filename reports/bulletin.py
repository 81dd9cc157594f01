"""The monthly bulletin (通报) draft: Chinese prose generated from the month's figures.

Every sentence is built from frames (Polars expressions format the per-unit sentences); the
office edits the draft on the 月度考评 page before it goes into the review workbook.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from metrics.registry import KPI_BY_CODE, UNIT_KINDS, setting

NUMERALS = "一二三四五六七八九十"


def cn_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def cn_month(month: str) -> str:
    year, mon = month.split("-")
    return f"{int(year)}年{int(mon)}月"


def _score(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _pct(expr: pl.Expr) -> pl.Expr:
    """0.4 -> '40.00%' (rounded half away from zero)."""
    from metrics.scorecard import _fixed

    return pl.concat_str([_fixed(expr * 100, 2), pl.lit("%")])


def _joined(items: list[str], sep: str = "、") -> str:
    return sep.join(items)


def _weak_points(card: pl.DataFrame, units: pl.DataFrame) -> pl.DataFrame:
    """Per unit, its two weakest applicable rate/flag indicators below 100%: 'label value'."""
    codes = [c for c in card.columns if c in KPI_BY_CODE and KPI_BY_CODE[c].unit in ("rate", "flag")]
    flags = [c for c in codes if KPI_BY_CODE[c].unit == "flag"]
    labels = pl.DataFrame({"code": codes, "label": [KPI_BY_CODE[c].label for c in codes]})
    return (
        card.join(units.select("unit_id"), on="unit_id", how="semi")
        .select("unit_id", *[pl.col(c).cast(pl.Float64) for c in codes])
        .unpivot(index="unit_id", variable_name="code", value_name="value")
        .filter(pl.col("value").is_not_null() & (pl.col("value") < 1))
        .join(labels, on="code", how="left")
        .sort("unit_id", "value", "code")
        .group_by("unit_id", maintain_order=True)
        .head(2)
        .with_columns(text=pl.when(pl.col("code").is_in(flags)).then(pl.col("label") + pl.lit("：否"))
                      .otherwise(pl.concat_str([pl.col("label"), _pct(pl.col("value"))], separator=" ")))
        .group_by("unit_id", maintain_order=True)
        .agg(pl.col("text").str.join("、").alias("weak"))
    )


def bulletin_text(facts, month: str) -> str:
    """The 通报 draft for `month` ('YYYY-MM'), judged as of the month's last day."""
    from metrics.milestones import milestone_status
    from metrics.monthly import month_bounds
    from metrics.scorecard import scorecard
    from metrics.trend import change_since_last_month
    from reports.excel import overdue_frame

    _first, as_of = month_bounds(month)
    card = scorecard(facts, as_of)
    change = change_since_last_month(facts, as_of)
    lines: list[str] = [f"关于{cn_month(month)}全县政务数据共享工作情况的通报（征求意见稿）", ""]

    # 一、总体进展
    lines.append("一、总体进展")
    scored = card.filter(pl.col("composite").is_not_null())
    mean_now = scored["composite"].mean() if scored.height else None
    prev = change.filter(pl.col("composite_prev").is_not_null())["composite_prev"]
    mean_prev = prev.mean() if len(prev) else None
    grades = dict(card.group_by("grade").len().rows())
    grade_names = [g for g, _ in setting(facts, "grades")] + [setting(facts, "fail_grade")]
    grade_text = "、".join(f"{g}{grades.get(g, 0)}个" for g in grade_names)
    sentence = f"截至{cn_date(as_of)}，全县参与考评的单位共{card.height}个，平均综合得分{_score(mean_now)}分"
    if mean_now is not None and mean_prev is not None:
        diff = round(mean_now - mean_prev, 2)
        trend = "持平" if diff == 0 else (f"提高{diff:.2f}分" if diff > 0 else f"下降{-diff:.2f}分")
        sentence += f"，较上月（{_score(mean_prev)}分）{trend}"
    lines.append(sentence + f"；其中{grade_text}。")
    stones = milestone_status(facts, as_of)
    parts = []
    for code, due, title, status, missing in stones.select(
            "code", "due_date", "title", "status", "units_missing").rows():
        tail = f"，尚有{missing}个单位未达标" if status != "已达成" and missing else ""
        parts.append(f"{code}「{title}」（{cn_date(due)}）{status}{tail}")
    if parts:
        lines.append("工作目标完成情况：" + "；".join(parts) + "。")
    lines.append("")

    # 二、表现较好的单位
    lines.append("二、表现较好的单位")
    praised = card.filter(pl.col("suggestion") == "表扬").with_columns(
        text=pl.format("{}（{}分）", "unit", _fixed2("composite")))
    kinds = [k for k in UNIT_KINDS if k in set(praised["unit_kind"].to_list())]
    if kinds:
        for kind in kinds:
            names = praised.filter(pl.col("unit_kind") == kind)["text"].to_list()
            lines.append(f"{kind}：{_joined(names)}。")
        lines.append("以上单位综合得分位列同类单位前列，建议予以通报表扬。")
    else:
        lines.append("本月暂无建议表扬的单位。")
    lines.append("")

    # 三、需要加强的单位
    lines.append("三、需要加强的单位")
    fail = setting(facts, "fail_grade")
    laggards = card.filter(pl.col("suggestion") == "约谈")
    if laggards.height:
        weak = _weak_points(card, laggards)
        text = laggards.join(weak, on="unit_id", how="left").with_columns(
            text=pl.concat_str([
                pl.format("{}综合得分{}分，等次{}", "unit", _fixed2("composite"), "grade"),
                pl.when(pl.col("weak").is_not_null()).then(pl.lit("主要失分项：") + pl.col("weak")),
                pl.when(pl.col("red_lights") > 0).then(pl.format("红灯任务{}项", "red_lights")),
            ], separator="；", ignore_nulls=True) + pl.lit("。"))
        lines.extend(text["text"].to_list())
        lines.append(f"以上单位等次为{fail}或红灯任务较多，建议由领导小组办公室约谈。")
    else:
        lines.append(f"本月没有等次为{fail}或红灯任务达到约谈标准的单位。")
    lines.append("")

    # 四、逾期事项
    lines.append("四、逾期事项")
    overdue = overdue_frame(facts, as_of)
    steps = overdue.filter(pl.col("kind") != "任务")
    tasks = overdue.filter(pl.col("kind") == "任务")
    if steps.height:
        by_kind = dict(steps.group_by("kind").len().rows())
        worst = steps.sort("workdays", "ref", descending=[True, False]).row(0, named=True)
        lines.append(
            f"共享申请逾期未办{steps.height}件（初审{by_kind.get('共享申请初审', 0)}件、答复{by_kind.get('共享申请答复', 0)}件），"
            f"逾期最久的是{worst['unit']}办理的申请{worst['ref']}，已逾期{worst['workdays']}个工作日。")
    else:
        lines.append("共享申请没有逾期未办的初审或答复。")
    if tasks.height:
        per_task = tasks.group_by("ref", "what", maintain_order=True).agg(
            pl.len().alias("n"), pl.col("unit").head(3).str.join("、").alias("units")
        ).with_columns(text=pl.format("任务{}「{}」（{}等{}个单位）", "ref", "what", "units", "n"))
        lines.append(f"逾期未完成的任务{tasks.height}项次：" + "；".join(per_task["text"].to_list()) + "。")
    else:
        lines.append("没有逾期未完成的任务。")
    lines.append("")

    # 五、下月工作要求
    lines.append("五、下月工作要求")
    asks: list[str] = []
    unmet = stones.filter((pl.col("status") == "未达成") & (pl.col("units_missing") > 0))
    for code, title, missing in unmet.select("code", "title", "units_missing").rows():
        asks.append(f"{code}「{title}」尚有{missing}个单位未达标，相关单位须于下月底前补齐缺项")
    if steps.height:
        top = steps.group_by("unit").len().sort("len", "unit", descending=[True, False]).head(3)["unit"].to_list()
        asks.append(f"{_joined(top)}等单位须尽快办结逾期的共享申请，严格执行收到申请后3个工作日内初审、"
                    "转送后10个工作日内答复的时限")
    if tasks.height:
        asks.append(f"逾期未完成任务涉及的{tasks['unit'].n_unique()}个单位须于下月报送整改进展和完成时间")
    next_first = (as_of + dt.timedelta(days=1))
    next_last = month_bounds(f"{next_first.year:04d}-{next_first.month:02d}")[1]
    due_next = facts.tasks.filter(pl.col("due_date").is_between(pl.lit(next_first), pl.lit(next_last)))
    if due_next.height:
        counts = facts.assignments.group_by("task_no").len()
        due_next = due_next.join(counts, on="task_no", how="left").with_columns(
            text=pl.format("任务{}「{}」", "task_no", "title"))
        asks.append(f"{_joined(due_next['text'].to_list())}将于{cn_date(next_last)}前到期，"
                    f"涉及{int(due_next['len'].fill_null(0).sum())}项分工，请责任单位按期完成")
    ongoing = facts.tasks.filter(pl.col("is_ongoing"))
    if ongoing.height:
        asks.append("持续性任务的责任单位须每月报送进展，连续两个月未报送的亮红灯")
    lines.extend(f"{i}. {ask}。" for i, ask in enumerate(asks, start=1))
    lines.append("")
    lines.append(f"领导小组办公室（县大数据发展中心）\n{cn_date(as_of)}")
    return "\n".join(lines)


def _fixed2(col: str) -> pl.Expr:
    from metrics.scorecard import _fixed

    return _fixed(pl.col(col).cast(pl.Float64), 2)
