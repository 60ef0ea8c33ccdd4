"""Quick mode's `--dataset-args`: EvalScope's per-dataset keys mapped onto a benchmark's dataset spec, role adapter
params merged by id, and local copies found under `--dataset-dir`."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from gage_eval.errors import ConfigError, close_match_hint

# EvalScope's dataset_args keys -> where they go in our dataset spec.
_DATASET_ARG_KEYS = ("few_shot_num", "few_shot_random", "few_shot_seed", "local_path", "dataset_dir", "split",
                     "subset", "subset_list", "few_shot_path", "system_prompt", "style", "eval_mode",
                     "preprocess_kwargs", "adapter_params")


def whole_number(value: Any, where: str) -> int:
    if isinstance(value, str) and value.strip().isdigit():  # "5" from a k=v string
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"expected a whole number >= 0, got {value!r}", path=where, fix="e.g. 5")
    return value


def apply_dataset_args(ds: dict[str, Any], args: dict[str, Any], where: str) -> None:
    unknown = [k for k in args if k not in _DATASET_ARG_KEYS]
    if unknown:
        raise ConfigError(f"unknown dataset argument '{unknown[0]}'", path=f"{where}.{unknown[0]}",
                          fix=close_match_hint(unknown[0], _DATASET_ARG_KEYS))
    params = ds.setdefault("params", {})
    kwargs = params.setdefault("preprocess_kwargs", {})
    if "few_shot_num" in args:
        kwargs["num_fewshot"] = whole_number(args["few_shot_num"], f"{where}.few_shot_num")
    if "few_shot_random" in args:
        kwargs["fewshot_sampler"] = "random" if args["few_shot_random"] else "first_n"
    if "few_shot_seed" in args:
        kwargs["fewshot_seed"] = whole_number(args["few_shot_seed"], f"{where}.few_shot_seed")
    if "few_shot_path" in args:  # a local file of the few-shot split (e.g. GSM8K's train)
        kwargs["fewshot_path"] = str(args["few_shot_path"])
    for key in ("system_prompt", "style"):
        if key in args:
            kwargs[key] = args[key]
    kwargs.update(args.get("preprocess_kwargs") or {})
    local = args.get("local_path") or args.get("dataset_dir")
    if local:
        params["path"] = str(local)
    for key in ("split", "subset"):
        if key in args:
            ds.setdefault("hub_params", {})[key] = args[key]
    if "subset_list" in args:  # EvalScope: evaluate only these subsets (e.g. MMLU subjects)
        chosen = args["subset_list"]
        if not isinstance(chosen, list) or not chosen or not all(isinstance(x, str) for x in chosen):
            raise ConfigError("subset_list must be a non-empty list of subset names", path=f"{where}.subset_list",
                              fix='e.g. {"mmlu": {"subset_list": ["anatomy", "astronomy"]}}')
        known = params.get("subsets")
        if reads_subsets(ds.get("loader")):
            unknown = [x for x in chosen if known and x not in known]
            if unknown:
                raise ConfigError(f"unknown subset '{unknown[0]}'", path=f"{where}.subset_list",
                                  fix=close_match_hint(unknown[0], known or []))
            params["subsets"] = chosen
        elif len(chosen) == 1:
            ds.setdefault("hub_params", {})["subset"] = chosen[0]
        else:
            raise ConfigError("this benchmark reads one subset at a time", path=f"{where}.subset_list",
                              fix="give one subset, or run one task per subset")
    if not kwargs:
        params.pop("preprocess_kwargs")


def deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        out[key] = deep_merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def apply_adapter_params(adapters: list[dict[str, Any]], given: Any, where: str) -> None:
    """`adapter_params: {ADAPTER_ID: {params}}`: deep-merged into the template's role adapters' params (e.g. a
    judge implementation and its settings), by the template's own adapter ids."""
    if given is None:
        return
    ids = [a["adapter_id"] for a in adapters]
    if not isinstance(given, dict) or not all(isinstance(v, dict) for v in given.values()):
        raise ConfigError("adapter_params must map adapter ids to params", path=where,
                          fix='e.g. {"judge": {"implementation": "swebench_local"}}; this template\'s adapters: '
                              + ", ".join(ids))
    for adapter_id, params in given.items():
        if adapter_id not in ids:
            raise ConfigError(f"this template has no adapter '{adapter_id}'", path=f"{where}.{adapter_id}",
                              fix=close_match_hint(adapter_id, ids, label="its adapters"))
        adapter = next(a for a in adapters if a["adapter_id"] == adapter_id)
        adapter["params"] = deep_merge(adapter.get("params") or {}, params)


def reads_subsets(loader: Any) -> bool:
    """Loaders that read a list of subsets in one run (hf_hub_subsets and those built on it, e.g. livebench)."""
    from gage_eval.registry import registry

    cls = registry.get("dataset_loaders", loader) if isinstance(loader, str) and registry.has(
        "dataset_loaders", loader) else None
    return bool(getattr(cls, "reads_subsets", False))


def local_copy(root: str | None, name: str, ds: dict[str, Any]) -> str | None:
    """EvalScope's dataset_dir: a benchmark's local copy sits at <root>/<name> or <root>/<hub id>."""
    if not root:
        return None
    hub_id = (ds.get("hub_params") or {}).get("hub_id")
    for candidate in (Path(root) / name, *([Path(root) / hub_id] if hub_id else [])):
        if candidate.exists():
            return str(candidate)
    raise ConfigError(f"no local copy of '{name}' in {root}", path="dataset_dir",
                      fix=f"put it at {Path(root) / name}" + (f" or {Path(root) / hub_id}" if hub_id else "")
                      + " (a hub snapshot folder or a data file), or drop --dataset-dir to use the hub")
