"""The record of a batch: an index page linking every report, a JSON summary, a table.

``<reports dir>/batch.html`` opens offline, from a file share or a zip: the
house stylesheet is inlined, it has no script, and its links are relative to
the page (each run's reports sit in ``<run id>/`` beside it). Every value is
escaped, so a service named ``<b>Shop</b>`` shows as text. ``batch.json`` holds
the same rows for machines, with absolute paths.
"""

from __future__ import annotations

import os
from dataclasses import asdict
from pathlib import Path
from typing import Any
from urllib.parse import quote

from csi_helpers import atomic
from csi_helpers.chain.batch.jobs import BatchResult, JobResult
from csi_helpers.report.pages import render_page
from csi_helpers.runfolder.manifest import utc_now

__all__ = ["INDEX_NAME", "SUMMARY_NAME", "summary_lines", "write_batch_index"]

INDEX_NAME = "batch.html"
SUMMARY_NAME = "batch.json"
_REPORT_LABELS = {"6": "Findings", "7": "Improvement plan"}


def summary(result: BatchResult) -> dict[str, Any]:
    """The batch as plain data: how it ran, its counts, and one row per job."""
    return {
        "started": result.started,
        "seconds": result.seconds,
        "engine": result.engine,
        "counts": {s: result.count(s) for s in ("succeeded", "failed", "skipped")},
        "exit_code": result.exit_code,
        "runs": [
            {
                "params": str(job.params_path),
                "service": job.service,
                "period": job.period,
                "depends_on": list(job.depends_on),
                "after": list(job.after),
                **asdict(res),
            }
            for job, res in zip(result.jobs, result.results, strict=True)
        ],
    }


def write_batch_index(result: BatchResult, reports_dir: str | Path) -> tuple[Path, Path]:
    """Write ``batch.html`` and ``batch.json`` into ``reports_dir``; their paths.

    Both are written through a temporary file and a rename, never half-written.
    """
    folder = Path(reports_dir).resolve()
    json_path = atomic.write_json(folder / SUMMARY_NAME, summary(result))
    html_path = atomic.write_text(folder / INDEX_NAME, render_index(result, folder))
    return html_path, json_path


def render_index(result: BatchResult, folder: Path) -> str:
    """The index page's HTML, its links relative to ``folder`` (where the page goes)."""
    rows = [
        {
            "run_id": res.run_id,
            "service": job.service,
            "period": job.period,
            "status": res.status,
            "seconds": res.seconds,
            "reports": [
                {"href": _href(path, folder), "label": _REPORT_LABELS.get(n, f"Step {n}")}
                for n, path in res.reports.items()
            ],
            "note": res.reason or _waits_for(job.depends_on),
        }
        for job, res in zip(result.jobs, result.results, strict=True)
    ]
    return render_page(
        "csi_batch/index.html.j2",
        title=f"Batch of {len(rows)} runs",
        counts=_counts(result),
        started=result.started,
        seconds=result.seconds,
        engine=result.engine,
        rows=rows,
        generated_at=utc_now(),
        summary_href=quote(SUMMARY_NAME),
        summary_name=SUMMARY_NAME,
    )


def summary_lines(result: BatchResult, *, relative_to: Path | None = None) -> list[str]:
    """The batch as an aligned text table: run id, status, seconds, reports or reason."""
    base = relative_to or Path.cwd()
    header = ("RUN", "STATUS", "SECONDS", "REPORTS / REASON")
    rows = [
        (
            res.run_id,
            res.status,
            "-" if res.seconds is None else f"{res.seconds:.1f}",
            _outcome(res, base),
        )
        for res in result.results
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(3)]
    lines = []
    for row in [header, *rows]:
        cells = [row[0].ljust(widths[0]), row[1].ljust(widths[1]), row[2].rjust(widths[2])]
        lines.append("  ".join([*cells, row[3]]))
    lines.append(f"{_counts(result)} in {result.seconds:.1f} s ({result.engine})")
    return lines


def _outcome(res: JobResult, base: Path) -> str:
    if res.status == "succeeded":
        return ", ".join(_shown(Path(p), base) for p in res.reports.values()) or "(no reports)"
    return res.reason


def _shown(path: Path, base: Path) -> str:
    rel = os.path.relpath(path, base)
    return str(path) if rel.startswith("..") else rel


def _href(path: str, folder: Path) -> str:
    return quote(Path(os.path.relpath(path, folder)).as_posix())


def _counts(result: BatchResult) -> str:
    parts = [f"{result.count(s)} {s}" for s in ("succeeded", "failed", "skipped")]
    return ", ".join(parts)


def _waits_for(depends_on: tuple[str, ...]) -> str:
    return f"after {', '.join(depends_on)}" if depends_on else ""
