"""`gage perf`: a serving stress test with vLLM's `benchmark_serving` metric conventions."""
