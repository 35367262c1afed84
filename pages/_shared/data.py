"""Opens the warehouse for the app (building the demo when there is none) and caches page queries."""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import NoReturn

import pandas as pd
import streamlit as st

from analytics import forecast, snapshots
from analytics.access import Scope
from analytics.queries import Warehouse
from analytics.warehouse import WarehouseError, connect_read_only, default_db_path
from pages._shared import fit_worker


def _env_int(name: str, default: int) -> int:
    try:
        return max(int(os.environ.get(name, default)), 1)
    except ValueError:
        return default


def demo_size() -> tuple[int, int]:
    """People and days of the demo the app builds when it finds no database (smaller suits tests)."""
    return _env_int("GOODHART_DEMO_USERS", 2000), _env_int("GOODHART_DEMO_DAYS", 180)


def db_path() -> Path:
    return default_db_path()


BUILT_NOTE = "goodhart.built_note"
_BUILD_LOCK = threading.Lock()  # one demo build per server, however many sessions arrive at once


def ensure_database(path: Path) -> None:
    """Build the demo at `path` when no database exists there, with a progress bar.

    The app only ever writes a database it creates itself; an existing file is opened read-only.
    """
    if path.exists():
        return
    from analytics.cli import build_demo

    users, days = demo_size()
    note = st.info(
        f"No database at `{path}` yet, so Goodhart is building its demo organisation "
        f"({users:,} people, {days} days of made-up usage). This takes under a minute, once."
    )
    bar = st.progress(0.0, text="Generating the demo organisation…")
    with _BUILD_LOCK:
        if not path.exists():  # else another session built it while this one waited
            built = build_demo(
                path,
                users=users,
                days=days,
                seed=0,
                end=datetime.now(UTC).date() - timedelta(days=1),
                progress=lambda fraction, message: bar.progress(min(max(fraction, 0.0), 1.0), text=message),
            )
            message = (
                f"Built the demo organisation in {built['seconds']:.0f} s: {built['people']:,} made-up people, "
                f"{built['events']:,} usage events. It is demo data, not your company's."
            )
            note.success(message)
            # the router moves on to the viewer's first page at once: say it again there
            st.session_state[BUILT_NOTE] = message
    bar.empty()


@st.cache_resource(max_entries=4, show_spinner=False)
def _open(path: str, mtime_ns: int) -> Warehouse:
    # A snapshot's name is its version (mtime_ns 0); a database served itself is keyed by its modification
    # time, so a rebuilt one is opened afresh. Old versions fall out of the cache and close once no session
    # still holds them.
    return Warehouse(connect_read_only(path))


POINTER_CHECK_S = 2.0  # how often a server re-reads the snapshot pointer: new data shows within seconds
_pointer_lock = threading.Lock()
_pointer_seen: dict[str, tuple[float, Path | None]] = {}


def serving_path(path: Path) -> Path | None:
    """The published snapshot the app serves for the database at `path` (re-read at most every
    POINTER_CHECK_S seconds), or None when none was ever published: then the database itself is served
    read-only, as before snapshots, until its next write publishes one."""
    now = time.monotonic()
    with _pointer_lock:
        seen = _pointer_seen.get(str(path))
        if seen is None or now - seen[0] >= POINTER_CHECK_S or (seen[1] is not None and not seen[1].exists()):
            seen = (now, snapshots.current(path))
            _pointer_seen[str(path)] = seen
        return seen[1]


def recheck_snapshot() -> None:
    """Read the pointer afresh on the next run (after this server published, so its own load shows at once)."""
    with _pointer_lock:
        _pointer_seen.clear()


def only_page(show: Callable[[], None], title: str = "Goodhart") -> NoReturn:
    """Run `show` as the app's only page and stop. Every run must reach st.navigation: a script that stops
    before it makes Streamlit list (and serve) the files in pages/ on their own."""
    st.navigation([st.Page(show, title=title, url_path="start", default=True)], position="hidden").run()
    st.stop()


SERVED = "goodhart.served"  # session state: the snapshot (or database version) this session's last run read


def warehouse() -> Warehouse:
    path = db_path()
    try:
        snapshot = serving_path(path)
        if snapshot is not None:
            try:
                return _serve(path, str(snapshot), 0)
            except (WarehouseError, OSError):
                # removed between reading the pointer and opening it (three publishes in a moment): follow
                # the pointer once more
                recheck_snapshot()
                snapshot = serving_path(path)
                if snapshot is not None:
                    return _serve(path, str(snapshot), 0)
        return _serve(path, str(path), path.stat().st_mtime_ns)
    except (WarehouseError, OSError) as exc:
        message = f"Cannot open the database: {exc}"
    only_page(lambda: st.error(message))


