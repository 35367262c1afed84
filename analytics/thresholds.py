"""Every detection threshold in one place, with its default and why.

Admins change them in a TOML file (`$GOODHART_DETECTION`, default `data/detection.toml`; see
`data/detection.example.toml`) whose keys are the field names below; unknown keys are an error, so a typo
cannot silently leave a default in force. Detection compares each person with their peers (people
whose main tool and role are the same) week by week, so most thresholds are "how far from peers",
plus an absolute floor that keeps a tiny spread among peers from making a small difference look large.
"""

from __future__ import annotations

import math
import os
import tomllib
from dataclasses import asdict, dataclass, fields
from datetime import date
from pathlib import Path


@dataclass(frozen=True)
class Thresholds:
    # -- how a family fires ------------------------------------------------------------------------
    # Modified z-score (Iglewicz & Hoaglin): 0.6745 * (x - peer median) / peer MAD; 3.5 is their outlier line.
    z: float = 3.5
    # A person-week is only judged when its tokens reach this multiple of the peer median: padding
    # inflates tokens, so a light user sharing a stock prompt ("hi") is not inflation.
    material_vs_peer_median: float = 1.0
    # Families that must agree in a week before it counts as a suspect week (never fewer than 2).
    min_families: int = 2
    # Suspect weeks needed to flag a person; windows shorter than `short_window_weeks` need one.
    min_suspect_weeks: int = 2
    short_window_weeks: int = 5
    # Peer groups smaller than this fall back to everyone on the same tool, then to everyone.
    min_peer_group: int = 15

    # -- timing --------------------------------------------------------------------------------------
    night_share: float = 0.25  # share of tokens 00:00-06:00 local time (flat use would give 0.25)
    weekend_share: float = 0.45  # share of tokens on Saturday and Sunday (flat use would give 0.29)
    # Consecutive gaps between prompts within 10 % of each other: a loop's beat. Humans are bursty,
    # so this is rare for them (about 5 % of pairs); burstiness itself never flags anyone.
    cadence_tolerance: float = math.log(1.1)
    cadence_share: float = 0.25
    cadence_min_pairs: int = 20
    timing_min_events: int = 20  # calls in the week before night and weekend shares mean anything
    active_hours_share: float = 0.6  # always on: share of the week's 168 hours with any call

    # -- content and synchrony -------------------------------------------------------------------------
    near_bits: int = 6  # SimHash Hamming distance that counts as a near-duplicate prompt
    stock_prompt_people: int = 25  # a prompt this many people send in a week is stock ("hi"), not padding
    repeat_share: float = 0.3  # prompts repeating one from another session of the same person
    min_prompts: int = 10
    shared_share: float = 0.3  # prompts nearly duplicating other people's
    min_shared_prompts: int = 5  # prompts two people must share to be partners
    lockstep_share: float = 0.3  # active minutes within a minute of a partner's

    # -- outcome yield, autonomy, cache ---------------------------------------------------------------
    yield_vs_peers: float = 4.0  # tokens per real outcome, as a multiple of the peer median
    # Output never accepted: accepted edits over edits offered, as a share of the peer median, once a
    # week offers enough edits to tell.
    acceptance_vs_peers: float = 0.25
    min_edits_offered: int = 20
    unprompted_share: float = 0.3  # share of tokens in sessions with no human turn
    cache_vs_peers: float = 3.0  # cache-read tokens per call, as a multiple of the peer median
    cache_min_per_call: int = 10_000  # ... and at least this many: small contexts re-sent are not padding

    # -- calendar and change ------------------------------------------------------------------------
    snapshot_days: int = 3  # days up to and including each snapshot date
    snapshot_dates: str = "month_end"  # "month_end", or comma-separated YYYY-MM-DD dates
    snapshot_ratio: float = 3.0  # mean daily tokens in the window over the person's mean day outside windows
    snapshot_min_hits: int = 2  # snapshots with a burst (never fewer), and at least half of those with data
    change_ratio: float = 4.0  # weekly tokens over the person's own earlier median
    # ... while tokens per outcome rose at least this much (genuine growth brings outcomes along;
    # sources without outcomes are judged on tokens alone)
    change_yield_ratio: float = 2.0
    change_min_history: int = 3  # earlier active weeks needed to know a person's band
    change_vs_peer_median: float = 2.0

    def as_dict(self) -> dict:
        return asdict(self)


# Ranges a setting must fall in; shares are fractions of 1.
_SHARES = (
    "night_share",
    "weekend_share",
    "cadence_share",
    "active_hours_share",
    "repeat_share",
    "shared_share",
    "lockstep_share",
    "acceptance_vs_peers",
    "unprompted_share",
)
_RANGES = {
    **{name: (0.0, 1.0) for name in _SHARES},
    "z": (0.5, 50.0),
    "near_bits": (0, 16),
    "snapshot_days": (1, 31),
    "min_peer_group": (2, 10_000),
    "stock_prompt_people": (2, 1_000_000),
    "cadence_tolerance": (0.001, 1.0),
}


def load(path: Path | str | None = None, *, required: bool = False) -> Thresholds:
    """Defaults, overridden by the TOML file when it exists. ValueError names a bad key or value;
    FileNotFoundError when `required` and the file is missing (a path someone typed)."""
    if required and path is not None and not Path(path).exists():
        raise FileNotFoundError(f"no detection settings file at {path}")
    if path is None:
        path = os.environ.get("GOODHART_DETECTION") or Path(__file__).resolve().parents[1] / "data" / "detection.toml"
    path = Path(path)
    if not path.exists():
        return Thresholds()
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: not valid TOML ({exc})") from None
    data = data.get("detection", data)
    known = {f.name: f for f in fields(Thresholds)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ValueError(f"{path}: unknown detection setting(s) {', '.join(unknown)}")
    values = {}
    for key, value in data.items():
        kind = type(getattr(Thresholds(), key))
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise ValueError(f"{path}: {key} must be a {kind.__name__}")
        if kind in (int, float) and value < 0:
            raise ValueError(f"{path}: {key} cannot be negative")
        values[key] = value
    for key, value in values.items():
        if isinstance(value, str):
            continue
        low, high = _RANGES.get(key, (0, float("inf")))
        if not low <= value <= high:
            raise ValueError(f"{path}: {key} = {value} is outside {low}..{high}")
    out = Thresholds(**values)
    if out.snapshot_dates.strip() != "month_end":
        for text in out.snapshot_dates.split(","):
            try:
                date.fromisoformat(text.strip())
            except ValueError:
                raise ValueError(
                    f'{path}: snapshot_dates must be "month_end" or YYYY-MM-DD dates separated by commas '
                    f"({text.strip()!r} is not a date)"
                ) from None
    if out.min_families < 2:
        raise ValueError(f"{path}: min_families must be at least 2 (one signal alone never flags anyone)")
    return out
