"""Score the anomaly detector on the Numenta Anomaly Benchmark: `python benchmarks/bench_nab.py`.

Runs :func:`csi_helpers.analysis.anomaly.anomaly_episodes` and a rolling 3-sigma
baseline (trailing one-day mean ± 3 trailing standard deviations, the current
point excluded) over the NAB series in ``<repo>/../shared/data/real/
nab_numenta_anomaly_benchmark`` and prints, per series and in total, side by side:

* ``found``: labelled anomaly windows (``labels/combined_windows.json``) that at
  least one episode overlaps;
* ``false``: episodes that overlap no labelled window (false alarms);
* ``flagged``: the share of the series' time inside episodes (a detector that
  flags everything would find every window with few, long episodes);
* seconds spent.

Both detectors' anomalous points are merged into episodes by the same function,
:func:`csi_helpers.analysis.anomaly.merge_episodes`, with the same gap (one hour,
or two steps if longer); our detector also holds a flag while its score stays
above 0.75 of the threshold (its hysteresis), the baseline flags points only.
Neither detector sees the labels, and both run with one setting for every series.
Options: ``--series GLOB`` (e.g. ``'realKnownCause/*'``), ``--threshold`` (ours),
``--sigmas`` (the baseline's), ``--sweep`` (totals over a range of both).

The functions are importable (the tests use them): :func:`load_series`,
:func:`load_windows`, :func:`rolling_three_sigma`, :func:`score_episodes`,
:func:`run_benchmark`.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from csi_helpers.analysis.anomaly import MERGE_GAP, THRESHOLD, anomaly_episodes, merge_episodes

REPO = Path(__file__).resolve().parents[1]
NAB_DIR = REPO.parent / "shared" / "data" / "real" / "nab_numenta_anomaly_benchmark"

Windows = dict[str, list[tuple[pd.Timestamp, pd.Timestamp]]]


def nab_files(root: Path = NAB_DIR, pattern: str = "*") -> list[tuple[str, Path]]:
    """The NAB series under ``root/data`` as ``(key, path)``, key ``"<group>/<file>.csv"``."""
    if not (root / "data").is_dir():
        raise FileNotFoundError(
            f"NAB data not found at {root}; it is expected beside the repository at "
            "../shared/data/real/nab_numenta_anomaly_benchmark (see its SOURCE.md)"
        )
    found = [(f"{p.parent.name}/{p.name}", p) for p in sorted((root / "data").glob("*/*.csv"))]
    return [(key, path) for key, path in found if fnmatch.fnmatch(key, pattern)]


def load_series(path: Path) -> pd.Series:
    """One NAB CSV as a Series of ``value`` indexed by ``timestamp`` (as stored: may repeat)."""
    frame = pd.read_csv(path, parse_dates=["timestamp"])
    return pd.Series(
        frame["value"].to_numpy(dtype="float64"),
        index=pd.DatetimeIndex(frame["timestamp"]),
        name=path.stem,
    )


def _windows_from_labels(labels: dict[str, list[str]], root: Path) -> Windows:
    """NAB's own rule when only point labels exist: windows of 10 % of the series, shared."""
    out: Windows = {}
    for key, points in labels.items():
        path = root / "data" / key
        if not path.exists():
            continue
        index = load_series(path).index
        if not points:
            out[key] = []
            continue
        half = (index.max() - index.min()) * 0.1 / len(points) / 2
        spans = sorted((pd.Timestamp(p) - half, pd.Timestamp(p) + half) for p in points)
        merged = [spans[0]]
        for start, end in spans[1:]:
            if start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
            else:
                merged.append((start, end))
        out[key] = merged
    return out


