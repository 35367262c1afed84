"""Leaderboard page speed at scale: `python -m analytics.bench_leaderboard [--users N] [--repeat R] [--keep FILE]`.

Builds a demo organisation of the given size (6,400 people over 180 days is about 10 million events), or
reuses `--keep FILE`, then times what the Leaderboards page and the Overview's additions ask of the
database on one read-only connection, as the app holds it: each query once cold (first after opening) and
R times warm, printing the median and p95 of the warm runs in milliseconds. A "people board" is the query
plus the pandas work that turns its rows into both boards (pseudonyms, ranks, teams, headline): the page's
whole server-side work before drawing; "board query alone" is the SQL part of it.
"""

from __future__ import annotations

import argparse
import statistics
from datetime import timedelta
from pathlib import Path

from analytics import access
from analytics import leaderboard as lb
from analytics.access import k_configured
from analytics.bench import p95 as _p95
from analytics.bench import time_ms as _time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analytics.bench_leaderboard", description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=6400)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--keep", type=Path, default=None, help="build into (or reuse) this database file instead")
    args = parser.parse_args(argv)
    from analytics.bench import organisation
    from analytics.queries import Warehouse
    from analytics.warehouse import connect_read_only

    with organisation(args.keep, users=args.users, days=args.days) as db:
        wh = Warehouse(connect_read_only(db))
        events = wh.con.execute("SELECT count(*) FROM usage_events").fetchone()[0]
        first, last = wh.date_bounds()
        recent = (last - timedelta(weeks=4) + timedelta(days=1), last)
        tool = wh.con.execute("SELECT tool FROM mart_person_week_tool GROUP BY 1 ORDER BY sum(tokens) DESC").fetchone()[
            0
        ]
        org = wh.con.execute("SELECT org_id FROM dim_teams WHERE depth = 1 ORDER BY team_id LIMIT 1").fetchone()[0]
        key = wh.pseudonym_key

        def page(start, end, tool=None, subtree=None):
            raw = wh.leaderboard_people(start, end, tool, subtree)
            people = lb.people_board(raw, key=key, show_names=False)
            lb.team_board(people, k=k_configured())
            return lb.headline(people)

        cases = {
            "board query alone, whole range": lambda: wh.leaderboard_people(first, last, None, None),
            "people board, whole range": lambda: page(first, last),
            "people board, last 4 weeks": lambda: page(*recent),
            f"people board, tool {tool}": lambda: page(first, last, tool),
            f"people board, org {org}": lambda: page(first, last, None, org),
            "filter options": wh.leaderboard_filters,
            "decoupling monitor": lambda: lb.decoupling(wh.decoupling_weeks(first, last), k=k_configured()),
        }
        # the same questions as each kind of viewer asks them (issue 7): bound to a scope in SQL
        viewers = access.demo_viewers(wh.con)
        leads = [v for label, v in viewers.items() if label.startswith("Team lead of")]
        for label, viewer in (("leadership", viewers["Leadership"]), ("org lead", leads[-1]), ("team lead", leads[0])):
            scope = viewer.scope()
            cases[f"board query, {label}"] = lambda s=scope: wh.leaderboard_people(first, last, None, None, s)
            cases[f"org explorer tree, {label}"] = lambda s=scope: wh.org_tree(first, last, s)
        print(f"{events:,} events; {args.repeat} warm runs per query after one cold run")
        print(f"{'query':<40} {'cold ms':>9} {'p50 ms':>9} {'p95 ms':>9}")
        worst = 0.0
        for name, fn in cases.items():
            cold, warm = _time(fn, args.repeat)
            worst = max(worst, _p95(warm))
            print(f"{name:<40} {cold:>9.1f} {statistics.median(warm):>9.1f} {_p95(warm):>9.1f}")
        print(f"worst warm p95: {worst:.1f} ms")
        wh.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
