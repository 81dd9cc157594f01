"""Deterministic demo data (演示数据) at county and province scale.

`generate_demo(db, scale, seed, multiplier, today)` fills the fact tables with invented but
plausible data from 2023-04 up to `today`, so every indicator of kpis.md and every page has
something real to show: exemplary units and laggards, late and overdue request steps, refusals
with and without a legal basis, unmounted and stale catalog items, overdue and completed tasks,
units without contacts, unconnected systems, township coverage growing over time.

Determinism: every random draw is a hash of (seed, salt, row key) computed by Polars
(`Expr.hash(seed)`), so the same seed gives the same rows (Polars guarantees the hash within one
version, and the version is pinned). Nothing loops over rows in Python: frames are built
set-wise (explode per-unit counts, cross joins with months, positional lookups on the
working-day index); the only Python loops run over counties (to name units), over chunks of
20 counties (requests) and over tables.

docs/demo-data.md explains every knob and every planted case.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator

import polars as pl

from data.storage.calendar import calendar_table, working_calendar
from data.storage.db import Database
from data.storage.plan import OFFICE, PLAN_UNITS, expand_assignments

DEMO_START = dt.date(2023, 4, 1)  # first request
PLAN_START = dt.date(2023, 5, 1)  # first progress report month
REQUESTS_PER_YEAR = 20_000  # per county
SCALES = {"county": 1, "province": 100}  # counties per multiplier unit
REQUEST_CHUNK_COUNTIES = 20  # requests are built and inserted this many counties at a time

# Seconds per phase of the last generate_demo call in this process (benchmarks print them).
LAST_TIMINGS: dict[str, float] = {}

# Fact tables the demo owns (emptied before a run and by clear_demo).
FACT_TABLES = [
    "contacts",
    "catalog_updates",  # before catalog_items: clearing demo rows finds the codes through it
    "catalog_items",
    "demands",
    "share_requests",
    "progress_reports",
    "systems",
    "networks",
    "security_assessments",
    "quality_checks",
    "village_coverage",
]

# Demo units added to every county: 15 townships and 9 county departments (visibly demo names).
TOWNSHIP_STEMS = [
    "一镇", "二镇", "三镇", "四镇", "五镇", "六镇", "七乡", "八乡", "九乡", "十乡",
    "十一乡", "十二乡", "东街道", "西街道", "南街道",
]
EXTRA_DEPT_STEMS = ["甲局", "乙局", "丙局", "丁局", "戊中心", "己中心", "庚办", "辛站", "壬所"]

CYCLE_DAYS = {"实时": 1, "每日": 1, "每周": 7, "每月": 31, "每季度": 92, "每半年": 183, "每年": 366}

RESOURCE_NOUNS = [
    "法人基本信息", "人口基础信息", "户籍登记信息", "婚姻登记信息", "社会保险参保信息", "医保缴费信息",
    "低保救助对象信息", "残疾人证信息", "不动产登记信息", "建设工程规划许可信息", "施工许可信息",
    "营业执照信息", "食品经营许可信息", "行政处罚信息", "企业信用信息", "纳税信用信息", "车辆登记信息",
    "驾驶人信息", "道路运输许可信息", "学籍信息", "教师资格信息", "医疗机构执业信息", "出生医学证明信息",
    "死亡医学证明信息", "疫苗接种信息", "公积金缴存信息", "水电气缴费信息", "公交刷卡统计信息",
    "林权登记信息", "耕地保护信息", "河湖长制巡查信息", "环境监测信息", "排污许可信息", "安全生产许可信息",
    "应急物资储备信息", "退役军人优抚信息", "殡葬服务信息", "养老机构信息", "文化市场经营许可信息",
    "旅游景区信息", "统计年报信息", "项目审批信息", "财政预算执行信息", "政府采购信息", "档案查询目录",
    "市场主体年报信息", "农业补贴发放信息", "村（社区）基本信息", "网格员信息", "用电户信息",
]
SYSTEM_NOUNS = [
    "业务管理系统", "审批服务系统", "综合办公系统", "数据采集系统", "监管执法系统", "统计分析平台",
    "档案管理系统", "视频监控平台", "公共服务平台", "协同办公平台",
]
NETWORK_NOUNS = ["业务专网", "视频专网", "应急指挥专网"]
PURPOSES = [
    "办理政务服务事项时核验申请人身份", "社会救助对象资格审核", "市场主体登记信息比对",
    "不动产登记业务协同办理", "医保参保资格核验", "学生入学资格审核", "企业信用监管",
    "安全生产监督检查", "人口统计分析", "惠农补贴发放核对", "退役军人优待证办理", "住房保障资格审核",
]
LEGAL_BASES = [
    "《中华人民共和国个人信息保护法》", "《中华人民共和国数据安全法》",
    "《中华人民共和国保守国家秘密法》", "《中华人民共和国统计法》", "本单位数据分级分类管理办法",
]
REFUSAL_REASONS = [
    "申请事项涉及个人敏感信息，超出申请单位职责范围", "申请用途与所申请数据不相关",
    "该数据属于工作秘密，不宜共享", "申请的数据项超出最小必要范围", "数据尚在核实，暂不具备共享条件",
]
SHARE_CONDITIONS = [
    "仅限政务服务事项办理使用，需经提供单位审核", "按需调用接口核验，不批量下载",
    "限于申请用途和使用期限内使用", "需签订数据安全保密协议",
]
NONSHARE_BASES = [
    "依据《中华人民共和国保守国家秘密法》，涉及国家秘密",
    "依据《中华人民共和国个人信息保护法》，涉及个人敏感信息",
    "依据上级主管部门规定，不得对外提供",
]
SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘")
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建文斌宇浩凯鹏鑫晨欣")
REPORT_NOTES = [
    "按计划推进，本月完成阶段性工作", "已召开专题会议部署", "正在梳理数据资源", "已完成需求调研",
    "与县大数据发展中心对接中", "相关制度正在起草",
]


class DemoRefusedError(RuntimeError):
    """The database holds facts that are not demo data; generating would overwrite them."""

    def __init__(self) -> None:
        super().__init__(
            "数据库中已有非演示数据（导入的真实数据），生成演示数据会将其覆盖；如确需覆盖，请使用 force=True。 / "
            "The database holds real (imported) data that demo data would replace; pass force=True to do so."
        )


# -- randomness ------------------------------------------------------------------------------


class _Rng:
    """Hash-based draws: the same (seed, salt, key) always gives the same value."""

    _M = 2_147_483_647

    def __init__(self, seed: int):
        self.seed = seed

    def _h(self, salt: int, key: str) -> pl.Expr:
        return (pl.col(key).cast(pl.UInt64).hash(self.seed * 1_000_003 + salt * 7_919 + 11) % self._M).cast(
            pl.Int64
        )

    def u(self, salt: int, key: str = "_i") -> pl.Expr:
        """Uniform in [0, 1)."""
        return self._h(salt, key).cast(pl.Float64) / self._M

    def k(self, salt: int, n: int | pl.Expr, key: str = "_i") -> pl.Expr:
        """Integer in [0, n)."""
        return self._h(salt, key) % n


def _pick(u: pl.Expr, options: list[tuple[object, float]]) -> pl.Expr:
    """The option whose cumulative weight band holds u (weights need not sum to 1)."""
    total = sum(w for _, w in options)
    expr = None
    acc = 0.0
    for value, weight in options[:-1]:
        acc += weight / total
        expr = (pl.when(u < acc) if expr is None else expr.when(u < acc)).then(pl.lit(value))
    last = pl.lit(options[-1][0])
    return last if expr is None else expr.otherwise(last)


def _lookup(index: pl.Expr, values: list[str]) -> pl.Expr:
    """values[index % len(values)] as a string column."""
    return (index % len(values)).replace_strict(list(range(len(values))), values, return_dtype=pl.String)


def _days(n: pl.Expr | int) -> pl.Expr:
    return pl.duration(days=n)


def _clip_today(col: str, today: dt.date) -> pl.Expr:
    """The date, or null when it falls after today."""
    return pl.when(pl.col(col) <= today).then(pl.col(col)).otherwise(None).alias(col)


# -- public API ------------------------------------------------------------------------------


def demo_info(db: Database) -> dict | None:
    """The demo marker ({"scale", "seed", "multiplier", "generated_at", "today"}) or None."""
    value = db.scalar("SELECT value FROM meta WHERE key = 'demo'")
    return json.loads(value) if value else None


def clear_demo(db: Database) -> dict[str, int]:
    """Remove demo data: the fact rows, the demo units with their assignments, and the marker.

    When the database is not marked as demo, only rows tied to demo units are removed (real
    imported facts are never touched)."""
    with db.transaction() as cur:
        return _clear(cur)


def generate_demo(
    db: Database,
    scale: str = "county",
    seed: int = 1,
    multiplier: int = 1,
    today: dt.date | None = None,
    *,
    force: bool = False,
) -> dict[str, int]:
    """Replace any previous demo data with a fresh deterministic set; return rows per table.

    scale: 'county' (the plan's units plus demo ones, ≈ 70 units) or 'province' (100 counties).
    multiplier: k × the scale (k counties at county scale, 100·k at province scale).
    today: the last day covered (default date.today()); nothing is dated after it.
    force: overwrite facts even when the database holds real (non-demo) data."""
    if scale not in SCALES:
        raise ValueError(f"未知的规模：{scale}（应为 county 或 province） / unknown scale {scale!r}")
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"随机种子应为非负整数：{seed} / seed must be a non-negative integer")
    if not isinstance(multiplier, int) or multiplier < 1:
        raise ValueError(f"倍数应为正整数：{multiplier} / multiplier must be a positive integer")
    today = today or dt.date.today()
    if today < dt.date(2023, 7, 1):
        raise ValueError("演示数据的截止日期不能早于2023年7月1日 / today must be 2023-07-01 or later")
    counties = SCALES[scale] * multiplier
    cal = working_calendar(calendar_table(db))
    rng = _Rng(seed)
    counts: dict[str, int] = {}
    timings = LAST_TIMINGS
    timings.clear()
    started = time.perf_counter()
    with db.transaction() as cur:
        marked = cur.execute("SELECT count(*) FROM meta WHERE key = 'demo'").fetchone()[0]
        if not marked and not force:
            held = sum(cur.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in FACT_TABLES)
            if held:
                raise DemoRefusedError()
        _clear(cur, wipe_facts=True)

        existing = cur.execute("SELECT unit_id, name, kind, is_member FROM units ORDER BY unit_id").fetchall()
        units = _units(existing, counties, rng)
        new_units = units.filter(pl.col("is_new")).select(
            "unit_id", "name", "kind", "is_member", "region", pl.lit("demo").alias("origin"), "sort_order"
        )
        _insert(cur, "units", new_units)
        counts["units"] = len(new_units)
        counts["task_assignments"] = expand_assignments(cur)
        assignments = pl.DataFrame(
            cur.execute(
                "SELECT a.task_no, a.unit_id, t.due_date, t.is_ongoing FROM task_assignments a "
                "JOIN tasks t USING (task_no) ORDER BY a.task_no, a.unit_id"
            ).fetchall(),
            schema={"task_no": pl.Int32, "unit_id": pl.Int32, "due_date": pl.Date, "is_ongoing": pl.Boolean},
            orient="row",
        )

        timings["prepare"] = time.perf_counter() - started
        catalog = _catalog(units, rng, today)
        builders = {
            "contacts": lambda: _contacts(units, rng),
            "catalog_items": lambda: _catalog_for_db(catalog),
            "catalog_updates": lambda: _catalog_update_chunks(catalog),
            "demands": lambda: _demands(units, catalog, rng, today),
            "share_requests": lambda: _request_chunks(units, catalog, cal, rng, today, counties),
            "progress_reports": lambda: _reports(units, assignments, rng, today),
            "systems": lambda: _systems(units, rng, today),
            "networks": lambda: _networks(units, rng, today),
            "security_assessments": lambda: _security(units, rng, today),
            "quality_checks": lambda: _quality(catalog, units, rng, today),
            "village_coverage": lambda: _coverage(units, rng, today),
        }
        # One table at a time: build, insert, let go (the province's requests are ~1 GB).
        for table, build in builders.items():
            timings[f"build {table}"] = timings[f"insert {table}"] = 0.0
            counts[table] = 0
            step = time.perf_counter()
            built = build()
            for frame in [built] if isinstance(built, pl.DataFrame) else built:
                ready = time.perf_counter()
                timings[f"build {table}"] += ready - step
                _insert(cur, table, frame)
                counts[table] += len(frame)
                del frame
                step = time.perf_counter()
                timings[f"insert {table}"] += step - ready
        marker = {
            "scale": scale,
            "seed": seed,
            "multiplier": multiplier,
            "today": today.isoformat(),
            "generated_at": dt.datetime.now().isoformat(timespec="seconds"),
        }
        cur.execute(
            "INSERT OR REPLACE INTO meta VALUES ('demo', ?)", [json.dumps(marker, ensure_ascii=False)]
        )
        commit = time.perf_counter()
    timings["commit"] = time.perf_counter() - commit
    timings["total"] = time.perf_counter() - started
    return counts


# -- storage ---------------------------------------------------------------------------------


def _insert(cur, table: str, frame: pl.DataFrame) -> None:
    cols = ", ".join(frame.columns)
    cur.register("_demo_frame", frame)
    try:
        cur.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _demo_frame")
    finally:
        cur.unregister("_demo_frame")


def _clear(cur, wipe_facts: bool | None = None) -> dict[str, int]:
    """Delete demo rows inside the caller's transaction; return rows deleted per table."""
    marked = cur.execute("SELECT count(*) FROM meta WHERE key = 'demo'").fetchone()[0] > 0
    wipe = marked if wipe_facts is None else wipe_facts
    demo_units = "SELECT unit_id FROM units WHERE origin = 'demo'"
    deleted: dict[str, int] = {}

    def delete(table: str, where: str = "") -> None:
        before = cur.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        cur.execute(f"DELETE FROM {table} {where}")
        deleted[table] = before - cur.execute(f"SELECT count(*) FROM {table}").fetchone()[0]

    for table in FACT_TABLES:
        if wipe:
            _recreate(cur, table, deleted)
        elif table == "catalog_updates":
            delete(table, f"WHERE code IN (SELECT code FROM catalog_items WHERE unit_id IN ({demo_units}))")
        elif table == "quality_checks":
            delete(table, f"WHERE catalog_code IN (SELECT code FROM catalog_items WHERE unit_id IN ({demo_units}))")
        elif table == "share_requests":
            delete(table, f"WHERE requester_id IN ({demo_units}) OR provider_id IN ({demo_units})")
        else:
            delete(table, f"WHERE unit_id IN ({demo_units})")
    if marked:
        # Scorecards published over demo data describe nothing real.
        delete("published_scores")
        delete("published_frames")
        delete("published_bulletins")
        delete("published_months")
        delete("bulletin_drafts")
    # The supervision loop: interviews (with their commitments) and extension requests of demo
    # units always go; over a database that was all demo, every one of them described demo data.
    only = "" if marked else f"WHERE unit_id IN ({demo_units})"
    delete("commitments", "" if marked else
           f"WHERE interview_id IN (SELECT interview_id FROM interviews WHERE unit_id IN ({demo_units}))")
    delete("interviews", only)
    delete("extension_requests", only)
    delete("task_assignments", f"WHERE unit_id IN ({demo_units})")
    delete("unit_aliases", f"WHERE unit_id IN ({demo_units})")
    delete("units", "WHERE origin = 'demo'")
    cur.execute("DELETE FROM meta WHERE key = 'demo'")
    return deleted


def _recreate(cur, table: str, deleted: dict[str, int]) -> None:
    """Empty a table by dropping and recreating it from its own DDL (and indexes).

    DuckDB commits a mass DELETE on a table with a VARCHAR primary key very slowly (5 s for
    73,000 share requests, minutes at province scale); DROP + CREATE inside the same
    transaction is instant and just as atomic."""
    deleted[table] = cur.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    ddl = cur.execute(
        "SELECT sql FROM duckdb_tables() WHERE table_name = ? AND schema_name = current_schema()", [table]
    ).fetchone()[0]
    indexes = [
        r[0]
        for r in cur.execute(
            "SELECT sql FROM duckdb_indexes() WHERE table_name = ? AND schema_name = current_schema() "
            "AND sql IS NOT NULL",
            [table],
        ).fetchall()
    ]
    cur.execute(f"DROP TABLE {table}")
    cur.execute(ddl)
    for statement in indexes:
        cur.execute(statement)


# -- units -----------------------------------------------------------------------------------


def _stem(name: str) -> str:
    return name.removeprefix("县").replace("玉山", "")


def _units(existing: list[tuple], counties: int, rng: _Rng) -> pl.DataFrame:
    """Every unit the demo speaks for: the database's own units (county 0) plus demo ones."""
    next_id = max((r[0] for r in existing), default=0) + 1
    rows: list[tuple] = [(uid, name, kind, bool(member), None, 0, 0, False) for uid, name, kind, member in existing]
    for county in range(counties):
        prefix = "示例" if county == 0 else f"示例{county}县"
        region = None if county == 0 else f"示例{county}县"
        names: list[tuple[str, str, bool]] = []
        if county > 0:
            names += [(prefix + _stem(n), kind, member) for n, kind, member in PLAN_UNITS]
        names += [(prefix + s, "乡镇（街道）", False) for s in TOWNSHIP_STEMS]
        names += [(prefix + s, "县直部门", False) for s in EXTRA_DEPT_STEMS]
        for order, (name, kind, member) in enumerate(names, start=100):
            rows.append((next_id, name, kind, member, region, county, order, True))
            next_id += 1
    units = pl.DataFrame(
        rows,
        schema={
            "unit_id": pl.Int32,
            "name": pl.String,
            "kind": pl.String,
            "is_member": pl.Boolean,
            "region": pl.String,
            "county": pl.Int32,
            "sort_order": pl.Int32,
            "is_new": pl.Boolean,
        },
        orient="row",
    )
    office_names = [OFFICE] + [f"示例{c}县{_stem(OFFICE)}" for c in range(1, counties)]
    units = (
        units.sort("county", "unit_id")
        .with_row_index("_i")
        .with_columns(
            is_office=pl.col("name").is_in(office_names),
            # Unit quality: 0.05 (laggard) … 1 (exemplary); the office is kept good.
            q=0.05 + 0.95 * rng.u(1).sqrt(),
        )
        .with_columns(q=pl.when(pl.col("is_office")).then(pl.max_horizontal("q", 0.85)).otherwise("q"))
        .with_columns(
            # 1 = the worst department of its county (office excluded): planted laggard cases.
            dept_rank=pl.when((pl.col("kind") == "县直部门") & ~pl.col("is_office"))
            .then(pl.col("q").rank("ordinal").over("county", "kind", order_by="_i"))
            .otherwise(None)
            .cast(pl.Int32),
        )
    )
    # Per-county row offsets, used to draw a unit or an item of the same county set-wise.
    return units.with_columns(
        _urow=pl.int_range(pl.len()).cast(pl.Int64),
        _uoff=(pl.int_range(pl.len()).min().over("county")).cast(pl.Int64),
        _ucount=pl.len().over("county").cast(pl.Int64),
    )


# -- contacts --------------------------------------------------------------------------------


def _contacts(units: pl.DataFrame, rng: _Rng) -> pl.DataFrame:
    base = units.select("_i", "unit_id", "kind", "q", "dept_rank").join(
        pl.DataFrame({"role": ["分管领导", "经办人"], "_r": [0, 1]}), how="cross"
    )
    base = base.with_columns(_i=pl.col("_i") * 2 + pl.col("_r")).filter(
        # Planted: the worst department names nobody, the second worst only a handler; a few
        # more laggards miss one role.
        ~(pl.col("dept_rank") == 1).fill_null(False)
        & ~((pl.col("dept_rank") == 2) & (pl.col("role") == "分管领导")).fill_null(False)
        & ~((pl.col("q") < 0.25) & (rng.u(101) < 0.3))
    )
    leader_title = (
        pl.when(pl.col("kind") == "乡镇（街道）")
        .then(pl.lit("副镇长"))
        .when(pl.col("kind") == "公共服务企业")
        .then(pl.lit("副总经理"))
        .otherwise(_lookup(rng.k(102, 3), ["副局长", "副主任", "党组成员"]))
    )
    late = pl.col("q") < 0.35
    named = pl.when(late).then(pl.lit(dt.date(2023, 6, 12)) + _days(rng.k(103, 110))).otherwise(
        pl.lit(dt.date(2023, 5, 4)) + _days(rng.k(104, 37))
    )
    return (
        base.with_columns(
            name=pl.concat_str(
                _lookup(rng.k(105, len(SURNAMES)), SURNAMES),
                _lookup(rng.k(106, len(GIVEN)), GIVEN),
                pl.when(rng.u(107) < 0.6).then(_lookup(rng.k(108, len(GIVEN)), GIVEN)).otherwise(pl.lit("")),
            ),
            title=pl.when(pl.col("role") == "分管领导").then(leader_title).otherwise(
                _lookup(rng.k(109, 3), ["科员", "股长", "信息化专员"])
            ),
            phone=pl.concat_str(
                _lookup(rng.k(110, 4), ["138", "139", "158", "187"]),
                (pl.col("_i") + 1).cast(pl.String).str.zfill(8),
            ),
            named_on=named,
        )
        .select("unit_id", "role", "name", "title", "phone", "named_on")
        .sort("unit_id", "role")
    )


# -- catalog ---------------------------------------------------------------------------------


def _catalog(units: pl.DataFrame, rng: _Rng, today: dt.date) -> pl.DataFrame:
    per_unit = units.with_columns(
        n_items=pl.when(pl.col("dept_rank") == 3)
        .then(0)  # planted: a department that has published nothing
        .when(pl.col("kind") == "县直部门")
        .then(20 + rng.k(201, 71))
        .when(pl.col("kind") == "公共服务企业")
        .then(10 + rng.k(202, 31))
        .when(pl.col("kind") == "乡镇（街道）")
        .then(5 + rng.k(203, 16))
        .otherwise(10 + rng.k(204, 21)),
        # The day the unit started publishing: laggards after the 2023-09-30 milestone.
        start=pl.when(pl.col("q") < 0.3)
        .then(pl.lit(dt.date(2023, 9, 20)) + _days(rng.k(205, 190)))
        .otherwise(pl.lit(dt.date(2023, 4, 15)) + _days(rng.k(206, 130))),
    )
    width = max(3, len(str(units["unit_id"].max())))
    items = (
        per_unit.select("unit_id", "name", "county", "q", "start", "n_items")
        .rename({"name": "unit_name"})
        .with_columns(j=pl.int_ranges(0, "n_items"))
        .explode("j")
        .drop_nulls("j")
        .sort("unit_id", "j")
        .with_row_index("_i")
    )
    noun_idx = (pl.col("j") + rng.k(207, len(RESOURCE_NOUNS), key="unit_id")) % len(RESOURCE_NOUNS)
    q = pl.col("q")
    u = rng.u
    items = items.with_columns(
        code=pl.concat_str(
            pl.lit("YS-"),
            pl.col("unit_id").cast(pl.String).str.zfill(width),
            pl.lit("-"),
            (pl.col("j") + 1).cast(pl.String).str.zfill(4),
        ),
        name=pl.concat_str(
            _lookup(noun_idx, RESOURCE_NOUNS),
            pl.when(pl.col("j") >= len(RESOURCE_NOUNS))
            .then(pl.concat_str(pl.lit("（"), (pl.col("j") // len(RESOURCE_NOUNS) + 1).cast(pl.String), pl.lit("）")))
            .otherwise(pl.lit("")),
        ),
        format=_pick(u(210), [("库表", 0.6), ("文件", 0.2), ("接口", 0.2)]),
        share_type=pl.when(u(211) < 0.04 + 0.12 * (1 - q))
        .then(pl.lit("不予共享"))
        .when(u(212) < 0.38)
        .then(pl.lit("有条件共享"))
        .otherwise(pl.lit("无条件共享")),
        open_type=pl.when(u(213) < 0.2 * (1 - q))
        .then(None)
        .otherwise(_pick(u(214), [("无条件开放", 0.2), ("有条件开放", 0.4), ("不予开放", 0.4)])),
        update_cycle=_pick(
            u(215),
            # 实时/每日 items are kept few: their update history holds a row per day (docs/demo-data.md).
            [("实时", 2), ("每日", 3), ("每周", 10), ("每月", 33), ("每季度", 24), ("每半年", 9), ("每年", 11), ("不定期", 8)],
        ),
        # First wave (70 %) within 40 days of the unit's start, the rest spread up to today.
        published_on=pl.when(u(216) < 0.7)
        .then(pl.col("start") + _days(rng.k(217, 41)))
        .otherwise(
            pl.col("start")
            + _days((u(218) * (pl.lit(today) - pl.col("start")).dt.total_days().clip(0)).cast(pl.Int64))
        ),
        item_count=pl.when(u(219) < 0.2 * (1 - q)).then(None).otherwise(5 + rng.k(220, 60)).cast(pl.Int32),
    )
    items = items.with_columns(published_on=pl.min_horizontal("published_on", pl.lit(today)))
    cycle = pl.col("update_cycle").replace_strict(CYCLE_DAYS, default=200, return_dtype=pl.Int64)
    fresh = u(221) < 0.3 + 0.65 * q
    lag = pl.when(fresh).then(u(222) * cycle).otherwise(cycle * (1.2 + 3 * u(223)) + 1).cast(pl.Int64)
    items = items.with_columns(
        summary=pl.when(u(224) < 0.3 * (1 - q))
        .then(None)
        .otherwise(pl.concat_str(pl.col("name"), pl.lit("："), pl.col("unit_name"), pl.lit("负责采集和维护，包含基础信息项"))),
        share_condition=pl.when((pl.col("share_type") == "有条件共享") & (u(225) < 0.6 + 0.4 * q))
        .then(_lookup(rng.k(226, len(SHARE_CONDITIONS)), SHARE_CONDITIONS))
        .otherwise(None),
        nonshare_basis=pl.when((pl.col("share_type") == "不予共享") & (u(227) < 0.3 + 0.6 * q))
        .then(_lookup(rng.k(228, len(NONSHARE_BASES)), NONSHARE_BASES))
        .otherwise(None),
        # Mounted (挂接) within 90 days for most items of good units; never for some.
        mounted_on=pl.when(u(229) < 0.45 + 0.5 * q).then(pl.col("published_on") + _days(rng.k(230, 91))).otherwise(None),
        last_updated_on=pl.when(u(231) < 0.08)
        .then(None)
        .otherwise(pl.max_horizontal(pl.lit(today) - _days(lag), pl.col("published_on"))),
    )
    items = items.with_columns(_clip_today("mounted_on", today))
    # Planted lapses in the update history: some items (more of them at laggard units) stop being
    # updated for a while, [lapse_from, lapse_to), somewhere between publication and today.
    span = (pl.lit(today) - pl.col("published_on")).dt.total_days()
    lapse_days = pl.max_horizontal(cycle * (2 + rng.k(233, 4)), 60 + rng.k(234, 360))
    lapse_from = pl.col("published_on") + _days((u(235) * span).cast(pl.Int64))
    items = items.with_columns(
        lapse_from=pl.when(u(232) < 0.2 + 0.7 * (1 - q)).then(lapse_from),
    ).with_columns(lapse_to=pl.col("lapse_from") + _days(lapse_days))
    return items.select(
        "code", "name", "unit_id", "summary", "format", "share_type", "share_condition", "nonshare_basis",
        "open_type", "update_cycle", "published_on", "last_updated_on", "mounted_on", "item_count",
        "county", "q", "lapse_from", "lapse_to",
    )


def _catalog_for_db(catalog: pl.DataFrame) -> pl.DataFrame:
    return catalog.drop("county", "q", "lapse_from", "lapse_to")


UPDATE_CHUNK_ITEMS = 50_000  # catalog items whose update history is built and inserted at a time
IRREGULAR_STEP_DAYS = 200  # 不定期 items: an update every 200 days, back from the latest


def _catalog_update_chunks(catalog: pl.DataFrame) -> Iterator[pl.DataFrame]:
    """The update history (catalog_updates) of UPDATE_CHUNK_ITEMS items at a time."""
    for first in range(0, len(catalog), UPDATE_CHUNK_ITEMS):
        yield _catalog_updates(catalog.slice(first, UPDATE_CHUNK_ITEMS))


def _catalog_updates(catalog: pl.DataFrame) -> pl.DataFrame:
    """Every update of each item: back from its last_updated_on (the latest, kept always) one cycle
    at a time down to its publication, less the updates inside its lapse. Never-updated items have
    none. Deterministic: the dates follow from the catalog columns alone."""
    cycle = pl.col("update_cycle").replace_strict(CYCLE_DAYS, default=IRREGULAR_STEP_DAYS, return_dtype=pl.Int32)
    last = pl.col("last_updated_on").cast(pl.Int32)
    return (
        catalog.filter(pl.col("last_updated_on").is_not_null())
        .select(
            "code",
            last.alias("_last"),
            cycle.alias("_cycle"),
            pl.col("lapse_from").cast(pl.Int32).alias("_from"),
            pl.col("lapse_to").cast(pl.Int32).alias("_to"),
            ((last - pl.col("published_on").cast(pl.Int32)) // cycle + 1).alias("_n"),
        )
        .with_columns(_m=pl.int_ranges(0, "_n", dtype=pl.Int32))
        .explode("_m")
        .with_columns(_day=pl.col("_last") - pl.col("_m") * pl.col("_cycle"))
        .filter(
            (pl.col("_m") == 0)
            | pl.col("_from").is_null()
            | (pl.col("_day") < pl.col("_from"))
            | (pl.col("_day") >= pl.col("_to"))
        )
        .select("code", pl.col("_day").cast(pl.Date).alias("updated_on"))
    )


# -- demands ---------------------------------------------------------------------------------


def _demands(units: pl.DataFrame, catalog: pl.DataFrame, rng: _Rng, today: dt.date) -> pl.DataFrame:
    items = _county_items(catalog)
    span = (today - PLAN_START).days
    dem = (
        units.select("unit_id", "county", "kind", "q", "_i")
        .with_columns(
            n=pl.when(pl.col("kind") == "县直部门").then(3 + rng.k(301, 9)).otherwise(1 + rng.k(302, 4))
        )
        .with_columns(j=pl.int_ranges(0, "n"))
        .explode("j")
        .sort("unit_id", "j")
        .drop("_i")
        .with_row_index("_i")
        .join(items.select("county", "_ioff", "_icount").unique(), on="county", how="left")
    )
    u = rng.u
    dem = dem.with_columns(
        raised_on=pl.lit(PLAN_START) + _days(rng.k(303, span + 1)),
        _item=pl.col("_ioff") + rng.k(304, pl.col("_icount").clip(1)),
        _has_target=u(305) < 0.8,
    )
    dem = dem.join(items.select("_irow", pl.col("code").alias("target")), left_on="_item", right_on="_irow", how="left")
    dem = dem.with_columns(
        target_code=pl.when(pl.col("_has_target")).then(pl.col("target")).otherwise(None),
        content=pl.concat_str(
            pl.lit("申请共享"),
            _lookup(rng.k(306, len(RESOURCE_NOUNS)), RESOURCE_NOUNS),
            pl.lit("，用于"),
            _lookup(rng.k(307, len(PURPOSES)), PURPOSES),
        ),
        matched_on=pl.when(u(308) < 0.45 + 0.5 * pl.col("q"))
        .then(pl.col("raised_on") + _days(2 + rng.k(309, 60)))
        .otherwise(None),
    ).with_columns(_clip_today("matched_on", today))
    return _coded(dem, "XQ", "raised_on", 6).select("code", "unit_id", "content", "target_code", "raised_on", "matched_on")


def _county_items(catalog: pl.DataFrame) -> pl.DataFrame:
    """Catalog items with per-county row offsets (items are sorted by unit, units by county)."""
    return catalog.sort("county", "code").with_columns(
        _irow=pl.int_range(pl.len()).cast(pl.Int64),
        _ioff=pl.int_range(pl.len()).min().over("county").cast(pl.Int64),
        _icount=pl.len().over("county").cast(pl.Int64),
    )


def _coded(
    frame: pl.DataFrame, prefix: str, date_col: str, digits: int, by_county: bool = False
) -> pl.DataFrame:
    """Add `code` = prefix + year (+ county) + a sequence within the year in date order, and
    return the frame sorted by that code.

    One Int64 sort key (year, county, day of year, row) instead of a multi-column sort, and the
    sequence restarts where (year, county) changes: a running row number minus the row number
    of the group's first row (no window over groups). Millions of rows at province scale."""
    county = pl.col("county").cast(pl.Int64) if by_county else pl.lit(0, dtype=pl.Int64)
    group = (pl.col(date_col).dt.year().cast(pl.Int64) - 2000) * 1000 + county
    key = (group * 400 + pl.col(date_col).dt.ordinal_day().cast(pl.Int64)) * (1 << 27) + pl.col("_i")
    frame = frame.with_columns(_group=group, _key=key).sort("_key")
    pos = pl.int_range(pl.len(), dtype=pl.Int64)
    starts = (pl.col("_group") != pl.col("_group").shift(1)).fill_null(True)
    seq = pos - pl.when(starts).then(pos).otherwise(None).forward_fill() + 1
    # The digits after the prefix as one integer (a 4-digit year first, so the width is fixed).
    year = pl.col(date_col).dt.year().cast(pl.Int64)
    number = (year * 1000 + county if by_county else year) * 10**digits + seq
    return frame.with_columns(code=pl.concat_str(pl.lit(prefix), number.cast(pl.String))).drop("_group", "_key")


# -- share requests --------------------------------------------------------------------------


def _request_chunks(
    units: pl.DataFrame, catalog: pl.DataFrame, cal: pl.DataFrame, rng: _Rng, today: dt.date, counties: int
) -> Iterator[pl.DataFrame]:
    """The requests of REQUEST_CHUNK_COUNTIES counties at a time (bounded memory at province
    scale). Draws are keyed by the global row number, so chunking does not change the data."""
    for first in range(0, counties, REQUEST_CHUNK_COUNTIES):
        yield _requests(units, catalog, cal, rng, today, counties, first, min(first + REQUEST_CHUNK_COUNTIES, counties))


def _requests(
    units: pl.DataFrame,
    catalog: pl.DataFrame,
    cal: pl.DataFrame,
    rng: _Rng,
    today: dt.date,
    counties: int,
    first: int = 0,
    last: int | None = None,
) -> pl.DataFrame:
    """Share requests, ~20,000 a year per county, with their review and reply steps.

    Steps are placed on the working-day index of `data.storage.calendar.working_calendar` (the one
    `metrics.workdays.add_workday_deadline` joins on): the k-th working day strictly after D is
    the working day whose index is wd_index(D) + k, so "on time" is k ≤ 3 (review) or k ≤ 10
    (reply) exactly as the engine judges it. Lookups are positional gathers, not joins: this
    frame has millions of rows at province scale."""
    per_county = round(REQUESTS_PER_YEAR * ((today - DEMO_START).days + 1) / 365.25)
    last = counties if last is None else last
    workdays = cal.filter(pl.col("is_workday")).sort("day")
    wd0 = int(workdays["wd_index"][0])
    wd_day = workdays["day"]  # position p holds the working day with index wd0 + p
    day_index = cal.select("day", "wd_index", "is_workday")
    wd_lo = int(day_index.filter(pl.col("day") == DEMO_START)["wd_index"][0]) + 1
    wd_hi = int(day_index.filter(pl.col("day") == today)["wd_index"][0])

    items = (
        _county_items(catalog)
        .join(day_index.rename({"day": "published_on"}), on="published_on", how="left")
        .sort("_irow")
        .with_columns(_pub_first=pl.col("wd_index") + (~pl.col("is_workday")).cast(pl.Int64))
    )
    per_county_items = items.group_by("county").agg(pl.col("_ioff").first(), pl.col("_icount").first()).sort("county")
    per_county_units = units.group_by("county").agg(pl.col("_uoff").first(), pl.col("_ucount").first()).sort("county")
    assert per_county_items["county"].to_list() == list(range(counties))

    def at(series: pl.Series, index: pl.Expr) -> pl.Expr:
        return pl.lit(series).gather(index)

    u = rng.u
    req = (
        pl.DataFrame({"_i": pl.int_range(first * per_county, last * per_county, eager=True, dtype=pl.Int64)})
        .with_columns(county=(pl.col("_i") // per_county))
        .with_columns(
            _ioff=at(per_county_items["_ioff"], pl.col("county")),
            _icount=at(per_county_items["_icount"], pl.col("county")),
            _uoff=at(per_county_units["_uoff"], pl.col("county")),
            _ucount=at(per_county_units["_ucount"], pl.col("county")),
        )
        .with_columns(
            _c1=pl.col("_ioff") + rng.k(401, pl.col("_icount")),
            _c2=pl.col("_ioff") + rng.k(431, pl.col("_icount")),
            _c3=pl.col("_ioff") + rng.k(432, pl.col("_icount")),
            _req_local=rng.k(402, pl.col("_ucount")),
            _wd=wd_lo + rng.k(403, wd_hi - wd_lo + 1),
        )
    )
    # A request names an item already published: of three drawn items take the first that is
    # (rarely none is; then the request is dated on that item's publication day).
    pub_first = items["_pub_first"]
    req = req.with_columns(
        _item=pl.when(at(pub_first, pl.col("_c1")) <= pl.col("_wd"))
        .then(pl.col("_c1"))
        .when(at(pub_first, pl.col("_c2")) <= pl.col("_wd"))
        .then(pl.col("_c2"))
        .when(at(pub_first, pl.col("_c3")) <= pl.col("_wd"))
        .then(pl.col("_c3"))
        .otherwise(pl.col("_c1"))
    ).with_columns(
        catalog_code=at(items["code"], pl.col("_item")),
        provider_id=at(items["unit_id"], pl.col("_item")),
        share_type=at(items["share_type"], pl.col("_item")),
        pq=at(items["q"], pl.col("_item")),
        _fallback=at(pub_first, pl.col("_item")) > pl.col("_wd"),
        _pub_date=at(items["published_on"], pl.col("_item")),
        _pub_raw=at(items["wd_index"], pl.col("_item")),
        _req_row=pl.col("_uoff") + pl.col("_req_local"),
    )
    unit_ids = units.sort("_urow")["unit_id"]
    req = req.with_columns(
        received_on=pl.when(pl.col("_fallback"))
        .then(pl.col("_pub_date"))
        .otherwise(at(wd_day, pl.col("_wd") - wd0)),
        _base=pl.when(pl.col("_fallback")).then(pl.col("_pub_raw")).otherwise(pl.col("_wd")),
        requester_id=at(unit_ids, pl.col("_req_row")),
    ).with_columns(
        # A unit does not ask itself: take the next unit of the county instead.
        requester_id=pl.when(pl.col("requester_id") == pl.col("provider_id"))
        .then(at(unit_ids, pl.col("_uoff") + (pl.col("_req_local") + 1) % pl.col("_ucount")))
        .otherwise(pl.col("requester_id"))
    )

    def on_or_before_today(index: pl.Expr) -> pl.Expr:
        return pl.when(index <= wd_hi).then(index)

    # Initial review by the county office: the k-th working day after receipt (k ≤ 3 on time).
    ur = u(404)
    k_review = (
        pl.when(ur < 0.002)
        .then(None)  # never reviewed: an overdue review step
        .when(ur < 0.06)
        .then(4 + rng.k(405, 6))  # late
        .otherwise(1 + rng.k(406, 3))
    )
    req = req.with_columns(_rev=on_or_before_today(pl.col("_base") + k_review))
    req = req.with_columns(
        review_result=pl.when(pl.col("_rev").is_null())
        .then(None)
        .when(u(407) < 0.05)
        .then(pl.lit("退回"))
        .otherwise(pl.lit("通过")),
    )
    passed = pl.col("review_result") == "通过"
    fwd = pl.col("_rev") + pl.when(u(408) < 0.7).then(0).otherwise(1)
    # 1 % passed review but carry no forwarding date: the reply clock starts at the review.
    req = req.with_columns(_fwd=pl.when(passed & (u(409) >= 0.01)).then(on_or_before_today(fwd)))
    # The provider's reply: laggards are late more often, and some never answer.
    pq = pl.col("pq")
    up = u(410)
    p_never = 0.001 + 0.04 * (1 - pq) ** 3
    p_late = p_never + 0.02 + 0.35 * (1 - pq) ** 2
    k_reply = pl.when(up < p_never).then(None).when(up < p_late).then(11 + rng.k(411, 20)).otherwise(1 + rng.k(412, 10))
    req = req.with_columns(_rep=pl.when(passed).then(on_or_before_today(pl.coalesce("_fwd", "_rev") + k_reply)))
    req = req.with_columns(
        reviewed_on=at(wd_day, pl.col("_rev") - wd0),
        forwarded_on=at(wd_day, pl.col("_fwd") - wd0),
        replied_on=at(wd_day, pl.col("_rep") - wd0),
    )
    refused = u(413) < pl.when(pl.col("share_type") == "不予共享").then(0.7).otherwise(0.06)
    complete = u(416) < 0.45 + 0.5 * pq
    req = req.with_columns(
        reply_result=pl.when(pl.col("replied_on").is_null())
        .then(None)
        .when(refused & (u(414) < 0.4))
        .then(pl.lit("部分同意"))
        .when(refused)
        .then(pl.lit("不同意"))
        .otherwise(pl.lit("同意")),
        _basis_case=pl.when(complete)
        .then(pl.lit("both"))
        .otherwise(_pick(u(417), [("no_basis", 0.6), ("no_reason", 0.25), ("neither", 0.15)])),
    )
    is_refusal = pl.col("reply_result").is_in(["不同意", "部分同意"])
    req = req.with_columns(
        legal_basis=pl.when(is_refusal & pl.col("_basis_case").is_in(["both", "no_reason"]))
        .then(_lookup(rng.k(418, len(LEGAL_BASES)), LEGAL_BASES))
        .otherwise(None),
        refusal_reason=pl.when(is_refusal & pl.col("_basis_case").is_in(["both", "no_basis"]))
        .then(_lookup(rng.k(419, len(REFUSAL_REASONS)), REFUSAL_REASONS))
        .otherwise(None),
        purpose=_lookup(rng.k(420, len(PURPOSES)), PURPOSES),
        use_until=pl.when(u(421) < 0.1)
        .then(None)
        .otherwise(pl.col("received_on") + _days(pl.when(u(422) < 0.6).then(365).otherwise(730))),
    )
    columns = [
        pl.col("requester_id").cast(pl.Int32),
        pl.col("provider_id").cast(pl.Int32),
        "catalog_code",
        "purpose",
        "use_until",
        "received_on",
        "reviewed_on",
        "review_result",
        "forwarded_on",
        "replied_on",
        "reply_result",
        "legal_basis",
        "refusal_reason",
    ]
    # Sorted by the primary key (see _coded): DuckDB builds the index faster from ordered keys.
    # Helper columns are dropped first so the sort moves only what is stored.
    req = _coded(req.select("_i", "county", *columns), "SQ", "received_on", 6, by_county=counties > 1)
    return req.select("code", *[c if isinstance(c, str) else c.meta.output_name() for c in columns])


# -- tasks -----------------------------------------------------------------------------------


def _month_starts(today: dt.date) -> pl.DataFrame:
    months = pl.date_range(PLAN_START, today.replace(day=1), "1mo", eager=True)
    return pl.DataFrame({"month": months}).with_row_index("m")


def _reports(units: pl.DataFrame, assignments: pl.DataFrame, rng: _Rng, today: dt.date) -> pl.DataFrame:
    u = rng.u
    a = (
        assignments.join(units.select("unit_id", "q", "is_office"), on="unit_id", how="inner")
        .sort("task_no", "unit_id")
        .with_row_index("_i")
    )
    q = pl.col("q")
    ua = u(501)
    p_open = 0.03 + 0.3 * (1 - q) ** 2
    p_late = p_open + 0.05 + 0.45 * (1 - q)
    a = a.with_columns(
        completed=pl.when(pl.col("is_ongoing"))
        .then(None)
        .when(ua < p_open)
        .then(None)  # never completed: overdue once due
        .when(ua < p_late)
        .then(pl.col("due_date") + _days(5 + rng.k(502, 250)))
        .otherwise(pl.max_horizontal(pl.col("due_date") - _days(rng.k(503, 90)), pl.lit(PLAN_START) + _days(5))),
        # Laggards start reporting a few months late.
        first_m=pl.when(q < 0.3).then(rng.k(504, 5)).otherwise(0),
        p_report=0.55 + 0.43 * q,
    ).with_columns(_clip_today("completed", today))
    months = _month_starts(today)
    r = (
        a.join(months, how="cross")
        .with_columns(_i=pl.col("_i").cast(pl.Int64) * 1000 + pl.col("m"))
        .with_columns(
            reported_on=pl.col("month") + _days(19 + rng.k(505, 9)),
            _month_end=pl.col("month").dt.month_end(),
        )
    )
    done_month = pl.col("completed").is_not_null() & (pl.col("completed") <= pl.col("_month_end"))
    first_done = done_month & ~(pl.col("completed") < pl.col("month"))
    r = r.with_columns(
        # The completion month is always reported, on or after the completion date.
        reported_on=pl.when(first_done)
        .then(pl.min_horizontal(pl.max_horizontal("reported_on", "completed"), pl.lit(today)))
        .otherwise("reported_on"),
    )
    keep = (
        (pl.col("reported_on") <= today)
        & ((pl.col("m") >= pl.col("first_m")) | first_done)
        & ~(pl.col("completed") < pl.col("month")).fill_null(False)  # stop after completion
        & (first_done | (u(506) < pl.col("p_report")))
    )
    # Ongoing tasks: task 14's units other than the office fall silent for the last two months.
    last_m = months["m"].max()
    keep = keep & ~(
        pl.col("is_ongoing") & (pl.col("task_no") == 14) & ~pl.col("is_office") & (pl.col("m") >= last_m - 1)
    )
    r = r.filter(keep)
    span = (pl.coalesce("completed", pl.lit(today) + _days(240)) - pl.lit(PLAN_START)).dt.total_days().clip(1)
    elapsed = (pl.col("reported_on") - pl.lit(PLAN_START)).dt.total_days()
    pct = (100 * elapsed / span).clip(0, 95).round(0).cast(pl.Int32)
    r = r.with_columns(
        status=pl.when(first_done)
        .then(pl.lit("已完成"))
        .when(~pl.col("is_ongoing") & (pl.col("m") == pl.col("first_m")) & (pl.col("first_m") > 0))
        .then(pl.lit("未启动"))
        .otherwise(pl.lit("推进中")),
    ).with_columns(
        percent=pl.when(pl.col("status") == "已完成")
        .then(100)
        .when(pl.col("status") == "未启动")
        .then(0)
        .when(pl.col("is_ongoing"))
        .then(None)
        .otherwise(pct)
        .cast(pl.Int32),
        completed_on=pl.when(pl.col("status") == "已完成").then(pl.col("completed")).otherwise(None),
        note=pl.when(pl.col("status") == "已完成")
        .then(pl.lit("已完成，相关材料已报送县大数据发展中心"))
        .when(pl.col("status") == "未启动")
        .then(pl.lit("尚未启动，正在研究部署"))
        .otherwise(_lookup(rng.k(507, len(REPORT_NOTES)), REPORT_NOTES)),
        verified=pl.lit(True),
    )
    return r.select(
        "task_no", "unit_id", "reported_on", "status", "percent", "completed_on", "note", "verified"
    ).sort("task_no", "unit_id", "reported_on")


# -- systems, networks, security -------------------------------------------------------------


def _per_unit_rows(units: pl.DataFrame, count: pl.Expr, salt: int) -> pl.DataFrame:
    return (
        units.with_columns(n=count)
        .with_columns(j=pl.int_ranges(0, "n"))
        .explode("j")
        .drop_nulls("j")
        .sort("unit_id", "j")
        .drop("_i")
        .with_row_index("_i")
        .with_columns(_i=pl.col("_i").cast(pl.Int64) * 97 + salt)
    )


def _named_items(units: pl.DataFrame, rng: _Rng, count: pl.Expr, salt: int, name_col: str, nouns: list[str],
                 name_salt: int, classified_salt: int, classified_share: float) -> pl.DataFrame:
    """`count` items per unit (systems, networks), each named from `nouns` into `name_col` and 涉密
    with chance `classified_share` (every item of the 保密机要局 is)."""
    rows = _per_unit_rows(units, count, salt)
    return rows.with_columns(
        **{name_col: _lookup(pl.col("j") + rng.k(name_salt, len(nouns), key="unit_id"), nouns)},
        classified=(rng.u(classified_salt) < classified_share) | pl.col("name").str.contains("保密机要局"),
    )


def _systems(units: pl.DataFrame, rng: _Rng, today: dt.date) -> pl.DataFrame:
    count = (
        pl.when(pl.col("kind") == "县直部门")
        .then(1 + rng.k(601, 5))
        .when(pl.col("kind") == "公共服务企业")
        .then(1 + rng.k(602, 3))
        .when(pl.col("kind") == "乡镇（街道）")
        .then(rng.k(603, 2))
        .otherwise(1)
    )
    s = _named_items(units, rng, count, 6, "sys_name", SYSTEM_NOUNS, name_salt=605, classified_salt=604,
                     classified_share=0.08)
    u = rng.u
    q = pl.col("q")
    s = s.with_columns(
        _reg=~pl.col("classified") & (u(606) < 0.55 + 0.45 * q),
        _undated=u(607) < 0.04,
        registered_on=pl.lit(dt.date(2023, 5, 15)) + _days((u(608) * 420 * (1.2 - q)).cast(pl.Int64)),
    ).with_columns(
        _con=pl.col("_reg") & (u(609) < 0.3 + 0.65 * q),
        connected_on=pl.col("registered_on") + _days(10 + rng.k(610, 190)),
    )
    s = s.with_columns(
        registered=pl.col("_reg") & (pl.col("_undated") | (pl.col("registered_on") <= today)),
        connected=pl.col("_con") & (pl.col("_undated") | (pl.col("connected_on") <= today)),
    ).with_columns(
        registered_on=pl.when(pl.col("registered") & ~pl.col("_undated")).then(pl.col("registered_on")),
        connected_on=pl.when(pl.col("connected") & ~pl.col("_undated")).then(pl.col("connected_on")),
        provides_data=pl.when(pl.col("connected")).then(u(611) < 0.92).otherwise(u(612) < 0.2),
    )
    return s.select(
        "unit_id", pl.col("sys_name").alias("name"), "classified", "registered", "registered_on", "connected",
        "connected_on", "provides_data",
    )


def _networks(units: pl.DataFrame, rng: _Rng, today: dt.date) -> pl.DataFrame:
    count = pl.when(pl.col("kind") == "县直部门").then(rng.k(701, 3)).otherwise(0)
    count = pl.when(pl.col("name").str.contains("保密机要局")).then(1).otherwise(count)
    n = _named_items(units, rng, count, 7, "net_name", NETWORK_NOUNS, name_salt=703, classified_salt=702,
                     classified_share=0.12)
    u = rng.u
    q = pl.col("q")
    n = n.with_columns(
        migrated_on=pl.lit(dt.date(2023, 6, 1)) + _days((u(704) * 520 * (1.15 - q)).cast(pl.Int64)),
        _mig=~pl.col("classified") & (u(705) < 0.4 + 0.55 * q),
    ).with_columns(
        migrated=pl.col("_mig") & (pl.col("migrated_on") <= today),
    ).with_columns(migrated_on=pl.when(pl.col("migrated")).then(pl.col("migrated_on")))
    return n.select("unit_id", pl.col("net_name").alias("name"), "classified", "migrated", "migrated_on")


def _security(units: pl.DataFrame, rng: _Rng, today: dt.date) -> pl.DataFrame:
    rounds = pl.DataFrame({"r": list(range(today.year - 2023 + 1))}, schema={"r": pl.Int64})
    s = units.join(rounds, how="cross").with_columns(_i=pl.col("_i").cast(pl.Int64) * 16 + pl.col("r"))
    u = rng.u
    q = pl.col("q")
    s = s.with_columns(
        assessed_on=pl.date(2023 + pl.col("r"), 11, 1) + _days(rng.k(801, 50)),
    ).filter(
        (pl.col("assessed_on") <= today)
        & ~(pl.col("dept_rank").is_in([1, 4])).fill_null(False)  # planted: never assessed
        & (u(802) < 0.5 + 0.5 * q)
    )
    p = (0.35 + 0.5 * q + 0.1 * pl.col("r")).clip(0, 0.98)
    return s.with_columns(
        desensitization=u(803) < p,
        encryption=u(804) < p,
        access_auth=u(805) < p + 0.1,
        note=pl.concat_str((2023 + pl.col("r")).cast(pl.String), pl.lit("年度数据安全评估")),
    ).select("unit_id", "assessed_on", "desensitization", "encryption", "access_auth", "note")


# -- quality checks and village coverage ---------------------------------------------------


def _quality(catalog: pl.DataFrame, units: pl.DataFrame, rng: _Rng, today: dt.date) -> pl.DataFrame:
    halves = pl.DataFrame(
        {"h": list(range((today.year - 2023) * 2 + 2))}, schema={"h": pl.Int64}
    ).with_columns(
        start=pl.date(2023 + pl.col("h") // 2, 1 + 6 * (pl.col("h") % 2), 1),
    )
    c = (
        catalog.select("code", "q", "published_on")
        .sort("code")
        .with_row_index("_i")
        .join(halves, how="cross")
        .with_columns(_i=pl.col("_i").cast(pl.Int64) * 64 + pl.col("h"))
    )
    u = rng.u
    q = pl.col("q")
    c = c.with_columns(checked_on=pl.col("start") + _days(rng.k(901, 180))).filter(
        (u(902) < 0.25)
        & (pl.col("checked_on") >= pl.col("published_on"))
        & (pl.col("checked_on") <= today)
        & (pl.col("checked_on") >= dt.date(2023, 7, 1))
    )
    base = 48 + 36 * q + 2.5 * pl.col("h").clip(0, 5)

    def dim(salt: int) -> pl.Expr:
        return (base + (u(salt) - 0.5) * 24).clip(0, 100).round(1)

    c = c.with_columns(
        completeness=dim(903), accuracy=dim(904), usability=dim(905), timeliness=dim(906),
        issues_found=((100 - base).clip(0) / 4 * u(907)).round(0).cast(pl.Int32),
    ).with_columns(
        issues_fixed=(pl.col("issues_found") * (0.25 + 0.75 * q) * (0.6 + 0.4 * u(908))).round(0).cast(pl.Int32)
    )
    return c.select(
        pl.col("code").alias("catalog_code"), "checked_on", "completeness", "accuracy", "usability", "timeliness",
        "issues_found", "issues_fixed",
    )


def _coverage(units: pl.DataFrame, rng: _Rng, today: dt.date) -> pl.DataFrame:
    quarters = pl.DataFrame(
        {"qi": list(range((today.year - 2023) * 4 + 4))}, schema={"qi": pl.Int64}
    ).with_columns(
        counted_on=pl.date(2023 + (pl.col("qi") + 1) // 4, ((pl.col("qi") + 1) % 4) * 3 + 1, 1) - _days(1),
    ).filter((pl.col("counted_on") >= dt.date(2023, 6, 30)) & (pl.col("counted_on") <= today))
    towns = units.filter(pl.col("kind") == "乡镇（街道）")
    u = rng.u
    q = pl.col("q")
    t = towns.with_columns(
        villages=(8 + rng.k(1001, 24)).cast(pl.Int32),
        f0=0.2 + 0.35 * u(1002),
        # The worst towns stop short of full coverage.
        f1=pl.when(q < 0.4).then(0.7 + 0.25 * q).otherwise(1.0),
        reach=4 + rng.k(1003, 8),  # quarters until the final share
    ).join(quarters, how="cross")
    frac = pl.col("f0") + (pl.col("f1") - pl.col("f0")) * (pl.col("qi") / pl.col("reach")).clip(0, 1)
    t = t.with_columns(connected=(pl.col("villages") * frac).floor().cast(pl.Int32))
    return t.select("unit_id", "counted_on", "villages", "connected").sort("unit_id", "counted_on")
