"""Scoped read functions for the pages: every one takes the asking Scope first.

管理员 and 领导 see everything. A 单位 scope gets the county ranking (unit, kind, composite, grade,
rank, change) and its own unit's detail only: a function asked for another unit_id raises
PermissionDenied, and lists come back filtered to the own unit, whatever the page passes. Person
names and phone numbers of other units are masked for 单位 (王*, 138****0001).

Numbers come from the KPI engine (metrics/) through data.services.snapshot: the expensive engine results
are computed once per (database file, data version, as-of date) and shared by every view, page
and session, in one cache bounded by size; trends read the month-end history kept there.
Streamlit caching stays at the page edge (ui/cache.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import polars as pl

from data.services.months import overlay_frozen
from data.services.snapshot import cached, month_end_history, snapshot
from data.storage.calendar import covered_years
from data.storage.db import Database
from data.storage.facts import load_facts
from data.storage.scope import PermissionDenied, Scope
from metrics import catalog as m_catalog
from metrics import infra as m_infra
from metrics import requests as m_requests
from metrics import scorecard as m_scorecard
from metrics.registry import KPIS, formula_settings, formula_texts

RANKING_COLUMNS = ["unit_id", "unit", "unit_kind", "composite", "grade", "rank"]

def _engine(db: Database, as_of: dt.date, name: str, fn: Callable) -> pl.DataFrame:
    """fn(facts, as_of), computed once per (file, data version, as-of date) in the shared,
    size-bounded cache of data.services.snapshot."""
    return cached(db, ("view", as_of, name), lambda facts: fn(facts, as_of))


def _indicators(db: Database, as_of: dt.date) -> pl.DataFrame:
    return snapshot(db, as_of).indicators


def _scorecard(db: Database, as_of: dt.date) -> pl.DataFrame:
    return snapshot(db, as_of).scorecard


def _assignments(db: Database, as_of: dt.date) -> pl.DataFrame:
    return snapshot(db, as_of).assignments


def _steps(db: Database, as_of: dt.date) -> pl.DataFrame:
    return snapshot(db, as_of).steps


def _own(scope: Scope, frame: pl.DataFrame, *cols: str) -> pl.DataFrame:
    """All rows for 管理员/领导; for 单位 the rows where any of `cols` is its unit."""
    if scope.sees_all:
        return frame
    cols = cols or ("unit_id",)
    return frame.filter(pl.any_horizontal([pl.col(c) == scope.unit_id for c in cols]))


def _require_overview(scope: Scope) -> None:
    if not scope.sees_all:
        raise PermissionDenied("全县总览仅限领导和领导小组办公室查看。")


def _names(db: Database) -> pl.DataFrame:
    return load_facts(db).units.select(
        pl.col("unit_id").cast(pl.Int64), pl.col("name").alias("unit"), pl.col("kind").alias("unit_kind")
    )


def _with_name(frame: pl.DataFrame, db: Database, col: str = "unit_id", alias: str = "unit") -> pl.DataFrame:
    names = _names(db).select(pl.col("unit_id").alias(col), pl.col("unit").alias(alias))
    return frame.with_columns(pl.col(col).cast(pl.Int64)).join(names, on=col, how="left")


# -- masking -----------------------------------------------------------------------------------

def mask_name(expr: pl.Expr) -> pl.Expr:
    """王小明 -> 王*: the family name stays, the rest becomes one star."""
    return pl.when(expr.is_null()).then(expr).otherwise(pl.concat_str(expr.str.slice(0, 1), pl.lit("*")))


def mask_phone(expr: pl.Expr) -> pl.Expr:
    """13800000001 -> 138****0001; shorter numbers keep only their last 4 digits."""
    n = expr.str.len_chars()
    return (
        pl.when(expr.is_null()).then(expr)
        .when(n >= 11).then(pl.concat_str(expr.str.slice(0, 3), pl.lit("****"), expr.str.slice(-4)))
        .otherwise(pl.concat_str(pl.lit("****"), expr.str.slice(-4)))
    )


# -- sidebar facts -----------------------------------------------------------------------------

def demo_info(db: Database) -> dict | None:
    """What the demo generator left in meta['demo'] (a JSON object or text), None without demo data."""
    from data.services.demo import demo_info as read_demo_info

    return read_demo_info(db)


def calendar_covered(db: Database, as_of: dt.date) -> bool:
    return as_of.year in covered_years(db)


# -- units and ranking -------------------------------------------------------------------------

def unit_list(scope: Scope, db: Database) -> pl.DataFrame:
    """Every unit's id, name and kind (names are public: the ranking shows them all)."""
    return _names(db)


