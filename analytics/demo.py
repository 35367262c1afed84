"""Deterministic generator of a demo organisation's AI-usage telemetry in the canonical file formats."""

from __future__ import annotations

import unicodedata
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

__all__ = ["PERSONAS", "TOKENMAXXER_STYLES", "DemoFiles", "generate"]

PERSONAS: tuple[str, ...] = (
    "genuine",
    "heavy_agentic",
    "automation_owner",
    "light",
    "compliance_clicker",
    "non_user",
    "tokenmaxxer",
)
TOKENMAXXER_STYLES: tuple[str, ...] = (
    "metronome_overnight",
    "cache_padder",
    "snapshot_burst",
    "shared_script",
    "late_starter",
    "gaming_team",
)

COMPANY_NAME = "Meridian Labs"
COMPANY_DOMAIN = "meridian.example"

# Enum values written to the files; rows refer to them by index so that the hot paths stay numeric.
_TOOLS = ("claude-code", "chat-assistant", "copilot")
_CLAUDE, _CHAT, _COPILOT = range(3)
_MODELS = ("claude-sonnet-4-5", "claude-opus-4-5", "claude-haiku-4-5", "gpt-5", "gpt-5-mini", "gpt-4.1")
_SONNET, _OPUS, _HAIKU, _GPT5, _GPT5_MINI, _GPT41 = range(6)
_INITIATORS = ("human", "agent", "schedule")
_HUMAN, _AGENT, _SCHEDULE = range(3)
_KINDS = (
    "edit_accepted",
    "edit_rejected",
    "lines_added",
    "lines_removed",
    "commit",
    "pr_opened",
    "pr_merged",
    "review",
)
_ACCEPTED, _REJECTED, _ADDED, _REMOVED, _COMMIT, _PR_OPENED, _PR_MERGED, _REVIEW = range(8)

_P = {name: i for i, name in enumerate(PERSONAS)}
_S = {name: i for i, name in enumerate(TOKENMAXXER_STYLES)}

# Share of headcount per persona; tokenmaxxers are split over the styles separately.
_PERSONA_SHARE = {
    "genuine": 0.55,
    "heavy_agentic": 0.08,
    "automation_owner": 0.02,
    "light": 0.14,
    "compliance_clicker": 0.08,
    "non_user": 0.05,
    "tokenmaxxer": 0.08,
}

_DAY_S = 86_400
_EPOCH = date(1970, 1, 1)
_HOUR_S = 3_600

# --------------------------------------------------------------------------------------------
# Places, names and the org chart
# --------------------------------------------------------------------------------------------

# (IANA zone, holiday country, holiday subdivision, name-culture weights)
_LOCATIONS: tuple[tuple[str, str, str | None, dict[str, float]], ...] = (
    (
        "America/Los_Angeles",
        "US",
        "CA",
        {"anglo": 5, "hispanic": 2, "chinese": 1, "indian": 1, "korean": 1, "vietnamese": 1, "japanese": 1},
    ),
    (
        "America/New_York",
        "US",
        "NY",
        {"anglo": 5, "hispanic": 1, "indian": 1, "nigerian": 1, "arabic": 1, "chinese": 1},
    ),
    ("Europe/London", "GB", "ENG", {"anglo": 5, "indian": 1, "nigerian": 1, "polish": 1, "french": 1}),
    ("Europe/Madrid", "ES", "MD", {"hispanic": 6, "french": 1, "brazilian": 1, "anglo": 1}),
    ("Europe/Berlin", "DE", "BE", {"german": 6, "polish": 1, "arabic": 1, "anglo": 1}),
    ("Asia/Kolkata", "IN", None, {"indian": 9, "anglo": 1}),
    ("Asia/Singapore", "SG", None, {"chinese": 5, "indian": 1, "vietnamese": 1, "anglo": 1}),
    ("Australia/Sydney", "AU", "NSW", {"anglo": 5, "chinese": 1, "vietnamese": 1, "indian": 1}),
)

# Given and family names per culture, paired at random so every person is synthetic; kept as
# comma-separated strings so the lists stay compact.
_NAME_LISTS = {
    "anglo": (
        (
            "James, Emily, Michael, Sarah, David, Hannah, Thomas, Olivia, Daniel, Grace, Matthew, "
            "Charlotte, Ryan, Megan, Liam, Chloe, Samuel, Rachel, Oliver, Laura"
        ),
        (
            "Smith, Johnson, Brown, Taylor, Walker, Wilson, Evans, Thompson, Clarke, Hughes, Robinson, "
            "Wright, Baker, Campbell, Murphy, Bennett, Carter, Mitchell, Parker, Reed"
        ),
    ),
    "hispanic": (
        (
            "José, María, Javier, Lucía, Carlos, Sofía, Alejandro, Carmen, Pablo, Elena, Diego, Paula, "
            "Miguel, Marta, Andrés, Inés, Raúl, Beatriz, Sergio, Laia"
        ),
        (
            "García, Martínez, López, Fernández, Ruiz, Sánchez, Romero, Navarro, Torres, Gil, Ortega, "
            "Molina, Castro, Vega, Herrera, Iglesias, Delgado, Morales, Serrano, Blanco"
        ),
    ),
    "german": (
        (
            "Lukas, Anna, Jonas, Lea, Felix, Marie, Maximilian, Laura, Tobias, Julia, Niklas, Katharina, "
            "Florian, Lena, Jan, Sophie, Moritz, Johanna, Stefan, Clara"
        ),
        (
            "Müller, Schmidt, Schneider, Fischer, Weber, Meyer, Wagner, Becker, Hoffmann, Schulz, Koch, "
            "Richter, Klein, Wolf, Schröder, Neumann, Braun, Zimmermann, Krüger, Hartmann"
        ),
    ),
    "indian": (
        (
            "Aarav, Priya, Rohan, Ananya, Vikram, Kavya, Arjun, Divya, Rahul, Sneha, Karthik, Meera, "
            "Aditya, Pooja, Siddharth, Nisha, Varun, Lakshmi, Nikhil, Ishita"
        ),
        (
            "Sharma, Patel, Iyer, Reddy, Gupta, Nair, Rao, Menon, Kulkarni, Joshi, Agarwal, Banerjee, "
            "Chatterjee, Desai, Pillai, Singh, Verma, Krishnan, Mehta, Bose"
        ),
    ),
    "chinese": (
        (
            "Wei, Mei Ling, Jun, Xin Yi, Hao, Jia Hui, Kai, Li Na, Ming, Yu Ting, Zhi Hao, Hui Min, Jian, "
            "Shu Fen, Chen, Yan, Bo, Qing, Long, Xiu"
        ),
        ("Tan, Lim, Ng, Wong, Chen, Lee, Goh, Chua, Teo, Ong, Zhang, Wang, Liu, Huang, Zhou, Lin, Koh, Yeo, Sim, Low"),
    ),
    "french": (
        "Louis, Chloé, Hugo, Camille, Théo, Manon, Antoine, Léa, Mathieu, Juliette",
        "Dubois, Moreau, Laurent, Lefèvre, Girard, Bonnet, Lambert, Fontaine, Rousseau, Mercier",
    ),
    "nigerian": (
        "Chinedu, Amara, Emeka, Ngozi, Tunde, Folake, Obinna, Adaeze, Segun, Chiamaka",
        "Okafor, Adeyemi, Okonkwo, Balogun, Eze, Nwosu, Adebayo, Obi, Ogunleye, Uche",
    ),
    "japanese": (
        "Haruto, Yui, Sota, Aoi, Ren, Hina, Kenji, Sakura, Takumi, Mio",
        "Sato, Tanaka, Suzuki, Takahashi, Watanabe, Ito, Yamamoto, Nakamura, Kobayashi, Kato",
    ),
    "korean": (
        "Min-jun, Seo-yeon, Ji-ho, Ha-eun, Do-yun, Soo-ah, Jae-won, Yu-na, Hyun-woo, Ji-min",
        "Kim, Park, Choi, Jung, Kang, Cho, Yoon, Jang, Lim, Han",
    ),
    "polish": (
        "Piotr, Zofia, Jakub, Maja, Kacper, Zuzanna, Tomasz, Agnieszka, Michał, Natalia",
        ("Nowak, Kowalski, Wiśniewski, Wójcik, Kamiński, Lewandowski, Zieliński, Szymański, Dąbrowski, Mazur"),
    ),
    "arabic": (
        "Omar, Layla, Yusuf, Noor, Karim, Amira, Hassan, Salma, Tariq, Yasmin",
        "Haddad, Khalil, Nasser, Saleh, Mansour, Farouk, Aziz, Hamdan, Rahman, Qureshi",
    ),
    "brazilian": (
        "João, Ana, Gabriel, Beatriz, Rafael, Larissa, Thiago, Camila, Lucas, Fernanda",
        "Silva, Souza, Oliveira, Santos, Pereira, Costa, Carvalho, Almeida, Ribeiro, Barbosa",
    ),
    "vietnamese": (
        "Minh, Linh, Huy, Trang, Duc, Thao, Quang, Hoa, Tuan, Mai",
        "Nguyen, Tran, Le, Pham, Hoang, Vu, Dang, Bui, Do, Ngo",
    ),
}
_NAMES = {culture: tuple(tuple(text.split(", ")) for text in pair) for culture, pair in _NAME_LISTS.items()}
_CULTURES = tuple(_NAMES)

# Title pools per kind of department: (IC titles with weights, manager title, writes code).
_ROLES: dict[str, tuple[tuple[tuple[str, float], ...], str, bool]] = {
    "eng": (
        (
            ("Software Engineer", 0.38),
            ("Senior Software Engineer", 0.36),
            ("Staff Software Engineer", 0.13),
            ("Principal Engineer", 0.03),
            ("QA Engineer", 0.10),
        ),
        "Engineering Manager",
        True,
    ),
    "data": (
        (
            ("Data Scientist", 0.28),
            ("Senior Data Scientist", 0.14),
            ("ML Engineer", 0.26),
            ("Senior ML Engineer", 0.12),
            ("Data Engineer", 0.20),
        ),
        "Engineering Manager",
        True,
    ),
    "infra": (
        (
            ("Site Reliability Engineer", 0.40),
            ("Senior Site Reliability Engineer", 0.25),
            ("Infrastructure Engineer", 0.25),
            ("Staff Site Reliability Engineer", 0.10),
        ),
        "Engineering Manager",
        True,
    ),
    "security": (
        (("Security Engineer", 0.6), ("Senior Security Engineer", 0.3), ("Staff Security Engineer", 0.1)),
        "Engineering Manager",
        True,
    ),
    "pm": (
        (("Product Manager", 0.55), ("Senior Product Manager", 0.35), ("Principal Product Manager", 0.10)),
        "Group Product Manager",
        False,
    ),
    "design": (
        (("Product Designer", 0.55), ("Senior Product Designer", 0.30), ("Content Designer", 0.15)),
        "Design Manager",
        False,
    ),
    "research": ((("UX Researcher", 0.7), ("Senior UX Researcher", 0.3)), "Research Manager", False),
    "sales": (
        (("Account Executive", 0.55), ("Sales Development Representative", 0.30), ("Solutions Engineer", 0.15)),
        "Sales Manager",
        False,
    ),
    "success": (
        (("Customer Success Manager", 0.6), ("Support Engineer", 0.25), ("Implementation Consultant", 0.15)),
        "Customer Success Lead",
        False,
    ),
    "marketing": (
        (("Marketing Manager", 0.5), ("Product Marketing Manager", 0.3), ("Content Strategist", 0.2)),
        "Marketing Lead",
        False,
    ),
}


