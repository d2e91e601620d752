"""Before/after verification at its edges: the two-week minimum, values and volumes that are
left out, p-values against statsmodels, promises of an increase, and the wording of an
inconclusive review worked by hand (each test kills mutants `make mutation` found)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from test_verification import compare, hourly, reference_glm

from csi_helpers.analysis.verification import MIN_HOURS, _unsettled

Z_DETECT = 1.959963984540054 + 0.8416212335729143  # 95 % two-sided, 80 % power


def test_two_weeks_each_side_is_the_least_it_compares():
    assert MIN_HOURS == 336  # 14 days × 24 hours
    before = hourly(seed=1, start="2026-04-01", weeks=2, level=1.0)
    after = hourly(seed=2, start="2026-06-01", weeks=2, level=1.0)
    assert compare(before, after).kind == "verification"
    short = compare(before.iloc[1:], after)
    assert (short.kind, short.evidence["reason"]) == ("no_finding", "too_short")
    assert "335 before and 336 after, need ≥ 336 each" in short.statement


def test_negative_fractions_are_refused_and_hours_without_volume_left_out():
    before = hourly(seed=1, start="2026-04-01", weeks=4, level=1.0)
    after = hourly(seed=2, start="2026-06-01", weeks=4, level=1.0)
    dip = before.copy()
    dip.iloc[5] = -0.5
    assert compare(dip, after).evidence["reason"] == "negative_values"
    volume_b = pd.Series(100.0, index=before.index)
    volume_b.iloc[:24] = 0.0  # a first day without traffic: no rate to compare
    volume_a = pd.Series(100.0, index=after.index)
    f = compare(before, after, exposure_before=volume_b, exposure_after=volume_a)
    assert (f.evidence["hours_before"], f.evidence["hours_after"]) == (672 - 24, 672)
    assert f.evidence["total_before"] == before.iloc[24:].sum()


def test_volume_is_given_for_both_cycles_and_named_in_the_method():
    before = hourly(seed=1, start="2026-04-01", weeks=4, level=1.0)
    after = hourly(seed=2, start="2026-06-01", weeks=4, level=1.0)
    volume_b, volume_a = (pd.Series(100.0, index=s.index) for s in (before, after))
    with pytest.raises(ValueError, match="both cycles or for neither"):
        compare(before, after, exposure_after=volume_a)  # after alone, as before alone
    per_volume = compare(before, after, exposure_before=volume_b, exposure_after=volume_a)
    assert per_volume.method == (
        "Poisson GLM, weekday × hour effects, volume offset, day-clustered errors"
    )
    assert (
        compare(before, after).method == "Poisson GLM, weekday × hour effects, day-clustered errors"
    )


def test_a_promise_to_remove_it_entirely_is_accepted():
    before = hourly(seed=1, start="2026-04-01", weeks=4, level=1.0)
    after = hourly(seed=2, start="2026-06-01", weeks=4, level=0.5)
    f = compare(before, after, expected_change=-1.0)
    assert f.evidence["verdict"] == "worked"
    assert "smaller than the promised -100 %" in f.evidence["reason"]


def test_a_promised_change_of_zero_is_a_direction_alone():
    """An entry whose target equals its baseline promises 0 %: no size to check, so the
    verdict reads the direction as for a promise without one."""
    before = hourly(seed=1, start="2026-04-01", weeks=8, level=2.0)
    after = hourly(seed=2, start="2026-06-01", weeks=8, level=1.0)
    zero = compare(before, after, expected_change=0.0, better="lower")
    alone = compare(before, after, better="lower")
    assert (zero.evidence["verdict"], zero.evidence["reason"]) == ("worked", "a real improvement")
    assert zero.p_value == alone.p_value and zero.evidence["expected_change"] == 0.0


def test_p_values_are_statsmodels_two_sided_and_one_sided_against_the_promise():
    """A rise of about 10 %: two-sided p as statsmodels gives it; promised a fall, the
    one-sided p of a rise is 1 - p/2."""
    before = hourly(seed=21, start="2026-04-01", weeks=8, level=1.0)
    after = hourly(seed=22, start="2026-06-01", weeks=8, level=1.1)
    reference = reference_glm(before, after)
    two_sided = compare(before, after)
    assert 1e-4 < two_sided.p_value < 0.5 and reference.params[1] > 0
    assert two_sided.p_value == pytest.approx(reference.pvalues[1], rel=1e-5)
    promised_fall = compare(before, after, expected_change=-0.5)
    assert promised_fall.p_value == pytest.approx(1 - reference.pvalues[1] / 2, rel=1e-5)


def test_fractional_values_and_every_season_match_statsmodels():
    """Downtime minutes are fractions: a season's expected total can be below 1, and its
    weight must still be its own. Four weeks each side with every weekday-hour seen:
    1,344 hours, 168 seasons, so 1,344 - 168 - 1 = 1,175 residual degrees of freedom."""
    rng = np.random.default_rng(7)
    before, after = (
        hourly(seed=s, start=start, weeks=4, level=0.1) * rng.uniform(0.05, 0.5, 672)
        for s, start in ((31, "2026-04-01"), (32, "2026-06-01"))
    )
    before.iloc[:168] += 0.01  # every weekday-hour sees some downtime
    reference = reference_glm(before, after)
    assert reference.df_resid == 1175
    f = compare(before, after)
    assert f.evidence["ratio"] == pytest.approx(np.exp(reference.params[1]), rel=1e-8)
    low, high = np.expm1(
        reference.params[1] + np.array([-1.0, 1.0]) * 1.959963984540054 * reference.bse[1]
    )
    assert (f.ci_low, f.ci_high) == (pytest.approx(low, rel=1e-5), pytest.approx(high, rel=1e-5))
    scale = reference.pearson_chi2 / reference.df_resid
    assert f.evidence["pearson_scale"] == pytest.approx(scale, rel=1e-6)


def test_promises_of_an_increase_get_their_verdicts_and_severities():
    """Promised +50 %: a real +10 % worked but is smaller; a real +50 % is consistent; with a
    direction alone and no change, inconclusive. Worked is low severity, the rest medium."""
    before = hourly(seed=41, start="2026-04-01", weeks=12, level=4.0)
    smaller = compare(before, hourly(seed=42, start="2026-07-01", weeks=12, level=4.4),
                      expected_change=0.5)  # fmt: skip
    assert smaller.ci_low > 0 and smaller.ci_high < 0.5
    assert (smaller.evidence["verdict"], smaller.severity) == ("worked", "low")
    assert "smaller than the promised +50 %" in smaller.evidence["reason"]
    met = compare(before, hourly(seed=43, start="2026-07-01", weeks=12, level=6.0),
                  expected_change=0.5)  # fmt: skip
    assert met.ci_low < 0.5 < met.ci_high
    assert met.evidence["reason"] == "a real improvement, consistent with the promised +50 %"
    few = hourly(seed=44, start="2026-04-01", weeks=2, level=0.2)
    flat = compare(few, hourly(seed=45, start="2026-06-01", weeks=2, level=0.2), better="higher")
    assert flat.ci_low < 0 < flat.ci_high < 1
    assert (flat.evidence["verdict"], flat.severity) == ("inconclusive", "medium")
    assert flat.evidence["reason"].startswith(
        "the interval holds both no change and an improvement; this comparison detects"
    )
    assert flat.evidence["reason"].endswith("with 80 % power")  # no size promised: no weeks
    worse = compare(
        before, hourly(seed=46, start="2026-07-01", weeks=12, level=3.0), better="higher"
    )
    assert (worse.evidence["verdict"], worse.severity) == ("did not work", "medium")
    changed = compare(before, hourly(seed=46, start="2026-07-01", weeks=12, level=3.0))
    assert (changed.evidence["verdict"], changed.severity) == ("changed", "medium")


def test_a_promise_is_printed_to_the_percent():
    before = hourly(seed=7, start="2026-04-01", weeks=12, level=4.0)
    same = hourly(seed=10, start="2026-07-01", weeks=12, level=4.0)
    f = compare(before, same, expected_change=-0.75)
    assert f.evidence["reason"] == "its interval excludes the promised -75 %"


def promise_for(days_after_needed: float, se: float, days_before: int, days_after: int) -> float:
    """The promise whose detection needs ``days_after_needed`` days after the action: by the
    docstring's scaling, se² = v (1/days_before + 1/days_after) and detection needs
    |log(1 + promise)| = (1.96 + 0.84) × the se with that many days after."""
    per_day = se**2 / (1 / days_before + 1 / days_after)
    needed_se = np.sqrt(per_day * (1 / days_before + 1 / days_after_needed))
    return float(np.expm1(-Z_DETECT * needed_se))


@pytest.mark.parametrize(("days_needed", "words"), [(17.5, "about 1 more week of"),
                                                    (21.5, "about 2 more weeks of")])  # fmt: skip
def test_the_weeks_still_needed_are_counted_up_and_worded(days_needed, words):
    """se 0.3 over 28 days before and 14 after: a promise that needs 17.5 or 21.5 days
    after asks for 3.5 or 7.5 more days, rounded up to 1 or 2 weeks."""
    estimate = {"se": 0.3, "days_before": 28, "days_after": 14}
    promise = promise_for(days_needed, **estimate)
    reason = _unsettled(estimate, promise, down=True)
    assert reason.startswith("the interval holds both no change and the promise; ")
    # the smallest detectable change: expm1(-2.8016 × 0.3) = -56.9 %
    assert "this comparison detects a change of -57 % or more with 80 % power" in reason
    assert reason.endswith(f"; {words} data after the action would detect the promised change")


def test_a_promise_already_detectable_asks_for_no_more_weeks():
    """se 0.1: changes of expm1(-0.28) = -24 % are detectable, so a promised -50 % that the
    interval still holds needs no more data, only the review's own reading."""
    reason = _unsettled({"se": 0.1, "days_before": 28, "days_after": 14}, -0.5, down=True)
    assert reason == (
        "the interval holds both no change and the promise; "
        "this comparison detects a change of -24 % or more with 80 % power"
    )


