"""One error hierarchy for dizuo.

Every error a user can cause is a :class:`DizuoError`. The CLI prints it as one red line and
exits non-zero; the API (later) renders it as one JSON shape. Messages say *where* (file, row,
column, field) and *what to do next*; they are already translated by :func:`dizuo.i18n.tr`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Location:
    """Where in an input the problem is, 1-based as a person counts.

    ``line`` is a physical line of a text file (the header is line 1); ``row`` is a data record
    (a sheet row or a JSON record).
    """

    file: str | None = None
    line: int | None = None
    row: int | None = None
    column: str | None = None

    def render(self) -> str:
        from dizuo.i18n import tr

        parts = []
        if self.file:
            parts.append(self.file)
        if self.line is not None:
            parts.append(tr("第 {n} 行", "line {n}", n=self.line))
        if self.row is not None:
            parts.append(tr("第 {n} 条记录", "row {n}", n=self.row))
        if self.column:
            parts.append(tr("列 {c!r}", "column {c!r}", c=self.column))
        return ", ".join(parts)


class DizuoError(Exception):
    """Root of every error dizuo raises for a user's mistake or an unavailable resource."""

    exit_code = 1
    kind = "error"

    def __init__(self, message: str, *, where: Location | None = None, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.where = where
        self.hint = hint

    def __str__(self) -> str:
        text = self.message
        if self.where is not None and self.where.render():
            text = f"{self.where.render()}: {text}"
        if self.hint:
            text = f"{text} — {self.hint}"
        return text


class InvalidInput(DizuoError):
    """Input that cannot be read as given: bad bytes, ragged rows, wrong options."""

    kind = "invalid_input"
    exit_code = 2


class NotFound(DizuoError):
    kind = "not_found"
    exit_code = 3


class AlreadyExists(DizuoError):
    kind = "already_exists"
    exit_code = 4


class Unauthenticated(DizuoError):
    """No credentials, or credentials that are wrong, expired or revoked."""

    kind = "unauthenticated"
    exit_code = 9


class Forbidden(DizuoError):
    kind = "forbidden"
    exit_code = 5


class QuotaExceeded(DizuoError):
    """A grant's row or call quota is spent."""

    kind = "quota_exceeded"
    exit_code = 10


class PolicyViolation(DizuoError):
    kind = "policy_violation"
    exit_code = 6


class Unavailable(DizuoError):
    """A database, file system or service that dizuo needs cannot be reached."""

    kind = "unavailable"
    exit_code = 7


class Conflict(DizuoError):
    """The state changed underneath an operation (e.g. two writers on one dataset)."""

    kind = "conflict"
    exit_code = 8