@dataclass(frozen=True)
class _OrgSpec:
    name: str
    headcount_share: float
    location_weights: tuple[float, ...]  # over _LOCATIONS
    departments: tuple[tuple[str, str, tuple[str, ...]], ...]  # (name, role kind, team names)


# Listed in the order small demos keep them.
_ORG_SPECS = (
    _OrgSpec(
        "Product Engineering",
        0.28,
        (0.30, 0.20, 0.10, 0.15, 0.15, 0.05, 0.03, 0.02),
        (
            ("Core Product", "eng", ("Editor", "Collaboration", "Workspaces", "Files", "Comments", "Templates")),
            ("Growth", "eng", ("Onboarding", "Activation", "Experimentation", "Lifecycle", "Referrals")),
            ("Payments", "eng", ("Checkout", "Billing", "Invoicing", "Fraud", "Payouts")),
            ("Mobile", "eng", ("iOS", "Android", "Mobile Platform", "Offline Sync")),
            ("Integrations", "eng", ("Public API", "Webhooks", "Marketplace", "Connectors")),
        ),
    ),
    _OrgSpec(
        "Go-to-Market",
        0.20,
        (0.10, 0.30, 0.20, 0.10, 0.05, 0.05, 0.10, 0.10),
        (
            (
                "Sales",
                "sales",
                ("Enterprise Sales Americas", "Enterprise Sales EMEA", "Mid-Market", "APAC Sales", "Sales Development"),
            ),
            ("Customer Success", "success", ("Onboarding Services", "Support", "Account Management", "Renewals")),
            ("Marketing", "marketing", ("Product Marketing", "Demand Generation", "Content", "Events")),
        ),
    ),
    _OrgSpec(
        "Platform Engineering",
        0.15,
        (0.25, 0.10, 0.10, 0.10, 0.25, 0.15, 0.05, 0.00),
        (
            (
                "Developer Platform",
                "eng",
                ("Build & CI", "Developer Tools", "Release Engineering", "Internal Portal", "Test Infrastructure"),
            ),
            (
                "Core Services",
                "eng",
                ("API Gateway", "Messaging", "Search", "Notifications", "Storage Services", "Scheduling"),
            ),
            ("Identity & Access", "security", ("Identity", "Authorization", "Secrets Management", "Audit")),
        ),
    ),
    _OrgSpec(
        "Data & ML",
        0.14,
        (0.20, 0.10, 0.20, 0.05, 0.05, 0.25, 0.15, 0.00),
        (
            ("Data Platform", "data", ("Ingestion", "Warehouse", "Streaming", "Data Quality")),
            ("Machine Learning", "data", ("Ranking", "Recommendations", "Forecasting", "ML Platform", "Applied NLP")),
            ("Analytics", "data", ("Product Analytics", "Business Intelligence", "Experimentation Science")),
        ),
    ),
    _OrgSpec(
        "Infrastructure",
        0.13,
        (0.15, 0.15, 0.10, 0.10, 0.15, 0.20, 0.05, 0.10),
        (
            ("Cloud Infrastructure", "infra", ("Compute", "Networking", "Kubernetes", "Storage")),
            ("Reliability", "infra", ("Observability", "Incident Response", "Capacity", "Performance")),
            ("Security", "security", ("Application Security", "Detection & Response", "Cloud Security")),
        ),
    ),
    _OrgSpec(
        "Design & Product",
        0.10,
        (0.35, 0.25, 0.15, 0.10, 0.10, 0.05, 0.00, 0.00),
        (
            ("Product Management", "pm", ("Core PM", "Growth PM", "Platform PM", "Payments PM")),
            ("Design", "design", ("Product Design", "Design Systems", "Brand")),
            ("Research", "research", ("User Research", "Insights")),
        ),
    ),
)
_TEAM_NAME_SUFFIXES = ("Core", "Experience", "Foundations", "Tooling", "Scale", "Quality", "Labs", "Insights")


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoFiles:
    """Where a demo build was written, its ground-truth personas and its row counts."""

    folder: Path
    personas: pd.DataFrame  # user_id, persona, style, padding_from
    people: int
    events: int
    outcomes: int
    daily_rows: int


def generate(
    out_dir: Path,
    *,
    users: int = 2000,
    days: int = 180,
    seed: int = 0,
    end: date,
    progress: Callable[[float, str], None] | None = None,
) -> DemoFiles:
    """Write a demo organisation's canonical files (and ground truth under ``eval/``) to ``out_dir``.

    Parameters
    ----------
    out_dir
        Folder for ``teams``, ``people``, ``usage_events``, ``usage_daily`` and ``outcomes``
        ``.parquet``; the persona table goes to ``out_dir/eval/personas.parquet``.
    users
        Headcount (at least 20).
    days
        Length of the period (at least 7), ending on ``end`` inclusive.
    seed
        Same seed and arguments give byte-identical files.
    end
        Last day of data.
    progress
        Called as ``progress(fraction, message)`` at each phase.

    Returns
    -------
    DemoFiles
        ``personas`` has one row per person: ``user_id``, ``persona``, ``style`` (None unless a
        tokenmaxxer) and ``padding_from`` (first day of padding, None unless a tokenmaxxer).
    """
    if isinstance(users, bool) or not isinstance(users, int) or users < 20:
        raise ValueError(f"users must be an integer of at least 20, got {users!r}")
    if isinstance(days, bool) or not isinstance(days, int) or days < 7:
        raise ValueError(f"days must be an integer of at least 7, got {days!r}")
    if isinstance(end, datetime):
        end = end.date()
    if not isinstance(end, date):
        raise ValueError(f"end must be a date, got {end!r}")
    report = progress or (lambda _fraction, _message: None)

    out_dir = Path(out_dir)
    report(0.0, "Building the organisation")
    calendar = _Calendar.build(end, days)
    org = _build_org(_rng(seed, "org"), users)
    roster = _cast_roster(seed, org, calendar)

    sim = _Simulation(seed, calendar, roster)
    report(0.1, "Simulating interactive use")
    sim.interactive_use()
    report(0.35, "Simulating IDE completions and scheduled automation")
    sim.copilot_use()
    sim.compliance_clicks()
    sim.scheduled_automation()
    report(0.5, "Simulating padded usage")
    sim.padding()

    report(0.65, "Writing files")
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "eval").mkdir(exist_ok=True)
    events = sim.events_table()
    outcomes = sim.outcomes_table()
    daily = sim.daily_table()
    _write(org.teams_table(), out_dir / "teams.parquet")
    _write(roster.people_table(), out_dir / "people.parquet")
    report(0.75, "Writing usage events")
    _write(events, out_dir / "usage_events.parquet")
    _write(daily, out_dir / "usage_daily.parquet")
    _write(outcomes, out_dir / "outcomes.parquet")
    personas = roster.personas_table(calendar)
    _write(personas, out_dir / "eval" / "personas.parquet")
    report(1.0, "Demo data written")

    return DemoFiles(
        folder=out_dir,
        personas=_personas_frame(personas),
        people=roster.n_people,
        events=events.num_rows,
        outcomes=outcomes.num_rows,
        daily_rows=daily.num_rows,
    )


# --------------------------------------------------------------------------------------------
# Small numeric helpers
# --------------------------------------------------------------------------------------------


def _rng(seed: int, phase: str) -> np.random.Generator:
    # One independent stream per phase, so tuning one phase never reshuffles the others.
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(zlib.crc32(phase.encode()),)))


def _lognormal(rng: np.random.Generator, median: float, sigma: float, size) -> np.ndarray:
    return rng.lognormal(np.log(median), sigma, size)


def _starts(lengths: np.ndarray) -> np.ndarray:
    """Offset of each segment's first element when segments of ``lengths`` are laid end to end."""
    return np.cumsum(lengths) - lengths


