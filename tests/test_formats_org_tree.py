"""HR / Entra manager trees: one team per manager, people in their manager's team, repeats rejected, and
telemetry that names people by e-mail attributed through the tree."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analytics import formats, ingest
from analytics.formats import org_tree
from tests.conftest import write_csv

FIXTURES = Path(__file__).parent / "fixtures" / "formats" / "org_tree"
ENTRA = FIXTURES / "entra-org-tree.json"
REPEATS = FIXTURES / "repeats.json"
KIND = "telemetry:org-tree"


def uid(n: int) -> str:
    return f"00000000-0000-0000-0000-{n:012d}"


def team(n: int) -> str:
    return f"team-{uid(n)}"


def test_the_entra_tree_is_detected_and_loads_one_team_per_manager(con):
    assert ingest.discover([ENTRA]) == ([(ENTRA, KIND)], [])
    results = ingest.ingest(con, [ENTRA]).results
    assert [(r.table, r.inserted, r.rejected) for r in results] == [("teams", 3, 0), ("people", 8, 0)]
    teams = con.execute(
        "SELECT team_id, team_name, parent_team_id, lead_user_id FROM teams ORDER BY team_id"
    ).fetchall()
    assert teams == [
        (team(1), "Engineering", None, uid(1)),
        (team(2), "Platform Engineering", team(1), uid(2)),
        (team(3), "Product Engineering", team(1), uid(3)),
    ]
    people = con.execute(
        "SELECT user_id, display_name, email, login, team_id, title FROM people ORDER BY user_id"
    ).fetchall()
    assert people == [
        (uid(1), "Monalisa Octocat", "monalisa@octodemo.com", "monalisa", team(1), "VP of Engineering"),
        (uid(2), "Defunkt Jones", "defunkt@octodemo.com", "defunkt", team(1), "Engineering Manager"),
        (uid(3), "Codertocat Rivera", "codertocat@octodemo.com", "codertocat", team(1), "Engineering Manager"),
        (uid(4), "Octocat Smith", "octocat@octodemo.com", "octocat", team(2), "Senior Software Engineer"),
        (uid(5), "Octokitten Lee", "octokitten@octodemo.com", "octokitten", team(2), "Software Engineer"),
        (uid(6), "Alice Chen", "alice.chen@octodemo.com", "alicechen", team(3), "Senior Software Engineer"),
        (uid(7), "Bob Martinez", "bob.martinez@octodemo.com", "bobmartinez", team(3), "Software Engineer"),
        (uid(8), "Hubot Robot", "hubot@octodemo.com", "hubot", team(2), "Software Engineer"),
    ]


def test_telemetry_that_names_a_person_by_e_mail_joins_them_through_the_tree(con, tmp_path):
    ingest.ingest(con, [ENTRA])
    usage = write_csv(
        tmp_path / "usage_events.csv",
        "event_id,ts,user_id,tool,input_tokens,output_tokens",
        [
            "e1,2026-10-01T10:00:00Z,Alice.Chen@octodemo.com,claude-code,100,20",
            "e2,2026-10-01T11:00:00Z,hubot,cursor,5,5",
        ],
    )
    ingest.ingest(con, [usage])
    rows = con.execute(
        "SELECT m.identity, m.user_id, m.tokens, p.org_name, p.team_name FROM mart_person_day_tool m "
        "JOIN dim_people p USING (user_id) ORDER BY identity"
    ).fetchall()
    assert rows == [
        # the root team is the whole company; its child teams are the top-level orgs
        ("alice.chen@octodemo.com", uid(6), 120, "Product Engineering", "Product Engineering"),
        ("hubot", uid(8), 10, "Platform Engineering", "Platform Engineering"),  # by githubLogin
    ]


def test_in_one_ingest_the_tree_loads_before_the_usage_that_needs_it(con, tmp_path):
    folder = tmp_path / "drop"
    folder.mkdir()
    (folder / "org.json").write_text(ENTRA.read_text())
    write_csv(
        folder / "usage_events.csv",
        "event_id,ts,user_id,tool,input_tokens,output_tokens",
        ["e1,2026-10-01T10:00:00Z,defunkt@octodemo.com,claude-code,7,3"],
    )
    files, _ = ingest.discover([folder])
    assert [kind for _, kind in files] == [KIND, "usage_events"]
    ingest.ingest(con, [folder])
    assert con.execute("SELECT user_id, tokens FROM mart_person_day_tool").fetchall() == [(uid(2), 10)]


def test_repeated_and_unidentifiable_people_are_rejected_with_reasons(con):
    results = ingest.ingest(con, [REPEATS]).results
    assert [(r.table, r.inserted, r.rejected) for r in results] == [("teams", 3, 3), ("people", 8, 0)]
    assert any("Pacific Standard Time" in w for w in results[0].warnings)
    rejected = con.execute("SELECT line, reason FROM rejected_rows ORDER BY line").fetchall()
    assert rejected == [
        (6, 'person "M1" appears earlier in the tree (record 2); a person has one manager'),
        (9, "record has no id, mail or userPrincipalName"),
        (11, 'person "p1" appears earlier in the tree (record 3); a person has one manager'),
    ]
    teams = con.execute(
        "SELECT team_id, team_name, parent_team_id, lead_user_id FROM teams ORDER BY team_id"
    ).fetchall()
    assert teams == [
        ("team-m1", "Max One's team", "team-r1", "m1"),  # "Platform" is two managers' department
        ("team-m2@acme.example", "Data", "team-r1", "m2@acme.example"),
        ("team-r1", "Rae Root's team", None, "r1"),
    ]
    people = con.execute("SELECT user_id, team_id, email, timezone FROM people ORDER BY user_id").fetchall()
    assert people == [
        ("m1", "team-r1", "max@acme.example", None),  # a Windows zone name is left out
        ("m2@acme.example", "team-r1", "m2@acme.example", None),
        ("p1", "team-m1", "pia@acme.example", None),
        ("p2", "team-m1", "pol@acme.example", None),
        ("p3", "team-m2@acme.example", "pau@acme.example", None),
        ("p5", "team-r1", "pip@acme.example", None),  # under the unidentifiable record: the team above
        ("p6", "team-m1", "pat@acme.example", None),  # listed under the repeat of m1: m1's team
        ("r1", "team-r1", "rae@acme.example", "Europe/Madrid"),
    ]


def test_importing_the_tree_twice_changes_nothing(con):
    ingest.ingest(con, [ENTRA, REPEATS])
    snapshot = {
        t: con.execute(f"SELECT * EXCLUDE (batch_id) FROM {t} ORDER BY ALL").fetchall() for t in ("teams", "people")
    }
    rejected = con.execute("SELECT count(*) FROM rejected_rows").fetchone()[0]
    again = ingest.ingest(con, [ENTRA, REPEATS]).totals()
    assert (again["inserted"], again["updated"], again["duplicates"]) == (0, 0, 3 + 8 + 3 + 8)
    assert snapshot == {
        t: con.execute(f"SELECT * EXCLUDE (batch_id) FROM {t} ORDER BY ALL").fetchall() for t in ("teams", "people")
    }
    assert con.execute("SELECT count(*) FROM rejected_rows").fetchone()[0] == rejected == 3


@pytest.mark.parametrize("wrap", [lambda people: people, lambda people: {"value": people}])
def test_a_list_of_top_people_or_a_graph_page_gives_one_root_team_each(con, tmp_path, wrap):
    people = [
        {
            "id": "a",
            "displayName": "Ann",
            "mail": "ann@x.example",
            "directReports": [{"id": "b", "displayName": "Ben"}],
        },
        {"id": "c", "displayName": "Cat", "userPrincipalName": "cat@x.example", "directReports": []},
    ]
    path = tmp_path / "managers.json"
    path.write_text(json.dumps(wrap(people)))
    assert ingest.discover([path])[0] == [(path, KIND)]
    ingest.ingest(con, [path])
    assert con.execute("SELECT team_id, parent_team_id FROM teams ORDER BY 1").fetchall() == [
        ("team-a", None),
        ("team-c", None),
    ]
    assert con.execute("SELECT user_id, team_id, email FROM people ORDER BY 1").fetchall() == [
        ("a", "team-a", "ann@x.example"),
        ("b", "team-a", None),
        ("c", "team-c", "cat@x.example"),
    ]


def test_other_files_are_not_taken_for_org_trees(org):
    assert not org_tree.sniff(formats.head_text(org / "people.csv"))
    assert not org_tree.sniff('{"request_id": "x", "displayName": "no reports here"}')
    assert org_tree.sniff(formats.head_text(ENTRA))


def test_a_document_that_is_not_a_tree_fails_in_one_line(con, tmp_path):
    path = tmp_path / "org.json"
    path.write_text('"directReports displayName"')
    result = ingest.ingest(con, [path], table="org-tree").results
    assert [(r.status, r.message) for r in result] == [
        ("failed", "org.json holds no org tree (want a person object or a list of them)")
    ]
