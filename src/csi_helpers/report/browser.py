"""Headless Chromium for reports: print to PDF, take a screenshot, check a page.

:func:`print_pdf` and :func:`screenshot` need only a Chromium or Chrome binary
(Debian: ``apt-get install chromium``); they run it once per file with
``--headless`` and a throw-away profile (:mod:`csi_helpers.report.chromium` finds
and runs it).

:func:`check_page` opens a report in the same binary through Playwright for
Python (``pip install playwright``; Playwright's own browser download is not
needed) and records what a reader's browser would do with it: every request,
console message, page error and dialog, and the final title. The tests use it
to show that a report loads nothing from the network and runs no script.

Files are written atomically: the browser writes a temporary file beside the
target, which is renamed into place only once it is complete, so a failed or
timed-out print never leaves a half-written PDF (an older one stays as it was).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from csi_helpers import atomic
from csi_helpers.errors import CsiError, DataError
from csi_helpers.report.chromium import (
    BROWSER_NAMES,
    CHROMIUM_ENV,
    QUIET_FLAGS,
    find_chromium,
    run_browser,
    sandbox_flags,
)

__all__ = [
    "BROWSER_NAMES",
    "CHROMIUM_ENV",
    "PageCheck",
    "check_page",
    "find_chromium",
    "print_pdf",
    "screenshot",
]


def print_pdf(html: str | Path, pdf: str | Path, *, timeout_s: float = 120.0) -> Path:
    """Print an HTML file to PDF with headless Chromium, as a reader's browser would.

    Backgrounds are printed (RAG colours stay), no header or footer with the
    file path and date is added, and the page size and margins come from the
    page's ``@page`` rule (A4 with 15 mm margins in the ``csi_report``
    stylesheet; Chromium's default, US Letter, for a page without one).

    Args:
        html: The HTML file to print.
        pdf: Where to write the PDF; its folder is created if needed.
        timeout_s: Seconds the browser may take before it is stopped.

    Returns:
        The path of the written PDF.

    Raises:
        DataError: ``html`` does not exist.
        CsiError: No browser is installed, it failed or timed out, or the PDF
            cannot be written. No partial PDF is left behind.

    Example:
        >>> print_pdf("reports/shopfront-2026q3/06_present.html",
        ...           "reports/shopfront-2026q3/06_present.pdf")  # doctest: +SKIP
        PosixPath('reports/shopfront-2026q3/06_present.pdf')
    """
    return _render(html, pdf, kind="PDF", flags=("--no-pdf-header-footer",), timeout_s=timeout_s)


def screenshot(
    html: str | Path,
    png: str | Path,
    *,
    width: int = 1280,
    height: int = 1600,
    timeout_s: float = 120.0,
) -> Path:
    """Save a PNG of the top ``width`` x ``height`` CSS pixels of an HTML file.

    Args:
        html: The HTML file to show.
        png: Where to write the PNG; its folder is created if needed.
        width: Window width in CSS pixels.
        height: Window height in CSS pixels (what is below is not captured).
        timeout_s: Seconds the browser may take before it is stopped.

    Returns:
        The path of the written PNG.

    Raises:
        DataError: ``html`` does not exist.
        CsiError: No browser is installed, it failed or timed out, or the PNG
            cannot be written.

    Example:
        >>> screenshot("reports/shopfront-2026q3/06_present.html", "/tmp/report.png",
        ...            width=1280, height=1600)  # doctest: +SKIP
        PosixPath('/tmp/report.png')
    """
    if width < 1 or height < 1:
        raise ValueError(f"width and height must be positive, not {width} x {height}")
    return _render(
        html, png, kind="PNG", flags=(f"--window-size={width},{height}",), timeout_s=timeout_s
    )


@dataclass
class PageCheck:
    """What opening a page in the browser did (see :func:`check_page`)."""

    url: str
    title: str
    text: str
    """The page's visible text (``document.body.innerText``)."""
    requests: list[str] = field(default_factory=list)
    """Every URL the page requested, the page itself included, in order."""
    console: list[tuple[str, str]] = field(default_factory=list)
    """Console messages as (type, text), e.g. ``("error", "...")``."""
    page_errors: list[str] = field(default_factory=list)
    """Uncaught exceptions thrown by scripts on the page."""
    dialogs: list[str] = field(default_factory=list)
    """Messages of alert, confirm or prompt dialogs the page opened (dismissed)."""
    overflow_px: int = 0
    """How far the page is wider than the window, in CSS pixels (0: nothing sticks out)."""
    window_width: int = 0
    """The window's width in CSS pixels (``window.innerWidth``)."""
    scroll_width: int = 0
    """The document's scroll width (``document.documentElement.scrollWidth``)."""
    clipped_px: int = 0
    """How far the widest content of a box that scrolls or clips sideways (a table in its
    output area) is wider than the box: what a reader must scroll to see (0: none)."""
    first_screen: str = ""
    """The text of the elements that start inside the first window (what a reader sees
    before scrolling)."""
    images: list[str] = field(default_factory=list)
    """The ``src`` of every image, in order (a report shows each figure once)."""

    @property
    def remote_requests(self) -> list[str]:
        """Requests for anything but ``file:`` and ``data:`` URLs."""
        return [u for u in self.requests if not u.startswith(("file:", "data:"))]

    @property
    def console_errors(self) -> list[str]:
        """Console messages of type error or assert."""
        return [text for kind, text in self.console if kind in ("error", "assert")]


