"""Queries the telemetry-format tests share: what landed in the warehouse, summed by hand-checkable keys."""

from __future__ import annotations


def daily(con) -> list[tuple]:
    return con.execute(
        "SELECT CAST(day AS VARCHAR), user_id, tool, model, requests, human_prompts, input_tokens, output_tokens, "
        "cost_usd FROM usage_daily ORDER BY day, user_id"
    ).fetchall()


def outcomes_by_kind(con) -> dict[str, float]:
    return dict(con.execute("SELECT kind, sum(quantity) FROM outcomes GROUP BY kind").fetchall())