def events_at(hours: list[int], *, start: str, weeks: int = 2) -> pd.Series:
    index = pd.date_range(start, periods=24 * 7 * weeks, freq="h", tz="UTC")
    series = pd.Series(0.0, index=index)
    series.iloc[hours] = 1.0
    return series


def exact_upper_ratio(events: int, after_per_before: float = 1.0) -> float:
    """Clopper-Pearson by scipy: with none of `events` after, the share after is at most
    p, and the ratio at most p / (1 - p) over the exposure after per exposure before."""
    high = stats.binomtest(0, events).proportion_ci(confidence_level=0.95).high
    return high / (1 - high) / after_per_before


def test_no_event_after_is_not_a_certain_100_percent_drop():
    """Two incidents before, none in the two weeks after: the model's estimate is -100 %
    with an interval of zero width. The exact interval reaches +432 % (√40 - 1), and no
    change leaves none after with chance (1/2)² = 0.25: inconclusive, not worked."""
    before = events_at([30, 200], start="2026-04-01")
    after = events_at([], start="2026-06-01")
    f = compare(before, after, expected_change=-0.5)
    assert (f.effect, f.ci_low) == (-1.0, -1.0)
    assert f.ci_high == pytest.approx(exact_upper_ratio(2) - 1, rel=1e-9)
    assert f.ci_high == pytest.approx(np.sqrt(40) - 2, rel=1e-9)
    assert (f.p_value, f.evidence["verdict"], f.evidence["exact_interval"]) == (
        0.25,
        "inconclusive",
        True,
    )
    assert "(95 % CI -100.0 % to +432.5 %; p = 0.250): inconclusive" in f.statement
    assert compare(before, after).p_value == 0.5  # two-sided without a direction


