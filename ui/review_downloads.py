"""The downloads of 月度考评: the printable review workbook, the request-step detail it leaves
out (a CSV) and, in an expander, each big detail sheet as a CSV of its own (reports.excel.DETAILS:
the workbook keeps one only up to PRINTABLE_DETAIL_ROWS rows). Each is built only when its button
is clicked (deferred data), never on a rerun of the page nor on each keystroke in the 通报 box.
A published month's workbook is the one frozen at publication plus a 差异 sheet
(data.services.publish.review_workbook_for), and its detail CSVs are that workbook's sheets."""

from __future__ import annotations

import streamlit as st

from data.services import review
from data.storage.scope import Scope
from reports.excel import DETAIL_DOWNLOAD, DETAILS, PRINTABLE_DETAIL_ROWS
from ui import widgets

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def draw_downloads(scope: Scope, month: str, bulletin: str | None) -> None:
    """`bulletin`: the text in the 通报 box at this run (None for a published month). The files are
    data.services.review's cached reads, called only on a click."""
    c1, c2 = st.columns(2)
    c1.download_button("下载月度考评工作簿", widgets.deferred(review.review_workbook, scope, month, bulletin),
                       file_name=f"月度考评_{month}.xlsx", mime=XLSX, on_click="ignore", key="review_download")
    c2.download_button(DETAIL_DOWNLOAD, widgets.deferred(review.timeliness_detail, scope, month),
                       file_name=f"申请时效明细_{month}.csv", mime="text/csv", on_click="ignore",
                       key="review_detail_download")
    st.caption("工作簿按A4横向打印，共享申请各环节按单位汇总；逐条明细数据量大，单独下载（CSV，可用Excel打开）。")
    with st.expander("明细数据下载"):
        st.caption(f"各单位指标、得分、任务和逾期事项的逐条明细（CSV，可用Excel打开）。超过{PRINTABLE_DETAIL_ROWS}行的"
                   "明细不放入工作簿，工作簿中该表只注明行数和下载按钮。")
        for column, spec in zip(st.columns(len(DETAILS)), DETAILS.values(), strict=True):
            column.download_button(spec.button, widgets.deferred(review.review_detail, scope, month, spec.sheet),
                                   file_name=f"{spec.sheet}_{month}.csv", mime="text/csv", on_click="ignore",
                                   key=spec.key)
