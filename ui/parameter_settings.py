"""系统设置 → 其他参数: the numeric and yes/no settings without a section of their own, grouped,
validated and audited by data.services.settings_store.set_parameters."""

from __future__ import annotations

import streamlit as st

from data.services import settings_store as store
from data.storage.scope import Scope


def parameters_section(scope: Scope, save) -> None:
    st.caption("以下参数保存后立即生效并记入操作日志；括号中为系统默认值。")
    params = store.settings_page(scope).parameters
    with st.form("settings_parameters"):
        entered = {}
        for group in dict.fromkeys(p["group"] for p in params):
            st.markdown(f"**{group}**")
            columns = st.columns(2)
            for i, p in enumerate(q for q in params if q["group"] == group):
                label = f"{p['label']}（默认{'是' if p['default'] is True else '否' if p['default'] is False else format(p['default'], 'g')}）"
                box = columns[i % 2]
                key = f"settings_p_{p['key']}"
                if p["kind"] == "bool":
                    entered[p["key"]] = box.checkbox(label, value=bool(p["value"]), key=key)
                elif p["kind"] == "int":
                    entered[p["key"]] = box.number_input(label, min_value=int(p["min"]), max_value=int(p["max"]),
                                                         value=int(p["value"]), step=1, key=key)
                else:
                    entered[p["key"]] = box.number_input(label, min_value=float(p["min"]), max_value=float(p["max"]),
                                                         value=float(p["value"]), step=1.0, key=key)
        if st.form_submit_button("保存参数"):
            save(store.set_parameters, entered, done="其他参数已保存。")
