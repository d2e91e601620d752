"""The module paths of 0.1 stay importable for one release, each warning where its home is now."""

from __future__ import annotations

import importlib
import sys
import warnings

import pytest

from csi_helpers.compat import ALIASES, CsiDeprecationWarning


@pytest.mark.parametrize(("old", "homes"), sorted(ALIASES.items()))
def test_each_old_path_warns_and_names_its_new_homes(old, homes, monkeypatch):
    monkeypatch.delitem(sys.modules, old, raising=False)
    with pytest.warns(CsiDeprecationWarning, match=rf"{old} moved to {homes[0]}\b") as caught:
        importlib.import_module(old)
    assert caught[0].filename == __file__  # points at the importer, not at importlib
    assert all(home in str(caught[0].message) for home in homes)
    for home in homes:
        importlib.import_module(home)  # each home exists


def test_the_warning_is_shown_by_default():
    """A FutureWarning: Python's default filters show it, unlike a DeprecationWarning."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.resetwarnings()
        warnings.simplefilter("default")
        warnings.warn("x", CsiDeprecationWarning, stacklevel=1)
    assert issubclass(CsiDeprecationWarning, FutureWarning) and len(caught) == 1


def test_the_names_0_1_notebooks_used_are_still_there(monkeypatch):
    used = {
        "csi_helpers.present": ["bullets", "table", "styled_scorecard", "display_findings",
                                "recommendations", "RECOMMENDATION_COLUMNS", "executive_summary",
                                "methodology", "skipped_analyses", "provenance"],
        "csi_helpers.process": ["build_tables", "kpi_values", "table_path", "ticket_table"],
        "csi_helpers.series": ["daily_series", "hourly_series", "ticket_series",
                               "weekday_hour_profile"],
        "csi_helpers.analyse": ["load_inputs", "analyse_kpis", "analyse_trends", "save_findings"],
        "csi_helpers.canonical": ["cycle_window"],
        "csi_helpers.gather": ["prepare_sources", "snapshot_sources"],
        "csi_helpers.measurement": ["source_headers", "measurement_plan"],
        "csi_helpers.scorecard": ["build_scorecard"],
        "csi_helpers.improvement": ["sync_register", "review_due"],
        "csi_helpers.charts": ["daily_overview", "weekday_hour_heatmap"],
    }  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CsiDeprecationWarning)
        for module, names in used.items():
            loaded = importlib.import_module(module)
            assert [n for n in names if not hasattr(loaded, n)] == [], module
    with pytest.warns(CsiDeprecationWarning, match="report.charts.kpi_tree_figure"):
        from csi_helpers.strategy import kpi_tree_figure  # noqa: F401
