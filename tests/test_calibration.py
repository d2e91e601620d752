from calibration import null_bound, power_at_double, seeds_for
from scipy import stats


def test_bound_keeps_a_correct_method_passing_and_the_tail_just_above_tolerance():
    bound = null_bound(500, 0.05)
    assert stats.binom.sf(bound, 500, 0.05) <= 0.005 < stats.binom.sf(bound - 1, 500, 0.05)


def test_500_seeds_at_alpha_5_percent_give_the_bound_of_the_trend_null_test():
    # tests/analysis/test_trend.py chose 38 of 500 by hand (commit 78897a5); by hand too:
    # mean 25, sd 4.87, so 38 is 2.7 sd above; a 10 % method (mean 50) falls at or below it
    # with probability 0.039.
    assert null_bound(500, 0.05) == 38
    assert 0.95 < power_at_double(500, 0.05, 38) < 0.97


def test_100_seeds_are_too_few_to_catch_a_method_at_twice_alpha():
    # 100 seeds (bound 11, as the older null tests use) catch a 10 % method 30 % of the time.
    assert power_at_double(100, 0.05, null_bound(100, 0.05)) < 0.5
    n = seeds_for(0.05)
    assert power_at_double(n, 0.05, null_bound(n, 0.05)) >= 0.95
    assert power_at_double(n - 50, 0.05, null_bound(n - 50, 0.05)) < 0.95
