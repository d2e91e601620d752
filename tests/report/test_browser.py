"""Both reports of a demo cycle opened in a real, headless Chromium (slow).

The ``chromium`` fixture (``tests/conftest.py``) installs Debian's ``chromium`` when no
browser is found (as root, with apt-get) and skips only when apt cannot be used. The demo's
first cycle (2026 Q2) runs once per module on a copy of the demo data whose
tickets carry a planted script: in every short description (no ticket text
reaches the reports today) and in the assignment group "Web Platform", which
step 5 names in a concentration finding and step 7 in an action title.

Screenshots and PDFs are kept under ``$CSI_TEST_ARTEFACTS`` when set, else
``<pytest basetemp>/browser/``; their paths are printed.

The first tests use a stand-in browser (a shell script) and run in the quick
suite: they check the error messages, the timeout and that no partial file is
left.
"""

from __future__ import annotations

import csv
import re
import stat
import textwrap
import time
import unicodedata
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from PIL import Image

from csi_helpers.chain.runner import run_cycle
from csi_helpers.demo import ensure_demo_data
from csi_helpers.errors import CsiError, DataError
from csi_helpers.params import load_params
from csi_helpers.report import browser
from csi_helpers.report.html import export_pdf
from csi_helpers.report.style import RAG_COLOURS

REPO = Path(__file__).resolve().parents[2]
REPORTS = ("06_present.html", "07_implement.html")
PAYLOAD = (
    "<script>document.title='pwned'</script>"
    "<img src=x onerror=\"document.title='pwned';alert('pwned')\">"
)
A4_PT = (595, 842)
A4_TEXT_PX = 680  # 210 mm less two 15 mm margins, at 96 CSS px per inch
MAX_REPORT_BYTES = 3_000_000


# Stand-in browser: error paths without a real Chromium -------------------------


def fake_browser(folder: Path, body: str) -> Path:
    path = folder / "fake-chromium"
    path.write_text("#!/bin/sh\n" + textwrap.dedent(body))
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.fixture
def page(tmp_path: Path) -> Path:
    path = tmp_path / "page.html"
    path.write_text("<!doctype html><title>t</title><p>hello</p>", encoding="utf-8")
    return path


def test_no_browser_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.delenv(browser.CHROMIUM_ENV, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(CsiError, match=r"apt-get install chromium.*CSI_CHROMIUM"):
        browser.find_chromium()


def test_a_wrong_csi_chromium_is_named(monkeypatch, tmp_path):
    monkeypatch.setenv(browser.CHROMIUM_ENV, str(tmp_path / "no-such-browser"))
    with pytest.raises(CsiError, match=r"CSI_CHROMIUM is set to .*no-such-browser"):
        browser.find_chromium()


def test_csi_chromium_wins_over_path(monkeypatch, tmp_path):
    fake = fake_browser(tmp_path, "exit 0\n")
    monkeypatch.setenv(browser.CHROMIUM_ENV, str(fake))
    assert browser.find_chromium() == fake


def test_a_missing_report_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match=r"not found"):
        browser.print_pdf(tmp_path / "nothing.html", tmp_path / "out.pdf")


def test_a_failing_browser_leaves_the_old_pdf_and_no_temp_file(monkeypatch, tmp_path, page):
    fake = fake_browser(tmp_path, "echo 'renderer crashed: out of memory' >&2\nexit 3\n")
    monkeypatch.setenv(browser.CHROMIUM_ENV, str(fake))
    out = tmp_path / "out" / "report.pdf"
    out.parent.mkdir()
    out.write_bytes(b"%PDF-old")
    with pytest.raises(CsiError, match=r"exit code 3\): renderer crashed: out of memory"):
        browser.print_pdf(page, out)
    assert out.read_bytes() == b"%PDF-old"
    assert sorted(p.name for p in out.parent.iterdir()) == ["report.pdf"]


def test_a_browser_that_writes_no_pdf_is_an_error(monkeypatch, tmp_path, page):
    fake = fake_browser(tmp_path, "exit 0\n")  # exits 0, as Chromium does on some failures
    monkeypatch.setenv(browser.CHROMIUM_ENV, str(fake))
    with pytest.raises(CsiError, match=r"wrote no PDF"):
        export_pdf(page)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fake-chromium", "page.html"]


