"""LLM-as-judge: judge prompts (registry kind `prompts`), strict verdict parsers, and the pairwise judge role
with position swap. Unparsable verdicts are retried, then reported as `unparsed` with the raw text — never
counted as a loss or a tie."""
