#!/usr/bin/env python
"""Thin entry point with the spec's flags; it calls the same code as `gage run`, `gage init`, `gage distill`.

    python run.py --config config/run_configs/demo_echo_run_1.yaml --output-dir runs --run-id demo_echo
    python run.py --config config/custom/demo_echo.yaml --distill --builtin-name my_template
    python run.py --init demo_echo --init-mode run-config
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "src"))  # works from a checkout without installing


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="gage-eval runner")
    p.add_argument("--config", type=Path, help="PipelineConfig or RunConfig YAML")
    p.add_argument("--dataset-id")
    p.add_argument("--gpus", type=int)
    p.add_argument("--cpus", type=int)
    p.add_argument("--concurrency", type=int)
    p.add_argument("--max-samples", type=int)
    p.add_argument("--output-dir", type=Path)
    p.add_argument("--run-id")
    p.add_argument("--model-path")
    p.add_argument("--use-cache", action="store_true", default=None)
    p.add_argument("--max-failure-rate", type=float, help="failed-sample fraction above which the exit code is 3")
    p.add_argument("--no-preflight", dest="preflight", action="store_false", default=None,
                   help="do not check HTTP backends before the first sample")
    p.add_argument("--workers", type=int, help="distributed run: worker processes (or Ray actors)")
    p.add_argument("--ray-address", help="run on Ray: local | auto | ray://HOST:10001 | HOST:6379")
    p.add_argument("--distill", action="store_true", help="freeze --config into a BuiltinTemplate")
    p.add_argument("--builtin-name", help="template name for --distill")
    p.add_argument("--init", metavar="TEMPLATE", help="write a config from a builtin template")
    p.add_argument("--init-mode", default="run-config", choices=["run-config", "pipeline-config"])
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from gage_eval.cli.app import _graceful_sigterm, _short_warnings, report_error
    from gage_eval.errors import GageError

    _graceful_sigterm()
    _short_warnings()
    try:
        if args.init:
            from gage_eval.cli.config_cmds import do_init
            print(f"wrote {do_init(args.init, args.init_mode, None)}")
            return 0
        if args.builtin_name and not args.distill:
            raise GageError("--builtin-name is only used with --distill", path="--builtin-name",
                            fix="add --distill to freeze --config into a template, or drop --builtin-name")
        if args.config is None:
            raise GageError("--config is required", path="--config", fix="pass a PipelineConfig or RunConfig path")
        if args.distill:
            if not args.builtin_name:
                raise GageError("--distill needs --builtin-name", path="--builtin-name", fix="name the template")
            from gage_eval.cli.config_cmds import do_distill
            print(f"wrote {do_distill(args.config, args.builtin_name, None)}")
            return 0
        from gage_eval.cli.exit_codes import exit_code_for
        from gage_eval.cli.run_cmd import execute_run
        flags = {k: getattr(args, k) for k in ("dataset_id", "gpus", "cpus", "concurrency", "max_samples",
                                                "output_dir", "run_id", "model_path", "use_cache",
                                                "max_failure_rate", "preflight", "workers", "ray_address")}
        return exit_code_for(execute_run(args.config, flags))
    except GageError as exc:
        return report_error(exc)
    except KeyboardInterrupt:
        from gage_eval.errors import RunInterrupted
        return report_error(RunInterrupted())


if __name__ == "__main__":
    sys.exit(main())
