"""Fits demand forecasts for the app's server in a process of its own, at a lower CPU priority.

The server runs every session's script in threads of one Python process, so a fit there holds the GIL that
all pages share (about 5 s at 100 M events). Here it runs beside them. The server starts this module with
`python -m pages._shared.fit_worker` and talks to it over stdin/stdout: each request and answer is a pickle
preceded by its length (8 bytes, big-endian). A request is `(history, horizon)`; the answer is `("ok",
Forecast)`, `("too_little", reason)` or `("error", text)`. The worker ends when its stdin closes, which
happens when the server does.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import struct
import sys
from typing import BinaryIO

NICENESS = 10  # below the server's pages: a fit uses the spare core, never a page's

HEADER = struct.Struct(">Q")


def read_message(stream: BinaryIO):
    """The next framed pickle from `stream`; EOFError when it has closed."""
    head = _read_exactly(stream, HEADER.size)
    return pickle.loads(_read_exactly(stream, HEADER.unpack(head)[0]))


def write_message(stream: BinaryIO, value) -> None:
    payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(HEADER.pack(len(payload)) + payload)
    stream.flush()


def _read_exactly(stream: BinaryIO, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = stream.read(left)
        if not chunk:
            raise EOFError("the stream closed")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def answer(history, horizon: int) -> tuple[str, object]:
    from analytics import forecast

    try:
        return "ok", forecast.forecast(history, horizon=horizon)
    except forecast.TooLittleHistory as exc:
        return "too_little", str(exc)
    except Exception as exc:  # the server shows no traceback; it fits in its own process instead
        return "error", f"{type(exc).__name__}: {exc}"


def main() -> None:
    requests, answers = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a library's print must not corrupt the answers
    with contextlib.suppress(OSError):
        os.nice(NICENESS)
    import analytics.forecast  # noqa: F401  (imported before the first request, which then waits for the fit only)

    while True:
        try:
            history, horizon = read_message(requests)
        except EOFError:
            return
        try:
            write_message(answers, answer(history, horizon))
        except BrokenPipeError:
            return


if __name__ == "__main__":
    main()
