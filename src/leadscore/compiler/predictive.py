"""A model's ``predictive`` layer source as an ordinary rule on an engine-supplied column
(decision 0009)."""

from __future__ import annotations

from leadscore.spec.model import PredictiveSource, ProfileRule

PREDICTIVE_PREFIX = "__predictive__"


def predictive_column(layer: str) -> str:
    """The lead column the engine fills with a layer's predicted probability (NULL: no prediction)."""
    return PREDICTIVE_PREFIX + layer


def predictive_rule(layer: str, source: PredictiveSource) -> ProfileRule:
    """A predictive source is an ordinary expression rule on the probability column: it caps,
    explains and evaluates (SQL and plain Python) exactly like a rule the user wrote."""
    column = predictive_column(layer)
    return ProfileRule(name=source.name, when=f"{column} IS NOT NULL", points=f"{column} * {source.points!r}")
