"""The shape every builtin benchmark shares: an lm-evaluation-harness-style task definition.

A benchmark subclasses `BenchmarkPreprocessor` and says, for one raw record of the dataset's published
schema, what the question text is (`doc_to_text`), what the options are (`doc_to_choice`, multiple choice
only) and what the answer is (`doc_to_target`). `to_sample` then builds a Sample that serves every
scoring mode at once, so the same dataset file can be scored either way:

- loglikelihood multiple choice: ``inputs.ll_context`` (description + few-shot block + question) and
  ``inputs.ll_continuations`` (target delimiter + each option), exactly the strings lm-eval scores;
- generation, completion style: one user message holding that same context;
- generation, chat style: few-shot examples as alternating user/assistant turns, then the question;
- lm_eval_chat style (lm-eval's ``--apply_chat_template``, whose CLI turns on ``fewshot_as_multiturn``): the
  completion-style texts as turns — description (and system_prompt) as the system message, each shot's text
  as a user turn and its answer as an assistant turn, then the question — for the tokenizer's chat template;
  the log-likelihood continuations then lose the target delimiter, as lm-eval drops it under a chat template.

Few-shot examples come from ``fewshot_pool`` (records of another split, loaded by `iter_samples`), chosen
by one of three samplers:

- ``lm_eval``: lm-eval 0.4.x's default ``ContextSampler``: one ``Random(fewshot_seed)`` per task (here: per
  few-shot group, e.g. MMLU's subject), one ``rnd.sample(pool, n)`` per document in dataset order. The draws
  depend on the order, so it reproduces lm-eval's shots for a run over the dataset in order (a ``--limit``
  prefix and a resumed run included: every record is preprocessed in order, also those a resume skips).
- ``first_n``: lm-eval's ``FirstNSampler``: the first n pool records (of the group).
- ``random``: gage's own, seeded by the question text rather than by position, so a sample gets the same
  examples whatever the order, concurrency, sharding or resume.

Whether the evaluated document itself may be drawn follows lm-eval's rule where we know the splits. lm-eval
hands the document to its sampler exactly when the task's few-shot split equals its test split (both unset
counts as equal: HellaSwag, PIQA); the sampler then draws n + 1 (``lm_eval``) or scans the pool (``first_n``)
and drops the records equal to the document (whole-record ``!=``), so those tasks draw 11 to keep 10 for every
document, and tasks whose pool is another split keep a pool record that happens to equal the test question.
``fewshot_same_split`` (true / false) declares that rule; the templates reproducing lm-eval set it from
lm-eval's task YAML. A pool that is the evaluated split — ``fewshot_split`` naming it, or a ``fewshot_path``
naming the evaluated file itself — is the same split whatever the declaration; without a declaration
another named split is not, and a pool file of unknown split is "unknown". For "unknown", by design rather
than by lm-eval, ``first_n`` drops pool records whose question text (``doc_to_text``) equals the evaluated
one — a pool file may hold test questions, and an example that shows the answer to the question asked would
make the score meaningless — and ``lm_eval`` drops nothing (lm-eval passes no document when the splits
differ). ``random`` always drops by question text: it is not a reproduction of lm-eval.

preprocess_kwargs (all optional): num_fewshot, fewshot_sampler (first_n | random | lm_eval), fewshot_seed,
fewshot_same_split, fewshot_split / fewshot_path (where the pool comes from; read by `iter_samples`),
style (completion | chat | lm_eval_chat), system_prompt, instruction (appended to the question in chat style).
"""
from __future__ import annotations

import random
from typing import Any, ClassVar

from gage_eval.datasets.preprocess import BasePreprocessor, RecordError
from gage_eval.datasets.preprocessors import LETTERS

STYLES = ("completion", "chat", "lm_eval_chat")
FEWSHOT_KWARGS = ("num_fewshot", "fewshot_sampler", "fewshot_seed", "fewshot_same_split", "fewshot_split",
                  "fewshot_path")


