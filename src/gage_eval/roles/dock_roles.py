"""Dock-style adapters that select an implementation from the registry (spec §3.2.2.1)."""
from __future__ import annotations

import inspect
from typing import Any

from gage_eval.config.models import RoleAdapterSpec
from gage_eval.errors import ConfigError
from gage_eval.registry import registry
from gage_eval.roles.base import RoleAdapter, RoleResources, ensure_async


def accepts_run_dir(factory: Any) -> bool:
    try:
        return "run_dir" in inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return False


class _ImplementationAdapter(RoleAdapter):
    impl_kind: str = ""
    method_names: tuple[str, str] = ("", "")

    def __init__(self, spec: RoleAdapterSpec, resources: RoleResources, config_path: str) -> None:
        super().__init__(spec, resources, config_path)
        name = spec.params.get("implementation")
        if not name:
            raise ConfigError(f"{spec.role_type} adapter needs params.implementation",
                              path=f"{config_path}.params.implementation",
                              fix=f"name an entry of kind '{self.impl_kind}' (see `gage list {self.impl_kind}`)")
        impl_cls = registry.get(self.impl_kind, name, config_path=f"{config_path}.params.implementation")
        params = dict(spec.params.get("implementation_params", {}))
        if accepts_run_dir(impl_cls):  # implementations that keep per-sample files (logs, repo caches) in the run
            params.setdefault("run_dir", resources.run_dir)
        try:
            self._impl = impl_cls(**params)
        except TypeError as exc:
            raise ConfigError(f"implementation '{name}' rejected its params: {exc}",
                              path=f"{config_path}.params.implementation_params",
                              fix="check the parameter names of this implementation") from None
        async_name, sync_name = self.method_names
        method = getattr(self._impl, async_name, None) or getattr(self._impl, sync_name, None)
        if method is None:
            raise ConfigError(f"implementation '{name}' has neither {async_name} nor {sync_name}",
                              path=f"{config_path}.params.implementation", fix=f"implement {sync_name}(payload)")
        self._call = ensure_async(method)

    async def aclose(self) -> None:
        close = getattr(self._impl, "aclose", None) or getattr(self._impl, "close", None)
        if close is not None:
            await ensure_async(close)()


@registry.asset("roles", "context_provider", desc="inject context via a context_impls implementation",
                tags=("support",))
class ContextProviderAdapter(_ImplementationAdapter):
    role_type = "context_provider"
    impl_kind = "context_impls"
    method_names = ("aprovide", "provide")

    async def execute(self, payload: dict[str, Any]) -> dict[str, Any]:
        return dict(await self._call(payload) or {})


@registry.asset("roles", "judge_extend", desc="strict or offline judge via a judge_impls implementation",
                tags=("judge",))
class JudgeExtendAdapter(_ImplementationAdapter):
    role_type = "judge_extend"
    impl_kind = "judge_impls"
    method_names = ("ainvoke", "invoke")

    async def execute(self, payload: dict[str, Any]) -> dict[str, Any]:
        return dict(await self._call(payload) or {})
