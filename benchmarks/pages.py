"""Page benchmark: `bash scripts/cli benchmarks.pages [--scale county|province] [--db FILE] [--pages …]`.

Each page runs in its own fresh process (empty caches, as after a restart) under Streamlit's
AppTest as the office (管理员), on deterministic demo data (seed 4, up to `--today`):
- imports: what app.py imports and Streamlit's first script run (its scan of the installed
           packages for components), which the server has done before anyone opens a page (the
           login page runs app.py), timed apart;
- first:   then the first run at as-of 2025-06-30 (facts loaded, every cache cold);
- new date: the next run at a new as-of date, 2025-03-31 (a change of 考评日期 in the sidebar);
- warm:    the same run again (what every further user and rerun pays);
- filter:  a page-specific filter change where the page has one (月度考评: the previous month);
- warm-up: then the server's start-up warm-up (data.services.snapshot.warm_up: today's snapshot and
           every month-end since the plan's start), which a real server runs in the background;
- after:   then a run at a third as-of date, 2024-12-31, whose 12 months the warm-up computed
           (what a change of date costs on a server that has been up a minute or two);
- peak MB: the process's maximum resident set size after all runs.
With `--one-server`, every page then runs again in one process, as one server serves them (one
session a page, caches shared: each page at the first date, the warm-up, each page at the two other
dates and the filter changes), and its peak memory is the server's with every page visited.
A page that raises shows its exception instead of figures. The data sizes and the machine load are
printed with the figures, so a README line can say what was measured.

Without `--db` the demo database is generated into a temporary folder first (county: seconds;
province: one to two minutes and about 1 GB of disk).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIRST = dt.date(2025, 6, 30)
SECOND = dt.date(2025, 3, 31)
THIRD = dt.date(2024, 12, 31)
ADMIN = {"username": "bench", "role": "管理员", "unit_id": None, "display_name": "办公室"}
# page file stem -> (session-state key, value) of a filter change worth timing
FILTERS = {"review": ("review_month", "2025-02")}


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def server_start() -> float:
    """What the server has done before anyone opens a page, in seconds: import what app.py imports
    (read from its import statements; the login page ran app.py) and Streamlit's own start-up (its
    first script run scans the installed packages for components, about 0.4 s), paid here on an
    empty script."""
    import ast
    import importlib

    from streamlit.testing.v1 import AppTest

    tree = ast.parse((ROOT / "app.py").read_text(encoding="utf-8"))
    names = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
            names += [f"{node.module}.{alias.name}" for alias in node.names]
    started = time.perf_counter()
    for name in names:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError:  # `from package import function`: the package is imported
            pass
    AppTest.from_string("import streamlit as st").run()
    return time.perf_counter() - started


def session(page: str):
    """A session of the office (管理员) on one page (pages/PAGE.py) under AppTest."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "pages" / f"{page}.py"), default_timeout=1800)
    at.session_state["scope"] = ADMIN
    return at


def _timed_run(at) -> tuple[float, str | None]:
    started = time.perf_counter()
    at.run()
    elapsed = time.perf_counter() - started
    error = None
    if at.exception:
        error = str(at.exception[0].value)[:300]
    return elapsed, error


def measure_page(db_path: str, page: str) -> dict:
    """In a child process: time one page as described in the module docstring."""
    os.environ["DASHBOARD_DB"] = db_path
    import requests  # noqa: F401  (pages/requests.py must not shadow the library; see tests/pages)

    out: dict = {"page": page, "imports_s": server_start()}
    at = session(page)
    at.session_state["as_of"] = FIRST.isoformat()
    out["first_s"], error = _timed_run(at)
    if error is None and not (at.metric or at.dataframe or at.table):
        error = "page drew no figures or tables: " + "; ".join(str(w.value) for w in (*at.warning, *at.error))
    if error is None:
        at.session_state["as_of"] = SECOND.isoformat()
        out["new_date_s"], error = _timed_run(at)
    if error is None:
        out["warm_s"], error = _timed_run(at)
    if error is None and page in FILTERS:
        key, value = FILTERS[page]
        at.session_state[key] = value
        out["filter_s"], error = _timed_run(at)
    if error is None:
        from data.services.snapshot import warm_up
        from data.storage.connect import get_db

        started = time.perf_counter()
        warm_up(get_db(db_path))
        out["warm_up_s"] = time.perf_counter() - started
        at.session_state["as_of"] = THIRD.isoformat()
        out["after_warm_up_s"], error = _timed_run(at)
    out["error"] = error
    out["peak_rss_mb"] = _rss_mb()
    return out


