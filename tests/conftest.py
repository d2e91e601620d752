"""Shared fixtures: a minimal params file and tiny step notebooks for runner tests; a
real headless Chromium and the check of a report as a manager reads it."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from csi_helpers.errors import CsiError
from csi_helpers.report import browser
from csi_helpers.runfolder.layout import STEPS

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data" / "real"

# A full run (issue 20 point 4) -------------------------------------------------

#: ``CSI_REQUIRE_ALL=1`` (set by ``.ci/run``): a test skipped because data or a tool is
#: missing (``../shared``, a server binary, Chromium, an optional package) fails instead.
REQUIRE_ALL = os.environ.get("CSI_REQUIRE_ALL", "") not in ("", "0")
#: A skip whose reason starts with this is about the platform, which no install can
#: change (kernels fork from a zygote on Linux only): it stays a skip.
PLATFORM_SKIP = "platform: "


def _require(report: pytest.TestReport | pytest.CollectReport) -> None:
    """Under ``CSI_REQUIRE_ALL``, turn a skip (not an xfail, not a platform skip) into a
    failure that says what was missing."""
    if not (REQUIRE_ALL and report.skipped) or hasattr(report, "wasxfail"):
        return
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    reason = reason.removeprefix("Skipped: ")
    if reason.startswith(PLATFORM_SKIP):
        return
    report.outcome = "failed"
    report.longrepr = (
        f"CSI_REQUIRE_ALL=1, so a skip is a failure: {reason}\n"
        "A full run needs what README.md lists under 'What a full test run needs'."
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    outcome = yield
    _require(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector):
    outcome = yield
    _require(outcome.get_result())


MINIMAL_PARAMS = """\
service: {id: web, name: Web shop}
cycle: {id: q1, label: 2026 Q1, start: 2026-01-01, end: 2026-03-31}
"""


@pytest.fixture
def params_file(tmp_path: Path) -> Path:
    path = tmp_path / "params" / "cycle.yaml"
    path.parent.mkdir()
    path.write_text(MINIMAL_PARAMS)
    return path


def tiny_step_notebook(number: int, *, body: str | None = None) -> nbformat.NotebookNode:
    """A step notebook that opens its step, reads the previous step's record and writes its own."""
    key = STEPS[number - 1].key
    read = f'ctx.read_json("{STEPS[number - 2].key}/out")\n' if number > 1 else ""
    code = body or (
        "from csi_helpers import begin_step\n"
        f"ctx = begin_step({number}, run_dir=run_dir, params_path=params_path)\n"
        f"{read}"
        f'ctx.write_json("out", {{"step": {number}, "key": "{key}"}})\n'
        f'print("step {number} done")'
    )
    params = new_code_cell('run_dir: str = ""  # run folder\nparams_path: str = ""  # params file')
    params.metadata["tags"] = ["parameters"]
    nb = new_notebook(cells=[new_markdown_cell(f"# Step {number}"), params, new_code_cell(code)])
    nb.metadata = {
        "kernelspec": {"name": "csi-workbook", "display_name": "x", "language": "python"},
        "language_info": {"name": "python"},
    }
    return nb


@pytest.fixture
def chain_dir(tmp_path: Path):
    """Write the seven tiny notebooks; ``chain_dir(broken={3: code})`` plants a failing cell."""

    def make(broken: dict[int, str] | None = None) -> Path:
        folder = tmp_path / "notebooks"
        folder.mkdir(exist_ok=True)
        for s in STEPS:
            nb = tiny_step_notebook(s.number)
            if broken and s.number in broken:
                nb.cells.append(new_code_cell(broken[s.number]))
            nbformat.write(nb, folder / s.notebook)
        return folder

    return make


# The real browser ---------------------------------------------------------------

INSTALL_TIMEOUT_S = 900
#: A number in scientific notation, which no report may show.
SCIENTIFIC = re.compile(r"\b\d(?:\.\d+)?e[+-]?\d+\b", re.IGNORECASE)
#: A code name (``assignment_group``), which no report shows before its appendices.
SNAKE_CASE = re.compile(r"\b[a-z][a-z0-9]*_[a-z0-9_]+\b")
WIDTHS = (1280, 768)


