"""`python -m analytics bench` on a small dataset: the contract's keys, sane figures, and nothing left behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from analytics import bench

ROOT = Path(__file__).resolve().parents[1]
EVENTS = 200_000


@pytest.fixture(scope="module")
def small_run(tmp_path_factory) -> tuple[dict, Path]:
    tmp = tmp_path_factory.mktemp("bench-tmp")  # the command's temporary folder goes here, to check it is removed
    done = subprocess.run(
        [sys.executable, "-m", "analytics", "bench", "--events", str(EVENTS), "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "TMPDIR": str(tmp)},
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout), tmp


def test_bench_reports_the_contract_keys_with_sane_figures(small_run):
    out, _ = small_run
    for key in ("events", "ingest_events_per_s", "detect_s", "page_p95_ms", "peak_rss_mb"):
        assert key in out
    # the demo is sized to N from its usual rate; a small organisation runs a little above it
    assert EVENTS * 0.7 <= out["events"] <= EVENTS * 1.5
    assert out["generate_shards"] == 1  # an organisation this size is built in one piece
    assert out["ingest_events"] + out["new_batch_events"] == out["events"]
    assert 0.005 <= out["new_batch_events"] / out["events"] <= 0.02  # the latest 1 %, as a second batch
    assert out["ingest_events_per_s"] == pytest.approx(out["ingest_events"] / out["ingest_s"], rel=0.05)
    assert 10_000 < out["ingest_events_per_s"] < 50_000_000
    assert 0 < out["detect_s"] < 120 and 0 < out["refresh_s"] < 120 and 0 < out["new_batch_refresh_s"] < 120
    assert out["people_scored"] == out["users"] and 0 < out["flagged"] < out["users"]
    assert 0 < out["db_mb"] < 1000
    assert 50 < out["peak_rss_mb"] < 24 * 1024
    assert out["peak_rss_mb"] == max(out["pipeline_peak_rss_mb"], out["serving_peak_rss_mb"])


def test_bench_times_every_page_for_an_admin_and_a_team_lead(small_run):
    out, _ = small_run
    pages = out["pages"]
    admin = {p for p, by in pages.items() if "admin" in by}
    lead = {p for p, by in pages.items() if "team lead" in by}
    assert admin == {"Overview", "Leaderboards", "Suspected inflation", "Demand", "Org explorer", "Data"}
    assert lead == {"Leaderboards", "Suspected inflation", "Org explorer", "My usage"}  # the pages a lead may open
    timings = [t for by in pages.values() for t in by.values()]
    assert all(0 < t["p50_ms"] <= t["p95_ms"] < 10_000 and t["cold_ms"] > 0 for t in timings)
    assert out["page_p95_ms"] == max(t["p95_ms"] for t in timings)
    assert out["worst_page"].split(" (")[0] in pages
    assert out["demand_fit_s"] > 0


def test_bench_compares_with_a_pandas_app_on_the_same_events(small_run):
    out, _ = small_run
    baseline = out["pandas"]
    assert baseline["rows"] == out["events"]  # same data, same run
    assert baseline["run"] is True  # it fits: the frame's size is projected before loading, and close
    assert baseline["projected_frame_mb"] == pytest.approx(baseline["frame_mb"], rel=0.05)
    assert baseline["load_s"] > 0 and baseline["frame_mb"] > 0 and baseline["peak_rss_mb"] > 0
    assert baseline["leaderboard"]["p50_ms"] > 0 and baseline["weekly_by_tool"]["p50_ms"] > 0
    ratios = out["ratios"]
    assert ratios["leaderboard_p50"] == pytest.approx(
        baseline["leaderboard"]["p50_ms"] / out["pages"]["Leaderboards"]["admin"]["p50_ms"], rel=0.1
    )
    assert ratios["serving_peak_rss"] > 0


def test_bench_leaves_no_files_behind(small_run):
    _, tmp = small_run
    assert list(tmp.iterdir()) == []


def test_bench_text_reads_the_same_figures(small_run):
    out, _ = small_run
    text = bench.text(out)
    assert f"{out['events']:,} events" in text
    assert f"{out['ingest_events_per_s'] / 1e6:.2f} M events/s" in text
    assert "against the usual alternative" in text
    for page in out["pages"]:
        assert page in text


def test_bench_refuses_a_bad_size():
    done = subprocess.run(
        [sys.executable, "-m", "analytics", "bench", "--events", "0"], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "must be positive" in done.stderr


def test_demo_size_follows_the_events_asked():
    assert bench.users_for(10_000_000) == round(10_000_000 / (180 * bench.EVENTS_PER_PERSON_DAY))
    assert bench.users_for(1_000) == 20  # the demo's smallest organisation


# -- an organisation built in shards, and the pandas app refused when it would not fit -------------------------

SHARDED_USERS = 60  # three shards of 20 people when a shard holds at most 25


def _in_process(phase: str, **kwargs) -> dict:
    """A phase run here rather than in a child, so the test's settings apply; its result as the child hands it."""
    return json.loads(json.dumps(bench.PHASES[phase](**kwargs)))