def test_a_hanging_browser_is_stopped_with_its_helpers(monkeypatch, tmp_path, page):
    pid_file = tmp_path / "helper.pid"
    fake = fake_browser(tmp_path, f"sleep 60 &\necho $! > {pid_file}\nwait\n")
    monkeypatch.setenv(browser.CHROMIUM_ENV, str(fake))
    started = time.monotonic()
    with pytest.raises(CsiError, match=r"longer than 1 s .* was stopped"):
        browser.print_pdf(page, tmp_path / "out.pdf", timeout_s=1)
    assert time.monotonic() - started < 10
    assert not (tmp_path / "out.pdf").exists()
    assert not list(tmp_path.glob(".out.pdf.*"))
    helper = Path(f"/proc/{pid_file.read_text().strip()}/status")
    deadline = time.monotonic() + 5
    while (
        helper.exists() and "\nState:\tZ" not in helper.read_text() and time.monotonic() < deadline
    ):
        time.sleep(0.05)
    assert not helper.exists() or "\nState:\tZ" in helper.read_text()  # killed (maybe unreaped)


# The real browser ---------------------------------------------------------------


def plant_payload(incidents: Path) -> int:
    """Append the payload to every short description and to the group "Web Platform"."""
    with incidents.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    planted = 0
    for row in rows:
        row["short_description"] += f" {PAYLOAD}"
        if row["assignment_group"] == "Web Platform":
            row["assignment_group"] = f"Web Platform {PAYLOAD}"
            planted += 1
    with incidents.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return planted


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The demo's first cycle on planted ticket text: {report file name: path}.

    The params are the demo's, less the demo block (it would regenerate the
    edited data), with the sources on the planted copy and the fewest resamples
    the params allow: the same findings and figures, step 5 in half the time.
    """
    root = tmp_path_factory.mktemp("browser_demo")
    demo = REPO / "params" / "demo_q2.yaml"
    data = root / "data" / "planted"
    ensure_demo_data(data, seed=load_params(demo).demo.seed)
    assert plant_payload(data / "incidents.csv") > 100
    raw = yaml.safe_load(demo.read_text(encoding="utf-8"))
    del raw["demo"]
    for source in raw["sources"]:
        source["path"] = source["path"].replace("../data/demo/", "../data/planted/")
    raw["analysis"] |= {"bootstrap": 20, "permutations": 99}
    params = root / "params" / "planted.yaml"
    params.parent.mkdir()
    params.write_text(yaml.safe_dump(raw, sort_keys=False, allow_unicode=True), encoding="utf-8")
    assert all(s.path.parent == data for s in load_params(params).sources)
    result = run_cycle(params, runs_dir=root / "runs", reports_dir=root / "reports")
    return {path.name: path for path in result.reports.values()}


@dataclass
class ReportHtml:
    """What a report's HTML holds, as a browser would parse it."""

    title: str = ""
    text: str = ""
    scripts: int = 0
    handlers: list[str] = field(default_factory=list)
    outline: list[tuple[str, str]] = field(default_factory=list)
    """Headings (h1-h4) and figures in document order: ("heading", text) or ("figure", "")."""


class _ReportParser(HTMLParser):
    HEADINGS = ("h1", "h2", "h3", "h4")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.report = ReportHtml()
        self._open: list[str] = []
        self._heading: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        self.report.scripts += tag == "script"
        self.report.handlers += [name for name, _ in attrs if name.startswith("on")]
        if tag in self.HEADINGS:
            self._heading = []
        if tag == "figure":
            self.report.outline.append(("figure", ""))
        if tag not in ("img", "br", "meta", "link", "hr", "col"):
            self._open.append(tag)

    def handle_endtag(self, tag):
        if tag in self.HEADINGS and self._heading is not None:
            self.report.outline.append(("heading", " ".join("".join(self._heading).split())))
            self._heading = None
        if tag in self._open:
            while self._open.pop() != tag:
                pass

    def handle_data(self, data):
        if "title" in self._open:
            self.report.title += data
        elif "style" not in self._open:
            self.report.text += data
            if self._heading is not None:
                self._heading.append(data)


def parse_report(path: Path) -> ReportHtml:
    parser = _ReportParser()
    parser.feed(path.read_text(encoding="utf-8"))
    parser.close()
    return parser.report


