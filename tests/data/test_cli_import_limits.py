"""`python -m data import` accepts only regular files and never shows a traceback: a device, a
FIFO, a directory or a damaged workbook is refused with exit code 2 and a Chinese message."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from data.storage.connect import close_db, get_db
from tests.fixtures.workbooks import full_workbook_rows, patch_member, workbook_bytes

ROOT = Path(__file__).resolve().parents[2]


def _import(path, db) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "data", "import", str(path), "--db", str(db)],
        input="", capture_output=True, text=True, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120,
    )


@pytest.fixture
def db_file(tmp_path):
    path = tmp_path / "cli.duckdb"
    get_db(path)
    close_db(path)
    return path


def _fifo(tmp_path):
    path = tmp_path / "管道.xlsx"
    os.mkfifo(path)
    return path


@pytest.mark.parametrize("make,what", [
    (lambda tmp: Path("/dev/zero"), "设备、管道或其他特殊文件"),
    (_fifo, "设备、管道或其他特殊文件"),
    (lambda tmp: tmp, "文件夹"),
], ids=["device", "fifo", "directory"])
def test_only_regular_files_are_read(db_file, tmp_path, make, what):
    path = make(tmp_path)
    result = _import(path, db_file)
    assert result.returncode == 2, result.stderr
    assert f"{path} 是{what}，不是普通文件：只能导入 .xlsx 工作簿或 .csv 文件。" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_damaged_workbook_exits_2_without_a_traceback(db_file, tmp_path):
    data = workbook_bytes({"责任人": full_workbook_rows()["责任人"]})
    header_cell = b't="inlineStr"><is><t>&#21333;&#20301;&#21517;&#31216;</t></is>'
    path = tmp_path / "坏索引.xlsx"
    path.write_bytes(patch_member(data, "xl/worksheets/", header_cell, b't="s"><v>99999</v>'))
    result = _import(path, db_file)
    assert result.returncode == 2, result.stderr
    assert "坏索引.xlsx：文件已损坏或不完整（可能上传中断），无法读取。" in result.stderr
    assert "Traceback" not in result.stderr
