"""Analytics: the read side. Metric definitions in Ibis, run on DuckDB, PostgreSQL, SQLite or Spark."""
