"""数据导入 page: the error list download is a neutralised CSV (docs/security.md, CSV exports)."""

from __future__ import annotations

import pytest

from tests.fixtures.workbooks import workbook_bytes
from tests.pages.conftest import run_page
from tests.pages.downloads import capture_downloads, csv_rows
from tests.pages.small_county import ADMIN, AS_OF

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CONTACTS = ["单位名称", "角色", "姓名", "明确日期"]



@pytest.fixture
def downloads(monkeypatch):
    return capture_downloads(monkeypatch)


def test_error_csv_neutralises_formulas_typed_in_the_file(county, downloads):
    at = run_page("import", ADMIN, AS_OF)
    data = workbook_bytes({"责任人": [CONTACTS, ["县政府办", "经办人", "周九", "=TODAY()"],
                                   ["=1+1", "经办人", "吴十", "2023-07-02"]]})
    at.file_uploader(key="import_file").set_value(("坏.xlsx", data, XLSX))
    at = at.run()
    assert not at.exception
    assert at.download_button(key="import_errors_csv").label == "下载错误清单（CSV）"
    rows = csv_rows(downloads["导入错误_坏.xlsx.csv"])
    values = [row[rows[0].index("值")] for row in rows[1:]]
    assert "'=TODAY()" in values and "'=1+1" in values
    assert "=TODAY()" not in values and "=1+1" not in values
    assert all(row[rows[0].index("行号")] in ("2", "3") for row in rows[1:])  # row numbers stay numbers
