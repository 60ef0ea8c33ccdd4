"""Benchmark onboarding: `gage support inspect -> design -> implement`, and `status`.

- inspect (inspection.py): read a sample of a dataset (hub id, local file or folder), infer its schema, modalities
  and likely task type (schema.py), write ``dev_docs/<slug>/{meta,sample,schema}.json``;
- design (design.py): write ``dev_docs/<slug>/design.md`` whose single fenced ``yaml support_config`` block
  (spec.py) is the source of truth — from the inspection's guesses, or proposed by a model (llm.py) and
  validated against the schema;
- implement (implement.py): render the benchmark from the block through templates (codegen.py), or take a
  model's code from strict file blocks (file_blocks.py) once it compiles, imports and passes the generated
  test; dry-run by default, guard rails in guard.py; then `gage validate` and a 5-sample dummy run.

Generated benchmarks live in the user's project, ``gage_benchmarks/<slug>/``, which gage discovers from the
current directory (registry.PROJECT_PACKAGE; templates.template_dirs). Nothing here runs dataset code from
the hub (``trust_remote_code`` stays off unless asked for).
"""
