"""Incremental scoring: rescore only the leads whose inputs changed, merge, and equal a full rescore.

A run keeps, in ``OUT/incremental/``, three fingerprints per lead: its own row, its account's row
and its events (count and sum of row hashes); its score rows are the outputs themselves
(``lead_scores`` and ``lead_reasons``, merged file by file), checked to be the ones the last
incremental run wrote. The
next run recomputes the fingerprints (one scan per table, much cheaper than scoring) and rescores:

- every lead when there is no state, the model changed, or a segment/duplicate rule makes leads
  depend on each other beyond what is tracked;
- leads that are new or whose fingerprints differ (new or edited events, edited profile or
  account); leads gone from the data are dropped;
- when ``as_of`` moved: every lead whose score can move with time alone, i.e. every lead with
  events (decay, windows, event ages) and, if the model reads ``days_since_created`` or
  ``days_since_last_activity``, every lead. Scores of the others cannot change.

Account scores are recomputed from the merged lead scores (a cheap aggregate), so they are exact.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlglot import exp

from leadscore.backends.duckdb_engine import Session, connect, open_data, translate_errors
from leadscore.backends.event_fingerprints import event_fingerprints
from leadscore.backends.event_fingerprints import save as save_event_fingerprints
from leadscore.backends.outputs import REASON_PREFIX, WrittenOutputs, write_directory
from leadscore.backends.predictions import lead_predictions_issue
from leadscore.backends.quarantine import prepare_inputs, quarantine_unknown_leads
from leadscore.compiler.accounts_sql import account_query
from leadscore.compiler.leads_sql import uses_duplicate
from leadscore.compiler.model_sql import Relations, events_query, lead_scores_query, model_plans
from leadscore.compiler.plan import ScoringPlan
from leadscore.spec.loader import LoadedModel

STATE_DIR = "incremental"
TIME_SPECIALS = frozenset({"days_since_created", "days_since_last_activity"})


@dataclass(frozen=True)
class IncrementalRun:
    """What an incremental run did."""

    mode: str  # "full" or "incremental"
    reason: str
    leads: int
    rescored: int
    written: WrittenOutputs
    events_read: str = ""  # how the event fingerprints were brought up to date
    new_row_groups: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "reason": self.reason, "leads": self.leads, "rescored": self.rescored,
                "events_read": self.events_read, "new_row_groups": self.new_row_groups,
                "run_id": self.written.run_id, "outputs": dict(self.written.files)}


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _uses_time(plan: ScoringPlan) -> bool:
    from leadscore.compiler.leads_sql import _all_conditions

    plans = [plan, *[segment.plan for segment in plan.segments]]
    conditions = [c for p in plans for c in _all_conditions(p)] + [s.condition for s in plan.segments]
    return any(ref.kind == "special" and ref.name in TIME_SPECIALS for c in conditions for ref in c.refs.values())


def _fingerprints(con: Any, plan: ScoringPlan, has_accounts: bool) -> None:
    """Temp table ``fp_now``: one row per lead with its three fingerprints (events from ``ev_fp``)."""
    key = _q(plan.lead_key)
    account_join, account_fp = "", "CAST(0 AS UBIGINT)"
    if has_accounts and plan.lead_account:
        account_join = (f"LEFT JOIN accounts a ON a.{_q(plan.account_key)} = l.{_q(plan.lead_account)}")
        account_fp = "coalesce(hash(a), 0)"
    con.execute(
        "CREATE OR REPLACE TEMP TABLE fp_now AS "
        f"SELECT l.{key} AS lead_id, hash(l) AS fp_profile, {account_fp} AS fp_account, "
        f"coalesce(ev.n, 0) AS fp_event_count, coalesce(ev.h, 0) AS fp_events "
        f"FROM leads l {account_join} LEFT JOIN ev_fp ev ON ev.lead_id = CAST(l.{key} AS VARCHAR)")


def _last_run_id(out: Path) -> str | None:
    """The run that wrote the current outputs (the last line of ``runs.jsonl``)."""
    try:
        lines = (out / "runs.jsonl").read_text(encoding="utf-8").splitlines()
        return str(json.loads(lines[-1])["run_id"]) if lines else None
    except (OSError, ValueError, KeyError):
        return None


def score_incremental(loaded: LoadedModel, data: str | Path, out: Path, *, as_of: datetime,
                      threads: int | None = None, memory_limit: str | None = None) -> IncrementalRun:
    """Score ``data`` into ``out``, rescoring only what changed since the state kept in ``out``."""
    if (problem := lead_predictions_issue(loaded, "an incremental run")) is not None:
        raise problem
    con = connect(threads=threads, memory_limit=memory_limit)
    try:
        return _run(con, loaded, data, out, as_of)
    finally:
        con.close()


def _run(con: Any, loaded: LoadedModel, data: str | Path, out: Path, as_of: datetime) -> IncrementalRun:
    con, opened, plan = open_data(loaded, data, con=con)
    as_of_iso = as_of.isoformat(sep=" ")
    with translate_errors("checking input rows"):
        clean = prepare_inputs(con, opened, plan)
    state = out / STATE_DIR
    meta_file, fp_file = state / "state.json", state / "fingerprints.parquet"
    earlier: dict[str, Any] = json.loads(meta_file.read_text(encoding="utf-8")) if meta_file.exists() else {}
    events_input = opened.tables["events"]
    with translate_errors("fingerprinting inputs"):
        seen = event_fingerprints(con, events_input.source, events_input.relation, plan.event_lead, state=state,
                                  previous_groups=earlier.get("event_row_groups"))
        _fingerprints(con, plan, clean.accounts is not None)
    scores_file, reasons_file = out / "lead_scores.parquet", out / "lead_reasons.parquet"
    meta = earlier
    mode, reason = "incremental", "changed inputs"
    if not meta or not fp_file.exists() or not scores_file.exists() or not reasons_file.exists():
        mode, reason = "full", "no earlier incremental state"
    elif _last_run_id(out) != meta.get("run_id"):
        mode, reason = "full", "the outputs were written by another run since"
    elif meta.get("model_version") != plan.version_hash:
        mode, reason = "full", "the model changed"
    elif plan.segments or uses_duplicate(plan):
        mode, reason = "full", "segments or duplicate rules make leads depend on each other"
    if mode == "full":
        con.execute("CREATE OR REPLACE TEMP TABLE changed AS SELECT lead_id FROM fp_now")
    else:
        con.execute(f"CREATE OR REPLACE TEMP VIEW fp_prev AS SELECT * FROM read_parquet({_lit(str(fp_file))})")
        moved = meta.get("as_of") != as_of_iso
        time_part = ""
        if moved:
            reason = "changed inputs; as_of moved: leads whose score moves with time"
            time_part = "OR TRUE" if _uses_time(plan) else "OR n.fp_event_count > 0"
        con.execute("CREATE OR REPLACE TEMP TABLE changed AS SELECT n.lead_id FROM fp_now n "
                    "LEFT JOIN fp_prev p ON p.lead_id = n.lead_id "
                    "WHERE p.lead_id IS NULL OR p.fp_profile <> n.fp_profile OR p.fp_account <> n.fp_account "
                    "OR p.fp_event_count <> n.fp_event_count OR p.fp_events <> n.fp_events " + time_part)
    key, lead = _q(plan.lead_key), _q(plan.event_lead)
    con.execute(f"CREATE OR REPLACE TEMP VIEW leads_sub AS SELECT * FROM leads WHERE {key} IN "
                "(SELECT lead_id FROM changed)")
    con.execute(f"CREATE OR REPLACE TEMP VIEW events_sub AS SELECT * FROM events WHERE {lead} IN "
                "(SELECT lead_id FROM changed)")
    relations = Relations(leads=exp.to_table("leads_sub"), events=exp.to_table("events_sub"),
                          accounts=exp.to_table(clean.accounts) if clean.accounts else None,
                          event_columns=frozenset(opened.tables["events"].columns),
                          lead_columns=frozenset(opened.tables["leads"].columns))
    tables = []
    with translate_errors("the events pass"):
        for index, sub_plan in enumerate(model_plans(plan)):
            name = f"ev_{index}"
            con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS "
                        + events_query(sub_plan, relations, as_of_iso).sql("duckdb"))
            tables.append(name)
    with translate_errors("checking event leads"):
        # Events of unknown leads are quarantined from the whole table, as a full run does.
        # ev_fp already lists every lead id that occurs in the events (as text), known or not: no
        # second pass over the events unless some are unknown.
        key_type = opened.tables["leads"].columns.get(plan.lead_key, "VARCHAR")
        con.execute(f"CREATE OR REPLACE TEMP TABLE ev_all_leads AS SELECT TRY_CAST(lead_id AS {key_type}) "
                    "AS __lead FROM ev_fp")
        quarantine_unknown_leads(con, plan, "ev_all_leads", clean.counts)
    with translate_errors("scoring leads"):
        query = lead_scores_query(plan, relations, as_of_iso, events_tables=tables)
        con.execute("CREATE OR REPLACE TEMP TABLE new_scores AS " + query.sql("duckdb"))
        # Scores and explanation items are merged as the two files they are written to: the
        # previous run's rows of unchanged leads, then the rescored leads.
        names = [str(row[0]) for row in con.execute("DESCRIBE new_scores").fetchall()]
        public = ", ".join(_q(n) for n in names if not n.startswith(REASON_PREFIX))
        items = ", ".join(f"coalesce({_q(n)}, 0.0) AS {_q(n.removeprefix(REASON_PREFIX))}"
                          for n in names if n.startswith(REASON_PREFIX))
        new_public = f"SELECT {public} FROM new_scores"
        new_reasons = f"SELECT lead_id{', ' + items if items else ''} FROM new_scores"
        if mode == "full":
            con.execute(f"CREATE OR REPLACE TEMP TABLE lead_scores AS {new_public}")
            con.execute(f"CREATE OR REPLACE TEMP TABLE merged_reasons AS {new_reasons}")
        else:
            kept = ("lead_id IN (SELECT lead_id FROM fp_now) AND lead_id NOT IN (SELECT lead_id FROM changed)")
            con.execute("CREATE OR REPLACE TEMP TABLE lead_scores AS SELECT * FROM read_parquet("
                        f"{_lit(str(scores_file))}) WHERE {kept} UNION ALL BY NAME {new_public}")
            con.execute("CREATE OR REPLACE TEMP TABLE merged_reasons AS SELECT * FROM read_parquet("
                        f"{_lit(str(reasons_file))}) WHERE {kept} UNION ALL BY NAME {new_reasons}")
    with translate_errors("scoring accounts"):
        accounts_sql = account_query(plan, exp.to_table("lead_scores"), relations.accounts)
        con.execute("CREATE OR REPLACE TEMP TABLE account_scores AS " + accounts_sql.sql("duckdb"))
    session = Session(con=con, plan=plan, as_of=as_of, quarantine_counts=clean.counts, source=str(data))
    written = write_directory(session, out, reasons_select="SELECT * FROM merged_reasons")
    with translate_errors(f"writing the incremental state to {state}"):
        state.mkdir(parents=True, exist_ok=True)
        con.execute(f"COPY fp_now TO {_lit(str(fp_file))} (FORMAT parquet)")
        save_event_fingerprints(con, state)
        (state / "lead_scores.parquet").unlink(missing_ok=True)  # kept by earlier versions
    meta_file.write_text(json.dumps({"model_version": plan.version_hash, "as_of": as_of_iso,
                                     "run_id": written.run_id, "event_row_groups": seen.row_groups}),
                         encoding="utf-8")
    counts = con.execute("SELECT (SELECT count(*) FROM lead_scores), (SELECT count(*) FROM changed)").fetchone()
    return IncrementalRun(mode=mode, reason=reason, leads=int(counts[0]), rescored=int(counts[1]), written=written,
                          events_read=seen.how, new_row_groups=seen.new_row_groups)


__all__ = ["IncrementalRun", "score_incremental"]
