"""The `regex_extract_match` metric: lm-evaluation-harness's ``regex`` + ``take_first`` filters followed by
its ``exact_match`` metric, for any benchmark that extracts a short answer from generated text.

Each filter of ``params.filters`` is applied to the model output on its own and reported as its own value
(``<value_prefix>_<name>``, e.g. ``exact_match_strict`` and ``exact_match_flexible``), the way lm-eval
reports ``exact_match,strict-match`` and ``exact_match,flexible-extract`` separately.

Extraction (lm_eval.filters.extraction.RegexFilter): ``re.findall`` on the output; no match → the
filter's ``fallback`` ("[invalid]"), else the match at ``group_select`` (0 first, -1 last); when the
pattern has several groups the first non-empty group of that match is taken; the result is stripped.

Comparison (lm_eval.api.metrics.exact_match_hf_evaluate): every pattern of ``regexes_to_ignore`` is
removed (in order) from prediction and reference, then ``ignore_case`` lower-cases, ``ignore_punctuation``
and ``ignore_numbers`` delete ``string.punctuation`` / ``string.digits``; 1.0 when the two are equal
(any reference, when the sample has several).

details: per filter the extracted text and whether it fell back; ``unparsed`` is true when no filter
found anything (the output holds no answer at all), which is scored 0.
"""
from __future__ import annotations

import re
import string
from dataclasses import dataclass
from typing import Any

from gage_eval.metrics.base import Metric, MetricContext, MetricResult
from gage_eval.registry import registry

FALLBACK = "[invalid]"
_PUNCTUATION = str.maketrans("", "", string.punctuation)
_DIGITS = str.maketrans("", "", string.digits)


@dataclass(frozen=True, slots=True)
class ExtractFilter:
    name: str
    regex: re.Pattern[str]
    group_select: int = 0
    fallback: str = FALLBACK

    def extract(self, text: Any) -> tuple[str, bool]:
        """(extracted text, found); not found → (fallback, False). Mirrors lm-eval's RegexFilter."""
        if not isinstance(text, str):
            text = ""
        matches = self.regex.findall(text)
        if not matches:
            return self.fallback, False
        try:
            match = matches[self.group_select]
        except IndexError:  # lm-eval raises here; an answer without the requested occurrence is unparsed
            return self.fallback, False
        if isinstance(match, tuple):
            non_empty = [m for m in match if m]
            if not non_empty:
                return self.fallback.strip(), False
            match = non_empty[0]
        return match.strip(), True


def _compile(raw: Any, index: int) -> ExtractFilter:
    where = f"filters[{index}]"
    if not isinstance(raw, dict) or not raw.get("name") or not raw.get("regex"):
        raise ValueError(f"{where} must be a mapping with 'name' and 'regex' (optional group_select, fallback)")
    unknown = set(raw) - {"name", "regex", "group_select", "fallback"}
    if unknown:
        raise ValueError(f"{where} has unknown keys {sorted(unknown)} (known: name, regex, group_select, fallback)")
    try:
        pattern = re.compile(str(raw["regex"]))
    except re.error as exc:
        raise ValueError(f"{where}.regex {raw['regex']!r} is not a valid regular expression: {exc}") from None
    group_select = raw.get("group_select", 0)
    if not isinstance(group_select, int) or isinstance(group_select, bool):
        raise TypeError(f"{where}.group_select must be an integer (0 = first match, -1 = last)")
    return ExtractFilter(str(raw["name"]), pattern, group_select, str(raw.get("fallback", FALLBACK)))


class Normalizer:
    """lm-eval's exact_match_hf_evaluate normalization, one string at a time."""

    def __init__(self, regexes_to_ignore: list[str] | None = None, ignore_case: bool = False,
                 ignore_punctuation: bool = False, ignore_numbers: bool = False) -> None:
        try:
            self.ignore = [re.compile(p) for p in regexes_to_ignore or []]
        except re.error as exc:
            raise ValueError(f"regexes_to_ignore holds an invalid regular expression: {exc}") from None
        self.ignore_case, self.ignore_punctuation, self.ignore_numbers = ignore_case, ignore_punctuation, ignore_numbers

    def __call__(self, text: str) -> str:
        for pattern in self.ignore:
            text = pattern.sub("", text)
        if self.ignore_case:
            text = text.lower()
        if self.ignore_punctuation:
            text = text.translate(_PUNCTUATION)
        if self.ignore_numbers:
            text = text.translate(_DIGITS)
        # lm-eval compares numpy unicode arrays, which drop trailing NUL characters.
        return text.rstrip("\x00")


@registry.asset("metrics", "regex_extract_match", desc="lm-eval style regex filters (findall, group_select, "
                "fallback, take_first) then exact_match (regexes_to_ignore, ignore_case...); one value per "
                "filter, e.g. GSM8K's exact_match_strict / exact_match_flexible", tags=("text", "math"))
class RegexExtractMatch(Metric):
    def __init__(self, metric_id: str, **params: Any) -> None:
        super().__init__(metric_id, **params)
        known = {"filters", "regexes_to_ignore", "ignore_case", "ignore_punctuation", "ignore_numbers",
                 "value_prefix", "prediction_field"}
        unknown = set(params) - known
        if unknown:
            raise ValueError(f"unknown parameters {sorted(unknown)} (known: {', '.join(sorted(known))})")
        raw_filters = params.get("filters")
        if not isinstance(raw_filters, list) or not raw_filters:
            raise ValueError("'filters' must be a non-empty list of {name, regex, group_select, fallback}")
        self.filters = [_compile(raw, i) for i, raw in enumerate(raw_filters)]
        names = [f.name for f in self.filters]
        if len(set(names)) != len(names):
            raise ValueError(f"filter names must be unique, got {names}")
        self.normalize = Normalizer(params.get("regexes_to_ignore"), bool(params.get("ignore_case", False)),
                                    bool(params.get("ignore_punctuation", False)),
                                    bool(params.get("ignore_numbers", False)))
        self.prefix = str(params.get("value_prefix", "exact_match"))
        self.prediction_field = str(params.get("prediction_field", "model_output.answer"))

    def evaluate(self, context: MetricContext) -> MetricResult:
        output = context.get(self.prediction_field, "")
        references = [self.normalize(str(r)) for r in context.references]
        values: dict[str, float | list[float]] = {}
        per_filter: dict[str, dict[str, Any]] = {}
        for flt in self.filters:
            extracted, found = flt.extract(output)
            hit = self.normalize(extracted) in references
            values[f"{self.prefix}_{flt.name}"] = 1.0 if hit else 0.0
            per_filter[flt.name] = {"extracted": extracted[:200], "unparsed": not found}
        unparsed = all(d["unparsed"] for d in per_filter.values())
        return MetricResult(values, {"filters": per_filter, "unparsed": unparsed})