def load_windows(root: Path = NAB_DIR) -> Windows:
    """Labelled anomaly windows per series key, from ``labels/combined_windows.json``.

    Falls back to ``combined_labels.json`` (point labels) with NAB's window rule.
    """
    windows_file = root / "labels" / "combined_windows.json"
    if windows_file.exists():
        raw = json.loads(windows_file.read_text())
        return {
            key: [(pd.Timestamp(a), pd.Timestamp(b)) for a, b in spans]
            for key, spans in raw.items()
        }
    labels_file = root / "labels" / "combined_labels.json"
    if labels_file.exists():
        return _windows_from_labels(json.loads(labels_file.read_text()), root)
    raise FileNotFoundError(f"no labels/combined_windows.json or combined_labels.json in {root}")


def default_merge_gap(series: pd.Series) -> pd.Timedelta:
    """The detector's default gap: one hour, or two median steps if longer."""
    steps = np.diff(np.unique(series.index.as_unit("ns").asi8))
    step = pd.Timedelta(int(np.median(steps))) if len(steps) else pd.Timedelta(0)
    return max(pd.Timedelta(MERGE_GAP), 2 * step)


def rolling_three_sigma(
    series: pd.Series,
    *,
    window: str = "1D",
    k: float = 3.0,
    min_periods: int = 12,
    merge_gap: str | pd.Timedelta | None = None,
) -> pd.DataFrame:
    """Baseline: flag points more than ``k`` trailing standard deviations from the trailing mean.

    Repeated timestamps are averaged (as the detector does); the window covers the
    ``window`` before each point, the point itself excluded.

    Returns:
        Episodes with the detector's columns, merged by the detector's rule.
    """
    values = series.astype("float64").where(np.isfinite(series)).dropna()
    values = values.groupby(level=0).mean().sort_index()
    rolling = values.rolling(window, closed="left", min_periods=min_periods)
    mean, std = rolling.mean(), rolling.std()
    with np.errstate(invalid="ignore", divide="ignore"):
        score = ((values - mean).abs() / std).to_numpy()
    frame = pd.DataFrame(
        {
            "value": values.to_numpy(),
            "expected": mean.to_numpy(),
            "score": np.nan_to_num(score, posinf=1e12),
            "anomalous": np.nan_to_num(score, posinf=1e12) > k,
        },
        index=values.index,
    )
    return merge_episodes(frame, merge_gap=merge_gap or default_merge_gap(series))


def score_episodes(
    episodes: pd.DataFrame,
    windows: list[tuple[pd.Timestamp, pd.Timestamp]],
    span: pd.Timedelta | None = None,
) -> dict[str, float]:
    """Windows found (overlapped by an episode) and false alarms (episodes overlapping none).

    With ``span`` (the series' length in time) also ``flagged``: the share of it
    that lies inside episodes, so that a detector cannot look good by flagging
    everything.
    """
    starts = episodes["start"].to_numpy(dtype="datetime64[ns]")
    ends = episodes["end"].to_numpy(dtype="datetime64[ns]")
    hits = np.zeros(len(episodes), dtype=bool)
    found = 0
    for a, b in windows:
        overlap = (starts <= np.datetime64(b, "ns")) & (ends >= np.datetime64(a, "ns"))
        found += bool(overlap.any())
        hits |= overlap
    result: dict[str, float] = {
        "windows": len(windows),
        "found": found,
        "episodes": len(episodes),
        "false": int(np.count_nonzero(~hits)),
    }
    if span is not None:
        inside = (ends - starts).sum() if len(episodes) else np.timedelta64(0, "ns")
        result["flagged"] = float(pd.Timedelta(inside) / span) if span > pd.Timedelta(0) else 0.0
    return result


