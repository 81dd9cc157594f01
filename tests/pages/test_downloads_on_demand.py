"""The expensive downloads (review workbook, scorecard workbook, 通报 in Word) are built only when
asked: a page's first run and its reruns build nothing; a click builds the file once."""

from __future__ import annotations

import io

import pytest
import streamlit as st
from docx import Document
from openpyxl import load_workbook

import reports.docx_official
import reports.excel
from tests.pages.conftest import run_page
from tests.pages.downloads import capture_deferred, csv_rows
from tests.pages.small_county import ADMIN, AS_OF, UNIT2


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
