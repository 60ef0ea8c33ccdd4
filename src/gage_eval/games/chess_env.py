"""Chess with python-chess's rules. Moves are UCI (e2e4, e7e8q); SAN (Nf3, O-O) is accepted and converted.

A game ends by checkmate, stalemate, insufficient material, or a draw that can be claimed (threefold repetition,
fifty moves): adjudicated at once, as engine matches do, so no game runs on forever."""
from __future__ import annotations

import re
from typing import Any

from gage_eval.games.env import GameEnv, Outcome

_UCI = re.compile(r"^[a-h][1-8][a-h][1-8][qrbn]?$")
_SAN = re.compile(r"^(?:O-O(?:-O)?|0-0(?:-0)?|[KQRBN]?[a-h]?[1-8]?x?[a-h][1-8](?:=?[QRBNqrbn])?)[+#]?[!?]*$")
_REASONS = {"CHECKMATE": "checkmate", "STALEMATE": "stalemate", "INSUFFICIENT_MATERIAL": "insufficient material",
            "SEVENTYFIVE_MOVES": "seventy-five moves", "FIVEFOLD_REPETITION": "fivefold repetition",
            "FIFTY_MOVES": "fifty moves", "THREEFOLD_REPETITION": "threefold repetition"}


class Chess(GameEnv):
    game = "chess"
    seat_names = ("white", "black")
    move_syntax = "a move in UCI (from-square to-square, e.g. e2e4; promotion e7e8q) or SAN (e.g. Nf3, O-O)"

    def __init__(self, fen: str | None = None) -> None:
        super().__init__()
        import chess  # noqa: PLC0415 - loaded with the first chess game

        self._chess = chess
        self.start_fen = fen or chess.STARTING_FEN
        self.reset()

    def reset(self, seed: int = 0) -> None:
        self.board = self._chess.Board(self.start_fen)
        self.moves = []

    def clone(self) -> Chess:
        other = Chess.__new__(Chess)
        other._chess, other.start_fen = self._chess, self.start_fen
        other.board = self.board.copy()
        other.moves = list(self.moves)
        other._outcome = getattr(self, "_outcome", None)
        return other

    @property
    def current_seat(self) -> int:
        return 0 if self.board.turn == self._chess.WHITE else 1

    def legal_moves(self) -> list[str]:
        if self.outcome() is not None:
            return []
        return sorted(m.uci() for m in self.board.legal_moves)

    def normalize(self, text: str) -> str | None:
        text = text.strip()
        if _UCI.match(text.lower()):
            return text.lower()
        if _SAN.match(text):
            try:
                return self.board.parse_san(text.replace("0", "O")).uci()
            except ValueError:  # well-formed SAN that names no legal move: report it as written
                return text
        return None

    def illegal_reason(self, move: str) -> str | None:
        if self.outcome() is not None:
            return "the game is over"
        if move in self.legal_moves():
            return None
        if not _UCI.match(move):
            return f"{move} names no legal move in this position"
        piece = self.board.piece_at(self._chess.parse_square(move[:2]))
        if piece is None:
            return f"there is no piece on {move[:2]}"
        if piece.color != self.board.turn:
            return f"the piece on {move[:2]} is not yours"
        return f"{move} is not a legal move in this position"

    def _apply(self, move: str) -> None:
        self.board.push_uci(move)

    def outcome(self) -> Outcome | None:
        # Checking claimable draws replays candidate moves: cached per position, as it is asked for often.
        key = (len(self.board.move_stack), self.board.fen())
        cached = getattr(self, "_outcome", None)
        if cached is not None and cached[0] == key:
            return cached[1]
        self._outcome = (key, self._compute_outcome())
        return self._outcome[1]

    def _compute_outcome(self) -> Outcome | None:
        result = self.board.outcome(claim_draw=True)
        if result is None:
            return None
        winner = None if result.winner is None else (0 if result.winner == self._chess.WHITE else 1)
        return Outcome(winner, _REASONS.get(result.termination.name, result.termination.name.lower()))

    def san(self, move: str) -> str:
        return self.board.san(self._chess.Move.from_uci(move))

    def board_text(self) -> str:
        rows = str(self.board).splitlines()
        lines = [f"{8 - i} {row}" for i, row in enumerate(rows)] + ["  a b c d e f g h"]
        side = "white" if self.board.turn == self._chess.WHITE else "black"
        lines.append(f"(uppercase = white, lowercase = black; {side} to move)")
        lines.append(f"FEN: {self.board.fen()}")
        return "\n".join(lines)

    def view(self) -> dict[str, Any]:
        last = self.board.peek().uci() if self.board.move_stack else None
        return {"kind": "chess", "game": self.game, "fen": self.board.fen(), "last": last,
                "check": self.board.is_check(), "stones": list(self.seat_names)}

    def rules(self) -> str:
        return ("Standard chess (FIDE rules). White moves first. Checkmate wins; stalemate, insufficient material, "
                "threefold repetition and the fifty-move rule draw.")
