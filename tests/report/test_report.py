"""Tests for csi_helpers.report.html: a code-free, offline, escaped, atomically written report.

The fixture ``tests/fixtures/notebooks/report_sample.ipynb`` is committed with
its outputs (notebook metadata ``keep_output: true`` keeps nbstripout off it).
Rebuild it with ``.venv/bin/python tests/report/test_report.py``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

from csi_helpers import atomic
from csi_helpers.errors import CsiError, DataError
from csi_helpers.report import html as report
from csi_helpers.report.html import export_html

FIXTURE = Path(__file__).parents[1] / "fixtures" / "notebooks" / "report_sample.ipynb"

HEADER = {
    "title": "Incident review",
    "service": "Service desk",
    "period": "2024-Q2",
    "run_id": "run-20240701-0930",
    "generated_at": datetime(2024, 7, 1, 9, 30, 59, tzinfo=UTC),
}

# (cell_type, tags, source) of the fixture notebook.
FIXTURE_CELLS: list[tuple[str, list[str], str]] = [
    ("markdown", [], "# Incident review\n\nHow quickly were incidents resolved this quarter?"),
    (
        "code",
        ["parameters"],
        'service: str = "Service desk"  # IT service under review\n'
        "target_hours: float = 8.0  # resolution target in hours",
    ),
    ("code", ["injected-parameters"], 'service = "CANARY_PARAM_123"\nservice'),
    (
        "code",
        [],
        "import warnings\n\nimport matplotlib.pyplot as plt\nimport pandas as pd",
    ),
    ("markdown", [], "## Tickets by priority"),
    (
        "code",
        [],
        "tickets = pd.DataFrame(\n"
        "    {\n"
        '        "ticket": ["INC-1", "INC-2", "INC-3"],\n'
        '        "description": ["<b>printer</b> on fire", "VPN down", "mail slow"],\n'
        '        "hours_to_resolve": [4.5, 12.0, 2.25],\n'
        "    }\n"
        ")\n"
        'print("STDOUT_KEPT tickets loaded:", len(tickets))\n'
        "tickets",
    ),
    ("code", [], 'warnings.warn("STDERR_CANARY old threshold", stacklevel=1)'),
    ("markdown", [], "## Resolution time"),
    (
        "code",
        [],
        "fig, ax = plt.subplots(figsize=(4, 2.5))\n"
        'ax.bar(tickets["ticket"], tickets["hours_to_resolve"])\n'
        'ax.set_ylabel("hours")\n'
        "plt.show()",
    ),
    ("code", ["remove-cell"], 'print("REMOVE_CELL_CANARY")'),
]

CODE_FRAGMENTS = [
    "import pandas",
    "pd.DataFrame(",
    "plt.subplots",
    "warnings.warn",
    "target_hours",
    "print(",
]


class _Attributes(HTMLParser):
    """Collect (tag, attribute, value) of every element."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.extend((tag, name, value or "") for name, value in attrs)


def _attributes(html: str) -> list[tuple[str, str, str]]:
    parser = _Attributes()
    parser.feed(html)
    parser.close()
    return parser.found


