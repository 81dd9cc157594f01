"""Entry point: page config, login, the role-filtered page list, st.navigation(...).run()."""

import streamlit as st

from data.db import get_db

st.set_page_config(page_title="政务数据共享督查考评看板", page_icon="📊", layout="wide")
db = get_db()
tasks = db.frame("SELECT task_no AS 序号, title AS 重点任务, deadline_text AS 完成时限 FROM tasks ORDER BY task_no")
st.title("政务数据共享督查考评看板")
st.dataframe(tasks, hide_index=True)
