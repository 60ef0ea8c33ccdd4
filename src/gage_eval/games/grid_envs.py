"""Gomoku, Tic-tac-toe and Connect Four with OpenSpiel's rules (`pyspiel`).

OpenSpiel decides legality and the result. A mirror of the cells (0 empty, 1 first seat, 2 second seat; row 0
at the top, as OpenSpiel stores it) is kept for prompts, the board page and the search baselines.
"""
from __future__ import annotations

import copy
from typing import Any, ClassVar

from gage_eval.games.coords import cell_name, column_labels, parse_cell, row_labels
from gage_eval.games.env import GameEnv, Outcome

_MARKS = ".xo"
_DIRECTIONS = ((0, 1), (1, 0), (1, 1), (1, -1))
_COUNT_WORDS = {3: "three", 4: "four", 5: "five", 6: "six"}


def winning_line(cells: list[list[int]], row: int, col: int, k: int) -> list[tuple[int, int]]:
    """The run of at least `k` equal stones through (row, col), or [] (display only)."""
    who = cells[row][col]
    if not who:
        return []
    rows, cols = len(cells), len(cells[0])
    for dr, dc in _DIRECTIONS:
        line = [(row, col)]
        for sign in (1, -1):
            r, c = row + sign * dr, col + sign * dc
            while 0 <= r < rows and 0 <= c < cols and cells[r][c] == who:
                line.append((r, c))
                r, c = r + sign * dr, c + sign * dc
        if len(line) >= k:
            return sorted(line)
    return []


class SpielGridEnv(GameEnv):
    """A k-in-a-row game on a grid, played through an OpenSpiel state."""

    spiel_name: ClassVar[str]
    gravity: ClassVar[bool] = False  # Connect Four: a move names a column and the stone drops
    stone_names: ClassVar[tuple[str, str]] = ("X", "O")

    def __init__(self, rows: int, cols: int, win_length: int) -> None:
        super().__init__()
        self.rows, self.cols, self.win_length = rows, cols, win_length
        import pyspiel  # noqa: PLC0415 - loaded with the first game, not with the package

        self._game = pyspiel.load_game(self.spiel_name, self.spiel_params())
        self.reset()

    def spiel_params(self) -> dict[str, Any]:
        return {}

    # -- state ------------------------------------------------------------------------------------
    def reset(self, seed: int = 0) -> None:
        self._state = self._game.new_initial_state()
        self.cells = [[0] * self.cols for _ in range(self.rows)]
        self.moves = []
        self.last: tuple[int, int] | None = None

    def clone(self) -> SpielGridEnv:
        other = copy.copy(self)
        other._state = self._state.clone()
        other.cells = [row[:] for row in self.cells]
        other.moves = list(self.moves)
        return other

    @property
    def current_seat(self) -> int:
        return max(0, int(self._state.current_player()))

    def move_of(self, action: int) -> str:
        raise NotImplementedError

    def action_of(self, move: str) -> int:
        raise NotImplementedError

    def cell_of(self, action: int) -> tuple[int, int]:
        raise NotImplementedError

    def legal_moves(self) -> list[str]:
        if self._state.is_terminal():
            return []
        return [self.move_of(a) for a in self._state.legal_actions()]

    def _apply(self, move: str) -> None:
        action = self.action_of(move)
        row, col = self.cell_of(action)
        seat = self.current_seat
        self._state.apply_action(action)
        self.cells[row][col] = seat + 1
        self.last = (row, col)

    def outcome(self) -> Outcome | None:
        if not self._state.is_terminal():
            return None
        returns = self._state.returns()
        if returns[0] == returns[1]:
            return Outcome(None, "board full")
        word = _COUNT_WORDS.get(self.win_length, str(self.win_length))
        return Outcome(0 if returns[0] > returns[1] else 1, f"{word} in a row")

    # -- descriptions -----------------------------------------------------------------------------
    def grid_strings(self) -> list[str]:
        return ["".join(_MARKS[v] for v in row) for row in self.cells]

    def board_text(self) -> str:
        width = len(str(self.rows))
        head = " " * (width + 1) + " ".join(column_labels(self.cols))
        lines = [head]
        for r, label in enumerate(row_labels(self.rows)):
            marks = " ".join(".XO"[v] for v in self.cells[r])
            lines.append(f"{label:>{width}} {marks}")
        lines.append(self._legend())
        return "\n".join(lines)

    def _legend(self) -> str:
        first, second = self.stone_names
        if first == "X":
            return "(X moves first, then O; . = empty)"
        return f"(X = {first}, moves first; O = {second}; . = empty)"

    def view(self) -> dict[str, Any]:
        line = winning_line(self.cells, *self.last, self.win_length) if self.last and self.terminal else []
        return {"kind": "grid", "game": self.game, "rows": self.rows, "cols": self.cols,
                "cells": self.grid_strings(), "col_labels": column_labels(self.cols),
                "row_labels": row_labels(self.rows), "click": "column" if self.gravity else "cell",
                "stones": list(self.stone_names), "last": list(self.last) if self.last else None,
                "line": [list(p) for p in line]}