def _current_rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def measure_server(db_path: str, pages: list[str]) -> dict:
    """In a child process: every page in one process, as one server serves them (one session a
    page, the caches shared): each page at FIRST, the warm-up, each page at SECOND, the filter
    changes, each page at THIRD. What the process peaks at is the server's peak with every page visited."""
    os.environ["DASHBOARD_DB"] = db_path
    import requests  # noqa: F401  (pages/requests.py must not shadow the library; see tests/pages)
    from streamlit.testing.v1 import AppTest

    from data.services.snapshot import warm_up
    from data.storage.connect import get_db

    server_start()
    sessions: dict[str, AppTest] = {}
    times: list[float] = []
    errors: list[str] = []

    def run(page: str, day: dt.date, change: tuple[str, str] | None = None) -> None:
        if page not in sessions:
            sessions[page] = session(page)
        at = sessions[page]
        at.session_state["as_of"] = day.isoformat()
        if change:
            at.session_state[change[0]] = change[1]
        elapsed, error = _timed_run(at)
        times.append(elapsed)
        if error:
            errors.append(f"{page} {day}: {error}")

    for page in pages:
        run(page, FIRST)
    started = time.perf_counter()
    warm_up(get_db(db_path))
    warm_up_s = time.perf_counter() - started
    for page in pages:
        run(page, SECOND)
    for page, change in FILTERS.items():
        if page in pages:
            run(page, SECOND, change)
    for page in pages:
        run(page, THIRD)
    return {"runs": len(times), "max_s": max(times, default=0.0), "warm_up_s": warm_up_s, "errors": errors,
            "peak_rss_mb": _rss_mb(), "end_rss_mb": _current_rss_mb()}


def ensure_login(db) -> None:
    """Pages re-check the session's user against the users table: create the office login."""
    from data.services.users import add_user, list_users
    from data.storage.scope import SYSTEM

    if ADMIN["username"] not in list_users(db)["username"].to_list():
        add_user(SYSTEM, ADMIN["username"], "bench-password-2025", "管理员", display_name=ADMIN["display_name"], db=db)


def sizes(db_path: str) -> dict:
    from data.storage.connect import get_db

    db = get_db(db_path)
    ensure_login(db)
    return {
        table: int(db.scalar(f"SELECT count(*) FROM {table}"))
        for table in ("units", "catalog_items", "share_requests", "progress_reports", "catalog_updates")
    }


def generate(db_path: str, scale: str, today: dt.date) -> None:
    from data.services.demo import generate_demo
    from data.storage.connect import get_db

    generate_demo(get_db(db_path), scale=scale, seed=4, today=today, force=True)


def _child(*args: str) -> dict | None:
    done = subprocess.run([sys.executable, "-m", "benchmarks.pages", *args], cwd=ROOT, capture_output=True,
                          text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"benchmark child {args} failed:\n{done.stderr[-3000:]}")
    lines = done.stdout.strip().splitlines()
    return json.loads(lines[-1]) if lines else None


def _fmt(value) -> str:
    return "—" if value is None else f"{value:.2f}"


