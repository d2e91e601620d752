"""Step 5 on a series its source covers in part: the covered span only, and it says so."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from csi_helpers.analysis.trend import trend_test
from csi_helpers.processing.coverage import Covered
from csi_helpers.steps.analyse.inputs import Inputs, covered_part, with_coverage

UTC = "UTC"
CYCLE = (pd.Timestamp("2026-04-01", tz=UTC), pd.Timestamp("2026-07-01", tz=UTC))
TO_22_MAY = Covered(CYCLE[0], pd.Timestamp("2026-05-23", tz=UTC), *CYCLE, UTC)


def inputs(**coverage: Covered) -> Inputs:
    empty = pd.DataFrame()
    return Inputs(card=empty, daily=empty, hourly=empty, history=empty, coverage=coverage)


def falling_incidents() -> pd.Series:
    """40/day on 1 April falling by 75 % to 22 May; missing after (as step 4 now writes it)."""
    days = pd.date_range("2026-04-01", "2026-06-30", freq="D")
    covered = days < "2026-05-23"
    level = 40 * (1 - 0.75 * np.arange(len(days)) / 51)
    counts = np.random.default_rng(2).poisson(np.clip(level, 0, None)).astype(float)
    return pd.Series(np.where(covered, counts, np.nan), index=days)


def test_covered_part_keeps_the_covered_days_and_the_previous_cycle():
    history = pd.Series(1.0, index=pd.date_range("2026-01-01", "2026-06-30", freq="D"), dtype=float)
    kept = covered_part(inputs(incidents=TO_22_MAY), "incidents", history)
    assert kept.index[0] == pd.Timestamp("2026-01-01")  # the previous cycle stays
    assert kept.index[-1] == pd.Timestamp("2026-05-22")
    assert len(kept) == 90 + 52
    hourly = pd.Series(1.0, index=pd.date_range(*CYCLE, freq="h", inclusive="left"))
    assert covered_part(inputs(incidents=TO_22_MAY), "incidents", hourly).index[-1] == (
        pd.Timestamp("2026-05-22 23:00", tz=UTC)
    )
    assert covered_part(inputs(), "incidents", history) is history  # covered whole: as is


def test_trend_on_the_covered_part_finds_the_decline_and_says_where_data_end():
    series = falling_incidents()
    part = covered_part(inputs(incidents=TO_22_MAY), "incidents", series)
    found = trend_test(part, period=7, metric="daily incidents", unit="incidents/day")
    f = with_coverage(found, inputs(incidents=TO_22_MAY), "incidents")
    assert f.kind == "trend" and f.evidence["direction"] == "decreasing"
    assert f.ci_low < -40 * 0.75 / 51 < f.ci_high  # the planted slope, -0.59/day
    assert f.evidence["span_days"] == 51
    assert f.statement.endswith("; data end on 22 May; the cycle runs to 30 June")
    assert f.evidence["coverage"]["share"] == pytest.approx(52 / 91, abs=1e-4)
    assert with_coverage(found, inputs(), "incidents") is found


def test_the_methods_drop_a_missing_tail_rather_than_read_it_as_zero():
    """Zeros after 22 May were the bug; NaN there is dropped by the trend test itself."""
    series = falling_incidents()
    with_gap = trend_test(series, period=7, metric="m", unit="u")
    as_zero = trend_test(series.fillna(0), period=7, metric="m", unit="u")
    trimmed = trend_test(series.dropna(), period=7, metric="m", unit="u")
    assert with_gap.effect == pytest.approx(trimmed.effect)
    assert as_zero.effect != pytest.approx(trimmed.effect)