class _CellGame(SpielGridEnv):
    """Games where a move names a cell (Gomoku, Tic-tac-toe): A1-scheme names, row 1 at the bottom."""

    move_syntax = "a cell name: column letter then row number, e.g. B2"

    def move_of(self, action: int) -> str:
        return cell_name(action // self.cols, action % self.cols, self.rows)

    def action_of(self, move: str) -> int:
        cell = parse_cell(move, self.rows, self.cols)
        assert cell is not None, move
        return cell[0] * self.cols + cell[1]

    def cell_of(self, action: int) -> tuple[int, int]:
        return action // self.cols, action % self.cols

    def normalize(self, text: str) -> str | None:
        cell = parse_cell(text, self.rows, self.cols)
        return None if cell is None else cell_name(cell[0], cell[1], self.rows)

    def illegal_reason(self, move: str) -> str | None:
        cell = parse_cell(move, self.rows, self.cols)
        if cell is not None and self.cells[cell[0]][cell[1]] and not self.terminal:
            return f"{move} is already occupied"
        return super().illegal_reason(move)


class Gomoku(_CellGame):
    game = "gomoku"
    seat_names = ("black", "white")
    stone_names = ("black", "white")
    spiel_name = "gomoku"
    move_syntax = "a cell name: column letter then row number, e.g. H8 (the centre of a 15x15 board)"

    def __init__(self, board_size: int = 15, win_length: int = 5) -> None:
        super().__init__(board_size, board_size, win_length)

    def spiel_params(self) -> dict[str, Any]:
        return {"size": self.rows, "connect": self.win_length}

    def rules(self) -> str:
        return (f"Gomoku (freestyle) on a {self.rows}x{self.cols} board. Black (X) moves first, then the players "
                f"alternate placing one stone on any empty cell. The first to get {self.win_length} or more stones "
                "in an unbroken row, column or diagonal wins; a full board without one is a draw.")


class TicTacToe(_CellGame):
    game = "tictactoe"
    seat_names = ("X", "O")
    stone_names = ("X", "O")
    spiel_name = "tic_tac_toe"
    move_syntax = "a cell name: column letter A-C then row number 1-3, e.g. B2 (the centre)"

    def __init__(self) -> None:
        super().__init__(3, 3, 3)

    def rules(self) -> str:
        return ("Tic-tac-toe on a 3x3 board. X moves first, then the players alternate marking one empty cell. "
                "Three marks in a row, column or diagonal win; a full board without one is a draw.")


class ConnectFour(SpielGridEnv):
    game = "connect_four"
    seat_names = ("red", "yellow")
    stone_names = ("red", "yellow")
    spiel_name = "connect_four"
    gravity = True
    move_syntax = "a column number, counted from 1 on the left"

    def __init__(self, rows: int = 6, columns: int = 7, win_length: int = 4) -> None:
        super().__init__(rows, columns, win_length)

    def spiel_params(self) -> dict[str, Any]:
        return {"rows": self.rows, "columns": self.cols, "x_in_row": self.win_length}

    def move_of(self, action: int) -> str:
        return str(action + 1)

    def action_of(self, move: str) -> int:
        return int(move) - 1

    def cell_of(self, action: int) -> tuple[int, int]:
        filled = sum(1 for r in range(self.rows) if self.cells[r][action])
        return self.rows - 1 - filled, action

    def normalize(self, text: str) -> str | None:
        text = text.strip()
        if text.isdigit() and 1 <= int(text) <= self.cols:
            return str(int(text))
        return None

    def illegal_reason(self, move: str) -> str | None:
        if move.isdigit() and 1 <= int(move) <= self.cols and self.cells[0][int(move) - 1] and not self.terminal:
            return f"column {move} is full"
        return super().illegal_reason(move)

    def board_text(self) -> str:
        lines = ["| " + " ".join(".XO"[v] for v in row) + " |" for row in self.cells]
        lines.append("  " + " ".join(str(c + 1) for c in range(self.cols)))
        lines.append(f"(X = {self.stone_names[0]}, moves first; O = {self.stone_names[1]}; . = empty; "
                     "the bottom line is the lowest row)")
        return "\n".join(lines)

    def rules(self) -> str:
        return (f"Connect Four on a board of {self.cols} columns and {self.rows} rows. Red (X) moves first, then "
                "the players alternate dropping one disc into a column that is not full; it falls to the lowest "
                f"empty cell. The first to get {self.win_length} discs in a row, column or diagonal wins; a full "
                "board without one is a draw.")
