"""``leadscore backtest``: scores as of T with only what was known at T, against outcomes in (T, T+h]."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import leadscore
from conftest import CliRun
from leadscore.learn.backtest import BacktestReport
from leadscore.learn.metrics import lift_table, roc_auc
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


@pytest.fixture(scope="module")
def funnel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared_funnel(tmp_path_factory.getbasetemp())


@pytest.fixture(scope="module")
def report(funnel: Path) -> BacktestReport:
    return leadscore.backtest(BUNDLED_MODEL, funnel, outcome="converted", as_of=AS_OF, horizon="90d",
                              by=["source"])


def window(result: BacktestReport | dict[str, Any]) -> Any:
    return result.windows[0] if isinstance(result, BacktestReport) else result["windows"][0]


# -- the synthetic funnel, end to end ------------------------------------------------------------------


def test_bundled_model_ranks_converters_first(report: BacktestReport) -> None:
    first = window(report)
    assert first.as_of == datetime(2026, 3, 31) and first.horizon_end == datetime(2026, 6, 29)
    assert 0.7 < first.roc_auc < 0.97
    assert first.pr_auc > first.base_rate  # better than ranking at random
    assert first.bands[0].lift > 2 > first.bands[-1].lift
    assert sum(band.leads for band in first.bands) == first.leads
    assert sum(band.conversions for band in first.bands) == first.conversions
    assert first.bands[-1].cumulative_share_of_leads == pytest.approx(1.0)


def test_leads_created_after_or_converted_before_as_of_are_left_out_and_counted(funnel: Path,
                                                                                report: BacktestReport) -> None:
    leads = pq.read_table(funnel / "leads.parquet", columns=["created_at", "converted", "converted_at"]).to_pylist()
    t = datetime(2026, 3, 31)
    created_after = sum(1 for lead in leads if lead["created_at"] >= t)
    converted_before = sum(1 for lead in leads if lead["created_at"] < t and lead["converted"]
                           and lead["converted_at"] <= t)
    first = window(report)
    assert first.excluded == {"converted at or before the as-of date": converted_before,
                              "created at or after the as-of date (not known yet)": created_after}
    assert first.leads == len(leads) - created_after - converted_before
    assert any("converted at or before the as-of date" in note for note in report.notes)
    assert any(f"{converted_before} lead(s) left out" in warning for warning in first.warnings)


def test_funnel_by_band_and_stage_where_columns_exist(report: BacktestReport) -> None:
    first = window(report)
    assert first.funnel_steps == ("mql", "sal", "opportunity", "won") and first.funnel_missing == ()
    top = first.bands[0]
    assert top.funnel is not None and top.funnel_rates is not None
    assert top.funnel["mql"] >= top.funnel["sal"] >= top.funnel["opportunity"] >= top.funnel["won"]
    assert top.funnel_rates["sal"] == pytest.approx(top.funnel["sal"] / top.funnel["mql"])
    assert [stage.label for stage in first.stages] == ["sales_ready", "mql", "engaged", "nurture"]
    assert first.stages[0].conversion_rate > first.stages[-1].conversion_rate
    assert top.median_days_to_conversion is not None and 0 < top.median_days_to_conversion <= 90


def test_breakdown_by_source_covers_every_lead(report: BacktestReport) -> None:
    groups = window(report).groups["source"]
    assert sum(group.leads for group in groups) == window(report).leads
    assert {group.value for group in groups} >= {"organic", "paid_search", "webinar"}
    sparse = [group for group in groups if group.roc_auc is None]
    assert all(group.note and "too few" in group.note for group in sparse)


def test_events_after_as_of_cannot_change_the_backtest(tmp_path: Path, funnel: Path,
                                                       report: BacktestReport) -> None:
    """Append events after T (a burst of demo requests for every non-converter): identical figures."""
    data = tmp_path / "later"
    shutil.copytree(funnel, data)
    events = pq.read_table(data / "events.parquet")
    leads = pq.read_table(data / "leads.parquet", columns=["lead_id"])["lead_id"].to_numpy()
    start = int(np.max(events["event_id"].to_numpy())) + 1
    times = [datetime(2026, 3, 31), datetime(2026, 4, 2, 8, 30), datetime(2026, 8, 1)]
    late = pa.table({
        "event_id": pa.array(np.arange(start, start + leads.size * len(times)), pa.int64()),
        "lead_id": pa.array(np.tile(leads, len(times)), pa.int64()),
        "ts": pa.array([t for t in times for _ in range(leads.size)], pa.timestamp("us")),
        "type": pa.array(["demo_request"] * (leads.size * len(times)), pa.string()),
    })
    columns = {name: late[name] if name in late.column_names
               else pa.nulls(late.num_rows, events.schema.field(name).type) for name in events.schema.names}
    pq.write_table(pa.concat_tables([events, pa.table(columns, schema=events.schema)]), data / "events.parquet")
    again = leadscore.backtest(BUNDLED_MODEL, data, outcome="converted", as_of=AS_OF, horizon="90d", by=["source"])
    before, after = report.to_dict(), again.to_dict()
    before.pop("data"), after.pop("data")
    assert after == before


def test_cli_backtest_json_is_the_api_result_and_several_dates_give_a_trend(funnel: Path, report: BacktestReport,
                                                                           leadscore_cli: Cli) -> None:
    result = leadscore_cli("backtest", "--model", BUNDLED_MODEL, "--data", funnel, "--outcome", "converted",
                           "--as-of", "2025-12-31", "--as-of", AS_OF, "--horizon", "90d", "--by", "source", "--json")
    assert result.code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert [w["as_of"] for w in payload["windows"]] == ["2025-12-31T00:00:00", "2026-03-31T00:00:00"]
    assert payload["windows"][1] == json.loads(json.dumps(window(report).to_dict()))
    assert [point["roc_auc"] for point in payload["trend"]] == [w["roc_auc"] for w in payload["windows"]]


def test_cli_backtest_prints_tables_and_gates_on_min_auc(funnel: Path, leadscore_cli: Cli, tmp_path: Path) -> None:
    small = write_tiny(tmp_path / "tiny")
    model = write_tiny_model(tmp_path)
    result = leadscore_cli("backtest", "--model", model, "--data", small, "--as-of", "2026-03-01", "--horizon",
                           "30d", "--bands", "4", "--min-conversions", "2", "--min-auc", "0.9")
    assert result.code == 4
    assert "ROC AUC 0.833" in result.stdout and "By score band" in result.stdout
    assert "below --min-auc" in result.stderr


# -- a tiny data set worked by hand ---------------------------------------------------------------------


def test_per_band_figures_match_a_hand_computation(tmp_path: Path) -> None:
    """Scores at T=2026-03-01: lead 1 = 30 (big) + 20 (demo before T) = 50; 2 = 30; 3, 4, 9 = 10
    (lead 4's demo is after T); 5, 6, 10 = 0. Lead 7 converted before T and lead 8 was created
    after it: both left out. Converted in (T, T+30d]: leads 1 (day 9) and 3 (day 19); lead 6
    converts after the window. Four quantile bands of 8 scores give cuts at 10 and 30."""
    data = write_tiny(tmp_path / "data")
    result = leadscore.backtest(write_tiny_model(tmp_path), data, as_of=TINY_AS_OF, horizon="30d", bands=4,
                                min_conversions=2)
    first = window(result)
    assert (first.leads, first.conversions, first.base_rate) == (8, 2, 0.25)
    # converters 50 and 10 against lost 30, 10, 10, 0, 0, 0: 6 + (3 + 2 * 0.5) = 10 of 12 pairs
    assert first.roc_auc == pytest.approx(10 / 12)
    bands = [(b.lower, b.upper, b.leads, b.conversions, b.conversion_rate, b.lift) for b in first.bands]
    assert bands == [(30.0, None, 2, 1, 0.5, 2.0), (10.0, 30.0, 3, 1, pytest.approx(1 / 3), pytest.approx(4 / 3)),
                     (None, 10.0, 3, 0, 0.0, 0.0)]
    assert [(b.cumulative_share_of_leads, b.cumulative_share_of_conversions) for b in first.bands] == [
        (0.25, 0.5), (0.625, 1.0), (1.0, 1.0)]
    assert [b.median_days_to_conversion for b in first.bands] == [9.0, 19.0, None]
    assert [b.median_days_from_created for b in first.bands] == [68.0, 76.0, None]
    # MQL by the window end: lead 1 (before T) and lead 9 (in the window); lead 4's MQL is after it
    assert [b.funnel for b in first.bands] == [{"mql": 1}, {"mql": 1}, {"mql": 0}]
    assert first.funnel_missing == ("sal", "opportunity", "won")
    assert [(s.label, s.leads, s.conversions) for s in first.stages] == [("hot", 2, 1), ("cold", 6, 1)]
    assert first.excluded == {"converted at or before the as-of date": 1,
                              "created at or after the as-of date (not known yet)": 1}
    y, s = [1, 0, 1, 0, 0, 0, 0, 0], [50, 30, 10, 10, 0, 0, 10, 0]
    assert first.roc_auc == roc_auc(y, s)
    table = lift_table(y, s, edges=[10, 30])
    assert [(b.leads, b.conversions, b.lift) for b in table.bands] == [(b.leads, b.conversions, b.lift)
                                                                       for b in first.bands]


def test_flat_table_without_events_is_evaluated_whole(tmp_path: Path) -> None:
    """A single CSV of leads with a 0/1 outcome and no times: no as-of filtering at all."""
    import pyarrow.csv as pa_csv

    rows = [{"lead_id": lead["lead_id"], "size": lead["size"], "converted": int(lead["converted"])}
            for lead in TINY_LEADS] * 2
    rows = [{**row, "lead_id": index + 1} for index, row in enumerate(rows)]
    csv = tmp_path / "leads.csv"
    pa_csv.write_csv(pa.Table.from_pylist(rows), csv)
    model = tmp_path / "flat.yaml"
    model.write_text("model: flat\ndata:\n  leads: {key: lead_id}\nlayers:\n  fit:\n    rules:\n"
                     "      - {name: size, column: size, points: {big: 30, mid: 10}}\n"
                     "stages:\n  - {name: hot, min_score: 30}\n  - {name: cold, min_score: 0}\n", encoding="utf-8")
    result = leadscore.backtest(model, csv, outcome="converted", bands=3, min_conversions=2)
    assert result.flat and result.horizon_days is None and result.outcome_time is None
    first = window(result)
    assert (first.leads, first.conversions, first.as_of, first.excluded) == (20, 10, None, {})
    assert first.roc_auc == pytest.approx(roc_auc([r["converted"] for r in rows],
                                                  [{"big": 30, "mid": 10}.get(str(r["size"]), 0) for r in rows]))
    folder = tmp_path / "only-leads"  # a folder with leads and no events is a flat table too
    folder.mkdir()
    shutil.copy(csv, folder / "leads.csv")
    assert window(leadscore.backtest(model, folder, bands=3, min_conversions=2)) == first
    with pytest.raises(leadscore.DataError, match="flat table"):
        leadscore.backtest(model, csv, as_of=["2026-01-01", "2026-02-01"], min_conversions=2)


def test_figures_per_model_segment(tmp_path: Path) -> None:
    """A model with a segment for web leads: the back-test breaks its figures down by segment."""
    from learn_support import TINY_MODEL

    (tmp_path / "web.yaml").write_text(TINY_MODEL.replace("big: 30", "big: 40"), encoding="utf-8")
    model = tmp_path / "segmented.yaml"
    model.write_text(TINY_MODEL + "segments:\n  web: {when: \"source = 'web'\", model: web.yaml}\n", encoding="utf-8")
    first = window(leadscore.backtest(model, write_tiny(tmp_path / "data"), as_of=TINY_AS_OF, horizon="30d",
                                      bands=4, min_conversions=2))
    segments = {group.value: (group.leads, group.conversions) for group in first.groups["segment"]}
    assert segments == {"web": (4, 1), "default": (4, 1)}  # web: 1, 2, 5, 10; default: 3, 4, 6, 9
    assert first.bands[0].lower == 40.0  # lead 1 scored by the web segment: 40 + 20
