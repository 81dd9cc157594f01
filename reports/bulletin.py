"""The monthly bulletin (通报) draft: Chinese prose generated from the month's figures.

Every sentence is built from frames (Polars expressions format the per-unit sentences); the
office edits the draft on the 月度考评 page before it goes into the review workbook.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from metrics.cn import cn_date, cn_month
from metrics.registry import KPI_BY_CODE, UNIT_KINDS, setting
from reports.frames import overdue_frame


def _score(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _pct(expr: pl.Expr) -> pl.Expr:
    """0.4 -> '40.00%' (rounded half away from zero)."""
    from metrics.scorecard import _fixed

    return pl.concat_str([_fixed(expr * 100, 2), pl.lit("%")])


def _joined(items: list[str], sep: str = "、") -> str:
    return sep.join(items)


def _weak_points(points: pl.DataFrame, units: pl.DataFrame, top: int = 2) -> pl.DataFrame:
    """Per unit, its `top` indicators with the most points lost, weighted indicators only
    (kpis.md, Points per indicator): 'label value（失X.XX分）'."""
    from metrics.points import lost_ranking

    flags = [k.code for k in KPI_BY_CODE.values() if k.kind == "flag"]
    rates = [k.code for k in KPI_BY_CODE.values() if k.kind == "rate"]
    counts = [k.code for k in KPI_BY_CODE.values() if k.kind == "count"]
    value = (
        pl.when(pl.col("code").is_in(flags)).then(pl.lit("：否"))
        .when(pl.col("code").is_in(rates)).then(pl.lit(" ") + _pct(pl.col("value")))
        .when(pl.col("code").is_in(counts)).then(pl.format(" {}项", pl.col("value").cast(pl.Int64)))
        .otherwise(pl.lit(" ") + _fixed2("value") + pl.lit("分"))
    )
    return (
        lost_ranking(points.join(units.select("unit_id"), on="unit_id", how="semi"), top)
        .with_columns(text=pl.concat_str([pl.col("label"), value, pl.lit("（失"), _fixed2("lost"), pl.lit("分）")]))
        .group_by("unit_id", maintain_order=True)
        .agg(pl.col("text").str.join("、").alias("weak"))
    )


def unit_names(names: list[str], n: int | None = None, shown: int = 3) -> str:
    """'县公安局' / '县公安局、县民政局' / '县公安局、县民政局、县财政局等5个单位': 等…个单位 only when
    some units are left unnamed."""
    n = len(names) if n is None else n
    head = "、".join(names[:shown])
    return head if n <= min(shown, len(names)) else f"{head}等{n}个单位"


def _office_paragraph(facts, as_of: dt.date, card: pl.DataFrame, points: pl.DataFrame,
                      assignments: pl.DataFrame | None = None) -> list[str]:
    """The office's own results: its composite, initial-review timeliness and its own assignments.
    The office signs the bulletin, so it is reported here and never in 表扬/约谈."""
    from metrics.registry import office_unit_id
    from metrics.requests import step_plan
    from metrics.tasks import assignment_status

    office = office_unit_id(facts)
    row = card.filter(pl.col("unit_id") == office) if office is not None else card.clear()
    if row.is_empty():
        return ["本月没有领导小组办公室的考评数据。"]
    r = row.row(0, named=True)
    parts = [f"{r['unit']}综合得分{_score(r['composite'])}分"
             + (f"，等次{r['grade']}（{r['unit_kind']}第{r['rank']}名）" if r["grade"] else "")]
    review = step_plan(facts, as_of).filter(pl.col("step") == "review").collect()
    counts = dict(review.group_by("status").len().rows())
    judged = counts.get("on_time", 0) + counts.get("late", 0) + counts.get("overdue", 0)
    if judged:
        rate = r.get("review_ontime_rate")
        rate_text = "—" if rate is None else f"{float(rate) * 100:.2f}%"
        parts.append(f"初审按时率{rate_text}（按时{counts.get('on_time', 0)}件、超时办结{counts.get('late', 0)}件、"
                     f"逾期未审{counts.get('overdue', 0)}件）")
    else:
        parts.append("本月没有到期的共享申请初审")
    assignments = assignment_status(facts, as_of) if assignments is None else assignments
    own = assignments.filter(pl.col("unit_id") == office)
    if own.height:
        status = dict(own.group_by("status").len().rows())
        done = status.get("按期完成", 0) + status.get("逾期完成", 0)
        red = own.filter(pl.col("light") == "red").sort("task_no")["task_no"].to_list()
        text = f"承担分工任务{own.height}项，已完成{done}项（按期{status.get('按期完成', 0)}项）"
        text += f"，红灯{len(red)}项（任务{'、'.join(str(t) for t in red)}）" if red else "，无红灯任务"
        parts.append(text)
    weak = _weak_points(points, row)
    if weak.height:
        parts.append("主要失分项：" + weak["weak"][0])
    return ["；".join(parts) + "。",
            "领导小组办公室是本通报的发文单位，按回避原则不列入表扬和约谈建议，以上情况报领导小组审阅。"]


def bulletin_text(facts, month: str, *, card: pl.DataFrame | None = None, prev: pl.DataFrame | None = None,
                  points: pl.DataFrame | None = None, milestones: pl.DataFrame | None = None,
                  assignments: pl.DataFrame | None = None) -> str:
    """The 通报 draft for `month` ('YYYY-MM'), judged as of the month's last day.

    `card` (the month's scorecard), `prev` (unit_id, composite of the previous month end) and
    `points` (metrics.points) default to a computation from `facts`; the data layer passes the
    frozen figures of published months instead. `milestones` (metrics.milestones.milestone_status)
    and `assignments` (metrics.tasks.assignment_status) at the month's end default to a
    computation too; the data layer passes those its snapshot already holds."""
    from metrics.milestones import milestone_status
    from metrics.monthly import month_bounds
    from metrics.points import unit_points
    from metrics.scorecard import scorecard
    from metrics.trend import previous_month_end

    _first, as_of = month_bounds(month)
    card = scorecard(facts, as_of) if card is None else card
    prev = scorecard(facts, previous_month_end(as_of)) if prev is None else prev
    points = unit_points(facts, as_of) if points is None else points
    lines: list[str] = [f"关于{cn_month(month)}全县政务数据共享工作情况的通报（征求意见稿）", ""]

    # 一、总体进展
    lines.append("一、总体进展")
    scored = card.filter(pl.col("composite").is_not_null())
    mean_now = scored["composite"].mean() if scored.height else None
    prev_scores = prev.filter(pl.col("composite").is_not_null())["composite"]
    mean_prev = prev_scores.mean() if len(prev_scores) else None
    grades = dict(card.group_by("grade").len().rows())
    grade_names = [g for g, _ in setting(facts, "grades")] + [setting(facts, "fail_grade")]
    grade_text = "、".join(f"{g}{grades.get(g, 0)}个" for g in grade_names)
    sentence = f"截至{cn_date(as_of)}，全县参与考评的单位共{card.height}个，平均综合得分{_score(mean_now)}分"
    if mean_now is not None and mean_prev is not None:
        diff = round(mean_now - mean_prev, 2)
        trend = "持平" if diff == 0 else (f"提高{diff:.2f}分" if diff > 0 else f"下降{-diff:.2f}分")
        sentence += f"，较上月（{_score(mean_prev)}分）{trend}"
    lines.append(sentence + f"；其中{grade_text}。")
    stones = milestone_status(facts, as_of) if milestones is None else milestones
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
    min_units = int(setting(facts, "praise_min_units"))
    sizes = dict(card.filter(pl.col("composite").is_not_null()).group_by("unit_kind").len().rows())
    small = [k for k in UNIT_KINDS if 0 < sizes.get(k, 0) < min_units]
    if small:
        lines.append(f"{'、'.join(small)}参与考评的单位不足{min_units}个，排名不作为表扬依据。")
    lines.append("")

    # 三、需要加强的单位
    lines.append("三、需要加强的单位")
    fail = setting(facts, "fail_grade")
    laggards = card.filter(pl.col("suggestion") == "约谈")
    if laggards.height:
        weak = _weak_points(points, laggards)
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

    # 四、领导小组办公室自身工作情况
    lines.append("四、领导小组办公室自身工作情况")
    lines.extend(_office_paragraph(facts, as_of, card, points, assignments))
    lines.append("")

    # 五、逾期事项
    lines.append("五、逾期事项")
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
        per_task = tasks.group_by("ref", "what", maintain_order=True).agg(pl.col("unit"))
        texts = [f"任务{ref}「{what}」（{unit_names(units)}）" for ref, what, units in per_task.rows()]
        lines.append(f"逾期未完成的任务{tasks.height}项次：" + "；".join(texts) + "。")
    else:
        lines.append("没有逾期未完成的任务。")
    lines.append("")

    # 六、下月工作要求
    lines.append("六、下月工作要求")
    asks: list[str] = []
    unmet = stones.filter((pl.col("status") == "未达成") & (pl.col("units_missing") > 0))
    for code, title, missing in unmet.select("code", "title", "units_missing").rows():
        asks.append(f"{code}「{title}」尚有{missing}个单位未达标，相关单位须于下月底前补齐缺项")
    if steps.height:
        by_unit = steps.group_by("unit").len().sort("len", "unit", descending=[True, False])["unit"].to_list()
        asks.append(f"{unit_names(by_unit)}须尽快办结逾期的共享申请，严格执行收到申请后3个工作日内初审、"
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
