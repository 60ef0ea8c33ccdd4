"""The one small interface every game environment implements, and what a finished game reports."""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True, slots=True)
class Outcome:
    """How a game ended: `winner` is a seat (0 moves first) or None for a draw."""

    winner: int | None
    reason: str  # e.g. "five in a row", "board full", "checkmate", "stalemate", "max_turns"


class GameEnv(ABC):
    """A two-player, turn-based game. Moves are strings in the game's own notation (H8, 4, e2e4).

    The rules library is the authority on legality and on the result; `grid()` and `view()` only describe
    the position for prompts, baselines and the board page.
    """

    game: ClassVar[str]
    seat_names: ClassVar[tuple[str, str]]
    move_syntax: ClassVar[str]  # how a move is written, for prompts and error messages

    def __init__(self) -> None:
        self.moves: list[str] = []

    @abstractmethod
    def reset(self, seed: int = 0) -> None:
        """Back to the initial position (the seed is for games with a random set-up; these have none)."""

    @property
    @abstractmethod
    def current_seat(self) -> int:
        """The seat to move (0 or 1); meaningless once terminal."""

    @abstractmethod
    def legal_moves(self) -> list[str]:
        """Every legal move of the side to move, in a stable order."""

    @abstractmethod
    def normalize(self, text: str) -> str | None:
        """The canonical spelling of `text` if it is written like a move of this game (legal or not)."""

    @abstractmethod
    def _apply(self, move: str) -> None:
        """Play a canonical, legal move."""

    @abstractmethod
    def outcome(self) -> Outcome | None:
        """The result once the game is over, else None."""

    @abstractmethod
    def board_text(self) -> str:
        """The position as text with coordinates, as a player sees it."""

    @abstractmethod
    def view(self) -> dict[str, Any]:
        """The position for the board page (JSON): kind "grid" or "chess"."""

    @abstractmethod
    def rules(self) -> str:
        """The rules in a few sentences, for prompts."""

    @abstractmethod
    def clone(self) -> GameEnv:
        """An independent copy (for search)."""

    def illegal_reason(self, move: str) -> str | None:
        """None when `move` (canonical) is legal now, else why not."""
        if self.outcome() is not None:
            return "the game is over"
        if move not in self.legal_moves():
            return f"{move} is not a legal move in this position"
        return None

    def play(self, move: str) -> None:
        reason = self.illegal_reason(move)
        if reason is not None:
            raise ValueError(reason)
        self._apply(move)
        self.moves.append(move)

    @property
    def terminal(self) -> bool:
        return self.outcome() is not None