def run_benchmark(
    *,
    root: Path = NAB_DIR,
    pattern: str = "*",
    threshold: float = THRESHOLD,
    sigmas: float = 3.0,
) -> pd.DataFrame:
    """Both detectors over the labelled NAB series: one row per series.

    Columns: ``series``, ``windows``, then ``found``, ``false``, ``episodes``,
    ``flagged`` (share of the series' time inside episodes) and ``seconds``, prefixed
    ``ours_`` and ``base_``.
    """
    windows = load_windows(root)
    rows = []
    for key, path in nab_files(root, pattern):
        if key not in windows:
            continue
        series = load_series(path)
        row: dict[str, object] = {"series": key, "windows": len(windows[key])}
        for name, detect in (
            ("ours", lambda s: anomaly_episodes(s, threshold=threshold)),
            ("base", lambda s: rolling_three_sigma(s, k=sigmas)),
        ):
            t0 = time.perf_counter()
            episodes = detect(series)
            seconds = time.perf_counter() - t0
            span = series.index.max() - series.index.min()
            result = score_episodes(episodes, windows[key], span)
            row |= {f"{name}_{k}": v for k, v in result.items() if k != "windows"}
            row[f"{name}_seconds"] = seconds
        rows.append(row)
    return pd.DataFrame(rows)


def _table(table: pd.DataFrame, *, threshold: float, sigmas: float) -> str:
    width = max(len(s) for s in table["series"]) + 2
    cols = f"{'found':>6}{'false':>7}{'flagged':>9}{'s':>7}"
    lines = [
        f"{'':<{width}}{'':>8} | {'ours (z > ' + format(threshold, 'g') + ')':<29}|"
        f" rolling {sigmas:g}-sigma",
        f"{'series':<{width}}{'windows':>8} | {cols} | {cols}",
    ]

    def cells(r: pd.Series, who: str) -> str:
        return (
            f"{int(r[who + '_found']):>6}{int(r[who + '_false']):>7}"
            f"{r[who + '_flagged']:>9.1%}{r[who + '_seconds']:>7.2f}"
        )

    for _, r in table.iterrows():
        lines.append(
            f"{r['series']:<{width}}{int(r['windows']):>8} | {cells(r, 'ours')} | "
            f"{cells(r, 'base')}"
        )
    total = table.sum(numeric_only=True)
    total["ours_flagged"] = table["ours_flagged"].mean()
    total["base_flagged"] = table["base_flagged"].mean()
    lines.append(
        f"{'total (flagged: mean)':<{width}}{int(total['windows']):>8} | {cells(total, 'ours')}"
        f" | {cells(total, 'base')}"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", default="*", help="glob over '<group>/<file>.csv' keys")
    parser.add_argument("--threshold", type=float, default=THRESHOLD, help="our robust z")
    parser.add_argument("--sigmas", type=float, default=3.0, help="the baseline's k (3)")
    parser.add_argument(
        "--sweep", action="store_true", help="also print totals over a range of thresholds"
    )
    args = parser.parse_args(argv)
    try:
        table = run_benchmark(pattern=args.series, threshold=args.threshold, sigmas=args.sigmas)
    except FileNotFoundError as exc:
        print(exc, file=sys.stderr)
        return 2
    if table.empty:
        print(f"no labelled NAB series match {args.series!r}", file=sys.stderr)
        return 2
    print(_table(table, threshold=args.threshold, sigmas=args.sigmas))
    print(
        "found = labelled windows overlapped by an episode; false = episodes overlapping no "
        "window;\nflagged = share of the series' time inside episodes; s = seconds. Both "
        "detectors' points are merged into episodes alike (gap 1 h, at least 2 steps)."
    )
    if args.sweep:
        print("\nthreshold sweep (totals: found / false / mean flagged)")
        for ours, base in ((3.0, 2.5), (3.5, 3.0), (4.0, 3.5), (4.5, 4.0), (5.0, 5.0)):
            t = run_benchmark(pattern=args.series, threshold=ours, sigmas=base)
            print(
                f"  ours z > {ours:<4g}: {int(t.ours_found.sum()):>3} / "
                f"{int(t.ours_false.sum()):>4}"
                f" / {t.ours_flagged.mean():5.1%}    rolling {base:g}-sigma: "
                f"{int(t.base_found.sum()):>3} / {int(t.base_false.sum()):>4} / "
                f"{t.base_flagged.mean():5.1%}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
