"""Numbers for people: one formatting module for every report (issue 16 point 2)."""

from __future__ import annotations

import numpy as np
import pytest

from csi_helpers.report import formatting


@pytest.mark.parametrize("power", range(-7, 13))
def test_no_exponent_and_three_significant_figures_at_any_magnitude(power: int) -> None:
    for mantissa in (1.0, 2.4917, 9.996, -3.14159):
        value = mantissa * 10.0**power
        text = formatting.number(value)
        assert "e" not in text.lower(), text
        back = float(text.replace(",", ""))
        # three significant figures below 100, whole numbers above: off by at most 0.5 %
        assert back == pytest.approx(value, rel=0.0051)


def test_thousands_separators_and_counts_whole() -> None:
    assert formatting.number(24920.4) == "24,920"
    assert formatting.count(65533.0) == "65,533"
    assert formatting.count(np.float64(2.5)) == "3" and formatting.count(-2.5) == "-3"
    assert formatting.quantity(1371.0, "tickets") == "1,371 tickets"


def test_a_percentage_change_is_in_points_and_a_tiny_change_is_unchanged() -> None:
    assert formatting.change(77.37, 78.045, "%") == "+0.7 pp"
    assert formatting.change(96.3, 94.44, "%") == "-1.9 pp"
    assert formatting.change(3.885, 3.896, "score") == "unchanged"  # below 0.05 of a score
    assert formatting.change(24.75, 24.52, "h") == "-14 min"
    assert formatting.change(1371, 1369, "tickets") == "-2 tickets"
    assert formatting.change(1371, 1371.4, "tickets") == "unchanged"


def test_durations_money_and_labels() -> None:
    assert [formatting.duration(h) for h in (0.5, 5.0, 24.75, 96.0)] == [
        "30 min", "5 h", "24.8 h", "4 days",
    ]  # fmt: skip
    assert formatting.money(78479.6, "EUR") == "€78,480"
    assert formatting.money(150, "USD") == "$150"
    assert formatting.label("assignment_group") == "assignment group"
    assert formatting.label("hist_gradient_boosting") == "gradient-boosted trees"
