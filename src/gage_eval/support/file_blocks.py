"""The strict file-block format a model must answer `implement` in, and the checks its code must pass.

    === FILE: gage_benchmarks/<slug>/preprocess.py ===
    <the whole file>
    === END FILE ===

Only blank lines may stand between blocks; every block is closed; each allowed path appears at most once and the
required ones are there; a block is never empty nor wrapped in a markdown fence. Anything else is refused as a
whole, with the line that broke the rule — nothing of a malformed answer is kept.
"""
from __future__ import annotations

import ast
import re

from gage_eval.errors import ConfigError

_HEADER = re.compile(r"^=== FILE: (\S+) ===$")
END = "=== END FILE ==="


def parse_file_blocks(text: str, allowed: set[str], required: set[str]) -> dict[str, str]:
    files: dict[str, str] = {}
    lines = text.splitlines()
    i = 0

    def refuse(line: int, problem: str) -> ConfigError:
        return ConfigError(f"the model's answer breaks the file-block format at line {line}: {problem}",
                           path="--model", fix="nothing was written; rerun (or implement without --model). Expected "
                                               f"only blocks of '=== FILE: PATH ===' ... '{END}'")

    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        match = _HEADER.match(line.strip())
        if not match:
            raise refuse(i + 1, f"text outside a file block: {line.strip()[:80]!r}")
        path = match.group(1)
        if path not in allowed:
            raise refuse(i + 1, f"'{path}' is not a file it may write (allowed: {', '.join(sorted(allowed))})")
        if path in files:
            raise refuse(i + 1, f"'{path}' is given twice")
        end = next((j for j in range(i + 1, len(lines)) if lines[j].strip() == END), None)
        nested = next((j for j in range(i + 1, end if end is not None else len(lines))
                       if _HEADER.match(lines[j].strip())), None)
        if end is None or nested is not None:
            raise refuse(nested + 1 if nested is not None else i + 1, f"the block of '{path}' is never closed")
        body = lines[i + 1:end]
        if not "".join(body).strip():
            raise refuse(i + 1, f"the block of '{path}' is empty")
        if body and body[0].lstrip().startswith("```"):
            raise refuse(i + 2, f"the block of '{path}' is wrapped in a markdown fence")
        files[path] = "\n".join(body).rstrip("\n") + "\n"
        i = end + 1
    missing = required - set(files)
    if missing:
        raise refuse(len(lines), f"no block for {', '.join(sorted(missing))}")
    return files


def check_python(path: str, source: str, *, registers: str | None = None) -> None:
    """The code compiles; with `registers`, it registers a dataset preprocessor under that name."""
    try:
        tree = ast.parse(source, filename=path)
        compile(tree, path, "exec")
    except SyntaxError as exc:
        raise ConfigError(f"the model's {path} does not compile: {exc.msg} at line {exc.lineno}", file=path,
                          path=f"line {exc.lineno}", fix="nothing was written; rerun (or implement without "
                                                         "--model)") from None
    if registers is None:
        return
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            for deco in node.decorator_list:
                if isinstance(deco, ast.Call) and [_const(a) for a in deco.args[:2]] == ["dataset_preprocessors",
                                                                                          registers]:
                    return
    raise ConfigError(f"the model's {path} registers no dataset preprocessor '{registers}'", file=path,
                      fix=f"nothing was written; the class must be decorated with "
                          f"@registry.asset(\"dataset_preprocessors\", \"{registers}\")")


def _const(node: ast.AST) -> object:
    return node.value if isinstance(node, ast.Constant) else None
