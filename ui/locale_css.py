"""Chinese for Streamlit's built-in English strings that its API does not let a page change.

app.py calls apply_chinese_labels() once per run. Streamlit 1.67 has no locale setting and no
parameter for these strings, so a small style sheet hides the English text and puts the Chinese
in a ::after pseudo-element, matching each element by its stable data-testid / aria-label:

- the file uploader's "Upload" button and its "20MB per file • XLSX, …" line;
- the tooltips of the table/chart toolbar ("Show/hide columns", "Download as CSV", "Search",
  "Fullscreen", "Close fullscreen") and of an uploaded file Streamlit rejects;
- "No results" in an open select box or multiselect with no match;
- the English placeholder of a multiselect / select box a page left without its own placeholder
  (made transparent: pages should pass placeholder="…" themselves);
- Plotly's mode-bar tooltips (zoom, pan, download as PNG, …), which Plotly draws from data-title;
- the "Running…"/"Stop" status in the top bar and the main menu (hidden: nothing there is needed).

What cannot be changed this way is listed in docs/pages.md ("Streamlit's built-in English").
"""

from __future__ import annotations

import streamlit as st

# Toolbar buttons (aria-label) -> the Chinese tooltip shown instead of Streamlit's.
TOOLTIPS = {
    "Show/hide columns": "显示或隐藏列",
    "Download as CSV": "下载为CSV文件",
    "Search": "在表格中查找",
    "Fullscreen": "全屏显示",
    "Close fullscreen": "退出全屏",
}

# Plotly mode-bar buttons (data-title) -> Chinese.
PLOTLY_TITLES = {
    "Download plot as a png": "下载为PNG图片",
    "Zoom": "框选放大",
    "Pan": "平移",
    "Box Select": "框选",
    "Lasso Select": "套索选择",
    "Zoom in": "放大",
    "Zoom out": "缩小",
    "Autoscale": "自动缩放",
    "Reset axes": "还原坐标轴",
    "Reset view": "还原视图",
    "Toggle Spike Lines": "显示或隐藏参考线",
    "Show closest data on hover": "悬停显示最近的数据",
    "Compare data on hover": "悬停比较数据",
}

TEXT = "font-size: 0.875rem; line-height: 1.4;"


def _tooltip_rules() -> str:
    rules = []
    for english, chinese in TOOLTIPS.items():
        # The tooltip is a portal far from its button: select it from <body> while the button is
        # hovered or focused.
        for state in ("hover", "focus-visible"):
            cond = f'body:has(button[aria-label="{english}"]:{state})'
            rules.append(f'{cond} [data-testid="stTooltipContent"] p {{ font-size: 0; }}')
            rules.append(f'{cond} [data-testid="stTooltipContent"] p::after {{ content: "{chinese}"; {TEXT} }}')
    cond = 'body:has([data-testid="stFileChip"][aria-invalid="true"]:hover)'
    rules.append(f'{cond} [data-testid="stTooltipContent"] p {{ font-size: 0; }}')
    rules.append(f'{cond} [data-testid="stTooltipContent"] p::after '
                 f'{{ content: "文件类型或大小不符合要求，请删除后重新选择"; {TEXT} }}')
    for english, chinese in PLOTLY_TITLES.items():
        rules.append(f'.js-plotly-plot .plotly .modebar-btn[data-title="{english}"]::after '
                     f'{{ content: "{chinese}" !important; }}')
    return "\n".join(rules)


def style_sheet(max_upload_mb: int) -> str:
    """The whole style sheet (a pure function, so a test can read it)."""
    return f"""
/* File uploader: "Upload" -> 选择文件; "20MB per file • XLSX, …" -> Chinese. */
[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p {{ font-size: 0; }}
[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p::after {{
  content: "选择文件"; font-size: 1rem; }}
[data-testid="stFileUploaderDropzoneInstructions"] span {{ font-size: 0; }}
[data-testid="stFileUploaderDropzoneInstructions"] span::after {{
  content: "可将文件拖到此处；单个文件不超过{max_upload_mb}MB"; {TEXT} }}
/* Select boxes and multiselects: "No results" -> 没有匹配的选项; English placeholders hidden. */
[role="listbox"][data-empty="true"] [role="option"] span {{ font-size: 0; }}
[role="listbox"][data-empty="true"] [role="option"] span::after {{ content: "没有匹配的选项"; {TEXT} }}
input[placeholder="Choose options"]::placeholder, input[placeholder="Choose an option"]::placeholder,
input[placeholder="Add options"]::placeholder {{ color: transparent; }}
/* Top bar: the English "Running…/Stop" status and the main menu are not needed by the office. */
[data-testid="stStatusWidget"], [data-testid="stMainMenu"] {{ display: none; }}
{_tooltip_rules()}
"""


def apply_chinese_labels() -> None:
    """Inject the style sheet (st.html with only a <style> takes no space on the page)."""
    limit = int(st.get_option("server.maxUploadSize"))
    st.html(f"<style>{style_sheet(limit)}</style>")
