"""Deterministic synthetic B2B funnel (accounts, leads with ground truth, events) for demos and tests.

    >>> from leadscore.synth import generate_funnel
    >>> funnel = generate_funnel(1_000, seed=1)
    >>> funnel.leads.num_rows
    1000
"""

from leadscore.synth.catalog import COMPETITOR_DOMAINS, PERSONAL_DOMAINS, REJECTION_REASONS
from leadscore.synth.content import EVENT_TYPES
from leadscore.synth.funnel import COLUMNS, DEFAULT_AS_OF, HORIZON_DAYS, SyntheticFunnel, generate_funnel

__all__ = [
    "COLUMNS",
    "COMPETITOR_DOMAINS",
    "DEFAULT_AS_OF",
    "EVENT_TYPES",
    "HORIZON_DAYS",
    "PERSONAL_DOMAINS",
    "REJECTION_REASONS",
    "SyntheticFunnel",
    "generate_funnel",
]
