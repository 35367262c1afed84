"""Benchmark: canonical Parquet ingest rate (events/s) into a fresh warehouse, and the mart refresh after it.

    python -m analytics.bench_ingest [--events N] [--repeat R]

Writes a synthetic usage_events Parquet file (generated inside DuckDB, so generation is not timed),
then times `ingest` R times into fresh databases and prints each run and the median. The load figure
covers reading, typing, checking, de-duplicating and inserting (refresh excluded); refresh is timed apart.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from analytics import ingest, marts
from analytics.warehouse import connect

SYNTHETIC_EVENTS = """
COPY (
    SELECT 'e-' || i AS event_id,
           TIMESTAMP '2026-01-01' + to_seconds(CAST(i * 0.9 AS BIGINT)) AS ts,
           'u-' || lpad(CAST(hash(i) % 5000 AS VARCHAR), 5, '0') AS user_id,
           CASE WHEN i % 3 = 0 THEN 'chat-assistant' ELSE 'claude-code' END AS tool,
           CASE WHEN i % 3 = 0 THEN 'gpt-5' ELSE 'claude-sonnet-4-5' END AS model,
           's-' || (i // 40) AS session_id, 'p-' || (i // 5) AS prompt_id,
           CASE WHEN i % 5 = 0 THEN 'human' ELSE 'agent' END AS initiated_by,
           CAST(200 + hash(i) % 4000 AS BIGINT) AS input_tokens,
           CAST(50 + hash(i + 1) % 2000 AS BIGINT) AS output_tokens,
           CAST(hash(i + 2) % 100000 AS BIGINT) AS cache_read_tokens,
           CAST(hash(i + 3) % 5000 AS BIGINT) AS cache_write_tokens,
           CAST(NULL AS DOUBLE) AS cost_usd,
           CASE WHEN i % 5 = 0 THEN CAST(20 + hash(i) % 2000 AS BIGINT) END AS prompt_chars,
           CASE WHEN i % 5 = 0 THEN lpad(format('{:x}', hash(i)), 16, '0') END AS prompt_fingerprint
    FROM range(?) t(i) ORDER BY ts
) TO '{path}' (FORMAT parquet, ROW_GROUP_SIZE 122880)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=5_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="goodhart-bench-") as folder:
        src = Path(folder) / "usage_events.parquet"
        con = duckdb.connect()
        con.execute(SYNTHETIC_EVENTS.replace("{path}", str(src).replace("'", "''")), [args.events])
        con.close()
        print(f"{args.events:,} events in {src.stat().st_size / 1e6:.0f} MB of Parquet")
        rates, refreshes, reloads = [], [], []
        for run in range(args.repeat):
            db = Path(folder) / f"run{run}.duckdb"
            con = connect(db)
            started = time.perf_counter()
            summary = ingest.ingest(con, [src], refresh=False, now=datetime.now(UTC).replace(tzinfo=None))
            load_s = time.perf_counter() - started
            assert summary.totals()["inserted"] == args.events, summary.totals()
            refresh_s = marts.refresh(con)
            started = time.perf_counter()
            again = ingest.ingest(con, [src], refresh=False)
            reload_s = time.perf_counter() - started
            assert again.totals()["inserted"] == 0
            con.close()
            rates.append(args.events / load_s)
            refreshes.append(refresh_s)
            reloads.append(reload_s)
            print(
                f"run {run + 1}: load {load_s:.2f} s = {args.events / load_s / 1e6:.2f} M events/s; "
                f"mart refresh {refresh_s:.2f} s; reload of the same file (all duplicates) {reload_s:.2f} s"
            )
        print(
            f"median: {statistics.median(rates) / 1e6:.2f} M events/s load, "
            f"{statistics.median(refreshes):.2f} s refresh, {statistics.median(reloads):.2f} s no-op reload; "
            f"peak memory {peak_rss_mb():,.0f} MB (the whole process, refresh included)"
        )


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


if __name__ == "__main__":
    main()
