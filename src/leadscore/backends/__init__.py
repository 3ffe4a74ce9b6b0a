"""Engines that run compiled plans: DuckDB (default, batch) and plain Python (one lead)."""