def squeeze(text: str) -> str:
    """Text for matching PDF against HTML: ligatures unfolded, no whitespace at all."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


IMAGE = "\x00"


def pdf_pages(path: Path) -> list[tuple[tuple[float, float], str]]:
    """Each page's size in points and its text, squeezed, with IMAGE where an image is drawn."""
    from pypdf import PdfReader

    pages = []
    for page in PdfReader(path).pages:
        xobjects = page["/Resources"].get("/XObject")
        xobjects = xobjects.get_object() if xobjects is not None else {}
        images = {n for n, ref in xobjects.items() if ref.get_object()["/Subtype"] == "/Image"}
        parts: list[str] = []

        def before(op, args, cm, tm, parts=parts, images=images):
            if op == b"Do" and args and args[0] in images:
                parts.append(IMAGE)

        def text(chunk, cm, tm, font, size, parts=parts):
            parts.append(chunk)

        page.extract_text(visitor_operand_before=before, visitor_text=text)
        size = (float(page.mediabox.width), float(page.mediabox.height))
        pages.append((size, squeeze("".join(parts))))
    return pages


def fill_colours(path: Path) -> set[tuple[int, int, int]]:
    """Every RGB fill colour the PDF paints with, as 0-255 integers."""
    from pypdf import PdfReader
    from pypdf.generic import ContentStream

    reader = PdfReader(path)
    colours = set()
    for page in reader.pages:
        for operands, operator in ContentStream(page.get_contents(), reader).operations:
            if operator == b"rg":
                colours.add(tuple(round(float(v) * 255) for v in operands))
    return colours


def headings_beside_figures(report: ReportHtml, pages: list[tuple[object, str]]) -> list[str]:
    """Problems: a figure not on the page of the heading above it, or a page ending on a heading.

    The k-th figure of the HTML is the k-th image drawn in the PDF; its heading
    must be drawn on the same page, before it. Figures are drawn once each
    (never split over two pages).
    """
    problems = []
    drawn = [
        (number, i) for number, (_, text) in enumerate(pages) for i in range(text.count(IMAGE))
    ]
    figures = [i for i, (kind, _) in enumerate(report.outline) if kind == "figure"]
    if len(drawn) != len(figures):
        return [f"{len(figures)} figures in the HTML but {len(drawn)} images drawn in the PDF"]
    for (page, nth), at in zip(drawn, figures, strict=True):
        heading = next(t for k, t in reversed(report.outline[:at]) if k == "heading")
        above = IMAGE.join(pages[page][1].split(IMAGE)[: nth + 1])
        if squeeze(heading)[:40] not in above:
            problems.append(f"figure under {heading[:60]!r} is on page {page + 1} without it")
    # the end of each heading, long enough that a table cell sharing a method's name
    # ("... (seasonal Mann-Kendall, period 7)") is not taken for it
    headings = {squeeze(t)[-80:] for k, t in report.outline if k == "heading"}
    for number, (_, text) in enumerate(pages[:-1]):
        tail = text.rsplit(IMAGE, 1)[-1]
        if any(tail.endswith(h) for h in headings if h):
            problems.append(f"page {number + 1} ends with a heading: {tail[-60:]!r}")
    return problems


def test_heading_check_finds_a_figure_pushed_away_from_its_heading():
    report = ReportHtml(outline=[("heading", "1. Downtime doubled"), ("figure", "")])
    together = [((595.0, 842.0), squeeze(f"Intro 1. Downtime doubled Severity high{IMAGE}"))]
    apart = [((595.0, 842.0), "Intro1.Downtimedoubled"), ((595.0, 842.0), f"Severity{IMAGE}")]
    assert headings_beside_figures(report, together) == []
    assert headings_beside_figures(report, apart) == [
        "figure under '1. Downtime doubled' is on page 2 without it",
        "page 1 ends with a heading: 'Intro1.Downtimedoubled'",
    ]


def test_heading_check_does_not_take_a_cell_with_the_same_ending_for_the_heading():
    heading = (
        "1. daily requests: increasing by 198 requests per day, +7 % over 90 days "
        "(seasonal Mann-Kendall, period 7)"
    )
    report = ReportHtml(outline=[("heading", heading), ("figure", "")])
    cell = "no significant trend in daily incidents (seasonal Mann-Kendall, period 7)"
    pages = [
        ((595.0, 842.0), squeeze(f"{heading} text{IMAGE}")),
        ((595.0, 842.0), squeeze(f"Appendix {cell}")),
        ((595.0, 842.0), "end"),
    ]
    assert headings_beside_figures(report, pages) == []