@pytest.fixture(scope="module")
def html(tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("report") / "report.html"
    written = export_html(FIXTURE, out, **HEADER)
    assert written == out
    return out.read_text(encoding="utf-8")


def test_header_and_title(html: str) -> None:
    assert "<title>Incident review — Service desk — 2024-Q2</title>" in html
    header = html.split('<header class="csi-header">', 1)[1].split("</header>", 1)[0]
    for value in ("Incident review", "Service desk", "2024-Q2", "run-20240701-0930"):
        assert value in header
    assert "2024-07-01T09:30Z" in header


def test_generated_at_is_shown_in_utc() -> None:
    paris = timezone(timedelta(hours=2))
    assert report._utc_minute(datetime(2024, 7, 1, 11, 30, 59, tzinfo=paris)) == "2024-07-01T09:30Z"
    assert report._utc_minute(datetime(2024, 7, 1, 9, 30)) == "2024-07-01T09:30Z"


def test_parameter_and_removed_cells_are_gone(html: str) -> None:
    assert "CANARY_PARAM_123" not in html
    assert "REMOVE_CELL_CANARY" not in html


def test_no_code_and_no_prompts(html: str) -> None:
    for fragment in CODE_FRAGMENTS:
        assert fragment not in html
    assert "In&nbsp;[" not in html
    assert "Out[" not in html
    assert "jp-InputArea" not in html


def test_nothing_is_fetched_from_the_network(html: str) -> None:
    attrs = _attributes(html)
    assert not [a for a in attrs if a[0] == "script" and a[1] == "src"]
    remote = [
        a
        for a in attrs
        if a[1] in ("src", "href") and a[2].lower().startswith(("http:", "https:", "//"))
    ]
    assert remote == []
    assert "<script" not in html.lower()
    assert "require.js" not in html and "mathjax" not in html.lower()
    assert "@import" not in html and "@font-face" not in html


def test_figure_is_embedded(html: str) -> None:
    images = [value for tag, name, value in _attributes(html) if tag == "img" and name == "src"]
    assert images
    assert all(src.startswith("data:image/png;base64,") for src in images)


def test_stdout_kept_stderr_dropped(html: str) -> None:
    assert "STDOUT_KEPT tickets loaded: 3" in html
    assert "STDERR_CANARY" not in html
    assert "UserWarning" not in html


def test_markdown_and_dataframe_rendered(html: str) -> None:
    assert "<h2" in html and "Tickets by priority" in html
    assert '<table border="1" class="dataframe">' in html
    assert "<th>hours_to_resolve</th>" in html
    assert "12.00" in html
    # pandas escaped the user text; it must stay escaped, not become markup.
    assert "&lt;b&gt;printer&lt;/b&gt; on fire" in html
    assert "<b>printer</b>" not in html


def test_house_style_is_inlined(html: str) -> None:
    assert "@page" in html and "size: A4" in html
    assert "break-after: avoid" in html and "break-inside: avoid" in html
    assert "max-width: 1000px" in html


def test_header_values_are_escaped(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    export_html(FIXTURE, out, **{**HEADER, "service": "<script>alert(1)</script>"})
    html = out.read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_unescaped_styler_html_is_neutralised() -> None:
    styler_like = (
        '<style type="text/css">#T_1 td { color: red; background: url(https://x.test/a.png) }'
        '</style><table id="T_1"><tr><td class="data" onclick="steal()">'
        '<script>alert(1)</script><img src="https://x.test/t.gif"></td></tr></table>'
    )
    cleaned = report.clean_report_html(styler_like)
    assert "<script" not in cleaned and "onclick" not in cleaned
    assert "https://" not in cleaned
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in cleaned
    assert "#T_1 td { color: red;" in cleaned and '<td class="data">' in cleaned


def test_parent_folder_is_created(tmp_path: Path) -> None:
    out = tmp_path / "reports" / "run-1" / "step6.html"
    assert export_html(FIXTURE, out, **HEADER) == out
    assert out.is_file()
    assert [p.name for p in out.parent.iterdir()] == ["step6.html"]


def test_failed_render_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("template exploded")

    monkeypatch.setattr(report.HTMLExporter, "from_notebook_node", broken)
    out = tmp_path / "report.html"
    with pytest.raises(RuntimeError, match="template exploded"):
        export_html(FIXTURE, out, **HEADER)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_failed_write_keeps_old_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "report.html"
    out.write_text("previous report", encoding="utf-8")

    def no_replace(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "replace", no_replace)
    with pytest.raises(CsiError, match=r"report\.html"):
        export_html(FIXTURE, out, **HEADER)
    assert out.read_text(encoding="utf-8") == "previous report"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_missing_notebook(tmp_path: Path) -> None:
    missing = tmp_path / "06_missing.ipynb"
    with pytest.raises(DataError, match=r"06_missing\.ipynb"):
        export_html(missing, tmp_path / "r.html", **HEADER)
    assert not (tmp_path / "r.html").exists()


@pytest.mark.parametrize("content", ['{"cells": [', "not json at all", "[1, 2]"])
def test_invalid_notebook(tmp_path: Path, content: str) -> None:
    broken = tmp_path / "06_broken.ipynb"
    broken.write_text(content, encoding="utf-8")
    with pytest.raises(DataError, match=r"06_broken\.ipynb"):
        export_html(broken, tmp_path / "r.html", **HEADER)


def test_fixture_has_what_the_tests_rely_on() -> None:
    nb = nbformat.read(FIXTURE, as_version=4)
    tags = [tag for cell in nb.cells for tag in cell.metadata.get("tags", [])]
    assert {"parameters", "injected-parameters", "remove-cell"} <= set(tags)
    outputs = [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs]
    assert any(out.get("name") == "stderr" for out in outputs)
    assert any("image/png" in out.get("data", {}) for out in outputs)
    assert any("text/html" in out.get("data", {}) for out in outputs)


def _build_fixture() -> None:
    """Execute FIXTURE_CELLS with nbclient and write the fixture notebook."""
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.metadata.update(
        {
            "keep_output": True,
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        }
    )
    for kind, tags, source in FIXTURE_CELLS:
        make = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
        cell = make(source)
        if tags:
            cell.metadata["tags"] = tags
        nb.cells.append(cell)
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, FIXTURE)


if __name__ == "__main__":
    _build_fixture()


def test_scripts_errors_and_remote_content_never_reach_the_report(tmp_path: Path) -> None:
    v4 = nbformat.v4
    nb = v4.new_notebook(metadata={"widgets": {"application/vnd.jupyter.widget-state+json": {}}})
    nb.cells = [
        v4.new_markdown_cell(
            "## Notes\n\n![logo](https://cdn.test/logo.png)\n\n<script>alert(2)</script>"
        ),
        v4.new_code_cell(
            outputs=[
                v4.new_output("display_data", data={"application/javascript": "alert(3)"}),
                v4.new_output(
                    "display_data",
                    data={"text/vnd.mermaid": "graph TD; A-->B", "text/plain": "MERMAID_TEXT"},
                ),
                v4.new_output("error", ename="ValueError", evalue="ERROR_CANARY", traceback=[]),
            ]
        ),
    ]
    source = tmp_path / "06_defensive.ipynb"
    nbformat.write(nb, source)
    out = export_html(source, tmp_path / "r.html", **HEADER)
    html = out.read_text(encoding="utf-8")
    assert "<script" not in html
    assert "alert(3)" not in html and "ERROR_CANARY" not in html and "ValueError" not in html
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html
    assert "MERMAID_TEXT" in html
    assert not [a for a in _attributes(html) if a[1] == "src" and "cdn.test" in a[2]]


def test_figures_carry_their_text_alternative_escaped(tmp_path: Path) -> None:
    v4 = nbformat.v4
    png = (  # a 1x1 pixel
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
    )
    nb = v4.new_notebook()
    nb.cells = [
        v4.new_code_cell(
            outputs=[
                v4.new_output(
                    "display_data",
                    data={"image/png": png},
                    metadata={"image/png": {"alt": 'Line chart of "load" <b>up</b> 40 %'}},
                ),
                v4.new_output("display_data", data={"image/png": png}),
            ]
        )
    ]
    source = tmp_path / "06_alt.ipynb"
    nbformat.write(nb, source)
    html = export_html(source, tmp_path / "r.html", **HEADER).read_text(encoding="utf-8")
    alts = [value for tag, name, value in _attributes(html) if tag == "img" and name == "alt"]
    assert alts == ['Line chart of "load" <b>up</b> 40 %', "Figure"]  # parsed back from escapes
    assert "<b>up</b>" not in html