def visible_units(scope: Scope, db: Database) -> pl.DataFrame:
    """The units whose detail this scope may open."""
    return _own(scope, _names(db))


def ranking(scope: Scope, db: Database, as_of: dt.date) -> pl.DataFrame:
    """The county ranking with the change of composite and rank since the previous month end.
    Everyone gets every unit; 管理员/领导 also get red_lights and suggestion."""
    board = _board(db, as_of)
    change = _engine(db, as_of, "change", lambda f, d: _change(f, d, db))
    cols = RANKING_COLUMNS + ([] if not scope.sees_all else ["red_lights", "suggestion"])
    return board.select(cols).join(change, on="unit_id", how="left")


def _board(db: Database, as_of: dt.date) -> pl.DataFrame:
    """The scorecard as of D, frozen when D is the last day of a published month."""
    from data.services.months import scorecard_at

    return _engine(db, as_of, "board", lambda f, d: scorecard_at(db, d, lambda: _scorecard(db, d)))


def scorecard_workbook(scope: Scope, db: Database, as_of: dt.date) -> bytes:
    """The printable scorecard of every unit (.xlsx). Every unit's every indicator is in it, so
    only 管理员/领导 may have it; a 单位 reads its own detail on the page."""
    _require_overview(scope)
    from reports.excel import scorecard_workbook as build

    return build(_board(db, as_of), as_of, points=_unit_points(db, as_of))


def _change(facts, as_of: dt.date, db: Database | None = None) -> pl.DataFrame:
    """Change of composite and rank since the previous month end; with `db`, either end that is
    the last day of a published month reads its frozen scorecard."""
    from metrics.trend import change_since_last_month, previous_month_end

    if db is None:
        frame = change_since_last_month(facts, as_of)
    else:
        prev_end = previous_month_end(as_of)
        now = _board(db, as_of).select(pl.col("unit_id").cast(pl.Int64), "composite", "rank")
        prev = _board(db, prev_end).select(pl.col("unit_id").cast(pl.Int64), pl.col("composite").alias("_cp"),
                                           pl.col("rank").alias("_rp"))
        frame = now.join(prev, on="unit_id", how="left").with_columns(
            composite_change=pl.col("composite") - pl.col("_cp"), rank_change=pl.col("_rp") - pl.col("rank"))
    wanted = [c for c in ("composite_change", "rank_change") if c in frame.columns]
    return frame.select(pl.col("unit_id").cast(pl.Int64), *wanted)


def unit_scorecard(scope: Scope, db: Database, as_of: dt.date, unit_id: int) -> dict:
    """One unit's scorecard row (every indicator, composite, grade, rank, details) as a dict.

    On the last day of a published month the figures are the frozen ones: `frozen_month` names
    the month and `differences` lists what a recomputation would change for this unit (label,
    old, new); otherwise `frozen_month` is None and `differences` empty."""
    from data.services.months import is_published, month_of_end
    from data.services.publish import diff_published

    scope.require_unit(unit_id)
    board = _board(db, as_of).filter(pl.col("unit_id") == int(unit_id))
    detail = _indicators(db, as_of).filter(pl.col("unit_id") == int(unit_id))
    if board.is_empty():
        raise PermissionDenied("没有这个单位。")
    row = {**detail.row(0, named=True), **board.row(0, named=True), "frozen_month": None, "differences": []}
    month = month_of_end(as_of)
    if month and is_published(db, month):
        diff = _engine(db, as_of, "published_diff", lambda f, d: diff_published(db, month, _scorecard(db, d)))
        frozen_points = _unit_points(db, as_of).filter(pl.col("unit_id") == int(unit_id))
        # n/a-ness and values of the indicators outside the scorecard columns come from the frozen points too
        for code, value in frozen_points.select("code", "value").rows():
            if code not in board.columns:
                row[code] = value
        row["frozen_month"] = month
        row["differences"] = diff.filter(pl.col("unit_id") == int(unit_id)).select("label", "old", "new").rows(
            named=True)
    return row