def _serve(path: Path, target: str, mtime_ns: int) -> Warehouse:
    wh = _open(target, mtime_ns)
    served = target if not mtime_ns else ""  # a database served itself has no snapshot to follow
    with contextlib.suppress(Exception):  # outside a Streamlit run (a script, a test) there is no session
        st.session_state[SERVED] = served
    _start_fits(str(path), f"{target}@{mtime_ns}", wh)
    return wh


FOLLOW_EVERY_S = 10.0  # how often an idle page checks for a newer snapshot (new data shows within 12 s)


def follow_snapshots() -> None:
    """Rerun this viewer's page when a newer snapshot is published, so arriving data shows without a click.

    Call it once per run, after `warehouse()`: a small fragment re-checks the pointer every FOLLOW_EVERY_S
    seconds and reruns the app only when it names another snapshot than the one this run served (the one
    `warehouse()` opened, not the pointer read again, which may have moved on in between).
    """
    path = db_path()
    served = st.session_state.get(SERVED)
    if served is None:
        now = serving_path(path)
        served = str(now) if now else ""
    st.session_state.pop(AWAITED_FIT, None)  # the page sets it again while it still shows an older forecast
    _watch(str(path), served)


AWAITED_FIT = "goodhart.awaited_fit"  # session state: the forecast fit the page is waiting for, if any


@st.fragment(run_every=FOLLOW_EVERY_S)
def _watch(path: str, served: str) -> None:
    now = serving_path(Path(path))
    awaited = st.session_state.get(AWAITED_FIT)
    if (str(now) if now else "") != served or (awaited is not None and awaited.done()):
        st.rerun(scope="app")


def warehouse_key(wh: Warehouse) -> tuple[str, str]:
    return (str(db_path()), wh.data_version)


PAGE_HORIZON = 365  # the page fits a year once per scope; shorter horizons slice the same paths


class _FitWorker:
    """The child process that fits forecasts (pages/_shared/fit_worker.py), started on first use and again
    after it dies. Only the forecast board's one thread talks to it."""

    def __init__(self):
        self._proc: subprocess.Popen | None = None

    def fit(self, history: pd.DataFrame, horizon: int) -> forecast.Forecast | str:
        for _ in range(2):
            try:
                proc = self._start()
                fit_worker.write_message(proc.stdin, (history, horizon))
                kind, value = fit_worker.read_message(proc.stdout)
            except (OSError, EOFError, pickle.UnpicklingError):
                self.stop()  # died (killed, out of memory) or never started: once more, then in this process
                continue
            if kind == "error":
                break
            return value
        kind, value = fit_worker.answer(history, horizon)
        if kind == "error":
            raise RuntimeError(value)
        return value

    def _start(self) -> subprocess.Popen:
        if self._proc is None or self._proc.poll() is not None:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "pages._shared.fit_worker"],
                cwd=Path(__file__).resolve().parents[2],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
            )
        return self._proc

    def stop(self) -> None:
        if self._proc is not None:
            with contextlib.suppress(OSError):
                self._proc.kill()
                self._proc.wait(5)
            self._proc = None


