"""Which option letter a generated multiple-choice answer chooses — or why it chooses none.

One rule for every benchmark that scores generated letters (``mc_accuracy`` without log-likelihoods and
``multi_choice_accuracy``). It is stricter than both published rules it draws on:

- EvalScope (``utils/multi_choices.py``) reads the last ``ANSWER: X`` and otherwise falls back to the last
  capital letter anywhere in the reply; lm-eval's ``multi_choice_regex`` (gpqa/mmlu generative
  flexible-extract) takes a ``(X)`` anywhere, then the text of an option, then ``: X``. Both credit a reply
  that merely repeats the options or names several letters, so a server that echoes the prompt scores.

The rule, in order (letters only within the sample's option count):

1. ``<think>...</think>`` reasoning is dropped.
2. Echo. The reply repeats the prompt when it contains a line of the last user turn verbatim (at least 24
   characters, not an option line) or a run of consecutive option labels each followed by that option's
   text (``A. Mars B. Moon C. Sun``) covering more than half of the options (at least 2). Then only an
   explicit answer marker (step 3) after the last repeated part counts; without one the reason is ``echo``.
3. Explicit markers: ``Answer: (C)``, ``The answer is C``, ``the correct option is C``, ``ANSWER: C``,
   ``答案是B``, ``答案：B``, ``正确选项为B``, ``故选B``, ``选B``, ``\\boxed{C}``, ``**C**`` (bold starting
   with a letter). A lowercase letter counts only bracketed or ending its clause (``answer: c``,
   ``answer is c.``, not ``the answer is a good one``); ``I`` followed by a lowercase word is the pronoun.
4. Otherwise label-shaped letters: the reply or any of its lines starting with ``C``, ``C.``, ``C)``,
   ``(C)``, ``C:``, ``C、``, ``B。``, ``B选项`` (explanations may follow: ``C. Because ...``) — lowercase
   ``c``, ``c.``, ``c)`` only there —; ``(C)`` / ``[C]`` anywhere; ``C)`` / ``C:`` after a space; an option
   quoted with its label and text (``C. Sun``) anywhere. A capital followed by a word (``C is right``,
   ``A planet ...``) is prose, not a label.

Letters joined by ``or``/``and``/``/``/``和``/``或`` are all candidates, and so are comma-separated ones
ending the list (``A, B``; in ``C, A is wrong`` only C). Within the first step that
finds any, one distinct letter is the answer; several are ``ambiguous`` (negations are not read: ``Not A,
it's C`` is ambiguous, and so is a change of mind); a sole letter past the options is ``out_of_range``. A
reply with none is ``none`` — or ``ambiguous`` when it names several option letters in prose (``between A
and B``): a letter in prose (``It's C``) is not read.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

# After a capital: not part of a word ("Answer", "C3", "U.S.", "C-3PO", "I'm").
_CAP_END = r"(?![A-Za-z0-9]|[-'’.][A-Za-z])"
_OPEN, _CLOSE = r"[\(\[（【{]", r"[\)\]）】}]"
# Regex junctions never put two optional runs of the same characters side by side: on a long run of spaces
# or stars that would backtrack quadratically (a reply is untrusted input).
_DECOR = r"[\s*_\"'“”‘’`$]*(?:\\(?:boxed|text|textbf|mathrm)\{[\s*_\"'“”‘’`$]*)?"
_KEY_EN = (r"\b(?:(?:final|correct|right|best)\s+)?answer(?:\s+choice)?|\b(?:correct|right|final|best)\s+"
           r"(?:option|choice)")
_CONNECT_EN = (r"\s*(?:(?:is|would\s+be|should\s+be|must\s+be|will\s+be)\b(?:\s*:)?|[:：=]|-(?!\w))"
               r"(?:\s+(?:probably|likely|most\s+likely|clearly|definitely|therefore|thus)\b)?"
               r"(?:\s+(?:option|choice|letter)\b)?")
_KEY_ZH = (r"答案(?:\s*(?:应该|应当|应|就))?(?:\s*(?:是|为|為|选|選|：|:))?(?:\s*(?:选项|選項))?"
           r"|正确(?:的)?(?:选项|答案)(?:\s*(?:是|为|：|:))?"
           r"|(?:(?:故|所以|因此|应|应该|我)|^)\s*选(?:择)?(?:\s*[:：])?")
_LETTER = rf"({_OPEN}\s*)?([A-Za-z])(\s*{_CLOSE})?"
_MARKERS = [
    re.compile(rf"(?:{_KEY_EN}){_CONNECT_EN}{_DECOR}{_LETTER}", re.I),
    re.compile(rf"(?:{_KEY_ZH}){_DECOR}{_LETTER}"),
    re.compile(rf"\\boxed\{{\s*(?:\\text\{{)?\s*{_LETTER}"),
]
_BOLD = re.compile(rf"\*\*\s*({_OPEN}\s*)?([A-Z])(\s*{_CLOSE})?(?=\s*[.:：)]?[^*\n]{{0,80}}\*\*){_CAP_END}"
                   rf"|\*\*\s*({_OPEN}\s*)?([a-z])(\s*{_CLOSE})?\s*\*\*")
_QUOTE = r"[*_\"'”’`]*"  # closing emphasis/quotes a label may carry: **C**, "C"
_LINE_START = re.compile(rf"^[ \t*_#>\"'“”‘’`]*(?:{_OPEN}\s*([A-Za-z])\s*{_CLOSE}"
                         rf"|([A-Z])(?={_QUOTE}(?:[ \t]*$|[.)．:：、。,，;](?![A-Za-z])|[\u3400-\u9fff]))"
                         rf"|([a-z])(?={_QUOTE}(?:[ \t]*$|[.):：](?:\s|$))))", re.M)
_INLINE = re.compile(rf"{_OPEN}\s*([A-Z])\s*{_CLOSE}|(?<=\s)([A-Z])(?=[):：]\s)")
# "A or B", "A和B" always join; after a comma only a letter that ends the list does ("A, B", not "C, A is wrong").
_CONJ = re.compile(rf"\s*(?:/|&|\bor\b|\band\b|\band/or\b|或者?|和|还是|与|及)\s*(?:{_OPEN}\s*)?"
                   rf"([A-Z]){_CAP_END}"
                   rf"|\s*[,，、]\s*(?:{_OPEN}\s*)?([A-Z]){_CAP_END}"
                   rf"(?=(?:\s*{_CLOSE})?\s*(?:$|[.,，。;:)\]]|or\b|and\b|和|或))")
_PROSE = re.compile(rf"(?<![A-Za-z0-9])([A-Z]){_CAP_END}")
# An option label at a line start or after a space: "A. ", "A) ", "(A) ", "A: ", "A、".
_OPTION_LINE = re.compile(r"[\(\[（【]?[A-Z][.)．:：、\]）】]")
_ENTRY = re.compile(rf"(?:^|(?<=[\s*>#|\-]))(?:{_OPEN}\s*([A-Z])\s*{_CLOSE}|([A-Z])[.)．:：、])[ \t]*", re.M)


@dataclass(frozen=True)
class Extraction:
    """``letter`` (``None`` when unparsed) and ``how``: marker | label — or ambiguous | echo | out_of_range |
    none; ``candidates`` lists the letters seen when ambiguous."""
    letter: str | None
    how: str
    candidates: tuple[str, ...] = ()


def _strip_reasoning(text: str) -> str:
    """Drop ``<think>...</think>``; a closing tag alone (the opening one was in the prompt) drops all before
    it; an unclosed ``<think>`` drops all after it (reasoning cut off holds no answer)."""
    head, closing, tail = text.partition("</think>")
    if closing and "<think>" not in head:
        text = tail
    out, pos = [], 0
    while (start := text.find("<think>", pos)) >= 0:
        out.append(text[pos:start])
        stop = text.find("</think>", start)
        if stop < 0:
            return " ".join(out)
        pos = stop + len("</think>")
    return " ".join(out + [text[pos:]])


def _option_pattern(text: str | None, limit: int | None = 60) -> re.Pattern[str] | None:
    """Whitespace- and case-insensitive pattern of the text's first `limit` characters."""
    words = (text or "").strip()[:limit].split()
    return re.compile(r"\s+".join(re.escape(w) for w in words), re.I) if words else None


