"""Daily token demand forecasts, observed and with suspected inflation removed, and finance scenarios on them.

Pure functions over pandas and numpy (no Streamlit). The design, in order:

1. **Series** (`daily_series`): daily genuine, suspected-inflation and declared-automation tokens for a scope
   (the company, one tool, or one top-level org), on a complete calendar. A day on which a tool in the scope
   did not report at all is a *gap*: the scope's value that day is NaN, never a partial sum or a zero. Only a
   tool that reports daily (rows on 90 % of the days of its span) and carries at least 5 % of the scope's
   tokens makes gaps; a weekday-only, sporadic or tiny tool's silent day counts as no use of it.
   Partial edge days (the first and last local day, which only some time zones reach: below a fifth of the same
   weekday in the weeks next to it) are trimmed.
2. **Models** (`fit_component`), each on log(1 + tokens) with weekly seasonality: the seasonal-naive baseline
   (always computed), ETS(A,Ad,A) (damped trend; inner gaps take last week's value, trailing ones are forecast)
   and an unobserved-components
   model (local linear trend + weekly trigonometric seasonal; the Kalman filter skips gaps natively).
   A component that is zero on more than a tenth of its days (e.g. automation in an org with little) is
   forecast by its weekday means of the last four weeks, in tokens, since no log-scale model can fit it.
3. **Paths** (`simulate`): each component's forecast is a Gaussian on the log scale with the model's own
   per-horizon mean and standard deviation. Shocks are correlated across components (the in-sample residual
   correlation) and persist over the horizon (the part of the variance that grows with the horizon is a random
   walk, the rest is daily noise), so sums over many days keep honest widths. No simulated day exceeds three
   times the component's highest day seen (a guard against the log scale's long tail). Seeded: same data, same
   paths.
   observed = genuine + suspected + automation, adjusted = genuine + automation, path by path.
4. **Backtest** (`backtest`): rolling origin, expanding window, 28-day horizon, weekly step; MASE of the path
   median (the point forecast MAE rewards; seasonal naive's median is last week's value) scaled by the
   in-sample seasonal-naive (lag 7) MAE of the history before the last origin, and the share of actual days
   inside the 95 % interval. Every pairing of a model for genuine use and automation (which make up the
   adjusted series) with one for the suspected inflation is scored; the pairing with the lowest MASE summed
   over the observed and adjusted series is used if it beats seasonal naive's sum, else the baseline, and
   `Backtest.note` says so — and names any series on which the pairing used does not beat the baseline.
5. **Scenarios** (`apply_scenario`): numpy over the cached paths only (no refit), so a change costs milliseconds.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass, field, replace
from datetime import date, timedelta

import numpy as np
import pandas as pd

COMPONENTS = ("genuine", "suspected", "automation")
MODELS = ("seasonal_naive", "ets", "uc")
MODEL_LABELS = {
    "seasonal_naive": "Seasonal naive (same weekday last week)",
    "ets": "ETS(A,Ad,A) on log tokens",
    "uc": "Unobserved components (trend + weekly seasonal)",
}
TOKEN_TYPES = ("input", "output", "cache_read", "cache_write")
QUANTILES = {"p50": 0.50, "p90": 0.90, "p95": 0.95}
SEASON = 7
MIN_FIT_DAYS = 28  # four weeks: two full seasons and enough to estimate a trend
BACKTEST_HORIZON = 28
BACKTEST_STEP = 7
BACKTEST_FOLDS = 6
MIN_BACKTEST_DAYS = MIN_FIT_DAYS + BACKTEST_HORIZON
N_PATHS = 1000
SEED = 20_261_125
Z95 = 1.959963984540054
RETIRED_AFTER_DAYS = 14  # a tool silent this long at the end has stopped, rather than being late
PARTIAL_DAY_SHARE = 0.2  # an edge day below this share of the same weekday's median nearby is a partial day
SPARSE_ZERO_SHARE = 0.1
REGULAR_SHARE = 0.9  # a tool with rows on at least this share of the days of its span reports daily
MATERIAL_SHARE = 0.05  # a tool below this share of a scope's tokens cannot make a scope day a gap
# A log-scale Gaussian has a long upper tail: a component whose weekly pattern is erratic would otherwise
# draw days hundreds of times its history. No simulated day exceeds this multiple of the highest day seen.
CAP_MULTIPLE = 3.0
# Interval widths tried, narrowest first, when calibrating the chosen models' intervals on the backtest: the
# narrowest whose 95 % intervals hold 95 % of the backtest days is used (1.0: the models' own).
WIDTHS = (0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.15, 1.3, 1.5, 1.75, 2.0)


# -- series ---------------------------------------------------------------------------------------------


def daily_series(rows: pd.DataFrame, *, tool: str | None = None, org_id: str | None = None) -> pd.DataFrame:
    """One scope's daily tokens on a complete calendar, gaps as NaN.

    Parameters
    ----------
    rows : the demand mart (any grain finer than day x tool x org), with day, tool, org_id and
        genuine_tokens, suspected_tokens, automation_tokens.
    tool, org_id : restrict to one tool or one top-level org (None: the whole company).

    Returns
    -------
    DataFrame indexed by day (daily frequency) with columns genuine, suspected, automation, total;
    every column is NaN on a gap day. Empty when the scope has no usage.

    Raises StoppedReporting when every tool of the scope stopped reporting (silent for more than
    RETIRED_AFTER_DAYS before the last day any tool reported): its forecast would start in the past.
    """
    empty = pd.DataFrame(columns=[*COMPONENTS, "total"], index=pd.DatetimeIndex([], freq="D", name="day"))
    if rows.empty:
        return empty
    rows = rows.assign(day=pd.to_datetime(rows["day"]))
    reported = rows.groupby("tool")["day"].agg(["min", "max"])
    last_day = reported["max"].max()
    scope = _in_scope(rows, tool, org_id)
    if scope.empty:
        return empty
    tools = sorted(scope["tool"].unique())
    current = [t for t in tools if reported.at[t, "max"] >= last_day - pd.Timedelta(days=RETIRED_AFTER_DAYS)]
    if not current:
        stopped = max(reported.at[t, "max"] for t in tools)
        what = f"the tool {tool}" if tool is not None and org_id is None else "this scope"
        raise StoppedReporting(
            f"{what} stopped reporting on {stopped:%Y-%m-%d} (the data runs to {last_day:%Y-%m-%d}), so there is "
            "nothing current to forecast"
        )
    # A scope day is a gap when one of its daily sources, inside the span it reports over, sent nothing at all.
    # Only a tool that normally reports every day (rows on at least REGULAR_SHARE of its span) and carries a
    # material share of the scope's tokens makes a gap: a weekday-only or sporadic tool's silent day, or a tiny
    # tool's, is no use of it (zero), and must not wipe out the whole scope's day (nor end the series early).
    present = set(zip(rows["tool"], rows["day"], strict=True))
    reported_days = rows.groupby("tool")["day"].nunique()
    volume = scope.groupby("tool")[[f"{c}_tokens" for c in COMPONENTS]].sum().sum(axis=1)
    scope_volume = float(volume.sum())
    daily_source = {
        t: (
            reported_days[t] / ((reported.at[t, "max"] - reported.at[t, "min"]).days + 1) >= REGULAR_SHARE
            and scope_volume > 0
            and float(volume.get(t, 0.0)) / scope_volume >= MATERIAL_SHARE
        )
        for t in tools
    }
    ends = [reported.at[t, "max"] for t in current if daily_source[t]] or [reported.at[t, "max"] for t in current]
    end = min(ends) if ends else scope["day"].max()
    start = scope["day"].min()
    if end < start:
        return empty
    days = pd.date_range(start, end, freq="D", name="day")
    sums = (
        scope.groupby("day")[[f"{c}_tokens" for c in COMPONENTS]]
        .sum()
        .rename(columns=lambda c: c.removesuffix("_tokens"))
        .reindex(days, fill_value=0)
        .astype(float)
    )
    gap = np.zeros(len(days), dtype=bool)
    for t in (t for t in tools if daily_source[t]):
        first, last = reported.at[t, "min"], (end if t in current else reported.at[t, "max"])
        live = (days >= first) & (days <= last)
        gap |= live & np.array([(t, d) not in present for d in days])
    sums.loc[gap] = np.nan
    sums["total"] = sums[list(COMPONENTS)].sum(axis=1, min_count=len(COMPONENTS))
    sums = _trim_partial_edges(sums)
    sums.index.freq = "D"
    return sums


def current_tools(rows: pd.DataFrame) -> list[str]:
    """Tools that still report: a row within RETIRED_AFTER_DAYS of the last day any tool reported."""
    if rows.empty:
        return []
    last = pd.to_datetime(rows["day"]).groupby(rows["tool"]).max()
    return sorted(last.index[last >= last.max() - pd.Timedelta(days=RETIRED_AFTER_DAYS)])


def _trim_partial_edges(frame: pd.DataFrame) -> pd.DataFrame:
    """Drop leading and trailing partial days (local days only a few time zones reach).

    An edge day is compared with the same weekday in the (up to four) weeks next to it, so a quiet weekend is
    not mistaken for a partial day.
    """
    total = frame["total"]
    while len(total) > SEASON * 2:
        ref = total.iloc[SEASON::SEASON].iloc[:4].median()
        if pd.isna(total.iloc[0]) or (pd.notna(ref) and total.iloc[0] < PARTIAL_DAY_SHARE * ref):
            total = total.iloc[1:]
        else:
            break
    while len(total) > SEASON * 2:
        ref = total.iloc[-SEASON - 1 :: -SEASON].iloc[:4].median()
        if pd.isna(total.iloc[-1]) or (pd.notna(ref) and total.iloc[-1] < PARTIAL_DAY_SHARE * ref):
            total = total.iloc[:-1]
        else:
            break
    return frame.loc[total.index]


def observed_days(series: pd.DataFrame) -> int:
    return int(series["total"].notna().sum()) if len(series) else 0


# -- models ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ComponentFit:
    """One component's forecast on the log1p scale: per-horizon mean and sd, and in-sample residuals."""

    model: str
    mean: np.ndarray
    sd: np.ndarray
    resid: np.ndarray  # aligned with the history; NaN where unknown
    log_scale: bool = True  # False: mean and sd are tokens per day (the sparse fallback)
    cap: float = math.inf  # no simulated day above this many tokens (CAP_MULTIPLE x the highest day seen)


