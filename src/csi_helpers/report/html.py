"""Turn an executed step notebook into a stakeholder HTML report.

The report is for managers: no code, no prompts, no warnings, and it opens
offline from a mail attachment or a file share. :func:`export_html` renders the
notebook in-process with nbconvert's ``HTMLExporter`` and the package-owned
``csi_report`` template (``templates/csi_report``), which

* replaces the ``lab`` page head and footer, so no require.js, MathJax or
  mermaid CDN ``<script>``, no widget scripts and no web fonts are emitted;
* inlines its own print-friendly stylesheet (A4 pages, headings kept with the
  figure that follows them);
* embeds figures as ``data:`` URIs;
* puts the title, organisation, service, period, run id and generation time in a header,
  escaped by Jinja autoescape.

Before rendering, the papermill ``parameters`` and ``injected-parameters``
cells and any cell tagged ``remove-cell`` are dropped with their outputs, as
are stderr streams, error outputs and outputs that need JavaScript. HTML and
markdown outputs pass an allow-list cleaner that keeps DataFrame and Styler
tables but escapes ``<script>`` and other active content, so user-written text
in a table can never run in a manager's browser.

:func:`export_pdf` prints a report to an A4 PDF with headless Chromium.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import bleach
import nbformat
from bleach.css_sanitizer import CSSSanitizer
from nbconvert import HTMLExporter
from traitlets.config import Config

from csi_helpers import atomic
from csi_helpers.errors import CsiError, DataError
from csi_helpers.report.browser import print_pdf
from csi_helpers.report.pages import TEMPLATES_DIR

__all__ = ["REMOVED_CELL_TAGS", "clean_report_html", "export_html", "export_pdf"]

TEMPLATE_NAME = "csi_report"

REMOVED_CELL_TAGS: frozenset[str] = frozenset({"parameters", "injected-parameters", "remove-cell"})
"""Cells carrying any of these tags are left out of the report, outputs included."""

# What a report shows, best first. JavaScript, widget views and mermaid need
# scripts to display, so they are not in the list and are dropped beforehand.
_DISPLAY_PRIORITY = [
    "text/html",
    "text/markdown",
    "image/svg+xml",
    "image/png",
    "image/jpeg",
    "text/latex",
    "text/plain",
]
_SCRIPTED_MIMETYPES = frozenset(
    {
        "application/javascript",
        "text/javascript",
        "application/vnd.jupyter.widget-view+json",
        "application/vnd.jupyter.widget-state+json",
        "text/vnd.mermaid",
    }
)

# Allow-list for HTML and markdown outputs: enough for pandas ``to_html``,
# Styler and rendered markdown; anything else is escaped, not executed.
_ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd",
        "del", "details", "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2",
        "h3", "h4", "h5", "h6", "hr", "i", "img", "kbd", "li", "mark", "ol", "p", "pre",
        "s", "small", "span", "strong", "style", "sub", "summary", "sup", "table",
        "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
    }
)  # fmt: skip
_ALLOWED_ATTRIBUTES = frozenset(
    {
        "align", "alt", "border", "class", "colspan", "dir", "headers", "height", "id",
        "lang", "rowspan", "scope", "style", "title", "type", "valign", "width",
    }
)  # fmt: skip
_REMOTE_CSS = re.compile(
    r"@import\b[^;]*;?|url\(\s*['\"]?\s*(?:[a-z][a-z0-9+.-]*:)?//[^)]*\)", re.I
)
_STYLE_ELEMENT = re.compile(r"(<style\b[^>]*>)(.*?)(</style>)", re.I | re.S)
_CSS_SANITIZER = CSSSanitizer()


def export_html(
    notebook: str | Path,
    output: str | Path,
    *,
    title: str,
    service: str,
    period: str,
    run_id: str,
    generated_at: datetime | None = None,
    organisation: str = "",
) -> Path:
    """Export an executed notebook as a self-contained, code-free HTML report.

    The report is rendered in memory, written to a temporary file next to
    ``output`` and moved into place with :func:`os.replace`, so a failure
    never leaves a half-written report (an older report stays as it was).
    The parent folder of ``output`` is created if needed.

    Args:
        notebook: Path of the executed ``.ipynb`` (e.g. papermill's output).
        output: Path of the ``.html`` report to write.
        title: Report title, shown in the header and the ``<title>``.
        service: The IT service the report is about.
        period: The period covered, e.g. ``"2024-Q2"``.
        run_id: Identifier of the run folder the notebook belongs to.
        generated_at: Generation time; defaults to now. Naive datetimes are
            taken as UTC. Shown in UTC to the minute, e.g. ``2024-07-01T09:30Z``.
        organisation: Who the report is from (``report.organisation`` of the
            params), shown first in the header when given.

    Returns:
        The path of the written report.

    Raises:
        DataError: The notebook is missing, unreadable, not JSON, or not a
            Jupyter notebook.
        CsiError: The report cannot be written to ``output``.

    Example:
        >>> from pathlib import Path
        >>> fixture = Path("tests/fixtures/notebooks/report_sample.ipynb")
        >>> path = export_html(fixture, "/tmp/csi_doctest/report.html",
        ...                    title="Incident review", service="Service desk",
        ...                    period="2024-Q2", run_id="run-001")  # doctest: +SKIP
        >>> "Incident review" in path.read_text(encoding="utf-8")  # doctest: +SKIP
        True
    """
    source = Path(notebook)
    target = Path(output)
    nb = _read_notebook(source)
    _strip_for_report(nb)
    header = {
        "title": str(title),
        "service": str(service),
        "period": str(period),
        "run_id": str(run_id),
        "generated_at": _utc_minute(generated_at),
        "organisation": str(organisation),
    }
    resources: dict[str, Any] = {
        "metadata": {"name": source.stem, "path": str(source.parent)},
        "csi": header,
    }
    html, _ = _make_exporter().from_notebook_node(nb, resources=resources)
    _write_atomically(html, target)
    return target


def export_pdf(
    html_path: str | Path, pdf_path: str | Path | None = None, *, timeout_s: float = 120.0
) -> Path:
    """Print an HTML report to an A4 PDF with headless Chromium (see :mod:`.browser`).

    The report's print stylesheet sets A4 pages with 15 mm margins, keeps each
    heading with the figure or table below it, and prints the RAG colours; the
    PDF has no browser header or footer. It is written atomically: a failure
    leaves no partial PDF, and an older PDF stays as it was.

    Args:
        html_path: A report written by :func:`export_html`.
        pdf_path: Where to write the PDF; defaults to ``html_path`` with ``.pdf``.
        timeout_s: Seconds the browser may take before it is stopped.

    Returns:
        The path of the written PDF.

    Raises:
        DataError: The report does not exist.
        CsiError: No Chromium or Chrome is installed (the message says what to
            install), or it failed or timed out.

    Example:
        >>> export_pdf("reports/shopfront-2026q3/06_present.html")  # doctest: +SKIP
        PosixPath('reports/shopfront-2026q3/06_present.pdf')
    """
    source = Path(html_path)
    target = source.with_suffix(".pdf") if pdf_path is None else Path(pdf_path)
    return print_pdf(source, target, timeout_s=timeout_s)


def _read_notebook(path: Path) -> nbformat.NotebookNode:
    """Read a notebook as nbformat 4, turning every failure into a DataError."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise DataError(
            f"Notebook {path} not found: run the step first, or check the path passed "
            "to the report export."
        ) from exc
    except UnicodeDecodeError as exc:
        raise DataError(
            f"Notebook {path} is not UTF-8 text: it is not an .ipynb file; point the "
            "report export at the executed notebook."
        ) from exc
    except OSError as exc:
        raise DataError(f"Notebook {path} cannot be read: {exc.strerror}.") from exc
    try:
        content = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(
            f"Notebook {path} is not valid JSON (line {exc.lineno}, column {exc.colno}): "
            "the file is damaged or was not fully written; run the step again."
        ) from exc
    if not isinstance(content, dict) or "cells" not in content:
        raise DataError(
            f"Notebook {path} is JSON but not a Jupyter notebook (no 'cells' list); "
            "point the report export at the executed .ipynb."
        )
    try:
        return nbformat.reads(text, as_version=4)
    except (nbformat.ValidationError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise DataError(
            f"Notebook {path} is not a valid Jupyter notebook ({exc}); run the step again."
        ) from exc


def _strip_for_report(nb: nbformat.NotebookNode) -> None:
    """Drop parameter and hidden cells, code, warnings, errors and scripted outputs."""
    kept = []
    for cell in nb.cells:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & REMOVED_CELL_TAGS:
            continue
        if cell.cell_type == "code":
            cell.source = ""
            cell.outputs = [out for out in cell.get("outputs", []) if _reportable(out)]
            if not cell.outputs:
                continue
        kept.append(cell)
    nb.cells = kept
    nb.metadata.pop("widgets", None)


def _reportable(output: nbformat.NotebookNode) -> bool:
    """Whether an output belongs in a report; strips scripted mimetypes in place."""
    kind = output.get("output_type")
    if kind == "stream":
        return output.get("name") == "stdout"
    if kind in ("display_data", "execute_result"):
        data = output.get("data", {})
        for mimetype in _SCRIPTED_MIMETYPES & data.keys():
            del data[mimetype]
        return bool(data)
    return False  # "error", and anything unknown


def _utc_minute(moment: datetime | None) -> str:
    """Format a time in UTC, ISO 8601 to the minute (``2024-07-01T09:30Z``)."""
    if moment is None:
        moment = datetime.now(UTC)
    elif moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


def _make_exporter() -> HTMLExporter:
    """Build an HTMLExporter on the package-owned ``csi_report`` template."""
    config = Config(
        {
            "NbConvertBase": {"display_data_priority": _DISPLAY_PRIORITY},
            # The pygments CSS is for code cells, which a report has none of.
            "CSSHTMLHeaderPreprocessor": {"enabled": False},
        }
    )
    exporter = HTMLExporter(
        config=config,
        extra_template_basedirs=[str(TEMPLATES_DIR)],
        template_name=TEMPLATE_NAME,
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        exclude_anchor_links=True,
        embed_images=True,
        sanitize_html=False,  # nbconvert's cleaner drops <th>/<style>; report_html is used
    )
    exporter.register_filter("report_html", clean_report_html)
    return exporter


def clean_report_html(fragment: str) -> str:
    """Keep table and text markup, escape active content, drop remote resources.

    Args:
        fragment: HTML from a notebook output or rendered markdown.

    Returns:
        HTML safe to open offline: no scripts, event handlers, frames, or
        ``src`` / CSS ``url()`` pointing at the network. Disallowed tags are
        escaped, so their text stays readable.

    Example:
        >>> clean_report_html('<p onclick="x()">Printer <script>alert(1)</script></p>')
        '<p>Printer &lt;script&gt;alert(1)&lt;/script&gt;</p>'
    """
    cleaned = bleach.clean(
        str(fragment),
        tags=_ALLOWED_TAGS,
        attributes=_allowed_attribute,
        protocols={"http", "https", "mailto", "data"},
        css_sanitizer=_CSS_SANITIZER,
        strip=False,
        strip_comments=True,
    )
    return _STYLE_ELEMENT.sub(
        lambda m: m[1] + _REMOTE_CSS.sub("none", m[2]) + m[3],
        cleaned,
    )


def _allowed_attribute(tag: str, name: str, value: str) -> bool:
    """Attribute filter for bleach: links may point out, nothing may load from out."""
    if name in _ALLOWED_ATTRIBUTES:
        return True
    if name == "href":
        return tag == "a"
    if name == "src":
        return tag == "img" and value.strip().lower().startswith("data:image/")
    return False


def _write_atomically(text: str, target: Path) -> None:
    """Write ``text`` to ``target`` atomically; a disk or permission problem as a CsiError."""
    try:
        atomic.write_text(target, text)
    except OSError as exc:
        raise CsiError(
            f"Cannot write report {target}: {exc.strerror or exc}; check that its folder can "
            "be created and written to, the disk space, and that the path is not a folder."
        ) from exc
