"""Storage: schema, connection, queries, import, demo data, calendar. The only package that
imports duckdb."""
