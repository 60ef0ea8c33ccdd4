"""`gage eval`: quick mode without YAML, with EvalScope's option names."""
from __future__ import annotations

from typing import Any, Optional

import typer
import yaml

from gage_eval.cli.run_cmd import MAX_FAILURE_RATE_HELP, NO_PREFLIGHT_HELP
from gage_eval.errors import RunInterrupted


def register(app: typer.Typer) -> None:
    @app.command("eval")
    def eval_(
        model: str = typer.Option(..., "--model", help="local checkpoint path, hub id, served model name (with "
                                  "--api-url), an OpenAI-compatible URL, or a backend type such as dummy"),
        datasets: list[str] = typer.Option([], "--datasets", help="builtin benchmarks (`gage list benchmarks`)"),
        tasks: list[str] = typer.Option([], "--tasks", help="lm-eval's name for --datasets, comma-separated: "
                                        "--tasks arc_easy,gsm8k"),
        limit: Optional[float] = typer.Option(None, "--limit", help="samples per dataset: N >= 1 (the first N) or a "
                                              "fraction 0 < x < 1 (that share, rounded up, as lm-eval); on MMLU, "
                                            "CMMLU and C-Eval the first N of each subject, as lm-eval's --limit (see "
                                            "--limit-mode)"),
        limit_mode: Optional[str] = typer.Option(None, "--limit-mode", help="per_subject (default: --limit counts "
                                                 "per subject on MMLU, CMMLU, C-Eval, as lm-eval) | total (the "
                                                 "first N of the whole concatenated set)"),
        dataset_dir: Optional[str] = typer.Option(None, "--dataset-dir", "--dataset-path",
                                                  help="folder of local copies: <dir>/<benchmark> or <dir>/<hub id>"),
        generation_config: Optional[str] = typer.Option(None, "--generation-config",
                                                        help="k=v,... or JSON, e.g. do_sample=false,max_new_tokens=512"),
        dataset_args: Optional[str] = typer.Option(None, "--dataset-args", help="JSON: {name: {few_shot_num, "
                                                   "few_shot_random, local_path, split, subset, system_prompt, ...}}"),
        model_args: Optional[str] = typer.Option(None, "--model-args", "--model_args", help="backend settings, "
                                                 "k=v,... or JSON; lm-eval's pretrained=PATH is the checkpoint "
                                                 "(with --model hf)"),
        judge_model_args: Optional[str] = typer.Option(None, "--judge-model-args", help="judge for judged benchmarks: "
                                                       "JSON or k=v with api_url, model_id (api_key_env)"),
        template_type: Optional[str] = typer.Option(None, "--template-type", help="chat | completion | base"),
        apply_chat_template: bool = typer.Option(False, "--apply-chat-template", "--apply_chat_template",
                                                 help="local checkpoints: render lm-eval's prompts with the "
                                                 "tokenizer's chat template (few-shot examples as turns, as "
                                                 "lm-eval's flag); without it the plain prompt is scored"),
        eval_mode: str = typer.Option("auto", "--eval-mode", help="auto | loglikelihood | generate (multiple "
                                      "choice: auto scores log-likelihoods on local checkpoints)"),
        api_url: Optional[str] = typer.Option(None, "--api-url", help="OpenAI-compatible base URL"),
        api_key_env: Optional[str] = typer.Option(None, "--api-key-env", help="environment variable holding the "
                                                  "API key (the key itself is never written anywhere)"),
        model_id: Optional[str] = typer.Option(None, "--model-id", help="served model name when --model is a URL"),
        eval_type: Optional[str] = typer.Option(None, "--eval-type", help="checkpoint | service | openai_api | backend"),
        eval_batch_size: Optional[int] = typer.Option(None, "--eval-batch-size", help="local checkpoint (hf): "
                                                      "the model's batch size, i.e. scored continuations or prompts "
                                                      "generated together per forward pass (2x as many samples, at "
                                                      "least 8, stay in flight to fill batches); served model "
                                                      "(--api-url): samples sent concurrently"),
        batch_size: Optional[str] = typer.Option(None, "--batch_size", help="lm-eval's name for --eval-batch-size "
                                                 "(auto = the default)"),
        num_fewshot: Optional[int] = typer.Option(None, "--num_fewshot", help="lm-eval: few_shot_num of every "
                                                  "dataset (an explicit one in --dataset-args wins)"),
        device: Optional[str] = typer.Option(None, "--device", help="local checkpoint device: cpu, cuda, cuda:N"),
        output_path: Optional[str] = typer.Option(None, "--output_path", help="lm-eval's name for --output-dir"),
        log_samples: bool = typer.Option(False, "--log_samples", help="accepted for lm-eval command lines; does "
                                         "nothing: every sample is always written to samples.jsonl"),
        use_cache: bool = typer.Option(False, "--use-cache", help="reuse cached model responses"),
        work_dir: Optional[str] = typer.Option(None, "--work-dir", "--output-dir", help="output root (default runs)"),
        run_id: Optional[str] = typer.Option(None, "--run-id", help="fixed run id; rerunning it resumes"),
        seed: Optional[int] = typer.Option(None, "--seed"),
        timeout: Optional[float] = typer.Option(None, "--timeout", help="HTTP request timeout (s)"),
        progress: Optional[str] = typer.Option(None, "--progress", help="auto | rich | plain | off"),
        dry_run: bool = typer.Option(False, "--dry-run", help="print the compiled PipelineConfig and exit"),
        max_failure_rate: Optional[float] = typer.Option(None, "--max-failure-rate", help=MAX_FAILURE_RATE_HELP),
        no_preflight: bool = typer.Option(False, "--no-preflight", help=NO_PREFLIGHT_HELP),
        serve: Optional[str] = typer.Option(None, "--serve", help="start a server for the --model checkpoint and "
                                            "evaluate it over HTTP: gage | vllm | sglang | tgi, or a command "
                                            "template with {model_path} and {port}; stopped at the end"),
        livebench_release: Optional[str] = typer.Option(None, "--livebench-release", help="LiveBench release "
                                                        "(YYYY-MM-DD, e.g. 2024-11-25; latest (default): questions "
                                                        "never removed; all): questions released by then and not "
                                                        "removed by then, as LiveBench's --livebench-release-option"),
        serve_args: Optional[str] = typer.Option(None, "--serve-args", help="launch settings, k=v,... or JSON: "
                                                 "port, ready_timeout_s, gpu_memory_utilization, "
                                                 "tensor_parallel_size, max_model_len, args, env"),
    ) -> None:
        """Evaluate a model on builtin benchmarks in one command (EvalScope-compatible options)."""
        from gage_eval.cli.lm_eval_compat import LmEvalOptions, apply_lm_eval
        from gage_eval.config.quick import parse_kv, quick_task
        from gage_eval.engine.settings import check_sample_limit

        check_sample_limit(limit, "--limit")
        del log_samples  # lm-eval's opt-in is our default
        data: dict[str, Any] = {
            "model": model, "datasets": datasets, "limit": limit, "dataset_dir": dataset_dir, "template_type": template_type,
            "limit_mode": limit_mode,
            "apply_chat_template": apply_chat_template,
            "eval_mode": eval_mode, "api_url": api_url, "model_id": model_id, "eval_type": eval_type,
            "eval_batch_size": eval_batch_size, "use_cache": use_cache, "work_dir": work_dir, "run_id": run_id,
            "seed": seed, "timeout": timeout, "serve": serve, "serve_args": parse_kv(serve_args, "--serve-args"),
            "livebench_release": livebench_release,
            "generation_config": parse_kv(generation_config, "--generation-config"),
            "dataset_args": parse_kv(dataset_args, "--dataset-args"),
            "model_args": parse_kv(model_args, "--model-args"),
            "judge_model_args": parse_kv(judge_model_args, "--judge-model-args"),
        }
        apply_lm_eval(data, LmEvalOptions(tasks, num_fewshot, batch_size, output_path, device))
        if api_key_env:
            data["model_args"] = {**data["model_args"], "api_key_env": api_key_env}
        task = quick_task({k: v for k, v in data.items() if v is not None})
        if dry_run:
            from gage_eval.config.quick import compile_quick

            typer.echo(yaml.safe_dump(compile_quick(task), sort_keys=False, allow_unicode=True))
            return
        from gage_eval.api import run_task
        from gage_eval.cli.exit_codes import exit_code_for
        from gage_eval.cli.run_cmd import print_result

        try:
            result = run_task(task, progress=progress, max_failure_rate=max_failure_rate,
                              preflight=False if no_preflight else None)
        except KeyboardInterrupt:
            raise RunInterrupted() from None
        print_result(result)
        raise typer.Exit(exit_code_for(result))
