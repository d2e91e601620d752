"""Chart helpers return a figure in the house style and never show or save it."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from csi_helpers.report.charts import (
    before_after_chart,
    capacity_chart,
    resolution_time_distribution,
)
from csi_helpers.report.tables import table


def test_before_after_shows_the_values_the_target_and_the_change_on_its_interval():
    fig = before_after_chart(
        kpi="Downtime", unit="min", before=483.7, after=241.8, labels=("2026 Q2", "2026 Q3"),
        better="lower", target=60, change=(-50.4, -74.6, -3.3), promised=-50,
    )  # fmt: skip
    bars, interval = fig.axes
    assert [t.get_text() for t in bars.get_xticklabels()] == ["2026 Q2", "2026 Q3"]
    assert [t.get_text() for t in bars.texts] == ["484 min", "242 min"]
    assert bars.get_legend().get_texts()[0].get_text() == "target 60 min"
    assert [t.get_text() for t in interval.get_legend().get_texts()] == [
        "no change",
        "promised -50 %",
    ]
    low, high = interval.get_xlim()
    assert low < -74.6 and high > 0  # the whole interval, no change and the promise in view
    assert bars.patches[1].get_facecolor()[:3] == rgb("#2e7d32")  # better: green
    plt.close(fig)


def test_without_a_measured_change_only_the_bars_are_drawn_and_worse_is_red():
    fig = before_after_chart(kpi="SLA compliance", unit="%", before=81.2, after=78.0,
                             better="higher")  # fmt: skip
    [bars] = fig.axes
    assert [t.get_text() for t in bars.texts] == ["81.2 %", "78 %"]
    assert bars.patches[1].get_facecolor()[:3] == rgb("#c62828")
    plt.close(fig)


def rgb(colour: str) -> tuple[float, float, float]:
    from matplotlib.colors import to_rgb

    return to_rgb(colour)


def test_a_text_columns_header_sits_left_like_its_cells():
    html = table(pd.DataFrame({"What": ["Stagger campaigns"], "Entries": [3]})).to_html()
    assert "th.col0 {\n  text-align: left;" in html and "th.col1" not in html


def test_the_knee_chart_marks_the_hours_inside_the_events():
    """48 hours, the last 6 inside a campaign: those 6 points get their own colour and
    the legend names them; without events, one series and no event label."""
    hours = pd.date_range("2026-05-01", periods=48, freq="h", tz="UTC")
    frame = pd.DataFrame(
        {"timestamp": hours, "utilisation": np.linspace(0.2, 0.95, 48),
         "latency_p95_ms": np.linspace(180, 500, 48)}
    )  # fmt: skip
    events = pd.DataFrame({"start": [hours[42]], "end": [hours[-1] + pd.Timedelta(hours=1)]})
    fig = capacity_chart(frame, threshold=0.75, events=events, events_label="during campaigns")
    [ax] = fig.axes
    sizes = [len(c.get_offsets()) for c in ax.collections]
    assert sizes == [42, 6]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "other hours", "during campaigns", "starts rising at 75 % utilisation",
    ]  # fmt: skip
    plain = capacity_chart(frame, threshold=None)
    assert [len(c.get_offsets()) for c in plain.axes[0].collections] == [48]
    assert plain.axes[0].get_legend() is None


def test_resolution_times_without_priorities_are_one_box_that_says_why():
    """An export without a priority column (issue 18) crashed seaborn's boxplot; it is now
    one box for all tickets, and the title names the column that would split it."""
    opened = pd.to_datetime(["2026-01-01 00:00", "2026-01-02 00:00", "2026-01-03 00:00"], utc=True)
    tickets = pd.DataFrame(
        {
            "opened_at": opened,
            "resolved_at": opened + pd.to_timedelta([5, 30, 2], unit="h"),
            "priority": pd.Series([pd.NA] * 3, dtype="string"),
        }
    )
    fig = resolution_time_distribution(tickets)
    [ax] = fig.axes
    assert "no priority in the export: map `priority` to split it" in ax.get_title()
    assert [t.get_text() for t in ax.get_yticklabels()] == ["all tickets"]
    tickets["priority"] = pd.Series(["1 - Critical", "3 - Moderate", "1 - Critical"])
    [ax] = resolution_time_distribution(tickets).axes
    assert [t.get_text() for t in ax.get_yticklabels()] == ["1 - Critical", "3 - Moderate"]
    assert "no priority" not in ax.get_title()
