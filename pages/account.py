"""修改密码: every user changes their own password (the old one is asked for again)."""

import streamlit as st

from data.services import users
from ui import widgets
from ui.auth import renew_session
from ui.fmt import md_escape

scope = widgets.open_page("pages/account.py")

st.caption(f"当前账号：{md_escape(scope.username)}（{scope.role}）。新密码至少10个字符，须同时包含字母和数字；"
           "修改后，该账号在其他浏览器上的登录将失效。")
if flash := st.session_state.pop("account_flash", None):
    st.success(md_escape(flash))

with st.form("account_password", clear_on_submit=True):
    old = st.text_input("原密码", type="password", key="account_old")
    new = st.text_input("新密码", type="password", key="account_new")
    again = st.text_input("再次输入新密码", type="password", key="account_again")
    if st.form_submit_button("修改密码"):
        if new != again:
            st.error("两次输入的新密码不一致。")
        elif users.check_login(scope.username, old, purpose="修改密码前核对原密码") is None:
            # A wrong old password counts towards the lock like any failed login.
            st.error("原密码不正确。")
        else:
            try:
                users.reset_password(scope, scope.username, new)
            except users.UserError as exc:
                st.error(md_escape(exc.message_cn))
            else:
                renew_session()
                st.session_state["account_flash"] = "密码已修改。"
                st.rerun()
