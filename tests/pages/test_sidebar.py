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

    from data.storage.connect import get_db
    from ui.session import current_as_of, current_scope
    from ui.sidebar import render_sidebar

    render_sidebar(get_db(), current_scope())
    st.markdown(f"as_of={current_as_of().isoformat()}")


def _run(as_of: str | None = None, url: str | None = None) -> AppTest:
    at = AppTest.from_function(_sidebar_app, default_timeout=30)
    at.session_state["scope"] = ADMIN
    if as_of:
        at.session_state["as_of"] = as_of
    if url is not None:
        at.query_params["as_of"] = url
    return at.run()


def _field(at):
    return at.sidebar.text_input(key="_as_of_text")


def test_default_is_today_and_a_pick_persists(county):
    at = _run()
    assert not at.exception
    assert f"as_of={dt.date.today().isoformat()}" in texts(at)
    at.sidebar.date_input[0].set_value(dt.date(2023, 9, 30)).run()     # the calendar in the popover
    assert "as_of=2023-09-30" in texts(at)
    assert at.session_state["as_of"] == "2023-09-30"
    assert "当前考评日：2023年9月30日" in texts(at)
    # A page switch reruns with the session's date: both fields show it again.
    at.run()
    assert at.sidebar.date_input[0].value == dt.date(2023, 9, 30)
    assert _field(at).value == "2023-09-30"


def test_a_typed_date_applies_on_enter_and_goes_into_the_url(county):
    at = _run("2023-10-31")
    assert at.query_params["as_of"] in ("2023-10-31", ["2023-10-31"])
    # AppTest's input() + run() is what Enter (or Tab, a blur) does in the browser: the value is sent.
    _field(at).input("2024年6月30日").run()
    assert not at.exception
    assert "as_of=2024-06-30" in texts(at) and "当前考评日：2024年6月30日" in texts(at)
    assert _field(at).value == "2024-06-30"                      # shown back in one form
    assert at.query_params["as_of"] in ("2024-06-30", ["2024-06-30"])
    # Another run (a page switch clears the URL's parameters) writes the date back.
    at.query_params.pop("as_of", None)
    at.run()
    assert "as_of=2024-06-30" in texts(at)
    assert at.query_params["as_of"] in ("2024-06-30", ["2024-06-30"])


def test_an_invalid_typed_date_is_ignored_with_a_chinese_warning(county):
    at = _run("2023-10-31")
    for bad in ("2024-02-30", "明天", "2041-01-01"):
        _field(at).input(bad).run()
        assert not at.exception
        assert "as_of=2023-10-31" in texts(at)
        assert f"“{bad}”不是有效的考评日期" in texts(at)
        assert _field(at).value == "2023-10-31"


def test_a_link_with_as_of_opens_that_date_in_a_new_session(county):
    at = _run(url="2024-06-30")                 # a new session: nothing in the session state yet
    assert not at.exception
    assert "as_of=2024-06-30" in texts(at)
    assert _field(at).value == "2024-06-30"
    # Changing the date in the session afterwards is not overridden by the old URL value.
    _field(at).input("2024-03-31").run()
    assert "as_of=2024-03-31" in texts(at)
    assert at.query_params["as_of"] in ("2024-03-31", ["2024-03-31"])


def test_an_invalid_link_is_ignored_with_a_chinese_warning(county):
    at = _run("2023-10-31", url="2024-13-01")
    assert not at.exception
    assert "as_of=2023-10-31" in texts(at)
    assert "网址中的考评日期“2024-13-01”无效，已忽略" in texts(at)
    assert at.query_params["as_of"] in ("2023-10-31", ["2023-10-31"])


def test_parse_as_of_accepts_the_usual_ways_of_writing_a_date():
    from ui.session import parse_as_of

    for text in ("2024-06-30", "2024/6/30", "2024.6.30", "2024年6月30日", "20240630", " 2024-6-30 "):
        assert parse_as_of(text) == dt.date(2024, 6, 30), text
    for text in ("2024-02-30", "2022-12-31", "2040-01-01", "abc", "", None, "2024-06"):
        assert parse_as_of(text) is None, text


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

    from data.services import scorecards
    from ui import failsafe
    from ui.session import current_as_of, current_scope

    with failsafe.guard():  # what app.py runs every page in
        card = scorecards.unit_scorecard(current_scope(), current_as_of(), st.session_state["asked_unit"])
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


def test_a_link_with_as_of_survives_the_login_form(tmp_path, monkeypatch):
    """A colleague opens ?as_of=2024-06-30 logged out, logs in, and the page shows that date."""
    from data.services import users
    from data.storage.connect import close_db, get_db
    from data.storage.scope import SYSTEM
    from tests.pages.test_login import PASSWORD, login, new_app  # the app.py login harness

    path = tmp_path / "link.duckdb"
    monkeypatch.setenv("DASHBOARD_DB", str(path))
    db = get_db(path)
    users.add_user(SYSTEM, "leader", PASSWORD, "领导", display_name="张组长", db=db)
    try:
        at = new_app()
        at.query_params["as_of"] = "2024-06-30"
        at = login(at.run(), "leader", PASSWORD)
        assert not at.exception
        assert "当前考评日：2024年6月30日" in texts(at)
        assert at.session_state["as_of"] == "2024-06-30"
        assert at.query_params["as_of"] in ("2024-06-30", ["2024-06-30"])
    finally:
        close_db(path)
