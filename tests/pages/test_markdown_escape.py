"""User text shown through markdown (messages, captions) renders as typed: no link, no image."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.pages.conftest import AppTest, run_page, texts
from tests.pages.small_county import ADMIN, AS_OF, ZHENGFUBAN
from ui.fmt import md_escape

IMAGE = "![x](http://evil.example/a.png)"
LINK = "[点我](http://evil.example)"
# Markdown source in which a link or an image would render: [text](url), <url>, a bare URL.
LIVE = re.compile(r"(?<!\\)\[[^\]]*(?<!\\)\]\(|(?<!\\)<http|(?<!\\)https?(?<!\\):(?<!\\)//|www(?<!\\)\.")


@pytest.mark.parametrize("text", [IMAGE, LINK, "<http://evil.example>", "www.evil.example", "http://evil.example",
                                  ":red[警告] :material/home: $x$ **粗体** # 标题 `代码` a_b_c ~~删~~ | 表 |"])
def test_md_escape_leaves_nothing_live_and_reads_as_typed(text):
    escaped = md_escape(text)
    assert not LIVE.search(escaped)
    # every markdown character is escaped, and dropping the escapes gives back the text as typed
    assert re.sub(r"\\(.)", r"\1", escaped) == text
    assert not re.search(r"(?<!\\)[\[\]()!<>*_`#$:~|]", escaped.replace("\\\\", ""))


def test_the_live_pattern_catches_what_it_must():
    assert LIVE.search(IMAGE) and LIVE.search(LINK) and LIVE.search("see www.evil.example")


def test_plain_chinese_text_is_unchanged_and_lines_are_joined():
    assert md_escape("县公安局（县直部门）。") == "县公安局（县直部门）。"
    assert md_escape("第一行\n第二行") == "第一行 第二行"
    assert md_escape(None) == ""


def test_a_unit_named_like_an_image_is_shown_as_text_in_the_tasks_message(county):
    with county.transaction() as cur:
        cur.execute("UPDATE units SET name = ? WHERE unit_id = ?", [IMAGE, ZHENGFUBAN])
    at = run_page("tasks", ADMIN, AS_OF, tasks_task=2, tasks_form_unit=IMAGE)
    assert not at.exception
    at.date_input(key="tasks_form_date").set_value(dt.date(2023, 10, 30))
    at.selectbox(key="tasks_form_status").set_value("推进中")
    at = at.button[0].click().run()
    assert not at.exception
    success = [s.value for s in at.success]
    assert success == [f"已录入{md_escape(IMAGE)}任务2的进展。"]
    assert IMAGE not in texts(at) and not LIVE.search(texts(at))


def _sidebar_app():
    from data.storage.connect import get_db
    from ui.session import current_scope
    from ui.sidebar import render_sidebar

    render_sidebar(get_db(), current_scope())


def test_a_display_name_with_a_link_is_shown_as_text_in_the_sidebar(county):
    at = AppTest.from_function(_sidebar_app, default_timeout=30)
    at.session_state["scope"] = {**ADMIN, "display_name": LINK}
    at = at.run()
    assert not at.exception
    captions = [c.value for c in at.sidebar.caption]
    assert f"当前用户：{md_escape(LINK)}（管理员）" in captions
    assert not any(LIVE.search(c) for c in captions)
