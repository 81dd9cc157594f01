"""Presentation built from the engine's frames: Plotly figures, Excel workbooks and the 通报 text.

Kept apart from metrics/ because writing cells and traces walks rows one by one; the KPI engine
itself stays set-wise (Polars expressions and joins only). Never imports streamlit or duckdb."""
