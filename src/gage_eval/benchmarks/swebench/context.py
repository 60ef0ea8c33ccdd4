"""`context_provider` implementation `swebench_repo`: the repository at the instance's base commit, turned
into SWE-bench's prompt with its published retrieval styles.

- `oracle`: the files the gold patch touches (SWE-bench_oracle);
- `bm25`: BM25 over the repository's non-test Python files (document = path + "\\n" + contents, query = the
  issue, as swebench's bm25_retrieval), ranked files added in order while the prompt stays under
  `max_context_tokens` — a file that does not fit is skipped and the next one tried, as create_instance does.
  SWE-bench ranks with pyserini's Lucene BM25 (k1 = 0.9, b = 0.4); here `bm25s` with the same k1 and b and its
  own tokenizer (lowercase words, English stopwords), so near-ties can rank differently (README).
- `none`: README files only.
For an agent (`prompt_style: agent`, swebench_lite_agent): the issue and the instruction to edit the repository,
and a workspace in the sample's scope — a private git copy of the snapshot, made when a tool first touches it
and removed with the sample (agents/workspace.py); the `swe_*` tools (agent_tools.py) work in it.
Tokens are counted with tiktoken's `cl100k_base` when its encoding file is available (`token_counter:
tiktoken`), else 4 characters per token (`approx`, the default offline); the counter used is recorded.
"""
from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path
from typing import Any, Literal

from gage_eval.benchmarks.swebench.patch import patched_files
from gage_eval.benchmarks.swebench.prompts import PROMPT_STYLES, make_code_text
from gage_eval.agents.workspace import WORKSPACE, Workspace
from gage_eval.benchmarks.swebench.repo import RepoCache
from gage_eval.errors import ConfigError
from gage_eval.registry import registry
from gage_eval.sample import Message


def is_test_path(name: str) -> bool:
    """swebench.inference.make_datasets.utils.is_test: a path word is test / tests / testing."""
    return bool({"test", "tests", "testing"} & set(re.split(r" |_|/|\.", name.lower())))


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError):
        return "[BINARY DATA FILE]"


def readme_files(root: Path) -> dict[str, str]:
    return {p.name: read_text(p) for p in sorted(root.iterdir()) if p.is_file() and p.name.lower().startswith("readme")}


def python_files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*.py")
                  if not is_test_path(p.relative_to(root).as_posix()))


def bm25_rank(root: Path, query: str, k1: float = 0.9, b: float = 0.4) -> list[str]:
    import bm25s

    files = python_files(root)
    if not files:
        return []
    docs = [f + "\n" + read_text(root / f) for f in files]
    retriever = bm25s.BM25(k1=k1, b=b)
    retriever.index(bm25s.tokenize(docs, stopwords="en", show_progress=False), show_progress=False)
    results, scores = retriever.retrieve(bm25s.tokenize([query], stopwords="en", show_progress=False),
                                         k=len(files), show_progress=False)
    # Stable order for equal scores: by path, so a rerun builds the same prompt.
    ranked = sorted(zip(results[0].tolist(), scores[0].tolist()), key=lambda x: (-x[1], files[x[0]]))
    return [files[i] for i, score in ranked if score > 0]


class TokenCounter:
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._enc = None
        if kind == "tiktoken":
            try:
                import tiktoken

                self._enc = tiktoken.get_encoding("cl100k_base")
            except Exception as exc:  # noqa: BLE001 - offline: the encoding file cannot be fetched
                raise ConfigError(f"token_counter tiktoken needs cl100k_base, which could not be loaded: "
                                  f"{type(exc).__name__}", path="params.implementation_params.token_counter",
                                  fix="set TIKTOKEN_CACHE_DIR to a folder holding the encoding, or use "
                                      "token_counter: approx (4 characters per token)") from None

    def __call__(self, text: str) -> int:
        return len(self._enc.encode(text, disallowed_special=())) if self._enc else (len(text) + 3) // 4


@registry.asset("context_impls", "swebench_repo", desc="SWE-bench: the repo at base_commit, oracle / bm25 "
                "retrieval within a token budget, rendered as SWE-bench's style-3 prompt", tags=("swebench",))
class SWEBenchRepoContext:
    def __init__(self, retrieval: Literal["oracle", "bm25", "none"] = "oracle", max_context_tokens: int | None = None,
                 repo_mirror: str | None = None, repo_url_template: str | None = None, cache_dir: str | None = None,
                 prompt_style: str = "style-3", token_counter: Literal["approx", "tiktoken"] = "approx",
                 workspace_dir: str | None = None, run_dir: Any = None) -> None:
        if retrieval not in ("oracle", "bm25", "none"):
            raise ConfigError(f"unknown retrieval {retrieval!r}", path="params.implementation_params.retrieval",
                              fix="use oracle, bm25 or none")
        if prompt_style not in PROMPT_STYLES:
            raise ConfigError(f"unknown prompt_style {prompt_style!r}", path="params.implementation_params.prompt_style",
                              fix="use " + ", ".join(PROMPT_STYLES))
        self.retrieval, self.max_tokens, self.style = retrieval, max_context_tokens, prompt_style
        self.repos = RepoCache.from_params(cache_dir, run_dir, repo_mirror, repo_url_template)
        self.count = TokenCounter(token_counter)
        self.workspace_dir = Path(workspace_dir) if workspace_dir else \
            (Path(run_dir) / "workspaces" if run_dir else None)

    async def aprovide(self, payload: dict[str, Any]) -> dict[str, Any]:
        sample = payload["sample"]
        inst = sample.metadata["instance"]
        root = await self.repos.snapshot(inst["repo"], inst["base_commit"])
        built = await asyncio.to_thread(self._build, root, inst)
        sample.messages = [Message(role="user", content=built.pop("prompt"))]  # type: ignore[arg-type]
        sample.inputs["prompt"] = sample.messages[0].text()
        sample.metadata["snapshot"] = str(root)
        scope = payload.get("scope")
        if scope is not None:
            scope.resources[WORKSPACE] = self.workspace(root)
            scope.on_close(scope.resources[WORKSPACE].aclose)
        return built

    def workspace(self, snapshot: Path) -> Workspace:
        # `python` in the agent's commands is the interpreter running gage, as for the swebench_local judge.
        path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
        return Workspace(lambda dest: RepoCache.private_copy(snapshot, dest), self.workspace_dir,
                         env={"PATH": path, "PYTHONDONTWRITEBYTECODE": "1"})

    def _build(self, root: Path, inst: dict[str, Any]) -> dict[str, Any]:
        render = PROMPT_STYLES[self.style]
        base = {"problem_statement": inst["problem_statement"], "readmes": readme_files(root), "file_contents": {}}
        if self.retrieval == "oracle":
            candidates = [f for f in patched_files(inst.get("patch") or "") if (root / f).is_file()]
        elif self.retrieval == "bm25":
            candidates = bm25_rank(root, inst["problem_statement"])
        else:
            candidates = []
        included: list[str] = []
        if self.max_tokens is None:
            included = candidates
        else:
            used = self.count(render(base))
            for name in candidates:
                cost = self.count(make_code_text({name: read_text(root / name)}))
                if used + cost < self.max_tokens:
                    included.append(name)
                    used += cost
        base["file_contents"] = {name: read_text(root / name) for name in included}
        prompt = render(base)
        return {"prompt": prompt, "retrieval": self.retrieval, "files": included, "candidates": len(candidates),
                "prompt_tokens": self.count(prompt), "token_counter": self.count.kind}
