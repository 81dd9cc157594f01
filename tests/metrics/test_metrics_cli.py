"""`python -m metrics` as a subprocess against a temporary --db."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

from data.db import close_db, get_db
from data.facts import load_facts
from data.plan import PLAN_UNITS
from metrics.registry import CSV_COLUMNS
from metrics.scorecard import scorecard, scorecard_csv

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "metrics", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


@pytest.fixture
def db_file(tmp_path):
    return tmp_path / "cli.duckdb"


def test_scorecard_to_stdout_on_a_new_database(db_file):
    done = run("scorecard", "--as-of", "2024-01-31", "--db", str(db_file))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == ",".join(CSV_COLUMNS)
    assert len(lines) == 1 + len(PLAN_UNITS)  # the plan was loaded into the new database
    try:
        expected = scorecard_csv(scorecard(load_facts(get_db(db_file)), dt.date(2024, 1, 31)))
    finally:
        close_db(db_file)
    assert done.stdout == expected


def test_scorecard_csv_neutralises_hostile_unit_names(db_file):
    db = get_db(db_file)
    try:
        with db.transaction() as cur:
            first = cur.execute("SELECT unit_id, name FROM units ORDER BY unit_id LIMIT 2").fetchall()
            cur.execute("UPDATE units SET name = ? WHERE unit_id = ?", ["=cmd|'/Ccalc'!A0", first[0][0]])
            cur.execute("UPDATE units SET name = ? WHERE unit_id = ?", ["-1+1", first[1][0]])
    finally:
        close_db(db_file)
    done = run("scorecard", "--as-of", "2024-01-31", "--db", str(db_file))
    assert done.returncode == 0, done.stderr
    names = [line.split(",")[0] for line in done.stdout.splitlines()[1:]]
    assert "'=cmd|'/Ccalc'!A0" in names and "'-1+1" in names
    assert "=cmd|'/Ccalc'!A0" not in names and "-1+1" not in names


def test_scorecard_out_csv_and_xlsx(db_file, tmp_path):
    csv_path, xlsx_path = tmp_path / "card.csv", tmp_path / "card.xlsx"
    assert run("scorecard", "--as-of", "2023-09-30", "--db", str(db_file), "--out", str(csv_path)).returncode == 0
    assert csv_path.read_text(encoding="utf-8").splitlines()[0] == ",".join(CSV_COLUMNS)
    done = run("scorecard", "--as-of", "2023-09-30", "--db", str(db_file), "--out", str(xlsx_path))
    assert done.returncode == 0, done.stderr
    assert xlsx_path.read_bytes()[:2] == b"PK"


def test_review_workbook(db_file, tmp_path):
    out = tmp_path / "review.xlsx"
    done = run("review", "--month", "2024-01", "--db", str(db_file), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert out.read_bytes()[:2] == b"PK"


@pytest.mark.parametrize(
    ("args", "zh"),
    [
        (["scorecard", "--as-of", "2024-02-30"], "错误：日期格式应为 YYYY-MM-DD：2024-02-30"),
        (["scorecard", "--as-of", "2024-01-31", "--out", "x.txt"], "错误：输出文件须为 .csv 或 .xlsx：x.txt"),
        (["review", "--month", "2024-13", "--out", "r.xlsx"], "错误：月份格式应为 YYYY-MM：2024-13"),
    ],
)
def test_errors_are_two_lines_without_traceback(db_file, args, zh):
    done = run(*args, "--db", str(db_file))
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert len(lines) == 2
    assert lines[0] == zh
    assert lines[1].startswith("Error: ")
    assert "Traceback" not in done.stderr


def test_debug_shows_the_traceback(db_file):
    done = run("scorecard", "--as-of", "nope", "--db", str(db_file), "--debug")
    assert done.returncode != 0
    assert "Traceback" in done.stderr
