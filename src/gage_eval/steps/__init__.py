"""Steps: the per-sample chain (support, inference, judge, arena, auto_eval); report runs once per run."""
