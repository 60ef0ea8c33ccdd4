"""LiveBench tablereformat: the answer, read as a table in the requested format, must equal the ground truth
table cell by cell (same rows in the same order, same columns in any order; numbers within 1e-6).

As ``process_results/data_analysis/tablereformat/utils.py``: the formats come from the question ("Please
convert the Input Table from X format to Y format" before the 2025-04-25 release (v1), "Source Format: X" /
"Target Format: Y" lines from it on (v2)); tables are read with pandas (v1 and v2 differ in how JSON and
Markdown are read); an answer that does not parse as a whole is searched for the table (csv/tsv from the
header line, jsonl from its object lines).
"""
from __future__ import annotations

import json
import math
import re
import warnings
from io import StringIO
from typing import Any

from gage_eval.benchmarks.livebench.text import Verdict

V2_FROM = "2025-04-25"


def _read_v1(fmt: str, text: str) -> Any:
    import pandas as pd

    if fmt == "json":
        for orient, lines in (("index", False), ("records", False), ("records", True), ("table", False)):
            try:
                return pd.read_json(StringIO(text), orient=orient, lines=lines, encoding="utf-8")
            except Exception:  # noqa: BLE001, S112 - each orientation is tried in turn, as LiveBench does
                continue
        return pd.read_json(StringIO(text), orient="values", encoding="utf-8")
    if fmt == "markdown":
        return pd.read_table(StringIO(text), sep="|", header=0, index_col=1, skipinitialspace=True)
    return _read_common(fmt, text)


def _read_v2(fmt: str, text: str) -> Any:
    import pandas as pd

    if fmt == "json":
        for orient in ("table", "index", "records"):
            try:
                return pd.read_json(StringIO(text), orient=orient, lines=False, encoding="utf-8")
            except Exception:  # noqa: BLE001, S112
                continue
        return None
    if fmt == "markdown":
        lines = text.strip().split("\n")
        body = lines[0] + "\n" + "\n".join(lines[2:] if len(lines) > 2 else [])
        frame = pd.read_table(StringIO(body), sep="|", header=0, skipinitialspace=True).iloc[:, 1:-1]
        for column in frame.columns:
            if frame[column].dtype == "object":
                frame[column] = frame[column].astype(str).str.strip()
        return frame
    return _read_common(fmt, text)


def _read_common(fmt: str, text: str) -> Any:
    import pandas as pd

    if fmt == "jsonl":
        return pd.read_json(StringIO(text), orient="records", lines=True, encoding="utf-8")
    if fmt == "html":
        return pd.concat(pd.read_html(StringIO(text), encoding="utf-8"), axis=0)
    if fmt == "csv":
        return pd.read_csv(StringIO(text), encoding="utf-8")
    if fmt == "tsv":
        return pd.read_csv(StringIO(text), sep="\t", encoding="utf-8")
    raise ValueError(f"unsupported table format {fmt!r}")


def clean_answer(text: str) -> str:
    """The table text: the last <solution> body, else the last ```json / ```html block, else the answer without
    a leading fence line and without fences."""
    found = re.findall(r"<solution>(.*?)</solution>", text, re.DOTALL)
    if found:
        return clean_answer(found[-1].strip())
    for language in ("json", "html"):
        found = re.findall(rf"```{language}\n(.*?)```", text, re.DOTALL)
        if found:
            return found[-1].strip()
    text = re.sub(r"^```.*\n", "", text).replace("&amp;", "&")
    return text.replace("```", "").strip()


def _drop_intro(text: str) -> str:
    """Without a leading "Here is the table in the new format:"-style phrase."""
    return re.sub(r"^\s*(Here|Input)\b.*?\b(format|table)\s*[:)]\s*", "", text, flags=re.IGNORECASE).strip()


def _sep_table(text: str, header: str, sep: str) -> Any:
    """The csv/tsv table starting at the line equal to `header`, dropping trailing lines until it parses."""
    import pandas as pd

    lines = text.strip().split("\n")
    start = next((i for i, line in enumerate(lines) if line.strip() == header.strip()), None)
    if start is None:
        return None
    table = lines[start:]
    while True:
        try:
            return pd.read_csv(StringIO("\n".join(table)), sep=sep)
        except Exception:  # noqa: BLE001 - extra text after the table: drop the last line and retry
            if not table:
                return None
            table = table[:-1]


