"""A shift in a mean over tickets, tested with the tickets' own spread (issue 14 point 5).

Cohorts are one quarter of tickets, 10 a day, with heavy-tailed times to resolve
(lognormal, sigma 1: a mean of 20 h, a few tickets past 200 h), as the benchmark's
and a small service desk's. Weeks are 13, from 1 April.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from calibration import null_bound, power_at_double

from csi_helpers.analysis.changepoint import change_points
from csi_helpers.analysis.cohort_shift import cohort_shift, week_summaries

START = pd.Timestamp("2026-04-01", tz="UTC")
WEEKS = pd.date_range(START, periods=13, freq="7D")
JUMP_AT = pd.Timestamp("2026-05-13", tz="UTC")  # the start of week 7
#: Benjamini–Hochberg's bar for the only true finding among a report's 28 tests.
FIRST_OF_28 = 0.05 / 28


def cohort(
    seed: int, *, jump: float = 1.0, ramp: float = 0.0, week_sd: float = 0.0
) -> tuple[pd.Series, pd.Series]:
    """Hours to resolve and opening times: ×``jump`` from JUMP_AT, or a rise of ``ramp``
    (a share of the level) spread evenly over the quarter, and each week's own level
    off by a lognormal factor of sd ``week_sd``."""
    rng = np.random.default_rng(seed)
    days = rng.uniform(0, 91, 910)
    opened = pd.Series(START + pd.to_timedelta(days, unit="D"))
    level = 20.0 * np.where(opened >= JUMP_AT, jump, 1.0) * (1 + ramp * days / 91)
    week_factor = rng.lognormal(0.0, week_sd, 13) if week_sd else np.ones(13)
    level = level * week_factor[(days // 7).astype(int)]
    return pd.Series(level * rng.lognormal(-0.5, 1.0, len(days))), opened


def weekly_means(hours: pd.Series, opened: pd.Series) -> pd.Series:
    table = week_summaries(hours, opened, WEEKS)
    return pd.Series(table["mean"].to_numpy(), index=table["week"].dt.tz_localize(None))


def test_the_weeks_are_the_tickets_means_and_a_missing_week_is_not_merged() -> None:
    hours, opened = cohort(0)
    table = week_summaries(hours, opened, WEEKS.delete(5))
    assert len(table) == 12 and WEEKS[5] not in set(table["week"])
    week = (opened >= WEEKS[6]) & (opened < WEEKS[7])
    row = table[table["week"] == WEEKS[6]].iloc[0]
    assert row["n"] == week.sum()
    assert row["mean"] == pytest.approx(hours[week].mean())
    assert row["var_of_mean"] == pytest.approx(hours[week].var() / week.sum())


def test_a_jump_is_found_in_its_week_sized_and_survives_a_reports_28_tests() -> None:
    """×1.6 from week 7, 30 seeds: the shift is reported, in the week of the jump or
    the next, with p below Benjamini–Hochberg's bar for one true finding among 28
    tests, and its interval holds the planted size, in at least 23 seeds. Measured:
    26 with the ranks' test; 17 when the test ran on the weeks' mean hours (before
    the normal scores); the permutation test of the 13 weekly means (what step 5
    used before that) reached the bar in 8 and is held to at most 11 here."""
    good = weekly_good = 0
    for seed in range(30):
        hours, opened = cohort(seed, jump=1.6)
        [f] = cohort_shift(hours, opened, weeks=WEEKS, metric="weekly MTTR", unit="h")
        before = 20.0  # the lognormal's mean
        located = f.is_finding and f.evidence["date"] in ("2026-05-13", "2026-05-20")
        good += bool(located and f.p_value <= FIRST_OF_28 and f.ci_low <= 0.6 * before <= f.ci_high)
        [w] = change_points(
            weekly_means(hours, opened), metric="m", unit="h", min_size=3, n_perm=1999
        )
        weekly_good += bool(w.is_finding and w.p_value <= FIRST_OF_28)
    assert good >= 23, good
    assert weekly_good <= 11 < good, (weekly_good, good)


@pytest.mark.parametrize("week_sd", [0.0, 0.15])
def test_no_shift_reports_one_in_about_alpha_of_cohorts(week_sd: float) -> None:
    """500 null cohorts, with no week effect and with weeks off by 15 % of their own
    (a level the ticket spread alone does not explain): at most 38 findings at alpha
    0.05 (:func:`calibration.null_bound`: a 5 % method exceeds that with chance 0.005; a
    10 % one stays within it with chance 0.04). Measured: 11 and 21 (21 and 32 when the
    test ran on the weeks' mean hours)."""
    bound = null_bound(500, 0.05)
    assert bound == 38 and power_at_double(500, 0.05, bound) >= 0.95
    fired = 0
    for seed in range(500):
        hours, opened = cohort(1000 + seed, week_sd=week_sd)
        [f] = cohort_shift(hours, opened, weeks=WEEKS, metric="m", unit="h", n_sim=199)
        fired += f.is_finding
    assert fired <= bound, fired


def test_a_steady_rise_is_gradual_not_a_step() -> None:
    """+80 % spread evenly over the quarter: in most of 20 seeds, no step is reported
    and the record says the KPI changes gradually."""
    reasons = []
    for seed in range(20):
        hours, opened = cohort(2000 + seed, ramp=0.8)
        [f] = cohort_shift(hours, opened, weeks=WEEKS, metric="m", unit="h", n_sim=499)
        reasons.append(f.evidence.get("reason", "step"))
    assert reasons.count("gradual_change") >= 12, reasons
    assert reasons.count("step") <= 6, reasons


def test_times_that_move_while_their_mean_does_not_are_no_shift() -> None:
    """From week 7 the typical ticket is quicker and the slow ones slower (lognormal
    sigma 1 → 1.3 at the same mean of 20 h): the ranks shift, the KPI does not. In at
    least 14 of 20 seeds the record says so (``weak_change``, its interval includes no
    change) rather than report a shift of MTTR. Measured: 16 (3 seeds' mean hours did
    move, by the heavy tail's chance)."""
    records = []
    for seed in range(20):
        rng = np.random.default_rng(3000 + seed)
        days = rng.uniform(0, 91, 910)
        opened = pd.Series(START + pd.to_timedelta(days, unit="D"))
        sigma = np.where(opened >= JUMP_AT, 1.3, 1.0)
        hours = pd.Series(20.0 * rng.lognormal(-(sigma**2) / 2, sigma))
        records += cohort_shift(hours, opened, weeks=WEEKS, metric="m", unit="h", n_sim=499)
    weak = [f for f in records if f.evidence.get("reason") == "weak_change"]
    assert len(weak) >= 14, [f.evidence.get("reason", "step") for f in records]
    assert all("includes no change" in f.statement for f in weak)


def test_too_few_weeks_is_a_reason() -> None:
    hours, opened = cohort(3)
    [f] = cohort_shift(hours, opened, weeks=WEEKS[:5], metric="m", unit="h")
    assert f.evidence["reason"] == "too_short" and "5 weeks" in f.statement