@pytest.fixture(scope="module")
def sharded_run(tmp_path_factory) -> tuple[dict, Path, list[int]]:
    from analytics import demo

    folder = tmp_path_factory.mktemp("bench-sharded")
    seeds: list[int] = []
    generate = demo.generate

    def same_company(out_dir, *, seed, **kwargs):
        # the worst case: each shard the same company (shard 0's seed), so every id, name, e-mail and
        # contractor would meet its twin in the other shards unless the combining renames it
        seeds.append(seed)
        return generate(out_dir, seed=bench.SEED, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bench, "SHARD_USERS", 25)
        patch.setattr(bench, "PANDAS_MEMORY_SHARE", 1e-9)  # any frame is too big
        patch.setattr(bench, "_child", _in_process)
        patch.setattr(demo, "generate", same_company)
        events = round(SHARDED_USERS * bench.DAYS * bench.EVENTS_PER_PERSON_DAY)
        out = bench.run(events, repeat=1, keep=folder)
    return out, folder, seeds


def _files(folder: Path):
    import duckdb

    con = duckdb.connect()
    for name in ("teams", "people", "usage_daily", "outcomes"):
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{folder / 'generated' / name}.parquet')")
    con.execute(f"CREATE VIEW personas AS SELECT * FROM read_parquet('{folder / 'generated/eval/personas.parquet'}')")
    batches = [str(folder / b / "usage_events.parquet") for b in ("batch1", "batch2")]
    con.execute(f"CREATE VIEW events AS SELECT * FROM read_parquet({batches!r})")
    return con


def test_sharded_generation_writes_one_company_with_distinct_ids(sharded_run):
    out, folder, seeds = sharded_run
    assert out["generate_shards"] == 3 and out["users"] == SHARDED_USERS
    assert seeds == [bench.SEED, bench.SEED + 1, bench.SEED + 2]  # in the real build, a seed of its own each
    assert json.loads((folder / "dataset.json").read_text())["generated"]["shards"] == 3
    assert not (folder / "shards").exists() and not (folder / "generated" / "usage_events.parquet").exists()
    con = _files(folder)

    def one(sql: str):
        return con.execute(sql).fetchone()

    # every id column unique (identities compare case-insensitively, as the marts match them)
    for table, column in [
        ("teams", "team_id"),
        ("people", "lower(user_id)"),
        ("people", "lower(email)"),
        ("people", "lower(login)"),
        ("events", "event_id"),
        ("outcomes", "outcome_id"),
        ("personas", "user_id"),
        ("usage_daily", "(day, user_id, tool, model)"),
    ]:
        assert one(f"SELECT count(*) = count(DISTINCT {column}) FROM {table}")[0], (table, column)
    assert one("SELECT count(*) FROM people")[0] == SHARDED_USERS
    assert one("SELECT count(*) FROM personas WHERE user_id NOT IN (SELECT user_id FROM people)")[0] == 0
    # a session or prompt belongs to one identity: a shard's s-0000001 never meets another's
    for column in ("session_id", "prompt_id"):
        assert one(f"SELECT max(n) FROM (SELECT count(DISTINCT user_id) n FROM events GROUP BY {column})")[0] == 1
    assert (
        one(
            "SELECT count(*) FROM outcomes o JOIN (SELECT DISTINCT session_id, user_id FROM events) e "
            "USING (session_id) WHERE e.user_id <> o.user_id"
        )[0]
        == 0
    )
    # one tree: one root, every parent, team and lead exists, and the top-level orgs' names are distinct
    root = one("SELECT list(team_id) FROM teams WHERE parent_team_id IS NULL")[0]
    assert len(root) == 1
    assert one("SELECT count(*) FROM teams WHERE parent_team_id NOT IN (SELECT team_id FROM teams)")[0] == 0
    assert one("SELECT count(*) FROM people WHERE team_id NOT IN (SELECT team_id FROM teams)")[0] == 0
    # a team's lead is one of its members
    leads = "teams t LEFT JOIN people p ON p.user_id = t.lead_user_id AND p.team_id = t.team_id"
    assert one(f"SELECT count(*) FROM {leads} WHERE p.user_id IS NULL")[0] == 0
    orgs = one(f"SELECT count(*), count(DISTINCT team_name) FROM teams WHERE parent_team_id = '{root[0]}'")
    assert orgs[0] == orgs[1] >= 3 * 2  # each shard's orgs, renamed apart
    assert one(f"SELECT count(*) FROM people WHERE team_id = '{root[0]}'")[0] == 3  # each shard's chief executive
    # the latest 1 % over every shard, after the rest
    first, second = (
        one(f"SELECT count(*), min(ts), max(ts) FROM '{folder / b / 'usage_events.parquet'}'")
        for b in ("batch1", "batch2")
    )
    assert first[2] < second[1] and 0.005 <= second[0] / (first[0] + second[0]) <= 0.02


