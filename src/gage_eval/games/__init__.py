"""Game arena: LLMs, engines and people play board games; each game is one sample of an ordinary run.

Modules: `env` (the environment interface), `grid_envs` (Gomoku, Tic-tac-toe, Connect Four on OpenSpiel),
`chess_env` (python-chess), `catalog` (names -> environments, config checks), `parser` (one move out of a
model's answer), `engines` / `search` (baselines), `players` (llm, engine, human), `config` (the arena role's
params), `schedule` (pairs / round-robins -> one sample per game), `match` (one game), `role` (role_type
arena), `stats` (per-player metrics and ratings), `replay`, `board` (the live board page).

Nothing here imports OpenSpiel or python-chess at package import: they load with the first game built.
"""