def test_sixteen_events_before_and_none_after_did_work():
    """16 before, none after over equal hours: the share after is at most 20.6 %
    (Clopper-Pearson), the ratio at most 0.259: -74.1 % at best, so it worked; over
    4 weeks after, twice the exposure, the bound halves."""
    before = events_at(list(range(5, 336, 21)), start="2026-04-01")
    assert before.sum() == 16
    f = compare(before, events_at([], start="2026-06-01"), expected_change=-0.5)
    assert f.ci_high == pytest.approx(exact_upper_ratio(16) - 1, rel=1e-9)
    assert f.evidence["verdict"] == "worked" and f.p_value == pytest.approx(0.5**16)
    longer = compare(before, events_at([], start="2026-06-01", weeks=4), expected_change=-0.5)
    assert longer.ci_high == pytest.approx(exact_upper_ratio(16, 2.0) - 1, rel=1e-9)


def test_one_event_after_keeps_the_model_interval_and_better_is_read_as_params_give_it():
    """One event after is enough for the model's interval (the exact one is for none);
    'lower' built at run time, as params give it, is read as the literal."""
    before = events_at(list(range(5, 336, 21)), start="2026-04-01")
    one = compare(before, events_at([40], start="2026-06-01"), expected_change=-0.5)
    assert one.evidence["exact_interval"] is False and one.ci_low > -1.0
    after = hourly(seed=2, start="2026-06-01", weeks=8, level=1.8)
    base = hourly(seed=1, start="2026-04-01", weeks=8, level=2.0)
    built = compare(base, after, better="".join(["lo", "wer"]))
    assert built.p_value == compare(base, after, better="lower").p_value
    assert built.p_value < compare(base, after).p_value  # one-sided, so half the two-sided
