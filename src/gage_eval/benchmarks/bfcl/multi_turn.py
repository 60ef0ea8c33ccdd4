"""BFCL multi-turn: the package's stateful API classes as the environment, and the state / response checks.

`Environment` holds one instance of each API class an entry involves (bfcl_eval's GorillaFileSystem, TwitterAPI,
TradingBot, ... — imported from the installed bfcl-eval package: they *are* the benchmark's environment), loaded
with the entry's initial_config. `execute` runs call strings as bfcl_eval.multi_turn_utils.execute_multi_turn_func_call
does — method names prefixed with the instance name (the same regex, so its side effects on string arguments are the
same), kill/exit/... refused, results as str / JSON / str() and errors as "Error during execution: ..." — but through
`safe_eval` instead of `eval`: a call of anything but an API method (a builtin, a module) is "not defined" here.

`check_trajectory` is multi_turn_checker: replay the model's decoded steps of each turn on fresh instances, run the
ground-truth calls on another set, and after each turn with ground truth require (1) a non-empty model turn,
(2) equal public attributes of every instance, (3) every ground-truth result among the model's results so far.
"""
from __future__ import annotations

import copy
import importlib
import inspect
import json
import re
from typing import Any

from gage_eval.benchmarks.bfcl.data import INSTALL_HINT
from gage_eval.benchmarks.bfcl.decode import decode_execute, is_empty_execute
from gage_eval.benchmarks.bfcl.safe_eval import evaluate_call

_PREFIX = "bfcl_eval.eval_checker.multi_turn_eval.func_source_code"
CLASS_MODULES = {"GorillaFileSystem": "gorilla_file_system", "MathAPI": "math_api", "MessageAPI": "message_api",
                 "TwitterAPI": "posting_api", "TicketAPI": "ticket_api", "TradingBot": "trading_bot",
                 "TravelAPI": "travel_booking", "VehicleControlAPI": "vehicle_control"}
STATELESS = frozenset({"MathAPI"})
BLOCKED = frozenset({"kill", "exit", "quit", "remove", "unlink", "popen", "Popen", "run"})
_CALL_NAME = re.compile(r"\b([a-zA-Z_]\w*)\s*(?=\()")


class EnvironmentUnavailable(RuntimeError):
    pass


def api_class(name: str) -> type:
    if name not in CLASS_MODULES:
        raise EnvironmentUnavailable(f"unknown BFCL API class {name!r} (known: {', '.join(CLASS_MODULES)})")
    try:
        module = importlib.import_module(f"{_PREFIX}.{CLASS_MODULES[name]}")
    except ImportError as exc:
        raise EnvironmentUnavailable(f"BFCL multi-turn runs bfcl-eval's API classes, which cannot be imported "
                                     f"({exc}); {INSTALL_HINT}") from None
    return getattr(module, name)


