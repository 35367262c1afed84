"""Small-group protection: no aggregate over fewer than k people is shown outside its own line."""

from __future__ import annotations

import pandas as pd

DEFAULT_K = 5


def suppress_small_groups(
    frame: pd.DataFrame, *, size_col: str = "headcount", k: int = DEFAULT_K
) -> tuple[pd.DataFrame, int]:
    """Rows whose group has at least k people, and how many rows were withheld."""
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    keep = frame[size_col].fillna(0) >= k
    return frame[keep].reset_index(drop=True), int((~keep).sum())
