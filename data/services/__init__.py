"""Services above the engine: the read functions the pages call and the audited writes."""
