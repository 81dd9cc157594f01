"""`python -m metrics packet`: the month's review workbook, 通报, one 督办单 per unit needing one and
the scorecard workbook, written into one folder by one command (as a cron job would run it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from docx import Document
from openpyxl import load_workbook

from data.storage.connect import close_db, get_db
from tests.pages import small_county

ROOT = Path(__file__).resolve().parents[2]


def test_packet_writes_every_document_of_the_month(tmp_path):
    db_file = tmp_path / "county.duckdb"
    small_county.fill(get_db(db_file))
    close_db(db_file)
    out = tmp_path / "packet" / "2023-10"
    done = subprocess.run([sys.executable, "-m", "metrics", "packet", "--month", "2023-10", "--out", str(out),
                           "--issued", "2023-11-03", "--db", str(db_file)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    names = sorted(p.name for p in out.iterdir())
    assert "月度考评_2023-10.xlsx" in names and "通报_2023-10.docx" in names and "记分卡_2023-10-31.xlsx" in names
    notices = [n for n in names if n.startswith("督办单_2023-10_")]
    assert len(notices) == len(names) - 3
    assert not any("县大数据发展中心" in n for n in notices)      # the office issues, it gets none
    # 县政府办 (hand-checked in the small county): task 2 due 2023-06-10 (143 days late at
    # 2023-10-31), task 6 due 2023-09-30 (31 days) and request R3's reply, due 2023-10-24
    # (5 working days)
    own = Document(str(out / next(n for n in notices if n.endswith("_县政府办.docx"))))
    rows = [[c.text for c in row.cells] for row in own.tables[0].rows][1:]
    assert [(r[2], r[3], r[4]) for r in rows] == [
        ("红灯任务", "2023年6月10日", "143天"), ("红灯任务", "2023年9月30日", "31天"),
        ("逾期申请环节", "2023年10月24日", "5个工作日")]
    texts = [p.text for p in own.paragraphs]
    assert "要求完成日期：2023年11月17日" in texts          # 10 working days after 2023-11-03
    bulletin = Document(str(out / "通报_2023-10.docx"))
    assert bulletin.paragraphs[0].text.startswith("关于2023年10月全县政务数据共享工作情况的通报")
    review = load_workbook(out / "月度考评_2023-10.xlsx")
    assert "通报" in "".join(review.sheetnames)
    card = load_workbook(out / "记分卡_2023-10-31.xlsx")
    assert card.sheetnames == ["记分卡"]
    assert f"督办单{len(notices)}份" in done.stdout


def test_packet_refuses_a_bad_month(tmp_path):
    done = subprocess.run([sys.executable, "-m", "metrics", "packet", "--month", "2023-13", "--out", str(tmp_path),
                           "--db", str(tmp_path / "x.duckdb")], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "月份格式应为 YYYY-MM" in done.stderr
