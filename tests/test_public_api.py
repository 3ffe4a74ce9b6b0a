"""The public API is a decision: ``leadscore.__all__`` must match the checked-in list exactly.

Adding a name means adding it to ``tests/public_api.txt`` in the same change; removing one is a
breaking change and shows up here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import leadscore

CHECKED_IN = Path(__file__).with_name("public_api.txt")


def checked_in_names() -> list[str]:
    return [line.strip() for line in CHECKED_IN.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_all_equals_the_checked_in_list() -> None:
    assert list(leadscore.__all__) == checked_in_names()


def test_all_has_no_duplicates() -> None:
    assert len(set(leadscore.__all__)) == len(leadscore.__all__)


@pytest.mark.parametrize("name", checked_in_names())
def test_each_public_name_resolves(name: str) -> None:
    value = getattr(leadscore, name)
    assert value is not None
    assert callable(value)


def test_public_errors_share_one_base() -> None:
    errors = [getattr(leadscore, name) for name in leadscore.__all__ if name.endswith("Error")]
    assert errors
    assert all(issubclass(error, leadscore.LeadScoreError) for error in errors)


def test_unknown_attribute_raises_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'scroe'"):
        leadscore.scroe  # noqa: B018
