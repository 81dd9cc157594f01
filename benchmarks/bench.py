"""KPI engine benchmark: `python -m benchmarks.bench [--quick] [--keep DIR]`.

For each size (county ×1, ×2, ×4, then province = 100 counties) it builds a temporary database
with the deterministic demo data (data.services.demo.generate_demo) in one process, then, in a fresh
process so that the peak memory is the engine's for that size alone, measures:
- the data sizes (units, catalog items, requests, progress reports, assignments);
- load: data.storage.facts.load_facts from the database (cold);
- scorecard: metrics.scorecard.scorecard as of one date with the facts already loaded (the first
  call, then the median of the following runs);
- trend: metrics.trend.monthly_trend over 12 months;
- peak memory: the process's maximum resident set size (resource.getrusage), which also counts
  Polars' and DuckDB's native allocations that tracemalloc cannot see.
It ends with the targets of kpis.md and the cost per 1,000 requests at ×1, ×2, ×4 (about constant
when growth is linear).

`python -m benchmarks.bench --engine DB [DATE ...]` measures instead, in this one process and on an
existing database (e.g. `python -m data demo --scale province --seed 4 --db /tmp/province.duckdb`),
the shared per-date results the pages read (data.services.snapshot): loading the facts, then at
each date (default 2025-06-30, 2025-03-31, 2025-06-30 again) 总览's snapshot parts and the
12-month trend, then 月度考评's month inputs; one JSON line per stage with seconds, RSS, peak
RSS (MB) and the load average.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

AS_OF = dt.date(2025, 6, 30)  # demo data end ("today") and the scorecard date: everything visible
COUNTY_TARGET_S = 0.3
PROVINCE_TARGET_S = 3.0
RUNS = 5


def generate(db_path: str, scale: str, multiplier: int) -> dict:
    """Run in a child process: fill a new database with the demo data."""
    from data.services.demo import generate_demo
    from data.storage.connect import get_db

    started = time.perf_counter()
    counts = generate_demo(get_db(db_path), scale=scale, seed=1, multiplier=multiplier, today=AS_OF, force=True)
    return {"demo_rows": sum(counts.values()), "generate_s": time.perf_counter() - started}


def measure(db_path: str, scale: str, multiplier: int, trend_months: int) -> dict:
    """Run in another child process (so its peak memory is the engine's, not the generator's):
    load, time the scorecard and the trend; return the figures."""
    from data.storage.connect import get_db
    from data.storage.facts import load_facts
    from metrics.scorecard import scorecard
    from metrics.trend import monthly_trend

    db = get_db(db_path)

    started = time.perf_counter()
    facts = load_facts(db)
    load_s = time.perf_counter() - started

    started = time.perf_counter()
    card = scorecard(facts, AS_OF)
    first_s = time.perf_counter() - started
    runs = []
    for _ in range(RUNS):
        started = time.perf_counter()
        scorecard(facts, AS_OF)
        runs.append(time.perf_counter() - started)

    started = time.perf_counter()
    trend = monthly_trend(facts, AS_OF, trend_months)
    trend_s = time.perf_counter() - started

    return {
        "scale": scale,
        "multiplier": multiplier,
        "units": facts.units.height,
        "catalog_items": facts.catalog.height,
        "requests": facts.requests.height,
        "reports": facts.reports.height,
        "assignments": facts.assignments.height,
        "load_s": load_s,
        "scorecard_first_s": first_s,
        "scorecard_s": statistics.median(runs),
        "scorecard_min_s": min(runs),
        "trend_months": trend_months,
        "trend_s": trend_s,
        "trend_rows": trend.height,
        "scored_units": card["composite"].drop_nulls().len(),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _rss_mb() -> float:
    """The process's current resident set size (Linux /proc), MB."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return float("nan")