class Environment:
    """The API instances of one entry; `label` plays the part of bfcl-eval's model name in instance names."""

    def __init__(self, involved_classes: list[str], initial_config: dict[str, Any], entry_id: str,
                 label: str = "gage_eval", long_context: bool = False) -> None:
        self.instances: dict[str, Any] = {}
        self.by_name: dict[str, Any] = {}
        self.method_owner: dict[str, str] = {}
        for class_name in involved_classes:
            instance = api_class(class_name)()
            if class_name not in STATELESS:
                instance._load_scenario(copy.deepcopy(initial_config.get(class_name, {})), long_context=long_context)
            name = re.sub(r"[-./:]", "_", f"{label}_{entry_id}_{class_name}_instance")
            self.instances[class_name] = instance
            self.by_name[name] = instance
            for method_name, _ in inspect.getmembers(instance, predicate=inspect.ismethod):
                if not method_name.startswith("_"):
                    self.method_owner[method_name] = name  # a later class wins a shared name, as in bfcl-eval

    def _call(self, dotted: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        head, _, rest = dotted.partition(".")
        instance = self.by_name.get(head)
        if instance is None or not rest or "." in rest:
            raise NameError(f"name '{head}' is not defined")
        if self.method_owner.get(rest) != head:  # only the public API methods, never dunders or private state
            raise AttributeError(f"'{type(instance).__name__}' object has no attribute '{rest}'")
        return getattr(instance, rest)(*args, **kwargs)

    def execute_one(self, call: str) -> str:
        call = _CALL_NAME.sub(lambda m: f"{self.method_owner[m.group(1)]}.{m.group(1)}"
                              if m.group(1) in self.method_owner else m.group(1), call)
        try:
            name = call.split("(")[0] if "(" in call else call
            if "." in name:
                name = name.split(".")[1]
            if name in BLOCKED:
                raise Exception(f"Function call {name} is not allowed.")  # noqa: TRY002 - bfcl-eval's message
            result = evaluate_call(call, self._call)
        except Exception as exc:  # noqa: BLE001 - every failure is the model's, reported back as text
            return f"Error during execution: {exc}"
        if type(result) == str:  # noqa: E721
            return result
        if type(result) == dict:  # noqa: E721
            try:
                return json.dumps(result)
            except (TypeError, ValueError):
                return str(result)
        return str(result)

    def execute(self, calls: list[str]) -> list[str]:
        return [self.execute_one(call) for call in calls]

    def state(self) -> dict[str, dict[str, Any]]:
        return {name: {k: v for k, v in vars(obj).items() if not k.startswith("_")}
                for name, obj in self.instances.items()}


def decoded_steps(turns: list[list[Any]], mode: str) -> list[list[list[str]]]:
    """Each turn's steps decoded to call strings; steps that fail to decode or hold no call are dropped."""
    out = []
    for steps in turns:
        kept = []
        for reply in steps:
            try:
                calls = decode_execute(reply, mode)
            except Exception:  # noqa: BLE001 - bfcl-eval skips a step that fails to decode, whatever the error
                continue
            if not is_empty_execute(calls):
                kept.append(calls)
        out.append(kept)
    return out


def _differences(model: Any, truth: Any) -> dict[str, Any]:
    return {k: {"model": getattr(model, k), "ground_truth": v} for k, v in vars(truth).items()
            if not k.startswith("_") and getattr(model, k) != v}


def _missing(truth: list[str], model: list[str]) -> list[str]:
    left = list(model)
    missing = []
    for item in truth:
        try:
            left.remove(item)
        except ValueError:
            missing.append(item)
    return missing


def check_trajectory(meta: dict[str, Any], turns: Any, mode: str, label: str = "gage") -> dict[str, Any]:
    """The verdict of bfcl-eval's _evaluate_single_multi_turn_entry for the raw replies of each turn and step."""
    truth: list[list[str]] = meta["ground_truth"]
    if not isinstance(turns, list):
        return {"valid": False, "error_type": "multi_turn:inference_error",
                "error": ["Error during inference phase. Model did not output a list of model responses."]}
    if len(turns) != len(truth):
        return {"valid": False, "error_type": "multi_turn:force_terminated",
                "error": [f"Model was force-terminated during inference phase. The length of the model result turns "
                          f"({len(turns)}) does not match the length of the ground truth turns ({len(truth)})."]}
    decoded = decoded_steps(turns, mode)
    entry_id, classes, config = str(meta.get("id", "entry")), meta["involved_classes"], meta.get("initial_config", {})
    long_context = "long_context" in meta["category"]
    model_env = Environment(classes, config, entry_id, f"{label}_eval", long_context)
    truth_env = Environment(classes, config, entry_id, f"{label}_ground_truth_eval", long_context)
    all_model_results: list[str] = []
    for turn, (steps, truth_calls) in enumerate(zip(decoded, truth)):
        for step in steps:
            all_model_results.extend(model_env.execute(step))
        truth_results = truth_env.execute(truth_calls)
        if not truth_calls:
            continue
        if not steps:
            return {"valid": False, "error_type": "multi_turn:empty_turn_model_response", "turn": turn,
                    "error": [f"Model response list is empty for turn {turn}"]}
        for class_name, truth_instance in truth_env.instances.items():
            differences = _differences(model_env.instances[class_name], truth_instance)
            if differences:
                return {"valid": False, "error_type": "multi_turn:instance_state_mismatch", "turn": turn,
                        "error": [f"Model instance for {class_name} does not match the state with ground truth "
                                  "instance."], "differences": differences}
        missing = _missing(truth_results, all_model_results)
        if missing:
            return {"valid": False, "error_type": "multi_turn:execution_response_mismatch", "turn": turn,
                    "error": [f"Model response execution results so far does not contain all the ground truth "
                              f"response execution results for turn {turn}."], "missing_items": missing}
    return {"valid": True, "decoded": decoded}