class ForecastBoard:
    """Each scope's forecast, fitted once per demand series by one background thread (in the fit worker's
    process), for every session of this server.

    A new snapshot does not make anyone wait: until the fit on its series is done, `get` answers with the
    newest forecast already fitted for that scope (the page says which data it is from). Only a scope this
    server never fitted before waits for its first fit. Fits are keyed by the series itself, so a snapshot
    that leaves a scope's series unchanged costs nothing, and so is every viewer's: the forecast is the
    company's (callers check the viewer may see the company first).
    """

    def __init__(self, fit: Callable[[pd.DataFrame, int], forecast.Forecast | str] | None = None):
        self._worker = _FitWorker()
        self._fit = fit or self._worker.fit
        self._lock = threading.Lock()
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._fits: dict[tuple, Future] = {}  # (db, tool, org_id, series digest) -> the fit, done or to do
        self._order: dict[tuple, int] = {}  # the same keys -> when first asked for (newer series, larger)
        self._newest: dict[tuple, tuple] = {}  # (db, tool, org_id) -> key of the newest finished fit
        self._asked = 0
        self.fits_started = 0  # fits run, for tests and the load test's report

    def request(self, db: str, tool: str | None, org_id: str | None, history: pd.DataFrame) -> Future:
        """The fit of `history` for this scope: already done, running, or queued now."""
        key = (db, tool, org_id, series_digest(history))
        with self._lock:
            job = self._fits.get(key)
            if job is None:
                job = self._fits[key] = Future()
                self._asked += 1
                self._order[key] = self._asked
                self._jobs.put((key, history, job))
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(target=self._run, name="goodhart-forecasts", daemon=True)
                    self._thread.start()
            return job

    def get(
        self, db: str, tool: str | None, org_id: str | None, history: pd.DataFrame
    ) -> tuple[forecast.Forecast | str, Future | None]:
        """The newest forecast for the scope, and the fit of `history` itself when that is still running (then
        the forecast is an older series's)."""
        job = self.request(db, tool, org_id, history)
        if not job.done():
            with self._lock:
                older = self._fits.get(self._newest.get((db, tool, org_id)))
            if older is not None and older.done():
                return older.result(), job
        return job.result(), None  # the first fit of this scope on this server: wait for it

    def scopes(self, db: str) -> list[tuple[str | None, str | None]]:
        """The scopes fitted (or being fitted) for this database, the company's first."""
        with self._lock:
            seen = {(t, o) for d, t, o, _ in self._fits if d == db}
        return [(None, None), *sorted(seen - {(None, None)}, key=str)]

    def _run(self) -> None:
        while True:
            key, history, job = self._jobs.get()
            if not job.set_running_or_notify_cancel():
                continue
            self.fits_started += 1
            try:
                job.set_result(self._fit(history, PAGE_HORIZON))
            except BaseException as exc:  # said to the waiting page, which shows it as the error it is
                with self._lock:
                    self._fits.pop(key, None)  # a later view tries again (dropped before anyone hears of it)
                job.set_exception(exc)
                continue
            with self._lock:
                scope = key[:3]
                newest = self._newest.get(scope)
                if newest is None or self._order[newest] < self._order[key]:
                    self._newest[scope] = key
                    # older series of this scope are never shown again
                    for old in [k for k in self._fits if k[:3] == scope and self._order[k] < self._order[key]]:
                        if self._fits[old].done():
                            del self._fits[old], self._order[old]

    def prefetch(self, db: str, wh: Warehouse) -> None:
        """Start the fits of a newly served snapshot: the company's and every scope fitted here before."""
        try:
            rows = wh.demand_days()
            for tool, org_id in self.scopes(db):
                self.request(db, tool, org_id, forecast.daily_series(rows, tool=tool, org_id=org_id))
        except Exception:  # a database without the demand mart, one closed under it: the page says so itself
            return


def series_digest(history: pd.DataFrame) -> str:
    """A fingerprint of a demand series: its days, columns and values."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(repr(list(history.columns)).encode())
    digest.update(pd.util.hash_pandas_object(history, index=True).to_numpy().tobytes())
    return digest.hexdigest()


FORECASTS = ForecastBoard()
_prefetched: set[str] = set()  # served database versions whose fits were started


def _start_fits(db: str, version: str, wh: Warehouse) -> None:
    """Once per served version: start its forecasts in the background, so the Demand page of whoever comes next
    finds them (or the previous ones) ready."""
    with _pointer_lock:
        if version in _prefetched:
            return
        _prefetched.add(version)
    threading.Thread(target=FORECASTS.prefetch, args=(db, wh), name="goodhart-prefetch", daemon=True).start()


@st.cache_resource(max_entries=64, show_spinner=False)
def _demand_history(_wh: Warehouse, key: tuple, tool: str | None, org_id: str | None) -> pd.DataFrame:
    """A scope's daily series on this data version (`key`: database and data version)."""
    return forecast.daily_series(_wh.demand_days(), tool=tool, org_id=org_id)


@st.cache_data(ttl=600, max_entries=256, show_spinner=False)
def _query(_wh: Warehouse, key: tuple, method: str, *args):
    """One Warehouse query's result, cached by database and data version (`key`), query and arguments."""
    return getattr(_wh, method)(*args)


