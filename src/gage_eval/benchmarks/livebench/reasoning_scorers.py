"""LiveBench reasoning: zebra puzzles (partial credit from the 2024-11-25 release on), web of lies (v2: all
three answers; v3: partial credit), spatial, house traversal, theory of mind and logic with navigation —
rule for rule as ``process_results/reasoning/*/utils.py``."""
from __future__ import annotations

import itertools
import json
import re

from gage_eval.benchmarks.livebench.text import Verdict, last_boxed_only_string, remove_boxed, solution_tags

_NUMBER_WORD = {"1": "one", "2": "two", "3": "three", "4": "four", "5": "five", "6": "six", "7": "seven",
                "8": "eight", "9": "nine"}
_PARTIAL_CREDIT_FROM = "2024-11-25"


def _word_matches(word: str, truth: str) -> bool:
    truth = truth.lower()
    return (word.lower() == truth or (word in _NUMBER_WORD and _NUMBER_WORD[word] == truth)
            or word.lower() + " movies" == truth)


def zebra_puzzle_old(truth: str, answer: str) -> Verdict:
    """Releases before 2024-11-25: one answer, the last ***bold*** word (else the last word)."""
    bold = re.findall(r"\*\*\*(\w+)\*\*\*", answer)
    if bold:
        return Verdict(float(_word_matches(bold[-1], truth)), bold[-1], "last ***bold*** word")
    words = re.findall(r"\b\w+\b", answer)
    last = words[-1] if words else ""
    return Verdict(float(_word_matches(last, truth)), last, "last word")


def _solution_or_fallback(answer: str) -> list[str]:
    found = solution_tags(answer) or re.findall(r"</solution>(.*?)</solution>", answer)
    return found


def zebra_puzzle(truth: str, answer: str) -> Verdict:
    """From 2024-11-25: comma-separated answers in <solution> (else the last \\boxed{}, else a last line with as many
    commas); score = (all right + fraction right) / 2."""
    expected = truth.split(",")
    found = _solution_or_fallback(answer)
    if not found:
        boxed = last_boxed_only_string(answer.replace("\\\\fbox{", "\\\\boxed{"))
        if boxed:
            found.append(remove_boxed(boxed).replace("\\text{", "").replace("}", "").replace("\\", ""))
    if not found:
        last_line = answer.strip().split("\n")[-1]
        if last_line.count(",") == len(expected) - 1:
            found.append(last_line)
    if not found:
        return Verdict(0.0, None, "no <solution>, \\boxed{} or comma-separated last line")
    if len(found) > 1:
        given = [w for match in found for w in match.split(",")][-len(expected):]
    else:
        given = found[-1].split(",")
    correct = 0
    for i, true_word in enumerate(expected):
        if i >= len(given):
            continue
        true_word = true_word.strip().lower().replace("-", " ")
        word = given[i].strip().lower().replace("-", " ").replace("position", "")
        if true_word == word or true_word in word:
            correct += 1
    return Verdict(((correct == len(expected)) + correct / len(expected)) / 2, given)


def zebra_for_release(release_date: str):  # noqa: ANN201 - one of the two functions above
    return zebra_puzzle_old if release_date < _PARTIAL_CREDIT_FROM else zebra_puzzle


_YES_NO = ("yes", "no", "unknown")


def _last_triple(text: str) -> str | None:
    """The yes/no/unknown triple ("yes, no, unknown") found last in the text (the earliest in product order on
    ties), or None."""
    best, best_index = None, -1
    lowered = text.lower()
    for combo in itertools.product(_YES_NO, repeat=3):
        index = lowered.find(", ".join(combo))
        if index != -1 and index > best_index:
            best, best_index = combo, index
    return ", ".join(best) if best else None


def _boxed_after_textbf(answer: str) -> tuple[str, str | None]:
    answer = (answer.replace("\\\\boxed{\\\\textbf{", "\\\\boxed{").replace("\\\\fbox{", "\\\\boxed{")
              .replace("\\textbf{", "\\boxed{"))
    boxed = last_boxed_only_string(answer)
    return answer, (remove_boxed(boxed) if boxed else None)


def web_of_lies_v2(truth: str, answer: str) -> Verdict:
    """Three yes/no/unknown answers: from <solution>, else the last three bold yes/no/unknown words, else the
    last \\boxed{} (\\textbf counts as a box), else the last "x, y, z" triple; all three must be right."""
    found = _solution_or_fallback(answer)
    parsed = found[-1] if found else None
    bold = re.findall(r"\*\*(.*?)\*\*", answer)
    if parsed is None and bold:
        words = [w.lower().strip().replace(",", "").replace(".", "") for match in bold for w in match.split()]
        picked: list[str] = []
        for word in reversed(words):
            if len(picked) == 3:
                break
            if word in _YES_NO:
                picked.insert(0, word)
        parsed = ", ".join(picked) if picked else None
    if parsed is None or parsed.strip() == "":
        answer, boxed = _boxed_after_textbf(answer)
        if boxed is not None:
            parsed = boxed
    if parsed is None:
        parsed = _last_triple(answer)
    truth_lower = truth.lower()
    right = bool(parsed) and (parsed == truth_lower or (
        parsed.count("yes") + parsed.count("no") + parsed.count("unknown") == 3 and truth_lower in parsed))
    return Verdict(float(right), parsed)


