"""Detection speed and memory at scale: `python -m analytics.bench_detect [--users N] [--days D] [--repeat R]`.

Builds a demo organisation of the given size (about 1,570 events per person over 180 days), then runs
`detect` over its whole range R times, each in a fresh process, and prints each run's seconds and peak
resident memory with the median. The database is built in a temporary folder and deleted afterwards.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

CHILD = """
import json, sys, time
from analytics import detect
from analytics.warehouse import connect_read_only
con = connect_read_only(sys.argv[1])  # as `python -m analytics detect` opens it
started = time.perf_counter()
found = detect.detect(con, *detect.window(con, None, None))
seconds = time.perf_counter() - started
events = con.execute("SELECT count(*) FROM usage_events").fetchone()[0]
print(json.dumps({"seconds": seconds, "events": events, "people": len(found.people),
                  "flagged": int(found.people["flagged"].sum()),
                  # VmHWM is this process's own peak (ru_maxrss would carry the parent's across fork)
                  "peak_rss_mb": next(int(line.split()[1]) for line in open("/proc/self/status")
                                      if line.startswith("VmHWM")) / 1024}))
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analytics.bench_detect", description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=6400)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, default=None, help="build into (or reuse) this database file instead")
    args = parser.parse_args(argv)
    from analytics.bench import organisation

    with organisation(
        args.keep, users=args.users, days=args.days, upgrade=False, say=lambda m: print(m, flush=True)
    ) as db:
        runs = []
        for i in range(args.repeat):
            out = subprocess.run([sys.executable, "-c", CHILD, str(db)], capture_output=True, text=True, check=True)
            run = json.loads(out.stdout.strip().splitlines()[-1])
            runs.append(run)
            print(
                f"run {i + 1}: {run['events']:,} events, {run['people']:,} people, {run['flagged']:,} flagged, "
                f"{run['seconds']:.1f} s, peak RSS {run['peak_rss_mb']:,.0f} MB",
                flush=True,
            )
    print(
        f"median: detect {statistics.median(r['seconds'] for r in runs):.1f} s, "
        f"peak RSS {statistics.median(r['peak_rss_mb'] for r in runs):,.0f} MB "
        "(targets: <= 60 s, <= 4,096 MB)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
