"""Benchmarks: `python -m benchmarks.bench`."""