def _seasonal_naive(y: pd.Series, horizon: int) -> ComponentFit:
    values = y.to_numpy(dtype=float)
    n = len(values)
    resid = np.full(n, np.nan)
    resid[SEASON:] = values[SEASON:] - values[:-SEASON]
    pooled = float(np.sqrt(np.nanmean(resid**2))) if np.isfinite(resid).any() else 0.0
    # each weekday's own spread: quiet weekends are far noisier in relative terms than working days
    sigma = np.full(SEASON, pooled)
    for k in range(SEASON):
        same = resid[k::SEASON]
        same = same[np.isfinite(same)]
        if len(same) >= 3:
            sigma[k] = float(np.sqrt(np.mean(same**2)))
    # the last observed value on each weekday (a gap falls back to the same weekday a week earlier)
    last = {}
    for i in range(n - 1, -1, -1):
        k = i % SEASON
        if k not in last and np.isfinite(values[i]):
            last[k] = values[i]
        if len(last) == SEASON:
            break
    fallback = float(np.nanmean(values)) if np.isfinite(values).any() else 0.0
    steps = np.arange(1, horizon + 1)
    weekday = (n - 1 + steps) % SEASON
    mean = np.array([last.get(k, fallback) for k in weekday])
    sd = sigma[weekday] * np.sqrt(np.ceil(steps / SEASON))
    return ComponentFit("seasonal_naive", mean, sd, resid)


def _ets(y: pd.Series, horizon: int) -> ComponentFit:
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    # Trailing gap days are not filled: the model is fitted to the last reported day and forecasts through
    # them. Inner gaps take the same weekday's value a week earlier (ETS needs a value every day).
    known = np.flatnonzero(y.notna().to_numpy())
    late = len(y) - 1 - int(known[-1])
    filled = _fill_gaps(y.iloc[: len(y) - late])
    model = ETSModel(filled, error="add", trend="add", damped_trend=True, seasonal="add", seasonal_periods=SEASON)
    res = model.fit(disp=False, maxiter=200)
    frame = res.get_prediction(start=len(filled), end=len(filled) + late + horizon - 1).summary_frame(alpha=0.05)
    frame = frame.iloc[late:]
    sd = (frame["pi_upper"].to_numpy() - frame["pi_lower"].to_numpy()) / (2 * Z95)
    resid = np.full(len(y), np.nan)
    resid[: len(filled)] = np.asarray(res.resid, dtype=float)
    resid[y.isna().to_numpy()] = np.nan
    return ComponentFit("ets", frame["mean"].to_numpy(), sd, resid)


def _fill_gaps(y: pd.Series) -> pd.Series:
    """Gap days filled with the same weekday a week earlier (else a straight line), for models that need them."""
    values = y.to_numpy(dtype=float).copy()
    for i in np.flatnonzero(~np.isfinite(values)):
        if i >= SEASON and np.isfinite(values[i - SEASON]):
            values[i] = values[i - SEASON]
    return pd.Series(values, index=y.index).interpolate(limit_direction="both")