class BenchmarkPreprocessor(BasePreprocessor):
    output_type: ClassVar[str] = "multiple_choice"  # or "generate_until"
    target_delimiter: ClassVar[str] = " "
    fewshot_delimiter: ClassVar[str] = "\n\n"
    default_instruction: ClassVar[str | None] = None
    #: False where generated answers cannot be scored (the options are never shown, e.g. TruthfulQA MC).
    supports_generation: ClassVar[bool] = True
    #: The pool the few-shot examples are drawn from (raw records); set by `iter_samples`.
    fewshot_pool: list[dict[str, Any]]
    #: Is the pool the evaluated split? Derived by `iter_samples` from the split names / files (None: unknown);
    #: preprocess_kwargs ``fewshot_same_split`` decides where this is not True (see `same_split`).
    pool_is_evaluated_split: bool | None


    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fewshot_pool = []
        self.pool_is_evaluated_split = None
        self._pool_cache: tuple[Any, Any, Any] | None = None
        self._lm_rngs: dict[Any, random.Random] = {}

    # -- what a benchmark defines --------------------------------------------------------------------
    def description(self, doc: dict[str, Any]) -> str:
        return ""

    def doc_to_text(self, doc: dict[str, Any]) -> str:
        raise NotImplementedError

    def doc_to_choice(self, doc: dict[str, Any]) -> list[str]:
        raise NotImplementedError

    def doc_to_target(self, doc: dict[str, Any]) -> Any:
        """Multiple choice: the gold option index (or list of indices); generation: the answer text."""
        raise NotImplementedError

    def references(self, doc: dict[str, Any]) -> list[Any]:
        """What generative metrics compare with (default: the target)."""
        return [self.doc_to_target(doc)]

    def fewshot_target(self, doc: dict[str, Any]) -> str:
        """The answer shown after a few-shot example."""
        if self.output_type == "multiple_choice":
            gold = self.doc_to_target(doc)
            return self.doc_to_choice(doc)[gold[0] if isinstance(gold, list) else gold]
        return str(self.doc_to_target(doc))

    def extra_metadata(self, doc: dict[str, Any]) -> dict[str, Any]:
        return {}

    def fewshot_group(self, doc: dict[str, Any]) -> Any:
        """Examples are drawn from pool records of the same group (e.g. MMLU's subject); None: any."""
        return None

    # -- shared machinery ------------------------------------------------------------------------------
    def field(self, doc: dict[str, Any], name: str) -> Any:
        """A required field of the published schema; missing → an error naming it."""
        if name not in doc or doc[name] is None:
            raise RecordError(f"missing field '{name}' (record has: {', '.join(sorted(doc))[:200]})", name)
        return doc[name]

    def text_field(self, doc: dict[str, Any], name: str) -> str:
        """A required string field; missing or of another type → an error naming it."""
        value = self.field(doc, name)
        if not isinstance(value, str):
            raise RecordError(f"field '{name}' must be a string (got {type(value).__name__})", name)
        return value

    def same_split(self) -> bool | None:
        """lm-eval's "few-shot split == test split": a pool that is the evaluated split (by name or file) is; else
        the declaration (fewshot_same_split); else what was derived (False: another named split; None: unknown)."""
        declared = self.kwargs.get("fewshot_same_split")
        if declared is not None and not isinstance(declared, bool):
            raise RecordError(f"fewshot_same_split must be true or false, not {declared!r}", "fewshot_same_split")
        if declared is None or self.pool_is_evaluated_split:
            return self.pool_is_evaluated_split
        return declared

    def select_fewshot(self, doc: dict[str, Any], num: int, sampler: str, seed: int) -> list[dict[str, Any]]:
        if num <= 0 or not self.fewshot_pool:
            return []
        group = self.fewshot_group(doc)
        candidates = (self._pool_groups().get(group) if group is not None else self._pool_all()) or []
        same = self.same_split()
        if sampler == "lm_eval":
            return self._lm_eval_draw([d for _, d in candidates], doc if same else None, group, num, seed)
        if sampler == "first_n" and same is not None:
            # lm-eval's FirstNSampler: the first n, without records equal to the document when it was handed one.
            return [d for _, d in candidates if not same or d != doc][:num]
        if sampler not in ("first_n", "random"):
            raise RecordError(f"unknown fewshot_sampler {sampler!r} (use first_n, random or lm_eval)",
                              "fewshot_sampler")
        text = self.doc_to_text(doc)
        pool = [d for t, d in candidates if t != text]  # the documented choice: never the question asked
        if sampler == "first_n":
            return pool[:num]
        return random.Random(f"{seed}\x00{text}").sample(pool, min(num, len(pool)))

    def _lm_eval_draw(self, pool: list[dict[str, Any]], eval_doc: dict[str, Any] | None, group: Any, num: int,
                      seed: int) -> list[dict[str, Any]]:
        """`ContextSampler.sample` of lm-eval 0.4.x, call for call on one Random(seed) per group: without an
        evaluated document `rnd.sample(pool, n)`; with one, `rnd.sample(pool, n + 1)` minus the records equal to
        it, cut to n, and — when duplicates of it left fewer than n — a fresh `rnd.sample` of the pool without
        them. lm-eval stops with an error when the pool is smaller than n (n + 1); here the draw takes what
        there is and metadata.num_fewshot says how many."""
        rng = self._lm_rngs.setdefault(group, random.Random(seed))
        if eval_doc is None:
            return rng.sample(pool, min(num, len(pool)))
        drawn = [d for d in rng.sample(pool, min(num + 1, len(pool))) if d != eval_doc][:num]
        if len(drawn) < num:
            rest = [d for d in pool if d != eval_doc]
            drawn = rng.sample(rest, min(num, len(rest)))
        return drawn

    def _pool_all(self) -> list[tuple[str, dict[str, Any]]]:
        if self._pool_cache is None or self._pool_cache[0] is not self.fewshot_pool:
            indexed = [(self.doc_to_text(d), d) for d in self.fewshot_pool]
            groups: dict[Any, list[tuple[str, dict[str, Any]]]] = {}
            for item in indexed:
                groups.setdefault(self.fewshot_group(item[1]), []).append(item)
            self._pool_cache = (self.fewshot_pool, indexed, groups)
        return self._pool_cache[1]

    def _pool_groups(self) -> dict[Any, list[tuple[str, dict[str, Any]]]]:
        self._pool_all()
        return self._pool_cache[2]

    def to_sample(self, record: dict[str, Any], num_fewshot: int = 0, fewshot_sampler: str = "first_n",
                  fewshot_seed: int = 1234, style: str = "completion", system_prompt: str | None = None,
                  instruction: str | None = None, **_: Any) -> dict[str, Any]:
        if style not in STYLES:
            raise RecordError(f"unknown style {style!r} (use {', '.join(STYLES)})", "style")
        question = self.doc_to_text(record)
        shots = self.select_fewshot(record, int(num_fewshot or 0), fewshot_sampler, int(fewshot_seed))
        description = self.description(record)
        shot_block = "".join(self.doc_to_text(s) + self.target_delimiter + self.fewshot_target(s)
                             + self.fewshot_delimiter for s in shots)
        context = description + shot_block + question
        metadata = {"num_fewshot": len(shots), **self.extra_metadata(record)}
        fields: dict[str, Any] = {"inputs": {"ll_context": context}, "metadata": metadata}
        if self.output_type == "multiple_choice":
            choices = [str(c) for c in self.doc_to_choice(record)]
            gold = self.doc_to_target(record)
            golds = gold if isinstance(gold, list) else [gold]
            if not choices or any(not isinstance(g, int) or not 0 <= g < len(choices) for g in golds):
                raise RecordError(f"answer {gold!r} does not name one of the {len(choices)} options", "answer")
            delimiter = "" if style == "lm_eval_chat" else self.target_delimiter
            fields["inputs"]["ll_continuations"] = [delimiter + c for c in choices]
            fields["choices"] = [{"label": LETTERS[i] if i < len(LETTERS) else str(i), "text": c}
                                 for i, c in enumerate(choices)]
            fields["label"] = LETTERS[golds[0]] if golds[0] < len(LETTERS) else str(golds[0])
            metadata.update(gold_index=gold, choice_texts=choices)
        else:
            fields["label"] = str(self.doc_to_target(record))
            fields["references"] = [r for r in self.references(record) if r is not None]
        instruction = instruction if instruction is not None else self.default_instruction
        fields["messages"] = self._messages(description, shots, question, context, style, system_prompt,
                                            instruction)
        return fields

    def _messages(self, description: str, shots: list[dict[str, Any]], question: str, context: str, style: str,
                  system_prompt: str | None, instruction: str | None) -> list[dict[str, Any]]:
        if style == "lm_eval_chat":
            return self._lm_eval_turns(description, shots, question, system_prompt)
        messages: list[dict[str, Any]] = [{"role": "system", "content": system_prompt}] if system_prompt else []
        if style == "completion":
            messages.append({"role": "user", "content": context})
            return messages
        prefix = description
        for shot in shots:
            messages.append({"role": "user", "content": prefix + self.doc_to_text(shot)})
            messages.append({"role": "assistant", "content": self.fewshot_target(shot)})
            prefix = ""
        final = prefix + question + (f"\n\n{instruction}" if instruction else "")
        messages.append({"role": "user", "content": final})
        return messages

    def _lm_eval_turns(self, description: str, shots: list[dict[str, Any]], question: str,
                       system_prompt: str | None) -> list[dict[str, Any]]:
        """lm-eval 0.4's `fewshot_context(apply_chat_template=True, fewshot_as_multiturn=True)` messages."""
        system = system_prompt or ""
        if system and description:  # lm_eval.api.utils.maybe_delimit with the few-shot delimiter
            joins = system[-1].isspace() or description[0].isspace()
            system = system + description if joins else system + self.fewshot_delimiter + description
        else:
            system = system or description
        messages = [{"role": "system", "content": system}] if system else []
        for shot in shots:
            messages.append({"role": "user", "content": self.doc_to_text(shot)})
            messages.append({"role": "assistant", "content": self.fewshot_target(shot)})
        messages.append({"role": "user", "content": question})
        return messages