@pytest.fixture(scope="session")
def chromium() -> Path:
    """A Chromium binary: installs Debian's package when none is found."""
    try:
        return browser.find_chromium()
    except CsiError:
        if os.environ.get(browser.CHROMIUM_ENV):
            raise
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("no Chromium and not root, so apt cannot install it: apt-get install chromium")
    if not shutil.which("apt-get"):
        pytest.skip("no Chromium and no apt-get to install it: install chromium or Chrome")
    env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "chromium"]):
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S
        )
        assert done.returncode == 0, f"{' '.join(command)} failed: {done.stderr[-500:]}"
    return browser.find_chromium()


@pytest.fixture(scope="session")
def artefacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots are kept: ``$CSI_TEST_ARTEFACTS``, else the pytest temp folder."""
    configured = os.environ.get("CSI_TEST_ARTEFACTS")
    folder = Path(configured) if configured else tmp_path_factory.getbasetemp() / "browser"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def read_as_a_manager(chromium: Path, artefacts: Path):
    """Check a report as a manager reads it (issue 16 point 6), at 1280 and 768 px: no
    horizontal overflow and no table or figure cut off; no scientific notation; no code
    name before the appendices; each figure once; ``first_screen`` texts in the first
    1280 × 900 window. Screenshots of the first screen are kept in ``artefacts``."""

    def check(html: Path, *, first_screen: tuple[str, ...] = (), label: str = "") -> None:
        for width in WIDTHS:
            page = browser.check_page(html, width=width, height=900)
            where = f"{html.name} at {width} px"
            assert page.overflow_px == 0, f"{where}: page {page.overflow_px} px too wide"
            assert page.clipped_px == 0, f"{where}: a table or figure {page.clipped_px} px cut off"
            png = artefacts / f"{label or html.parent.name}-{html.stem}-{width}.png"
            browser.screenshot(html, png, width=width, height=900)
            if width == 1280:
                for text in first_screen:
                    assert text in page.first_screen, f"{where}: {text!r} not on the first screen"
        assert not SCIENTIFIC.findall(page.text), SCIENTIFIC.findall(page.text)[:5]
        before_appendices = re.split(r"\nAppendi(?:x|ces)\b", page.text)[0]
        assert not SNAKE_CASE.findall(before_appendices), SNAKE_CASE.findall(before_appendices)
        assert len(page.images) == len(set(page.images)), "a figure is shown twice"

    return check


# A fresh clone ---------------------------------------------------------------------


def fresh_clone(folder: Path) -> Path:
    """The checkout's tracked files (what ``git clone`` gives, with the working tree's
    content) copied to ``folder / "csi-workbook"``: for tests that run make, build a wheel
    or write runs, and must not leave anything in the checkout."""
    spec = importlib.util.spec_from_file_location(
        "tracked_copy", REPO / "tools" / "tracked_copy.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.tracked_copy(REPO, folder / "csi-workbook")


# Steps 1 to 4 in process ----------------------------------------------------------------


def steps_1_to_4(params: Path, run: Path):
    """Steps 1 to 4 of ``params`` into ``run``, in this process (no kernels): step 2's
    measurement plan, step 4's context and its ledger, for tests of steps 2 to 5."""
    from csi_helpers.runfolder.context import begin_step
    from csi_helpers.steps.gather import snapshot_sources
    from csi_helpers.steps.measurement import measurement_plan, source_headers
    from csi_helpers.steps.process import build_tables

    begin_step(1, run_dir=run, params_path=params)
    ctx = begin_step(2, run_dir=run, params_path=params)
    plan = measurement_plan(ctx, source_headers(ctx.params))
    snapshot_sources(begin_step(3, run_dir=run, params_path=params))
    ctx = begin_step(4, run_dir=run, params_path=params)
    return plan, ctx, build_tables(ctx)
