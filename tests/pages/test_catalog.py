"""目录与需求 page: per unit counts and rates, non-share items, demands."""

from __future__ import annotations

import datetime as dt

import polars as pl

from data.storage.facts import load_facts
from metrics.catalog import catalog_indicators
from tests.pages.conftest import run_page, table
from tests.pages.small_county import ADMIN, AS_OF, UNIT2, WEIBAN


def test_per_unit_catalog_figures(county):
    at = run_page("catalog", ADMIN, AS_OF)
    assert not at.exception
    assert at.title[0].value == "目录与需求"
    units = table(at, "目录条数").set_index("单位名称")
    # 县委办: C1 无条件, C2 有条件, C3 不予共享 (no basis); first item 2023-08-01, before 2023-09-30.
    row = units.loc["县委办"]
    assert (row["目录条数"], row["无条件共享"], row["有条件共享"], row["不予共享"]) == (3, 1, 1, 1)
    assert row["首条发布日期"] == "2023年8月1日" and row["发布是否按期"] == "按期"
    engine = catalog_indicators(load_facts(county), AS_OF).filter(pl.col("unit_id") == WEIBAN).row(0, named=True)
    assert engine["catalog_mounted_rate"] == 1 / 3
    assert row["目录挂接率"] == "33.33%"
    # C1 (每月) updated 16 days before, C2 (每年) published 91 days before: both fresh; C3 is 不定期.
    assert row["目录更新及时率"] == "100.00%"
    # 县政府办 published C4 on 2023-10-20, after the deadline.
    assert units.loc["县政府办", "发布是否按期"] == "逾期"
    assert units.loc["县政府办", "需求对接率"] == "50.00%"
    nonshare = table(at, "不予共享依据")
    assert list(nonshare["目录编码"]) == ["C3", "C5"]          # the one lacking its basis first
    assert list(nonshare["不予共享依据"]) == ["（未填写依据）", "《中华人民共和国保守国家秘密法》"]
    demands = table(at, "需求内容")
    assert list(demands["编号"]) == ["D2", "D3"]          # only the open demands by default


def test_earlier_date_and_all_demands(county):
    at = run_page("catalog", ADMIN, dt.date(2023, 8, 15), catalog_open_only=False)
    assert not at.exception
    units = table(at, "目录条数").set_index("单位名称")
    assert units.loc["县委办", "目录条数"] == 2        # C3 is published on 2023-09-01
    demands = table(at, "需求内容")
    assert list(demands["编号"]) == ["D1"]
    assert demands.iloc[0]["对接日期"] == ""          # matched on 2023-08-20, after this date


def test_a_unit_user_is_refused(county):
    # The page registry (ui/navigation.py) opens this page to 管理员 and 领导 only; data.services
    # would still give a 单位 user only its own rows (tests/data/test_reads.py).
    at = run_page("catalog", UNIT2, AS_OF)
    assert not at.exception
    assert "无权打开此页面" in at.error[0].value
    assert len(at.dataframe) == 0

