"""Write the demo files: fixed formats, fixed row order, atomic replace, a marker.

The only module of the subpackage that touches the file system. Each file is
written to a temporary name in the target directory and renamed into place;
the marker (generator version, seed, file sizes) is removed first and written
last, so an interrupted run is always detected and redone.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from csi_helpers import atomic
from csi_helpers.demo import scenario as sc
from csi_helpers.demo.build import _check_seed, build_tables, truths_from_tables
from csi_helpers.errors import DataError

DEMO_FILES: dict[str, str] = {
    "monitoring": "monitoring.csv",
    "campaigns": "campaigns.csv",
    "outages": "outages.csv",
    "incidents": "incidents.csv",
    "csat": "csat.csv",
    "changes": "changes.csv",
    "truths": "truths.json",
}
MARKER_FILE = ".demo-marker.json"
ISO_Z = "%Y-%m-%dT%H:%M:%SZ"
SERVICENOW = "%Y-%m-%d %H:%M:%S"


def _times(values: pd.Series, fmt: str) -> pd.Series:
    """Format timestamps; missing ones become empty strings."""
    return pd.to_datetime(values).dt.strftime(fmt).fillna("")


def _fixed(values: pd.Series, decimals: int) -> np.ndarray:
    """Format floats with a fixed number of decimals (byte-stable across platforms)."""
    return np.char.mod(f"%.{decimals}f", np.round(values.to_numpy(dtype=float), decimals))


def _monitoring(df: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "timestamp": _times(df["timestamp"], ISO_Z),
            "service": df["service"],
            "requests": df["requests"],
            "capacity_rph": df["capacity_rph"],
            "utilisation": _fixed(df["utilisation"], 4),
            "latency_p95_ms": _fixed(df["latency_p95_ms"], 1),
            "error_rate": _fixed(df["error_rate"], 5),
        }
    )


def _campaigns(df: pd.DataFrame) -> pd.DataFrame:
    return df[["campaign_id", "name", "channel", "start", "end", "audience_size"]].assign(
        start=_times(df["start"], ISO_Z), end=_times(df["end"], ISO_Z)
    )


def _outages(df: pd.DataFrame) -> pd.DataFrame:
    columns = ["outage_id", "service", "start", "end", "duration_min", "cause", "incident_number"]
    return df[columns].assign(
        start=_times(df["start"], ISO_Z),
        end=_times(df["end"], ISO_Z),
        duration_min=_fixed(df["duration_min"], 1),
    )


INCIDENT_COLUMNS = (
    "number", "state", "priority", "category", "subcategory", "assignment_group",
    "short_description", "contact_type", "opened_at", "resolved_at", "closed_at",
    "reassignment_count", "reopen_count", "made_sla", "caused_by",
)  # fmt: skip


def _incidents(df: pd.DataFrame) -> pd.DataFrame:
    return df[list(INCIDENT_COLUMNS)].assign(
        opened_at=_times(df["opened_at"], SERVICENOW),
        resolved_at=_times(df["resolved_at"], SERVICENOW),
        closed_at=_times(df["closed_at"], SERVICENOW),
        made_sla=np.where(df["made_sla"].to_numpy(dtype=bool), "true", "false"),
    )


def _csat(df: pd.DataFrame) -> pd.DataFrame:
    return df.assign(
        sent_at=_times(df["sent_at"], SERVICENOW),
        responded_at=_times(df["responded_at"], SERVICENOW),
    )


def _changes(df: pd.DataFrame) -> pd.DataFrame:
    times = ("planned_start", "planned_end", "actual_start", "actual_end")
    return df.assign(**{column: _times(df[column], SERVICENOW) for column in times})


_FORMATTERS: dict[str, Callable[[pd.DataFrame], pd.DataFrame]] = {
    "monitoring": _monitoring,
    "campaigns": _campaigns,
    "outages": _outages,
    "incidents": _incidents,
    "csat": _csat,
    "changes": _changes,
}


def formatted(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """One demo table in the text form of its file (``name`` as in :data:`DEMO_FILES`).

    Example:
        >>> from csi_helpers.demo.build import build_tables
        >>> formatted("monitoring", build_tables(seed=1)["monitoring"])["timestamp"].iloc[0]
        '2026-04-01T00:00:00Z'
    """
    return _FORMATTERS[name](frame)


def _prepare(directory: str | Path) -> Path:
    if not isinstance(directory, str | os.PathLike):
        raise DataError(f"demo directory: expected a path, got {directory!r}")
    path = Path(directory)
    if path.exists() and not path.is_dir():
        raise DataError(f"{path}: the demo directory is a file; point `directory` at a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"{path}: cannot create the demo directory ({exc.strerror})") from exc
    return path


def _marker(seed: int, sizes: dict[str, int]) -> dict[str, object]:
    return {"generator_version": sc.GENERATOR_VERSION, "seed": seed, "sizes": sizes}


def generate_demo(directory: str | Path, *, seed: int = sc.DEFAULT_SEED) -> dict[str, Path]:
    """Write every demo file into ``directory`` and return ``{name: path}``.

    The same seed always gives byte-identical files.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     paths = generate_demo(tmp)
        ...     sorted(paths) == sorted(DEMO_FILES), paths["monitoring"].name
        (True, 'monitoring.csv')
    """
    seed = _check_seed(seed)
    root = _prepare(directory)
    (root / MARKER_FILE).unlink(missing_ok=True)
    tables = build_tables(seed=seed)
    payloads = {
        name: fmt(tables[name]).to_csv(index=False, lineterminator="\n").encode("utf-8")
        for name, fmt in _FORMATTERS.items()
    }
    truths = truths_from_tables(tables, seed=seed).to_dict()
    payloads["truths"] = (json.dumps(truths, indent=2) + "\n").encode("utf-8")
    paths = {name: root / file_name for name, file_name in DEMO_FILES.items()}
    for name, path in paths.items():
        atomic.write_bytes(path, payloads[name])
    sizes = {name: len(payloads[name]) for name in DEMO_FILES}
    marker = json.dumps(_marker(seed, sizes), indent=2) + "\n"
    atomic.write_bytes(root / MARKER_FILE, marker.encode("utf-8"))
    return paths


def _is_current(root: Path, seed: int) -> bool:
    """True when the marker matches this generator and seed and every file has its size."""
    try:
        marker = json.loads((root / MARKER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    expected = {"generator_version": sc.GENERATOR_VERSION, "seed": seed}
    if not isinstance(marker, dict) or any(marker.get(k) != v for k, v in expected.items()):
        return False
    sizes = marker.get("sizes")
    if not isinstance(sizes, dict):
        return False
    for name, file_name in DEMO_FILES.items():
        path = root / file_name
        if not path.is_file() or path.stat().st_size != sizes.get(name):
            return False
    return True


def ensure_demo_data(directory: str | Path, *, seed: int = sc.DEFAULT_SEED) -> dict[str, Path]:
    """Make sure ``directory`` holds the demo files for ``seed``; return ``{name: path}``.

    Regenerates everything when a file is missing or has changed size, or the
    marker names another generator version or seed; otherwise touches nothing.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     first = ensure_demo_data(tmp)
        ...     before = first["incidents"].stat().st_mtime_ns
        ...     second = ensure_demo_data(tmp)
        ...     second == first and second["incidents"].stat().st_mtime_ns == before
        True
    """
    seed = _check_seed(seed)
    root = _prepare(directory)
    if _is_current(root, seed):
        return {name: root / file_name for name, file_name in DEMO_FILES.items()}
    return generate_demo(root, seed=seed)
