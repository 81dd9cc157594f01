"""The 数据导入 page's list of unit submissions: the office verifies (核验通过) or returns (退回)
them; a 单位 user sees its own and their status. The rules are data/imports/batches.py's."""

from __future__ import annotations

import streamlit as st

from data.services import uploads
from data.storage.scope import Scope
from ui.fmt import md_escape


def section(scope: Scope) -> None:
    if scope.is_admin:
        frame = uploads.submissions(scope, uploads.PENDING)
        if frame.is_empty():
            return
        st.subheader(f"待核验的单位导入（{frame.height} 份）")
        st.dataframe(frame.drop("处理人", "处理时间", "说明"), hide_index=True, width="stretch",
                     key="import_batches_pending")
        labels = {row["编号"]: f"第 {row['编号']} 号 · {row['单位']} · {row['文件']}" for row in frame.iter_rows(named=True)}
        chosen = st.selectbox("选择导入申请", list(labels), format_func=labels.get, key="import_batch_pick")
        reason = st.text_input("退回原因（退回时必填）", key="import_batch_reason")
        left, right = st.columns(2)
        try:
            if left.button("核验通过并写入", type="primary", key="import_batch_verify"):
                done = uploads.verify_submission(scope, chosen)
                st.session_state["import_done"] = [f"第 {chosen} 号核验通过"] + done.summary_lines()
                st.rerun()
            if right.button("退回", key="import_batch_return"):
                uploads.return_submission(scope, chosen, reason)
                st.rerun()
        except uploads.BatchError as exc:
            st.error(md_escape(str(exc)))
            for line in exc.errors[:20]:
                st.text(line)
        st.divider()
    elif scope.role == "单位":
        frame = uploads.submissions(scope)
        if not frame.is_empty():
            with st.expander(f"本单位提交的导入（{frame.height} 份）"):
                st.dataframe(frame.drop("单位"), hide_index=True, width="stretch", key="import_batches_mine")
