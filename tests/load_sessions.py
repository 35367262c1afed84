"""Load test: concurrent sessions click through the app while the real CLI ingests new days.

python -m tests.load_sessions                          # 20 sessions, 3 ingests, a fresh 2,000-person demo
python -m tests.load_sessions --sessions 5 --ingests 1 --users 300 --days 40 --minutes 1
python -m tests.load_sessions --db data/usage.duckdb   # start from a copy of an existing database
python -m tests.load_sessions --client browser         # real Chromium sessions instead of protocol clients

One `streamlit run` server. A session is a client of one of two kinds (`--client`):
- `protocol` (the default): tests/streamlit_client.py, which speaks Streamlit's own websocket protocol as its
  frontend does (the same messages, widget values, page changes and fragment auto reruns) but runs no
  JavaScript and draws nothing. Twenty of them cost little CPU, so the server is what is measured.
- `browser`: one Chromium with a browser context per session (Playwright's async API). On two cores twenty
  Chromium contexts take more CPU than the server (a few renders then fail for the client's sake).
Each session views the app as one role of the demo's "View as" switch (Admin, Leadership, Finance, a team lead,
a member, in turn) and clicks through the pages its navigation shows, pausing 5-15 s between clicks. A
member has one page and no navigation, so it re-renders My usage by switching the view to a team lead and
back. Sessions join one after another (a browser's first load parses Streamlit's and Plotly's JavaScript,
and twenty at once starve two cores). Once all have joined, `python -m analytics ingest` loads one batch after
another in its own process: each batch copies an existing day of events, daily rows and outcomes (new ids)
to the day after the newest, so every ingest moves the data's last day on by one.

A render is timed from the click until the page's title is drawn and Streamlit's running indicator is gone
(protocol: from sending the rerun until its final `script_finished`). It fails on a timeout (`--timeout`,
90 s), an exception box, any error alert (a lock error or "Cannot open the database" among them), a
JavaScript error in the page (protocol: a page not found, a closed websocket, or a finished run without the
expected title or viewer), or a page with nothing under its title 2 s after the run finished. A failed render
leaves a screenshot (protocol: the page as text) in `<workdir>/failures/`.

Freshness: one more session (Admin) sits idle on the Data page, clicking nothing, and reads the newest
"Last day" in its Sources table; for each ingest, the time from the snapshot being published (the mtime of
the `CURRENT` pointer) until that session shows the batch's last day. Data pages rendered by the clicking
Admin sessions are checked too ("stale"): none started more than STALE_GRACE_S after a publish may show
older data.

Exit status 1 when any render failed, an ingest failed or an ingest's data never showed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

from tests.browser import CHROMIUM, CHROMIUM_ARGS, ROOT, streamlit_server
from tests.streamlit_client import SIDEBAR

ROLES = ("Admin", "Leadership", "Finance", "Team lead", "Member")
BLANK_GRACE_S = 2.0  # a page shown with nothing under its title is blank when it still is this much later
STALE_GRACE_S = 4.0  # a click this long after a publish must show the new data (the app re-reads the pointer every 2 s)
CLIENT_CPU = "load test (this process: protocol clients or Playwright's side)"

KIND = {"Admin": "admin", "Leadership": "leadership", "Finance": "finance", "Team lead": "lead", "Member": "member"}
NAV_JS = """() => [...document.querySelectorAll('[data-testid="stSidebarNav"] a')]
  .map(a => a.innerText.split('\\n').pop().trim())"""
VIEWING_JS = """(kind) => [...document.querySelectorAll('[data-testid="stSidebar"] [data-testid="stCaptionContainer"]')]
  .some(c => c.innerText.includes('Viewing as') && c.innerText.trim().endsWith(kind))"""
IDLE_JS = "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
# What a finished render shows: exception boxes, error alerts, the main area's headings and how many elements.
INSPECT_JS = """() => {
  const main = document.querySelector('[data-testid="stMain"]') || document.body;
  return {
    exceptions: [...document.querySelectorAll('[data-testid="stException"]')].map(e => e.innerText.slice(0, 300)),
    errors: [...document.querySelectorAll('[data-testid="stAlertContentError"]')].map(e => e.innerText.slice(0, 300)),
    titles: [...main.querySelectorAll('h1')].map(h => h.innerText.trim()),
    elements: main.querySelectorAll('[data-testid="stElementContainer"]').length,
  };
}"""
# The newest "Last day" in the Data page's Sources table (its grid keeps an accessible <table> in the DOM).
LAST_DAY_JS = """() => {
  const table = document.querySelector('[data-testid="stDataFrame"] table');
  if (!table) return null;
  const heads = [...table.querySelectorAll('thead th')].map(h => h.innerText.trim());
  const col = heads.indexOf('Last day');
  if (col < 0) return null;
  const days = [...table.querySelectorAll('tbody tr')]
    .map(r => (r.children[col] ? r.children[col].innerText.trim() : ''))
    .filter(d => /^\\d{4}-\\d{2}-\\d{2}$/.test(d)).sort();
  return days.length ? days[days.length - 1] : null;
}"""


@dataclass
class Render:
    session: int
    role: str
    page: str
    started: float  # wall clock (time.time()), to compare with publish times
    seconds: float
    failure: str = ""
    last_day: str | None = None  # the Data page's newest "Last day", when this was one


@dataclass
class Ingest:
    batch: int
    rows: int
    expected_last_day: str = ""
    started: float = 0.0
    finished: float = 0.0
    published: float = 0.0  # when the pointer moved to this ingest's snapshot
    exit_code: int | None = None
    error: str = ""
    shown_idle: float | None = None  # when the idle Data page first showed expected_last_day
    stale_clicks: list[float] = field(default_factory=list)  # seconds after publish of clicks showing old data


# -- the data: a demo database and batches of later days -----------------------------------------------------


def build_database(folder: Path, *, users: int, days: int, ingests: int) -> Path:
    """A fresh demo whose last day lies `ingests + 1` days back, so every batch's day is in the past."""
    import subprocess

    db = folder / "usage.duckdb"
    end = datetime.now(UTC).date() - timedelta(days=ingests + 1)
    cmd = [sys.executable, "-m", "analytics", "demo", "--db", str(db), "--users", str(users), "--days", str(days)]
    subprocess.run([*cmd, "--end", end.isoformat(), "--json"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return db


def _last_day(con) -> date:
    return con.execute(
        """SELECT greatest((SELECT max(ts)::DATE FROM usage_events), (SELECT max(day) FROM usage_daily),
                           (SELECT max(ts)::DATE FROM outcomes))"""
    ).fetchall()[0][0]


def prepare_batches(db: Path, folder: Path, count: int) -> list[tuple[list[Path], int]]:
    """Canonical files for `count` batches: batch k copies the day a week before `last + k` to `last + k`, with
    new event and outcome ids (ids are immutable, so a copy with an old id would be a conflict)."""
    import duckdb

    from analytics import snapshots

    # a plain read-only connection: the app's own refuses to write files, and these are files to write
    con = duckdb.connect(str(snapshots.current(db) or db), read_only=True)
    try:
        last = _last_day(con)
        if last + timedelta(days=count) > datetime.now(UTC).date():
            raise SystemExit(
                f"the database's last day is {last}: {count} later days would reach into the future, which the "
                f"importer rejects. Build one with `python -m analytics demo --end` {count + 1} days back."
            )
        run = datetime.now(UTC).strftime("%H%M%S")
        batches = []
        for k in range(1, count + 1):
            source = last + timedelta(days=k - 7)
            prefix = f"load{run}-{k}-"
            shift = "INTERVAL 7 DAY"
            queries = {
                "usage_events": f"""SELECT * EXCLUDE (batch_id) REPLACE ($prefix || event_id AS event_id,
                    ts + {shift} AS ts) FROM usage_events WHERE ts::DATE = $day""",
                "usage_daily": "SELECT * EXCLUDE (batch_id) REPLACE (day + 7 AS day) FROM usage_daily WHERE day = $day",
                "outcomes": f"""SELECT * EXCLUDE (batch_id) REPLACE ($prefix || outcome_id AS outcome_id,
                    ts + {shift} AS ts) FROM outcomes WHERE ts::DATE = $day""",
            }
            paths, rows = [], 0
            for table, query in queries.items():
                params = {"prefix": prefix, "day": source} if "$prefix" in query else {"day": source}
                count = con.execute(f"SELECT count(*) FROM ({query})", params).fetchall()[0][0]
                if count:
                    path = folder / f"{table}-load{k}.parquet"
                    con.sql(query, params=params).write_parquet(str(path))
                    paths.append(path)
                    rows += count
            batches.append((paths, rows))
        return batches
    finally:
        con.close()


def shown_last_day(snapshot: Path) -> str:
    """The newest "Last day" the Data page shows for this snapshot: what the idle session waits for."""
    from analytics import data_queries
    from analytics.warehouse import connect_read_only

    con = connect_read_only(snapshot)
    try:
        return str(max(data_queries.sources(con)["last_day"]))[:10]
    finally:
        con.close()


# -- the sessions -----------------------------------------------------------------------------------------


class Run:
    """What every task shares: the settings, the clock, the records and the stop signal."""

    def __init__(self, args, url: str, db: Path, workdir: Path):
        self.args = args
        self.url = url
        self.db = db
        self.renders: list[Render] = []
        self.ingests: list[Ingest] = []
        self.stop = asyncio.Event()
        self.load: list[float] = []
        self.cpu: dict[int, tuple[str, float]] = {}  # pid -> (kind, CPU seconds), sampled while running
        self.t0 = time.time()
        self.joined = [asyncio.Event() for _ in range(args.sessions)]  # each session's first load is done
        self.all_joined = 0.0
        self.shots = workdir / "failures"

    def record(self, render: Render) -> None:
        self.renders.append(render)
        if render.failure and self.args.verbose:
            print(f"FAILED {render.role} #{render.session} {render.page}: {render.failure}", file=sys.stderr)


async def wait_rendered(page, title: str | None, timeout_ms: float, *, viewing: str | None = None) -> None:
    """Until the page titled `title` (any, with None) is drawn for the viewer whose sidebar caption holds
    `viewing`, and the run has finished."""
    await page.wait_for_selector(
        f'[data-testid="stMain"] h1:has-text("{title}")' if title else '[data-testid="stMain"] h1', timeout=timeout_ms
    )
    if viewing:
        await page.wait_for_function(VIEWING_JS, arg=viewing, timeout=timeout_ms)
    await page.wait_for_function(IDLE_JS, timeout=timeout_ms)


async def timed(
    run: Run,
    page,
    session: int,
    role: str,
    title: str | None,
    action,
    errors: list[str],
    *,
    label: str | None = None,
    viewing: str | None = None,
) -> Render:
    """Do `action` (a click), wait until `title` has rendered, and record how long it took and what went wrong
    (under `label`, default the title)."""
    started, clock = time.time(), time.perf_counter()
    errors.clear()
    failure = ""
    try:
        await action()
        await wait_rendered(page, title, run.args.timeout * 1000, viewing=viewing)
    except Exception as exc:
        failure = f"timeout or error: {str(exc).splitlines()[0][:200]}"
    seconds = time.perf_counter() - clock
    last_day = None
    if not failure:
        seen = await page.evaluate(INSPECT_JS)
        if seen["elements"] < 2:  # between two runs (a rerun for new data) for a moment: blank only if it stays
            await asyncio.sleep(BLANK_GRACE_S)
            await page.wait_for_function(IDLE_JS, timeout=run.args.timeout * 1000)
            seen = await page.evaluate(INSPECT_JS)
        if seen["exceptions"]:
            failure = f"exception box: {seen['exceptions'][0]}"
        elif seen["errors"]:
            failure = f"error alert: {seen['errors'][0]}"
        elif errors:
            failure = f"page error: {errors[0][:200]}"
        elif seen["elements"] < 2:
            failure = "blank page: nothing under the title"
        elif title == "Data":
            last_day = await page.evaluate(LAST_DAY_JS)
    render = Render(session, role, label or title or "?", started, seconds, failure, last_day)
    if failure:  # what the session saw, for the reader of the report
        run.shots.mkdir(exist_ok=True)
        with contextlib.suppress(Exception):
            await page.screenshot(path=str(run.shots / f"{session}-{len(run.renders)}.png"), timeout=10_000)
    run.record(render)
    return render


async def view_as_choices(page) -> list[str]:
    """The demo switch's choices (the list is opened and closed again)."""
    await page.locator('[data-testid="stSelectbox"]').filter(has_text="View as").click()
    choices = await page.get_by_role("option").all_inner_texts()
    await page.keyboard.press("Escape")
    return [c.strip() for c in choices]


async def view_as(page, choice: str) -> None:
    await page.locator('[data-testid="stSelectbox"]').filter(has_text="View as").click()
    await page.get_by_role("option", name=choice, exact=True).click()


async def session(run: Run, browser, index: int, role: str) -> None:
    rng = random.Random(index)
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(run.args.timeout * 1000)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    async def think() -> bool:
        await asyncio.sleep(rng.uniform(run.args.think_min, run.args.think_max))
        return not run.stop.is_set()

    try:
        # Sessions join one after another: twenty first loads at once (each parses Streamlit's and Plotly's
        # JavaScript) starve two cores and would only measure the browser's start.
        if index:
            await run.joined[index - 1].wait()
        await asyncio.sleep(run.args.stagger)
        first = await timed(
            run,
            page,
            index,
            role,
            "Overview",
            lambda: page.goto(run.url, wait_until="commit"),
            errors,
            label="(first load: Overview)",
        )
        run.joined[index].set()
        if first.failure:
            return
        choices = await view_as_choices(page)
        leads = [c for c in choices if c.startswith("Team lead of")]
        lead = leads[index % len(leads)] if leads else "Admin"
        choice = {"Team lead": lead}.get(role, role)
        if role != "Admin":
            switch = await timed(
                run,
                page,
                index,
                role,
                None,
                lambda: view_as(page, choice),
                errors,
                label="(View as)",
                viewing=f"· {KIND[role]}",
            )
            if switch.failure:
                return
        titles = await page.evaluate(NAV_JS)
        while titles and await think():
            for title in titles:
                if title not in await page.evaluate(NAV_JS):
                    continue  # the navigation was read a run behind the role switch
                await timed(
                    run,
                    page,
                    index,
                    role,
                    title,
                    lambda title=title: page.get_by_role("link", name=title, exact=True).click(),
                    errors,
                )
                if not await think():
                    break
            # the navigation as drawn now (read once only, it can be a run behind a role switch)
            titles = await page.evaluate(NAV_JS)
        # A member has one page and no navigation: re-render it by switching the view to a team lead and back.
        others = [(lead, "lead"), (choice, KIND[role])]
        turn = 0
        while not titles and await think():
            other, kind = others[turn % 2]
            turn += 1
            await timed(
                run,
                page,
                index,
                role,
                "My usage",
                lambda other=other: view_as(page, other),
                errors,
                label="My usage (View as)",
                viewing=f"· {kind}",
            )
    finally:
        run.joined[index].set()
        await context.close()


async def watcher(run: Run, browser) -> None:
    """An Admin idle on the Data page: when does each ingest's last day show, with nobody clicking?"""
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(run.args.timeout * 1000)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        await page.goto(run.url, wait_until="commit")
        await wait_rendered(page, "Overview", run.args.timeout * 1000)
        await timed(
            run, page, -1, "Admin (idle)", "Data", lambda: page.get_by_role("link", name="Data", exact=True).click(), []
        )
        while not run.stop.is_set():
            shown = await page.evaluate(LAST_DAY_JS)
            now = time.time()
            mark_shown(run, shown, now)
            seen = await page.evaluate(INSPECT_JS)
            if seen["exceptions"] or seen["errors"] or errors:
                what = (seen["exceptions"] or seen["errors"] or errors)[0][:200]
                run.record(Render(-1, "Admin (idle)", "Data", now, 0.0, f"while idle: {what}"))
                errors.clear()
            await asyncio.sleep(0.5)
    finally:
        await context.close()


# -- the sessions, over Streamlit's websocket protocol (--client protocol) --------------------------------


def protocol_last_day(client) -> str | None:
    """The newest "Last day" in the first table that has one (the Data page's Sources): its column is the one
    labelled "Last day", or else a date column named like last_day; as YYYY-MM-DD."""
    import pyarrow.types as pat

    for labels, table in client.dataframes():
        names = [n for n, label in labels.items() if label == "Last day" and n in table.column_names]
        names = names or [
            f.name
            for f in table.schema
            if "last_day" in f.name.lower().replace(" ", "_") and (pat.is_temporal(f.type) or pat.is_string(f.type))
        ]
        if names:
            days = sorted(str(v)[:10] for v in table.column(names[0]).to_pylist() if v is not None)
            return days[-1] if days else None
    return None


def protocol_viewing(client, viewing: str) -> bool:
    return any(c.startswith("Viewing as") and c.endswith(viewing) for c in client.captions(SIDEBAR))


def mark_shown(run, shown, now: float) -> None:
    """Record when the idle page first showed each finished ingest's last day (`shown`, the day it shows now)."""
    for ingest in run.ingests:
        if ingest.expected_last_day and ingest.shown_idle is None and shown and shown >= ingest.expected_last_day:
            ingest.shown_idle = now


async def timed_protocol(
    run: Run, client, session: int, role: str, title: str | None, action, *, label=None, viewing=None
) -> Render:
    """`timed` for a protocol client: do `action` (a request), then check the page its final run left."""
    started = time.time()
    failure, seconds = "", 0.0
    try:
        result = await action()
        seconds = result.seconds
        if result.page_not_found:
            failure = "page not found"
        elif result.compile_error:
            failure = f"exception box: {result.compile_error[:300]}"
    except Exception as exc:  # ClientError: a timeout or a closed websocket
        seconds = time.time() - started
        failure = f"timeout or error: {str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__}"
    last_day = None
    if not failure:
        if client.main_count() < 2:  # as in the browser: blank only if it stays so
            await asyncio.sleep(BLANK_GRACE_S)
            await client.settled()
        titles = client.titles()
        if client.exceptions():
            failure = f"exception box: {client.exceptions()[0][:300]}"
        elif client.error_alerts():
            failure = f"error alert: {client.error_alerts()[0][:300]}"
        elif client.problems:
            failure = f"protocol: {client.problems[-1][:200]}"
        elif not titles or (title and title not in titles):
            failure = f"title {title or 'any'!r} not shown after the run finished (titles: {titles})"
        elif viewing and not protocol_viewing(client, viewing):
            failure = f"viewer {viewing!r} not shown (captions: {client.captions(SIDEBAR)})"
        elif client.main_count() < 2:
            failure = "blank page: nothing under the title"
        elif title == "Data":
            last_day = protocol_last_day(client)
    render = Render(session, role, label or title or "?", started, seconds, failure, last_day)
    if failure:  # what the session saw, for the reader of the report
        run.shots.mkdir(exist_ok=True)
        with contextlib.suppress(Exception):
            (run.shots / f"{session}-{len(run.renders)}.txt").write_text(f"{failure}\n\n{client.describe()}\n")
    run.record(render)
    return render


async def protocol_session(run: Run, index: int, role: str) -> None:
    """`session`, as a protocol client: the same role, clicks, pauses and records."""
    from tests.streamlit_client import StreamlitClient

    rng = random.Random(index)
    client = StreamlitClient(run.url, timeout=run.args.timeout)

    async def think() -> bool:
        await asyncio.sleep(rng.uniform(run.args.think_min, run.args.think_max))
        return not run.stop.is_set()

    def timed(title, action, **kw):
        return timed_protocol(run, client, index, role, title, action, **kw)

    try:
        if index:
            await run.joined[index - 1].wait()
        await asyncio.sleep(run.args.stagger)
        first = await timed("Overview", client.open, label="(first load: Overview)")
        run.joined[index].set()
        if first.failure:
            return
        box = client.selectbox("View as")
        choices = list(box.options) if box else []
        leads = [c for c in choices if c.startswith("Team lead of")]
        lead = leads[index % len(leads)] if leads else "Admin"
        choice = {"Team lead": lead}.get(role, role)
        if role != "Admin":
            switch = await timed(
                None, lambda: client.choose("View as", choice), label="(View as)", viewing=f"· {KIND[role]}"
            )
            if switch.failure:
                return
        titles = client.nav_titles()
        while titles and await think():
            for title in titles:
                if title not in client.nav_titles():
                    continue
                await timed(title, lambda title=title: client.open_page(title))
                if not await think():
                    break
            titles = client.nav_titles()
        others = [(lead, "lead"), (choice, KIND[role])]
        turn = 0
        while not titles and await think():
            other, kind = others[turn % 2]
            turn += 1
            await timed(
                "My usage",
                lambda other=other: client.choose("View as", other),
                label="My usage (View as)",
                viewing=f"· {kind}",
            )
    finally:
        run.joined[index].set()
        await client.close()


async def protocol_watcher(run: Run) -> None:
    """`watcher`, as a protocol client: an Admin idle on the Data page, which only its fragment's auto reruns
    (every FOLLOW_EVERY_S) bring new data to."""
    from tests.streamlit_client import StreamlitClient

    client = StreamlitClient(run.url, timeout=run.args.timeout)
    try:
        await client.open()
        await timed_protocol(run, client, -1, "Admin (idle)", "Data", lambda: client.open_page("Data"))
        reported = set()
        while not run.stop.is_set():
            shown = protocol_last_day(client)
            now = time.time()
            mark_shown(run, shown, now)
            seen = (
                client.exceptions()
                or client.error_alerts()
                or ([f"websocket {client.closed}"] if client.closed else [])
            )
            if seen and seen[0] not in reported:  # once per problem (the browser's watcher says it every 0.5 s)
                reported.add(seen[0])
                run.record(Render(-1, "Admin (idle)", "Data", now, 0.0, f"while idle: {seen[0][:200]}"))
            await asyncio.sleep(0.5)
    finally:
        await client.close()


async def ingester(run: Run, batches: list[tuple[list[Path], int]]) -> None:
    """Load the batches one after another with the real CLI, `--ingest-every` seconds apart (start to start)."""
    from analytics import snapshots

    await asyncio.gather(*(joined.wait() for joined in run.joined))
    await asyncio.sleep(run.args.warmup)
    for k, (paths, rows) in enumerate(batches, start=1):
        ingest = Ingest(batch=k, rows=rows, started=time.time())
        run.ingests.append(ingest)
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "analytics",
            "ingest",
            "--db",
            str(run.db),
            "--json",
            *map(str, paths),
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await proc.communicate()
        ingest.finished = time.time()
        ingest.exit_code = proc.returncode
        result = json.loads(out) if out.strip().startswith(b"{") else {}
        if proc.returncode != 0 or result.get("failed") or result.get("rejected"):
            ingest.error = (err.decode().strip() or json.dumps(result))[-500:]
        snapshot = snapshots.current(run.db)
        ingest.published = (snapshot.parent / snapshots.POINTER).stat().st_mtime
        ingest.expected_last_day = await asyncio.to_thread(shown_last_day, snapshot)
        if k < len(batches):
            await asyncio.sleep(max(ingest.started + run.args.ingest_every - time.time(), 0))


def session_roles(args) -> list[str]:
    """Each session's role: `--roles` in turn."""
    return [args.roles[i % len(args.roles)] for i in range(args.sessions)]


def _descendants_cpu() -> dict[int, tuple[str, float]]:
    """CPU seconds (user + system) of every process below this one, by pid: (kind, seconds)."""
    tick = os.sysconf("SC_CLK_TCK")
    stats = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        stats[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick, cmd)
    mine, grew = {os.getpid()}, True
    while grew:
        grew = False
        for pid, (ppid, _, _) in stats.items():
            if ppid in mine and pid not in mine:
                mine.add(pid)
                grew = True
    out = {}
    for pid in mine - {os.getpid()}:
        _, seconds, cmd = stats[pid]
        kind = (
            "chromium"
            if "chrom" in cmd
            else "forecast fit worker (the server's child)"
            if "fit_worker" in cmd
            else "streamlit server"
            if "streamlit" in cmd
            else ("ingest" if " ingest " in cmd else "other (playwright driver, …)")
        )
        out[pid] = (kind, seconds)
    return out


def _own_cpu() -> float:
    """CPU seconds (user + system, all threads) of this process."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def sample_load(run: Run) -> None:
    while not run.stop.is_set():
        run.load.append(os.getloadavg()[0])
        for pid, (kind, seconds) in (await asyncio.to_thread(_descendants_cpu)).items():
            run.cpu[pid] = (kind, max(seconds, run.cpu.get(pid, (kind, 0.0))[1]))
        await asyncio.sleep(2)


async def drive(run: Run, batches) -> None:
    """Start the sessions and the idle watcher of the chosen client kind, then the ingests; stop when done."""
    if run.args.client == "protocol":
        await orchestrate(run, batches, lambda i, role: protocol_session(run, i, role), lambda: protocol_watcher(run))
        return
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            await orchestrate(
                run, batches, lambda i, role: session(run, browser, i, role), lambda: watcher(run, browser)
            )
        finally:
            await browser.close()


async def orchestrate(run: Run, batches, start_session, start_watcher) -> None:
    cpu0 = _own_cpu()
    roles = session_roles(run.args)
    tasks = [asyncio.create_task(start_session(i, role)) for i, role in enumerate(roles)]
    tasks += [asyncio.create_task(start_watcher()), asyncio.create_task(sample_load(run))]
    loading = asyncio.create_task(ingester(run, batches))
    await asyncio.gather(*(joined.wait() for joined in run.joined))
    run.all_joined = time.time()
    deadline = run.all_joined + run.args.minutes * 60
    await loading
    # Keep clicking until the planned time is up and the last ingest has shown (or had 60 s to show).
    last = run.ingests[-1] if run.ingests else None
    while time.time() < deadline or (
        last and last.shown_idle is None and time.time() < last.published + run.args.freshness_limit
    ):
        await asyncio.sleep(0.5)
    run.stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    run.cpu[os.getpid()] = (CLIENT_CPU, _own_cpu() - cpu0)


# -- the report -------------------------------------------------------------------------------------------


def percentiles(values: list[float]) -> dict:
    if not values:
        return {"p50": None, "p95": None, "p99": None, "max": None}
    p50, p95, p99 = np.percentile(values, [50, 95, 99])
    return {"p50": round(p50, 2), "p95": round(p95, 2), "p99": round(p99, 2), "max": round(max(values), 2)}


def summarise(run: Run) -> dict:
    for render in run.renders:  # clicked Data pages showing data older than an ingest published a while before
        if render.last_day is None or render.session < 0:
            continue
        for ingest in run.ingests:
            late = render.started - ingest.published
            if ingest.expected_last_day and late > STALE_GRACE_S and render.last_day < ingest.expected_last_day:
                ingest.stale_clicks.append(round(late, 1))
    timed_renders = [r for r in run.renders if r.seconds > 0 or not r.failure]
    pages = {}
    for title in dict.fromkeys(r.page for r in timed_renders):
        mine = [r for r in timed_renders if r.page == title]
        ok = [r.seconds for r in mine if not r.failure]
        pages[title] = {"renders": len(mine), "failed": sum(bool(r.failure) for r in mine), **percentiles(ok)}
    ok = [r.seconds for r in timed_renders if not r.failure]
    failures = [asdict(r) for r in run.renders if r.failure]
    ingests = []
    for i in run.ingests:
        ingests.append(
            {
                "batch": i.batch,
                "rows": i.rows,
                "ingest_s": round(i.finished - i.started, 1),
                "published_at_s": round(i.published - run.t0, 1),
                "last_day": i.expected_last_day,
                "shown_idle_after_s": round(i.shown_idle - i.published, 1) if i.shown_idle else None,
                "stale_clicks": len(i.stale_clicks),
                "exit_code": i.exit_code,
                "error": i.error,
            }
        )
    not_shown = [i["batch"] for i in ingests if i["shown_idle_after_s"] is None]
    return {
        "client": run.args.client,
        "sessions": run.args.sessions,
        "roles": {role: session_roles(run.args).count(role) for role in ROLES},
        "seconds": round(time.time() - run.t0),
        "joined_after_s": round(run.all_joined - run.t0) if run.all_joined else None,
        "renders": len(timed_renders),
        "failed": len(failures),
        "overall": percentiles(ok),
        "pages": pages,
        "ingests": ingests,
        "ingests_not_shown": not_shown,
        "ingests_failed": [i["batch"] for i in ingests if i["exit_code"] != 0 or i["error"]],
        "load_avg_1min_max": round(max(run.load), 2) if run.load else None,
        "load_avg_1min_mean": round(sum(run.load) / len(run.load), 2) if run.load else None,
        "cpu_seconds": {
            kind: round(sum(sec for k, sec in run.cpu.values() if k == kind))
            for kind in sorted({k for k, _ in run.cpu.values()})
        },
        "failures": failures[:50],
        "cpus": os.cpu_count(),
    }


def print_table(summary: dict) -> None:
    def fmt(v):
        return "-" if v is None else f"{v:.2f}"

    roles = ", ".join(f"{n} {r}" for r, n in summary["roles"].items() if n)
    print(
        f"{summary['sessions']} {summary['client']} sessions ({roles}) "
        f"+ 1 idle on Data, {summary['seconds']} s (all joined after {summary['joined_after_s']} s), "
        f"{len(summary['ingests'])} ingests; "
        f"load average (1 min) mean {summary['load_avg_1min_mean']}, max {summary['load_avg_1min_max']} "
        f"on {summary['cpus']} CPUs"
    )
    print("CPU seconds used: " + ", ".join(f"{kind} {sec}" for kind, sec in summary["cpu_seconds"].items()))
    print()
    print(f"{'page':<22}{'renders':>8}{'failed':>8}{'p50 s':>8}{'p95 s':>8}{'p99 s':>8}{'max s':>8}")
    rows = [*summary["pages"].items(), ("all", {**summary["overall"], "renders": summary["renders"]})]
    for title, s in rows:
        failed = summary["failed"] if title == "all" else s["failed"]
        print(
            f"{title:<22}{s['renders']:>8}{failed:>8}{fmt(s['p50']):>8}{fmt(s['p95']):>8}{fmt(s['p99']):>8}"
            f"{fmt(s['max']):>8}"
        )
    print()
    print(
        f"{'ingest':<8}{'rows':>8}{'took s':>8}{'published':>11}{'last day':>12}{'shown idle after s':>20}{'stale':>7}"
    )
    for i in summary["ingests"]:
        shown = "never" if i["shown_idle_after_s"] is None else f"{i['shown_idle_after_s']:.1f}"
        print(
            f"{i['batch']:<8}{i['rows']:>8}{i['ingest_s']:>8.1f}{i['published_at_s']:>10.1f}s{i['last_day']:>12}"
            f"{shown:>20}{i['stale_clicks']:>7}"
        )
        if i["error"]:
            print(f"  ingest error: {i['error']}")
    for f in summary["failures"]:
        print(f"FAILED {f['role']} #{f['session']} {f['page']} after {f['seconds']:.1f} s: {f['failure']}")
    ok = not summary["failed"] and not summary["ingests_not_shown"] and not summary["ingests_failed"]
    print("\nOK: no failed render, every ingest's data shown" if ok else "\nNOT OK")


def run_load(args, workdir: Path) -> dict:
    """Build or copy the database, prepare the batches, serve it, drive the sessions and the ingests: the summary."""
    return summarise(run_sessions(args, workdir))


def run_sessions(args, workdir: Path) -> Run:
    """`run_load` without the summary: the run with every render and ingest it recorded."""
    if args.db:
        db = workdir / "usage.duckdb"
        shutil.copyfile(args.db, db)  # the load test writes; the given database is never changed
    else:
        db = build_database(workdir, users=args.users, days=args.days, ingests=args.ingests)
    batch_folder = workdir / "batches"
    batch_folder.mkdir(exist_ok=True)
    batches = prepare_batches(db, batch_folder, args.ingests)
    with streamlit_server(db, env={"GOODHART_AUTH_HEADER": ""}) as url:
        run = Run(args, url, db, workdir)
        asyncio.run(drive(run, batches))
    return run


def _roles(text: str) -> list[str]:
    roles = [r.strip() for r in text.split(",") if r.strip()]
    unknown = sorted(set(roles) - set(ROLES))
    if unknown or not roles:
        raise argparse.ArgumentTypeError(f"roles are {', '.join(ROLES)}; not {', '.join(unknown) or 'none'}")
    return roles


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db", type=Path, default=None, help="start from a copy of this database (default: a new demo)")
    p.add_argument("--users", type=int, default=2000, help="people in the demo built when --db is not given")
    p.add_argument("--days", type=int, default=120, help="days of history in that demo")
    p.add_argument(
        "--client",
        choices=("protocol", "browser"),
        default="protocol",
        help="protocol: Streamlit's websocket protocol, no browser (default); browser: Chromium through Playwright",
    )
    p.add_argument("--sessions", type=int, default=20, help="concurrent clicking sessions (plus one idle)")
    p.add_argument(
        "--roles",
        type=_roles,
        default=list(ROLES),
        help=f"the sessions' roles in turn, comma-separated (default: {','.join(ROLES)})",
    )
    p.add_argument("--ingests", type=int, default=3, help="batches loaded while the sessions click")
    p.add_argument("--ingest-every", type=float, default=25.0, help="seconds from one ingest's start to the next")
    p.add_argument(
        "--warmup", type=float, default=20.0, help="seconds from the last session joining to the first ingest"
    )
    p.add_argument(
        "--minutes", type=float, default=3.0, help="how long all sessions click together, at least (after joining)"
    )
    p.add_argument("--think-min", type=float, default=5.0, help="shortest pause between a session's clicks, s")
    p.add_argument("--think-max", type=float, default=15.0, help="longest pause between a session's clicks, s")
    p.add_argument(
        "--stagger", type=float, default=1.0, help="seconds from one session's first load finishing to the next's"
    )
    p.add_argument("--timeout", type=float, default=90.0, help="a render slower than this many seconds fails")
    p.add_argument("--freshness-limit", type=float, default=60.0, help="wait this long for the last ingest to show")
    p.add_argument("--workdir", type=Path, default=None, help="keep the database, batches and server log here")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object instead of the table")
    p.add_argument("--verbose", action="store_true", help="say each failed render as it happens")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
        summary = run_load(args, args.workdir.resolve())
    else:
        with tempfile.TemporaryDirectory(prefix="goodhart-load-") as folder:
            summary = run_load(args, Path(folder))
    if args.json:
        print(json.dumps(summary, indent=2, default=str))
    else:
        print_table(summary)
    return 1 if summary["failed"] or summary["ingests_not_shown"] or summary["ingests_failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
