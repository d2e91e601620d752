"""Charts that show the evidence of an issue (issue 16 point 1)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from csi_helpers.report.charts import capacity_chart


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
