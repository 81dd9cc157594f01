"""操作日志 (管理员 only): every write, filtered by date, user and action, downloadable as CSV."""

import datetime as dt

import streamlit as st

from data.services import audit, audit_labels, users
from reports.csv_export import frame_to_csv_bytes
from ui import widgets
from ui.fmt import fmt_date

ALL = "全部"

scope = widgets.open_page("pages/audit.py")

st.caption("记录每一次导入、进展报送与核验、设置修改、账号变更、登录与退出、月度发布：谁、何时、做了什么，以及变更前后的数量。")

today = dt.date.today()
left, middle, right, last = st.columns(4)
since = left.date_input("起始日期", value=today - dt.timedelta(days=30), key="audit_since", format="YYYY/MM/DD")
until = middle.date_input("截止日期", value=today, key="audit_until", format="YYYY/MM/DD")
shown_names = users.display_names(scope)
who = right.selectbox("用户", [ALL, *shown_names, "system"], key="audit_user",
                      format_func=lambda u: u if u == ALL else audit_labels.person(u, shown_names))
action = last.selectbox("操作", [ALL, *dict.fromkeys([*audit.ACTIONS, "登录", "退出登录", "账号锁定"])],
                        key="audit_action")

if since > until:
    st.error("起始日期不能晚于截止日期。")
    st.stop()

# The log as downloaded, and on screen: Chinese names for objects and fields, users and units by
# name, before → after.
log, labelled = audit_labels.audit_page(scope, since, until, None if who == ALL else who, None if action == ALL else action)
st.write(f"{fmt_date(since)}至{fmt_date(until)}，共{log.height}条记录。")
if log.is_empty():
    st.info("没有符合条件的记录。")
    st.stop()

st.dataframe(labelled, hide_index=True, width="stretch", key="audit_table",
             column_config={"变更内容": st.column_config.TextColumn(width="large")})
# UTF-8 with a byte-order mark for Excel; text cells neutralised against formula injection.
st.download_button("下载CSV", frame_to_csv_bytes(log),
                   file_name=f"操作日志_{since:%Y%m%d}-{until:%Y%m%d}.csv", mime="text/csv", key="audit_download")
