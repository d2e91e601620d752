"""Step 5's guard: a data limit becomes "could not run, because ..."; a bug fails the step."""

from __future__ import annotations

import pandas as pd
import pytest

from csi_helpers.analysis.trend import trend_test
from csi_helpers.errors import DataError
from csi_helpers.steps.analyse import guarded


def test_a_data_limit_becomes_a_reason_in_the_methodology_appendix():
    def too_short(series: pd.Series) -> list:
        raise DataError("the series has 3 days; the test needs 10")

    [record] = guarded("trend", "daily incidents", too_short, pd.Series(dtype=float))
    assert not record.is_finding
    assert record.evidence["reason"] == "cannot_run"
    assert record.statement == (
        "trend could not run on daily incidents: the series has 3 days; the test needs 10"
    )


def test_a_wrong_option_is_a_programming_error_that_stops_the_step():
    series = pd.Series(range(30), index=pd.date_range("2026-01-01", periods=30), dtype=float)
    with pytest.raises(ValueError, match="alpha"):
        guarded("trend", "daily incidents", trend_test, series, alpha=5, metric="m", unit="u")
    with pytest.raises(TypeError):
        guarded("trend", "daily incidents", trend_test, series.to_list(), metric="m", unit="u")


def test_an_analysis_that_runs_passes_its_findings_through():
    series = pd.Series(range(30), index=pd.date_range("2026-01-01", periods=30), dtype=float)
    found = guarded("trend", "daily requests", trend_test, series, metric="requests", unit="/day")
    assert len(found) == 1 and found[0].is_finding and found[0].effect == pytest.approx(1.0)
