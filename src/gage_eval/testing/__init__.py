"""Test utilities shipped with the package: a real OpenAI-compatible HTTP server for tests and benchmarks."""
