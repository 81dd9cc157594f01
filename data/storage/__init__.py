"""Storage: the DuckDB file, its schema and migrations, the plan's seed, the working-day calendar,
backups, the facts loaded for the engine, and the asking scope."""
