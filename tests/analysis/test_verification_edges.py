"""Before/after verification at its edges: the two-week minimum, values and volumes that are
left out, p-values against statsmodels, promises of an increase, and the wording of an
inconclusive review worked by hand (each test kills mutants `make mutation` found)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from test_verification import compare, hourly, reference_glm

from csi_helpers.analysis._none_after import none_after
from csi_helpers.analysis._verdict import unsettled
from csi_helpers.analysis.verification import MIN_HOURS

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


@pytest.mark.parametrize(("days_after", "days_needed", "words"), [
    (14, 17.5, "about 1 more week of"), (14, 21.5, "about 2 more weeks of"),
    (8, 11.5, "about 1 more week of"), (8, 12.5, "about 2 more weeks of")])  # fmt: skip
def test_the_weeks_still_needed_are_counted_up_and_worded(days_after, days_needed, words):
    """se 0.3 over 28 days before and 2 weeks after: with 14 days after (events every
    weekday) a promise that needs 17.5 or 21.5 days asks for 3.5 or 7.5 more, rounded up
    to 1 or 2 weeks; with 8 (events on 4 weekdays, 4 days a week) 11.5 or 12.5 days ask
    for 3.5 or 4.5 more, 0.875 or 1.125 weeks, so 1 or 2."""
    estimate = {"se": 0.3, "days_before": 28, "days_after": days_after}
    promise = promise_for(days_needed, **estimate)
    reason = unsettled(estimate | {"weeks_after": 2.0}, promise, down=True)
    assert reason.startswith("the interval holds both no change and the promise; ")
    # the smallest detectable change: expm1(-2.8016 × 0.3) = -56.9 %
    assert "this comparison detects a change of -57 % or more with 80 % power" in reason
    assert reason.endswith(f"; {words} data after the action would detect the promised change")


def test_a_promise_already_detectable_asks_for_no_more_weeks():
    """se 0.1: changes of expm1(-0.28) = -24 % are detectable, so a promised -50 % that the
    interval still holds needs no more data, only the review's own reading."""
    reason = unsettled({"se": 0.1, "days_before": 28, "days_after": 14}, -0.5, down=True)
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


def test_with_none_after_the_power_counts_the_events_expected_after():
    """3 incidents before in 2 weeks, none in the 4 weeks after: the ratio is at most
    (40^(1/3) - 1) / 2 = 1.210 (+21.0 %), and no change leaves none after with chance
    (1/3)³ = 1/27. The error of the log ratio at no change is sqrt(1/3 + 1/6): 3 events
    before and 6 expected after over twice the hours, so 80 % power reaches a change of
    exp(-2.8016 × 0.7071) - 1 = -86 %. Over equal hours, sqrt(2/3) reaches -90 %."""
    before = events_at([30, 200, 250], start="2026-04-01")
    f = compare(before, events_at([], start="2026-06-01", weeks=4), expected_change=-0.5)
    assert f.ci_high == pytest.approx((40 ** (1 / 3) - 1) / 2 - 1, rel=1e-9)
    assert f.p_value == pytest.approx(1 / 27, rel=1e-12)
    assert f.evidence["reason"] == (
        "the interval holds both no change and the promise; this comparison detects a change "
        "of -86 % or more with 80 % power; no longer window after the action alone would "
        "detect the promised change: the baseline before it is too short or too noisy"
    )
    equal = compare(before, events_at([], start="2026-06-01"), expected_change=-0.5)
    assert "detects a change of -90 % or more" in equal.evidence["reason"]


def test_with_none_after_the_weeks_to_settle_it_are_counted():
    """5 incidents before, none after, 2 weeks each, a promise of -80 %: the ratio is at
    most 40^(1/5) = 2.091 (+9.1 %), p = (1/2)^5. The error at no change is sqrt(2/5), so
    80 % power reaches -83 %, short of the -80 % promised (log 0.2 = -1.609 against
    2.8016 × 0.632 = 1.772). With 3 weeks after it would be sqrt(1/5 + 1/7.5), 1.618, still
    short; with 4, sqrt(1/5 + 1/10), 1.535: 2 more weeks. (By days: the events fall on 4
    weekdays, so 8 days each side; 1/8 + 1/d = 0.330 / (0.4 / (2/8)) gives d = 12.3, 4.3
    more at 4 a week.) Volumes of a quarter per hour on both sides give the same rates,
    and so the same figures."""
    hours = [30, 100, 200, 250, 300]
    before, after = events_at(hours, start="2026-04-01"), events_at([], start="2026-06-01")
    f = compare(before, after, expected_change=-0.8)
    assert f.ci_high == pytest.approx(40 ** (1 / 5) - 2, rel=1e-9)
    assert f.p_value == pytest.approx(0.5**5, rel=1e-12)
    assert f.evidence["reason"] == (
        "the interval holds both no change and the promise; this comparison detects a change "
        "of -83 % or more with 80 % power; about 2 more weeks of data after the action would "
        "detect the promised change"
    )
    quarter_b, quarter_a = (pd.Series(0.25, index=s.index) for s in (before, after))
    per_volume = compare(
        before, after, expected_change=-0.8, exposure_before=quarter_b, exposure_after=quarter_a
    )
    assert per_volume.ci_high == pytest.approx(f.ci_high, rel=1e-9)
    assert (per_volume.p_value, per_volume.evidence["reason"]) == (
        pytest.approx(f.p_value, rel=1e-12),
        f.evidence["reason"],
    )


