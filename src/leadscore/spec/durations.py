"""Durations in model files ("30d", "12h", "2w", or a bare number of days) as float days.

Days are the unit of every decay and window in leadscore because event ages are measured in days
(microseconds / 86,400,000,000), exactly as the reference model does.
"""

from __future__ import annotations

import re

_UNIT_DAYS = {"d": 1.0, "h": 1.0 / 24.0, "w": 7.0, "m": 30.0, "y": 365.0}
_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([dhwmy]?)\s*$")


def parse_duration_days(value: object) -> float:
    """Return the duration in days; raise ValueError with the accepted forms otherwise."""
    if isinstance(value, bool):
        raise ValueError("a duration must be a number of days or a string like '30d', '12h', '2w'")
    if isinstance(value, int | float):
        days = float(value)
    elif isinstance(value, str) and (match := _PATTERN.match(value)):
        days = float(match.group(1)) * _UNIT_DAYS[match.group(2) or "d"]
    else:
        raise ValueError(
            f"{value!r} is not a duration; write a number of days or a string like '30d', '12h', '2w'"
        )
    if days <= 0:
        raise ValueError(f"duration {value!r} must be greater than zero")
    return days