def report(scale: str, data: dict, rows: list[dict], load: tuple[float, float]) -> str:
    lines = [
        f"scale {scale}: {data['units']:,} units, {data['catalog_items']:,} catalog items, "
        f"{data['share_requests']:,} requests, {data['progress_reports']:,} progress reports, "
        f"{data['catalog_updates']:,} catalog updates",
        f"{'page':<12}{'imports s':>10}{'first s':>9}{'new date s':>12}{'warm s':>9}{'filter s':>10}{'warm-up s':>11}"
        f"{'after s':>9}{'peak MB':>9}  error",
    ]
    for r in rows:
        lines.append(f"{r['page']:<12}{_fmt(r.get('imports_s')):>10}{_fmt(r.get('first_s')):>9}{_fmt(r.get('new_date_s')):>12}"
                     f"{_fmt(r.get('warm_s')):>9}{_fmt(r.get('filter_s')):>10}{_fmt(r.get('warm_up_s')):>11}"
                     f"{_fmt(r.get('after_warm_up_s')):>9}{r['peak_rss_mb']:>9.0f}  "
                     f"{r.get('error') or ''}")
    lines.append(f"imports = what app.py imports and Streamlit's start-up, done at the server's start; first = then the first run at {FIRST}, new date = then at {SECOND}, warm = the same run again; "
                 f"warm-up = the server's start-up warm-up, after = then a run at {THIRD}; "
                 "each page in its own process as 管理员")
    lines.append(f"machine: {os.cpu_count()} CPUs, load average {load[0]:.1f} at the start, {load[1]:.1f} at the end")
    return "\n".join(lines)


DEFAULT_PAGES = ("overview", "scorecards", "review", "requests", "catalog", "infra", "tasks")


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    if args and args[0] == "--child-page":
        print(json.dumps(measure_page(args[1], args[2]), ensure_ascii=False))
        return 0
    if args and args[0] == "--child-server":
        print(json.dumps(measure_server(args[1], args[2:]), ensure_ascii=False))
        return 0
    if args and args[0] == "--child-generate":
        generate(args[1], args[2], dt.date.fromisoformat(args[3]))
        print(json.dumps(sizes(args[1])))
        return 0
    if args and args[0] == "--child-sizes":
        print(json.dumps(sizes(args[1])))
        return 0
    parser = argparse.ArgumentParser(prog="benchmarks.pages", description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=("county", "province"), default="county")
    parser.add_argument("--db", help="an existing demo database to measure (default: generate one)")
    parser.add_argument("--today", default=dt.date.today().isoformat(), help="demo data end date")
    parser.add_argument("--pages", nargs="*", default=list(DEFAULT_PAGES))
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--one-server", action="store_true",
                        help="then every page again in one process (the server's peak memory with every page visited)")
    opts = parser.parse_args(args)
    start_load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="page-bench-") as tmp:
        db_path = opts.db or str(Path(tmp) / f"pages-{opts.scale}.duckdb")
        if opts.db:
            data = _child("--child-sizes", db_path)
        else:
            print(f"… generating {opts.scale} demo data", file=sys.stderr, flush=True)
            data = _child("--child-generate", db_path, opts.scale, opts.today)
        rows = []
        for page in opts.pages:
            print(f"… {page}", file=sys.stderr, flush=True)
            rows.append(_child("--child-page", db_path, page))
        server = None
        if opts.one_server:
            print("… every page in one process", file=sys.stderr, flush=True)
            server = _child("--child-server", db_path, *opts.pages)
    print(report(opts.scale, data, rows, (start_load, os.getloadavg()[0])))
    if server is not None:
        print(f"one process, every page at {FIRST}, the warm-up ({server['warm_up_s']:.1f} s), every page at "
              f"{SECOND} and at {THIRD} and the filter changes: {server['runs']} runs, the slowest "
              f"{server['max_s']:.2f} s; peak {server['peak_rss_mb']:.0f} MB, {server['end_rss_mb']:.0f} MB at the end"
              + (f"; errors: {server['errors']}" if server["errors"] else ""))
    if opts.json:
        print(json.dumps({"sizes": data, "pages": rows, "server": server}, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
