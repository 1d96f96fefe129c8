"""Benchmarks, run as modules: `python -m benchmarks.ingest --people 100000`."""
