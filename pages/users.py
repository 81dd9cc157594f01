"""用户管理 (管理员 only): add logins, disable/enable, reset passwords, change role or unit."""

import datetime as dt

import polars as pl
import streamlit as st

from data.services import users
from data.storage.scope import PermissionDenied
from ui import widgets
from ui.fmt import fmt_date, md_escape

scope = widgets.open_page("pages/users.py")

limits = users.login_limits(scope)
st.caption("账号只保存在本系统数据库中，密码以 bcrypt 摘要保存。密码至少10个字符，须同时包含字母和数字；"
           f"从同一地址连续{limits['login_free_attempts']:g}次输错密码后，该地址每次再试须等待，等待时间逐次加倍，"
           "在“解除登录限制”中可立即解除，重置密码也会解除。停用、重置密码或变更角色后，该用户须重新登录。")
if flash := st.session_state.pop("users_flash", None):
    st.success(md_escape(flash))

accounts = users.accounts(scope)
table = accounts.select(
    pl.col("username").alias("用户名"),
    pl.col("display_name").alias("显示名称"),
    pl.col("role").alias("角色"),
    pl.col("unit_name").fill_null("—").alias("所属单位"),
    pl.when(pl.col("disabled")).then(pl.lit("已停用")).otherwise(pl.lit("启用")).alias("状态"),
    pl.when(pl.col("locked_until") > dt.datetime.fromtimestamp(users.clock())).then(pl.col("locked_until"))
    .map_elements(lambda t: f"{fmt_date(t.date())} {t:%H:%M:%S}", return_dtype=pl.String).fill_null("")
    .alias("登录须等待至"),
    pl.col("created_at").map_elements(lambda t: fmt_date(t.date()), return_dtype=pl.String).alias("创建日期"),
)
st.dataframe(table, hide_index=True, width="stretch", key="users_table")

names = accounts["username"].to_list()
unit_names = users.unit_names(scope)


def _apply(action, *args, done: str) -> None:
    widgets.run_action(action, scope, *args, errors=(users.UserError, PermissionDenied), flash_key="users_flash",
                       done=done)


add_tab, state_tab, reset_tab, unlock_tab, role_tab = st.tabs(
    ["新增用户", "停用 / 启用", "重置密码", "解除登录限制", "修改角色或单位"])

with add_tab, st.form("users_add", clear_on_submit=False):
    username = st.text_input("用户名", key="users_add_name", help="2至32个字符，登录时不区分大小写。")
    display = st.text_input("显示名称", key="users_add_display", placeholder="例如：县财政局 李经办")
    role = st.selectbox("角色", ["单位", "领导", "管理员"], key="users_add_role",
                        help="管理员：领导小组办公室；领导：只读查看；单位：只能查看和报送本单位。")
    unit = st.selectbox("所属单位（单位账号必填）", unit_names, index=None, key="users_add_unit",
                        placeholder="选择单位")
    password = st.text_input("初始密码", type="password", key="users_add_password")
    if st.form_submit_button("新增用户"):
        _apply(users.add_user, username, password, role, unit if role == "单位" else None, display,
               done=f"已新增用户“{username.strip().lower()}”（{role}）。")

with state_tab, st.form("users_state"):
    target = st.selectbox("用户", names, index=None, key="users_state_name", placeholder="选择用户")
    left, right = st.columns(2)
    disable = left.form_submit_button("停用账号")
    enable = right.form_submit_button("启用账号")
    if (disable or enable) and not target:
        st.error("请先选择用户。")
    elif disable:
        _apply(users.disable_user, target, done=f"已停用“{target}”。")
    elif enable:
        _apply(users.enable_user, target, done=f"已启用“{target}”。")

with reset_tab, st.form("users_reset"):
    target = st.selectbox("用户", names, index=None, key="users_reset_name", placeholder="选择用户")
    password = st.text_input("新密码", type="password", key="users_reset_password")
    confirm = st.text_input("再次输入新密码", type="password", key="users_reset_confirm")
    if st.form_submit_button("重置密码"):
        if not target:
            st.error("请先选择用户。")
        elif password != confirm:
            st.error("两次输入的密码不一致。")
        else:
            _apply(users.reset_password, target, password, done=f"已重置“{target}”的密码并解除锁定。")

with unlock_tab, st.form("users_unlock"):
    target = st.selectbox("用户", names, index=None, key="users_unlock_name", placeholder="选择用户")
    if st.form_submit_button("解除登录限制"):
        if not target:
            st.error("请先选择用户。")
        else:
            _apply(users.unlock_user, target, done=f"已解除“{target}”的登录限制，可立即登录。")

with role_tab, st.form("users_role"):
    target = st.selectbox("用户", names, index=None, key="users_role_name", placeholder="选择用户")
    role = st.selectbox("新角色", ["单位", "领导", "管理员"], key="users_role_role")
    unit = st.selectbox("所属单位（单位账号必填）", unit_names, index=None, key="users_role_unit",
                        placeholder="选择单位")
    if st.form_submit_button("保存角色"):
        if not target:
            st.error("请先选择用户。")
        else:
            _apply(users.change_role, target, role, unit if role == "单位" else None,
                   done=f"已将“{target}”改为{role}" + (f"（{unit}）。" if role == "单位" and unit else "。"))
