"""Exceptions raised by gazekit.

Every error caused by user input is a :class:`GazekitError`; :class:`InputError`
carries the file, line and column where the problem was found so the message
points the user at the exact place to look.
"""

from __future__ import annotations

from os import PathLike


class GazekitError(Exception):
    """Base class of every error gazekit raises on purpose."""


class InputError(GazekitError):
    """Bad input data, located as precisely as known.

    Parameters
    ----------
    message : str
        What is wrong.
    path : str or PathLike, optional
        File the problem is in.
    line : int, optional
        1-based line number in that file.
    column : str, optional
        Column name (or 1-based column index as text).
    """

    def __init__(
        self,
        message: str,
        path: str | PathLike[str] | None = None,
        line: int | None = None,
        column: str | None = None,
    ) -> None:
        self.message = message
        self.path = None if path is None else str(path)
        self.line = line
        self.column = column
        super().__init__(self._format())

    def _format(self) -> str:
        where = []
        if self.path is not None:
            where.append(self.path)
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        return f"{', '.join(where)}: {self.message}" if where else self.message


class SchemaError(InputError):
    """A table does not match its schema in ``data_schemas/``."""


class GeometryError(GazekitError):
    """Screen geometry needed for visual degrees is missing or invalid."""


class GazekitWarning(UserWarning):
    """The data disagree with what was declared or requested, and gazekit chose a side.

    Raised for a declared sampling rate the timestamps contradict, or recordings left
    out of a selection; the message says which value was used.
    """