def test_sharded_events_name_their_people_after_the_real_ingest(sharded_run):
    from analytics.warehouse import connect_read_only

    out, folder, _ = sharded_run
    files = _files(folder)
    # the demo's events carry a person's user id, or an identity no person has (contractors, people gone)
    known, total = files.execute(
        "SELECT count(*) FILTER (WHERE user_id IN (SELECT user_id FROM people)), count(*) FROM events"
    ).fetchone()
    con = connect_read_only(folder / "bench.duckdb")  # the pipeline phase's: bench.run's ingest and refresh
    try:
        assert con.execute("SELECT count(*) FROM people").fetchone()[0] == SHARDED_USERS
        attributed, misattributed, unknown, events = con.execute(
            "SELECT count(*) FILTER (WHERE is_attributed),"
            " count(*) FILTER (WHERE is_attributed AND lower(user_id) <> identity),"
            " count(DISTINCT identity) FILTER (WHERE NOT is_attributed), count(*)"
            " FROM stg_usage(DATE '1000-01-06', DATE '9999-12-27') WHERE grain = 'event'"  # every week
        ).fetchone()
    finally:
        con.close()
    assert events == total == out["events"]
    assert misattributed == 0 and attributed == known and 0.95 < attributed / events < 1
    assert unknown == 3 * 2  # one contractor and one former id per 20-person shard, none merged across shards


def test_the_pandas_app_is_not_run_when_it_would_not_fit(sharded_run):
    out, _, _ = sharded_run
    baseline = out["pandas"]
    assert baseline["run"] is False and baseline["rows"] == out["events"]
    assert 0 < baseline["projected_frame_mb"] < baseline["projected_peak_mb"] and baseline["machine_mb"] > 1024
    assert "load_s" not in baseline and set(out["ratios"].values()) == {None}
    json.loads(json.dumps(out, allow_nan=False))  # --json stays valid
    text = bench.text(out)
    assert "pandas app: not run: the frame would need" in text and "GiB" in text
    assert "in 3 shards" in text and "ratio" not in text


def test_a_shard_is_built_in_a_process_of_its_own(tmp_path):
    built = bench._child("shard", folder=str(tmp_path / "shard=0"), users=20, days=14, seed=bench.SEED)
    assert built["people"] == 20 and built["events"] > 0 and built["peak_rss_mb"] > 0
    assert (tmp_path / "shard=0" / "usage_events.parquet").exists() and (
        tmp_path / "shard=0" / "teams.parquet"
    ).exists()
