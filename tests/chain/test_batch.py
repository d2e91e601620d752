"""``csi batch``: plan (dependencies, circles, registers), parallel runs, skips, index, Dask.

The runs use tiny step notebooks (one print per step) so that a cycle costs
only its seven kernel starts; step 3 fails for a params file named
``boom.yaml``. The same five-file batch runs here (two worker processes) and on
a Dask LocalCluster, and both must give the same summary.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import nbformat
import pytest
from nbformat.v4 import new_code_cell

from conftest import tiny_step_notebook
from csi_helpers.chain.batch import BatchResult, JobResult, Workspace, plan_batch, run_batch
from csi_helpers.chain.batch.index import INDEX_NAME, SUMMARY_NAME, write_batch_index
from csi_helpers.cli import main
from csi_helpers.errors import ParamsError
from csi_helpers.runfolder.layout import STEPS

NASTY_NAME = 'Web <script>alert(1)</script> & "co"'
PLANTED = 'assert "boom" not in params_path, "planted failure"'


def write_params(
    folder: Path,
    name: str,
    *,
    service: str,
    cycle: str,
    previous: str | None = None,
    display: str = "Web shop",
    extra: str = "",
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    text = (
        f"service: {{id: {service}, name: {json.dumps(display)}}}\n"
        f"cycle: {{id: {cycle}, label: {cycle.upper()}, start: 2026-01-01, end: 2026-03-31}}\n"
        f"register: {{directory: {folder / 'registers'}}}\n"
    )
    if previous:
        text += f"previous_run: {previous}\n"
    path = folder / name
    path.write_text(text + extra)
    return path


def print_only_notebooks(folder: Path) -> Path:
    """Seven steps that print one line; step 3 fails when the params file is boom.yaml."""
    folder.mkdir(parents=True, exist_ok=True)
    for s in STEPS:
        nb = tiny_step_notebook(s.number, body=f'print("step {s.number}")')
        if s.number == 3:
            nb.cells.append(new_code_cell(PLANTED))
        nbformat.write(nb, folder / s.notebook)
    return folder


# --------------------------------------------------------------------------- plan


def test_plan_puts_a_previous_run_first_and_makes_it_a_prerequisite(tmp_path):
    later = write_params(tmp_path, "q2.yaml", service="web", cycle="q2", previous="web-q1")
    first = write_params(tmp_path, "q1.yaml", service="web", cycle="q1")
    outside = write_params(tmp_path, "x.yaml", service="api", cycle="q2", previous="api-q1")
    jobs = plan_batch([later, outside, first])
    assert [j.run_id for j in jobs] == ["api-q2", "web-q1", "web-q2"]
    by_id = {j.run_id: j for j in jobs}
    assert by_id["web-q2"].depends_on == ("web-q1",)
    assert by_id["web-q1"].depends_on == ()
    assert by_id["api-q2"].depends_on == ()  # api-q1 is not in the batch: its folder is used
    assert by_id["web-q2"].params_path == later.resolve()


def test_plan_refuses_a_circle_of_previous_runs_naming_the_files(tmp_path):
    a = write_params(tmp_path, "a.yaml", service="web", cycle="q1", previous="web-q3")
    b = write_params(tmp_path, "b.yaml", service="web", cycle="q2", previous="web-q1")
    c = write_params(tmp_path, "c.yaml", service="web", cycle="q3", previous="web-q2")
    free = write_params(tmp_path, "free.yaml", service="api", cycle="q1")
    with pytest.raises(ParamsError, match="circle") as info:
        plan_batch([free, a, b, c])
    message = str(info.value)
    for name in ("a.yaml (web-q1)", "b.yaml (web-q2)", "c.yaml (web-q3)"):
        assert name in message
    assert "free.yaml" not in message


def test_plan_refuses_a_cycle_that_names_itself_as_previous(tmp_path):
    selfish = write_params(tmp_path, "s.yaml", service="web", cycle="q1", previous="web-q1")
    with pytest.raises(ParamsError, match=r"circle: s\.yaml \(web-q1\) → s\.yaml \(web-q1\)"):
        plan_batch([selfish])


def test_plan_refuses_two_files_with_one_run_id(tmp_path):
    one = write_params(tmp_path, "one.yaml", service="web", cycle="q1")
    two = write_params(tmp_path / "copy", "two.yaml", service="web", cycle="q1")
    with pytest.raises(ParamsError, match=r"both run as 'web-q1'") as info:
        plan_batch([one, two])
    assert str(one.resolve()) in str(info.value) and str(two.resolve()) in str(info.value)
    with pytest.raises(ParamsError, match="list the file once"):
        plan_batch([one, one])


def test_plan_orders_jobs_that_share_a_register_one_after_another(tmp_path):
    q1 = write_params(tmp_path, "q1.yaml", service="web", cycle="q1")
    q2 = write_params(tmp_path, "q2.yaml", service="web", cycle="q2")
    q3 = write_params(tmp_path, "q3.yaml", service="web", cycle="q3", previous="web-q2")
    api = write_params(tmp_path, "api.yaml", service="api", cycle="q1")
    jobs = {j.run_id: j for j in plan_batch([q1, q2, api, q3])}
    assert jobs["web-q1"].after == ()
    assert jobs["web-q2"].after == ("web-q1",) and jobs["web-q2"].depends_on == ()
    assert jobs["web-q3"].depends_on == ("web-q2",) and jobs["web-q3"].after == ()
    assert jobs["api-q1"].after == ()  # its own register file (api.sqlite)


def test_plan_refuses_one_demo_folder_with_two_seeds(tmp_path):
    demo = tmp_path / "demo"
    a = write_params(
        tmp_path, "a.yaml", service="a", cycle="q1", extra=f"demo: {{directory: {demo}, seed: 1}}\n"
    )
    b = write_params(
        tmp_path, "b.yaml", service="b", cycle="q1", extra=f"demo: {{directory: {demo}, seed: 2}}\n"
    )
    with pytest.raises(ParamsError, match="different seeds"):
        plan_batch([a, b])


def test_invalid_params_exit_2_listing_every_bad_file_before_anything_runs(tmp_path, capsys):
    good = write_params(tmp_path, "good.yaml", service="web", cycle="q1")
    typo = write_params(tmp_path, "typo.yaml", service="web", cycle="q2", extra="cylce: x\n")
    missing = tmp_path / "nowhere.yaml"
    args = ["batch", str(good), str(typo), str(missing), "--jobs", "2"]
    code = main([*args, "--runs-dir", str(tmp_path / "runs"), "--reports-dir", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 2
    assert "typo.yaml" in err and "cylce" in err
    assert "nowhere.yaml: params file not found" in err
    assert "good.yaml" not in err and "Traceback" not in err
    assert not (tmp_path / "runs").exists() and not (tmp_path / "r").exists()


# --------------------------------------------------------------------------- index


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.hrefs: list[str] = []
        self.remote: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name == "href" and value:
                self.hrefs.append(value)
            if name in ("src", "href") and value and "//" in value:
                self.remote.append(value)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_index_links_every_report_relatively_and_escapes_names(tmp_path):
    reports = tmp_path / "reports"
    paths = {}
    for run_id in ("web-q1", "api-q1"):
        for n, name in ((6, "06_present.html"), (7, "07_implement.html")):
            paths[run_id, n] = reports / run_id / name
            paths[run_id, n].parent.mkdir(parents=True, exist_ok=True)
            paths[run_id, n].write_text("<p>report</p>")
    files = [
        write_params(tmp_path / "p", "web.yaml", service="web", cycle="q1", display=NASTY_NAME),
        write_params(tmp_path / "p", "api.yaml", service="api", cycle="q1"),
        write_params(tmp_path / "p", "api2.yaml", service="api", cycle="q2", previous="api-q1"),
    ]
    jobs = plan_batch(files)
    results = {
        "web-q1": JobResult(
            "web-q1", "succeeded", 3.2, reports={str(n): str(paths["web-q1", n]) for n in (6, 7)}
        ),
        "api-q1": JobResult(
            "api-q1",
            "failed",
            1.5,
            reason="step 7 (implement) failed — ValueError: <img src=x onerror=alert(2)>",
            reports={"6": str(paths["api-q1", 6])},
        ),
        "api-q2": JobResult("api-q2", "skipped", reason="not run: its previous run api-q1 failed"),
    }
    batch = BatchResult(
        jobs, [results[j.run_id] for j in jobs], "this machine", "2026-01-01T00:00:00+00:00", 5.0
    )
    index, summary = write_batch_index(batch, reports)
    assert (index, summary) == (reports / INDEX_NAME, reports / SUMMARY_NAME)
    html = index.read_text(encoding="utf-8")
    page = _Page()
    page.feed(html)
    linked = {(index.parent / unquote(h)).resolve() for h in page.hrefs if h.endswith(".html")}
    assert linked == {p.resolve() for key, p in paths.items() if key != ("api-q1", 7)}
    assert all(not h.startswith(("/", "file:")) for h in page.hrefs)
    assert "script" not in page.tags and "img" not in page.tags and not page.remote
    text = "".join(page.text)
    assert NASTY_NAME in text  # shown as text, escaped in the source
    assert "&lt;script&gt;" in html and "&lt;img src=x" in html
    assert "not run: its previous run api-q1 failed" in text
    data = json.loads(summary.read_text(encoding="utf-8"))
    assert data["counts"] == {"succeeded": 1, "failed": 1, "skipped": 1}
    assert data["exit_code"] == 3 == batch.exit_code  # some runs failed or were skipped
    assert [r["run_id"] for r in data["runs"]] == [j.run_id for j in jobs]
    assert data["runs"][0]["service"] == NASTY_NAME


# --------------------------------------------------------------------------- runs


@pytest.fixture
def five_cycles(tmp_path):
    """web-q1 → web-q2 (depends); shop-q1 fails → shop-q2 skipped; shop-q3 shares its register."""
    p = tmp_path / "params"
    return [
        write_params(p, "web-q1.yaml", service="web", cycle="q1", display=NASTY_NAME),
        write_params(p, "boom.yaml", service="shop", cycle="q1"),
        write_params(p, "shop-q2.yaml", service="shop", cycle="q2", previous="shop-q1"),
        write_params(p, "web-q2.yaml", service="web", cycle="q2", previous="web-q1"),
        write_params(p, "shop-q3.yaml", service="shop", cycle="q3"),
    ]


def check_five_cycles(tmp_path: Path, code: int, stdout: str) -> dict[str, dict]:
    """The outcome both the local and the Dask path must give; the runs by id."""
    assert code == 3  # some runs failed or were skipped (here one of each), not bad input (2)
    data = json.loads((tmp_path / "reports" / SUMMARY_NAME).read_text(encoding="utf-8"))
    runs = {r["run_id"]: r for r in data["runs"]}
    assert {k: r["status"] for k, r in runs.items()} == {
        "web-q1": "succeeded",
        "shop-q1": "failed",
        "shop-q2": "skipped",
        "web-q2": "succeeded",
        "shop-q3": "succeeded",
    }
    assert data["counts"] == {"succeeded": 3, "failed": 1, "skipped": 1}
    assert runs["shop-q1"]["reason"] == (
        f"step 3 (gather) failed in cell 4: `{PLANTED}` — AssertionError: planted failure"
    )
    assert runs["shop-q2"]["reason"] == "not run: its previous run shop-q1 failed"
    assert runs["shop-q2"]["pid"] is None and not (tmp_path / "runs" / "shop-q2").exists()

    def when(run: dict, key: str) -> datetime:
        return datetime.fromisoformat(run[key])

    # a dependent starts after its prerequisite ended; a register sharer after the failure
    assert when(runs["web-q2"], "started") >= when(runs["web-q1"], "ended")
    assert when(runs["shop-q3"], "started") >= when(runs["shop-q1"], "ended")
    for run_id in ("web-q1", "web-q2", "shop-q3"):
        run = runs[run_id]
        manifest = json.loads((Path(run["run_dir"]) / "manifest.json").read_text())
        assert manifest["status"] == "succeeded" and manifest["run_id"] == run_id
        assert Path(run["run_dir"]) == tmp_path / "runs" / run_id
        assert sorted(run["reports"]) == ["6", "7"]
        assert run["pid"] != os.getpid()  # each job in a worker process
    table = stdout.splitlines()
    assert table[0].split() == ["RUN", "STATUS", "SECONDS", "REPORTS", "/", "REASON"]
    assert [ln.split()[:2] for ln in table[1:6]] == [
        ["web-q1", "succeeded"],
        ["shop-q1", "failed"],
        ["shop-q2", "skipped"],
        ["web-q2", "succeeded"],
        ["shop-q3", "succeeded"],
    ]
    assert "AssertionError: planted failure" in table[2]
    assert table[6].startswith("3 succeeded, 1 failed, 1 skipped in ")
    page = _Page()
    page.feed((tmp_path / "reports" / INDEX_NAME).read_text(encoding="utf-8"))
    linked = {unquote(h) for h in page.hrefs if h.endswith(".html")}
    written = {
        p.relative_to(tmp_path / "reports").as_posix()
        for p in (tmp_path / "reports").glob("*/*.html")
    }
    assert linked == written and len(written) == 6
    return runs


@pytest.mark.slow
def test_batch_runs_jobs_in_parallel_processes_waits_skips_and_counts(
    tmp_path, five_cycles, capsys
):
    notebooks = print_only_notebooks(tmp_path / "notebooks")
    code = main(
        [
            "batch",
            *map(str, five_cycles),
            "--jobs",
            "2",
            "--runs-dir",
            str(tmp_path / "runs"),
            "--reports-dir",
            str(tmp_path / "reports"),
            "--notebooks",
            str(notebooks),
        ]
    )
    out, err = capsys.readouterr()
    runs = check_five_cycles(tmp_path, code, out)
    assert "error: 1 failed and 1 skipped of 5 runs" in err and "Traceback" not in err
    # the first two jobs ran at the same time, in two processes
    first, second = runs["web-q1"], runs["shop-q1"]
    assert first["pid"] != second["pid"]
    assert first["started"] <= second["ended"] and second["started"] <= first["ended"]
    assert len({r["pid"] for r in runs.values() if r["pid"]}) == 2  # two workers, reused


@pytest.mark.slow
def test_batch_on_a_dask_local_cluster_gives_the_same_summary(tmp_path, five_cycles, capsys):
    distributed = pytest.importorskip("distributed")
    notebooks = print_only_notebooks(tmp_path / "notebooks")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        with distributed.Client(cluster) as client:
            worker_pids = set(client.run(os.getpid).values())
        code = main(
            [
                "batch",
                *map(str, five_cycles),
                "--runs-dir",
                str(tmp_path / "runs"),
                "--reports-dir",
                str(tmp_path / "reports"),
                "--notebooks",
                str(notebooks),
                "--scheduler",
                cluster.scheduler_address,
            ]
        )
    out, _ = capsys.readouterr()
    runs = check_five_cycles(tmp_path, code, out)
    assert {r["pid"] for r in runs.values() if r["pid"]} <= worker_pids  # ran on the workers
    data = json.loads((tmp_path / "reports" / SUMMARY_NAME).read_text(encoding="utf-8"))
    assert data["engine"] == f"Dask scheduler {cluster.scheduler_address}"


@pytest.mark.slow  # the client tries for 10 s before it gives up
def test_an_unreachable_scheduler_is_a_clear_error(tmp_path, capsys):
    pytest.importorskip("distributed")
    jobs = plan_batch([write_params(tmp_path, "a.yaml", service="web", cycle="q1")])
    from csi_helpers.errors import EngineError

    with pytest.raises(EngineError, match=r"tcp://127\.0\.0\.1:9: cannot reach"):
        run_batch(
            jobs, Workspace.at(tmp_path / "runs", tmp_path / "r"), scheduler="tcp://127.0.0.1:9"
        )
    assert not (tmp_path / "runs").exists()


@pytest.mark.slow
def test_a_dry_run_batch_tells_step_7_not_to_write_the_register(tmp_path, capsys):
    """`csi batch --dry-run`: each cycle's step 7 gets write_register False (without the
    flag, a cycle under its own run id gets True)."""
    notebooks = print_only_notebooks(tmp_path / "notebooks")
    cycle = write_params(tmp_path / "params", "web-q1.yaml", service="web", cycle="q1")
    common = ["--jobs", "1", "--reports-dir", str(tmp_path / "reports")]
    common += ["--notebooks", str(notebooks)]
    for flags, runs, expected in (([], "real", True), (["--dry-run"], "dry", False)):
        code = main(["batch", str(cycle), "--runs-dir", str(tmp_path / runs), *common, *flags])
        assert code == 0, capsys.readouterr().err
        manifest = json.loads((tmp_path / runs / "web-q1" / "manifest.json").read_text())
        assert manifest["steps"][6]["parameters"]["write_register"] is expected
