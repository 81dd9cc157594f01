"""ui/locale_css.py: the Chinese that replaces Streamlit's built-in English strings."""

from __future__ import annotations

from ui import locale_css


def test_style_sheet_covers_the_english_strings_users_saw():
    css = locale_css.style_sheet(20)
    # The uploader's button and its size line.
    assert 'content: "选择文件"' in css and "单个文件不超过20MB" in css
    # "No results" and the multiselect placeholder.
    assert 'content: "没有匹配的选项"' in css and 'input[placeholder="Choose options"]::placeholder' in css
    # The table toolbar's tooltips, each matched by the button's aria-label.
    for english, chinese in (("Download as CSV", "下载为CSV文件"), ("Search", "在表格中查找"), ("Fullscreen", "全屏显示")):
        assert f'body:has(button[aria-label="{english}"]:hover) [data-testid="stTooltipContent"] p::after ' \
               f'{{ content: "{chinese}"' in css
    assert '.modebar-btn[data-title="Download plot as a png"]::after { content: "下载为PNG图片" !important; }' in css
    # Braces balance: one broken rule would silently drop the rest of the sheet.
    assert css.count("{") == css.count("}")


def test_the_app_injects_it_on_every_run_even_before_login(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from data.storage.connect import close_db, get_db
    from tests.pages.conftest import ROOT

    path = tmp_path / "css.duckdb"
    monkeypatch.setenv("DASHBOARD_DB", str(path))
    get_db(path)
    try:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30).run()
        assert not at.exception
        styles = [h.proto.body for h in at.get("html")]
        assert any("选择文件" in body for body in styles)
    finally:
        close_db(path)