@pytest.mark.slow
def test_the_browser_checks_catch_a_page_that_misbehaves(chromium, tmp_path):
    page = tmp_path / "bad.html"
    page.write_text(
        f"<!doctype html><title>ok</title><p>x</p>{PAYLOAD}"
        '<img src="http://127.0.0.1:9/pixel.png"><script>missing()</script>',
        encoding="utf-8",
    )
    check = browser.check_page(page)
    assert check.title == "pwned" and check.dialogs == ["pwned"]
    assert "http://127.0.0.1:9/pixel.png" in check.remote_requests  # offline: never sent
    assert check.page_errors and check.console_errors
    wide = tmp_path / "wide.html"
    wide.write_text(f"<!doctype html><table><tr><td>{'x' * 300}</td></tr></table>")
    assert browser.check_page(wide, width=A4_TEXT_PX).overflow_px > 0
    # a wide table in a box that scrolls: the page is as wide as the window, the table cut
    boxed = tmp_path / "boxed.html"
    boxed.write_text(
        f"<!doctype html><div style='overflow-x: auto'><table><tr><td>{'x' * 300}</td></tr>"
        "</table></div>"
    )
    check = browser.check_page(boxed, width=768)
    assert check.window_width == check.scroll_width == 768 and check.overflow_px == 0
    assert check.clipped_px > 1000


#: What the first screen (1280 × 1600) of each report must show, in this order.
FIRST_SCREEN = {
    "06_present.html": ("At a glance", "KPIs met", "KPIs amber", "KPIs red",
                        "What is wrong, what it costs, what we do", "Proposed:", "KPI scorecard"),
    "07_implement.html": ("Improvement plan", "Did last cycle's actions work?",
                          "This cycle's plan"),
}  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("name", REPORTS)
def test_report_renders_a_screenshot(name, reports, chromium, artefacts, capsys):
    """The screenshot shows the report's first screen: its headings in order, the KPI
    tiles drawn in their RAG colours (06), the figures embedded and drawn."""
    png = browser.screenshot(
        reports[name], artefacts / f"{Path(name).stem}.png", width=1280, height=1600
    )
    with capsys.disabled():
        print(f"\n  screenshot of {name}: {png}")
    check = browser.check_page(reports[name], width=1280, height=1600)
    at = [check.first_screen.find(text) for text in FIRST_SCREEN[name]]
    assert -1 not in at and at == sorted(at), dict(zip(FIRST_SCREEN[name], at, strict=True))
    assert not check.console_errors and not check.page_errors
    assert all(src.startswith("data:image/png;base64,") for src in check.images)
    with Image.open(png) as image:
        assert image.size == (1280, 1600)
        pixels = {rgb for _, rgb in image.convert("RGB").getcolors(maxcolors=1 << 22) or []}
    if name == "06_present.html":  # the tiles' borders: green, amber and red are on screen
        for colour in ("green", "amber", "red"):
            rgb = tuple(int(RAG_COLOURS[colour][i : i + 2], 16) for i in (1, 3, 5))
            assert rgb in pixels, f"no {colour} tile on the first screen"


@pytest.mark.slow
@pytest.mark.parametrize("name", REPORTS)
def test_report_loads_nothing_from_outside_and_runs_no_script(name, reports, chromium):
    expected = parse_report(reports[name]).title
    check = browser.check_page(reports[name])
    assert check.requests and check.requests[0] == reports[name].resolve().as_uri()
    assert check.remote_requests == [], "requests leaving file://"
    assert check.console_errors == [] and check.page_errors == [] and check.dialogs == []
    assert check.title == expected and "pwned" not in check.title
    assert "Service" in check.text  # the page rendered its header
    assert check.overflow_px == 0


@pytest.mark.slow
@pytest.mark.parametrize("name", REPORTS)
def test_report_fits_the_width_of_an_a4_page(name, reports, chromium):
    """Laid out for print in the A4 text column (180 mm), nothing sticks out to be cut off."""
    check = browser.check_page(reports[name], width=A4_TEXT_PX, media="print")
    assert check.overflow_px == 0, f"{check.overflow_px} px wider than the page"


@pytest.mark.slow
def test_planted_script_in_ticket_text_is_shown_as_text_and_never_runs(reports, chromium):
    present = reports["06_present.html"]
    assert "&lt;script&gt;document.title=" in present.read_text(encoding="utf-8")
    for name, path in reports.items():
        report = parse_report(path)
        assert report.scripts == 0 and report.handlers == [], name
        assert "pwned" not in report.title, name
        check = browser.check_page(path)
        assert check.title == report.title and check.dialogs == [] and check.page_errors == []
        assert check.remote_requests == [] and check.console_errors == [], name
        if name == "06_present.html":  # the concentration finding names the planted group
            assert PAYLOAD in report.text and PAYLOAD in check.text
        else:  # step 7 shows it when an action names the group
            assert (PAYLOAD in report.text) == (PAYLOAD in check.text)