def _uc(y: pd.Series, horizon: int) -> ComponentFit:
    from statsmodels.tsa.statespace.structural import UnobservedComponents

    model = UnobservedComponents(y, level="local linear trend", freq_seasonal=[{"period": SEASON, "harmonics": 3}])
    res = model.fit(disp=False, maxiter=200)
    fc = res.get_forecast(horizon)
    resid = np.asarray(res.resid, dtype=float).copy()
    resid[: SEASON * 2] = np.nan  # the diffuse start is not a forecast error
    resid[y.isna().to_numpy()] = np.nan
    return ComponentFit("uc", np.asarray(fc.predicted_mean), np.sqrt(np.asarray(fc.var_pred_mean)), resid)


def _weekday_mean(tokens: pd.Series, horizon: int) -> ComponentFit:
    """For sparse components: each weekday's mean and spread over the last four weeks, in tokens per day."""
    values = tokens.to_numpy(dtype=float)
    n = len(values)
    recent = values[-4 * SEASON :]
    offset = n - len(recent)
    mean, sd = np.zeros(SEASON), np.zeros(SEASON)
    for k in range(SEASON):
        same = np.array([v for i, v in enumerate(recent) if (offset + i) % SEASON == k and np.isfinite(v)])
        if len(same):
            mean[k], sd[k] = same.mean(), same.std()
    steps = (n - 1 + np.arange(1, horizon + 1)) % SEASON
    weekly = pd.Series(values).rolling(SEASON, min_periods=SEASON).sum().to_numpy()
    resid = np.full(n, np.nan)
    resid[SEASON:] = weekly[SEASON:] - weekly[:-SEASON]
    return ComponentFit("weekday_mean", mean[steps], sd[steps], resid, log_scale=False)


_FITTERS = {"seasonal_naive": _seasonal_naive, "ets": _ets, "uc": _uc}


def fit_component(tokens: pd.Series, model: str, *, horizon: int) -> ComponentFit:
    """Forecast one component (tokens per day, NaN gaps) `horizon` days ahead with `model`, on log1p.

    Falls back to seasonal naive for a sparse component (zero on more than a tenth of its days) or when a
    model fails to fit; an all-zero component forecasts zero.
    """
    if model not in _FITTERS:
        raise ValueError(f"unknown model {model!r}: use {', '.join(MODELS)}")
    values = tokens.astype(float)
    known = values.dropna()
    if len(known) == 0 or (known == 0).all():
        zeros = np.zeros(horizon)
        return ComponentFit("zero", zeros, zeros, np.full(len(values), np.nan))
    if (known == 0).mean() > SPARSE_ZERO_SHARE or known.nunique() < 3:
        return replace(_weekday_mean(values, horizon), cap=float(known.max()) * CAP_MULTIPLE)
    y = np.log1p(values.clip(lower=0))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = _FITTERS[model](y, horizon)
    except (ValueError, np.linalg.LinAlgError) as exc:
        if model == "seasonal_naive":
            raise
        fit = replace(_seasonal_naive(y, horizon), model=f"seasonal_naive (the {model} fit failed: {exc})")
    if not (np.isfinite(fit.mean).all() and np.isfinite(fit.sd).all()):
        fit = _seasonal_naive(y, horizon)
    return replace(fit, cap=float(known.max()) * CAP_MULTIPLE)


def simulate(fits: dict[str, ComponentFit], *, n_paths: int = N_PATHS, seed: int = SEED) -> dict[str, np.ndarray]:
    """Sample paths (n_paths x horizon, tokens per day) for each component, jointly.

    Shocks are standard normals correlated across components by the in-sample residual correlation; the
    share of each step's variance beyond the first step's is a random walk (persistent level error), the
    rest independent daily noise. Paths are exp of the log-scale draws minus one, floored at zero and capped at
    CAP_MULTIPLE times the component's highest day.
    """
    names = list(fits)
    horizon = len(next(iter(fits.values())).mean)
    chol = np.linalg.cholesky(_correlation([fits[c].resid for c in names]))
    # Draws are made day by day (horizon first) from two streams of their own, so a longer horizon only adds
    # days: the first 90 days of a 365-day forecast are the 90-day forecast, path for path.
    daily = np.random.default_rng([seed, 0]).standard_normal((horizon, n_paths, len(names))).transpose(1, 0, 2)
    steps = np.random.default_rng([seed, 1]).standard_normal((horizon, n_paths, len(names))).transpose(1, 0, 2)
    daily = daily @ chol.T
    walk = np.cumsum(steps @ chol.T, axis=1)
    walk /= np.sqrt(np.arange(1, horizon + 1))[None, :, None]
    out = {}
    for i, c in enumerate(names):
        fit = fits[c]
        sd = np.maximum(fit.sd, 0.0)
        persistent = np.where(sd > 0, 1.0 - np.minimum((sd[0] / np.where(sd > 0, sd, 1.0)) ** 2, 1.0), 0.0)
        z = np.sqrt(persistent)[None, :] * walk[:, :, i] + np.sqrt(1.0 - persistent)[None, :] * daily[:, :, i]
        draws = fit.mean[None, :] + sd[None, :] * z
        if fit.log_scale:  # capped before exp, so a far tail cannot overflow
            draws = np.expm1(np.minimum(draws, np.log1p(fit.cap)))
        out[c] = np.clip(draws, 0.0, fit.cap)
    return out


def _correlation(residuals: list[np.ndarray]) -> np.ndarray:
    k = len(residuals)
    stacked = np.vstack(residuals)
    ok = np.isfinite(stacked).all(axis=0)
    corr = np.eye(k)
    if ok.sum() >= 10:
        data = stacked[:, ok]
        sd = data.std(axis=1)
        live = sd > 0
        if live.sum() >= 2:
            sub = np.corrcoef(data[live])
            idx = np.flatnonzero(live)
            corr[np.ix_(idx, idx)] = np.nan_to_num(sub)
    # shrink a little towards independence so the matrix stays positive definite
    corr = 0.95 * corr + 0.05 * np.eye(k)
    np.fill_diagonal(corr, 1.0)
    return corr


def observed_paths(paths: dict[str, np.ndarray]) -> np.ndarray:
    return paths["genuine"] + paths["suspected"] + paths["automation"]


def adjusted_paths(paths: dict[str, np.ndarray]) -> np.ndarray:
    return paths["genuine"] + paths["automation"]


SUMMARY = ("mean", "lower", "upper", "p50", "p90", "p95")  # summarise's columns after day, in order


def summarise(paths: np.ndarray, days: pd.DatetimeIndex) -> pd.DataFrame:
    """Columns: day, mean, lower, upper (95 % interval), p50, p90, p95 — tokens per day."""
    return _summary_frame(_summary(paths), days)