def engine(db_path: str, dates: list[dt.date]) -> list[dict]:
    """`--engine DB [DATE ...]`: the shared engine results the pages read, in one process, on an
    existing database: load the facts, then at each date (default 2025-06-30 then 2025-03-31,
    then 2025-06-30 again: warm) the snapshot parts 总览 reads (scorecard, points, step counts of
    the date and of the previous month end, catalog counts, warnings, milestones, the 12-month
    trend) and 月度考评's month inputs. One row per stage: seconds, RSS and peak RSS (MB)."""
    import gc

    from data.services.months import month_inputs
    from data.services.snapshot import month_end_history, snapshot
    from data.storage.connect import get_db
    from data.storage.facts import load_facts
    from metrics.trend import previous_month_end

    db = get_db(db_path)
    rows: list[dict] = []

    def stage(name: str, fn) -> None:
        started = time.perf_counter()
        fn()
        gc.collect()
        rows.append({"stage": name, "s": round(time.perf_counter() - started, 3), "rss_mb": round(_rss_mb()),
                     "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                     "load": round(os.getloadavg()[0], 1)})
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)

    stage("load_facts", lambda: load_facts(db))
    for day in dates:
        snap = snapshot(db, day)

        def overview(snap=snap, day=day) -> None:
            snap.compute_all()
            prev = snapshot(db, previous_month_end(day))
            _ = prev.step_counts, prev.catalog_counts  # the headline compares with the month before
            month_end_history(db, day)

        stage(f"{day} overview parts", overview)
        stage(f"{day} month_inputs", lambda day=day: month_inputs(db, f"{day:%Y-%m}"))
    return rows


def run_child(folder: Path, scale: str, multiplier: int, trend_months: int) -> dict:
    db_path = folder / f"bench-{scale}-{multiplier}.duckdb"
    for stale in (db_path, Path(str(db_path) + ".wal")):
        stale.unlink(missing_ok=True)
    figures: dict = {}
    for step in ("--generate", "--measure"):
        cmd = [sys.executable, "-m", "benchmarks.bench", step, str(db_path), scale, str(multiplier),
               str(trend_months)]
        root = Path(__file__).resolve().parents[1]
        done = subprocess.run(cmd, cwd=root, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"benchmark child failed ({scale} ×{multiplier}):\n{done.stderr}")
        figures.update(json.loads(done.stdout.strip().splitlines()[-1]))
    return figures


def report(rows: list[dict], started_load: float) -> str:
    head = (f"{'size':<16}{'units':>7}{'catalog':>9}{'requests':>11}{'reports':>9}"
            f"{'load s':>8}{'score s':>9}{'(min)':>8}{'(first)':>9}{'trend s':>9}{'peak MB':>9}")
    lines = [head, "-" * len(head)]
    for r in rows:
        size = f"{r['scale']} ×{r['multiplier']}"
        lines.append(
            f"{size:<16}{r['units']:>7,}{r['catalog_items']:>9,}{r['requests']:>11,}{r['reports']:>9,}"
            f"{r['load_s']:>8.2f}{r['scorecard_s']:>9.3f}{r['scorecard_min_s']:>8.3f}{r['scorecard_first_s']:>9.3f}"
            f"{r['trend_s']:>9.2f}"
            f"{r['peak_rss_mb']:>9.0f}"
        )
    lines.append("")
    lines.append(f"score s = median (and min) of {RUNS} scorecard runs with the facts loaded, after a first run;"
                 f" trend = {rows[0]['trend_months']} month-end scorecards;")
    lines.append("peak MB = max RSS of the measuring process (load + scorecards + trend). On a shared machine"
                 " the min is the engine's own cost, the median includes waiting for the CPU.")
    county = [r for r in rows if r["scale"] == "county"]
    if county:
        base = county[0]
        lines.append("growth (min scorecard time; ms per 1,000 requests about constant or falling = linear or better):")
        for r in [*county, *[r for r in rows if r["scale"] == "province"]]:
            per = 1000 * r["scorecard_min_s"] / max(r["requests"], 1) * 1000
            lines.append(f"  {r['scale']} ×{r['multiplier']}: {r['requests']:,} requests, {r['scorecard_min_s']:.3f} s, "
                         f"{per:.3f} ms/1k, time ×{r['scorecard_min_s'] / base['scorecard_min_s']:.2f} "
                         f"for data ×{r['requests'] / base['requests']:.2f}")
        verdict = "met" if base["scorecard_s"] < COUNTY_TARGET_S else "NOT met"
        lines.append(f"county target < {COUNTY_TARGET_S} s: {base['scorecard_s']:.3f} s ({verdict})")
    province = [r for r in rows if r["scale"] == "province"]
    if province:
        p = province[0]
        verdict = "met" if p["scorecard_s"] < PROVINCE_TARGET_S else "NOT met"
        lines.append(f"province target < {PROVINCE_TARGET_S} s: {p['scorecard_s']:.3f} s ({verdict})")
    lines.append(f"machine: {os.cpu_count()} CPUs, load average {started_load:.1f} at the start, "
                 f"{os.getloadavg()[0]:.1f} at the end")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    if args and args[0] == "--engine":
        dates = [dt.date.fromisoformat(a) for a in args[2:]] or [
            AS_OF, dt.date(2025, 3, 31), AS_OF]
        print(json.dumps(engine(args[1], dates)))
        return 0
    if args and args[0] in ("--generate", "--measure"):
        db_path, scale, multiplier, months = args[1], args[2], int(args[3]), int(args[4])
        out = generate(db_path, scale, multiplier) if args[0] == "--generate" else \
            measure(db_path, scale, multiplier, months)
        print(json.dumps(out))
        return 0
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="county sizes only (skip the province, ~2 min)")
    parser.add_argument("--keep", help="folder to keep the generated databases in (default: a temp folder)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    opts = parser.parse_args(args)
    sizes = [("county", 1, 12), ("county", 2, 12), ("county", 4, 12)]
    if not opts.quick:
        sizes.append(("province", 1, 12))
    started_load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="kpi-bench-") as tmp:
        folder = Path(opts.keep) if opts.keep else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        rows = []
        for scale, multiplier, months in sizes:
            print(f"… {scale} ×{multiplier}", file=sys.stderr, flush=True)
            rows.append(run_child(folder, scale, multiplier, months))
    print(report(rows, started_load))
    if opts.json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
