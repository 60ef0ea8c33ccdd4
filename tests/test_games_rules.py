"""Game rules (OpenSpiel, python-chess) behind the environment interface; the baselines; the move parser."""
from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gage_eval.games.chess_env import Chess
from gage_eval.games.engines import _perfect, random_engine
from gage_eval.games.env import GameEnv
from gage_eval.games.grid_envs import ConnectFour, Gomoku, TicTacToe, winning_line
from gage_eval.games.parser import default_parser

ENVS = {"gomoku": lambda: Gomoku(7, 4), "tictactoe": TicTacToe, "connect_four": lambda: ConnectFour(5, 6, 4),
        "chess": Chess}


def _mirror_consistent(env: GameEnv) -> None:
    if isinstance(env, Chess):
        assert env.board.is_valid()
        return
    stones = sum(v > 0 for row in env.cells for v in row)  # type: ignore[attr-defined]
    assert stones == len(env.moves)
    counts = [sum(v == s for row in env.cells for v in row) for s in (1, 2)]  # type: ignore[attr-defined]
    assert counts[0] - counts[1] in (0, 1)  # the first seat moved first


@pytest.mark.parametrize("game", sorted(ENVS))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**31 - 1))
def test_random_legal_play_ends_in_a_legal_terminal_state(game: str, seed: int) -> None:
    env = ENVS[game]()
    rng = random.Random(seed)
    limit = 120 if game == "chess" else 10_000
    while not env.terminal and len(env.moves) < limit:
        legal = env.legal_moves()
        assert legal and len(set(legal)) == len(legal)
        move = rng.choice(legal)
        assert env.normalize(move) == move and env.illegal_reason(move) is None
        env.play(move)
        _mirror_consistent(env)
    if game != "chess":
        assert env.terminal  # grid games always end: the board fills
    if env.terminal:
        outcome = env.outcome()
        assert outcome is not None and outcome.winner in (0, 1, None) and outcome.reason
        assert env.legal_moves() == []
        with pytest.raises(ValueError, match="game is over"):
            env.play(legal[0])
        if outcome.winner is not None and game != "chess":
            # the winner is the side that made the last move, with a line of win_length through it
            assert outcome.winner == (len(env.moves) - 1) % 2
            line = env.view()["line"]
            assert len(line) >= env.win_length  # type: ignore[attr-defined]


@pytest.mark.parametrize("direction", ["row", "column", "diagonal", "anti-diagonal"])
def test_five_in_a_row_in_every_direction(direction: str) -> None:
    env = Gomoku(15, 5)
    lines = {"row": ["D8", "E8", "F8", "G8", "H8"], "column": ["K3", "K4", "K5", "K6", "K7"],
             "diagonal": ["B2", "C3", "D4", "E5", "F6"], "anti-diagonal": ["O1", "N2", "M3", "L4", "K5"]}
    black = lines[direction]
    white = ["A15", "C15", "E15", "G15"]
    for i in range(4):
        env.play(black[i])
        env.play(white[i])
        assert env.outcome() is None
    env.play(black[4])
    outcome = env.outcome()
    assert outcome is not None and outcome.winner == 0 and outcome.reason == "five in a row"
    assert sorted(env.view()["line"]) == sorted([list(env_cell) for env_cell in
                                                   [(15 - int(c[1:]), ord(c[0]) - 65) for c in black]])


def test_gomoku_h8_is_the_centre_and_four_is_not_five() -> None:
    env = Gomoku()
    env.play("H8")
    assert env.cells[7][7] == 1 and env.view()["last"] == [7, 7]
    for black, white in zip(["I8", "J8", "K8"], ["A1", "A2", "A3"]):
        env.play(black)
        env.play(white)
    assert env.outcome() is None  # four in a row does not win at win_length 5
    assert env.illegal_reason("H8") == "H8 is already occupied"
    assert env.normalize("Z99") is None and env.normalize("p1") is None  # off a 15x15 board


def test_full_tictactoe_board_is_a_draw() -> None:
    env = TicTacToe()
    for move in ["A1", "B1", "C1", "B2", "A2", "A3", "B3", "C2", "C3"]:
        assert env.outcome() is None
        env.play(move)
    assert env.outcome() is not None and env.outcome().winner is None and env.outcome().reason == "board full"


