"""The refresh on each engine over the same event lake: `python -m analytics.bench_engines [--events N] [--keep DB]
[--repeat R]`.

Builds the benchmark organisation sized to N events (default 10 million: 6,400 people x 180 days, as `bench`
builds it) or reuses the database `--keep` names, writes its events as a Parquet lake partitioned by UTC day
(`export-lake`), then refreshes a copy of the database from the lake R times on each engine, each run in a fresh
process (Spark's start is part of its time, as it is of a `refresh --engine spark`):

- duckdb: `refresh --lake` (DuckDB reads the lake in this process);
- spark: `refresh --engine spark --lake` (Spark in local mode on this machine's cores; the rest of the refresh in
  DuckDB, as on a cluster).

Prints each run's seconds and steps, and the medians; `--json` prints one JSON object instead. Everything is built
in a temporary folder and deleted afterwards (the lake goes next to a `--keep` database and is reused).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

CHILD = """
import json, sys, time
from analytics import marts
from analytics.warehouse import connect
engine, lake, db = sys.argv[1:4]
con = connect(db, create=False)
started = time.perf_counter()
marts.refresh(con, engine=engine, lake_dir=lake)
seconds = time.perf_counter() - started
steps = dict(marts.LAST_STEPS)
if engine == "spark":
    from analytics import spark_engine
    steps.update({f"spark: {k}": v for k, v in spark_engine.LAST_STEPS.items()})
flagged = con.execute("SELECT count(*) FILTER (WHERE flagged) FROM det_person").fetchone()[0]
con.close()
print(json.dumps({"seconds": seconds, "steps": steps, "flagged": flagged,
                  "peak_rss_mb": next(int(line.split()[1]) for line in open("/proc/self/status")
                                      if line.startswith("VmHWM")) / 1024}))
"""


def _run(engine: str, lake: Path, source: Path, work: Path) -> dict:
    db = work / f"{engine}.duckdb"
    shutil.copy(source, db)
    done = subprocess.run(
        [sys.executable, "-c", CHILD, engine, str(lake), str(db)], capture_output=True, text=True, check=False
    )
    db.unlink(missing_ok=True)
    Path(f"{db}.wal").unlink(missing_ok=True)
    if done.returncode != 0:
        raise RuntimeError(f"{engine} refresh failed: {done.stderr.strip().splitlines()[-1:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analytics.bench_engines", description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000, help="about how many events (default 10 million)")
    parser.add_argument("--keep", type=Path, default=None, help="build into (or reuse) this database file")
    parser.add_argument("--repeat", type=int, default=3, help="runs per engine (default 3); medians are reported")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    from analytics import lake as lakes
    from analytics.bench import organisation, users_for

    say = (lambda _m: None) if args.json else (lambda m: print(m, flush=True))
    started = time.perf_counter()
    with (
        organisation(args.keep, users=users_for(args.events), say=say) as source,
        tempfile.TemporaryDirectory(prefix="goodhart-engines-") as tmp,
    ):
        lake = source.with_name(f"{source.stem}.lake") if args.keep else Path(tmp) / "lake"
        con = duckdb.connect(str(source), read_only=True)
        try:
            events = con.execute("SELECT count(*) FROM usage_events").fetchone()[0]
            if not lake.exists():
                export_started = time.perf_counter()
                lakes.export(con, lake)
                say(f"lake: {events:,} events written in {time.perf_counter() - export_started:.0f} s to {lake}")
        finally:
            con.close()
        lake_mb = sum(f.stat().st_size for f in lake.rglob("*.parquet")) / 2**20
        runs: dict[str, list[dict]] = {"duckdb": [], "spark": []}
        for i in range(args.repeat):
            for engine in runs:  # interleaved, so a slow spell of a shared machine falls on both
                run = _run(engine, lake, source, Path(tmp))
                runs[engine].append(run)
                steps = ", ".join(f"{k} {v:.1f}" for k, v in run["steps"].items())
                say(f"run {i + 1} {engine}: {run['seconds']:.1f} s ({steps}); {run['flagged']:,} flagged")
    medians = {engine: statistics.median(r["seconds"] for r in rs) for engine, rs in runs.items()}
    out = {
        "events": events,
        "lake_mb": round(lake_mb, 1),
        "repeat": args.repeat,
        "duckdb_s": round(medians["duckdb"], 1),
        "spark_s": round(medians["spark"], 1),
        "spark_to_duckdb": round(medians["spark"] / medians["duckdb"], 2),
        "runs": runs,
        "machine": f"{os.cpu_count()} cores",
        "seconds": round(time.perf_counter() - started, 1),
    }
    if args.json:
        print(json.dumps(out))
    else:
        print(
            f"{events:,} events ({lake_mb:,.0f} MB of Parquet), median of {args.repeat}: "
            f"duckdb {medians['duckdb']:.1f} s, spark (local, {os.cpu_count()} cores) {medians['spark']:.1f} s "
            f"({out['spark_to_duckdb']}x)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