def indicator_rows(scope: Scope, db: Database, as_of: dt.date, unit_id: int) -> pl.DataFrame:
    """One row per indicator of the unit: code, label, unit, value (null = n/a), weight, formula,
    and its points (得分明细): score, eff_weight, earned, lost, applicable."""
    row = unit_scorecard(scope, db, as_of, unit_id)
    weights = m_scorecard.weights_of(load_facts(db))
    pts = _unit_points(db, as_of).filter(pl.col("unit_id") == int(unit_id))
    by_code = {r["code"]: r for r in pts.rows(named=True)}
    empty: dict = {}
    return pl.DataFrame(
        {
            "code": [k.code for k in KPIS],
            "label": [k.label for k in KPIS],
            "kind": [k.kind for k in KPIS],
            "value": [None if row.get(k.code) is None else float(row[k.code]) for k in KPIS],
            "weight": [float(weights.get(k.code, 0)) for k in KPIS],
            "formula": formula_texts(KPIS, formula_settings(load_facts(db), as_of)),
            "na_rule": [k.na_rule for k in KPIS],
            **{c: [by_code.get(k.code, empty).get(c) for k in KPIS]
               for c in ("score", "eff_weight", "earned", "lost")},
            "applicable": [bool(by_code.get(k.code, empty).get("applicable")) for k in KPIS],
        },
        schema={"code": pl.String, "label": pl.String, "kind": pl.String, "value": pl.Float64,
                "weight": pl.Float64, "formula": pl.String, "na_rule": pl.String, "score": pl.Float64,
                "eff_weight": pl.Float64, "earned": pl.Float64, "lost": pl.Float64, "applicable": pl.Boolean},
    )


def _unit_points(db: Database, as_of: dt.date) -> pl.DataFrame:
    """Points per indicator of every unit as of D (metrics.points); frozen when D is the last day
    of a published month."""
    from data.services.months import points_at

    return _engine(db, as_of, "points", lambda f, d: points_at(db, d, lambda: snapshot(db, d).points))


def rows_behind(scope: Scope, db: Database, as_of: dt.date, unit_id: int, code: str) -> pl.DataFrame:
    scope.require_unit(unit_id)
    from metrics.trace import rows_behind as _rows_behind

    return _rows_behind(load_facts(db), as_of, int(unit_id), code)


def unit_trend(scope: Scope, db: Database, as_of: dt.date, unit_id: int, months: int = 12) -> pl.DataFrame:
    """Month-end composite (and KPIs) of one unit over the last `months` months."""
    scope.require_unit(unit_id)
    return overlay_frozen(db, _trend(db, as_of, months)).filter(pl.col("unit_id") == int(unit_id))


def _trend(db: Database, as_of: dt.date, months: int) -> pl.DataFrame:
    """Every unit's month-end scorecards (the costly part of both trends): read from the month-end
    history, so a new date computes only the months not yet computed at this data version."""
    return month_end_history(db, as_of, months)


def county_trend(scope: Scope, db: Database, as_of: dt.date, months: int = 12) -> pl.DataFrame:
    _require_overview(scope)
    from metrics.trend import county_trend as _county_trend

    trend = overlay_frozen(db, _trend(db, as_of, months))
    return _engine(db, as_of, f"county{months}", lambda f, d: _county_trend(f, d, months=months, trend=trend))