def test_with_none_after_a_season_without_volume_before_adds_nothing():
    """Three weeks before, one hour of the week without volume in all three of them (left
    out): that weekday-hour has no event in either cycle, so the model drops it, and the
    interval, p-value and power are those of the same data with that hour's volume kept."""
    before = events_at([30, 100, 200, 250, 300], start="2026-04-01", weeks=3)
    after = events_at([], start="2026-06-01")
    volume_b, volume_a = (pd.Series(1.0, index=s.index) for s in (before, after))
    gap = volume_b.copy()
    gap.iloc[[3, 3 + 168, 3 + 336]] = 0.0
    kept, left = (
        compare(before, after, expected_change=-0.8, exposure_before=v, exposure_after=volume_a)
        for v in (volume_b, gap)
    )
    assert left.evidence["hours_before"] == 3 * 168 - 3
    assert np.isfinite(left.ci_high) and left.ci_high == pytest.approx(kept.ci_high, rel=1e-9)
    assert (left.p_value, left.evidence["reason"]) == (
        pytest.approx(kept.p_value, rel=1e-12),
        kept.evidence["reason"],
    )


def test_with_none_after_a_promised_increase_has_p_1_and_got_worse():
    """16 incidents before and none after, where more was better: the one-sided p-value of
    an increase is 1 (nothing fell after), the ratio is 0 and its bound 0.259, so the KPI
    got worse, whether the promise named a size or only the direction."""
    before = events_at(list(range(5, 336, 21)), start="2026-04-01")
    after = events_at([], start="2026-06-01")
    sized = compare(before, after, expected_change=0.5)
    direction = compare(before, after, better="higher")
    for f in (sized, direction):
        assert (f.p_value, f.evidence["ratio"], f.effect) == (1.0, 0.0, -1.0)
        assert f.evidence["verdict"] == "did not work"
        assert f.ci_high == pytest.approx(exact_upper_ratio(16) - 1, rel=1e-9)
    assert sized.evidence["reason"] == (
        "its interval excludes the promised +50 %, and the KPI got worse"
    )
    assert direction.evidence["reason"] == "the KPI got worse"
    lower = compare(before, after, better="lower")
    assert lower.p_value == pytest.approx(0.5**16, rel=1e-12)


def test_with_none_after_the_two_sided_p_value_is_doubled_up_to_1():
    """1 incident in 4 weeks before, none in 2 weeks after: none after at no change has
    chance 4/6 = 2/3, the one-sided p-value of a drop; two-sided it is min(1, 4/3) = 1.
    The ratio is at most 2 / 0.025 - 2 = 78."""
    before = events_at([30], start="2026-04-01", weeks=4)
    after = events_at([], start="2026-06-01")
    assert compare(before, after, better="lower").p_value == pytest.approx(2 / 3, rel=1e-12)
    two_sided = compare(before, after)
    assert two_sided.p_value == 1.0
    assert two_sided.ci_high == pytest.approx(77.0, rel=1e-9)


def test_none_after_without_exposure_after_where_the_events_are():
    """The bound and p-value straight from the function: when no season that had events has
    hours after, none could have fallen after, so nothing is known (an unbounded ratio,
    p = 1); exposures below 1 are exposures (an after of 0.5 per 1.0 before: the ratio
    bound of two events is 2(√40 - 1), p = (2/3)²)."""
    assert none_after(np.array([2.0, 0.0]), np.array([336.0, 336.0]), np.array([0.0, 336.0])) == (
        np.inf,
        1.0,
    )
    upper, p = none_after(np.array([2.0]), np.array([1.0]), np.array([0.5]))
    assert upper == pytest.approx(2 * (np.sqrt(40) - 1), rel=1e-9)
    assert p == pytest.approx(4 / 9, rel=1e-12)


def test_incidents_only_at_hours_without_volume_after_are_no_finding():
    """Both incidents fell on Wednesdays at 03:00, and after the action that hour has no
    volume (a batch window retired): no hour after compares with them, so there is no
    finding, not a division by zero or an unbounded interval."""
    before = events_at([3, 171], start="2026-04-01")  # a Wednesday
    after = events_at([], start="2026-06-01", weeks=3)  # a Monday: Wednesday 03:00 is hour 51
    volume_b, volume_a = (pd.Series(1.0, index=s.index) for s in (before, after))
    volume_a.iloc[[51, 51 + 168, 51 + 336]] = 0.0
    f = compare(before, after, expected_change=-0.5, exposure_before=volume_b,
                exposure_after=volume_a)  # fmt: skip
    assert (f.kind, f.evidence["reason"]) == ("no_finding", "no_overlap")
    assert f.statement.startswith(
        "no hour after the action shares a weekday and hour with the incidents of the baseline"
    )
    volume_a.iloc[51] = 1.0  # one such hour after is enough to compare
    assert compare(before, after, expected_change=-0.5, exposure_before=volume_b,
                   exposure_after=volume_a).kind == "verification"  # fmt: skip


def test_with_none_after_a_promise_to_remove_it_entirely_is_held_by_the_interval():
    """16 before, none after, and the promise was -100 %: the exact interval starts at
    -100 % itself, so it holds the promise (not 'excludes' it) and lies below no change."""
    before = events_at(list(range(5, 336, 21)), start="2026-04-01")
    f = compare(before, events_at([], start="2026-06-01"), expected_change=-1.0)
    assert (f.ci_low, f.evidence["verdict"]) == (-1.0, "worked")
    assert f.evidence["reason"] == "a real improvement, consistent with the promised -100 %"
