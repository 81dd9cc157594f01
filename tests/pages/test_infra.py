"""基础设施与安全 page: systems, networks, security, quality, village coverage, masked contacts."""

from __future__ import annotations

import datetime as dt

from tests.pages.conftest import run_page, table
from tests.pages.small_county import ADMIN, AS_OF, UNIT3


def test_per_unit_infrastructure(county):
    at = run_page("infra", ADMIN, AS_OF)
    assert not at.exception
    assert at.title[0].value == "基础设施与安全"
    units = table(at, "安全评估").set_index("单位名称")
    row = units.loc["县委办"]
    # 县委办: one non-classified system, registered and connected; its one private network migrates
    # only on 2023-11-15; the 2023-09-01 assessment has 2 of 3 measures; quality (90+80+100+70)/4.
    assert row["信息系统接入率"] == "100.00%"
    assert row["业务专网迁移率"] == "0.00%"
    assert row["安全措施落实率"] == "66.67%" and row["安全评估"] == "已评估"
    assert row["数据质量得分"] == "85.00"
    assert row["质量问题整改率"] == "75.00%"
    assert row["分管领导和经办人"] == "已明确" and row["是否按期"] == "按期"
    # 县政府办: its system is registered without a date (counts) and not connected; never assessed.
    row = units.loc["县政府办"]
    assert row["信息系统注册率"] == "100.00%" and row["信息系统接入率"] == "0.00%"
    assert row["安全评估"] == "未评估" and row["安全措施落实率"] == "0.00%"
    assert row["分管领导和经办人"] == "未明确"
    coverage = table(at, "乡镇（街道）").set_index("乡镇（街道）")
    assert coverage.loc["冰溪街道", "覆盖率"] == "80.00%"
    assert coverage.loc["冰溪街道", "统计日期"] == "2023年9月30日"


def test_earlier_date(county):
    at = run_page("infra", ADMIN, dt.date(2023, 7, 15))
    assert not at.exception
    coverage = table(at, "乡镇（街道）").set_index("乡镇（街道）")
    assert coverage.loc["冰溪街道", "覆盖率"] == "60.00%"
    units = table(at, "安全评估").set_index("单位名称")
    assert units.loc["县委办", "安全评估"] == "未评估"
    assert units.loc["县委办", "信息系统接入率"] == "0.00%"    # connected on 2023-08-01


def test_a_unit_user_is_refused(county):
    # The page registry (ui/navigation.py) opens this page to 管理员 and 领导 only; data.services
    # would still give a 单位 user only its own rows (tests/data/test_reads.py).
    at = run_page("infra", UNIT3, AS_OF)
    assert not at.exception
    assert "无权打开此页面" in at.error[0].value
    assert len(at.dataframe) == 0