def _summary(paths: np.ndarray, quantiles: np.ndarray | None = None) -> np.ndarray:
    """summarise's columns as rows (SUMMARY x days); `quantiles`: _quantiles(paths), when known."""
    q = _quantiles(paths) if quantiles is None else quantiles
    return np.stack([paths.mean(axis=0), q[0], q[4], q[1], q[2], q[3]])


def _quantiles(paths: np.ndarray) -> np.ndarray:
    """The 2.5, 50, 90, 95 and 97.5 % points of each day's paths (5 x days). Each day's are its column's alone, so
    those of the first n days are the first n columns of those of more days. (The mean is not kept so: numpy sums a
    column in another order when the array is sliced to fewer days, and it is cheap to take again.)"""
    return np.quantile(paths, [0.025, 0.5, 0.9, 0.95, 0.975], axis=0)


def _summary_frame(summary: np.ndarray, days: pd.DatetimeIndex) -> pd.DataFrame:
    return pd.DataFrame({"day": days, **dict(zip(SUMMARY, summary, strict=True))})


# -- backtest -------------------------------------------------------------------------------------------


@dataclass
class Backtest:
    """Rolling-origin accuracy per model and series (observed, adjusted), and the models chosen from it.

    `table` columns: model, series, mase, coverage, folds, days (scored day count). Besides one row per
    candidate model and series, model "chosen" scores the combination `choice` actually used, on the same
    origins it was chosen on (the best of 9 pairings there: an in-sample, optimistic figure), and model
    "held_out" scores the choice rule honestly: the pairing it picks on the earlier half of the origins, scored
    on the later half only (it may differ from `choice`). The seasonal-naive point forecast is exact (last
    week's value), not simulated.
    `choice`: component -> model; `note`: a plain sentence on the choice.
    """

    table: pd.DataFrame
    origins: list[date]
    horizon: int
    scale: dict[str, float]
    choice: dict[str, str] = field(default_factory=lambda: dict.fromkeys(COMPONENTS, "seasonal_naive"))
    note: str = ""
    width: float = 1.0  # the chosen models' interval widths are multiplied by this (see `backtest`)

    def mase(self, model: str = "chosen", series: str = "observed") -> float:
        row = self.table[(self.table["model"] == model) & (self.table["series"] == series)]
        return float(row["mase"].iloc[0]) if len(row) else math.nan

    def coverage(self, model: str = "chosen", series: str = "observed") -> float:
        row = self.table[(self.table["model"] == model) & (self.table["series"] == series)]
        return float(row["coverage"].iloc[0]) if len(row) else math.nan

    def beats_baseline(self, series: str) -> bool:
        """The models used beat seasonal naive on `series`. The adjusted series is genuine use plus automation,
        so when those are the baseline's, nothing beat it there (whatever Monte Carlo noise says)."""
        used = self.choice["genuine"] if series == "adjusted" else None
        if used == "seasonal_naive" or set(self.choice.values()) == {"seasonal_naive"}:
            return False
        return self.mase("chosen", series) < self.mase("seasonal_naive", series)


def seasonal_naive_point(history: pd.Series, horizon: int) -> np.ndarray:
    """The seasonal-naive point forecast: each weekday's last observed value (a gap: the week before)."""
    values = history.to_numpy(dtype=float)
    n = len(values)
    last = {}
    for i in range(n - 1, -1, -1):
        if i % SEASON not in last and np.isfinite(values[i]):
            last[i % SEASON] = values[i]
        if len(last) == SEASON:
            break
    fallback = float(np.nanmean(values)) if np.isfinite(values).any() else 0.0
    return np.array([last.get((n + h) % SEASON, fallback) for h in range(horizon)])


def seasonal_naive_mae(values: pd.Series) -> float:
    """In-sample MAE of the lag-7 seasonal-naive forecast (the MASE scale); NaN gaps skipped."""
    y = values.to_numpy(dtype=float)
    diff = np.abs(y[SEASON:] - y[:-SEASON])
    diff = diff[np.isfinite(diff)]
    return float(diff.mean()) if len(diff) else math.nan


SERIES = ("observed", "adjusted")