class Loaders:
    """What pages call: cached results keyed by database, data version, the viewer's scope and arguments.

    Person-level questions are bound to the scope in SQL; whole-company questions refuse any scope
    narrower than the company. The scope is part of every cache key, so no result crosses viewers.
    """

    def __init__(self, wh: Warehouse, scope: Scope):
        self.wh = wh
        self.scope = scope
        self.key = (*warehouse_key(wh), scope)
        self._refitting: dict[tuple, date | None] = {}

    def _get(self, method: str, *args):
        return _query(self.wh, self.key, method, *args)

    def _company(self, method: str, *args):
        self.scope.require_company(method.replace("_", " "))
        return self._get(method, *args)

    def _scoped(self, method: str, *args):
        return self._get(method, *args, self.scope)

    def weekly_adoption(self, start: date, end: date) -> pd.DataFrame:
        return self._company("weekly_adoption", start, end)

    def weekly_usage_by_tool(self, start: date, end: date) -> pd.DataFrame:
        return self._company("weekly_usage_by_tool", start, end)

    def org_comparison(self, start: date, end: date) -> pd.DataFrame:
        return self._company("org_comparison", start, end)

    def date_bounds(self) -> tuple[date, date] | None:
        return self._get("date_bounds")

    def unattributed_summary(self) -> dict:
        return self._company("unattributed_summary")

    def suspects(self) -> pd.DataFrame:
        return self._scoped("suspects")

    def suspect_cases(self) -> tuple[pd.DataFrame, dict]:
        return self._scoped("suspect_cases")

    def suspect_teams(self) -> pd.DataFrame:
        return self._scoped("suspect_teams")

    def token_split(self, start: date, end: date) -> pd.DataFrame:
        return self._company("token_split", start, end)

    def automation_lane(self, start: date, end: date) -> pd.DataFrame:
        return self._scoped("automation_lane", start, end)

    def evidence(self, user_id: str, start: date, end: date) -> dict:
        return self._scoped("evidence", user_id, start, end)

    def leaderboard_people(self, start: date, end: date, tool: str | None, subtree: str | None) -> pd.DataFrame:
        return self._scoped("leaderboard_people", start, end, tool, subtree)

    def leaderboard_totals(self, start: date, end: date, tool: str | None, subtree: str | None) -> dict:
        return self._scoped("leaderboard_totals", start, end, tool, subtree)

    def leaderboard_teams(self, start: date, end: date, tool: str | None, subtree: str | None) -> pd.DataFrame | None:
        return self._scoped("leaderboard_teams", start, end, tool, subtree)

    def leaderboard_filters(self) -> pd.DataFrame:
        return self._scoped("leaderboard_filters")

    def decoupling_weeks(self, start: date, end: date) -> pd.DataFrame:
        return self._company("decoupling_weeks", start, end)

    def my_weeks(self, start: date, end: date) -> pd.DataFrame:
        return self._scoped("my_weeks", start, end)

    def pseudonym_key(self) -> str:
        return self.wh.pseudonym_key

    def demand_days(self) -> pd.DataFrame:
        return self._company("demand_days")

    def demand_orgs(self) -> pd.DataFrame:
        return self._company("demand_orgs")

    def demand_tools(self) -> pd.DataFrame:
        return self._company("demand_tools")

    def demand_model_mix(self, tool: str | None, org_id: str | None) -> pd.DataFrame:
        return self._company("demand_model_mix", tool, org_id)

    def demand_prices(self, tool: str | None, org_id: str | None) -> dict:
        return self._company("demand_prices", tool, org_id)

    def demand_forecast(self, tool: str | None = None, org_id: str | None = None) -> forecast.Forecast | str:
        """The scope's newest forecast over PAGE_HORIZON days, or a sentence saying why there is none. Right
        after new data it can be the previous data's, while the new one is fitted: see `demand_refitting`."""
        return self._demand(tool, org_id)

    def demand_refitting(self, tool: str | None = None, org_id: str | None = None) -> date | None:
        """When the forecast `demand_forecast` last gave for this scope is an older data's, because the newest
        data's is still being fitted: the newest data's last day. Else None."""
        return self._refitting.get((tool, org_id))

    def _demand(self, tool: str | None, org_id: str | None) -> forecast.Forecast | str:
        self.scope.require_company("the demand forecast")
        key = warehouse_key(self.wh)
        history = _demand_history(self.wh, key, tool, org_id)
        fc, running = FORECASTS.get(key[0], tool, org_id, history)
        self._refitting[(tool, org_id)] = history.index[-1].date() if running and len(history) else None
        if running:
            with contextlib.suppress(Exception):  # the follow fragment reruns the page once it is done
                st.session_state[AWAITED_FIT] = running
        return fc

    # -- org explorer (bound to the scope; person-level methods refuse viewers not allowed individual views)

    def org_tree(self, start: date, end: date) -> pd.DataFrame:
        return self._scoped("org_tree", start, end)

    def org_people(self, start: date, end: date, subtree: str | None) -> pd.DataFrame:
        return self._scoped("org_people", start, end, subtree)

    def org_person_weeks(self, user_id: str, start: date, end: date) -> pd.DataFrame:
        return self._scoped("org_person_weeks", user_id, start, end)
