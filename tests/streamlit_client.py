"""A Streamlit client without a browser: it speaks the app's own websocket protocol, as Streamlit's frontend does.

    client = StreamlitClient("http://127.0.0.1:8501")
    await client.open()                      # connect and run the app's first page, as loading "/" does
    client.titles(), client.nav_titles()     # what the page shows: its h1 titles, the sidebar's navigation
    await client.choose("View as", "Member") # pick an option of a selectbox: the app reruns
    await client.open_page("My usage")       # click a page in the navigation
    await client.close()

One websocket (`/_stcore/stream`, subprotocol "streamlit", binary frames): the client sends `BackMsg`s and reads
`ForwardMsg`s (streamlit.proto). A request is a `rerun_script` carrying the session's page, every widget's
value and the hashes of the large messages it has cached; it is answered by one or more script runs (each a
`new_session`, deltas, and a `script_finished`), the last of which finishes with a final status (a run that
`st.switch_page` or `st.rerun` stops is followed by another). What the page shows is kept as the frontend keeps
it: elements by delta path, those a finished run did not send again removed.

Like the frontend it also
- sends every widget's value with each rerun: the ones it chose, the others as the server last drew them
  (selectbox, radio, multiselect, date input, checkbox/toggle, text input and area; widgets in forms, buttons,
  uploads and chart or table selections are left out, as they hold no value until someone uses them);
  moving to another page carries only the widgets that the main script (not the page) drew;
- reruns `run_every` fragments on its own: the server's `auto_rerun` arms a timer per fragment (a full run
  clears them first, `stop_auto_rerun` stops one), and each tick sends the fragment's rerun, flagged as an
  auto rerun, unless a run this client asked for is still going;
- caches messages the server marks cacheable and reports their hashes, so the server sends a reference for a
  large element the client already holds;
- sends a click only once the session's fragment auto rerun, if one is going, has finished with the runs it led
  to: the server's messages name no request, so a run the auto rerun started (the follow fragment's app rerun)
  that reaches the client after the click went out would otherwise be taken for the click's, and end it on the
  previous page or role. The wait counts in the click's time.

It does not run any JavaScript: nothing is laid out or drawn (no Plotly figure, no data grid), no static
file (HTML, JavaScript, fonts, icons) is fetched, charts' and tables' data arrive but are only decoded when
asked for (`dataframes()`), nothing is uploaded or downloaded, and it sends no XSRF token or cookie (the app's
demo mode needs none; signing in would).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field

from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.proto.Element_pb2 import Element
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.Markdown_pb2 import Markdown
from streamlit.proto.Navigation_pb2 import Navigation
from streamlit.proto.RootContainer_pb2 import RootContainer
from streamlit.proto.WidgetStates_pb2 import WidgetState, WidgetStates

MAIN, SIDEBAR = RootContainer.MAIN, RootContainer.SIDEBAR  # delta_path[0]: 0 the main area, 1 the sidebar
FINISHED = ForwardMsg.FINISHED_SUCCESSFULLY
COMPILE_ERROR = ForwardMsg.FINISHED_WITH_COMPILE_ERROR
FOR_RERUN = ForwardMsg.FINISHED_EARLY_FOR_RERUN  # never final: another run follows
FRAGMENT_FINISHED = ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY
AUTO_ACK_S = 10.0  # an auto rerun the server never starts (its fragment went away) is given up after this
CACHE_RUNS = 4  # report cached messages used within this many full runs (older ones are dropped a bit later)
TRACE_LINES = 60  # the protocol's last events kept for a failure report (requests sent, runs started and finished)


class ClientError(Exception):
    """The server did not answer a request as the protocol says (timeout, closed websocket)."""


@dataclass
class Shown:
    """One element on the page."""

    element: Element
    root: int  # MAIN, SIDEBAR, ...
    script_hash: str  # the script that drew it: the main script or a page's
    fragment_id: str  # the fragment that drew it, if any
    decoded: object = None  # a dataframe's data, once decoded


@dataclass
class RunResult:
    """How the server answered one request."""

    seconds: float  # from sending the rerun until the final script_finished
    status: int  # the final ScriptFinishedStatus
    runs: int  # script runs it took (a run stopped by st.switch_page or st.rerun is followed by another)
    page_not_found: bool = False
    compile_error: str = ""


@dataclass
class _Pending:
    fragment_id: str  # "" for a full rerun
    auto: bool
    done: asyncio.Future
    sent: float
    sent_wall: float = field(default_factory=time.time)
    acked: asyncio.Event = field(default_factory=asyncio.Event)  # a run for this request has started
    run_id: str = ""
    runs: int = 0
    page_not_found: bool = False
    compile_error: str = ""


def _unescape(text: str) -> str:
    """Markdown the app made inert (pages/_shared/text.py) read as the browser shows it."""
    return re.sub(r"\\(.)", r"\1", text)


def widget_value(element: Element) -> WidgetState | None:
    """The value the frontend holds for a widget the server drew: the one it set, or the default."""
    kind = element.WhichOneof("type")
    w = getattr(element, kind) if kind else None
    if w is None or not getattr(w, "id", "") or getattr(w, "form_id", ""):
        return None  # not a widget, or one in a form (its values are sent with the form's submit only)
    state = WidgetState(id=w.id)
    if kind in ("selectbox", "radio"):
        if w.set_value:
            if not w.HasField("raw_value"):
                return None
            state.string_value = w.raw_value
        elif w.HasField("default") and w.default < len(w.options):
            state.string_value = w.options[w.default]
        else:
            return None
    elif kind == "multiselect":
        values = list(w.raw_values) if w.set_value else [w.options[i] for i in w.default if i < len(w.options)]
        state.string_array_value.data[:] = values
    elif kind == "date_input":
        state.string_array_value.data[:] = list(w.value if w.set_value else w.default)
    elif kind == "checkbox":  # st.checkbox and st.toggle
        state.bool_value = w.value if w.set_value else w.default
    elif kind in ("text_input", "text_area"):
        if w.set_value and w.HasField("value"):
            state.string_value = w.value
        elif not w.set_value and w.HasField("default"):
            state.string_value = w.default
        else:
            return None
    else:
        return None  # buttons (triggers), uploads, selections: no value until someone uses them
    return state


class StreamlitClient:
    """One session of a Streamlit app over its websocket protocol (see the module's docstring)."""

    def __init__(self, url: str, *, timeout: float = 90.0):
        self.url = url.rstrip("/")
        self.ws_url = re.sub(r"^http", "ws", self.url) + "/_stcore/stream"
        self.timeout = timeout
        self.elements: dict[tuple[int, ...], Shown] = {}
        self.navigation: Navigation | None = None
        self.page_hash = ""
        self.main_hash = ""
        self.closed = ""  # why the websocket closed, once it has
        self.running = False  # a script run of this session is going, as far as the client knows
        self.auto_reruns = 0  # fragment auto reruns sent
        self.cache_refs = 0  # messages the server sent as a reference to one this client cached
        self.problems: list[str] = []  # anything the protocol should not do (a reference to an unknown hash)
        self._ws = None
        self._reader: asyncio.Task | None = None
        self._pending: _Pending | None = None
        self._touched: set[tuple[int, ...]] = set()  # delta paths the current run drew
        self._run_fragments: tuple[str, ...] = ()
        self._chosen: dict[str, WidgetState] = {}  # widget values this client picked, by widget id
        self._timers: dict[str, tuple[float, asyncio.Task]] = {}  # fragment id -> (interval, ticking task)
        self._cache: dict[str, list] = {}  # message hash -> [ForwardMsg, full run it was last used in]
        self._full_runs = 0
        self.session_id = ""  # the server's id for this session (new_session's initialize)
        self.trace: deque[str] = deque(maxlen=TRACE_LINES)
        self._autos: set[asyncio.Task] = set()  # fragment auto reruns in flight

    # -- connecting --------------------------------------------------------------------------------------

    async def connect(self) -> None:
        from websockets.asyncio.client import connect

        # No Origin header (Streamlit accepts a websocket without one); no pings of our own, as browsers send
        # none: a server busy for a while must not lose the connection to a ping timeout the browser lacks.
        self._ws = await connect(
            self.ws_url,
            subprotocols=["streamlit"],
            max_size=None,
            ping_interval=None,
            open_timeout=self.timeout,
        )
        self._reader = asyncio.create_task(self._read())

    async def open(self) -> RunResult:
        """Connect and ask for the app's first run, as loading its root address does (page hash and name empty:
        the app's default page)."""
        clock = time.perf_counter()
        await self.connect()
        result = await self._request(page_hash="", widgets=[])
        result.seconds = time.perf_counter() - clock  # the handshake is part of a first load
        return result

    async def close(self) -> None:
        """Stop the fragment timers and their reruns in flight, close the websocket and wait for all of it."""
        tasks = [task for _, task in self._timers.values()] + list(self._autos)
        self._timers.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)  # each ends cancelled: nothing left unretrieved
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.close()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)  # ends once the websocket has closed

    # -- what a person does ------------------------------------------------------------------------------

    async def open_page(self, title: str) -> RunResult:
        """Click `title` in the navigation. Only the main script's widgets go along, as the frontend does."""
        pages = [p for p in self.visible_pages() if p.page_name == title]
        if not pages:
            raise ClientError(f"no page {title!r} in the navigation ({', '.join(self.nav_titles()) or 'none'})")
        widgets = self._widget_states(lambda shown: shown.script_hash == self.main_hash)
        return await self._request(page_hash=pages[0].page_script_hash, widgets=widgets)

    async def choose(self, label: str, option: str) -> RunResult:
        """Pick `option` in the selectbox labelled `label`; the current page reruns."""
        box = self.selectbox(label)
        if box is None:
            raise ClientError(f"no selectbox {label!r} on the page")
        if option not in box.options:
            raise ClientError(f"{option!r} is not one of {label!r}'s options {list(box.options)}")
        self._chosen[box.id] = WidgetState(id=box.id, string_value=option)
        return await self.rerun()

    async def rerun(self) -> RunResult:
        """Rerun the current page with the widgets' values (what a widget change does)."""
        return await self._request(page_hash=self.page_hash, widgets=self._widget_states(lambda shown: True))

    async def settled(self, timeout: float | None = None) -> None:
        """Until no run of this session is going (an auto rerun's included)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while (self.running or self._pending) and not self.closed and time.monotonic() < deadline:
            await asyncio.sleep(0.05)

    # -- what the page shows -----------------------------------------------------------------------------

    def shown(self, root: int | None = None) -> Iterator[Shown]:
        """The elements on the page in their order, in one root container (MAIN, SIDEBAR) or all."""
        for path in sorted(self.elements):
            shown = self.elements[path]
            if root is None or shown.root == root:
                yield shown

    def of_kind(self, kind: str, root: int | None = None) -> list:
        return [getattr(s.element, kind) for s in self.shown(root) if s.element.WhichOneof("type") == kind]

    def titles(self) -> list[str]:
        """The main area's h1 headings (st.title)."""
        return [_unescape(h.body).strip() for h in self.of_kind("heading", MAIN) if h.tag == "h1"]

    def main_count(self) -> int:
        """Elements in the main area (placeholders left empty not counted)."""
        return sum(s.element.WhichOneof("type") != "empty" for s in self.shown(MAIN))

    def exceptions(self) -> list[str]:
        return [f"{e.type}: {e.message}".strip(": ") for e in self.of_kind("exception")]

    def error_alerts(self) -> list[str]:
        return [_unescape(a.body) for a in self.of_kind("alert") if a.format == Alert.ERROR]

    def captions(self, root: int | None = None) -> list[str]:
        return [_unescape(m.body).strip() for m in self.of_kind("markdown", root) if m.element_type == Markdown.CAPTION]

    def selectbox(self, label: str):
        boxes = [b for b in self.of_kind("selectbox") if b.label == label]
        return boxes[0] if boxes else None

    def visible_pages(self) -> list:
        if self.navigation is None:
            return []
        return [p for p in self.navigation.app_pages if not p.is_hidden]

    def nav_titles(self) -> list[str]:
        """The pages the sidebar's navigation lists: none when the app hides it or offers only one page."""
        pages = self.visible_pages()
        if self.navigation is None or self.navigation.position == Navigation.HIDDEN or len(pages) < 2:
            return []
        return [p.page_name for p in pages]

    def current_page(self) -> str:
        pages = [
            p for p in (self.navigation.app_pages if self.navigation else []) if p.page_script_hash == self.page_hash
        ]
        return pages[0].page_name if pages else ""

    def dataframes(self, root: int | None = MAIN) -> list[tuple[dict[str, str], object]]:
        """Each st.dataframe's data, decoded: (column name -> shown label, pyarrow Table)."""
        import pyarrow as pa

        out = []
        for shown in self.shown(root):
            if shown.element.WhichOneof("type") != "dataframe":
                continue
            if shown.decoded is None:
                frame = shown.element.dataframe
                data = frame.arrow_data.data if frame.HasField("arrow_data") else b""
                if not data and frame.HasField("lazy_data"):
                    data = frame.lazy_data.initial_chunk.data  # large tables arrive in chunks: the first only
                table = pa.ipc.open_stream(data).read_all() if data else pa.table({})
                labels = {}
                with contextlib.suppress(ValueError, AttributeError):
                    for name, config in (json.loads(frame.columns) if frame.columns else {}).items():
                        if isinstance(config, dict) and config.get("label"):
                            labels[name] = config["label"]
                shown.decoded = (labels, table)
            out.append(shown.decoded)
        return out

    def describe(self) -> str:
        """The page as text, for a failure report."""
        lines = [f"page {self.current_page()!r} ({self.page_hash}), closed: {self.closed or 'no'}"]
        for path, shown in sorted(self.elements.items()):
            el = shown.element
            kind = el.WhichOneof("type")
            text = ""
            if kind in ("heading", "markdown", "alert"):
                text = getattr(el, kind).body[:120]
            elif kind == "exception":
                text = f"{el.exception.type}: {el.exception.message[:200]}"
            elif kind in ("selectbox", "date_input", "text_input", "radio", "multiselect", "checkbox"):
                text = getattr(el, kind).label
            lines.append(f"{list(path)} {kind} {text}".rstrip())
        lines += [f"problem: {p}" for p in self.problems]
        lines += [f"session {self.session_id}, the protocol's last events:", *self.trace]
        return "\n".join(lines)

    # -- the protocol ------------------------------------------------------------------------------------

    def _widget_states(self, keep) -> list[WidgetState]:
        states = []
        for shown in self.shown():
            if not keep(shown):
                continue
            value = widget_value(shown.element)
            if value is None:
                continue
            states.append(self._chosen.get(value.id, value))
        return states

    def _cached_hashes(self) -> list[str]:
        for digest in [h for h, (_, used) in self._cache.items() if used < self._full_runs - CACHE_RUNS - 2]:
            del self._cache[digest]  # long unused: gone (a little later than reported, for references in flight)
        return [h for h, (_, used) in self._cache.items() if used >= self._full_runs - CACHE_RUNS]

    async def _send(self, page_hash: str, widgets: list[WidgetState], fragment_id: str = "", auto: bool = False):
        page = next((p for p in self.visible_pages() if p.page_script_hash == page_hash), None)
        state = ClientState(
            query_string="",
            page_script_hash=page_hash,
            page_name="",
            fragment_id=fragment_id,
            is_auto_rerun=auto,
            widget_states=WidgetStates(widgets=widgets),
            cached_message_hashes=self._cached_hashes(),
        )
        info = state.context_info
        info.timezone, info.timezone_offset, info.locale = "UTC", 0, "en-US"
        info.url = f"{self.url}/{page.url_pathname if page else ''}"
        info.is_embedded, info.color_scheme = False, "light"
        chosen = ",".join(w.string_value for w in widgets if w.id in self._chosen and w.HasField("string_value"))
        self._note(
            f"sent rerun page {page_hash[:8] or '-'} ({page.page_name if page else 'default'})"
            + (f" fragment {fragment_id[:8]}" if fragment_id else "")
            + (" auto" if auto else "")
            + (f" chosen {chosen}" if chosen else "")
        )
        await self._ws.send(BackMsg(rerun_script=state).SerializeToString())

    def _note(self, text: str) -> None:
        self.trace.append(f"{time.time():.3f} {text}")

    async def _request(
        self, *, page_hash: str, widgets: list[WidgetState], fragment_id: str = "", auto: bool = False
    ) -> RunResult:
        if self.closed:
            raise ClientError(f"websocket closed: {self.closed}")
        sent = time.perf_counter()
        if not auto:
            # Let an auto rerun in flight and the runs it starts finish first (see the module's docstring); a
            # person's click is timed from now all the same.
            deadline = time.monotonic() + AUTO_ACK_S
            while (
                (self._pending is not None and not self._pending.done.done() and self._pending.auto)
                and not self.closed
                and time.monotonic() < deadline
            ):
                await asyncio.sleep(0.01)
            while self.running and self._pending is None and not self.closed and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
        if self._pending is not None and not self._pending.done.done():
            if not self._pending.auto:
                raise ClientError("a request is already in flight")
            # an auto rerun that did not end in time: the click's run replaces it, as in the frontend
            self._pending.done.set_exception(ClientError("superseded"))
            self._pending.done.exception()  # retrieved: nobody may be waiting for it
        pending = _Pending(fragment_id, auto, asyncio.get_running_loop().create_future(), sent)
        self._pending = pending
        from websockets.exceptions import ConnectionClosed

        try:
            try:
                await self._send(page_hash, widgets, fragment_id, auto)
            except ConnectionClosed as exc:
                raise ClientError(f"websocket closed: {exc}") from None
            if auto:
                await asyncio.wait_for(pending.acked.wait(), AUTO_ACK_S)
            status = await asyncio.wait_for(asyncio.shield(pending.done), self.timeout)
        except TimeoutError:
            raise ClientError(
                f"no final script_finished within {self.timeout:.0f} s ({pending.runs} runs started)"
            ) from None
        finally:
            if self._pending is pending:
                self._pending = None
            if not pending.done.done():
                pending.done.cancel()  # nobody waits for it any more (timed out, or this task was cancelled)
        return RunResult(
            time.perf_counter() - pending.sent, status, pending.runs, pending.page_not_found, pending.compile_error
        )

    async def _read(self) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            async for frame in self._ws:
                if isinstance(frame, str):
                    self.problems.append("a text frame (the protocol has binary frames only)")
                    continue
                msg = ForwardMsg()
                msg.ParseFromString(frame)
                self._handle(msg)
            self.closed = "closed by the server"
        except ConnectionClosed as exc:
            self.closed = f"closed: {exc}"
        except Exception as exc:  # a bug here must show as a failure, not as a silent hang
            self.closed = f"client error: {exc!r}"
            self.problems.append(self.closed)
        finally:
            self.closed = self.closed or "closed"
            self.running = False
            for _, task in self._timers.values():
                task.cancel()
            self._timers.clear()
            pending = self._pending
            if pending is not None and not pending.done.done():
                pending.done.set_exception(ClientError(f"websocket {self.closed}"))

    def _handle(self, msg: ForwardMsg) -> None:
        kind = msg.WhichOneof("type")
        if kind == "ref_hash":
            entry = self._cache.get(msg.ref_hash)
            if entry is None:
                self.problems.append(f"a reference to message {msg.ref_hash}, which this client never cached")
                return
            entry[1] = self._full_runs
            full = ForwardMsg()
            full.CopyFrom(entry[0])
            full.metadata.CopyFrom(msg.metadata)  # the reference says where the cached element goes
            msg, kind = full, full.WhichOneof("type")
            self.cache_refs += 1
        elif msg.metadata.cacheable and msg.hash:
            self._cache[msg.hash] = [msg, self._full_runs]

        pending = self._pending if self._pending is not None and not self._pending.done.done() else None
        if kind == "new_session":
            fragments = tuple(msg.metadata.run.fragment_ids)
            if msg.new_session.HasField("initialize"):
                self.session_id = msg.new_session.initialize.session_id
            self._note(
                f"run {msg.metadata.run.script_run_id[:8]} started: page {msg.new_session.page_script_hash[:8]}"
                + (f" fragments {','.join(f[:8] for f in fragments)}" if fragments else " (full)")
                + (f", for the request sent at {pending.sent_wall:.3f}" if pending is not None else "")
            )
            self.running = True
            self._touched = set()
            self._run_fragments = fragments
            if not fragments:  # a full run: the frontend clears its auto-rerun timers (the run re-arms them)
                self._full_runs += 1
                for _, task in self._timers.values():
                    task.cancel()
                self._timers.clear()
                if msg.new_session.page_script_hash != self.page_hash:
                    self.elements.clear()  # another page: the frontend starts from an empty one
                self.page_hash = msg.new_session.page_script_hash
                self.main_hash = msg.new_session.main_script_hash
            if pending is not None and (not fragments or pending.fragment_id in fragments):
                pending.run_id = msg.metadata.run.script_run_id
                pending.runs += 1
                pending.acked.set()
        elif kind == "delta":
            path = tuple(msg.metadata.delta_path)
            self._touched.add(path)
            if msg.delta.HasField("new_element"):
                self.elements[path] = Shown(
                    msg.delta.new_element, path[0], msg.metadata.active_script_hash, msg.delta.fragment_id
                )
        elif kind == "script_finished":
            status = msg.script_finished
            self._note(
                f"run {msg.metadata.run.script_run_id[:8]} finished: {ForwardMsg.ScriptFinishedStatus.Name(status)}"
            )
            if status in (FINISHED, COMPILE_ERROR):
                if not self._run_fragments:  # what this run did not draw again is gone
                    self.elements = {p: s for p, s in self.elements.items() if p in self._touched}
            elif status == FRAGMENT_FINISHED:
                self.elements = {
                    p: s
                    for p, s in self.elements.items()
                    if p in self._touched or s.fragment_id not in self._run_fragments
                }
            self.running = status == FOR_RERUN
            final = status in (FINISHED, COMPILE_ERROR) or (
                status == FRAGMENT_FINISHED and pending and pending.fragment_id
            )
            if pending is not None and final and pending.run_id and msg.metadata.run.script_run_id == pending.run_id:
                pending.done.set_result(status)
        elif kind == "navigation":
            self.navigation = Navigation()
            self.navigation.CopyFrom(msg.navigation)
        elif kind == "page_not_found":
            if pending is not None:
                pending.page_not_found = True
        elif kind == "session_event":
            if msg.session_event.HasField("script_compilation_exception") and pending is not None:
                error = msg.session_event.script_compilation_exception
                pending.compile_error = f"{error.type}: {error.message}"
        elif kind == "session_status_changed":
            self.running = msg.session_status_changed.script_is_running
        elif kind == "auto_rerun":
            fragment_id, interval = msg.auto_rerun.fragment_id, msg.auto_rerun.interval
            if fragment_id and interval > 0 and self._timers.get(fragment_id, (None,))[0] != interval:
                if fragment_id in self._timers:
                    self._timers[fragment_id][1].cancel()
                self._timers[fragment_id] = (interval, asyncio.create_task(self._tick(fragment_id, interval)))
        elif kind == "stop_auto_rerun":
            for fragment_id in msg.stop_auto_rerun.fragment_ids:
                if fragment_id in self._timers:
                    self._timers.pop(fragment_id)[1].cancel()
        # page_config_changed, page_info_changed, logo, git_info_changed, ...: nothing a load test reads

    async def _tick(self, fragment_id: str, interval: float) -> None:
        """A `run_every` fragment's timer: rerun it every `interval` seconds while no requested run is going."""
        while True:
            await asyncio.sleep(interval)
            if self.closed:
                return
            if self._pending is not None or self.running:
                continue
            self.auto_reruns += 1
            task = asyncio.create_task(self._auto(fragment_id))
            self._autos.add(task)
            task.add_done_callback(self._autos.discard)

    async def _auto(self, fragment_id: str) -> None:
        with contextlib.suppress(ClientError):
            widgets = self._widget_states(lambda shown: True)
            await self._request(page_hash=self.page_hash, widgets=widgets, fragment_id=fragment_id, auto=True)