@pytest.mark.slow
@pytest.mark.parametrize("name", REPORTS)
def test_report_prints_to_a4_with_headings_beside_their_figures(
    name, reports, chromium, artefacts, capsys
):
    started = time.perf_counter()
    pdf = export_pdf(reports[name], artefacts / f"{Path(name).stem}.pdf")
    seconds = time.perf_counter() - started
    with capsys.disabled():
        print(f"\n  PDF of {name}: {pdf} ({pdf.stat().st_size:,} bytes, {seconds:.1f} s)")
    assert pdf.read_bytes()[:5] == b"%PDF-"
    assert not list(pdf.parent.glob(f".{pdf.name}.*"))  # no temporary file left
    pages = pdf_pages(pdf)
    assert pages
    assert not any("file:" in text for _, text in pages)  # no browser header or footer
    for number, (size, _) in enumerate(pages, start=1):
        assert size == pytest.approx(A4_PT, abs=1), f"page {number} is {size} pt, not A4"
    report = parse_report(reports[name])
    assert headings_beside_figures(report, pages) == []
    if name == "06_present.html":
        assert sum(k == "figure" for k, _ in report.outline) >= 2  # one per issue with a chart
        rag = {
            tuple(int(RAG_COLOURS[s][i : i + 2], 16) for i in (1, 3, 5)) for s in ("red", "green")
        }
        assert rag <= fill_colours(pdf), "the scorecard's RAG backgrounds were not printed"


@pytest.mark.slow
@pytest.mark.parametrize("name", REPORTS)
def test_report_stays_under_3_mb(name, reports):
    assert reports[name].stat().st_size < MAX_REPORT_BYTES


def run_cli(*args: str) -> tuple[int, str, str]:
    from typer.testing import CliRunner

    from csi_helpers.cli import main

    with CliRunner().isolation() as (stdout, stderr, _):
        code = main(list(args))
        return code, stdout.getvalue().decode(), stderr.getvalue().decode()


def test_csi_report_without_reports_names_the_folder_and_the_fix(tmp_path):
    code, _out, err = run_cli("report", "--pdf", "nowhere-2026q1", "--reports-dir", str(tmp_path))
    assert code == 2
    assert f"{tmp_path / 'nowhere-2026q1'}: no reports of run 'nowhere-2026q1'" in err
    assert "csi run PARAMS --run-id nowhere-2026q1" in err


@pytest.mark.slow
def test_csi_report_pdf_prints_both_reports_of_a_run(reports, chromium):
    folder = reports["06_present.html"].parent
    code, out, err = run_cli("report", "--pdf", folder.name, "--reports-dir", str(folder.parent))
    assert code == 0, err
    for name in ("06_present", "07_implement"):
        pdf = folder / f"{name}.pdf"
        assert pdf.read_bytes().startswith(b"%PDF-") and str(pdf) in out


@pytest.mark.slow
def test_csi_report_html_exports_a_run_again_from_its_executed_notebooks(reports):
    """Issue 16 point 5: after a report is lost (or a template edited), `csi report --html`
    rebuilds both from the run's executed notebooks and records their new hashes."""
    import hashlib
    import json

    folder = reports["06_present.html"].parent
    runs = folder.parent.parent / "runs"
    before = reports["06_present.html"].read_text(encoding="utf-8")
    reports["06_present.html"].unlink()
    code, out, err = run_cli(
        "report",
        "--html",
        folder.name,
        "--runs-dir",
        str(runs),
        "--reports-dir",
        str(folder.parent),
    )
    assert code == 0, err
    after = reports["06_present.html"].read_text(encoding="utf-8")
    assert str(reports["06_present.html"]) in out and str(reports["07_implement.html"]) in out
    strip = lambda html: re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\dZ", "", html)  # noqa: E731
    assert strip(after) == strip(before)  # the same report, but for its generation time
    manifest = json.loads((runs / folder.name / "manifest.json").read_text(encoding="utf-8"))
    digest = hashlib.sha256(reports["06_present.html"].read_bytes()).hexdigest()
    assert manifest["reports"]["6"]["sha256"] == digest
    code, _out, err = run_cli("report", "--html", "nowhere", "--runs-dir", str(runs))
    assert code == 2 and "nowhere" in err and "Traceback" not in err