def _entries(text: str, n: int, options: list[str | None]) -> list[tuple[int, int, str]]:
    """Option labels followed by text: (option index, end of the entry, kind).

    kind ``own``: the label and that option's text; ``cut``: the reply ends inside that text; ``label``: the
    option's text is unknown, so any text after the label, to the end of its line."""
    patterns = [_option_pattern(options[i] if i < len(options) else None) for i in range(n)]
    found: list[tuple[int, int, str]] = []
    for m in _ENTRY.finditer(text):
        idx = LETTERS.index(m.group(1) or m.group(2))
        if idx >= n:
            continue
        pattern, start = patterns[idx], m.end()
        if pattern is None:
            if start < len(text) and text[start] not in "\r\n":
                line_end = text.find("\n", start)
                found.append((idx, len(text) if line_end < 0 else line_end, "label"))
            continue
        hit = pattern.match(text, start)
        option = " ".join(str(options[idx]).split()).casefold()
        # only a short remainder can be a cut-off option (and normalising it stays linear in the reply)
        rest = " ".join(text[start:].split()).casefold() if len(text) - start <= 2 * len(option) + 16 else ""
        if hit:
            found.append((idx, hit.end(), "own"))
        elif rest and option.startswith(rest):
            found.append((idx, len(text), "cut"))
    return found


