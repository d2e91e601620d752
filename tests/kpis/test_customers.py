"""Customer KPIs on small survey tables."""

from __future__ import annotations

import pandas as pd
import pytest

from csi_helpers.kpis.customers import (
    DEFINITIONS,
    csat_distribution,
    csat_mean,
    survey_response_rate,
)

MONTH = {"start": pd.Timestamp("2026-01-01", tz="UTC"), "end": pd.Timestamp("2026-02-01", tz="UTC")}
BY_ID = {d.id: d for d in DEFINITIONS}


def surveys(scores: list[float | None], sent: str = "2026-01-10") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "sent_at": pd.to_datetime([sent] * len(scores), utc=True),
            "score": pd.array(scores, dtype="Float64"),
        }
    )


def test_csat_distribution() -> None:
    s = pd.concat([surveys([5, 5, 4, 3, 1, 2, 4, 5, None, None]), surveys([1, 1], "2026-02-03")])
    r = csat_distribution(s, **MONTH)
    assert (r.value, r.n) == (62.5, 8)  # 5 of 8 responses score 4 or 5
    assert r.details["share_pct"] == {"1": 12.5, "2": 12.5, "3": 12.5, "4": 25.0, "5": 37.5}
    assert r.details["counts"]["5"] == 3
    assert csat_distribution(s, **MONTH, satisfied_from=3).value == 75.0


def test_kept_kpis() -> None:
    s = surveys([5, 3, None, None])
    assert csat_mean(s, **MONTH).value == 4.0
    assert survey_response_rate(s, **MONTH).value == 50.0
    assert {"csat_mean", "survey_response_rate", "csat_distribution"} == set(BY_ID)


def test_empty_and_all_na_inputs() -> None:
    for table in (surveys([]), surveys([None, None])):
        assert csat_mean(table, **MONTH).value is None
        assert csat_distribution(table, **MONTH).value is None
    assert survey_response_rate(surveys([]), **MONTH).value is None
    assert survey_response_rate(surveys([None, None]), **MONTH).value == 0.0


def test_caller_frame_is_not_mutated() -> None:
    s = surveys([5, 3, None])
    before = s.copy()
    for definition in DEFINITIONS:
        definition(s, **MONTH)
    pd.testing.assert_frame_equal(s, before)


def test_options_through_the_definition() -> None:
    d = BY_ID["csat_distribution"]
    assert d.validate_options({"satisfied_from": 3}) == {"satisfied_from": 3}
    with pytest.raises(ValueError, match="did you mean 'satisfied_from'"):
        d.validate_options({"satisfied_form": 3})
    assert d(surveys([5, 2]), **MONTH, options={"satisfied_from": 2}).value == 100.0
    for definition in DEFINITIONS:
        assert "Formula:" in definition.formula
