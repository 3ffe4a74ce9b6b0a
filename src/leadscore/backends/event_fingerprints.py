"""Per-lead event fingerprints that an incremental run updates instead of recomputing.

A lead's event fingerprint is (number of its event rows, sum of their row hashes): both are sums,
so the fingerprint of a table is the sum over its parts. Event logs grow by appending: when every
Parquet row group the previous run saw is still there byte for byte, only the new row groups are
read and hashed, and added to the stored fingerprints. Anything else (a row group rewritten or
gone, CSV or DuckDB-file sources, no earlier state) hashes every row, as a full run must.

A row group is identified by a hash of its compressed column-chunk bytes: identical bytes mean
identical rows, and reading bytes without decoding them is several times cheaper than hashing
the rows.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import duckdb

FINGERPRINTS_FILE = "event_fingerprints.parquet"


@dataclass(frozen=True)
class RowGroup:
    file: Path
    index: int
    digest: str


@dataclass(frozen=True)
class EventFingerprints:
    """How the ``ev_fp`` table was made, and the row groups it covers (for the next run)."""

    how: str  # "appended" (only new row groups read), "all row groups" or "scan"
    row_groups: list[str]
    new_row_groups: int


def parquet_files(source: str) -> list[Path] | None:
    """The Parquet files behind an events input, or None when it is not Parquet."""
    path = Path(source)
    if path.is_file() and path.suffix == ".parquet":
        return [path]
    if path.is_dir():
        files = sorted(path.glob("*.parquet"))
        return files or None
    return None


def row_groups(files: list[Path]) -> list[RowGroup]:
    """Every row group of ``files`` with the hash of its compressed bytes."""
    import pyarrow.parquet as pq

    found: list[RowGroup] = []
    for file in files:
        meta = pq.ParquetFile(file).metadata
        with open(file, "rb") as handle:
            for index in range(meta.num_row_groups):
                group = meta.row_group(index)
                digest = hashlib.blake2b(str(group.num_rows).encode(), digest_size=16)
                for column in range(group.num_columns):
                    chunk = group.column(column)
                    start = chunk.data_page_offset
                    if chunk.has_dictionary_page and chunk.dictionary_page_offset is not None:
                        start = min(start, chunk.dictionary_page_offset)
                    handle.seek(start)
                    digest.update(handle.read(chunk.total_compressed_size))
                found.append(RowGroup(file, index, digest.hexdigest()))
    return found


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _hash_groups(con: duckdb.DuckDBPyConnection, groups: list[RowGroup], lead: str, target: str) -> None:
    """``target`` (lead_id, n, h) over the rows of ``groups``, read group by group with pyarrow."""
    import pyarrow.parquet as pq

    con.execute(f"CREATE OR REPLACE TEMP TABLE {target} (lead_id VARCHAR, n BIGINT, h HUGEINT)")
    by_file: dict[Path, list[int]] = {}
    for group in groups:
        by_file.setdefault(group.file, []).append(group.index)
    for file, indices in by_file.items():
        table = pq.ParquetFile(file).read_row_groups(indices)
        con.register("__fp_rows", table)
        try:
            con.execute(f"INSERT INTO {target} SELECT CAST(e.{_q(lead)} AS VARCHAR), count(*), "
                        "sum(CAST(hash(e) AS HUGEINT)) FROM __fp_rows e GROUP BY 1")
        finally:
            con.unregister("__fp_rows")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {target} AS SELECT lead_id, sum(n)::BIGINT AS n, "
                f"sum(h)::HUGEINT AS h FROM {target} GROUP BY 1")


def event_fingerprints(con: duckdb.DuckDBPyConnection, source: str, relation: str, lead: str, *, state: Path,
                       previous_groups: list[str] | None) -> EventFingerprints:
    """Build temp table ``ev_fp`` (lead_id as text, n, h) over every raw event row of ``source``
    (``relation`` is its view, read whole when the source is not Parquet)."""
    files = parquet_files(source)
    if files is None:
        con.execute(f"CREATE OR REPLACE TEMP TABLE ev_fp AS SELECT CAST(e.{_q(lead)} AS VARCHAR) AS lead_id, "
                    "count(*)::BIGINT AS n, sum(CAST(hash(e) AS HUGEINT))::HUGEINT AS h "
                    f"FROM {relation} e GROUP BY 1")
        return EventFingerprints("scan", [], 0)
    groups = row_groups(files)
    stored = state / FINGERPRINTS_FILE
    if previous_groups is not None and stored.exists():
        remaining = Counter(previous_groups)
        new: list[RowGroup] = []
        for group in groups:
            if remaining[group.digest] > 0:
                remaining[group.digest] -= 1
            else:
                new.append(group)
        if not +remaining:  # every earlier row group is still there
            _hash_groups(con, new, lead, "ev_fp_new")
            con.execute("CREATE OR REPLACE TEMP TABLE ev_fp AS SELECT coalesce(p.lead_id, d.lead_id) AS lead_id, "
                        "(coalesce(p.n, 0) + coalesce(d.n, 0))::BIGINT AS n, "
                        "(coalesce(p.h, 0) + coalesce(d.h, 0))::HUGEINT AS h "
                        f"FROM read_parquet('{_escape(stored)}') p FULL JOIN ev_fp_new d ON p.lead_id = d.lead_id")
            return EventFingerprints("appended", [g.digest for g in groups], len(new))
    _hash_groups(con, groups, lead, "ev_fp")
    return EventFingerprints("all row groups", [g.digest for g in groups], len(groups))


def save(con: duckdb.DuckDBPyConnection, state: Path) -> None:
    con.execute(f"COPY ev_fp TO '{_escape(state / FINGERPRINTS_FILE)}' (FORMAT parquet)")


def _escape(path: Path) -> str:
    return str(path).replace("'", "''")


__all__ = ["EventFingerprints", "event_fingerprints", "parquet_files", "row_groups", "save"]
