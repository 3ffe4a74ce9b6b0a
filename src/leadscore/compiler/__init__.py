"""Model spec -> logical plan -> sqlglot expression trees. No I/O, no engine imports."""