def backtest(
    history: pd.DataFrame,
    *,
    horizon: int = BACKTEST_HORIZON,
    step: int = BACKTEST_STEP,
    folds: int = BACKTEST_FOLDS,
    min_train: int = MIN_FIT_DAYS,
    models: tuple[str, ...] = MODELS,
    n_paths: int = N_PATHS,
    seed: int = SEED,
    calibrate_width: bool = True,
) -> Backtest:
    """Rolling-origin backtest: expanding window, `horizon` days ahead, origins `step` days apart (the
    latest `folds` that leave `min_train` days to fit), then the choice of models (see `choose`).

    Each model is fitted once per origin and component; combinations are only re-simulated. Empty table
    (and seasonal naive chosen) when the history is too short.
    """
    n = len(history)
    origins = sorted(o for o in (n - horizon - k * step for k in range(folds)) if o >= min_train)
    actual = {"observed": history["total"], "adjusted": history["genuine"] + history["automation"]}
    scale = {name: seasonal_naive_mae(s.iloc[: origins[-1]]) if origins else math.nan for name, s in actual.items()}
    fits = {
        (i, model): {c: fit_component(history[c].iloc[:o], model, horizon=horizon) for c in COMPONENTS}
        for i, o in enumerate(origins)
        for model in models
    }

    parts = {"observed": COMPONENTS, "adjusted": ("genuine", "automation")}

    def score_folds(
        assign: dict[str, str], width: float = 1.0, which: list[int] | None = None
    ) -> list[dict[str, tuple[np.ndarray, np.ndarray]]]:
        """Per origin and series: absolute errors of the point forecast and whether each day was inside
        (intervals `width` times the models' own; only the origins `which`, the others left empty)."""
        out = []
        for i, o in enumerate(origins):
            if which is not None and i not in which:
                out.append({})
                continue
            picked = {c: fits[i, assign[c]][c] for c in COMPONENTS}
            if width != 1.0:
                picked = {c: replace(f, sd=f.sd * width) for c, f in picked.items()}
            paths = simulate(picked, n_paths=n_paths, seed=seed)
            fold = {}
            for name, sims in (("observed", observed_paths(paths)), ("adjusted", adjusted_paths(paths))):
                truth = actual[name].iloc[o : o + horizon].to_numpy(dtype=float)
                ok = np.isfinite(truth)
                lower, median, upper = np.quantile(sims, [0.025, 0.5, 0.975], axis=0)
                if all(assign[c] == "seasonal_naive" for c in parts[name]):
                    # the baseline's point forecast is exactly last week's value, not a Monte Carlo median
                    median = seasonal_naive_point(actual[name].iloc[:o], len(truth))
                fold[name] = (np.abs(median - truth)[ok], ((truth >= lower) & (truth <= upper))[ok])
            out.append(fold)
        return out

    def aggregate(per_fold: list[dict], which: list[int]) -> dict[str, dict]:
        out = {}
        for name in SERIES:
            err = np.concatenate([per_fold[i][name][0] for i in which]) if which else np.array([])
            inside = np.concatenate([per_fold[i][name][1] for i in which]) if which else np.array([])
            out[name] = {
                "mase": float(err.mean() / scale[name]) if len(err) and scale[name] > 0 else math.nan,
                "coverage": float(np.mean(inside)) if len(inside) else math.nan,
                "folds": len(which),
                "days": len(err),
            }
        return out

    def calibrate(assign: dict[str, str], which: list[int]) -> tuple[float, list[dict]]:
        """The narrowest width on WIDTHS whose 95 % intervals hold at least 95 % of the days of both series on
        the origins `which` (the widest when none does), and its per-origin scores."""
        for width in WIDTHS:
            scored = score_folds(assign, width, which)
            agg = aggregate(scored, which)
            if all(agg[name]["coverage"] >= 0.95 for name in SERIES) or width == WIDTHS[-1]:
                return width, scored
        raise AssertionError("unreachable")

    rows = []
    choice = dict.fromkeys(COMPONENTS, "seasonal_naive")
    width = 1.0
    if origins:
        # every pairing of a model for genuine use and automation (the adjusted series) with one for the
        # suspected inflation; fits are shared, only the simulation is redone per pairing
        per_fold = {
            (a, b): score_folds({"genuine": a, "automation": a, "suspected": b}) for a in models for b in models
        }
        everything = list(range(len(origins)))
        combos = {k: aggregate(v, everything) for k, v in per_fold.items()}
        for m in models:
            rows += [{"model": m, "series": name, **combos[m, m][name]} for name in SERIES]
        a, b = _best(combos)
        choice = {"genuine": a, "automation": a, "suspected": b}
        chosen = per_fold[a, b]
        if calibrate_width:
            # the models' own intervals, widened or narrowed so the backtest's 95 % intervals hold 95 %
            width, chosen = calibrate(choice, everything)
        rows += [{"model": "chosen", "series": name, **aggregate(chosen, everything)[name]} for name in SERIES]
        if len(origins) >= 2:
            # nested: the same choice rule (pairing, then width) on the earlier origins only, scored on the later
            # ones it never saw
            early, late = everything[: len(origins) // 2], everything[len(origins) // 2 :]
            ea, eb = _best({k: aggregate(v, early) for k, v in per_fold.items()})
            held = {"genuine": ea, "automation": ea, "suspected": eb}
            held_width = calibrate(held, early)[0] if calibrate_width else 1.0
            scored = score_folds(held, held_width, late)
            rows += [{"model": "held_out", "series": name, **aggregate(scored, late)[name]} for name in SERIES]
    table = pd.DataFrame(rows, columns=["model", "series", "mase", "coverage", "folds", "days"])
    when = [pd.Timestamp(history.index[o]).date() for o in origins]
    bt = Backtest(table, when, horizon, scale, choice, width=width)
    bt.note = describe_choice(bt)
    return bt


def _best(combos: dict[tuple[str, str], dict]) -> tuple[str, str]:
    """The pairing with the lowest MASE summed over the observed and adjusted series, if that sum is strictly
    below seasonal naive's (else seasonal naive throughout)."""
    naive = ("seasonal_naive", "seasonal_naive")

    def total(key):
        value = combos[key]["observed"]["mase"] + combos[key]["adjusted"]["mase"]
        return value if np.isfinite(value) else math.inf

    best = min(combos, key=lambda k: (total(k), k.count("seasonal_naive") * -1))
    return best if naive not in combos or total(best) < total(naive) else naive


def model_label(choice: dict[str, str]) -> str:
    """One line for the models used: 'ets', or 'ets (suspected: seasonal_naive)'."""
    main = choice["genuine"]
    return main if choice["suspected"] == main else f"{main} (suspected: {choice['suspected']})"


SERIES_NAMES = {"observed": "observed demand", "adjusted": "demand without suspected inflation"}


def describe_choice(bt: Backtest) -> str:
    """Plain sentences on which models are used and why, saying so wherever none beats the baseline, and how
    the intervals were calibrated."""
    text = _describe_models(bt)
    if not bt.table.empty and bt.width != 1.0:
        cover = {s: bt.coverage("chosen", s) for s in SERIES}
        measured = f"{cover['observed']:.0%} observed, {cover['adjusted']:.0%} adjusted"
        if all(v >= 0.95 for v in cover.values()):
            text += (
                f" The intervals are {bt.width:g}× the models' own: the narrowest width tried whose 95 % intervals "
                f"held at least 95 % of the backtest days ({measured}, measured on the same days, so the held-out "
                "row is the honest check)."
            )
        else:
            text += (
                f" The intervals are {bt.width:g}× the models' own, the widest tried, and still held only {measured} "
                "of the backtest days: they are too narrow."
            )
    return text


def _describe_models(bt: Backtest) -> str:
    if bt.table.empty:
        return (
            f"Too little history for a backtest (it needs {MIN_BACKTEST_DAYS} days), so the forecast uses the "
            "seasonal-naive baseline: each weekday as it was last week."
        )
    used = {s: bt.mase("chosen", s) for s in SERIES}
    naive = {s: bt.mase("seasonal_naive", s) for s in SERIES}
    if set(bt.choice.values()) == {"seasonal_naive"}:
        return (
            "No model beat the seasonal-naive baseline in the backtest (its MASE "
            f"{naive['observed']:.2f} observed, {naive['adjusted']:.2f} adjusted), so the forecast uses the "
            "baseline: each weekday as it was last week."
        )
    a, b = bt.choice["genuine"], bt.choice["suspected"]
    models = (
        f"{MODEL_LABELS[a]} for everything"
        if a == b
        else f"{MODEL_LABELS[a]} for genuine use and automation, {MODEL_LABELS[b]} for the suspected inflation"
    )
    n_pairings = len(set(bt.table["model"]) & set(MODELS)) ** 2
    text = (
        f"Used: {models} — the lowest error over both series among the {n_pairings} pairings in the backtest. "
        f"MASE observed {used['observed']:.2f} against {naive['observed']:.2f} for seasonal naive, adjusted "
        f"{used['adjusted']:.2f} against {naive['adjusted']:.2f} (best of {n_pairings} on the same origins it was "
        "chosen on: an in-sample choice, so optimistic)."
    )
    held = {s: bt.mase("held_out", s) for s in SERIES}
    if all(np.isfinite(v) for v in held.values()):
        text += (
            " Chosen on the earlier origins alone and scored on the later ones, the choice has MASE observed "
            f"{held['observed']:.2f}, adjusted {held['adjusted']:.2f}."
        )
    if a == "seasonal_naive":
        text += f" No model beat the baseline on {SERIES_NAMES['adjusted']}, so it is the baseline's forecast."
    for s in SERIES:
        if not bt.beats_baseline(s) and not (s == "adjusted" and a == "seasonal_naive"):
            text += f" On {SERIES_NAMES[s]} it does not beat seasonal naive."
    return text


# -- the forecast ---------------------------------------------------------------------------------------


@dataclass
class Forecast:
    """A scope's fitted forecast: history, future days, cached component paths, models and their backtest."""

    history: pd.DataFrame
    days: pd.DatetimeIndex
    paths: dict[str, np.ndarray]
    choice: dict[str, str]  # component -> model chosen by the backtest
    component_models: dict[str, str]  # component -> model actually fitted (fallbacks for sparse components)
    backtest: Backtest
    fit_seconds: float = 0.0
    backtest_seconds: float = 0.0
    caps: dict[str, float] = field(default_factory=dict)  # component -> the cap on its simulated days
    # series (observed, adjusted) -> its paths' quantiles (see `_quantiles`), taken once by `forecast` so that a
    # scenario change does not sort the same paths again; empty: taken when asked for (`fan`)
    quantiles: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def model(self) -> str:
        return model_label(self.choice)

    @property
    def note(self) -> str:
        return self.backtest.note

    @property
    def beats_baseline(self) -> bool:
        """The models used beat seasonal naive on both series in the backtest (False without a backtest)."""
        return not self.backtest.table.empty and all(self.backtest.beats_baseline(s) for s in SERIES)

    @property
    def horizon(self) -> int:
        return len(self.days)

    def observed(self) -> np.ndarray:
        return observed_paths(self.paths)

    def adjusted(self) -> np.ndarray:
        return adjusted_paths(self.paths)

    def fan(self, series: str) -> pd.DataFrame:
        """summarise(self.observed() or self.adjusted(), self.days), with the quantiles kept since the fit."""
        paths = self.observed() if series == "observed" else self.adjusted()
        return _summary_frame(_summary(paths, self.quantiles.get(series)), self.days)

    def truncate(self, horizon: int) -> Forecast:
        """The same forecast over its first `horizon` days (paths are sliced, never refitted)."""
        horizon = min(horizon, self.horizon)
        return replace(
            self,
            days=self.days[:horizon],
            paths={c: p[:, :horizon] for c, p in self.paths.items()},
            quantiles={s: q[:, :horizon] for s, q in self.quantiles.items()},
        )


class TooLittleHistory(ValueError):
    """The scope has fewer observed days than a forecast needs."""


class StoppedReporting(TooLittleHistory):
    """Every tool of the scope stopped reporting: there is no current history to forecast from."""


def forecast(
    history: pd.DataFrame,
    *,
    horizon: int = 90,
    n_paths: int = N_PATHS,
    seed: int = SEED,
    folds: int = BACKTEST_FOLDS,
    models: tuple[str, ...] = MODELS,
) -> Forecast:
    """Backtest the candidate models, choose per part (see `backtest`), and simulate `horizon` days of paths.

    Raises TooLittleHistory with fewer than MIN_FIT_DAYS observed days.
    """
    import time

    if horizon < 1:
        raise ValueError("the horizon must be at least one day")
    have = observed_days(history)
    if have < MIN_FIT_DAYS:
        raise TooLittleHistory(
            f"a forecast needs at least {MIN_FIT_DAYS} days of history with data; this scope has {have}"
        )
    started = time.perf_counter()
    bt = backtest(history, folds=folds, models=models, seed=seed)
    tested = time.perf_counter()
    fits = {c: fit_component(history[c], bt.choice[c], horizon=horizon) for c in COMPONENTS}
    fits = {c: replace(f, sd=f.sd * bt.width) for c, f in fits.items()}
    paths = simulate(fits, n_paths=n_paths, seed=seed)
    days = pd.date_range(history.index[-1] + pd.Timedelta(days=1), periods=horizon, freq="D", name="day")
    return Forecast(
        history,
        days,
        paths,
        dict(bt.choice),
        {c: f.model for c, f in fits.items()},
        bt,
        fit_seconds=time.perf_counter() - tested,
        backtest_seconds=tested - started,
        caps={c: f.cap for c, f in fits.items()},
        quantiles={"observed": _quantiles(observed_paths(paths)), "adjusted": _quantiles(adjusted_paths(paths))},
    )


def contract_table(fc: Forecast, inflation_kept: float = 0.0) -> pd.DataFrame:
    """The `forecast --out` CSV: day, observed_mean/lower/upper, adjusted_mean/lower/upper (tokens per day,
    95 % interval). Adjusted keeps `inflation_kept` of the suspected inflation (0: all of it removed; 1: equal
    to observed, path for path)."""
    obs = summarise(fc.observed(), fc.days)
    adj = summarise(apply_scenario(fc, Scenario(inflation_kept=inflation_kept)), fc.days)
    out = pd.DataFrame({"day": fc.days.strftime("%Y-%m-%d")})
    for prefix, frame in (("observed", obs), ("adjusted", adj)):
        for col in ("mean", "lower", "upper"):
            out[f"{prefix}_{col}"] = frame[col].round(0).astype("int64").to_numpy()
    return out


# -- scenarios ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    """Finance's assumptions. Defaults: inflation stops at once (0 % kept), no growth, no rollout.

    inflation_kept: share (0-1) of suspected-inflation use that continues in the long run.
    change_date: the day incentives change (None: the first forecast day); before it all inflation continues.
    fade_days: days over which inflation falls linearly from 100 % to `inflation_kept` (0: at once).
    growth_pct_per_year: organic growth of genuine use on top of the model's own trend, % per year.
    rollout_date / rollout_headcount: people added on that day, each using the scope's genuine tokens per head.
    usd_per_mtok_*: price per million tokens by type; tokens are split by the observed type mix.
    tokens_per_gpu_hour, usd_per_gpu_hour: serving throughput and the cost of a GPU-hour.
    quantile: p50, p90 or p95 — the demand level capacity is provisioned for.
    """

    inflation_kept: float = 0.0
    change_date: date | None = None
    fade_days: int = 0
    growth_pct_per_year: float = 0.0
    rollout_date: date | None = None
    rollout_headcount: int = 0
    usd_per_mtok_input: float = 3.0
    usd_per_mtok_output: float = 15.0
    usd_per_mtok_cache_read: float = 0.30
    usd_per_mtok_cache_write: float = 3.75
    tokens_per_gpu_hour: float = 5_000_000.0
    usd_per_gpu_hour: float = 2.50
    quantile: str = "p90"

    def validate(self) -> Scenario:
        """Self, or ValueError naming the first value out of range."""
        if not 0.0 <= self.inflation_kept <= 1.0:
            raise ValueError(f"inflation kept must be between 0 and 1, not {self.inflation_kept}")
        if not 0 <= self.fade_days <= 3650:
            raise ValueError(f"fade days must be between 0 and 3650, not {self.fade_days}")
        if not -100.0 < self.growth_pct_per_year <= 1000.0:
            raise ValueError(f"growth must be above -100 % and at most 1000 % a year, not {self.growth_pct_per_year}")
        if not 0 <= self.rollout_headcount <= 10_000_000:
            raise ValueError(f"rollout headcount must be between 0 and 10,000,000, not {self.rollout_headcount}")
        for t in TOKEN_TYPES:
            price = getattr(self, f"usd_per_mtok_{t}")
            if not (math.isfinite(price) and 0.0 <= price <= 10_000.0):
                raise ValueError(f"the {t.replace('_', ' ')} price must be between 0 and 10,000 USD per Mtok")
        if not (math.isfinite(self.tokens_per_gpu_hour) and self.tokens_per_gpu_hour > 0):
            raise ValueError("tokens per GPU-hour must be positive")
        if not (math.isfinite(self.usd_per_gpu_hour) and self.usd_per_gpu_hour >= 0):
            raise ValueError("the cost of a GPU-hour cannot be negative")
        if self.quantile not in QUANTILES:
            raise ValueError(f"the quantile must be one of {', '.join(QUANTILES)}")
        return self

    def as_dict(self) -> dict:
        out = asdict(self)
        for key in ("change_date", "rollout_date"):
            out[key] = out[key].isoformat() if out[key] else None
        return out

    @classmethod
    def from_dict(cls, values: dict) -> Scenario:
        """A scenario from `as_dict` output; ValueError or TypeError when it is not one (not an object, a date
        that is not an ISO date, a number that is not a number)."""
        if not isinstance(values, dict):
            raise TypeError(f"a scenario is an object, not {type(values).__name__}")
        known = {f for f in cls.__dataclass_fields__}
        clean = {k: v for k, v in values.items() if k in known}
        for key in ("change_date", "rollout_date"):
            value = clean.get(key)
            if isinstance(value, str):
                clean[key] = date.fromisoformat(value)
            elif value is not None and not isinstance(value, date):
                raise TypeError(f"{key.replace('_', ' ')} must be a date, not {value!r}")
        for key in ("quantile",):
            if key in clean and not isinstance(clean[key], str):
                raise TypeError(f"the quantile must be text, not {clean[key]!r}")
        for key, value in clean.items():
            if key not in ("change_date", "rollout_date", "quantile") and (
                isinstance(value, bool) or not isinstance(value, (int, float))
            ):
                raise TypeError(f"{key.replace('_', ' ')} must be a number, not {value!r}")
        return cls(**clean).validate()


def retained_share(days: pd.DatetimeIndex, scenario: Scenario) -> np.ndarray:
    """Share of suspected inflation that continues on each day: 1 before the change date, then a linear
    fade over `fade_days` to `inflation_kept` (at once when fade_days is 0)."""
    start = pd.Timestamp(scenario.change_date) if scenario.change_date else days[0]
    elapsed = (days - start).days.to_numpy(dtype=float)
    if scenario.fade_days > 0:
        progress = np.clip((elapsed + 1) / scenario.fade_days, 0.0, 1.0)
    else:
        progress = (elapsed >= 0).astype(float)
    progress[elapsed < 0] = 0.0
    return 1.0 - progress * (1.0 - scenario.inflation_kept)


def genuine_multiplier(days: pd.DatetimeIndex, scenario: Scenario, *, headcount: int = 0) -> np.ndarray:
    """Factor on genuine use per day: organic growth compounding from the first forecast day, times the
    rollout's step (1 + added / current headcount) from the rollout date."""
    t = np.arange(1, len(days) + 1, dtype=float)
    factor = (1.0 + scenario.growth_pct_per_year / 100.0) ** (t / 365.0)
    if scenario.rollout_headcount and scenario.rollout_date and headcount > 0:
        after = days >= pd.Timestamp(scenario.rollout_date)
        factor = factor * np.where(after, 1.0 + scenario.rollout_headcount / headcount, 1.0)
    return factor


def apply_scenario(fc: Forecast, scenario: Scenario, *, headcount: int = 0) -> np.ndarray:
    """Total tokens per day under `scenario`, path by path (n_paths x horizon), from the cached paths.

    With inflation_kept = 1 (or a change date after the horizon) and no growth or rollout it is exactly the
    observed forecast; with 0 kept from the first day, exactly the adjusted one.
    """
    kept = retained_share(fc.days, scenario)
    grow = genuine_multiplier(fc.days, scenario, headcount=headcount)
    genuine = fc.paths["genuine"] if np.all(grow == 1.0) else fc.paths["genuine"] * grow[None, :]
    return genuine + fc.paths["suspected"] * kept[None, :] + fc.paths["automation"]


def fans(fc: Forecast, scenario: Scenario, paths: np.ndarray, *, headcount: int = 0) -> dict[str, pd.DataFrame]:
    """The page's three fans over fc.days, each as `summarise` gives it: observed, adjusted (both with the quantiles
    the forecast keeps since its fit) and scenario (from `paths`, apply_scenario's for `scenario`).

    A scenario that keeps none of the inflation from the first day (or all of it throughout), without growth or a
    rollout, adds exactly the adjusted (observed) paths, so its fan is theirs (the page's default scenario).
    """
    out = {"observed": fc.fan("observed"), "adjusted": fc.fan("adjusted")}
    kept = retained_share(fc.days, scenario)
    same = None
    if np.all(genuine_multiplier(fc.days, scenario, headcount=headcount) == 1.0):
        same = "adjusted" if np.all(kept == 0.0) else "observed" if np.all(kept == 1.0) else None
    out["scenario"] = out[same].copy() if same else summarise(paths, fc.days)
    return out


def price_per_token(scenario: Scenario, mix: dict[str, float]) -> float:
    """Blended USD per token for a token-type mix (shares; normalised here)."""
    total = sum(mix.get(t, 0.0) for t in TOKEN_TYPES)
    if total <= 0:
        mix, total = {"input": 1.0}, 1.0
    return sum(mix.get(t, 0.0) / total * getattr(scenario, f"usd_per_mtok_{t}") for t in TOKEN_TYPES) / 1e6


def capped_paths(fc: Forecast, scenario: Scenario) -> np.ndarray:
    """Per path (n_paths booleans): some day of it has a component the scenario keeps sitting at its cap
    (CAP_MULTIPLE x the highest day seen), so its true peak is unknown: at least what the path shows."""
    kept = retained_share(fc.days, scenario)
    out = np.zeros(next(iter(fc.paths.values())).shape[0], dtype=bool)
    for c, p in fc.paths.items():
        cap = fc.caps.get(c, math.inf)
        if not math.isfinite(cap):
            continue
        hit = p >= cap * (1 - 1e-9)
        if c == "suspected":
            hit &= kept[None, :] > 0
        out |= hit.any(axis=1)
    return out


def capacity(
    paths: np.ndarray, scenario: Scenario, mix: dict[str, float], *, capped: np.ndarray | None = None
) -> pd.DataFrame:
    """Capacity and cost at p50, p90 and p95 of the scenario's demand.

    Columns: quantile, peak_tokens_per_day (that quantile of each simulated future's highest day over the
    horizon, so at p90 only one future in ten has a day above it), gpus (peak / (tokens per GPU-hour x 24),
    rounded up: the load is assumed even over the 24 hours of the day, not sized for the busiest hour),
    gpu_usd_per_year (gpus x 8,760 h x USD per GPU-hour), tokens_per_day (that quantile of each path's mean
    daily tokens), token_usd_per_year (x 365 x blended price), chosen (the scenario's quantile), bounded
    (False when the quantile falls among futures that hit the cap, see `capped_paths`: the model does not
    bound it, the cap does, and the true figure is higher).

    `capped`: per path, whether it hit the cap (None: none did).
    """
    levels = list(QUANTILES.values())
    path_peaks = paths.max(axis=1)
    peaks = np.quantile(path_peaks, levels)
    if capped is not None and capped.any():
        # a capped future's peak is only a lower bound: as unknown (huge), does the quantile move?
        censored = np.quantile(np.where(capped, 1e300, path_peaks), levels)
        bounded = censored <= path_peaks.max()
    else:
        bounded = np.ones(len(levels), dtype=bool)
    average = np.quantile(paths.mean(axis=1), levels)
    unit = price_per_token(scenario, mix)
    rows = []
    for (name, _), peak, avg, ok in zip(QUANTILES.items(), peaks, average, bounded, strict=True):
        gpus = math.ceil(peak / (scenario.tokens_per_gpu_hour * 24) - 1e-9)
        rows.append(
            {
                "quantile": name,
                "peak_tokens_per_day": float(peak),
                "gpus": int(gpus),
                "gpu_usd_per_year": gpus * 24 * 365 * scenario.usd_per_gpu_hour,
                "tokens_per_day": float(avg),
                "token_usd_per_year": float(avg) * 365 * unit,
                "chosen": name == scenario.quantile,
                "bounded": bool(ok),
            }
        )
    return pd.DataFrame(rows)


@dataclass
class Defaults:
    """What the data suggests for a scope's scenario: token-type mix, blended prices, headcount."""

    mix: dict[str, float] = field(default_factory=lambda: dict.fromkeys(TOKEN_TYPES, 0.25))
    prices: dict[str, float] = field(default_factory=dict)
    headcount: int = 0


def token_mix(rows: pd.DataFrame) -> dict[str, float]:
    """Share of each token type in `rows` (input, output, cache_read, cache_write)."""
    sums = {t: float(rows[f"{t}_tokens"].sum()) if len(rows) else 0.0 for t in TOKEN_TYPES}
    total = sum(sums.values())
    return {t: (v / total if total else 0.25) for t, v in sums.items()}


def _in_scope(rows: pd.DataFrame, tool: str | None, org_id: str | None) -> pd.DataFrame:
    """The mart rows of one tool and/or one top-level org (None: all)."""
    if rows.empty:
        return rows
    if tool is not None:
        rows = rows[rows["tool"] == tool]
    if org_id is not None:
        rows = rows[rows["org_id"] == org_id]
    return rows


def scope_rows(rows: pd.DataFrame, *, tool: str | None = None, org_id: str | None = None, days: int = 28):
    """The mart rows of a scope's last `days` days (for its token mix and prices)."""
    out = _in_scope(rows, tool, org_id)
    if out.empty:
        return out
    last = pd.to_datetime(out["day"]).max()
    return out[pd.to_datetime(out["day"]) > last - timedelta(days=days)]


def scenario_table(fc: Forecast, scenario: Scenario, *, headcount: int = 0) -> pd.DataFrame:
    """Per future day: observed, adjusted (all suspected inflation removed) and scenario mean / lower / upper."""
    out = pd.DataFrame({"day": fc.days.strftime("%Y-%m-%d")})
    parts = (
        ("observed", fc.observed()),
        ("adjusted", fc.adjusted()),
        ("scenario", apply_scenario(fc, scenario, headcount=headcount)),
    )
    for prefix, paths in parts:
        frame = summarise(paths, fc.days)
        for col in ("mean", "lower", "upper"):
            out[f"{prefix}_{col}"] = frame[col].round(0).astype("int64").to_numpy()
    return out


def compare(
    fc: Forecast,
    named: dict[str, Scenario],
    mix: dict[str, float],
    *,
    headcount: int = 0,
    computed: dict[str, tuple[np.ndarray, pd.DataFrame]] | None = None,
) -> pd.DataFrame:
    """Scenarios side by side on one forecast and horizon, one row each.

    Columns: scenario, inflation_kept, change_date, fade_days, growth_pct_per_year, rollout_date,
    rollout_headcount, quantile, tokens (mean over the horizon), tokens_per_day (mean), peak_tokens_per_day,
    gpus, gpu_usd_per_year, token_usd_per_year (the last four at each scenario's quantile), bounded (see
    `capacity`).

    `computed`: name -> its paths and capacity table, as apply_scenario and capacity (with capped_paths) give them
    on this forecast, for scenarios the caller has worked out already (the page's current one).
    """
    rows = []
    for name, sc in named.items():
        if computed and name in computed:
            paths, table = computed[name]
        else:
            paths = apply_scenario(fc, sc, headcount=headcount)
            table = capacity(paths, sc, mix, capped=capped_paths(fc, sc))
        cap = table.iloc[list(QUANTILES).index(sc.quantile)]
        rows.append(
            {
                "scenario": name,
                "inflation_kept": sc.inflation_kept,
                "change_date": sc.change_date.isoformat() if sc.change_date else "",
                "fade_days": sc.fade_days,
                "growth_pct_per_year": sc.growth_pct_per_year,
                "rollout_date": sc.rollout_date.isoformat() if sc.rollout_date else "",
                "rollout_headcount": sc.rollout_headcount,
                "quantile": sc.quantile,
                "tokens": float(paths.mean(axis=0).sum()),
                "tokens_per_day": float(paths.mean()),
                "peak_tokens_per_day": float(cap["peak_tokens_per_day"]),
                "gpus": int(cap["gpus"]),
                "gpu_usd_per_year": float(cap["gpu_usd_per_year"]),
                "token_usd_per_year": float(cap["token_usd_per_year"]),
                "bounded": bool(cap["bounded"]),
            }
        )
    return pd.DataFrame(rows)
