"""Shared fixtures: a fresh warehouse per test, built by the same code the app uses."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from analytics.warehouse import connect


def write_csv(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text(header + "\n" + "".join(r + "\n" for r in rows))
    return path


def write_rows(path: Path, rows: list[dict]) -> Path:
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def con(tmp_path):
    con = connect(tmp_path / "test.duckdb")
    yield con
    con.close()


@pytest.fixture
def org(tmp_path) -> Path:
    """A two-team org with three people in two time zones."""
    folder = tmp_path / "org"
    folder.mkdir()
    write_csv(
        folder / "teams.csv",
        "team_id,team_name,parent_team_id,lead_user_id",
        ["root,Acme,,a1", "eng,Engineering,root,a1", "web,Web,eng,b2", "ops,Operations,root,"],
    )
    write_csv(
        folder / "people.csv",
        "user_id,display_name,email,login,team_id,timezone,active_from,active_to",
        [
            "a1,Ada,ada@acme.example,ada-gh,web,Europe/Madrid,2026-01-01,",
            "b2,Bo,bo@acme.example,bo-gh,web,America/New_York,2026-01-01,",
            "c3,Cy,cy@acme.example,cy-gh,ops,UTC,2026-10-07,2026-10-20",
        ],
    )
    return folder


DEMO_END = "2026-11-20"


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory) -> Path:
    """A small demo organisation, built once per test run through the real importer."""
    from datetime import date

    from analytics.cli import build_demo

    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    build_demo(path, users=300, days=70, seed=7, end=date.fromisoformat(DEMO_END))
    return path
