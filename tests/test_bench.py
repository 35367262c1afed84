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
