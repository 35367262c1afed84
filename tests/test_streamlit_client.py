"""The protocol client (tests/streamlit_client.py): the widget values it sends, and a real `streamlit run` of
the app driven through it: the first run lands on the Overview with the admin's navigation, the Data page's
Sources table decodes to the data's last day, and viewing as the member leaves My usage alone."""

from __future__ import annotations

import asyncio

import pytest
from streamlit.proto.Element_pb2 import Element

from tests.browser import streamlit_server
from tests.load_sessions import protocol_last_day, shown_last_day
from tests.streamlit_client import FINISHED, MAIN, SIDEBAR, ClientError, StreamlitClient, widget_value


def test_widget_values_are_the_drawn_default_or_the_value_the_server_set():
    box = Element()
    box.selectbox.id, box.selectbox.default = "box", 1
    box.selectbox.options[:] = ["Admin", "Member"]
    assert widget_value(box).string_value == "Member"
    box.selectbox.set_value, box.selectbox.raw_value = True, "Admin"
    assert widget_value(box).string_value == "Admin"

    dates = Element()
    dates.date_input.id = "range"
    dates.date_input.default[:] = ["2026-01-01", "2026-03-31"]
    assert list(widget_value(dates).string_array_value.data) == ["2026-01-01", "2026-03-31"]

    in_form = Element()
    in_form.text_input.id, in_form.text_input.form_id, in_form.text_input.default = "name", "form", "x"
    assert widget_value(in_form) is None  # a form's widgets go with its submit only

    button = Element()
    button.button.id = "go"
    assert widget_value(button) is None  # a trigger, not a value


@pytest.fixture(scope="module")
def app_url(demo_db, tmp_path_factory):
    audit = tmp_path_factory.mktemp("client-audit") / "audit.jsonl"  # not the one beside the shared database
    env = {"GOODHART_AUTH_HEADER": "", "GOODHART_AUDIT": str(audit), "STREAMLIT_SERVER_FILE_WATCHER_TYPE": "none"}
    with streamlit_server(demo_db, env=env) as url:
        yield url


def test_the_client_loads_the_app_clicks_a_page_and_switches_the_viewer(app_url, demo_db):
    async def scenario():
        client = StreamlitClient(app_url, timeout=60)
        try:
            first = await client.open()
            # "/" is a hidden landing page that moves on to the role's first page: two runs, the last one final
            assert (first.status, first.runs, first.page_not_found) == (FINISHED, 2, False)
            assert client.titles() == ["Overview"]
            nav = client.nav_titles()
            # the demo admin is nobody in the data, so has no My usage page
            assert nav[0] == "Overview" and {"Data", "Audit log"} <= set(nav) and "My usage" not in nav
            assert "Viewing as Demo admin · admin" in client.captions(SIDEBAR)
            assert client.main_count() > 5 and not client.exceptions() and not client.error_alerts()

            # a page change carries the main script's widgets (the sidebar's), not the page's
            sidebar = [s for s in client.shown(SIDEBAR) if s.element.WhichOneof("type") in ("selectbox", "date_input")]
            assert len(sidebar) == 2 and all(s.script_hash == client.main_hash for s in sidebar)
            assert all(s.script_hash != client.main_hash for s in client.shown(MAIN) if s.element.HasField("heading"))

            leadership = await client.choose("View as", "Leadership")
            assert leadership.status == FINISHED and client.titles() == ["Overview"]
            await client.open_page("Leaderboards")
            assert client.titles() == ["Leaderboards"]
            assert any(c.endswith("· leadership") for c in client.captions(SIDEBAR))
            await client.choose("View as", "Admin")

            data = await client.open_page("Data")
            assert data.status == FINISHED and client.titles() == ["Data"]
            assert protocol_last_day(client) == shown_last_day(demo_db)

            box = client.selectbox("View as")
            assert box is not None and "Member" in box.options
            switched = await client.choose("View as", "Member")
            # the member has no Data page: the run falls back to the landing page, which moves on to My usage
            assert switched.status == FINISHED and not switched.page_not_found
            assert client.titles() == ["My usage"]
            assert [p.page_name for p in client.visible_pages()] == ["My usage"]
            assert client.nav_titles() == []  # one page: the sidebar shows no navigation
            assert any(c.startswith("Viewing as") and c.endswith("· member") for c in client.captions(SIDEBAR))
            with pytest.raises(ClientError):
                await client.open_page("Data")
            assert not client.problems and not client.closed
        finally:
            await client.close()

    asyncio.run(scenario())


def test_a_click_during_an_auto_rerun_is_answered_by_its_own_run_not_the_app_rerun_the_fragment_started():
    """The race behind the load test's failed renders: the follow fragment's auto rerun finds a new snapshot and
    starts an app rerun of the page shown; its new_session reaches the client after a click went out, and the
    client took that run, which ends on the previous page, for the click's. The client now lets the auto rerun's
    runs end before it sends the click."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from websockets.asyncio.server import serve

    def run_msgs(run_id: str, page: str, title: str, *, fragment: str = "", status=FINISHED) -> list[ForwardMsg]:
        start = ForwardMsg()
        start.new_session.page_script_hash, start.new_session.main_script_hash = page, "main"
        start.metadata.run.script_run_id = run_id
        if fragment:
            start.metadata.run.fragment_ids.append(fragment)
            end = ForwardMsg()
            end.script_finished, end.metadata.run.script_run_id = status, run_id
            return [start, end]
        heading = ForwardMsg()
        heading.metadata.delta_path[:] = [MAIN, 0]
        heading.delta.new_element.heading.body, heading.delta.new_element.heading.tag = title, "h1"
        text = ForwardMsg()
        text.metadata.delta_path[:] = [MAIN, 1]
        text.delta.new_element.markdown.body = "something under the title"
        end = ForwardMsg()
        end.script_finished, end.metadata.run.script_run_id = status, run_id
        return [start, heading, text, end]

    received: list[str] = []

    async def server(ws):
        async for frame in ws:
            msg = BackMsg()
            msg.ParseFromString(frame)
            state = msg.rerun_script
            received.append(state.fragment_id or state.page_script_hash or "first")
            if not state.page_script_hash:
                runs = run_msgs("first", "p1", "Leaderboards")
            elif state.fragment_id:  # the follow fragment sees a new snapshot and reruns the app, on p1
                for out in run_msgs(
                    "fragment", "p1", "", fragment="follow", status=ForwardMsg.FINISHED_EARLY_FOR_RERUN
                ):
                    await ws.send(out.SerializeToString())
                await asyncio.sleep(0.3)
                runs = run_msgs("app-rerun", "p1", "Leaderboards")
            else:
                runs = run_msgs("click", state.page_script_hash, "Suspected inflation")
            for out in runs:
                await ws.send(out.SerializeToString())

    async def scenario():
        async with serve(server, "127.0.0.1", 0, subprotocols=["streamlit"]) as running:
            port = running.sockets[0].getsockname()[1]
            client = StreamlitClient(f"http://127.0.0.1:{port}", timeout=10)
            try:
                await client.open()
                auto = asyncio.create_task(client._request(page_hash="p1", widgets=[], fragment_id="follow", auto=True))
                await asyncio.sleep(0.1)  # the click comes while the app rerun runs on the server
                result = await client._request(page_hash="p2", widgets=[])
                assert (result.status, result.runs) == (FINISHED, 1)
                assert client.titles() == ["Suspected inflation"] and client.page_hash == "p2"
                assert received == ["first", "follow", "p2"]
                assert (await auto).runs == 2  # the fragment's run and the app rerun it asked for
            finally:
                await client.close()

    asyncio.run(scenario())
