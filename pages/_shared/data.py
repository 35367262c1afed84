"""Opens the warehouse for the app (building the demo when there is none) and caches page queries."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import NoReturn

import pandas as pd
import streamlit as st

from analytics import forecast, snapshots
from analytics.access import Scope
from analytics.queries import Warehouse
from analytics.warehouse import WarehouseError, connect_read_only, default_db_path


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


def warehouse() -> Warehouse:
    path = db_path()
    try:
        snapshot = serving_path(path)
        if snapshot is not None:
            try:
                return _open(str(snapshot), 0)
            except (WarehouseError, OSError):
                # removed between reading the pointer and opening it (three publishes in a moment): follow
                # the pointer once more
                recheck_snapshot()
                snapshot = serving_path(path)
                if snapshot is not None:
                    return _open(str(snapshot), 0)
        return _open(str(path), path.stat().st_mtime_ns)
    except (WarehouseError, OSError) as exc:
        message = f"Cannot open the database: {exc}"
    only_page(lambda: st.error(message))


FOLLOW_EVERY_S = 10.0  # how often an idle page checks for a newer snapshot (new data shows within 12 s)


def follow_snapshots() -> None:
    """Rerun this viewer's page when a newer snapshot is published, so arriving data shows without a click.

    Call it once per run, after `warehouse()`: a small fragment re-checks the pointer every FOLLOW_EVERY_S
    seconds and reruns the app only when it names another snapshot than the one this run served.
    """
    path = db_path()
    served = serving_path(path)
    _watch(str(path), str(served) if served else "")


@st.fragment(run_every=FOLLOW_EVERY_S)
def _watch(path: str, served: str) -> None:
    now = serving_path(Path(path))
    if (str(now) if now else "") != served:
        st.rerun(scope="app")


def warehouse_key(wh: Warehouse) -> tuple[str, str]:
    return (str(db_path()), wh.data_version)


PAGE_HORIZON = 365  # the page fits a year once per scope; shorter horizons slice the same paths


@st.cache_resource(max_entries=16, show_spinner=False)
def _forecast(_wh: Warehouse, key: tuple, tool: str | None, org_id: str | None) -> forecast.Forecast | str:
    """A scope's fitted forecast (a year of paths), or why there is none. Cached as a resource, not copied:
    nothing mutates it, and scenarios are applied to its paths on every interaction."""
    history = forecast.daily_series(_query(_wh, key, "demand_days"), tool=tool, org_id=org_id)
    try:
        return forecast.forecast(history, horizon=PAGE_HORIZON)
    except forecast.TooLittleHistory as exc:
        return str(exc)


@st.cache_data(ttl=600, max_entries=256, show_spinner=False)
def _query(_wh: Warehouse, key: tuple, method: str, *args):
    """One Warehouse query's result, cached by database and data version (`key`), query and arguments."""
    return getattr(_wh, method)(*args)


@st.cache_data(ttl=600, max_entries=64, show_spinner=False)
def _org_tree(_wh: Warehouse, key: tuple, start: date, end: date, _board: pd.DataFrame) -> pd.DataFrame:
    """The scope's org tree cells, built on the scope's board for the period (`key` holds the database, data
    version and scope, which with the period determine `_board`, so it is not hashed)."""
    return _wh.org_tree(start, end, key[-1], board=_board)


class Loaders:
    """What pages call: cached results keyed by database, data version, the viewer's scope and arguments.

    Person-level questions are bound to the scope in SQL; whole-company questions refuse any scope
    narrower than the company. The scope is part of every cache key, so no result crosses viewers.
    """

    def __init__(self, wh: Warehouse, scope: Scope):
        self.wh = wh
        self.scope = scope
        self.key = (*warehouse_key(wh), scope)

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
        """The scope's forecast over PAGE_HORIZON days, or a sentence saying why there is none."""
        self.scope.require_company("the demand forecast")
        return _forecast(self.wh, self.key, tool, org_id)

    # -- org explorer (bound to the scope; person-level methods refuse viewers not allowed individual views)

    def org_tree(self, start: date, end: date) -> pd.DataFrame:
        # on the board the Leaderboards page reads too (cached), so the board query runs once for both pages
        return _org_tree(self.wh, self.key, start, end, self.leaderboard_people(start, end, None, None))

    def org_people(self, start: date, end: date, subtree: str | None) -> pd.DataFrame:
        return self._scoped("org_people", start, end, subtree)

    def org_person_weeks(self, user_id: str, start: date, end: date) -> pd.DataFrame:
        return self._scoped("org_person_weeks", user_id, start, end)
