"""The supervision part of the monthly review (月度考评): every open 整改承诺, what became of those
due in the month, the units proposed for 督查 and the authorisations about to expire. The frames
come from data.services.review.supervision_section; this module only draws them."""

from __future__ import annotations

import streamlit as st

from data.services import review
from data.storage.scope import Scope
from ui import fmt, widgets

LABELS = {"promise": "整改承诺", "due_on": "整改期限", "state": "整改情况", "follow_up": "跟踪说明",
          "reason": "理由", "purpose": "用途", "use_until": "使用期限至", "days_left": "剩余天数",
          "catalog_code": "目录编码"}


def draw_review_section(scope: Scope, month: str, bulletin: str | None = None) -> None:
    """Draw the section; with the (edited) 通报 text, also offer it as an official Word document."""
    if bulletin:
        from reports.docx_official import font_report

        st.download_button("下载通报（Word，公文格式）", widgets.deferred(review.bulletin_document, scope, month, bulletin),
                           file_name=f"通报_{month}.docx", on_click="ignore",
                           mime="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                           key="review_bulletin_docx", help="；".join(font_report()) or None)
    frames = review.supervision_section(scope, month)
    st.subheader("督查督办")
    st.markdown(f"**{fmt.fmt_month(month)}到期的整改承诺**")
    due = frames["due"]
    if due.height:
        kept = frames["due_fixed"]
        st.caption(f"本月到期{due.height}项：已整改{kept}项、逾期未整改{due.height - kept}项。")
    widgets.show_table(frames["due"].select("unit", "month", "promise", "due_on", "state", "follow_up"),
                       labels=LABELS, empty="本月没有到期的整改承诺。", key="review_sv_due")
    st.markdown("**尚未整改到位的承诺**（截至月末）")
    widgets.show_table(frames["open"].select("unit", "month", "promise", "due_on", "state", "follow_up"),
                       labels=LABELS, empty="没有尚未整改到位的承诺。", key="review_sv_open")
    st.markdown("**建议督查的单位**")
    widgets.show_table(frames["proposals"].select("unit", "reason"), labels=LABELS,
                       empty="本月没有需要督查的单位。", key="review_sv_proposals")
    st.markdown("**即将到期的数据使用授权**")
    widgets.show_table(frames["expiring"].select("requester", "provider", "code", "catalog_code", "purpose",
                                                 "use_until", "days_left"),
                       labels=LABELS, empty="没有30天内到期的授权。", key="review_sv_expiring")
