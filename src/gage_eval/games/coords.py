"""Grid coordinates in the A1 scheme: a column letter (A, B, ...) and a row number counted from the bottom,
so H8 is the centre of a 15 x 15 Gomoku board, as in Gomoku / renju records."""
from __future__ import annotations

import re
import string

LETTERS = string.ascii_uppercase
MAX_SIDE = len(LETTERS)
_CELL = re.compile(r"^\s*([A-Za-z])\s*-?\s*(\d{1,2})\s*$")


def cell_name(row: int, col: int, rows: int) -> str:
    """`row` counts from the top (0-based), as boards are stored; the name counts rows from the bottom."""
    return f"{LETTERS[col]}{rows - row}"


def parse_cell(text: str, rows: int, cols: int) -> tuple[int, int] | None:
    """(row from top, col) of a cell name like "h8" / "H8", or None when it is no cell of this board."""
    match = _CELL.match(text)
    if not match:
        return None
    col = LETTERS.index(match.group(1).upper())
    number = int(match.group(2))
    if col >= cols or not 1 <= number <= rows:
        return None
    return rows - number, col


def column_labels(cols: int) -> list[str]:
    return list(LETTERS[:cols])


def row_labels(rows: int) -> list[str]:
    """Top row first, as the board is drawn."""
    return [str(rows - r) for r in range(rows)]
