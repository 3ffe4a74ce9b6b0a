"""Every error leadscore raises on purpose.

    LeadScoreError                 base: anything the user can fix or act on
    ├── ModelError                 the model file is wrong; carries every Issue at once
    │   └── ConditionError         one rule condition was rejected (parse or allow-list)
    ├── DataError                  input tables, columns, ids or rows are unusable
    ├── BackendError               an engine failed, or an optional extra is missing
    └── NotFittedError             a learner was used before ``fit`` (also a ValueError/AttributeError)

The CLI prints these as one paragraph and exits 2 (3 for BackendError); the HTTP service maps them
to 4xx with the same ``{"error", "issues"}`` body. Anything else reaching the user is a bug.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Issue:
    """One problem at one place: ``file:line:col: path: message (hint)``. Lines are 1-based."""

    message: str
    path: str = ""
    file: str | None = None
    line: int | None = None
    col: int | None = None
    hint: str | None = None

    def where(self) -> str:
        parts = [p for p in (self.file, self.line, self.col) if p is not None]
        return ":".join(str(p) for p in parts)

    def __str__(self) -> str:
        head = self.where()
        text = f"{head}: " if head else ""
        if self.path:
            text += f"{self.path}: "
        text += self.message
        if self.hint:
            text += f" (hint: {self.hint})"
        return text

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class LeadScoreError(Exception):
    """Base of every error the user can act on."""

    exit_code = 2

    def __init__(self, message: str, issues: list[Issue] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.issues: list[Issue] = list(issues or [])

    def __str__(self) -> str:
        if not self.issues:
            return self.message
        shown = self.issues[:50]
        lines = [self.message, *(f"  {issue}" for issue in shown)]
        if len(self.issues) > len(shown):
            lines.append(f"  ... and {len(self.issues) - len(shown)} more")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "error": self.message,
            "type": type(self).__name__,
            "issues": [issue.to_dict() for issue in self.issues],
        }


class ModelError(LeadScoreError):
    """The model file (YAML) is invalid; ``issues`` lists every problem found."""


class ConditionError(ModelError):
    """A rule condition could not be parsed or uses something outside the allow-list."""


class DataError(LeadScoreError):
    """Input data is missing, unreadable or has the wrong shape; names the table/column/row."""


class BackendError(LeadScoreError):
    """An engine failed or an optional dependency (extra) is not installed."""

    exit_code = 3


class NotFittedError(LeadScoreError, ValueError, AttributeError):
    """A learner was asked to predict before it was fitted."""
