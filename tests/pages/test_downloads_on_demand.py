"""The expensive downloads (review workbook, scorecard workbook, 通报 in Word) are built only when
asked: a page's first run and its reruns build nothing; a click builds the file once."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import streamlit as st
from docx import Document
from openpyxl import load_workbook

import reports.docx_official
import reports.excel
from data.services.progress import verify_report
from data.storage.facts import load_facts
from data.storage.scope import Scope
from reports.csv_export import neutralise_text
from tests.pages.conftest import run_page
from tests.pages.downloads import capture_deferred, csv_rows
from tests.pages.small_county import ADMIN, AS_OF, UNIT2, ZHENGFUBAN


@pytest.fixture
def builders(monkeypatch):
    st.cache_data.clear()
    return capture_deferred(monkeypatch)


def _counted(monkeypatch, module, name: str) -> list:
    """Count the calls of module.name (the real builder still runs)."""
    calls: list = []
    real = getattr(module, name)

    def counting(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, counting)
    return calls


def test_review_builds_its_workbook_and_word_bulletin_only_when_asked(county, builders, monkeypatch):
    workbooks = _counted(monkeypatch, reports.excel, "review_workbook")
    words = _counted(monkeypatch, reports.docx_official, "bulletin_docx")
    at = run_page("review", ADMIN, AS_OF)
    assert not at.exception
    at.text_area(key="review_bulletin_2023-10").input("关于2023年10月的通报\n一、总体情况\n改过的文字").run()
    at.run()
    assert not at.exception
    assert workbooks == [] and words == []           # first run, typing and reruns build nothing
    data = builders["月度考评_2023-10.xlsx"]()          # the click
    assert len(workbooks) == 1
    book = load_workbook(io.BytesIO(data))
    assert book["排名汇总"]["A1"].value.startswith("政务数据共享工作月度考评排名汇总 2023年10月")
    # the printable workbook summarises the request steps; their rows are the CSV beside it
    assert "申请时效汇总" in book.sheetnames and "申请时效明细" not in book.sheetnames
    steps = csv_rows(builders["申请时效明细_2023-10.csv"]())
    assert steps[0][:4] == ["申请编号", "申请单位", "提供单位", "环节"]
    assert sum(r[2] for r in book["申请时效汇总"].iter_rows(min_row=4, values_only=True)) == len(steps) - 1 > 0
    assert book["通报"]["A3"].value == "改过的文字"     # the text in the box when the page last ran
    docx = builders["通报_2023-10.docx"]()
    assert len(words) == 1
    assert "改过的文字" in [p.text for p in Document(io.BytesIO(docx)).paragraphs]
    builders["月度考评_2023-10.xlsx"]()                 # a second click reads the built file
    assert len(workbooks) == 1


DETAIL_FILES = {f"{sheet}_2023-10.csv": spec for sheet, spec in reports.excel.DETAILS.items()}


def test_review_builds_each_detail_csv_only_when_asked(county, builders, monkeypatch):
    frames = _counted(monkeypatch, reports.excel, "detail_frame")
    at = run_page("review", ADMIN, AS_OF)
    at.run()
    assert not at.exception
    assert {e.proto.label for e in at.get("download_button")} >= {s.button for s in DETAIL_FILES.values()}
    assert set(DETAIL_FILES) <= set(builders) and frames == []   # offered; nothing built on the runs
    for name, spec in DETAIL_FILES.items():
        rows = csv_rows(builders[name]())                         # the click
        assert rows[0] == [c.label for c in spec.cols] and len(rows) > 1, name
    assert [args[2] for args in frames] == list(reports.excel.DETAILS)
    builders["任务台账_2023-10.csv"]()                             # a second click reads the built file
    assert len(frames) == len(DETAIL_FILES)
    # the small county keeps every detail sheet in the printable workbook, with the CSV's rows
    book = load_workbook(io.BytesIO(builders["月度考评_2023-10.xlsx"]()))
    for name, spec in DETAIL_FILES.items():
        assert book[spec.sheet].max_row - 3 == len(csv_rows(builders[name]())) - 1


def test_scorecards_builds_its_workbook_only_when_asked(county, builders, monkeypatch):
    workbooks = _counted(monkeypatch, reports.excel, "scorecard_workbook")
    at = run_page("scorecards", ADMIN, AS_OF, scorecards_unit="县委办")
    at.run()
    assert not at.exception and workbooks == []
    data = builders["记分卡_2023-10-31.xlsx"]()
    assert len(workbooks) == 1
    assert load_workbook(io.BytesIO(data))["记分卡"]["A1"].value == "政务数据共享工作记分卡（截至2023年10月31日）"


def test_the_unit_workspace_builds_its_scorecard_only_when_asked(county, builders, monkeypatch):
    workbooks = _counted(monkeypatch, reports.excel, "scorecard_workbook")
    at = run_page("my_unit", UNIT2, AS_OF)
    assert not at.exception and workbooks == []
    (name,) = [n for n in builders if n.startswith("记分卡_")]
    load_workbook(io.BytesIO(builders[name]()))
    assert len(workbooks) == 1


def test_a_published_months_download_is_the_frozen_workbook_with_its_differences(county, builders, monkeypatch):
    at = run_page("review", ADMIN, AS_OF)
    at.checkbox(key="review_publish_sure_2023-10").check().run()
    at.button(key="review_publish_2023-10").click().run()          # publication freezes the whole workbook
    assert not at.exception
    workbooks = _counted(monkeypatch, reports.excel, "review_workbook")
    at = run_page("review", ADMIN, AS_OF)
    assert not at.exception and workbooks == []
    book = load_workbook(io.BytesIO(builders["月度考评_2023-10.xlsx"]()))
    assert workbooks == []                                          # the frozen file, not a rebuild
    assert "申请时效明细" in book.sheetnames and book.sheetnames[-1] == "差异"
    assert book["差异"]["A2"].value == "按当前数据重新计算，结果与已发布的一致。"


def _cells(ws, width: int) -> list[list[str]]:
    """A table_sheet's header and rows as its CSV writes them."""
    def text(value) -> str:
        if value is None:
            return ""
        if isinstance(value, dt.datetime):
            return value.date().isoformat()
        if isinstance(value, float):
            return f"{value:.16g}"
        return neutralise_text(str(value))

    return [[text(v) for v in row] for row in ws.iter_rows(min_row=3, max_col=width, values_only=True)]


