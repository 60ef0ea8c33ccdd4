"""`human_judge`: a person judges the pairs on a local web page instead of a judge model.

The role serves a small page (FastAPI on 127.0.0.1, uvicorn in a daemon thread so it never touches the
run's event loop or its Ctrl-C handling). Each pair the engine hands the role waits as a pending item until
someone clicks A, B or Tie; the verdict resolves the waiting sample, which the engine then writes to
samples.jsonl like any judge output. Stopping the run (Ctrl-C) loses nothing judged, and rerunning with
the same run id serves only the pairs still open. The two answers are shown in a seeded random order so
a reader's position preference does not favour one model; the verdict is mapped back.
"""
from __future__ import annotations

import asyncio
import random
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from gage_eval.config.models import RoleAdapterSpec
from gage_eval.errors import ConfigError
from gage_eval.registry import registry
from gage_eval.roles.base import RoleAdapter, RoleResources, read_field
from gage_eval.sample import Sample
from gage_eval.view.background import BackgroundServer

_PAGE = Path(__file__).with_name("human_page.html")


@dataclass
class PendingPair:
    pair_id: str
    question: str
    shown_a: str
    shown_b: str
    swapped: bool
    future: asyncio.Future[str]
    loop: asyncio.AbstractEventLoop
    created: float = field(default_factory=time.time)


class ReviewQueue:
    """Pairs waiting for a person; shared between the run's loop and the web server's thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[str, PendingPair] = {}
        self.judged = 0

    def add(self, item: PendingPair) -> None:
        with self._lock:
            self._pending[item.pair_id] = item

    def discard(self, pair_id: str) -> None:
        with self._lock:
            self._pending.pop(pair_id, None)

    def next(self) -> PendingPair | None:
        with self._lock:
            return min(self._pending.values(), key=lambda p: (p.created, p.pair_id), default=None)

    def resolve(self, pair_id: str, verdict: str) -> bool:
        with self._lock:
            item = self._pending.pop(pair_id, None)
            if item is None:
                return False
            self.judged += 1
        item.loop.call_soon_threadsafe(lambda: item.future.done() or item.future.set_result(verdict))
        return True

    def counts(self) -> dict[str, int]:
        with self._lock:
            return {"pending": len(self._pending), "judged": self.judged}


class VerdictBody(BaseModel):
    # Module level: FastAPI resolves the (postponed) annotation of the handler's body parameter by name.
    pair_id: str
    verdict: str


def create_review_app(queue: ReviewQueue) -> Any:
    from fastapi import FastAPI, HTTPException
    from fastapi.responses import HTMLResponse

    app = FastAPI(title="gage-eval human review", docs_url=None, redoc_url=None)

    @app.get("/", response_class=HTMLResponse)
    def page() -> str:
        return _PAGE.read_text(encoding="utf-8")

    @app.get("/api/next")
    def next_pair() -> dict[str, Any]:
        item = queue.next()
        state = queue.counts()
        if item is None:
            return {"pair": None, **state}
        return {"pair": {"pair_id": item.pair_id, "question": item.question, "answer_a": item.shown_a,
                         "answer_b": item.shown_b}, **state}

    @app.post("/api/verdict")
    def verdict(body: VerdictBody) -> dict[str, Any]:
        if body.verdict not in ("A", "B", "tie"):
            raise HTTPException(422, "verdict must be A, B or tie")
        if not queue.resolve(body.pair_id, body.verdict):
            raise HTTPException(404, f"pair {body.pair_id!r} is not pending (already judged?)")
        return {"ok": True, **queue.counts()}

    return app


class ReviewServer(BackgroundServer):
    def __init__(self, queue: ReviewQueue, host: str, port: int) -> None:
        super().__init__(create_review_app(queue), host, port, "gage-human-review", lambda address: ConfigError(
            f"the human review page could not start on {address} (is the port in use?)",
            path="role_adapters.human_judge.params.port",
            fix="choose another port (--port N), or --port 0 for any free port"))


@registry.asset("roles", "human_judge", desc="a person picks A / B / tie on a local web page (127.0.0.1)",
                tags=("judge", "pairwise", "human"))
class HumanJudge(RoleAdapter):
    """params: host (127.0.0.1), port (8765; 0 = any free port), seed (display order), fields (as
    pairwise_judge). The page's address is logged and written to <run dir>/human_review.url."""

    role_type = "human_judge"

    def __init__(self, spec: RoleAdapterSpec, resources: RoleResources, config_path: str) -> None:
        super().__init__(spec, resources, config_path)
        params = spec.params
        self.fields = {"answer_a": "sample.inputs.answer_a", "answer_b": "sample.inputs.answer_b",
                       "model_a": "sample.inputs.model_a", "model_b": "sample.inputs.model_b",
                       **params.get("fields", {})}
        self.seed = int(params.get("seed", 0))
        self.queue = ReviewQueue()
        self.server = ReviewServer(self.queue, str(params.get("host", "127.0.0.1")), int(params.get("port", 8765)))
        self.url = self.server.start()
        if resources.run_dir is not None:
            Path(resources.run_dir).mkdir(parents=True, exist_ok=True)
            (Path(resources.run_dir) / "human_review.url").write_text(self.url + "\n", encoding="utf-8")
        import logging

        logging.getLogger("gage_eval").warning("human review page: %s", self.url)

    async def execute(self, payload: dict[str, Any]) -> dict[str, Any]:
        sample: Sample = payload["sample"]
        output = payload.get("model_output") or {}
        a = str(read_field(self.fields["answer_a"], sample, output, "") or "")
        b = str(read_field(self.fields["answer_b"], sample, output, "") or "")
        names = (str(read_field(self.fields["model_a"], sample, output, "model_a")),
                 str(read_field(self.fields["model_b"], sample, output, "model_b")))
        swapped = random.Random(f"{self.seed}\x00{sample.id}").random() < 0.5
        loop = asyncio.get_running_loop()
        item = PendingPair(sample.id, sample.evaluated_question(), b if swapped else a, a if swapped else b, swapped,
                           loop.create_future(), loop)
        self.queue.add(item)
        started = time.monotonic()
        try:
            shown = await item.future
        finally:
            self.queue.discard(sample.id)
        verdict = {"A": "B", "B": "A", "tie": "tie"}[shown] if swapped else shown
        winner = {"A": "model_a", "B": "model_b", "tie": "tie"}[verdict]
        return {"winner": winner, "model_a": names[0], "model_b": names[1], "consistent": None, "unparsed": False,
                "verdicts": [{"order": "BA" if swapped else "AB", "verdict": verdict, "raw": "human"}],
                "judge_adapter": self.adapter_id, "judge": "human", "len_a": len(a), "len_b": len(b),
                "seconds": round(time.monotonic() - started, 3),
                "judge_calls": {self.adapter_id: {"attempts": 1, "unparsed": False, "usage": {}}}}

    async def aclose(self) -> None:
        await asyncio.to_thread(self.server.stop)
