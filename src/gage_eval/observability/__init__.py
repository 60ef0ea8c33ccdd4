"""Observability: event trace with sinks, queue-depth gauges, progress display."""
