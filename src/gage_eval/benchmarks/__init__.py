"""Builtin benchmarks: one sub-package per benchmark, holding its BuiltinTemplate (``vN.yaml``), the
preprocessor from the dataset's published schema, its prompts and metrics, and a README naming the
reference implementation its scoring is checked against. Sub-packages register themselves on import
(the registry imports every one of them at discovery)."""
