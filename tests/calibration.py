"""How many null seeds a false-alarm test needs, and the bound it may allow (issue 20).

A null test counts the seeds on which a method raises a finding although nothing is
planted. Its bound must let a correct method (rate alpha) pass almost always, and fail a
method at twice its nominal alpha with probability at least 0.95; both are binomial tail
probabilities, computed here once rather than in every test's comment.
"""

from scipy import stats

__all__ = ["check_coverage", "null_bound", "power_at_double", "seeds_for"]


def null_bound(n: int, alpha: float, tolerance: float = 0.005) -> int:
    """The smallest count b with P(Binomial(n, alpha) > b) ≤ tolerance: the most findings
    n null seeds may give before the test calls the method miscalibrated."""
    return int(stats.binom.isf(tolerance, n, alpha))


def power_at_double(n: int, alpha: float, bound: int) -> float:
    """The chance that a method at twice its nominal alpha gives more than bound findings
    in n seeds, i.e. that the null test catches it."""
    return float(stats.binom.sf(bound, n, 2 * alpha))


def seeds_for(alpha: float, power: float = 0.95, tolerance: float = 0.005, step: int = 50) -> int:
    """The fewest seeds (a multiple of step) whose null_bound catches a method at twice
    alpha with at least the given power."""
    n = step
    while power_at_double(n, alpha, null_bound(n, alpha, tolerance)) < power:
        n += step
    return n


def check_coverage(covered: int, what: str, n: int = 200) -> None:
    """Assert that a 95 % interval covered its planted truth in 180-198 of 200 seeds: a
    correct interval lands there with probability 0.998 (Binomial(200, 0.95)), an 80 %
    one reaches 180 with probability 1e-4, and one much too wide covers all 200."""
    print(f"\n{what}: the 95 % interval covered the truth {covered} of {n} times")
    assert n == 200
    assert stats.binom.cdf(179, n, 0.95) + stats.binom.sf(198, n, 0.95) < 0.002
    assert stats.binom.sf(179, n, 0.80) < 0.0002
    assert 180 <= covered <= 198