def web_of_lies_v3(truth: str, answer: str) -> Verdict:
    """As v2 without the bold-word rule, with partial credit: (all right + fraction right) / 2, answers compared
    item by item after splitting on commas."""
    found = solution_tags(answer)
    parsed = found[-1] if found else None
    if parsed is None or parsed.strip() == "":
        answer, boxed = _boxed_after_textbf(answer)
        if boxed is not None:
            parsed = boxed.replace("\\text{", "").replace("}", "")
    if parsed is None:
        parsed = _last_triple(answer)
    if parsed is None:
        return Verdict(0.0, None, "no answer found")
    given, expected = parsed.split(","), truth.split(",")
    correct = sum(1 for i, word in enumerate(expected) if i < len(given) and given[i] == word)
    return Verdict(((correct == len(expected)) + correct / len(expected)) / 2, parsed)


_NUMBER_TO_DIGITS = {w: str(i) for i, w in enumerate(
    ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
     "seventeen eighteen nineteen twenty").split())}
_SHAPES = ("tetrahedra", "tetrahedron", "triangle", "square")


def spatial(truth: str, answer: str) -> Verdict:
    """The answer as one of the last three **bold** phrases (a number may be spelled out; "two tetrahedra" counts
    for "tetrahedra"), else as the last \\boxed{}."""
    if answer == truth:
        return Verdict(1.0, answer)
    bold = re.findall(r"\*\*([^\*]+)\*\*", answer)
    expected = truth.strip().lower()
    for phrase in (b.strip().lower() for b in bold[-3:][::-1]):
        if phrase == expected or _NUMBER_TO_DIGITS.get(phrase) == expected or any(
                expected == shape and shape in phrase and len(phrase) < 2 * len(shape) + 5 for shape in _SHAPES):
            return Verdict(1.0, phrase, "bold")
    boxed = last_boxed_only_string(answer.replace("\\\\fbox{", "\\\\boxed{"))
    if boxed:
        parsed = remove_boxed(boxed)
        for junk in ("\\textbf{", "\\mathbf{", "\\text{", "}"):
            parsed = parsed.replace(junk, "")
        return Verdict(float(parsed == truth), parsed, "boxed")
    return Verdict(0.0, bold[-1].strip().lower() if bold else None, "no matching bold phrase or box")


def house_traversal(truth: str, answer: str) -> Verdict:
    """The names of the path in order: each one of the last bold parts, or all in order in the last one."""
    bold = re.findall(r"(\*{2,})(.*?)\1", answer.lower())
    if not bold:
        return Verdict(0.0, None, "no bold text")
    names = truth.lower().split(" ")
    # LiveBench tests `name in (stars, text)`: each of the last bold parts must BE the name, not contain it.
    if len(bold) >= len(names) and all(name in bold[-1 - i] for i, name in enumerate(names[::-1])):
        return Verdict(1.0, [b[1] for b in bold[-len(names):]])
    last, position = bold[-1][1], -1
    for name in names:
        index = last.find(name)
        if index == -1 or index <= position:
            return Verdict(0.0, last)
        position = index
    return Verdict(1.0, last)


def theory_of_mind(truth: str, answer: str) -> Verdict:
    found = re.findall(r"<solution>(.*?)</solution>", answer, re.IGNORECASE | re.DOTALL) or re.findall(
        r"</solution>(.*?)</solution>", answer, re.IGNORECASE | re.DOTALL)
    if not found:
        last_line = answer.strip().split("\n")[-1].strip()
        for prefix in ("Answer:", "answer:", "The answer is", "the answer is"):
            if last_line.startswith(prefix):
                last_line = last_line[len(prefix):].strip()
        found = [last_line]
    given = re.sub(r"[.,!?;:]", "", found[-1].strip().lower()).strip()
    expected = truth.strip().lower()
    return Verdict(float(given == expected or expected in given), given)


def _coordinates(truth: object) -> list[int]:
    """LiveBench's question files hold the position as a list; a string copy of it ("[3, -2]") is read too."""
    value = json.loads(truth) if isinstance(truth, str) else truth
    if not isinstance(value, list) or len(value) != 2:
        raise ValueError(f"the ground truth of logic_with_navigation must be [x, y], not {truth!r}")
    return [int(v) for v in value]


def logic_with_navigation(truth: object, answer: str) -> Verdict:
    expected = _coordinates(truth)
    found = re.findall(r"<solution>(.*?)</solution>", answer, re.DOTALL | re.IGNORECASE)
    if not found:
        return Verdict(0.0, None, "no <solution>")
    text = found[-1].strip()
    match = re.search(r"\(\s*(-?\d+)\s*,\s*(-?\d+)\s*\)", text) or re.search(r"(-?\d+)\s*,\s*(-?\d+)", text)
    if not match:
        return Verdict(0.0, text, "no x, y in <solution>")
    given = [int(match.group(1)), int(match.group(2))]
    return Verdict(float(given == expected), given)
