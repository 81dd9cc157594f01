"""How the dashboard is started: `streamlit run serve.py` (scripts/run does it).

app.py is the Streamlit script; this wraps it in `st.App` to add the two routes through which the
server writes and deletes the login cookie itself, HttpOnly (ui/cookie_server.py). Nothing else.
"""

import streamlit as st

from ui.cookie_server import routes

app = st.App("app.py", routes=routes())
