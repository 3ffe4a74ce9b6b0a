"""Bad input to the learning commands: a clear DataError (exit 2, one paragraph, no traceback) saying
what is wrong and what to do, never a traceback or a silently meaningless figure."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import leadscore
from conftest import CliRun
from learn_support import (
    AS_OF,
    BUNDLED_MODEL,
    TINY_AS_OF,
    TINY_LEADS,
    shared_funnel,
    write_tiny,
    write_tiny_model,
)

Cli = Callable[..., CliRun]


@pytest.fixture
def model(tmp_path: Path) -> Path:
    return write_tiny_model(tmp_path)


def tiny_with(tmp_path: Path, leads: list[dict[str, Any]]) -> Path:
    """The tiny events with other leads (any columns, types inferred)."""
    data = write_tiny(tmp_path / "data")
    pq.write_table(pa.Table.from_pylist(leads), data / "leads.parquet")
    return data


def assert_user_error(result: CliRun, *fragments: str) -> None:
    assert result.code == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert result.stderr.startswith("error: ")
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


def test_no_outcome_column(tmp_path: Path, model: Path, leadscore_cli: Cli) -> None:
    data = write_tiny(tmp_path / "data")
    result = leadscore_cli("backtest", "--model", model, "--data", data, "--outcome", "convertd", "--as-of",
                           "2026-03-01")
    assert_user_error(result, "no outcome column 'convertd'", "did you mean 'converted'?", "--outcome COL")


def test_outcome_all_one_class(tmp_path: Path, model: Path) -> None:
    data = tiny_with(tmp_path, [{**lead, "converted": False, "converted_at": None} for lead in TINY_LEADS])
    with pytest.raises(leadscore.DataError, match="all one class: every one of the 9 evaluated leads did not "
                                                  "convert in") as error:
        leadscore.backtest(model, data, as_of=TINY_AS_OF, horizon="30d", min_conversions=1)
    assert "longer --horizon" in str(error.value)


def test_too_few_conversions(tmp_path: Path, model: Path, leadscore_cli: Cli) -> None:
    data = write_tiny(tmp_path / "data")
    result = leadscore_cli("backtest", "--model", model, "--data", data, "--as-of", "2026-03-01", "--horizon", "30d")
    assert_user_error(result, "too few conversions: 2 of 8 evaluated leads converted in (2026-03-01, 2026-03-31]",
                      "at least 10")


def test_outcome_that_is_not_yes_or_no(tmp_path: Path, model: Path) -> None:
    data = tiny_with(tmp_path, [{**lead, "converted": "maybe" if lead["lead_id"] == 3 else str(lead["converted"])}
                                for lead in TINY_LEADS])
    with pytest.raises(leadscore.DataError, match=r"must say yes or no .* got values such as 'maybe'"):
        leadscore.backtest(model, data, as_of=TINY_AS_OF, min_conversions=1)


def test_no_outcome_time_column(tmp_path: Path, model: Path) -> None:
    data = tiny_with(tmp_path, [{k: v for k, v in lead.items() if k != "converted_at"} for lead in TINY_LEADS])
    with pytest.raises(leadscore.DataError, match="no time column 'converted_at'") as error:
        leadscore.backtest(model, data, as_of=TINY_AS_OF, min_conversions=1)
    assert "--outcome-time" in str(error.value)


def test_outcomes_dated_before_as_of_or_creation_are_excluded_counted_and_warned(tmp_path: Path,
                                                                                 model: Path) -> None:
    odd = {"lead_id": 11, "created_at": datetime(2026, 1, 20), "size": "big", "converted": True,
           "converted_at": datetime(2026, 1, 10), "mql_at": None, "source": "web"}  # before it was created
    untimed = {**odd, "lead_id": 12, "converted_at": None}
    data = tiny_with(tmp_path, [*TINY_LEADS, odd, untimed])
    first = leadscore.backtest(model, data, as_of=TINY_AS_OF, horizon="30d", min_conversions=2).windows[0]
    assert first.excluded == {"converted at or before the as-of date": 1,
                              "converted with no outcome time": 1,
                              "created at or after the as-of date (not known yet)": 1,
                              "outcome dated before the lead was created": 1}
    assert first.leads == 8
    assert {w.split(": ", 1)[1] for w in first.warnings if "left out" in w} == {
        "converted at or before the as-of date", "converted with no outcome time",
        "outcome dated before the lead was created"}


def test_a_window_beyond_the_data_is_warned(tmp_path: Path, model: Path) -> None:
    data = write_tiny(tmp_path / "data")
    first = leadscore.backtest(model, data, as_of=TINY_AS_OF, horizon="120d", min_conversions=2).windows[0]
    assert any("the window ends 2026-06-29 but the data end 2026-05-01" in w for w in first.warnings)


def test_a_column_that_leaks_the_outcome_stops_the_backtest(tmp_path: Path, leadscore_cli: Cli,
                                                            tmp_path_factory: pytest.TempPathFactory) -> None:
    """A rule reading ``won`` (known only once the deal closed) ranks the window's converters almost
    perfectly: the back-test refuses, naming the column and the rule, unless told it is known in time."""
    data = shared_funnel(tmp_path_factory.getbasetemp())
    text = BUNDLED_MODEL.read_text(encoding="utf-8").replace(
        "  negative:\n    rules:\n", "  negative:\n    rules:\n      - {name: closed_won, when: \"won\", points: 50}\n")
    leaky = tmp_path / "leaky.yaml"
    leaky.write_text(text, encoding="utf-8")
    result = leadscore_cli("backtest", "--model", leaky, "--data", data, "--as-of", AS_OF)
    assert_user_error(result, "predict the outcome on their own", "'lead.won'", "read by closed_won",
                      "--allow-leak won")
    allowed = leadscore.backtest(leaky, data, as_of=AS_OF, allow_leak=["won"])
    assert allowed.windows[0].leakage_aucs["lead.won"] >= 0.95


def test_input_errors_found_before_any_scoring(tmp_path: Path, model: Path, leadscore_cli: Cli) -> None:
    data = write_tiny(tmp_path / "data")
    assert_user_error(leadscore_cli("backtest", "--model", model, "--data", data), "needs an --as-of date")
    assert_user_error(leadscore_cli("backtest", "--model", model, "--data", data, "--as-of", "2026-03-01",
                                    "--horizon", "soon"), "cannot read --horizon 'soon'")
    assert_user_error(leadscore_cli("backtest", "--model", model, "--data", tmp_path / "nowhere", "--as-of",
                                    "2026-03-01"), "does not exist")
    assert_user_error(leadscore_cli("thresholds", "--model", model, "--data", data, "--as-of", "2026-03-01"),
                      "say what the threshold is for", "--capacity 400/week")
    assert_user_error(leadscore_cli("thresholds", "--model", model, "--data", data, "--as-of", "2026-03-01",
                                    "--capacity", "lots"), "cannot read capacity 'lots'")
    assert_user_error(leadscore_cli("thresholds", "--model", model, "--data", data / "leads.parquet",
                                    "--capacity", "10/week"), "flat table has no creation times")
    assert_user_error(leadscore_cli("backtest", "--model", model, "--data", data, "--feedback", tmp_path / "fb",
                                    "--as-of", "2026-03-01"), "feedback store", "does not exist")
    usage = leadscore_cli("backtest", "--model", model, "--data", data, "--as-of", "March")
    assert usage.code == 2 and "Traceback" not in usage.stderr


def test_unknown_by_column_and_stage(tmp_path: Path, model: Path) -> None:
    data = write_tiny(tmp_path / "data")
    with pytest.raises(leadscore.DataError, match="unknown --by column") as error:
        leadscore.backtest(model, data, as_of=TINY_AS_OF, by=["sorce"], min_conversions=2)
    assert "did you mean 'source'?" in str(error.value)
    with pytest.raises(leadscore.DataError, match="no stage 'sql'") as error:
        leadscore.recommend_thresholds(model, data, as_of=TINY_AS_OF, target_recall=0.5, stage="sql",
                                       min_conversions=2)
    assert "stages: hot, cold" in str(error.value)
