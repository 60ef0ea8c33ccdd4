"""Role adapters: the glue between steps and backends or implementations."""