def check_page(
    html: str | Path,
    *,
    width: int = 1280,
    height: int = 900,
    media: str = "screen",
    settle_ms: int = 500,
    timeout_s: float = 60.0,
) -> PageCheck:
    """Open an HTML file in headless Chromium and record what it does.

    The page is opened offline with :func:`find_chromium`'s binary through
    Playwright; requests, console messages, page errors and dialogs are
    recorded from before navigation until ``settle_ms`` after the load event,
    so scripts run by ``onerror`` or timers are caught too.

    With ``media="print"`` the page is laid out with its print stylesheet; a
    ``width`` of 680 CSS pixels is the text column of an A4 page with 15 mm
    margins, so ``overflow_px`` then says whether anything would be cut off
    on paper. On screen a wide table scrolls inside its output area instead of
    widening the page: ``clipped_px`` says how much of it a reader must scroll to.

    Raises:
        DataError: ``html`` does not exist.
        CsiError: Playwright is not installed, or the browser fails to start or
            load the page.

    Example:
        >>> check = check_page("reports/shopfront-2026q3/06_present.html")  # doctest: +SKIP
        >>> check.remote_requests, check.console_errors, check.page_errors  # doctest: +SKIP
        ([], [], [])
    """
    source = _existing_html(html)
    binary = find_chromium()
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        raise CsiError(
            "Checking a report in the browser needs the Python package playwright: "
            "`pip install playwright` (not `playwright install`: the system Chromium is used)."
        ) from exc
    url = source.as_uri()
    try:
        with sync_playwright() as driver:
            # Playwright adds headless mode, --no-sandbox and the quiet flags itself.
            browser = driver.chromium.launch(executable_path=str(binary), timeout=timeout_s * 1000)
            try:
                context = browser.new_context(
                    viewport={"width": width, "height": height}, offline=True
                )
                page = context.new_page()
                page.emulate_media(media=media)
                check = PageCheck(url=url, title="", text="")
                page.on("request", lambda r: check.requests.append(r.url))
                page.on("console", lambda m: check.console.append((m.type, m.text)))
                page.on("pageerror", lambda e: check.page_errors.append(str(e)))
                page.on("dialog", lambda d: (check.dialogs.append(d.message), d.dismiss()))
                page.goto(url, wait_until="load", timeout=timeout_s * 1000)
                page.wait_for_timeout(settle_ms)
                check.title = page.title()
                check.text = page.inner_text("body")
                widths = page.evaluate(_WIDTHS_JS)
                check.window_width, check.scroll_width = widths["window"], widths["scroll"]
                check.overflow_px = widths["scroll"] - widths["client"]
                check.clipped_px = widths["clipped"]
                check.first_screen, check.images = page.evaluate(_LAYOUT_JS)
            finally:
                browser.close()
    except PlaywrightError as exc:
        raise CsiError(
            f"The browser ({binary}) could not open {source}: {str(exc).splitlines()[0]}"
        ) from exc
    return check


#: The page's widths: window, document (scroll and client), and the most any box that
#: scrolls or clips sideways hides of its content.
_WIDTHS_JS = """() => {
  const root = document.documentElement;
  const boxes = Array.from(document.querySelectorAll("body *")).filter(
    (e) => ["auto", "scroll", "hidden", "clip"].includes(getComputedStyle(e).overflowX));
  const clipped = Math.max(0, ...boxes.map((e) => e.scrollWidth - e.clientWidth));
  return {window: window.innerWidth, scroll: root.scrollWidth, client: root.clientWidth, clipped};
}"""


#: The text of the first window and the images' sources.
_LAYOUT_JS = """() => {
  const first = [...document.querySelectorAll('h1, h2, h3, p, li, td, th, div.csi-tile')]
    .filter(e => e.getBoundingClientRect().top < window.innerHeight)
    .map(e => e.innerText).join('\\n');
  const images = [...document.images].map(i => i.getAttribute('src') || '');
  return [first, images];
}"""


def _existing_html(html: str | Path) -> Path:
    source = Path(html).resolve()
    if not source.is_file():
        raise DataError(
            f"Report {source} not found: run the cycle first (`csi run PARAMS`), or check the path."
        )
    return source


def _render(
    html: str | Path, output: str | Path, *, kind: str, flags: tuple[str, ...], timeout_s: float
) -> Path:
    """Run the browser once to turn ``html`` into ``output`` (PDF or PNG), atomically."""
    source = _existing_html(html)
    target = Path(output)
    binary = find_chromium()
    option = "--print-to-pdf" if kind == "PDF" else "--screenshot"
    # Chromium picks the image format from the extension: keep .pdf / .png last.
    try:
        with atomic.atomic_path(target, suffix=f".tmp.{kind.lower()}") as tmp:
            with tempfile.TemporaryDirectory(prefix="csi-chromium-") as profile:
                command = [
                    str(binary),
                    *QUIET_FLAGS,
                    *sandbox_flags(),
                    f"--user-data-dir={profile}",
                    *flags,
                    f"{option}={tmp}",
                    source.as_uri(),
                ]
                run_browser(command, what=f"{kind} of {source}", timeout_s=timeout_s)
            magic = b"%PDF" if kind == "PDF" else b"\x89PNG"
            with tmp.open("rb") as handle:
                if handle.read(4) != magic:
                    raise CsiError(
                        f"The browser ({binary}) wrote no {kind} for {source}: the output is "
                        f"empty or not a {kind}; try opening the report in the browser by hand."
                    )
    except OSError as exc:
        raise CsiError(
            f"Cannot write {target}: {exc.strerror or exc}; check that its folder can be "
            "created and written to, the disk space, and that the path is not a folder."
        ) from exc
    return target