def _segment_cumsum(values: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Running sum of ``values`` that restarts at each segment (all lengths must be >= 1)."""
    total = np.cumsum(values)
    first = _starts(lengths)
    return total - np.repeat(total[first] - values[first], lengths)


def _random_u64(rng: np.random.Generator, size) -> np.ndarray:
    return rng.integers(0, 2**64, size=size, dtype=np.uint64)


def _flip_bits(rng: np.random.Generator, fingerprints: np.ndarray, max_bits: int) -> np.ndarray:
    """Near-duplicates: flip up to ``max_bits`` bits (a repeated bit flips back, so never more)."""
    out = fingerprints.copy()
    flips = rng.integers(0, max_bits + 1, size=out.shape)
    for j in range(max_bits):
        bit = rng.integers(0, 64, size=out.shape).astype(np.uint64)
        out ^= np.where(flips > j, np.uint64(1) << bit, np.uint64(0))
    return out


def _split_evenly(rng: np.random.Generator, total: int, parts: int, low: int, high: int) -> list[int]:
    """Split ``total`` into ``parts`` random sizes kept within [low, high] where arithmetic allows."""
    weights = rng.dirichlet(np.full(parts, 6.0))
    raw = weights * total
    sizes = np.floor(raw).astype(int)
    remainder_order = np.argsort(-(raw - sizes), kind="stable")
    sizes[remainder_order[: total - sizes.sum()]] += 1
    for _ in range(total):
        small, big = int(np.argmin(sizes)), int(np.argmax(sizes))
        too_small = sizes[small] < low and sizes[big] > low
        too_big = sizes[big] > high and sizes[small] < high
        if not (too_small or too_big):
            break
        sizes[small] += 1
        sizes[big] -= 1
    return sizes.tolist()


# --------------------------------------------------------------------------------------------
# Calendar: days, time zones, public holidays
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Calendar:
    start: date
    days: int
    day_epoch_s: np.ndarray  # (days,) unix seconds of each day's 00:00 UTC
    utc_offset_s: np.ndarray  # (locations, days) local minus UTC, taken at local noon
    workday: np.ndarray  # (locations, days) weekday and not a public holiday
    weekday: np.ndarray  # (days,) Monday = 0
    month_end: np.ndarray  # (days,) whether the day is the last of its month

    @classmethod
    def build(cls, end: date, days: int) -> _Calendar:
        start = end - timedelta(days=days - 1)
        dates = [start + timedelta(days=i) for i in range(days)]
        years = sorted({d.year for d in dates})
        offsets = np.zeros((len(_LOCATIONS), days), dtype=np.int64)
        workday = np.zeros((len(_LOCATIONS), days), dtype=bool)
        weekday = np.array([d.weekday() for d in dates])
        for loc, (zone_name, country, subdiv, _) in enumerate(_LOCATIONS):
            zone = ZoneInfo(zone_name)
            public = holidays.country_holidays(country, subdiv=subdiv, years=years)
            for i, d in enumerate(dates):
                offsets[loc, i] = int(datetime.combine(d, time(12), zone).utcoffset().total_seconds())
                workday[loc, i] = weekday[i] < 5 and d not in public
        epoch_day = (start - date(1970, 1, 1)).days
        month_end = np.array([(d + timedelta(days=1)).day == 1 for d in dates])
        return cls(
            start, days, (epoch_day + np.arange(days, dtype=np.int64)) * _DAY_S, offsets, workday, weekday, month_end
        )

    def to_utc(self, location: np.ndarray, day: np.ndarray, local_s: np.ndarray) -> np.ndarray:
        return self.day_epoch_s[day] + local_s - self.utc_offset_s[location, day]


def _workday_start_pmf() -> np.ndarray:
    """When people start a working session: 10-minute bins over a local day, with a lunch dip."""
    hours = (np.arange(144) + 0.5) / 6
    morning = np.exp(-0.5 * ((hours - 10.4) / 1.2) ** 2)
    afternoon = 1.1 * np.exp(-0.5 * ((hours - 15.0) / 1.5) ** 2)
    evening = 0.05 * np.exp(-0.5 * ((hours - 21.0) / 1.2) ** 2)
    lunch = 1 - 0.6 * np.exp(-0.5 * ((hours - 12.8) / 0.45) ** 2)
    weights = (morning + afternoon + evening) * lunch
    weights[hours < 7.5] = 0
    return weights / weights.sum()


_START_PMF = _workday_start_pmf()


# --------------------------------------------------------------------------------------------
# The organisation
# --------------------------------------------------------------------------------------------


@dataclass
class _Org:
    team_ids: list[str]
    team_names: list[str]
    team_parent: list[int]  # -1 for the root
    team_lead: list[int]  # member index
    team_role: list[str]  # role kind of a leaf team, "" above
    # one entry per member, in creation order
    member_team: list[int]
    member_title: list[str]
    member_role: list[str]
    member_location: list[int]
    member_is_lead: list[bool]
    member_is_exec: list[bool]
    user_ids: list[str] = field(default_factory=list)  # filled once people are numbered

    def teams_table(self) -> pa.Table:
        return pa.table(
            {
                "team_id": pa.array(self.team_ids, pa.string()),
                "team_name": pa.array(self.team_names, pa.string()),
                "parent_team_id": pa.array(
                    [self.team_ids[p] if p >= 0 else None for p in self.team_parent], pa.string()
                ),
                "lead_user_id": pa.array([self.user_ids[m] for m in self.team_lead], pa.string()),
            }
        )


def _build_org(rng: np.random.Generator, users: int) -> _Org:
    org = _Org([], [], [], [], [], [], [], [], [], [], [])
    location_count = len(_LOCATIONS)

    def add_team(name: str, parent: int, role: str) -> int:
        org.team_ids.append(f"t-{len(org.team_ids) + 1:04d}")
        org.team_names.append(name)
        org.team_parent.append(parent)
        org.team_lead.append(-1)
        org.team_role.append(role)
        return len(org.team_ids) - 1

    def add_member(team: int, title: str, role: str, location: int, *, lead: bool, executive: bool) -> int:
        org.member_team.append(team)
        org.member_title.append(title)
        org.member_role.append(role)
        org.member_location.append(location)
        org.member_is_lead.append(lead)
        org.member_is_exec.append(executive)
        member = len(org.member_team) - 1
        if lead:
            org.team_lead[team] = member
        return member

    root = add_team(COMPANY_NAME, -1, "")
    add_member(root, "Chief Executive Officer", "exec", int(rng.integers(0, 2)), lead=True, executive=True)

    org_count = min(len(_ORG_SPECS), max(2, users // 25))
    specs = _ORG_SPECS[:org_count]
    shares = np.array([s.headcount_share for s in specs])
    org_sizes = _split_by_shares(users - 1, shares / shares.sum())
    for spec, org_size in zip(specs, org_sizes, strict=True):
        weights = np.array(spec.location_weights) / sum(spec.location_weights)
        org_team = add_team(spec.name, root, "")
        add_member(
            org_team, f"VP, {spec.name}", "exec", int(rng.choice(location_count, p=weights)), lead=True, executive=True
        )
        dept_count = int(np.clip(round((org_size - 1) / 70), 1, len(spec.departments)))
        dept_sizes = _split_evenly(rng, org_size - 1, dept_count, 1, org_size)
        for (dept_name, role, team_names), dept_size in zip(spec.departments, dept_sizes, strict=False):
            dept_team = add_team(dept_name, org_team, "")
            add_member(
                dept_team,
                f"Director, {dept_name}",
                "exec",
                int(rng.choice(location_count, p=weights)),
                lead=True,
                executive=True,
            )
            remaining = dept_size - 1
            if remaining <= 0:
                continue
            team_count = max(1, round(remaining / 8.5))
            team_sizes = _split_evenly(rng, remaining, team_count, 5, 12)
            names = _team_names(team_names, team_count)
            # Some teams grow a sub-team that reports into a sibling: the org's fifth level.
            direct: list[int] = []
            for i, (name, size) in enumerate(zip(names, team_sizes, strict=True)):
                nested = i >= 2 and rng.random() < 0.35
                team = add_team(name, direct[int(rng.integers(0, len(direct)))] if nested else dept_team, role)
                if not nested:
                    direct.append(team)
                home = int(rng.choice(location_count, p=weights))
                titles, manager_title, _ = _ROLES[role]
                title_names = [t for t, _ in titles]
                title_weights = np.array([w for _, w in titles])
                for member in range(size):
                    location = home if rng.random() < 0.85 else int(rng.integers(0, location_count))
                    if member == 0:
                        add_member(team, manager_title, role, location, lead=True, executive=False)
                    else:
                        title = title_names[int(rng.choice(len(title_names), p=title_weights / title_weights.sum()))]
                        add_member(team, title, role, location, lead=False, executive=False)
    return org


def _split_by_shares(total: int, shares: np.ndarray) -> list[int]:
    raw = shares * total
    sizes = np.floor(raw).astype(int)
    order = np.argsort(-(raw - sizes), kind="stable")
    sizes[order[: total - sizes.sum()]] += 1
    return sizes.tolist()


def _team_names(pool: tuple[str, ...], count: int) -> list[str]:
    names = list(pool[:count])
    suffix = 0
    while len(names) < count:
        base = pool[len(names) % len(pool)]
        names.append(f"{base} {_TEAM_NAME_SUFFIXES[suffix % len(_TEAM_NAME_SUFFIXES)]}")
        if len(names) % len(pool) == 0:
            suffix += 1
    return names


# --------------------------------------------------------------------------------------------
# People, personas and who-does-what
# --------------------------------------------------------------------------------------------


@dataclass
class _Roster:
    """Everyone who can appear in telemetry: people first, then identities HR does not know."""

    user_ids: list[str]
    n_people: int
    display_names: list[str]
    emails: list[str]
    logins: list[str]
    team_ids: list[str]
    titles: list[str]
    location: np.ndarray  # index into _LOCATIONS
    codes: np.ndarray  # writes code for a living
    is_manager: np.ndarray
    persona: np.ndarray  # index into PERSONAS
    style: np.ndarray  # index into TOKENMAXXER_STYLES, -1 when not a tokenmaxxer
    active_from: list[date]
    active_to: list[date | None]
    first_day: np.ndarray  # first day index with any usage
    last_day: np.ndarray  # last day index with any usage
    padding_from: np.ndarray  # day index padding starts, -1 when none
    late_pattern: np.ndarray  # for late starters: 0 cache re-sends, 1 agent loops, 2 overnight loop
    shared_groups: list[list[int]]

    @property
    def size(self) -> int:
        return len(self.user_ids)

    def _by_user_id(self) -> list[int]:
        return np.argsort(np.array(self.user_ids[: self.n_people]), kind="stable").tolist()

    def people_table(self) -> pa.Table:
        take = self._by_user_id()
        return pa.table(
            {
                "user_id": pa.array([self.user_ids[i] for i in take], pa.string()),
                "display_name": pa.array([self.display_names[i] for i in take], pa.string()),
                "email": pa.array([self.emails[i] for i in take], pa.string()),
                "login": pa.array([self.logins[i] for i in take], pa.string()),
                "team_id": pa.array([self.team_ids[i] for i in take], pa.string()),
                "title": pa.array([self.titles[i] for i in take], pa.string()),
                "timezone": pa.array([_LOCATIONS[self.location[i]][0] for i in take], pa.string()),
                "active_from": pa.array([self.active_from[i] for i in take], pa.date32()),
                "active_to": pa.array([self.active_to[i] for i in take], pa.date32()),
            }
        )

    def personas_table(self, calendar: _Calendar) -> pa.Table:
        take = self._by_user_id()
        return pa.table(
            {
                "user_id": pa.array([self.user_ids[i] for i in take], pa.string()),
                "persona": pa.array([PERSONAS[self.persona[i]] for i in take], pa.string()),
                "style": pa.array(
                    [TOKENMAXXER_STYLES[self.style[i]] if self.style[i] >= 0 else None for i in take], pa.string()
                ),
                "padding_from": pa.array(
                    [
                        calendar.start + timedelta(days=int(self.padding_from[i]))
                        if self.padding_from[i] >= 0
                        else None
                        for i in take
                    ],
                    pa.date32(),
                ),
            }
        )


def _personas_frame(table: pa.Table) -> pd.DataFrame:
    columns = table.to_pydict()
    return pd.DataFrame(
        {
            "user_id": pd.Series(columns["user_id"], dtype=object),
            "persona": pd.Series(columns["persona"], dtype=object),
            "style": pd.Series(columns["style"], dtype=object),
            "padding_from": pd.Series(columns["padding_from"], dtype=object),
        }
    )


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


def _cast_roster(seed: int, org: _Org, calendar: _Calendar) -> _Roster:
    rng = _rng(seed, "people")
    n = len(org.member_team)
    location = np.array(org.member_location, dtype=np.int64)

    # Employee numbers follow no org order, as when they come from hire order.
    numbers = rng.permutation(n) + 1
    user_ids = [f"u-{k:05d}" for k in numbers]
    org.user_ids = user_ids

    display_names, emails, logins = _names(rng, location)
    codes = np.array([_ROLES[r][2] if r in _ROLES else False for r in org.member_role])
    is_manager = np.array(org.member_is_lead)
    is_exec = np.array(org.member_is_exec)

    persona, style, shared_groups = _assign_personas(_rng(seed, "personas"), org, codes, is_exec)

    # Employment windows: most people joined long ago; ~10% join and ~3% leave during the period.
    days = calendar.days
    first_day = np.zeros(n, dtype=np.int64)
    last_day = np.full(n, days - 1, dtype=np.int64)
    active_from = [calendar.start - timedelta(days=int(d)) for d in rng.integers(120, 3000, n)]
    active_to: list[date | None] = [None] * n
    movable = np.flatnonzero(
        np.isin(persona, [_P["genuine"], _P["light"], _P["compliance_clicker"], _P["non_user"]]) & ~is_manager
    )
    movable = rng.permutation(movable)
    joiners = np.sort(movable[: round(0.10 * n)])
    leavers = np.sort(movable[round(0.10 * n) : round(0.13 * n)])
    if days >= 14:
        for p in joiners:
            join_day = int(rng.integers(1, max(2, days - 7)))
            active_from[p] = calendar.start + timedelta(days=join_day)
            # Nobody gets a coding agent on their first day; it also keeps every UTC timestamp
            # on or after the joining date whatever the time zone.
            first_day[p] = join_day + 1
        for p in leavers:
            leave_day = int(rng.integers(7, days - 1))
            active_to[p] = calendar.start + timedelta(days=leave_day)
            last_day[p] = leave_day - 1

    # Telemetry identities HR does not know: vendor contractors and ids of people already gone.
    contractors = max(1, round(n * 0.003))
    former = max(1, round(n * 0.0015))
    extra_ids = [f"contractor-{k}@vendor.example" for k in sorted(rng.choice(90, contractors, replace=False) + 10)]
    extra_ids += [f"u-{n + 40 + 7 * k:05d}" for k in range(former)]
    extra = len(extra_ids)
    extra_last = np.concatenate(
        [
            np.full(contractors, days - 1),
            rng.integers(max(1, days // 5), max(2, days * 3 // 5), former),
        ]
    )

    padding_from = np.full(n + extra, -1, dtype=np.int64)
    tm = np.flatnonzero(persona == _P["tokenmaxxer"])
    padding_from[tm] = 0
    late = np.flatnonzero(style == _S["late_starter"])
    padding_from[late] = days // 2 + rng.integers(-days // 12, days // 12 + 1, len(late))
    late_pattern = np.full(n + extra, -1, dtype=np.int64)
    late_pattern[late] = rng.integers(0, 3, len(late))

    return _Roster(
        user_ids=user_ids + extra_ids,
        n_people=n,
        display_names=display_names,
        emails=emails,
        logins=logins,
        team_ids=[org.team_ids[t] for t in org.member_team],
        titles=list(org.member_title),
        location=np.concatenate([location, rng.integers(0, len(_LOCATIONS), extra)]),
        codes=np.concatenate([codes, np.ones(extra, dtype=bool)]),
        is_manager=np.concatenate([is_manager, np.zeros(extra, dtype=bool)]),
        persona=np.concatenate([persona, np.full(extra, _P["genuine"])]),
        style=np.concatenate([style, np.full(extra, -1)]),
        active_from=active_from,
        active_to=active_to,
        first_day=np.concatenate([first_day, np.zeros(extra, dtype=np.int64)]),
        last_day=np.concatenate([last_day, extra_last]).astype(np.int64),
        padding_from=padding_from,
        late_pattern=late_pattern,
        shared_groups=shared_groups,
    )


def _names(rng: np.random.Generator, location: np.ndarray) -> tuple[list[str], list[str], list[str]]:
    display_names, emails, logins = [], [], []
    used_emails: set[str] = set()
    used_logins: set[str] = set()
    for loc in location:
        weights = _LOCATIONS[loc][3]
        cultures = list(weights)
        p = np.array([weights[c] for c in cultures], dtype=float)
        first_culture = cultures[int(rng.choice(len(cultures), p=p / p.sum()))]
        # Some people carry a family name from another culture.
        last_culture = first_culture if rng.random() < 0.85 else _CULTURES[int(rng.integers(0, len(_CULTURES)))]
        first_names, _ = _NAMES[first_culture]
        _, last_names = _NAMES[last_culture]
        first = first_names[int(rng.integers(0, len(first_names)))]
        last = last_names[int(rng.integers(0, len(last_names)))]
        display_names.append(f"{first} {last}")

        local = f"{_ascii(first)}.{_ascii(last)}"
        candidate, k = local, 1
        while candidate in used_emails:
            k += 1
            candidate = f"{local}{k}"
        used_emails.add(candidate)
        emails.append(f"{candidate}@{COMPANY_DOMAIN}")

        f, l_ = _ascii(first), _ascii(last)
        pattern = int(rng.integers(0, 5))
        login = (f"{f}{l_}", f"{f[0]}{l_}", f"{f}-{l_}", f"{f}{l_[0]}", f"{l_}{f[0]}")[pattern]
        candidate, k = login, 1
        while candidate in used_logins:
            k += 1
            candidate = f"{login}{int(rng.integers(2, 99))}" if k < 5 else f"{login}-{k}"
        used_logins.add(candidate)
        logins.append(candidate)
    return display_names, emails, logins


def _assign_personas(
    rng: np.random.Generator, org: _Org, codes: np.ndarray, is_exec: np.ndarray
) -> tuple[np.ndarray, np.ndarray, list[list[int]]]:
    n = len(codes)
    persona = np.full(n, -1, dtype=np.int64)
    style = np.full(n, -1, dtype=np.int64)
    team = np.array(org.member_team)

    def free() -> np.ndarray:
        return (persona < 0) & ~is_exec

    budget = round(_PERSONA_SHARE["tokenmaxxer"] * n)

    # A whole team padding together: an engineering team of 5-10 people.
    team_sizes = np.bincount(team, minlength=len(org.team_ids))
    candidates = [
        t for t in range(len(org.team_ids)) if org.team_role[t] in ("eng", "data", "infra") and 5 <= team_sizes[t] <= 10
    ]
    if candidates and budget >= team_sizes[candidates].min() + 4:
        affordable = [t for t in candidates if team_sizes[t] <= budget - 4]
        gaming = affordable[int(rng.integers(0, len(affordable)))]
        members = np.flatnonzero(team == gaming)
        persona[members] = _P["tokenmaxxer"]
        style[members] = _S["gaming_team"]

    # Shared-script groups: coders in different teams, one group per thousand people.
    shared_groups: list[list[int]] = []
    for _ in range(max(1, n // 1000)):
        remaining = budget - int((persona == _P["tokenmaxxer"]).sum())
        size = int(rng.integers(4, 7))
        if remaining < size:
            break
        pool = rng.permutation(np.flatnonzero(free() & codes))
        group: list[int] = []
        for p in pool:
            if all(team[p] != team[q] for q in group):
                group.append(int(p))
            if len(group) == size:
                break
        if len(group) < 4:
            break
        group.sort()
        persona[group] = _P["tokenmaxxer"]
        style[group] = _S["shared_script"]
        shared_groups.append(group)

    # The remaining tokenmaxxers spread over the individual styles, each present when possible.
    individual = [_S["metronome_overnight"], _S["cache_padder"], _S["snapshot_burst"], _S["late_starter"]]
    remaining = max(0, budget - int((persona == _P["tokenmaxxer"]).sum()))
    picks = rng.choice(np.flatnonzero(free() & codes), size=min(remaining, int((free() & codes).sum())), replace=False)
    for i, p in enumerate(np.sort(picks)):
        persona[p] = _P["tokenmaxxer"]
        style[p] = individual[i % len(individual)] if i < len(individual) else individual[int(rng.integers(0, 4))]

    for name in ("heavy_agentic", "automation_owner"):
        pool = np.flatnonzero(free() & codes)
        count = min(len(pool), max(1, round(_PERSONA_SHARE[name] * n)))
        persona[np.sort(rng.choice(pool, size=count, replace=False))] = _P[name]

    # Everyone else; people who do not write code skew towards light use or none.
    rest = np.flatnonzero(persona < 0)
    names = ("genuine", "light", "compliance_clicker", "non_user")
    coder_p = np.array([0.69, 0.16, 0.09, 0.06])
    other_p = np.array([0.58, 0.20, 0.13, 0.09])
    draws = rng.random(len(rest))
    for p, u in zip(rest, draws, strict=True):
        cumulative = np.cumsum(coder_p if codes[p] else other_p)
        persona[p] = _P[names[int(np.searchsorted(cumulative, u * cumulative[-1]))]]
    return persona, style, shared_groups


# --------------------------------------------------------------------------------------------
# Simulation
# --------------------------------------------------------------------------------------------


@dataclass
class _Events:
    """A batch of usage events as parallel arrays."""

    person: np.ndarray
    ts_s: np.ndarray
    tool: np.ndarray
    model: np.ndarray
    session: np.ndarray
    prompt: np.ndarray  # -1: none
    initiated: np.ndarray
    input_tokens: np.ndarray
    output_tokens: np.ndarray
    cache_read_tokens: np.ndarray
    cache_write_tokens: np.ndarray
    prompt_chars: np.ndarray  # -1: none
    fingerprint: np.ndarray
    has_fingerprint: np.ndarray


@dataclass
class _Outcomes:
    person: np.ndarray
    ts_s: np.ndarray
    kind: np.ndarray
    quantity: np.ndarray
    tool: np.ndarray  # -1: none
    session: np.ndarray  # -1: none


@dataclass
class _Daily:
    person: np.ndarray
    day: np.ndarray
    requests: np.ndarray
    human_prompts: np.ndarray
    input_tokens: np.ndarray
    output_tokens: np.ndarray
    active_minutes: np.ndarray


def _concat(batches: list, cls):
    return cls(**{f.name: np.concatenate([getattr(b, f.name) for b in batches]) for f in fields(cls)})


def _outcome_rows(person, ts_s, kind, quantity, session, tool=_CLAUDE) -> _Outcomes:
    n = len(person)
    return _Outcomes(
        person=np.asarray(person, dtype=np.int64),
        ts_s=np.asarray(ts_s, dtype=np.float64),
        kind=np.full(n, kind, dtype=np.int64),
        quantity=np.asarray(quantity, dtype=np.int64),
        tool=np.full(n, tool, dtype=np.int64),
        session=np.asarray(session, dtype=np.int64),
    )


@dataclass
class _Conversations:
    """Sessions of turns; each turn is an opening call followed by ``steps`` agent calls.

    Turn start times come from the think pauses (interactive use) or are given outright
    (loops and schedules, whose cadence does not depend on how long a turn took).
    """

    person: np.ndarray  # per session
    start_s: np.ndarray  # per session, UTC
    model: np.ndarray  # per session
    turns: np.ndarray  # per session
    steps: np.ndarray  # per turn
    opener: np.ndarray  # per turn: initiated_by of the opening call
    fingerprint: np.ndarray  # per turn
    prompt_chars: np.ndarray  # per turn
    think_s: np.ndarray | None = None  # per turn, pause before the turn (first turn ignored)
    turn_start_s: np.ndarray | None = None  # per turn, UTC


@dataclass
class _Turns:
    """What the expansion of conversations produced, per turn and per session, for outcomes."""

    person: np.ndarray
    session: np.ndarray  # index into the conversations' sessions
    session_id: np.ndarray  # per session
    end_s: np.ndarray
    tokens: np.ndarray
    session_start_s: np.ndarray
    session_end_s: np.ndarray


class _Simulation:
    def __init__(self, seed: int, calendar: _Calendar, roster: _Roster):
        self.seed = seed
        self.cal = calendar
        self.roster = roster
        self.events: list[_Events] = []
        self.outcomes: list[_Outcomes] = []
        self.daily: list[_Daily] = []
        self._sessions = 0
        self._prompts = 0
        rng = self.rng("calendar")
        n, days = roster.size, calendar.days
        # Per person: when their day starts, absences, and how their use grows after joining.
        self.shift_s = np.clip(rng.normal(0, 2400, n), -5400, 5400)
        self.present = self._presence(rng)
        self.workday = calendar.workday[roster.location]
        day = np.arange(days)
        since_start = day[None, :] - roster.first_day[:, None]
        joined = np.array([roster.active_from[i] > calendar.start if i < roster.n_people else False for i in range(n)])
        ramp = np.clip(0.2 + 0.8 * since_start / 20, 0.2, 1.0)
        self.ramp = np.where(joined[:, None], ramp, 1.0)
        # Adoption grows over the period, as it does in real roll-outs.
        self.trend = 0.85 + 0.3 * day / max(1, days - 1)
        self.common_prompts = _random_u64(rng, 40)
        self.trivial_prompts = _random_u64(rng, 8)
        self._params(self.rng("params"))

    def rng(self, phase: str) -> np.random.Generator:
        return _rng(self.seed, phase)

    def _presence(self, rng: np.random.Generator) -> np.ndarray:
        """Employed and not on holiday leave: (identities, days)."""
        n, days = self.roster.size, self.cal.days
        day = np.arange(days)
        employed = (day[None, :] >= self.roster.first_day[:, None]) & (day[None, :] <= self.roster.last_day[:, None])
        blocks = np.minimum(rng.poisson(2.0 * days / 180, n), 4)
        rows = np.repeat(np.arange(n), blocks)
        starts = rng.integers(0, days, len(rows))
        stops = np.minimum(starts + rng.integers(3, 11, len(rows)), days)
        diff = np.zeros((n, days + 1), dtype=np.int64)
        np.add.at(diff, (rows, starts), 1)
        np.add.at(diff, (rows, stops), -1)
        leave = np.cumsum(diff, axis=1)[:, :days] > 0
        leave[self.roster.n_people :] = False
        return employed & ~leave

    def _params(self, rng: np.random.Generator) -> None:
        """Per-identity intensities: sessions per working day for each tool, and output yield."""
        r, n = self.roster, self.roster.size
        persona, codes = r.persona, r.codes
        coding = np.zeros(n)
        chat = np.zeros(n)
        heavy = persona == _P["heavy_agentic"]
        genuine_like = np.isin(persona, [_P["genuine"], _P["automation_owner"]])

        coding[genuine_like & codes] = _lognormal(rng, 0.8, 0.75, (genuine_like & codes).sum())
        coding[heavy] = _lognormal(rng, 0.75, 0.35, heavy.sum())
        light = persona == _P["light"]
        coding[light & codes] = _lognormal(rng, 0.22, 0.4, (light & codes).sum())
        tm = persona == _P["tokenmaxxer"]
        # Most tokenmaxxers still do real work underneath the padding; a few barely do.
        base = np.where(rng.random(n) < 0.8, _lognormal(rng, 0.6, 0.6, n), 0.04)
        steady_base = np.isin(r.style, [_S["snapshot_burst"], _S["late_starter"]])
        coding[tm] = np.where(steady_base[tm], _lognormal(rng, 0.6, 0.6, tm.sum()), base[tm])
        # Non-coders who use an agent now and then.
        dabblers = genuine_like & ~codes & (rng.random(n) < 0.12)
        coding[dabblers] = _lognormal(rng, 0.15, 0.4, dabblers.sum())
        coding[r.is_manager] *= 0.5
        unknown = np.arange(n) >= r.n_people
        coding[unknown] = _lognormal(rng, 0.4, 0.4, unknown.sum())

        chat[codes & (coding > 0)] = _lognormal(rng, 0.2, 0.6, (codes & (coding > 0)).sum())
        chat[genuine_like & ~codes] = _lognormal(rng, 1.2, 0.6, (genuine_like & ~codes).sum())
        chat[light & ~codes] = _lognormal(rng, 0.3, 0.4, (light & ~codes).sum())

        self.coding_rate = coding
        self.chat_rate = chat
        self.heavy = heavy
        # Real work yields edits in proportion to the tokens it burns; long agent runs carry
        # bigger contexts, so they need a few more tokens per edit, not ten times more.
        self.tokens_per_edit = _lognormal(rng, 55_000, 0.35, n) * np.where(heavy, 1.35, 1.0)
        self.accept_rate = np.clip(rng.beta(15, 5, n), 0.45, 0.95)
        self.copilot_accept_rate = np.clip(rng.normal(0.27, 0.04, n), 0.12, 0.42)
        seat = codes & (coding > 0.05) & (rng.random(n) < np.where(light, 0.45, 0.75))
        self.copilot_day_prob = np.where(seat, np.where(light, 0.3, rng.uniform(0.55, 0.95, n)), 0.0)
        self.copilot_requests = _lognormal(rng, 160, 0.6, n)
        self.opus_share = np.clip(rng.beta(1.2, 8, n), 0, 0.6)

    # ---- building blocks ---------------------------------------------------------------------

    def _session_days(self, rng, people: np.ndarray, rate: np.ndarray, offday_prob: float = 0.04):
        """Sessions per (person, day): Poisson around each person's rate, overdispersed by day."""
        present = self.present[people]
        workday = self.workday[people]
        daily = rng.gamma(1.6, 1 / 1.6, present.shape)
        friday = np.where(self.cal.weekday == 4, 0.85, 1.0)
        off = (rng.random(present.shape) < offday_prob) * 0.5
        lam = rate[:, None] * daily * self.trend * friday * self.ramp[people] * np.where(workday, 1.0, off)
        counts = rng.poisson(lam * present)
        rows, day = np.nonzero(counts)
        reps = counts[rows, day]
        return np.repeat(people[rows], reps), np.repeat(day, reps)

    def _local_start_s(self, rng, person: np.ndarray, day: np.ndarray) -> np.ndarray:
        """A session start in local time: office hours on working days, late mornings to evenings off."""
        n = len(person)
        office = rng.choice(144, size=n, p=_START_PMF) * 600 + rng.uniform(0, 600, n) + self.shift_s[person]
        leisure = rng.uniform(10 * _HOUR_S, 21 * _HOUR_S, n)
        return np.where(self.workday[person, day], office, leisure)

    def _utc(self, person, day, local_s):
        return self.cal.to_utc(self.roster.location[person], day, local_s).astype(np.float64)

    def _human_prompts(self, rng, turns: int, *, retries: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Fingerprints and lengths of human prompts: mostly unique, some stock phrases and retries."""
        fingerprint = _random_u64(rng, turns)
        chars = np.clip(_lognormal(rng, 180, 1.0, turns), 8, 6000).astype(np.int64)
        stock = rng.random(turns) < 0.06
        fingerprint[stock] = self.common_prompts[rng.integers(0, len(self.common_prompts), stock.sum())]
        chars[stock] = rng.integers(4, 40, stock.sum())
        if retries and turns > 1:
            # A rephrased retry of the previous prompt: near-duplicate, but rarely many in a row.
            retry = np.flatnonzero(rng.random(turns - 1) < 0.04) + 1
            fingerprint[retry] = _flip_bits(rng, fingerprint[retry - 1], 6)
        return fingerprint, chars

    def _expand(
        self,
        rng: np.random.Generator,
        conv: _Conversations,
        *,
        tool: int,
        step_gap_s: tuple[float, float] = (12.0, 0.6),
        context_start: tuple[float, float] = (12_000, 25_000),
        cache_read: tuple[float, float] | None = None,
        output_median: float = 450.0,
        trivial: bool = False,
    ) -> _Turns:
        """Lay conversations out as events (appended) and return per-turn totals for outcomes."""
        sessions = len(conv.person)
        turns = len(conv.steps)
        session_ids = self._sessions + np.arange(sessions)
        self._sessions += sessions
        prompt_ids = self._prompts + np.arange(turns)
        self._prompts += turns

        turn_session = np.repeat(np.arange(sessions), conv.turns)
        calls = 1 + conv.steps
        event_turn = np.repeat(np.arange(turns), calls)
        event_session = turn_session[event_turn]
        n = len(event_turn)
        turn_first = _starts(calls)
        opens_turn = np.zeros(n, dtype=bool)
        opens_turn[turn_first] = True
        first_turn = np.zeros(turns, dtype=bool)
        first_turn[_starts(conv.turns)] = True
        opens_session = opens_turn & first_turn[event_turn]
        session_events = np.bincount(event_session, minlength=sessions)

        gap = _lognormal(rng, step_gap_s[0], step_gap_s[1], n)
        if conv.turn_start_s is None:
            gap[turn_first] = np.where(first_turn, 0.0, conv.think_s)
            ts = conv.start_s[event_session] + _segment_cumsum(gap, session_events)
        else:
            gap[turn_first] = 0.0
            ts = conv.turn_start_s[event_turn] + _segment_cumsum(gap, calls)

        opener = conv.opener[event_turn]
        prompted = opens_turn & (opener != _AGENT)
        if tool == _CHAT:
            tokens = self._chat_tokens(rng, conv, event_turn, session_events, trivial=trivial)
        else:
            tokens = self._agent_tokens(
                rng,
                conv,
                event_turn,
                opens_turn,
                opens_session,
                session_events,
                context_start,
                cache_read,
                output_median,
            )
        input_tokens, output_tokens, read_tokens, write_tokens = tokens

        person = conv.person[event_session]
        model = conv.model[event_session]
        if tool == _CLAUDE:
            # Agents hand small chores (file search, summaries) to the small model.
            chores = ~opens_turn & (rng.random(n) < 0.08)
            model = np.where(chores, _HAIKU, model)
        self.events.append(
            _Events(
                person=person,
                ts_s=ts,
                tool=np.full(n, tool, dtype=np.int64),
                model=model,
                session=session_ids[event_session],
                prompt=np.where(conv.opener[event_turn] == _AGENT, -1, prompt_ids[event_turn]),
                initiated=np.where(opens_turn, opener, np.where(opener == _SCHEDULE, _SCHEDULE, _AGENT)),
                input_tokens=input_tokens,
                output_tokens=output_tokens,
                cache_read_tokens=read_tokens,
                cache_write_tokens=write_tokens,
                prompt_chars=np.where(prompted, conv.prompt_chars[event_turn], -1),
                fingerprint=conv.fingerprint[event_turn],
                has_fingerprint=prompted,
            )
        )

        all_tokens = (input_tokens + output_tokens + read_tokens + write_tokens).astype(np.float64)
        turn_last = turn_first + calls - 1
        session_last = _starts(session_events) + session_events - 1
        return _Turns(
            person=conv.person[turn_session],
            session=turn_session,
            session_id=session_ids,
            end_s=ts[turn_last],
            tokens=np.bincount(event_turn, weights=all_tokens, minlength=turns),
            session_start_s=ts[_starts(session_events)],
            session_end_s=ts[session_last],
        )

    def _agent_tokens(
        self, rng, conv, event_turn, opens_turn, opens_session, session_events, context_start, cache_read, output_median
    ):
        """Coding-agent calls: small fresh input, a context cache that grows until it is compacted."""
        n = len(event_turn)
        chars = conv.prompt_chars[event_turn]
        fresh = np.where(
            opens_turn, np.maximum(chars, 0) / 4 + _lognormal(rng, 600, 0.9, n), _lognormal(rng, 1_200, 0.9, n)
        )
        input_tokens = np.clip(fresh, 30, 12_000).round().astype(np.int64)
        output_tokens = np.clip(_lognormal(rng, output_median, 0.8, n), 20, 4_000).round().astype(np.int64)
        growth = (input_tokens + output_tokens).astype(np.float64)
        sessions = len(session_events)
        start = rng.uniform(*context_start, sessions)
        event_session = np.repeat(np.arange(sessions), session_events)
        context = start[event_session] + _segment_cumsum(growth, session_events) - growth
        # Auto-compaction: past ~150k the conversation is summarised down to ~30k and grows again.
        cap, floor = 150_000.0, 30_000.0
        context = np.where(context > cap, floor + np.mod(context - floor, cap - floor), context)
        previous_growth = np.concatenate([[0.0], growth[:-1]])
        if cache_read is None:
            read = np.where(opens_session, rng.uniform(3_000, 6_000, n), context)
            write = np.where(opens_session, start[event_session], previous_growth * rng.uniform(0.9, 1.3, n))
        else:
            # Deliberate re-sends of a huge, unchanging context: all cache, little else.
            read = np.exp(rng.uniform(np.log(cache_read[0]), np.log(cache_read[1]), n))
            write = np.where(opens_session, rng.uniform(5_000, 20_000, n), rng.uniform(0, 1_500, n))
        return (input_tokens, output_tokens, read.round().astype(np.int64), write.round().astype(np.int64))

    def _chat_tokens(self, rng, conv, event_turn, session_events, *, trivial: bool):
        """Chat turns: the history is re-sent each turn, so input grows; only long prefixes hit the cache."""
        n = len(event_turn)
        chars = conv.prompt_chars[event_turn]
        if trivial:
            # "hi" gets a one-line answer.
            zeros = np.zeros(n, dtype=np.int64)
            return (rng.integers(8, 60, n), rng.integers(10, 120, n), zeros, zeros)
        new = np.maximum(chars, 0) / 4 + _lognormal(rng, 250, 0.7, n)
        output_tokens = np.clip(_lognormal(rng, 500, 0.5, n), 200, 1_500).round()
        history = _segment_cumsum(new + output_tokens, session_events) - (new + output_tokens)
        prompt = np.clip(new + history, 200, 4_000)
        cached = np.where(history > 1_024, np.floor(0.8 * np.minimum(history, prompt - 200) / 128) * 128, 0.0)
        return (
            (prompt - cached).round().astype(np.int64),
            output_tokens.astype(np.int64),
            cached.astype(np.int64),
            np.zeros(n, dtype=np.int64),
        )

    def _work_outcomes(self, rng, turns: _Turns, *, reviews: float = 0.1, accept_rate: float | None = None) -> None:
        """Edits, lines, commits and pull requests that real work produces, in proportion to it."""
        proposed = rng.poisson(turns.tokens / self.tokens_per_edit[turns.person])
        accepted = rng.binomial(proposed, self.accept_rate[turns.person] if accept_rate is None else accept_rate)
        rejected = proposed - accepted
        lines = np.where(accepted > 0, np.maximum(1, (accepted * _lognormal(rng, 14, 0.7, len(accepted))).round()), 0)
        removed = np.where(
            (accepted > 0) & (rng.random(len(accepted)) < 0.55),
            np.maximum(1, (lines * rng.uniform(0.1, 0.6, len(lines))).round()),
            0,
        )
        at = turns.end_s + rng.uniform(1, 20, len(accepted))
        sid = turns.session_id[turns.session]
        for kind, qty in ((_ACCEPTED, accepted), (_REJECTED, rejected), (_ADDED, lines), (_REMOVED, removed)):
            keep = qty > 0
            self.outcomes.append(_outcome_rows(turns.person[keep], at[keep], kind, qty[keep], sid[keep]))

        sessions = len(turns.session_id)
        session_person = np.zeros(sessions, dtype=np.int64)
        session_person[turns.session] = turns.person
        accepted_per_session = np.bincount(turns.session, weights=accepted, minlength=sessions)
        commits = rng.poisson(accepted_per_session / 6.0)
        commit_session = np.repeat(np.arange(sessions), commits)
        span = turns.session_end_s[commit_session] + 300 - turns.session_start_s[commit_session]
        commit_at = turns.session_start_s[commit_session] + rng.uniform(0.3, 1.0, len(commit_session)) * span
        commit_person = session_person[commit_session]
        self.outcomes.append(
            _outcome_rows(
                commit_person, commit_at, _COMMIT, np.ones_like(commit_session), turns.session_id[commit_session]
            )
        )
        self._pull_requests(rng, commit_person, commit_at, turns.session_id[commit_session], share=0.3)

        reviewed = np.flatnonzero(rng.random(sessions) < reviews)
        review_at = turns.session_start_s[reviewed] + rng.uniform(0, 1, len(reviewed)) * (
            turns.session_end_s[reviewed] - turns.session_start_s[reviewed]
        )
        self.outcomes.append(
            _outcome_rows(
                session_person[reviewed], review_at, _REVIEW, np.ones_like(reviewed), turns.session_id[reviewed]
            )
        )

    def _pull_requests(self, rng, person, at_s, session_id, *, share: float, merge_hours: float = 20.0) -> None:
        opened = rng.random(len(person)) < share
        open_at = at_s[opened] + rng.uniform(60, 1_800, opened.sum())
        self.outcomes.append(
            _outcome_rows(person[opened], open_at, _PR_OPENED, np.ones(opened.sum()), session_id[opened])
        )
        merged = rng.random(opened.sum()) < 0.85
        merge_at = open_at[merged] + _lognormal(rng, merge_hours * _HOUR_S, 0.8, merged.sum())
        self.outcomes.append(
            _outcome_rows(
                person[opened][merged], merge_at, _PR_MERGED, np.ones(merged.sum()), session_id[opened][merged]
            )
        )

    def _models(self, rng, person: np.ndarray) -> np.ndarray:
        u = rng.random(len(person))
        opus = u < self.opus_share[person]
        haiku = u > 0.95
        return np.where(opus, _OPUS, np.where(haiku, _HAIKU, _SONNET))

    # ---- phases --------------------------------------------------------------------------------

    def interactive_use(self) -> None:
        """Human-driven coding-agent and chat sessions, with the outcomes the coding produces."""
        rng = self.rng("interactive")
        everyone = np.arange(self.roster.size)
        for heavy in (False, True):
            people = everyone[(self.coding_rate > 0) & (self.heavy == heavy)]
            person, day = self._session_days(rng, people, self.coding_rate[people])
            sessions = len(person)
            turns = 1 + rng.poisson(1.0 if heavy else 1.8, sessions)
            total = int(turns.sum())
            if heavy:
                # Long autonomous runs, each started by a person; some finish after hours.
                long_run = rng.random(total) < 0.4
                steps = np.where(long_run, rng.integers(20, 81, total), np.minimum(1 + rng.poisson(3, total), 10))
            else:
                steps = np.minimum(1 + rng.poisson(2.2, total), 8)
            fingerprint, chars = self._human_prompts(rng, total)
            start = self._utc(person, day, self._local_start_s(rng, person, day))
            conv = _Conversations(
                person=person,
                start_s=start,
                model=self._models(rng, person),
                turns=turns,
                steps=steps,
                opener=np.full(total, _HUMAN),
                fingerprint=fingerprint,
                prompt_chars=chars,
                think_s=np.clip(_lognormal(rng, 100, 1.1, total), 5, 3 * _HOUR_S),
            )
            turns_out = self._expand(rng, conv, tool=_CLAUDE, step_gap_s=(14.0, 0.6) if heavy else (10.0, 0.6))
            self._work_outcomes(rng, turns_out)

        people = everyone[self.chat_rate > 0]
        person, day = self._session_days(rng, people, self.chat_rate[people], offday_prob=0.06)
        turns = 1 + rng.poisson(1.6, len(person))
        total = int(turns.sum())
        fingerprint, chars = self._human_prompts(rng, total)
        conv = _Conversations(
            person=person,
            start_s=self._utc(person, day, self._local_start_s(rng, person, day)),
            model=np.where(rng.random(len(person)) < 0.6, _GPT5, _GPT5_MINI),
            turns=turns,
            steps=np.zeros(total, dtype=np.int64),
            opener=np.full(total, _HUMAN),
            fingerprint=fingerprint,
            prompt_chars=chars,
            think_s=np.clip(_lognormal(rng, 70, 1.0, total), 5, _HOUR_S),
        )
        self._expand(rng, conv, tool=_CHAT)

    def copilot_use(self) -> None:
        """IDE completions, reported per person per day, with accepted and rejected suggestions."""
        rng = self.rng("copilot")
        people = np.flatnonzero(self.copilot_day_prob > 0)
        present = self.present[people] & (self.workday[people] | (rng.random((len(people), self.cal.days)) < 0.03))
        active = present & (rng.random(present.shape) < self.copilot_day_prob[people, None] * self.ramp[people])
        rows, day = np.nonzero(active)
        person = people[rows]
        n = len(person)
        requests = np.clip(self.copilot_requests[person] * rng.gamma(3, 1 / 3, n) * self.trend[day], 30, 800)
        requests = requests.round().astype(np.int64)
        self.daily.append(
            _Daily(
                person=person,
                day=day,
                requests=requests,
                human_prompts=rng.poisson(np.minimum(requests * 0.02, 12)),
                input_tokens=(requests * rng.uniform(1_000, 2_000, n)).round().astype(np.int64),
                output_tokens=(requests * rng.uniform(20, 60, n)).round().astype(np.int64),
                active_minutes=np.clip(requests * rng.uniform(0.4, 0.9, n) + rng.uniform(10, 40, n), 5, 600).round(1),
            )
        )
        accepted = rng.binomial(requests, self.copilot_accept_rate[person])
        # The IDE reports the day's totals in the evening.
        at = self._utc(person, day, rng.uniform(17.5 * _HOUR_S, 19 * _HOUR_S, n))
        no_session = np.full(n, -1)
        self.outcomes.append(_outcome_rows(person, at, _ACCEPTED, accepted, no_session, tool=_COPILOT))
        self.outcomes.append(_outcome_rows(person, at, _REJECTED, requests - accepted, no_session, tool=_COPILOT))
        lines = (accepted * rng.uniform(1.2, 2.2, n)).round()
        keep = lines > 0
        self.outcomes.append(
            _outcome_rows(person[keep], at[keep], _ADDED, lines[keep], no_session[keep], tool=_COPILOT)
        )

    def compliance_clicks(self) -> None:
        """One throwaway chat prompt a week, enough to count as 'active' on a scoreboard."""
        rng = self.rng("compliance")
        people = np.flatnonzero(self.roster.persona == _P["compliance_clicker"])
        weeks = (np.arange(self.cal.days) + self.cal.start.weekday()) // 7
        week_count = int(weeks[-1]) + 1
        # One candidate day per person-week: a random present working day in that week.
        candidates = self.present[people] & self.workday[people]
        noise = rng.random(candidates.shape) * candidates
        chosen_person, chosen_day = [], []
        for w in range(week_count):
            in_week = np.flatnonzero(weeks == w)
            pick = in_week[np.argmax(noise[:, in_week], axis=1)]
            ok = candidates[np.arange(len(people)), pick] & (rng.random(len(people)) < 0.9)
            chosen_person.append(people[ok])
            chosen_day.append(pick[ok])
        person = np.concatenate(chosen_person)
        day = np.concatenate(chosen_day)
        n = len(person)
        conv = _Conversations(
            person=person,
            start_s=self._utc(person, day, self._local_start_s(rng, person, day)),
            model=np.full(n, _GPT5_MINI),
            turns=np.ones(n, dtype=np.int64),
            steps=np.zeros(n, dtype=np.int64),
            opener=np.full(n, _HUMAN),
            fingerprint=self.trivial_prompts[rng.integers(0, 8, n)],
            prompt_chars=rng.integers(2, 30, n),
            think_s=np.zeros(n),
        )
        self._expand(rng, conv, tool=_CHAT, trivial=True)

    def scheduled_automation(self) -> None:
        """Declared jobs (initiated_by schedule): a nightly maintenance run, for some an hourly triage."""
        rng = self.rng("automation")
        owners = np.flatnonzero(self.roster.persona == _P["automation_owner"])
        if len(owners) == 0:
            return
        days = np.arange(self.cal.days)
        # Jobs run whether or not their owner is on holiday; they stop when the owner leaves.
        employed = (days[None, :] >= self.roster.first_day[owners, None]) & (
            days[None, :] <= self.roster.last_day[owners, None]
        )

        def runs(job_owner, job_time_s, run_days_mask, per_day):
            rows, day = np.nonzero(run_days_mask)
            person = np.repeat(job_owner[rows], per_day)
            day = np.repeat(day, per_day)
            slot = np.tile(np.arange(per_day), len(rows))
            local = np.repeat(job_time_s[rows], per_day) + slot * _HOUR_S + rng.normal(0, 20, len(person))
            return person, self._utc(person, day, local), np.repeat(rows, per_day)

        nightly_time = rng.uniform(1 * _HOUR_S, 4 * _HOUR_S, len(owners))
        person, at, job = runs(owners, nightly_time, employed, 1)
        job_prompts = _random_u64(rng, len(owners))
        # A maintenance run (dependency bumps, flaky-test fixes) does real work: its edits are
        # applied by configuration, then committed and proposed like anyone's.
        turns_out = self._scheduled(rng, person, at, job_prompts[job], rng.integers(8, 26, len(person)))
        self._work_outcomes(rng, turns_out, reviews=0.0, accept_rate=0.95)

        hourly = rng.random(len(owners)) < 0.4
        if hourly.any():
            hourly_owners = owners[hourly]
            weekdays = employed[hourly] & (self.cal.weekday < 5)[None, :]
            minute = rng.uniform(0, _HOUR_S, len(hourly_owners))
            person, at, job = runs(hourly_owners, minute, weekdays, 24)
            job_prompts = _random_u64(rng, len(hourly_owners))
            # Triage reads a short issue or diff, so it runs on a small context.
            turns_out = self._scheduled(
                rng, person, at, job_prompts[job], rng.integers(0, 3, len(person)), context_start=(4_000, 9_000)
            )
            reviewed = rng.random(len(person)) < 0.35
            self.outcomes.append(
                _outcome_rows(
                    person[reviewed],
                    turns_out.end_s[reviewed] + 10,
                    _REVIEW,
                    np.ones(reviewed.sum()),
                    turns_out.session_id[reviewed],
                )
            )

    def _scheduled(self, rng, person, at, fingerprint, steps, *, context_start=(12_000, 25_000)) -> _Turns:
        n = len(person)
        conv = _Conversations(
            person=person,
            start_s=at,
            model=np.full(n, _SONNET),
            turns=np.ones(n, dtype=np.int64),
            steps=steps,
            opener=np.full(n, _SCHEDULE),
            fingerprint=fingerprint,
            prompt_chars=np.full(n, 640),
            turn_start_s=at,
        )
        return self._expand(rng, conv, tool=_CLAUDE, step_gap_s=(8.0, 0.5), context_start=context_start)

    # ---- padding -------------------------------------------------------------------------------

    def padding(self) -> None:
        r = self.roster
        style = r.style
        start = np.zeros(r.size, dtype=np.int64)
        self._overnight_loops(self.rng("metronome"), np.flatnonzero(style == _S["metronome_overnight"]), start)
        self._cache_resends(self.rng("cache"), np.flatnonzero(style == _S["cache_padder"]), start)
        self._snapshot_bursts(self.rng("snapshot"), np.flatnonzero(style == _S["snapshot_burst"]))
        self._shared_scripts(self.rng("shared"))
        self._gaming_team(self.rng("gaming"), np.flatnonzero(style == _S["gaming_team"]))
        late = style == _S["late_starter"]
        self._cache_resends(self.rng("late-cache"), np.flatnonzero(late & (r.late_pattern == 0)), r.padding_from)
        self._agent_loops(self.rng("late-agent"), np.flatnonzero(late & (r.late_pattern == 1)), r.padding_from)
        self._overnight_loops(self.rng("late-night"), np.flatnonzero(late & (r.late_pattern == 2)), r.padding_from)

    def _days_from(self, people: np.ndarray, from_day: np.ndarray) -> np.ndarray:
        """(people, days) employed days on or after each person's padding start, leave ignored."""
        days = np.arange(self.cal.days)
        r = self.roster
        return (days[None, :] >= np.maximum(from_day[people], r.first_day[people])[:, None]) & (
            days[None, :] <= r.last_day[people][:, None]
        )

    def _overnight_loops(self, rng, people: np.ndarray, from_day: np.ndarray) -> None:
        """A script loop through the night at a near-fixed cadence, re-sending templated prompts."""
        if len(people) == 0:
            return
        nightly = rng.random(len(people)) < 0.5
        nights = self._days_from(people, from_day) & (nightly[:, None] | (self.cal.weekday < 5)[None, :])
        period_s = rng.uniform(240, 720, len(people))
        jitter = rng.uniform(0.02, 0.08, len(people))
        templates = _random_u64(rng, (len(people), 3))
        template_chars = rng.integers(300, 2_000, (len(people), 3))
        rows, day = np.nonzero(nights)
        begin = rng.uniform(-0.5 * _HOUR_S, 1.0 * _HOUR_S, len(rows))
        finish = rng.uniform(5.0 * _HOUR_S, 6.5 * _HOUR_S, len(rows))
        iterations = np.floor((finish - begin) / period_s[rows]).astype(np.int64)
        night = np.repeat(np.arange(len(rows)), iterations)
        k = np.arange(len(night)) - np.repeat(_starts(iterations), iterations)
        row = rows[night]
        local = begin[night] + k * period_s[row] + rng.normal(0, 1, len(night)) * jitter[row] * period_s[row]
        # The odd iteration fails and is skipped; the loop keeps its beat.
        keep = rng.random(len(night)) > 0.02
        night, row, local = night[keep], row[keep], local[keep]
        iterations = np.bincount(night, minlength=len(rows))
        has = iterations > 0
        person = people[rows]
        turn_start = self._utc(people[row], day[night], local)
        which = rng.integers(0, 3, len(row))
        conv = _Conversations(
            person=person[has],
            start_s=turn_start[_starts(iterations[has])],
            model=np.full(int(has.sum()), _SONNET),
            turns=iterations[has],
            steps=rng.integers(0, 3, len(row)),
            opener=np.full(len(row), _HUMAN),
            fingerprint=_flip_bits(rng, templates[row, which], 3),
            prompt_chars=template_chars[row, which] + rng.integers(-10, 11, len(row)),
            turn_start_s=turn_start,
        )
        self._expand(rng, conv, tool=_CLAUDE, step_gap_s=(6.0, 0.3), context_start=(40_000, 90_000))

    def _cache_resends(self, rng, people: np.ndarray, from_day: np.ndarray) -> None:
        """Human-paced sessions in office hours whose calls re-send 200k-1M tokens of cached context."""
        if len(people) == 0:
            return
        days = self._days_from(people, from_day) & self.present[people] & self.workday[people]
        counts = rng.poisson(0.8, days.shape) * days
        rows, day = np.nonzero(counts)
        person = np.repeat(people[rows], counts[rows, day])
        day = np.repeat(day, counts[rows, day])
        turns = rng.integers(3, 11, len(person))
        total = int(turns.sum())
        fingerprint, chars = self._human_prompts(rng, total, retries=False)
        conv = _Conversations(
            person=person,
            start_s=self._utc(person, day, self._local_start_s(rng, person, day)),
            model=self._models(rng, person),
            turns=turns,
            steps=rng.integers(1, 5, total),
            opener=np.full(total, _HUMAN),
            fingerprint=fingerprint,
            prompt_chars=chars,
            think_s=np.clip(_lognormal(rng, 150, 0.7, total), 10, _HOUR_S),
        )
        self._expand(rng, conv, tool=_CLAUDE, cache_read=(200_000, 1_000_000), output_median=120.0)

    def _agent_loops(self, rng, people: np.ndarray, from_day: np.ndarray) -> None:
        """Evening agent runs nobody prompted: hundreds of steps and no human turn."""
        if len(people) == 0:
            return
        weekends = rng.random((len(people), self.cal.days)) < 0.5
        days = self._days_from(people, from_day) & (self.workday[people] | weekends)
        rows, day = np.nonzero(days)
        person = people[rows]
        n = len(person)
        conv = _Conversations(
            person=person,
            start_s=self._utc(person, day, rng.uniform(19 * _HOUR_S, 21 * _HOUR_S, n)),
            model=np.full(n, _SONNET),
            turns=np.ones(n, dtype=np.int64),
            steps=rng.integers(80, 250, n),
            opener=np.full(n, _AGENT),
            fingerprint=np.zeros(n, dtype=np.uint64),
            prompt_chars=np.full(n, -1),
            think_s=np.zeros(n),
        )
        self._expand(rng, conv, tool=_CLAUDE, step_gap_s=(40.0, 0.35))

    def _snapshot_bursts(self, rng, people: np.ndarray) -> None:
        """Ordinary use most of the month, then 10-30x on the last days before each month-end snapshot."""
        if len(people) == 0:
            return
        month_ends = np.flatnonzero(self.cal.month_end)
        if len(month_ends) == 0:
            return
        factor = rng.uniform(10, 30, len(people))
        window = rng.integers(2, 4, len(people))
        day_index = np.arange(self.cal.days)
        until_end = np.full(self.cal.days, 99)
        for m in month_ends[::-1]:
            until_end[: m + 1] = m - day_index[: m + 1]
        burst = (until_end[None, :] < window[:, None]) & self._days_from(people, self.roster.first_day)
        # Each burst session is ~70 calls on a well-filled context, about 5M tokens, while a day of
        # this person's normal use is ~0.5M tokens per session per day of their rate.
        sessions_per_day = factor * self.coding_rate[people] * 0.09
        counts = np.maximum(1, rng.poisson(sessions_per_day[:, None], burst.shape)) * burst
        rows, day = np.nonzero(counts)
        person = np.repeat(people[rows], counts[rows, day])
        day = np.repeat(day, counts[rows, day])
        turns = rng.integers(3, 7, len(person))
        total = int(turns.sum())
        fingerprint, chars = self._human_prompts(rng, total)
        local = rng.uniform(9 * _HOUR_S, 22 * _HOUR_S, len(person))
        conv = _Conversations(
            person=person,
            start_s=self._utc(person, day, local),
            model=self._models(rng, person),
            turns=turns,
            steps=rng.integers(8, 26, total),
            opener=np.full(total, _HUMAN),
            fingerprint=fingerprint,
            prompt_chars=chars,
            think_s=np.clip(_lognormal(rng, 60, 0.8, total), 5, 1800),
        )
        self._expand(rng, conv, tool=_CLAUDE, step_gap_s=(8.0, 0.5))

    def _shared_scripts(self, rng) -> None:
        """One script run by several people from different teams: lockstep calls, shared prompts."""
        for group in self.roster.shared_groups:
            members = np.array(group)
            owner = members[0]
            run_days = np.flatnonzero(self.workday[owner] & self.present[owner])
            per_day = rng.poisson(22, len(run_days))
            day = np.repeat(run_days, per_day)
            runs = len(day)
            run_local = rng.uniform(9 * _HOUR_S, 18 * _HOUR_S, runs)
            run_at = self._utc(np.full(runs, owner), day, run_local)
            templates = _random_u64(rng, 3)
            template = rng.integers(0, 3, runs)
            run_fingerprint = _flip_bits(rng, templates[template], 2)
            run_chars = rng.integers(900, 2_400, 3)[template]
            run_steps = rng.integers(2, 6, runs)
            offset = rng.uniform(0, 25, len(members))
            employed = (day[None, :] >= self.roster.first_day[members][:, None]) & (
                day[None, :] <= self.roster.last_day[members][:, None]
            )
            joins = employed & (rng.random((len(members), runs)) < 0.92)
            m, run = np.nonzero(joins)
            n = len(run)
            at = run_at[run] + offset[m] + rng.uniform(0, 4, n)
            order = np.lexsort((at, m))  # per member in time order, so each member has one session a day
            m, run, at = m[order], run[order], at[order]
            person = members[m]
            # One session per member per run day.
            key = m * self.cal.days + day[run]
            boundaries = np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]]))
            turns = np.diff(np.append(boundaries, n))
            conv = _Conversations(
                person=person[boundaries],
                start_s=at[boundaries],
                model=np.full(len(boundaries), _SONNET),
                turns=turns,
                steps=run_steps[run],
                opener=np.full(n, _HUMAN),
                fingerprint=run_fingerprint[run],
                prompt_chars=run_chars[run],
                turn_start_s=at,
            )
            self._expand(rng, conv, tool=_CLAUDE, step_gap_s=(5.0, 0.15), context_start=(60_000, 140_000))

    def _gaming_team(self, rng, people: np.ndarray) -> None:
        """A team padding together in office hours: long agent runs from a few copied prompts, no output."""
        if len(people) == 0:
            return
        days = self.present[people] & self.workday[people]
        counts = (1 + rng.poisson(0.3, days.shape)) * days
        rows, day = np.nonzero(counts)
        person = np.repeat(people[rows], counts[rows, day])
        day = np.repeat(day, counts[rows, day])
        n = len(person)
        turns = 1 + (rng.random(n) < 0.25)
        total = int(turns.sum())
        templates = _random_u64(rng, 3)
        conv = _Conversations(
            person=person,
            start_s=self._utc(person, day, self._local_start_s(rng, person, day)),
            model=self._models(rng, person),
            turns=turns,
            steps=rng.integers(25, 81, total),
            opener=np.full(total, _HUMAN),
            fingerprint=_flip_bits(rng, templates[rng.integers(0, 3, total)], 4),
            prompt_chars=rng.integers(60, 400, total),
            think_s=np.clip(_lognormal(rng, 300, 0.8, total), 30, 3600),
        )
        self._expand(rng, conv, tool=_CLAUDE, step_gap_s=(12.0, 0.5))

    # ---- output tables ---------------------------------------------------------------------------

    def _kept(self, person: np.ndarray, ts_ms: np.ndarray) -> np.ndarray:
        """Rows inside the period whose UTC date lies within the person's employment window.

        Sessions are placed in local time, so this only trims the edges: a Sydney morning on the
        first day is the previous UTC day, and an evening run can cross the period's end.
        """
        r = self.roster
        epoch_day = ts_ms // (_DAY_S * 1000)
        first = int(self.cal.day_epoch_s[0] // _DAY_S)
        low = np.full(r.size, first, dtype=np.int64)
        high = np.full(r.size, first + self.cal.days - 1, dtype=np.int64)
        for p in range(r.n_people):
            low[p] = max(low[p], (r.active_from[p] - _EPOCH).days)
            if r.active_to[p] is not None:
                high[p] = min(high[p], (r.active_to[p] - _EPOCH).days)
        return (epoch_day >= low[person]) & (epoch_day <= high[person])

    def events_table(self) -> pa.Table:
        ev = _concat(self.events, _Events)
        self.events.clear()  # the batches are copied; drop them before building the big table
        ts_ms = np.floor(ev.ts_s * 1000).astype(np.int64)
        keep = self._kept(ev.person, ts_ms)
        order = np.flatnonzero(keep)[np.argsort(ts_ms[keep], kind="stable")]
        n = len(order)
        prompt = ev.prompt[order]
        chars = ev.prompt_chars[order]
        return pa.table(
            {
                "event_id": _ids("e-", np.arange(1, n + 1), 8),
                "ts": pa.array(ts_ms[order] * 1000, pa.timestamp("us", tz="UTC")),
                "user_id": _lookup(self.roster.user_ids, ev.person[order]),
                "tool": _lookup(_TOOLS, ev.tool[order]),
                "model": _lookup(_MODELS, ev.model[order]),
                "session_id": _ids("s-", ev.session[order], 7),
                "prompt_id": _ids("p-", prompt, 8, null=prompt < 0),
                "initiated_by": _lookup(_INITIATORS, ev.initiated[order]),
                "input_tokens": pa.array(ev.input_tokens[order], pa.int64()),
                "output_tokens": pa.array(ev.output_tokens[order], pa.int64()),
                "cache_read_tokens": pa.array(ev.cache_read_tokens[order], pa.int64()),
                "cache_write_tokens": pa.array(ev.cache_write_tokens[order], pa.int64()),
                "cost_usd": pa.nulls(n, pa.float64()),
                "prompt_chars": pa.array(chars, pa.int64(), mask=chars < 0),
                "prompt_fingerprint": _hex16(ev.fingerprint[order], ev.has_fingerprint[order]),
            }
        )

    def outcomes_table(self) -> pa.Table:
        oc = _concat(self.outcomes, _Outcomes)
        ts_ms = np.floor(oc.ts_s * 1000).astype(np.int64)
        keep = self._kept(oc.person, ts_ms)
        order = np.flatnonzero(keep)[np.argsort(ts_ms[keep], kind="stable")]
        n = len(order)
        tool = oc.tool[order]
        session = oc.session[order]
        return pa.table(
            {
                "outcome_id": _ids("o-", np.arange(1, n + 1), 8),
                "ts": pa.array(ts_ms[order] * 1000, pa.timestamp("us", tz="UTC")),
                "user_id": _lookup(self.roster.user_ids, oc.person[order]),
                "kind": _lookup(_KINDS, oc.kind[order]),
                "quantity": pa.array(oc.quantity[order], pa.int64()),
                "tool": _lookup(_TOOLS, np.maximum(tool, 0), null=tool < 0),
                "session_id": _ids("s-", session, 7, null=session < 0),
            }
        )

    def daily_table(self) -> pa.Table:
        d = _concat(self.daily, _Daily)
        user = np.array(self.roster.user_ids)[d.person]
        order = np.lexsort((user, d.day))
        n = len(order)
        origin = (self.cal.start - _EPOCH).days
        return pa.table(
            {
                "day": pa.array((origin + d.day[order]).astype(np.int32), pa.date32()),
                "user_id": _lookup(self.roster.user_ids, d.person[order]),
                "tool": pa.array(np.full(n, _TOOLS[_COPILOT]), pa.string()),
                "model": pa.array(np.full(n, _MODELS[_GPT41]), pa.string()),
                "requests": pa.array(d.requests[order], pa.int64()),
                "human_prompts": pa.array(d.human_prompts[order], pa.int64()),
                "input_tokens": pa.array(d.input_tokens[order], pa.int64()),
                "output_tokens": pa.array(d.output_tokens[order], pa.int64()),
                "cache_read_tokens": pa.array(np.zeros(n, dtype=np.int64), pa.int64()),
                "cache_write_tokens": pa.array(np.zeros(n, dtype=np.int64), pa.int64()),
                "cost_usd": pa.nulls(n, pa.float64()),
                "active_minutes": pa.array(d.active_minutes[order], pa.float64()),
            }
        )


# --------------------------------------------------------------------------------------------
# Arrow encoding and file writing
# --------------------------------------------------------------------------------------------

# Two hex digits per byte value, so a fingerprint is eight table lookups.
_HEX_PAIRS = np.array([list(f"{b:02x}".encode()) for b in range(256)], dtype=np.uint8)


def _hex16(values: np.ndarray, valid: np.ndarray) -> pa.Array:
    """64-bit fingerprints as 16 lowercase hex digits, without a Python loop."""
    text = np.zeros(len(values), dtype="S16")
    big_endian = np.ascontiguousarray(values[valid].astype(">u8")).view(np.uint8).reshape(-1, 8)
    text[valid] = np.ascontiguousarray(_HEX_PAIRS[big_endian].reshape(-1, 16)).view("S16").ravel()
    return pa.array(text, mask=~valid).cast(pa.string())


def _ids(prefix: str, numbers: np.ndarray, width: int, *, null: np.ndarray | None = None) -> pa.Array:
    digits = pa.array(np.asarray(numbers, dtype=np.int64), pa.int64(), mask=null).cast(pa.string())
    return pc.binary_join_element_wise(prefix, pc.utf8_lpad(digits, width=width, padding="0"), "")


def _lookup(values, index: np.ndarray, *, null: np.ndarray | None = None) -> pa.Array:
    taken = pa.array(list(values), pa.string()).take(pa.array(np.asarray(index, dtype=np.int64)))
    if null is not None and null.any():
        taken = pc.if_else(pa.array(null), pa.nulls(len(taken), pa.string()), taken)
    return taken


def _write(table: pa.Table, path: Path) -> None:
    pq.write_table(table, path, compression="zstd")