def milestones(scope: Scope, db: Database, as_of: dt.date) -> pl.DataFrame:
    """Per milestone: status (已达成/未达成/未到期), units_applicable, units_meeting, units_missing..."""
    _require_overview(scope)
    return snapshot(db, as_of).milestone_status


def milestone_criteria(scope: Scope, db: Database, as_of: dt.date) -> pl.DataFrame:
    """Per criterion in force at D: code, label (达标线), applicable (N), meeting (n), share, failing."""
    _require_overview(scope)
    return snapshot(db, as_of).milestone_criteria


# -- tasks -------------------------------------------------------------------------------------

def task_list(scope: Scope, db: Database) -> pl.DataFrame:
    """The 15 tasks of annex 2 (public: the plan itself)."""
    return load_facts(db).tasks


def assignment_lights(scope: Scope, db: Database, as_of: dt.date) -> pl.DataFrame:
    """Each assignment's status and light as of D with unit name/kind and task title; 单位: own.
    Units with the most red lights come first (then yellow), so a cut-off list shows the laggards."""
    from data.services.supervision import with_extension_mark

    tasks = load_facts(db).tasks.select("task_no", "title", "deadline_text")
    frame = _with_name(_own(scope, _assignments(db, as_of)), db).join(tasks, on="task_no", how="left")
    frame = with_extension_mark(frame, load_facts(db), as_of)  # 已延期（原时限…） or null
    kinds = _names(db).select("unit_id", "unit_kind")
    return (
        frame.join(kinds, on="unit_id", how="left")
        .with_columns(
            _red=(pl.col("light") == "red").sum().over("unit_id"),
            _yellow=(pl.col("light") == "yellow").sum().over("unit_id"),
        )
        .sort(["_red", "_yellow", "unit_id", "task_no"], descending=[True, True, False, False])
        .drop("_red", "_yellow")
    )


def report_history(scope: Scope, db: Database, as_of: dt.date, task_no: int | None = None,
                   pending_only: bool = False) -> pl.DataFrame:
    """Progress reports dated ≤ D (verified or waiting), newest first; 单位: its own only."""
    where, params = ["reported_on <= ?"], [as_of]
    if task_no is not None:
        where.append("task_no = ?")
        params.append(int(task_no))
    if pending_only:
        where.append("NOT verified")
    if not scope.sees_all:
        where.append("unit_id = ?")
        params.append(scope.unit_id)
    frame = db.frame(
        "SELECT task_no, unit_id, reported_on, status, percent, completed_on, note, submitted_by, verified, "
        "verified_by FROM progress_reports WHERE " + " AND ".join(where) + " ORDER BY reported_on DESC, unit_id",
        params,
    )
    return _with_name(frame, db)


# -- requests ----------------------------------------------------------------------------------

def request_steps(scope: Scope, db: Database, as_of: dt.date) -> pl.DataFrame:
    """Every review/reply step as of D with requester/provider names; 单位: steps of its own
    requests (as requester or provider)."""
    steps = _own(scope, _steps(db, as_of), "requester_id", "provider_id", "responsible_id")
    steps = _with_name(steps, db, "requester_id", "requester")
    return _with_name(steps, db, "provider_id", "provider")


def step_rates(steps: pl.DataFrame, by: str | None = None) -> pl.DataFrame:
    """On-time rate of judged steps (pending left out; overdue count as failures), per `by`."""
    judged = steps.filter(pl.col("status") != "pending")
    aggs = [
        pl.len().alias("judged"),
        (pl.col("status") == "on_time").sum().alias("on_time"),
        (pl.col("status") == "late").sum().alias("late"),
        (pl.col("status") == "overdue").sum().alias("overdue"),
    ]
    out = judged.group_by(by).agg(aggs) if by else judged.select(aggs)
    return out.with_columns(rate=pl.when(pl.col("judged") > 0).then(pl.col("on_time") / pl.col("judged")))


