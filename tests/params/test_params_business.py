"""The optional `business:` section: one revenue source, weekday × hour profiles, plain messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from csi_helpers.errors import ParamsError
from csi_helpers.params import load_params, params_json_schema
from csi_helpers.params.business import WEEKDAYS

BASE = """\
service: {id: web, name: Web}
cycle: {id: q1, start: 2026-01-01, end: 2026-03-31}
"""


def write(tmp_path: Path, business: str) -> Path:
    path = tmp_path / "p.yaml"
    path.write_text(BASE + "business:\n" + business)
    return path


def profile(**changed: str) -> str:
    """A weekday × hour profile in YAML: 24 × 100 per day, some days replaced."""
    days = {d: "[" + ", ".join(["100"] * 24) + "]" for d in WEEKDAYS}
    days |= changed
    return "".join(f"    {d}: {v}\n" for d, v in days.items())


def problem(tmp_path: Path, business: str) -> str:
    with pytest.raises(ParamsError) as err:
        load_params(write(tmp_path, business))
    return str(err.value)


def test_without_the_section_there_is_no_business(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(BASE)
    assert load_params(path).business is None


def test_a_profile_is_read_by_weekday_and_hour(tmp_path):
    text = "  currency: eur\n  sla_penalty_per_breach: 250\n  revenue_profile:\n" + profile(
        fri="[" + ", ".join(str(h) for h in range(24)) + "]"
    )
    business = load_params(write(tmp_path, text)).business
    assert business.currency == "EUR"
    assert business.revenue_source == "revenue_profile"
    assert business.revenue_profile["fri"][19] == 19.0
    assert business.revenue_profile["mon"] == [100.0] * 24
    assert business.sla_penalty_per_breach == 250.0


def test_a_misspelt_weekday_is_named_with_the_one_meant(tmp_path):
    text = "  currency: EUR\n  revenue_profile:\n" + profile().replace("    fri:", "    friday:")
    message = problem(tmp_path, text)
    assert "business.revenue_profile (line 5): unknown weekday 'friday'" in message
    assert "did you mean 'fri'?" in message and "use mon, tue, wed, thu, fri, sat, sun" in message


def test_a_day_with_23_hours_says_how_many_to_give(tmp_path):
    text = "  currency: EUR\n  revenue_profile:\n" + profile(sat="[" + "5, " * 22 + "5]")
    message = problem(tmp_path, text)
    assert "business.revenue_profile (line 5): sat has 23 amounts; give 24 amounts, one per " in (
        message
    )
    assert "from 00:00 to 23:00 in the service's time zone" in message


def test_a_missing_day_and_a_negative_hour_are_named(tmp_path):
    text = "  currency: EUR\n  orders_profile:\n" + profile().replace("    sun:", "    #sun:")
    text += "  average_order_value: 40\n"
    assert "weekday(s) sun missing; give all seven" in problem(tmp_path, text)
    bad = "[" + ", ".join(["3"] * 19 + ["-3"] + ["3"] * 4) + "]"
    text = "  currency: EUR\n  average_order_value: 40\n  orders_profile:\n" + profile(tue=bad)
    assert "business.orders_profile (line 6): tue hour 19:00: -3 is negative; give 0 or more" in (
        problem(tmp_path, text)
    )


def test_a_negative_amount_names_its_field(tmp_path):
    message = problem(tmp_path, "  currency: EUR\n  sla_penalty_per_breach: -250\n")
    assert "business.sla_penalty_per_breach (line 5): must be an amount of 0 or more" in message
    assert "(got -250)" in message


def test_the_currency_is_an_iso_code(tmp_path):
    message = problem(tmp_path, "  currency: euros\n  revenue_per_hour: 5000\n")
    assert "business.currency (line 4): use a three-letter ISO 4217 currency code" in message


@pytest.mark.parametrize(
    ("business", "expected"),
    [
        (
            "  currency: EUR\n  revenue_per_hour: 5000\n  orders_per_hour: 100\n",
            "give one of revenue_per_hour, revenue_profile, orders_per_hour, orders_profile; "
            "got revenue_per_hour and orders_per_hour",
        ),
        ("  currency: EUR\n  orders_per_hour: 100\n", "orders_per_hour needs average_order_value"),
        (
            "  currency: EUR\n  revenue_per_hour: 5000\n  average_order_value: 40\n",
            "average_order_value is used with orders_per_hour or orders_profile",
        ),
        ("  currency: EUR\n", "nothing to price with: add revenue_per_hour"),
        ("  currency: EUR\n  revenue_per_hour: 5000\n  fines: 3\n", "unknown key"),
    ],
)
def test_the_section_must_say_one_thing_about_revenue(tmp_path, business, expected):
    message = problem(tmp_path, business)
    assert "business" in message and expected in message


def test_the_schema_describes_the_section_for_editors():
    fields = params_json_schema()["$defs"]["Business"]["properties"]
    assert fields["currency"]["description"].startswith("ISO 4217 code")
    assert "downtime" in fields["downtime_cost_per_minute"]["description"]
