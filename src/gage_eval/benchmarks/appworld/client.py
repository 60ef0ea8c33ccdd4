"""AppWorld's environment server, spoken to as `appworld.AppWorld(remote_environment_url=...)` does: each method is
``POST <url>/<method>`` with a JSON body of keyword arguments (``task_id`` always), answered ``{"output": ...}``.

AppWorld pins pydantic 1, so it cannot share gage's environment: it runs as its own server
(``appworld serve environment --port 8000`` in AppWorld's environment) and gage talks to it over HTTP.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gage_eval.errors import ConfigError

if TYPE_CHECKING:
    import httpx

SERVE_FIX = ("start AppWorld's environment server in AppWorld's own environment: `appworld serve environment --port "
             "8000` (after `appworld download data`), and set the role's params.environment_url to it")


class AppWorldError(RuntimeError):
    pass


class AppWorldEnvironment:
    def __init__(self, client: httpx.AsyncClient, url: str, task_id: str) -> None:
        self.client, self.url, self.task_id = client, url.rstrip("/"), task_id

    async def call(self, method: str, **kwargs: Any) -> Any:
        import httpx  # imported when AppWorld is used: registry discovery imports this module at every start

        try:
            response = await self.client.post(f"{self.url}/{method}", json={**kwargs, "task_id": self.task_id})
        except httpx.TransportError as exc:
            raise ConfigError(f"AppWorld environment server is not reachable at {self.url} ({type(exc).__name__})",
                              path="role_adapters.params.environment_url", fix=SERVE_FIX) from None
        if response.status_code != 200:
            raise AppWorldError(f"AppWorld call '{method}' failed ({response.status_code}): {response.text[:300]}")
        return response.json().get("output")

    async def initialize(self, experiment_name: str, **settings: Any) -> None:
        await self.call("initialize", experiment_name=experiment_name, remote_apis_url=None,
                        remote_environment_url=None, initialize=True, **settings)

    async def execute(self, code: str) -> str:
        return str(await self.call("execute", code=code))

    async def evaluate(self) -> dict[str, Any]:
        out = await self.call("evaluate", suppress_errors=True)
        if not isinstance(out, dict) or "passes" not in out or "failures" not in out:
            raise AppWorldError(f"AppWorld's evaluate returned no test tracker: {str(out)[:200]}")
        return out

    async def close(self) -> None:
        await self.call("close")
