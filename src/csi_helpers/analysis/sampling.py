"""Row samples for step 5's row-level models on large cycles, stated in the finding.

Most analyses work on the hourly and daily series, whatever the number of rows;
two fit a model to every row: the capacity knee (monitoring samples) and the
drivers of SLA breaches (tickets). On a large cycle they fit a uniform random
sample of :data:`SAMPLE_ROWS` rows, drawn with the analysis seed and kept in
their original order, and :func:`with_sample` writes the sample into the
finding's statement, method and evidence.

Example:
    >>> rows, sample = sample_rows(pd.DataFrame({"x": range(10)}), limit=4, unit="tickets")
    >>> len(rows), rows["x"].is_monotonic_increasing, sample["of"]
    (4, True, 10)
    >>> sample_rows(pd.DataFrame({"x": range(3)}), limit=4)[1] is None
    True
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd

from csi_helpers.analysis.findings import Finding

#: Rows a row-level model fits at most; a larger cycle is sampled.
SAMPLE_ROWS = 100_000


def draw(
    n: int, *, limit: int | None, seed: int, unit: str
) -> tuple[np.ndarray | None, dict[str, Any] | None]:
    """Positions of a uniform sample of ``limit`` of ``n`` rows, ascending, and its record.

    ``(None, None)`` when ``limit`` is None or there are no more than ``limit`` rows.

    Example:
        >>> positions, sample = draw(10, limit=3, seed=0, unit="tickets")
        >>> len(positions), sample
        (3, {'rows': 3, 'of': 10, 'unit': 'tickets', 'seed': 0, 'how': 'uniform'})
    """
    if limit is None or n <= limit:
        return None, None
    rng = np.random.default_rng(seed)
    positions = np.sort(rng.choice(n, size=limit, replace=False))
    return positions, {"rows": limit, "of": n, "unit": unit, "seed": seed, "how": "uniform"}


def sample_rows(
    frame: pd.DataFrame, *, limit: int | None = SAMPLE_ROWS, seed: int = 0, unit: str = "rows"
) -> tuple[pd.DataFrame, dict[str, Any] | None]:
    """At most ``limit`` rows of ``frame`` (see :func:`draw`) and the sample's record."""
    positions, sample = draw(len(frame), limit=limit, seed=seed, unit=unit)
    return (frame, None) if positions is None else (frame.iloc[positions], sample)


def with_sample(finding: Finding, sample: dict[str, Any] | None) -> Finding:
    """The finding with its sample stated in its statement, method and evidence.

    Example:
        >>> from csi_helpers.analysis import no_finding
        >>> f = no_finding(analysis="drivers", metric="breached", reason="no_signal",
        ...                detail="nothing stands out", method="model")
        >>> _, sample = draw(10, limit=3, seed=0, unit="tickets")
        >>> with_sample(f, sample).method
        "model; on a uniform random sample of 3 of the cycle's 10 tickets (seed 0)"
    """
    if sample is None:
        return finding
    note = (
        f"on a uniform random sample of {sample['rows']:,} of the cycle's "
        f"{sample['of']:,} {sample['unit']} (seed {sample['seed']})"
    )
    return dataclasses.replace(
        finding,
        statement=f"{finding.statement} ({note})",
        method=f"{finding.method}; {note}",
        evidence={**finding.evidence, "sample": sample},
    )
