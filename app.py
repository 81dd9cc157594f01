"""Entry point: page config, login, the role-filtered page list, st.navigation(...).run().

No queries and no KPIs here: the login gate is ui/auth.py, the menu is ui/navigation.py, the
shared sidebar is ui/sidebar.py, and every page checks the role again itself. Everything runs
inside ui/failsafe.guard(): a damaged database, a full disk or any unexpected error gives a
Chinese page that says what to do, never a traceback; a read refusing the user's scope
(PermissionDenied) shows its Chinese message and stops the page.
"""

import streamlit as st

from data.services.snapshot import warm_up_in_background
from data.storage.connect import get_db
from data.storage.db import DatabaseLockedError
from ui import auth, failsafe, navigation
from ui.locale_css import apply_chinese_labels
from ui.sidebar import render_sidebar

st.set_page_config(page_title="政务数据共享督查考评看板", page_icon="📊", layout="wide")
apply_chinese_labels()  # Streamlit's built-in English strings in Chinese (ui/locale_css.py)
failsafe.install()

with failsafe.guard():
    try:
        db = get_db()
    except DatabaseLockedError as exc:  # the CLI holds the file read-write
        st.error(str(exc).partition(" / ")[0])
        st.stop()
    warm_up_in_background(db)  # once per process: today's figures computed before anyone asks
    scope = auth.login_gate(db)  # draws the login or first-run form and stops when nobody is logged in

    render_sidebar(db, scope)
    auth.logout_button(db, scope)

    pages = navigation.navigation_pages(scope.role)
    if not pages:
        st.error("当前角色没有可以打开的页面，请联系领导小组办公室。")
        st.stop()
    st.navigation(pages).run()
