"""Sentence splitting, word tokenization and language detection for the IFEval checkers.

The reference (Google's checkers as shipped by lm-evaluation-harness) counts sentences with NLTK's
English Punkt model (``nltk.data.load("tokenizers/punkt/english.pickle")``, which NLTK >= 3.9 serves
from the ``punkt_tab`` data) and words for ``capital_word_frequency`` with ``nltk.word_tokenize``
(Punkt sentences, then the Treebank-style ``NLTKWordTokenizer`` on each). Both need the ``punkt_tab``
data, which is not on PyPI (``nltk.download('punkt_tab')`` fetches it). So:

- when the data is installed we use exactly those two NLTK tokenizers: scores equal the reference's;
- otherwise a documented regex fallback splits sentences (`split_sentences_fallback`): it breaks after
  ``.``, ``!`` or ``?`` (plus closing quotes/brackets) followed by whitespace, except after a short list
  of common English abbreviations and single-letter initials. Punkt's learned abbreviations and
  orthographic heuristics are not reproduced, so counts can differ from the reference on such text.
  The metric reports which splitter was used (``details.sentence_splitter``).

Language detection uses langdetect like the reference, but with its own detector factory seeded with
`LANGDETECT_SEED`: the reference calls the unseeded global ``langdetect.detect``, whose answer on short
or mixed text can change from run to run; ours is reproducible (and equals the reference's whenever the
reference is seeded the same way, ``langdetect.DetectorFactory.seed = 0``).
"""
from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

PUNKT = "nltk-punkt"
FALLBACK = "fallback-regex"
LANGDETECT_SEED = 0

# Lower-cased words whose trailing period does not end a sentence in the fallback splitter.
_ABBREVIATIONS = frozenset({
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "vs", "etc", "e.g", "i.e", "cf", "al", "approx",
    "u.s", "u.k", "a.m", "p.m", "no", "fig", "figs", "vol", "inc", "ltd", "co", "corp", "dept", "gen", "gov",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
})
# A run of terminators, then closing quotes/brackets, then whitespace: a candidate sentence end.
_BOUNDARY = re.compile(r"[.!?]+[\"'\u201d\u2019)\]]*(?=\s)")
_LAST_WORD = re.compile(r"(\S+)$")
_FALLBACK_WORD = re.compile(r"\w+(?:['\u2019-]\w+)*|[^\w\s]")


def split_sentences_fallback(text: str) -> list[str]:
    """Regex sentence splitter used when NLTK's punkt data is missing (see the module docstring)."""
    sentences: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        terminators = match.group().rstrip("\"'\u201d\u2019)]")
        if terminators == ".":  # "?", "!" and "..." always end a sentence; a lone "." may be an abbreviation
            word = _LAST_WORD.search(text, start, match.start())
            token = word.group(1).lower().lstrip("(\"'\u201c\u2018[") if word else ""
            if token in _ABBREVIATIONS or (len(token) == 1 and token.isalpha()):
                continue
        piece = text[start:match.end()].strip()
        if piece:
            sentences.append(piece)
        start = match.end()
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return sentences


@functools.cache
def sentence_splitter() -> tuple[str, Callable[[str], list[str]]]:
    """(name, split function): NLTK's English Punkt model when its data is installed, else the fallback.

    Cached: call `reset()` after installing the data (or changing ``nltk.data.path``) in a live process."""
    try:
        from nltk.tokenize.punkt import PunktTokenizer  # NLTK >= 3.9 (punkt_tab data)

        tokenizer = PunktTokenizer("english")
    except (ImportError, LookupError, OSError, ValueError):
        return FALLBACK, split_sentences_fallback
    return PUNKT, tokenizer.tokenize


@functools.cache
def _treebank() -> Callable[[str], list[str]] | None:
    try:
        from nltk.tokenize import NLTKWordTokenizer  # needs no data
    except ImportError:
        return None
    return NLTKWordTokenizer().tokenize


def word_tokenizer_name() -> str:
    return "nltk-treebank" if _treebank() is not None else FALLBACK


def split_sentences(text: str) -> list[str]:
    return sentence_splitter()[1](text)


def count_sentences(text: str) -> int:
    return len(split_sentences(text))


def tokenize_words(text: str) -> list[str]:
    """``nltk.word_tokenize`` semantics: split into sentences, then Treebank-tokenize each sentence."""
    treebank = _treebank()
    if treebank is None:  # NLTK is not installed at all
        return _FALLBACK_WORD.findall(text)
    return [token for sentence in split_sentences(text) for token in treebank(sentence)]


def count_words(text: str) -> int:
    """Runs of word characters, as the reference's ``RegexpTokenizer(r"\\w+")`` counts them."""
    return len(re.findall(r"\w+", text))


@functools.cache
def _language_factory() -> Any:
    try:
        from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory
    except ImportError as exc:
        raise ImportError("IFEval's language checks need langdetect: pip install 'gage-eval[ifeval]'") from exc
    factory = DetectorFactory()
    factory.load_profile(PROFILES_DIRECTORY)
    factory.set_seed(LANGDETECT_SEED)
    return factory


def detect_language(text: str) -> str | None:
    """The langdetect language code of `text`, or None when langdetect finds no features to judge by."""
    from langdetect.lang_detect_exception import LangDetectException

    detector = _language_factory().create()
    try:
        detector.append(text)
        return str(detector.detect())
    except LangDetectException:
        return None


def reset() -> None:
    """Forget the chosen tokenizers (tests install punkt data into a temporary NLTK_DATA dir)."""
    sentence_splitter.cache_clear()
    _treebank.cache_clear()
