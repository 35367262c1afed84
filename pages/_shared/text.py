"""Data-derived text on a page: always inert, never HTML or live Markdown."""

from __future__ import annotations

import re


def md(text: object) -> str:
    """Data-derived text made inert for Markdown (names can hold *, _, [, <, ...)."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~$])", r"\\\1", str(text))