def _count_rates(counts: pl.DataFrame, by: str | None = None) -> pl.DataFrame:
    """step_rates over the step counts of data.services.snapshot (step, provider_id, status, n): the same
    figures without keeping the steps themselves."""
    judged = counts.filter(pl.col("status") != "pending")

    def of(status: str) -> pl.Expr:
        return pl.col("n").filter(pl.col("status") == status).sum().cast(pl.UInt32)

    aggs = [pl.col("n").sum().cast(pl.UInt32).alias("judged"),
            of("on_time").alias("on_time"), of("late").alias("late"), of("overdue").alias("overdue")]
    out = judged.group_by(by).agg(aggs) if by else judged.select(aggs)
    return out.with_columns(rate=pl.when(pl.col("judged") > 0).then(pl.col("on_time") / pl.col("judged")))


def refusals_lacking(scope: Scope, db: Database, as_of: dt.date) -> pl.DataFrame:
    """Refusals replied by D that lack a legal basis or a reason; 单位: own."""
    frame = _own(scope, m_requests.refusals(load_facts(db), as_of), "requester_id", "provider_id")
    frame = frame.filter(~pl.col("complete"))
    frame = _with_name(frame, db, "requester_id", "requester")
    return _with_name(frame, db, "provider_id", "provider")


def warning_list(scope: Scope, db: Database, as_of: dt.date) -> pl.DataFrame:
    """Open steps falling due within the warning window (预警); 单位: own."""
    frame = _own(scope, snapshot(db, as_of).warnings, "requester_id", "provider_id")
    frame = _with_name(frame, db, "requester_id", "requester")
    return _with_name(frame, db, "provider_id", "provider")


def month_rates(scope: Scope, db: Database, month: str, as_of: dt.date | None = None) -> pl.DataFrame:
    """The monthly view: rates over steps whose deadline falls in `month` (YYYY-MM), judged at the
    month's end or at D when D falls inside the month (facts after D invisible, steps due after D
    pending); 单位: own."""
    from metrics.monthly import month_rates as _month_rates

    frame = _month_rates(load_facts(db), month, as_of)
    return frame if "unit_id" not in frame.columns else _own(scope, frame)


# -- catalog, demands, infrastructure ----------------------------------------------------------

def unit_indicators(scope: Scope, db: Database, as_of: dt.date) -> pl.DataFrame:
    """Every indicator and its detail columns per unit (scorecard.indicators); 单位: own row."""
    return _own(scope, _indicators(db, as_of))


def catalog_items(scope: Scope, db: Database, as_of: dt.date) -> pl.DataFrame:
    """Catalog items published by D with the flags the rates count; 单位: own."""
    return _with_name(_own(scope, m_catalog.catalog_items_as_of(load_facts(db), as_of)), db)


def share_mix(scope: Scope, db: Database, as_of: dt.date) -> pl.DataFrame:
    """Items per unit and share type as of D: unit_id, unit, share_type, items."""
    items = catalog_items(scope, db, as_of)
    return items.group_by("unit_id", "unit", "share_type").agg(pl.len().alias("items")).sort("unit_id")


def demand_rows(scope: Scope, db: Database, as_of: dt.date) -> pl.DataFrame:
    """Demands raised by D with `matched`; a match dated after D is not shown. 单位: own."""
    frame = _own(scope, m_catalog.demand_rows(load_facts(db), as_of)).with_columns(
        matched_on=pl.when(pl.col("matched")).then(pl.col("matched_on"))
    )
    return _with_name(frame, db)


def village_coverage(scope: Scope, db: Database, as_of: dt.date) -> pl.DataFrame:
    """Latest village count ≤ D per township with its rate; 单位: own township."""
    frame = _own(scope, m_infra.coverage_rows(load_facts(db), as_of))
    frame = frame.with_columns(
        coverage_rate=pl.when(pl.col("villages") > 0).then(pl.col("connected") / pl.col("villages"))
    )
    return _with_name(frame, db).select("unit_id", "unit", "counted_on", "villages", "connected", "coverage_rate")


def systems(scope: Scope, db: Database, as_of: dt.date) -> pl.DataFrame:
    return _with_name(_own(scope, m_infra.system_rows(load_facts(db), as_of)), db)