def _jsonl_table(text: str, columns: Any) -> Any:
    import pandas as pd

    rows = []
    for line in text.strip().split("\n"):
        if len(line) < 2 or line[0] != "{" or line[-1] != "}" or not all(c in line for c in columns):
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return pd.DataFrame(rows) if rows else None


def formats(question: str, version: str) -> tuple[str, str]:
    if version == "v1":
        rest = question.split("Please convert the Input Table from ")[1]
        return rest.split(" format")[0].lower(), rest.split("format to ")[1].split(" format")[0].lower()
    lines = question.split("\n")
    source = [line for line in lines if "Source Format" in line][-1]
    target = [line for line in lines if "Target Format" in line][-1]
    return (source.split("Source Format: ")[1].strip().lower(), target.split("Target Format: ")[1].strip().lower())


def _same_table(given: Any, expected: Any) -> tuple[bool, str]:
    from pandas.api.types import is_numeric_dtype

    try:
        # c.strip(), not str(c): a table whose header is not text fails, as in LiveBench
        expected.columns = [c.strip() for c in expected.columns]
        given.columns = [c.strip() for c in given.columns]
        if "index" in expected.columns:
            expected = expected.drop(columns=["index"])
        if "index" in given.columns:
            given = given.drop(columns=["index"])
        if len(given) != len(expected):
            return False, f"{len(given)} rows, expected {len(expected)}"
        if sorted(given.columns) != sorted(expected.columns):
            return False, f"columns {sorted(given.columns)}, expected {sorted(expected.columns)}"
        for i in range(len(given)):
            for key in given.columns:
                mine, true = given.iloc[i][key], expected.iloc[i][key]
                mine = mine.strip() if isinstance(mine, str) else mine
                true = true.strip() if isinstance(true, str) else true
                if (isinstance(mine, float) or is_numeric_dtype(mine)) and (isinstance(true, float)
                                                                            or is_numeric_dtype(true)):
                    try:
                        mine, true = float(mine), float(true)
                    except (TypeError, ValueError):
                        if str(mine).strip() != str(true).strip():
                            return False, f"row {i}, {key}: {mine!r} vs {true!r}"
                        continue
                    if not (math.isnan(mine) and math.isnan(true)) and not abs(mine - true) < 1e-6:
                        return False, f"row {i}, {key}: {mine!r} vs {true!r}"
                elif not mine == true:
                    return False, f"row {i}, {key}: {mine!r} vs {true!r}"
    except Exception as exc:  # noqa: BLE001 - a comparison that cannot be made is a mismatch, as in LiveBench
        return False, f"{type(exc).__name__}: {exc}"[:200]
    return True, ""


def tablereformat(question: str, truth: str, answer: str, release_date: str) -> Verdict:
    with warnings.catch_warnings():  # pandas' deprecation notes about orientations LiveBench tries in turn
        warnings.simplefilter("ignore")
        return _tablereformat(question, truth, answer, release_date)


def _tablereformat(question: str, truth: str, answer: str, release_date: str) -> Verdict:
    version = "v2" if release_date >= V2_FROM else "v1"
    _, target = formats(question, version)
    read = _read_v1 if version == "v1" else _read_v2
    expected = read(target, truth)
    text = _drop_intro(clean_answer(answer))
    try:
        given = read(target, text)
    except Exception:  # noqa: BLE001 - the whole answer is not a table: look for one inside it
        given = None
        if target in ("csv", "tsv"):
            given = _sep_table(text, ("," if target == "csv" else "\t").join(expected.columns),
                               "," if target == "csv" else "\t")
        elif target == "jsonl":
            given = _jsonl_table(text, expected.columns)
        if given is None:
            return Verdict(0.0, None, f"the answer does not read as a {target} table")
    same, why = _same_table(given, expected) if given is not None else (False, "no table")
    if not same and target in ("csv", "jsonl"):
        retry = (_sep_table(text, ",".join(expected.columns), ",") if target == "csv"
                 else _jsonl_table(text, expected.columns))
        if retry is not None:
            same, why = _same_table(retry, expected)
    return Verdict(float(same), f"{target} table", "" if same else why)