def test_connect_four_diagonals_and_full_columns() -> None:
    env = ConnectFour()
    for move in ["1", "2", "2", "3", "3", "4", "3", "4", "4", "7"]:
        env.play(move)
    assert env.outcome() is None
    env.play("4")  # red: 1a, 2b, 3c, 4d diagonal
    assert env.outcome() is not None and env.outcome().winner == 0 and env.outcome().reason == "four in a row"
    anti = ConnectFour()
    for move in ["7", "6", "6", "5", "5", "4", "5", "4", "4", "1", "4"]:
        anti.play(move)
    assert anti.outcome() is not None and anti.outcome().winner == 0
    col = ConnectFour(rows=2, columns=3, win_length=2)
    col.play("1")
    col.play("1")
    assert col.illegal_reason("1") == "column 1 is full"


def test_chess_mate_san_and_refusals() -> None:
    env = Chess()
    assert env.normalize("Nf3") == "g1f3" and env.normalize("e2e4") == "e2e4"
    assert env.illegal_reason("e7e5") == "the piece on e7 is not yours"
    assert env.illegal_reason("e2e5") == "e2e5 is not a legal move in this position"
    for san in ["e4", "e5", "Bc4", "Nc6", "Qh5", "Nf6"]:
        env.play(env.normalize(san) or "")
    env.play(env.normalize("Qxf7#") or "")
    assert env.outcome() is not None and env.outcome().winner == 0 and env.outcome().reason == "checkmate"
    stalemate = Chess("7k/5Q2/6K1/8/8/8/8/8 b - - 0 1")
    assert stalemate.outcome() is not None and stalemate.outcome().winner is None


def test_perfect_tictactoe_never_loses_to_random_in_200_games() -> None:
    rng = random.Random(7)
    results = {"perfect": 0, "draw": 0, "random": 0}
    for game in range(200):
        env = TicTacToe()
        perfect_seat = game % 2
        while not env.terminal:
            engine = _perfect if env.current_seat == perfect_seat else random_engine
            env.play(engine(env, rng))
        winner = env.outcome().winner
        results["draw" if winner is None else "perfect" if winner == perfect_seat else "random"] += 1
    assert results["random"] == 0 and results["perfect"] > 100, results


def test_winning_line_ignores_short_runs() -> None:
    cells = [[1, 1, 1, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]
    assert winning_line(cells, 0, 0, 4) == [] and winning_line(cells, 0, 1, 3) == [(0, 0), (0, 1), (0, 2)]


@pytest.mark.parametrize(("text", "move"), [
    ("H8", "H8"), ("Move: h8", "H8"), ("I like G7. Move: H8", "H8"), ('{"move": "C3"}', "C3"),
    ("<think>A1 maybe</think>\nMove: **J10**", "J10"), ("\\boxed{K11}", "K11"), ("The answer is H8.", "H8"),
])
def test_parser_reads_one_move(text: str, move: str) -> None:
    assert default_parser(text, Gomoku()).move == move


@pytest.mark.parametrize(("text", "error"), [("I like H8 and G7", "several moves"), ("pass", "no move found"),
                                             ("", "no move found")])
def test_parser_refuses_ambiguous_or_missing_moves(text: str, error: str) -> None:
    result = default_parser(text, Gomoku())
    assert result.move is None and error in (result.error or "")


def test_stockfish_plays_chess_when_installed() -> None:
    import shutil

    from gage_eval.games.config import PlayerSpec
    from gage_eval.games.engines import build_engine

    if not (shutil.which("stockfish") or shutil.which("stockfish", path="/usr/games")):
        pytest.skip("stockfish is not installed (apt-get install stockfish)")
    engine = build_engine(PlayerSpec(name="sf", type="engine", engine="stockfish", depth=6), Chess(), "players[0]")
    rng = random.Random(1)
    try:
        for game in range(2):
            env = Chess()
            while not env.terminal and len(env.moves) < 120:
                move = engine(env, rng) if env.current_seat == game % 2 else random_engine(env, rng)
                assert env.illegal_reason(move) is None
                env.play(move)
            assert env.outcome() is not None and env.outcome().winner == game % 2  # it mates random play
    finally:
        engine.close()  # type: ignore[attr-defined]