def networks(scope: Scope, db: Database, as_of: dt.date) -> pl.DataFrame:
    return _with_name(_own(scope, m_infra.network_rows(load_facts(db), as_of)), db)


def contacts(scope: Scope, db: Database, as_of: dt.date) -> pl.DataFrame:
    """Named contacts (分管领导/经办人) dated ≤ D of every unit; other units' names and phones are
    masked for 单位."""
    frame = load_facts(db).contacts.filter(pl.col("named_on") <= as_of).with_columns(
        pl.col("unit_id").cast(pl.Int64)
    )
    if not scope.sees_all:
        other = pl.col("unit_id") != scope.unit_id
        frame = frame.with_columns(
            name=pl.when(other).then(mask_name(pl.col("name"))).otherwise(pl.col("name")),
            phone=pl.when(other).then(mask_phone(pl.col("phone"))).otherwise(pl.col("phone")),
        )
    return _with_name(frame.rename({"name": "person"}), db).sort("unit_id", "role")


# -- overview (管理员/领导) ----------------------------------------------------------------------

def milestone_gaps(scope: Scope, db: Database, as_of: dt.date) -> pl.DataFrame:
    """What is still missing, per milestone and unit: code, unit_id, unit, item, detail (the unit's
    value or the task's status), criterion, label (the 达标线), value."""
    _require_overview(scope)
    return snapshot(db, as_of).milestone_gaps


def best_worst(scope: Scope, db: Database, as_of: dt.date, n: int = 3) -> pl.DataFrame:
    """The n best and n worst scored units of each kind: unit_kind, side (最好/最差), unit,
    composite, grade, rank."""
    _require_overview(scope)
    scored = _scorecard(db, as_of).filter(pl.col("composite").is_not_null())
    best = scored.sort("composite", descending=True).group_by("unit_kind", maintain_order=True).head(n)
    worst = scored.sort("composite").group_by("unit_kind", maintain_order=True).head(n)
    cols = ["unit_kind", "side", "unit", "composite", "grade", "rank"]
    return pl.concat([
        best.with_columns(side=pl.lit("最好")).select(cols),
        worst.with_columns(side=pl.lit("最差")).select(cols),
    ])


def month_to_date(as_of: dt.date) -> tuple[dt.date, dt.date, dt.date, dt.date, bool]:
    """(first, last) of the month of D up to D and the previous month's same days, and whether the
    month is still running at D (本月至今). The same days are clamped to the previous month's
    length: 3月30日 or 3月31日 compare with the whole of February (28 or 29 days). At a month's last
    day the month is over and compares with the whole previous month."""
    from metrics.trend import month_end, previous_month_end

    prev_end = previous_month_end(as_of)
    prev_first = prev_end.replace(day=1)
    partial = as_of != month_end(as_of)
    prev_upto = min(prev_first + dt.timedelta(days=as_of.day - 1), prev_end) if partial else prev_end
    return as_of.replace(day=1), as_of, prev_first, prev_upto, partial


def _days_text(first: dt.date, last: dt.date) -> str:
    return f"{first.month}月{first.day}日" + ("" if last == first else f"—{last.day}日")


