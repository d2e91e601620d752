"""The library as a whole: every KPI is a documented module-level function under its id.

Several families write the KPI function once in a decorator (``_on_outages``,
``_on_latency``, ``_on_sli_spend``, ``_on_resolution_times``...) and each KPI holds
only its formula; these tests pin what that must keep: the id, the options read
from the signature, the docstring, and a function pickle and doctest can find.
"""

from __future__ import annotations

import importlib
import inspect
import pickle

import pandas as pd
import pytest

from csi_helpers.kpis import LIBRARY
from csi_helpers.kpis.base import KpiResult, define, empty, named_after

DAY = {"start": pd.Timestamp("2026-01-01", tz="UTC"), "end": pd.Timestamp("2026-01-02", tz="UTC")}


@pytest.mark.parametrize("kpi_id", list(LIBRARY))
def test_each_kpi_is_the_module_function_of_its_id(kpi_id: str) -> None:
    compute = LIBRARY[kpi_id].compute
    module = importlib.import_module(compute.__module__)
    assert compute.__name__ == compute.__qualname__ == kpi_id
    assert getattr(module, kpi_id) is compute
    assert not hasattr(compute, "__wrapped__")
    assert pickle.loads(pickle.dumps(compute)) is compute


@pytest.mark.parametrize("kpi_id", list(LIBRARY))
def test_each_kpi_documents_a_formula_and_an_example(kpi_id: str) -> None:
    doc = inspect.getdoc(LIBRARY[kpi_id].compute) or ""
    assert "Formula:" in doc
    assert "Example:" in doc and ">>> " in doc


@pytest.mark.parametrize("kpi_id", list(LIBRARY))
def test_each_kpi_takes_a_table_and_the_period(kpi_id: str) -> None:
    params = list(inspect.signature(LIBRARY[kpi_id].compute).parameters.values())
    assert params[0].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
    assert [p.name for p in params[1:3]] == ["start", "end"]
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params[1:])


@pytest.mark.parametrize(
    ("kpi_id", "options"),
    [
        ("mean_time_to_resolve", {"resolution": "resolved_at", "scope": "resolved_in_period"}),
        ("median_time_to_resolve", {"resolution": "resolved_at", "scope": "resolved_in_period"}),
        ("p90_time_to_resolve", {"resolution": "resolved_at", "scope": "resolved_in_period"}),
        ("latency_p50", {"column": "latency_ms"}),
        ("latency_p99", {"column": "latency_ms"}),
        ("mtbf", {}),
        ("mtrs", {}),
        ("mtbsi", {}),
        (
            "error_budget_burn_rate",
            {"slo": 99.9, "sli": "availability", "latency_threshold_ms": 300.0, "as_of": None},
        ),
        ("sla_burn_rate", {"target": 95.0, "as_of": None}),
    ],
)
def test_kpis_made_by_a_family_decorator_keep_their_options(kpi_id: str, options: dict) -> None:
    definition = LIBRARY[kpi_id]
    assert definition.option_defaults() == options
    assert definition.validate_options(options) == options


def test_reserved_keywords_reach_decorated_kpis_only_where_they_take_them() -> None:
    takes = {
        kpi_id
        for kpi_id, d in LIBRARY.items()
        if "calendar" in inspect.signature(d.compute).parameters
    }
    assert {"mean_time_to_resolve", "p90_time_to_resolve", "mtbf", "availability"} <= takes
    assert "latency_p95" not in takes and "error_budget_remaining" not in takes


def test_named_after_gives_name_and_doc_but_keeps_the_signature() -> None:
    def formula(values: list[float]) -> float:
        """Largest value.

        Formula: max(values).
        """
        return max(values)

    def kpi(table: pd.DataFrame, *, start: pd.Timestamp, end: pd.Timestamp) -> KpiResult:
        return KpiResult(value=formula(table["x"].tolist()), n=len(table))

    made = named_after(kpi, formula)
    assert made is kpi
    assert (made.__name__, made.__doc__) == ("formula", formula.__doc__)
    assert list(inspect.signature(made).parameters) == ["table", "start", "end"]
    d = define("monitoring", made, "Largest", "x", ("x",), "higher")
    assert d.id == "formula" and d.formula == "Largest value. Formula: max(values)."
    assert d(pd.DataFrame({"x": [1.0, 3.0]}), **DAY).value == 3.0


def test_results_and_definitions_are_frozen_with_their_documented_defaults() -> None:
    """A result is shared by the scorecard, the report and the register: nothing may edit it
    on the way. Left out, ``excluded`` is 0 and ``revision`` 1 (killed mutants of base.py)."""
    import dataclasses

    result = KpiResult(value=2.0, n=3)
    assert (result.excluded, result.note, result.details) == (0, "", {})
    assert result.to_dict() == {"value": 2.0, "n": 3, "excluded": 0, "note": "", "details": {}}
    assert KpiResult(value=float("nan"), n=0).to_dict()["value"] is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.n = 4  # type: ignore[misc]
    d = define("tickets", LIBRARY["mtbf"].compute, "MTBF", "h", ("opened_at",), "higher")
    assert d.revision == 1 and d.option_fields == {}
    assert "compute" not in repr(d)
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.revision = 2  # type: ignore[misc]
    nothing = empty("no survey response in the period")
    assert (nothing.value, nothing.n, nothing.excluded) == (None, 0, 0)


def test_a_revised_kpi_says_how_it_differs_from_the_previous_revision() -> None:
    definition = LIBRARY["peak_utilisation"]
    assert definition.revision == 2
    assert definition.revision_note.startswith("Revision 2: revision 1 was the 99th percentile")
    assert "\n" not in definition.revision_note
    assert LIBRARY["mtbf"].revision_note == ""


def test_options_are_the_keyword_only_parameters_and_wrong_ones_are_named() -> None:
    def counted(table, *, start, end, limit: int = 3, **extra) -> KpiResult:
        return KpiResult(value=float(limit), n=len(table))

    d = define("tickets", counted, "Counted", "tickets", (), "lower")
    assert d.option_defaults() == {"limit": 3}  # not start, end (reserved) nor **extra
    with pytest.raises(
        ValueError, match=r"has no option 'limt'; did you mean 'limit'\? options: limit"
    ):
        d.validate_options({"limt": 4})
    with pytest.raises(ValueError, match=r"has no option 'xyz'; options: limit"):
        d.validate_options({"xyz": 4})  # nothing close enough to suggest
    with pytest.raises(ValueError, match=r"KPI 'counted' option limit: .*integer"):
        d.validate_options({"limit": "many"})
    assert d.validate_options({"limit": "5"}) == {"limit": 5}
    bare = define("tickets", LIBRARY["mtbf"].compute, "MTBF", "h", (), "higher")
    with pytest.raises(ValueError, match=r"has no option 'x'; options: none"):
        bare.validate_options({"x": 1})


@pytest.mark.parametrize("kpi_id", list(LIBRARY))
def test_each_kpis_defaults_are_valid_options(kpi_id: str) -> None:
    """Options are typed from the KPI function's annotations (all of them are evaluated,
    so a broken one fails here rather than in a user's params check)."""
    definition = LIBRARY[kpi_id]
    defaults = definition.option_defaults()
    assert definition.validate_options(defaults) == defaults
    assert set(inspect.get_annotations(definition.compute, eval_str=True)) >= {"start", "end"}
