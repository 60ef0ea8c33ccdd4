"""Reporting: summary.json from samples.jsonl, summary generators."""