def test_a_published_months_detail_csvs_are_the_sheets_of_its_frozen_workbook(county, builders, monkeypatch):
    at = run_page("review", ADMIN, AS_OF)
    at.checkbox(key="review_publish_sure_2023-10").check().run()
    at.button(key="review_publish_2023-10").click().run()
    assert not at.exception
    # a correction after publication: 县政府办's report of 2023-10-25 on task 6 is verified, which
    # changes its October figures and its row of the task ledger
    verify_report(Scope(username="office", role="管理员"), 6, ZHENGFUBAN, dt.date(2023, 10, 25), db=county)
    frames = _counted(monkeypatch, reports.excel, "detail_frame")
    at = run_page("review", ADMIN, AS_OF)
    assert not at.exception
    frozen = load_workbook(io.BytesIO(builders["月度考评_2023-10.xlsx"]()))
    assert frozen["差异"]["A2"].value.startswith("本工作簿为已发布（冻结）的结果")
    for name, spec in DETAIL_FILES.items():
        assert csv_rows(builders[name]()) == _cells(frozen[spec.sheet], len(spec.cols)), name
    assert frames == []                                           # read from the frozen workbook
    # the files do differ from a recomputation with today's data
    facts = load_facts(county)
    for sheet in ("单位记分卡", "任务台账"):
        now = csv_rows(reports.excel.detail_csv(reports.excel.detail_frame(facts, "2023-10", sheet), sheet))
        assert now != csv_rows(builders[f"{sheet}_2023-10.csv"]()), sheet
