"""Baseline play for k-in-a-row grid games (Tic-tac-toe, Gomoku, Connect Four).

`perfect_tictactoe`: exact minimax, memoized over the 3^9 positions (prefers quicker wins and slower losses).
`GridSearch`: depth-limited negamax with alpha-beta over the open windows of k cells: a window holding only
one side's stones is worth 10^(stones-1) to that side. On big free boards only the `candidates` most promising
cells next to stones are searched. The search keeps its own copy of the cells; the environment (OpenSpiel)
still judges every move it proposes.
"""
from __future__ import annotations

import functools
import random
from collections.abc import Sequence

WIN = 10**9
_DIRECTIONS = ((0, 1), (1, 0), (1, 1), (1, -1))


@functools.lru_cache(maxsize=8)
def _windows(rows: int, cols: int, k: int) -> tuple[tuple[tuple[int, ...], ...], tuple[tuple[int, ...], ...]]:
    """Every line of k cells (flat indices), and for each cell the windows through it."""
    windows = []
    for r in range(rows):
        for c in range(cols):
            for dr, dc in _DIRECTIONS:
                end_r, end_c = r + dr * (k - 1), c + dc * (k - 1)
                if 0 <= end_r < rows and 0 <= end_c < cols:
                    windows.append(tuple((r + dr * i) * cols + c + dc * i for i in range(k)))
    through: list[list[int]] = [[] for _ in range(rows * cols)]
    for w, cells in enumerate(windows):
        for cell in cells:
            through[cell].append(w)
    return tuple(windows), tuple(tuple(t) for t in through)


def _lines_win(board: list[int], cols: int, rows: int, cell: int, k: int) -> bool:
    who = board[cell]
    r0, c0 = divmod(cell, cols)
    for dr, dc in _DIRECTIONS:
        run = 1
        for sign in (1, -1):
            r, c = r0 + sign * dr, c0 + sign * dc
            while 0 <= r < rows and 0 <= c < cols and board[r * cols + c] == who:
                run += 1
                r, c = r + sign * dr, c + sign * dc
        if run >= k:
            return True
    return False


class GridSearch:
    def __init__(self, rows: int, cols: int, k: int, *, gravity: bool, depth: int, candidates: int = 8) -> None:
        self.rows, self.cols, self.k, self.gravity = rows, cols, k, gravity
        self.depth, self.candidates = depth, candidates
        self.windows, self.through = _windows(rows, cols, k)
        self.weights = [0] + [10 ** i for i in range(k)]

    # -- evaluation ------------------------------------------------------------------------------
    def evaluate(self, board: list[int], me: int) -> float:
        weights, score = self.weights, 0.0
        for window in self.windows:
            mine = theirs = 0
            for cell in window:
                v = board[cell]
                if v == me:
                    mine += 1
                elif v:
                    theirs += 1
            if mine and not theirs:
                score += weights[mine]
            elif theirs and not mine:
                score -= 1.5 * weights[theirs]  # the side to move next is the opponent: its threats weigh more
        return score

    def _cell_value(self, board: list[int], cell: int, me: int) -> float:
        """How much a stone on `cell` builds own windows and blocks the opponent's (move ordering)."""
        weights, value = self.weights, 0.0
        for w in self.through[cell]:
            mine = theirs = 0
            for other in self.windows[w]:
                v = board[other]
                if v == me:
                    mine += 1
                elif v:
                    theirs += 1
            if not theirs:
                value += weights[mine + 1]
            if not mine:
                value += 0.9 * weights[theirs + 1]
        return value

    # -- moves -----------------------------------------------------------------------------------
    def moves(self, board: list[int], me: int) -> list[int]:
        rows, cols = self.rows, self.cols
        if self.gravity:
            centre = (cols - 1) / 2
            out = []
            for c in sorted(range(cols), key=lambda c: abs(c - centre)):
                for r in range(rows - 1, -1, -1):
                    if not board[r * cols + c]:
                        out.append(r * cols + c)
                        break
            return out
        empty = [i for i, v in enumerate(board) if not v]
        if len(empty) == len(board):
            return [(rows // 2) * cols + cols // 2]
        if len(board) > 16:  # big board: the cells next to stones, best first
            near = set()
            for i, v in enumerate(board):
                if v:
                    r0, c0 = divmod(i, cols)
                    for dr in (-1, 0, 1):
                        for dc in (-1, 0, 1):
                            r, c = r0 + dr, c0 + dc
                            if 0 <= r < rows and 0 <= c < cols and not board[r * cols + c]:
                                near.add(r * cols + c)
            empty = sorted(near)
        ranked = sorted(empty, key=lambda cell: -self._cell_value(board, cell, me))
        return ranked[: self.candidates] if len(board) > 16 else ranked

    # -- search ----------------------------------------------------------------------------------
    def _negamax(self, board: list[int], me: int, depth: int, alpha: float, beta: float) -> float:
        moves = self.moves(board, me)
        if not moves:
            return 0.0
        other = 3 - me
        for cell in moves:  # a win now needs no further search
            board[cell] = me
            won = _lines_win(board, self.cols, self.rows, cell, self.k)
            board[cell] = 0
            if won:
                return WIN + depth
        best = -float("inf")
        for cell in moves:
            board[cell] = me
            value = self.evaluate(board, me) if depth <= 1 else -self._negamax(board, other, depth - 1, -beta, -alpha)
            board[cell] = 0
            if value > best:
                best = value
            alpha = max(alpha, value)
            if alpha >= beta:
                break
        return best

    def best_cell(self, board: Sequence[int], me: int, rng: random.Random) -> int:
        board = list(board)
        moves = self.moves(board, me)
        for cell in moves:
            board[cell] = me
            won = _lines_win(board, self.cols, self.rows, cell, self.k)
            board[cell] = 0
            if won:
                return cell
        best, ties = -float("inf"), []
        for cell in moves:
            board[cell] = me
            # Searched with alpha just below the best so far: a move as good as the best gets its exact value.
            value = (self.evaluate(board, me) if self.depth <= 1 else
                     -self._negamax(board, 3 - me, self.depth - 1, -float("inf"), -(best - 1e-6)))
            board[cell] = 0
            if value > best + 1e-6:
                best, ties = value, [cell]
            elif value >= best - 1e-6:
                ties.append(cell)
        return rng.choice(ties)


_TTT_LINES = ((0, 1, 2), (3, 4, 5), (6, 7, 8), (0, 3, 6), (1, 4, 7), (2, 5, 8), (0, 4, 8), (2, 4, 6))


def _ttt_winner(board: tuple[int, ...]) -> int:
    for a, b, c in _TTT_LINES:
        if board[a] and board[a] == board[b] == board[c]:
            return board[a]
    return 0


@functools.lru_cache(maxsize=None)
def _ttt_value(board: tuple[int, ...], me: int) -> int:
    """Exact value for the side to move (`me`): > 0 a win (bigger = sooner), 0 a draw, < 0 a loss."""
    if _ttt_winner(board):
        return -(10 - board.count(0))  # the previous move won
    if 0 not in board:
        return 0
    return max(-_ttt_value(board[:i] + (me,) + board[i + 1:], 3 - me) for i, v in enumerate(board) if not v)


def perfect_tictactoe(board: Sequence[int], me: int, rng: random.Random) -> int:
    """A best move (flat index) for `me` on a 3x3 board; ties between equally good moves broken at random."""
    board = tuple(board)
    options = [(i, -_ttt_value(board[:i] + (me,) + board[i + 1:], 3 - me)) for i, v in enumerate(board) if not v]
    best = max(v for _, v in options)
    return rng.choice([i for i, v in options if v == best])
