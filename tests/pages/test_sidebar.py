"""The shared sidebar (as-of date, demo banner, calendar warning) and the display formats."""

from __future__ import annotations

import datetime as dt

import polars as pl

from tests.pages.conftest import AppTest, texts
from tests.pages.small_county import ADMIN
from ui import fmt


def _sidebar_app():
    # What app.py does before the page: the sidebar with the session's user.
    import streamlit as st

    from data.db import get_db
    from ui.session import current_as_of, current_scope
    from ui.sidebar import render_sidebar

    render_sidebar(get_db(), current_scope())
    st.markdown(f"as_of={current_as_of().isoformat()}")


def _run(as_of: str | None = None) -> AppTest:
    at = AppTest.from_function(_sidebar_app, default_timeout=30)
    at.session_state["scope"] = ADMIN
    if as_of:
        at.session_state["as_of"] = as_of
    return at.run()


def test_default_is_today_and_a_pick_persists(county):
    at = _run()
    assert not at.exception
    assert f"as_of={dt.date.today().isoformat()}" in texts(at)
    at.sidebar.date_input[0].set_value(dt.date(2023, 9, 30)).run()
    assert "as_of=2023-09-30" in texts(at)
    assert at.session_state["as_of"] == "2023-09-30"
    assert "当前考评日：2023年9月30日" in texts(at)
    # A page switch reruns with the session's date: the picker shows it again.
    at.run()
    assert at.sidebar.date_input[0].value == dt.date(2023, 9, 30)


def test_demo_banner_only_with_demo_data(county):
    assert "演示数据" not in texts(_run("2023-10-31"))
    with county.transaction() as cur:
        cur.execute("INSERT INTO meta VALUES ('demo', ?)", ['{"scale": "county", "seed": 1}'])
    assert "演示数据" in texts(_run("2023-10-31"))


def test_calendar_warning_for_an_uncovered_year(county):
    assert "工作日历未包含" not in texts(_run("2024-03-01"))
    with county.transaction() as cur:
        cur.execute("DELETE FROM calendar_days WHERE year(day) = 2026")
    warning = texts(_run("2026-03-01"))
    assert "工作日历未包含2026年的节假日安排" in warning


def test_formats():
    assert fmt.fmt_date(dt.date(2023, 5, 31)) == "2023年5月31日"
    assert fmt.fmt_month("2023-09") == "2023年9月"
    assert fmt.fmt_pct(2 / 3) == "66.67%" and fmt.fmt_pct(0.00125) == "0.13%" and fmt.fmt_pct(None) == "不适用"
    assert fmt.fmt_score(64.935) == "64.94" and fmt.fmt_score(None) == "不适用"
    assert fmt.fmt_delta_pct(-0.4) == "-40.00 个百分点" and fmt.fmt_delta_pct(None) is None
    assert fmt.fmt_delta(3) == "+3" and fmt.fmt_delta(-1.25, " 分") == "-1.25 分"
    assert fmt.fmt_delta(0) == "持平" and fmt.fmt_delta(0.001) == "持平" and fmt.fmt_delta_pct(-0.00001) == "持平"
    assert fmt.delta_arrow(0.001) == "off" and fmt.delta_arrow(-2) == "auto" and fmt.delta_arrow(None) == "off"
    table = fmt.table(
        pl.DataFrame({"unit": ["县委办"], "rate": [0.125], "composite": [None], "due_date": [dt.date(2023, 6, 10)],
                      "verified": [False]}, schema_overrides={"composite": pl.Float64}),
        rates=("rate",), scores=("composite",), labels={"rate": "挂接率"},
    )
    assert table.columns == ["单位名称", "挂接率", "综合得分", "完成时限", "已核验"]
    assert table.row(0) == ("县委办", "12.50%", "不适用", "2023年6月10日", "否")


def test_indicator_values_by_unit():
    frame = pl.DataFrame({"kind": ["rate", "flag", "flag", "count", "score", "rate"],
                          "value": [0.5, 1.0, 0.0, 2.0, 85.0, None]})
    assert frame.select(fmt.indicator_values(frame))[:, 0].to_list() == ["50.00%", "是", "否", "2", "85.00", "不适用"]


def _ask_for_another_unit():
    import streamlit as st

    from ui import cache
    from ui.session import current_as_of, current_scope

    card = cache.view("unit_scorecard", current_scope(), current_as_of(), st.session_state["asked_unit"])
    st.markdown(f"composite={card['composite']}")


def test_a_view_refusing_the_scope_stops_the_page_in_chinese(county):
    from tests.pages.small_county import UNIT2, WEIBAN, ZHENGFUBAN

    for unit, refused in ((WEIBAN, False), (ZHENGFUBAN, True)):
        at = AppTest.from_function(_ask_for_another_unit, default_timeout=30)
        at.session_state["scope"] = UNIT2
        at.session_state["as_of"] = "2023-10-31"
        at.session_state["asked_unit"] = unit
        at.run()
        assert not at.exception
        assert ("无权查看或修改其他单位的数据" in texts(at)) is refused
        assert ("composite=" in texts(at)) is not refused
