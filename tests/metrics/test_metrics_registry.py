"""The registry owns each measure: rows-behind functions, default weights, formula templates
rendered from the settings in force, and the engine's layering (metrics imports nothing of data/,
and no two metrics modules import each other, lazily or not)."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import polars as pl
from kpi_fixtures import D, make_facts

from metrics.registry import (
    DEFAULT_SETTINGS,
    DEFAULT_WEIGHTS,
    KPI_BY_CODE,
    KPIS,
    MEASURES,
    formula_settings,
    formula_text,
    formula_texts,
)
from metrics.requests import judged_count, on_time_rate
from metrics.trace import ROWS

METRICS = Path(__file__).resolve().parents[2] / "metrics"


def test_every_indicator_names_a_rows_behind_function_and_every_function_is_used():
    assert {k.rows for k in KPIS} == set(ROWS)


def test_default_weights_come_from_the_declarations():
    assert DEFAULT_SETTINGS["weights"] is DEFAULT_WEIGHTS
    assert DEFAULT_WEIGHTS == {k.code: k.default_weight for k in KPIS if k.default_weight}
    assert sum(DEFAULT_WEIGHTS.values()) == 100
    assert all(k.in_csv for k in KPIS if k.default_weight)


def test_formulas_read_the_defaults_when_no_setting_is_given():
    assert "100 − 20 × 红灯数" in formula_text("tasks_overdue_open")
    assert "2023年6月10日" in formula_text(KPI_BY_CODE["contacts_named"], {})
    assert "第3个工作日" in formula_text("review_ontime_rate")
    assert "15天内" in formula_text("light")
    for item in [*KPIS, *MEASURES]:
        text = formula_text(item)
        assert "{" not in text and "}" not in text, item.code


def test_formulas_follow_the_settings_in_force():
    settings = {"red_light_penalty": 30, "contacts_deadline": "2023-07-01", "catalog_deadline": "2023-10-31",
                "plan_start_month": "2023-06", "yellow_window_days": 10,
                "grades": [["优秀", 95], ["良好", 80], ["合格", 65]], "fail_grade": "不合格"}
    assert "100 − 30 × 红灯数" in formula_text("tasks_overdue_open", settings)
    assert "100 − 30 × 红灯数" in formula_text("composite", settings)
    assert "2023年7月1日" in formula_text("contacts_named", settings)
    assert "2023年10月31日" in formula_text("catalog_published", settings)
    assert "自2023年6月起" in formula_text("report_rate", settings)
    assert "10天内" in formula_text("light", settings)
    assert "优秀不低于95分" in formula_text("grade", settings) and "低于65分为不合格" in formula_text("grade", settings)
    assert formula_texts(["tasks_overdue_open", "light"], settings) == [
        formula_text("tasks_overdue_open", settings), formula_text("light", settings)]


def test_request_formulas_name_the_sla_rule_in_force():
    facts = make_facts(sla=[
        {"effective_from": D(2000, 1, 1), "review_days": 3, "reply_days": 10, "name": "方案"},
        {"effective_from": D(2025, 8, 1), "review_days": 5, "reply_days": 15, "name": "条例"},
    ])
    before = formula_settings(facts, D(2025, 7, 31))
    after = formula_settings(facts, D(2025, 8, 1))
    assert "第3个工作日" in formula_text("review_ontime_rate", before)
    assert "第5个工作日" in formula_text("review_ontime_rate", after)
    assert "第15个工作日" in formula_text("reply_ontime_rate", after)
    assert formula_text("request_deadlines", before) == (
        "办公室收到申请后3个工作日内初审（不含收到当日），提供单位在转送后10个工作日内答复；"
        "未到期且未办的不计入按时率，逾期未办的按未按时计。")
    assert "收到申请后5个工作日内初审" in formula_text("request_deadlines", after)


def test_on_time_rate_is_on_time_over_judged():
    frame = pl.DataFrame({"on_time": [3, 0, 0], "late": [1, 0, 2], "overdue": [0, 0, 1]})
    out = frame.with_columns(judged=judged_count()).with_columns(rate=on_time_rate())
    assert out["judged"].to_list() == [4, 0, 3]
    assert out["rate"].to_list() == [0.75, None, 0.0]


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
    return found


def test_metrics_imports_nothing_of_data_nor_reports_nor_ui():
    for path in METRICS.glob("*.py"):
        if path.name == "__main__.py":  # the CLI composes the layers
            continue
        outside = {m for m in _imports(path) if m.split(".")[0] in ("data", "reports", "ui", "pages")}
        assert not outside, (path.name, outside)


def test_no_import_cycle_inside_metrics_lazy_imports_included():
    modules = {p.stem for p in METRICS.glob("*.py") if p.stem != "__main__"}
    graph = {m: {i.split(".")[1] for i in _imports(METRICS / f"{m}.py")
                 if i.startswith("metrics.") and i.split(".")[1] in modules} - {m}
             for m in modules}
    state: dict[str, int] = {}

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for n in graph[m]:
            assert state.get(n) != 1, " -> ".join([*path, m, n])
            if n not in state:
                visit(n, [*path, m])
        state[m] = 2

    for m in sorted(modules):
        if m not in state:
            visit(m, [])


def test_sla_in_force_with_no_rules_reads_the_default():
    from metrics.registry import sla_in_force

    assert sla_in_force(None, dt.date(2024, 1, 1)) == {"review_days": 3, "reply_days": 10}