def headline(scope: Scope, db: Database, as_of: dt.date) -> list[dict]:
    """The leaders' headline figures: label, kind ('count'|'rate'), value, previous, change
    (value − previous; None when either is missing), help (what the change compares with) and versus
    (a word for the delta when it is not the previous month end: 较上月同期 / 较上月).
    Stock figures compare D with the previous month end; the requests received in the month compare
    本月至今 with the same days of the previous month while the month is running at D."""
    _require_overview(scope)
    from metrics.trend import previous_month_end

    prev = previous_month_end(as_of)
    facts = load_facts(db)
    first, upto, prev_first, prev_upto, partial = month_to_date(as_of)

    def received(lo: dt.date, hi: dt.date) -> int:
        return facts.requests.filter(pl.col("received_on").is_between(pl.lit(lo), pl.lit(hi))).height

    def figures(day: dt.date) -> dict[str, tuple[str, float | int | None]]:
        snap = snapshot(db, day)
        board = snap.scorecard
        items = snap.catalog_counts
        counts = snap.step_counts
        review = _count_rates(counts.filter(pl.col("step") == "review"))["rate"][0]
        reply = _count_rates(counts.filter(pl.col("step") == "reply"))["rate"][0]
        return {
            "已明确分管领导和经办人的单位": ("count", int(board["contacts_named"].fill_null(0).sum())),
            "已发布目录（条）": ("count", items["published"]),
            "已挂接目录（条）": ("count", items["mounted"]),
            "初审按时率（全县）": ("rate", review),
            "答复按时率（全县）": ("rate", reply),
            "红灯任务（个）": ("count", int(board["red_lights"].sum())),
        }

    now, before = figures(as_of), figures(prev)
    since = f"较上月末（{prev.month}月{prev.day}日）"
    out = []
    for label, (kind, value) in now.items():
        previous = before[label][1]
        change = None if value is None or previous is None else value - previous
        out.append({"label": label, "kind": kind, "value": value, "previous": previous, "change": change,
                    "help": since, "versus": None})
    count, count_prev = received(first, upto), received(prev_first, prev_upto)
    if partial:
        label, versus = f"本月至今收到申请（{_days_text(first, upto)}）", "较上月同期"
        note = f"本月至今（{_days_text(first, upto)}）收到共享申请{count}件，上月同期（{_days_text(prev_first, prev_upto)}）{count_prev}件"
    else:
        label, versus = "本月收到共享申请（件）", "较上月"
        note = f"较上月（{prev.month}月）{count_prev}件"
    out.insert(3, {"label": label, "kind": "count", "value": count, "previous": count_prev,
                   "change": count - count_prev, "help": note, "versus": versus})
    return out


def task_timeline(scope: Scope, db: Database, as_of: dt.date) -> pl.DataFrame:
    """Per task: task_no, title, deadline_text, due_date and its worst light over the assignments
    this scope sees (red over yellow over green); tasks it has no part in are left out."""
    order = pl.col("light").replace_strict({"red": 0, "yellow": 1, "green": 2}, default=3, return_dtype=pl.Int8)
    lights = assignment_lights(scope, db, as_of).sort(order).group_by("task_no", maintain_order=True).agg(
        pl.col("light").first()
    )
    tasks = load_facts(db).tasks.select("task_no", "title", "deadline_text", "due_date")
    return tasks.join(lights, on="task_no", how="inner").sort("task_no")


def county_request_rates(scope: Scope, db: Database, as_of: dt.date) -> pl.DataFrame:
    """County-wide on-time rates per step ('review', 'reply'): judged, on_time, late, overdue, rate.
    Aggregates of every unit, which every role may read."""
    rates = _count_rates(snapshot(db, as_of).step_counts, "step")
    steps = pl.DataFrame({"step": ["review", "reply"]})
    return steps.join(rates, on="step", how="left").with_columns(
        pl.col("judged", "on_time", "late", "overdue").fill_null(0)
    )


def provider_rates(scope: Scope, db: Database, as_of: dt.date) -> pl.DataFrame:
    """Reply on-time rate per providing unit (unit_id, unit, unit_kind, judged, on_time, late,
    overdue, rate); 单位: its own row."""
    reply = _own(scope, snapshot(db, as_of).step_counts, "provider_id").filter(pl.col("step") == "reply")
    rates = _count_rates(reply, "provider_id").rename({"provider_id": "unit_id"})
    return _with_name(rates, db).join(_names(db).select("unit_id", "unit_kind"), on="unit_id", how="left").sort(
        "rate", "unit_id", nulls_last=True)


def overdue_steps(scope: Scope, db: Database, as_of: dt.date) -> pl.DataFrame:
    """Steps not done by D after their deadline, most overdue first; 单位: own requests."""
    return request_steps(scope, db, as_of).filter(pl.col("status") == "overdue").sort(
        "workdays_overdue", "code", descending=[True, False])


