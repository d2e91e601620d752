"""Step 5's capacity limit: the latency knee found this cycle sets it, else the params."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from csi_helpers.analysis import capacity_threshold
from csi_helpers.steps.analyse.inputs import RESPONSES
from csi_helpers.steps.analyse.tables import capacity_limit

CTX = SimpleNamespace(params=SimpleNamespace(analysis=SimpleNamespace(capacity_limit=0.75)))


def knee(response: str, *, at: float, seed: int = 3) -> object:
    """The finding analyse_capacity makes of samples with a knee planted at ``at``."""
    rng = np.random.default_rng(seed)
    u = rng.uniform(0.2, 1.1, 1500)
    y = (180 + 1500 * np.maximum(0.0, u - at)) * rng.lognormal(0, 0.05, len(u))
    metric, unit = RESPONSES[response]
    frame = pd.DataFrame({"utilisation": u, response: y})
    return capacity_threshold(
        frame, x="utilisation", y=response, y_unit=unit, metric=metric, n_boot=99, seed=1
    )


def test_the_latency_knee_found_sets_the_limit_with_its_interval():
    found = knee("latency_p95_ms", at=0.62)
    assert found.is_finding
    limit, why = capacity_limit(CTX, [knee("error_rate", at=0.9), found])
    assert limit == pytest.approx(found.evidence["threshold"])
    assert limit == pytest.approx(0.62, abs=0.02)
    low, high = found.evidence["threshold_ci_low"], found.evidence["threshold_ci_high"]
    assert f"{100 * limit:.1f} % of capacity" in why
    assert f"(95 % CI {100 * low:.1f} to {100 * high:.1f} %)" in why
    assert "p95 latency" in why


def test_without_a_latency_knee_the_params_limit_is_used():
    only_errors = [knee("error_rate", at=0.62)]
    assert capacity_limit(CTX, only_errors) == (0.75, "analysis.capacity_limit in the params")
    assert capacity_limit(CTX, []) == (0.75, "analysis.capacity_limit in the params")
