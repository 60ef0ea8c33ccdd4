"""LiveBench language: typos (the corrected text must appear verbatim), connections (groups of four found,
partial credit) and plot unscrambling (1 - edit distance of the sentence order) — rule for rule as
``process_results/writing/*/utils.py``."""
from __future__ import annotations

import difflib
import re

from gage_eval.benchmarks.livebench.text import Verdict, last_boxed_only_string, levenshtein, remove_boxed

_PARTIAL_CREDIT_FROM = "2024-11-25"


def typos(truth: str, answer: str) -> Verdict:
    """The corrected passage must appear, verbatim, in the last <solution> (else in the text between ' --- '
    markers, else in the whole answer), blank lines joined with spaces."""
    found = re.findall(r"<solution>(.*?)</solution>", answer)
    if found:
        parsed = found[-1]
    else:
        parsed = answer.replace("<solution>", "").replace("</solution>", "")
        marked = re.search(r".* --- (.*?) --- .*", parsed)
        parsed = marked.group(1) if marked else parsed
    parsed = " ".join(line for line in parsed.strip().split("\n") if line)
    return Verdict(float(truth in parsed), parsed[-200:])


def _groups(words: list[str]) -> list[set[str]]:
    """Consecutive words, four to a group (lowercased, stripped)."""
    groups: list[set[str]] = [set()]
    for word in (w.strip().lower() for w in words):
        if len(groups[-1]) == 4:
            groups.append(set())
        groups[-1].add(word)
    return groups


def connections_old(truth: str, answer: str) -> Verdict:
    """Releases before 2024-11-25: the best-scoring **bold** list; a true group counts when all its words are in
    one answered group."""
    bold = re.findall(r"\*\*(.*?)\*\*", answer.replace("\n", ""))
    if not bold:
        return Verdict(0.0, None, "no bold text")
    expected = _groups(truth.split(","))
    best = 0.0
    for answered in (_groups(b.split(",")) for b in bold):
        found = sum(1 for group in expected if any(all(w in out for w in group) for out in answered))
        best = max(best, found / len(expected))
    return Verdict(best, bold[-1])


def connections(truth: str, answer: str) -> Verdict:
    """From 2024-11-25: the words of <solution> (else the last \\boxed{}) in groups of four; the share of
    answered groups that are true groups."""
    found = (re.findall(r"<solution>(.*?)</solution>", answer)
             or re.findall(r"<solution>(.*?)</solution>", answer.replace("\n", ""))
             or re.findall(r"</solution>(.*?)</solution>", answer)
             or re.findall(r"</solution>(.*?)</solution>", answer.replace("\n", "")))
    expected_words = truth.split(",")
    if not found and "\\boxed" in answer:
        boxed = last_boxed_only_string(answer)
        found = [remove_boxed(boxed).replace("\\text{", "").replace("}", "").replace("\\", "")]
    found = [match.replace("\n", "") for match in found]
    if not found:
        return Verdict(0.0, None, "no <solution> or \\boxed{}")
    if len(found) > 1:
        words = [w for match in found for w in match.split(",")][-len(expected_words):]
    else:
        words = found[-1].split(",")
    answered, expected = _groups(words), _groups(expected_words)
    return Verdict(sum(1 for group in answered if group in expected) / len(expected), found[-1])


def connections_for_release(release_date: str):  # noqa: ANN201 - one of the two functions above
    return connections_old if release_date < _PARTIAL_CREDIT_FROM else connections


def _plot_summary(text: str) -> str:
    match = re.search(r"<PLOT_SUMMARY>(.*)</PLOT_SUMMARY>", text, re.DOTALL) or re.search(
        r"<PLOT_SUMMARY>(.*)", text, re.DOTALL)
    return match.group(1) if match else text


def plot_unscrambling(truth: str, answer: str) -> Verdict:
    """Each true sentence is matched to its closest answered sentence; score = 1 - edit distance between the
    true order and the answered positions, over the number of sentences."""
    answer = _plot_summary(answer)
    expected = [s for s in (s.strip() for s in truth.split(".")) if s]
    given = [s for s in (s.strip() for s in answer.split("."))
             if s and s not in ("</PLOT_SUMMARY>", "**End of Plot Summary**")]
    order = []
    for sentence in expected:
        best = difflib.get_close_matches(sentence, given, n=1, cutoff=0.0)
        if best:
            order.append(given.index(best[0]))
    return Verdict(1 - levenshtein(list(range(len(expected))), order) / len(expected), order)