def request_months(scope: Scope, db: Database, as_of: dt.date) -> list[str]:
    """'YYYY-MM' from the plan's start month to the month of D, newest first."""
    from metrics.registry import setting

    start = str(setting(load_facts(db), "plan_start_month"))
    months = pl.date_range(dt.date.fromisoformat(start + "-01"), as_of, "1mo", eager=True)
    return months.dt.strftime("%Y-%m").reverse().to_list()


CATALOG_RATES = ["catalog_metadata_rate", "catalog_mounted_rate", "catalog_fresh_rate", "share_rate",
                 "nonshare_basis_rate", "demand_matched_rate"]
SHARE_TYPES = ["无条件共享", "有条件共享", "不予共享"]


def catalog_by_unit(scope: Scope, db: Database, as_of: dt.date) -> pl.DataFrame:
    """Per unit: items by share type and in total, first publication and whether it met the
    deadline (按期/逾期), and the catalog rates; 单位: own row."""
    ind = unit_indicators(scope, db, as_of).select(
        "unit_id", "unit", "unit_kind", "catalog_first_published_on", "catalog_on_time", *CATALOG_RATES)
    mix = share_mix(scope, db, as_of)
    wide = (
        mix.pivot(on="share_type", index="unit_id", values="items", aggregate_function="sum")
        if mix.height else pl.DataFrame({"unit_id": []}, schema={"unit_id": pl.Int64})
    )
    wide = wide.with_columns([pl.lit(0, dtype=pl.UInt32).alias(t) for t in SHARE_TYPES if t not in wide.columns])
    return (
        ind.join(wide.select("unit_id", *SHARE_TYPES), on="unit_id", how="left")
        .with_columns(pl.col(SHARE_TYPES).fill_null(0).cast(pl.Int64))
        .with_columns(items=pl.sum_horizontal(SHARE_TYPES))
        .with_columns(catalog_on_time=pl.col("catalog_on_time").replace_strict(
            {True: "按期", False: "逾期"}, default=None, return_dtype=pl.String))
    )


def nonshare_items(scope: Scope, db: Database, as_of: dt.date) -> pl.DataFrame:
    """不予共享 items published by D with their basis (blank when missing); 单位: own."""
    return catalog_items(scope, db, as_of).filter(pl.col("nonshare")).select(
        "unit_id", "unit", "code", "name", "published_on", "nonshare_basis", "nonshare_with_basis"
    ).sort("nonshare_with_basis", "unit_id", "code")


INFRA_RATES = ["systems_registered_rate", "systems_connected_rate", "networks_migrated_rate", "security_rate",
               "quality_fix_rate"]


def infra_by_unit(scope: Scope, db: Database, as_of: dt.date) -> pl.DataFrame:
    """Per unit: contacts named (and when, 按期/逾期), systems, networks, security (未评估 when no
    assessment by D), quality score and fix rate; 单位: own row."""
    ind = unit_indicators(scope, db, as_of)
    return ind.select(
        "unit_id", "unit", "unit_kind",
        contacts=pl.when(pl.col("contacts_named") == 1).then(pl.lit("已明确")).otherwise(pl.lit("未明确")),
        contacts_named_on="contacts_named_on",
        contacts_on_time=pl.col("contacts_on_time").replace_strict(
            {True: "按期", False: "逾期"}, default=None, return_dtype=pl.String),
        **{c: c for c in INFRA_RATES},
        security_assessed=pl.when(pl.col("security_assessed")).then(pl.lit("已评估")).otherwise(pl.lit("未评估")),
        quality_score="quality_score",
    )


def previous_month_end(scope: Scope, db: Database, as_of: dt.date) -> dt.date:
    """The date month-over-month changes compare with."""
    from metrics.trend import previous_month_end as _previous

    return _previous(as_of)


# -- the supervision loop (data/services/supervision.py), reachable through ui.cache.view ------------------
from data.services.supervision import (  # noqa: E402,F401
    authorisations,
    commitments,
    extension_requests,
    inspection_list,
    interviews,
    notice_list,
    review_supervision,
    unit_extensions,
)
