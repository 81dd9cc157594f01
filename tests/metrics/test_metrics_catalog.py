"""Catalog and demand indicators on a hand-made catalog, as of 2024-03-31."""

from __future__ import annotations

import polars as pl
from kpi_fixtures import D, item, make_facts
from polars.testing import assert_frame_equal

from metrics.catalog import catalog_indicators
from metrics.trace import rows_behind

AS_OF = D(2024, 3, 31)

ITEMS = [
    # unit 2 -------------------------------------------------------------------------------
    # complete, shared, mounted, monthly, updated 16 days before D: fresh
    item("C1", 2, D(2023, 9, 1), mounted_on=D(2023, 10, 1), last_updated_on=D(2024, 3, 15)),
    # 有条件共享 without its condition: metadata incomplete; quarterly, updated 91 days before D: fresh
    item("C2", 2, D(2023, 9, 20), share_type="有条件共享", update_cycle="每季度", last_updated_on=D(2023, 12, 31)),
    # 不予共享 with a basis; mounted and updated only after D, so unmounted and judged from its
    # publish date (173 days old, weekly): stale
    item("C3", 2, D(2023, 10, 10), share_type="不予共享", nonshare_basis="涉及国家秘密", update_cycle="每周",
         mounted_on=D(2024, 4, 2), last_updated_on=D(2024, 4, 1)),
    # 不予共享 without a basis; 不定期 is left out of freshness
    item("C4", 2, D(2024, 1, 5), share_type="不予共享", update_cycle="不定期", mounted_on=D(2024, 1, 6)),
    # 信息项数 0: incomplete; yearly, never updated, 59 days since publication: fresh
    item("C6", 2, D(2024, 2, 1), item_count=0, update_cycle="每年", mounted_on=D(2024, 2, 1)),
    # published after D: invisible
    item("C5", 2, D(2024, 4, 10)),
    # unit 3: no open type (incomplete); monthly, updated exactly 31 days before D: fresh
    item("C7", 3, D(2023, 10, 8), open_type=None, share_type="有条件共享", share_condition="仅限核验",
         last_updated_on=D(2024, 2, 29)),
    # unit 4: only an irregular item -> freshness n/a
    item("C8", 4, D(2023, 6, 1), update_cycle="不定期"),
]

DEMANDS = [
    {"code": "DM1", "unit_id": 2, "content": "户籍", "raised_on": D(2023, 10, 1), "matched_on": D(2023, 11, 1)},
    {"code": "DM2", "unit_id": 2, "content": "社保", "raised_on": D(2024, 1, 1), "matched_on": D(2024, 4, 5)},
    {"code": "DM3", "unit_id": 2, "content": "不动产", "raised_on": D(2024, 4, 1)},
    {"code": "DM4", "unit_id": 4, "content": "婚姻", "raised_on": D(2024, 3, 1)},
]


def test_catalog_indicators():
    facts = make_facts(catalog=ITEMS, demands=DEMANDS)
    expected = pl.DataFrame(
        {
            "unit_id": [1, 2, 3, 4, 5],
            # units 1 and 5 have published nothing: 0, and every catalog rate n/a
            "catalog_published": [0, 1, 1, 1, 0],
            # unit 2: C1, C3 complete of C1 C2 C3 C4 C6 -> 2/5
            "catalog_metadata_rate": [None, 0.4, 0.0, 1.0, None],
            # unit 2: C1, C4, C6 mounted by D -> 3/5
            "catalog_mounted_rate": [None, 0.6, 0.0, 0.0, None],
            # unit 2: C1 C2 C6 fresh, C3 stale, C4 irregular -> 3/4
            "catalog_fresh_rate": [None, 0.75, 1.0, None, None],
            # unit 2: C1 C2 C6 shared -> 3/5
            "share_rate": [None, 0.6, 1.0, 1.0, None],
            # unit 2: C3 with basis, C4 without -> 1/2
            "nonshare_basis_rate": [None, 0.5, None, None, None],
            # unit 2: DM1 matched, DM2 matched after D, DM3 raised after D -> 1/2; unit 4: 0/1
            "demand_matched_rate": [None, 0.5, None, 0.0, None],
            "catalog_first_published_on": [None, D(2023, 9, 1), D(2023, 10, 8), D(2023, 6, 1), None],
            # first item vs the 2023-09-30 deadline (M2): 按期 / 逾期
            "catalog_on_time": [None, True, False, True, None],
        },
        schema_overrides={"unit_id": pl.Int64, "catalog_published": pl.Int8},
    )
    assert_frame_equal(catalog_indicators(facts, AS_OF), expected)


def test_stale_items_behind_the_freshness_rate():
    facts = make_facts(catalog=ITEMS)
    rows = rows_behind(facts, AS_OF, 2, "catalog_fresh_rate")
    # the stale item first, then the fresh ones; the irregular C4 is not counted
    assert rows.select("目录编码", "最近更新日期", "距考评日天数", "是否达标").rows() == [
        ("C3", D(2023, 10, 10), 173, "否"),
        ("C1", D(2024, 3, 15), 16, "是"),
        ("C2", D(2023, 12, 31), 91, "是"),
        ("C6", D(2024, 2, 1), 59, "是"),
    ]
