"""The Polars KPI engine: pure functions of frames and an as-of date. Never imports streamlit."""
