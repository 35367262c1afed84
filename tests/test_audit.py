"""The audit log file itself: long lines, unreadable lines, lines removed from the end, and the Audit log page."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from analytics import audit


def _record(store, n: int, **fields) -> list[dict]:
    base = {"viewer": "lead@x.example", "role": "lead", "page": "Org explorer", "subject": "u-00001", "scope": "t-1"}
    return [audit.record(store, **{**base, "subject": f"u-{i:05d}", **fields}) for i in range(n)]


def test_a_long_line_does_not_wedge_later_records(tmp_path):
    store = tmp_path / "audit.jsonl"
    (first,) = _record(store, 1)
    # a line longer than any one chunk read from the end, in a log written before fields were capped (and before
    # head files): the next record still chains onto it
    long = {"at": "2026-01-01T00:00:00+00:00", "viewer": "v", "role": "admin", "page": "p", "subject": "s" * 9000}
    long["scope"] = "z"
    long["hash"] = audit._digest(first["hash"], long)
    with store.open("a") as fh:
        fh.write(json.dumps(long) + "\n")
    Path(f"{store}.head").unlink(missing_ok=True)
    _record(store, 2)
    assert audit.verify(store) == (True, 4)


def test_long_subjects_and_scopes_are_capped_at_1000_characters(tmp_path):
    store = tmp_path / "audit.jsonl"
    _record(store, 1, subject="x" * 20_000, scope="y" * 5_000)
    (entry,) = map(json.loads, store.read_text().splitlines())
    assert len(entry["subject"]) == len(entry["scope"]) == 1000
    assert entry["subject"] == "x" * 999 + "…" and entry["scope"].endswith("y…")
    assert audit.verify(store) == (True, 1)


def test_an_unreadable_line_is_skipped_by_read_and_named_by_verify(tmp_path):
    store = tmp_path / "audit.jsonl"
    _record(store, 3)
    lines = store.read_text().splitlines()
    store.write_text("\n".join([lines[0], "{not json", lines[1], "[1, 2]", lines[2]]) + "\n")
    log = audit.read(store)
    assert list(log["subject"]) == ["u-00002", "u-00001", "u-00000"] and log.attrs["unreadable"] == 2
    assert audit.verify(store) == (False, 2)
    assert audit.check(store).problem == "chain"


def test_lines_removed_from_the_end_are_detected_through_the_head_file(tmp_path):
    store = tmp_path / "audit.jsonl"
    entries = _record(store, 4)
    intact = store.read_text()
    store.write_text("".join(intact.splitlines(keepends=True)[:3]))  # the last view removed
    assert audit.verify(store)[0] is False
    store.write_text(intact)
    head = json.loads(audit.head_path(store).read_text())
    assert head == {"lines": 4, "hash": entries[-1]["hash"]}
    assert audit.check(store) == audit.Check(True, 4, 4, "", 4)

    lines = store.read_text().splitlines(keepends=True)
    store.write_text("".join(lines[:2]))  # the last two views removed: the chain alone is still intact
    found = audit.check(store)
    assert (found.intact, found.problem, found.lines, found.written) == (False, "truncated", 2, 4)
    assert audit.verify(store) == (False, 3)
    # appending afterwards does not hide it: the head keeps counting what was written
    _record(store, 1)
    assert audit.check(store).problem == "truncated"

    # the same number of lines, but not the ones the head recorded
    store2 = tmp_path / "other.jsonl"
    _record(store2, 2)
    audit.head_path(store2).write_text(json.dumps({"lines": 2, "hash": "f" * 64}))
    assert audit.check(store2).problem == "head" and audit.verify(store2) == (False, 2)


def test_a_log_from_before_head_files_gets_one_and_says_it_had_none(tmp_path):
    store = tmp_path / "audit.jsonl"
    _record(store, 3)
    audit.head_path(store).unlink()
    assert audit.check(store) == audit.Check(True, 3, 3, "no head")
    _record(store, 1)
    assert json.loads(audit.head_path(store).read_text())["lines"] == 4
    assert audit.verify(store) == (True, 4)


def test_a_last_line_without_its_newline_is_not_run_into(tmp_path):
    store = tmp_path / "audit.jsonl"
    _record(store, 2)
    store.write_text(store.read_text().rstrip("\n"))
    _record(store, 1)
    assert audit.verify(store) == (True, 3) and len(audit.read(store)) == 3


def test_a_damaged_last_line_refuses_the_append(tmp_path):
    store = tmp_path / "audit.jsonl"
    _record(store, 1)
    with store.open("a") as fh:
        fh.write('{"cut": \n')
    with pytest.raises(audit.AuditError):
        _record(store, 1)


# -- the Audit log page -------------------------------------------------------------------------------


def audit_page_script() -> None:
    from pathlib import Path

    import streamlit as st

    from pages import audit_log

    audit_log.main(Path(st.session_state["test.store"]))


def _page(store) -> AppTest:
    at = AppTest.from_function(audit_page_script, default_timeout=60)
    at.session_state["test.store"] = str(store)
    at.run()
    assert not at.exception, at.exception
    return at


def test_the_page_survives_unreadable_lines_and_says_how_many(tmp_path):
    store = tmp_path / "audit.jsonl"
    _record(store, 2)
    with store.open("a") as fh:
        fh.write("garbage\n")
    at = _page(store)
    errors = " ".join(e.value for e in at.error)
    assert "hash chain breaks at line 3" in errors
    assert "1 line of the log could not be read" in " ".join(w.value for w in at.warning)
    assert len(at.dataframe[0].value) == 2


def test_the_page_says_when_lines_were_removed_from_the_end(tmp_path):
    store = tmp_path / "audit.jsonl"
    _record(store, 3)
    store.write_text(store.read_text().splitlines(keepends=True)[0])
    at = _page(store)
    assert any("3 lines were written but the log now holds 1" in e.value for e in at.error)
    assert not any("intact" in c.value for c in at.caption)


def test_the_page_warns_when_the_head_file_is_missing(tmp_path):
    store = tmp_path / "audit.jsonl"
    _record(store, 2)
    audit.head_path(store).unlink()
    at = _page(store)
    assert any("head file" in w.value for w in at.warning) and not at.error
    intact = _page(store.with_name("fresh.jsonl"))
    assert not intact.warning and not intact.error