def _list_end(entries: list[tuple[int, int, str]], n: int) -> int:
    """End of the last repeated option list, or -1 (see the module docstring, step 2)."""
    need = max(2, n // 2 + 1)
    run: dict[int, int] = {}
    end = -1
    for idx, stop, _ in entries:
        run[idx] = run.get(idx - 1, 0) + 1 if idx else 1
        if run[idx] >= need:
            end = max(end, stop)
    return end


def _prompt_end(text: str, prompt: str) -> int:
    """End of the last line of the prompt (not an option line, at least 24 characters) the reply repeats
    verbatim, or -1. A repeated question is an echo even when the reply was cut off before the options."""
    end = -1
    for line in prompt.splitlines():
        line = line.strip()
        if len(line) < 24 or _OPTION_LINE.match(line):
            continue
        for pattern in (_option_pattern(line, None), _option_pattern(line)):
            hits = list(pattern.finditer(text)) if pattern else []
            if hits:
                end = max(end, hits[-1].end())
                break
    return end


def _letter_ok(m: re.Match[str], text: str, open_g: int, letter_g: int, close_g: int) -> str | None:
    """The letter a marker match names, if its surroundings make it a label rather than a word."""
    letter, after = m.group(letter_g), text[m.end(letter_g):]
    bracketed = bool(m.group(open_g) and m.group(close_g))
    if letter.isupper():
        if re.match(_CAP_END, after) is None and not bracketed:
            return None
        if letter == "I" and not bracketed and re.match(r"\s+[a-z]", after):
            return None  # "Answer: I think ..." — the pronoun
        return letter
    if bracketed or re.match(r"[ \t]*(?:$|\n)|[.)\]。,，;:：](?:\s|$)", after):
        return letter.upper()
    return None


def _with_conjoined(letter: str, text: str, pos: int) -> list[str]:
    """The letter plus any joined to it ("A or B", "A, C", "A和B")."""
    found = [letter]
    while (m := _CONJ.match(text, pos)) is not None:
        found.append(m.group(1) or m.group(2))
        pos = m.end()
    return found


def _markers(text: str) -> list[str]:
    found: list[str] = []
    for pattern in _MARKERS:
        for m in pattern.finditer(text):
            letter = _letter_ok(m, text, 1, 2, 3)
            if letter:
                found += _with_conjoined(letter, text, m.end())
    for m in _BOLD.finditer(text):
        groups = (1, 2, 3) if m.group(2) else (4, 5, 6)
        letter = _letter_ok(m, text, *groups)
        if letter:
            found.append(letter)
    return found


def _labels(text: str) -> list[str]:
    found: list[str] = []
    for m in _LINE_START.finditer(text):
        letter = (m.group(1) or m.group(2) or m.group(3)).upper()
        found += _with_conjoined(letter, text, m.end())
    for m in _INLINE.finditer(text):
        found += _with_conjoined(m.group(1) or m.group(2), text, m.end())
    return found


def _decide(found: list[str], n: int, how: str) -> Extraction | None:
    if not found:
        return None
    valid = [c for c in dict.fromkeys(found) if LETTERS.index(c) < n]
    distinct = tuple(dict.fromkeys(found))
    if how == "label":  # a stray out-of-range capital ("E. coli") is prose, not a choice
        distinct = tuple(valid) or distinct
    if len(distinct) > 1:
        return Extraction(None, "ambiguous", distinct)
    return Extraction(distinct[0], how) if valid else Extraction(None, "out_of_range", distinct)


def _is_word(m: re.Match[str], text: str) -> bool:
    """A capital in prose that is English: "I" before a lowercase word, "A" so at a sentence start."""
    if not re.match(r"\s+(?!(?:or|and|nor)\b)[a-z]", text[m.end():]):
        return False
    before = text[max(0, m.start() - 80):m.start()]  # a bounded look back: linear on long replies
    stripped = before.rstrip()
    sentence_start = not stripped or stripped[-1] in ".!?:" or "\n" in before[len(stripped):]
    return m.group(1) == "I" or (m.group(1) == "A" and sentence_start)


def extract_choice(text: str, n_options: int, option_texts: list[str | None] | None = None,
                   prompt: str | None = None) -> Extraction:
    """Apply the rule of the module docstring to ``text`` for a question with ``n_options`` options (A..),
    given the options' texts and the prompt (both optional; they let the rule recognise an echo)."""
    n = max(0, min(n_options, len(LETTERS)))
    text = _strip_reasoning(text or "")
    options = option_texts or []
    entries = _entries(text, n, options)
    end = max(_list_end(entries, n), _prompt_end(text, prompt or ""))
    if end >= 0:  # after an echo only an explicit answer counts
        return _decide(_markers(text[end:]), n, "marker") or Extraction(None, "echo")
    # An option quoted with its label ("C. Sun") names that option, wherever it stands.
    quoted = [LETTERS[idx] for idx, _, kind in entries if kind == "own"]
    result = _decide(_markers(text), n, "marker") or _decide(_labels(text) + quoted, n, "label")
    if result is not None:
        return result
    prose = tuple(dict.fromkeys(m.group(1) for m in _PROSE.finditer(text)
                                if LETTERS.index(m.group(1)) < n and not _is_word(m, text)))
    return Extraction(None, "ambiguous", prose) if len(prose) > 1 else Extraction(None, "none")


def _text_of(choice: Any) -> str:
    return str(choice.get("text", "")) if isinstance(choice, dict) else str(choice)


def _last_prompt(sample: Any) -> str:
    users = [m.text() for m in sample.messages if m.role == "user"]
    return users[-1] if users else str(sample.inputs.get("prompt") or sample.inputs.get("ll_context") or "")


def reading_context(sample: Any, n: int) -> dict[str, Any]:
    """What `extract_choice` needs besides the reply: the last user turn (``prompt``) and the options' texts —
    the sample's choices or, where those are the letters themselves (MMLU, CMMLU and C-Eval list the
    options inside the question), the ``X. text`` lines of that turn."""
    prompt = _last_prompt(sample)
    texts = [str(t) for t in (sample.metadata.get("choice_texts") or [])] or [_text_of(c) for c in sample.choices]
    if not (texts and any(t.strip() and t.strip() != LETTERS[i % 26] for i, t in enumerate(texts))):
        texts = []
        for letter in LETTERS[:n]:
            lines = re.findall(rf"^[ \t]*\(?{letter}[.)．:：、][ \t]*(\S.*)$", prompt, re.M)
            texts.append(lines[-1] if lines else None)
    return {"option_texts": texts, "prompt": prompt}


def letter_details(found: Extraction) -> dict[str, Any]:
    """What a metric records per sample: ``extraction`` (how, or why not) and, when ambiguous, the letters."""
    details: dict[str, Any] = {"extraction": found.how}
    if found.candidates:
        details["candidates"] = list(found.candidates)
    return details
