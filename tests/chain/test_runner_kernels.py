"""The runner's kernels: one fresh kernel per step even when started ahead and warmed,
no kernel left behind (success, failed step, Ctrl-C), peak memory in the manifest."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

import nbformat
import psutil  # an ipykernel dependency
import pytest
from nbformat.v4 import new_code_cell

from csi_helpers.chain.kernels import zygote as kernel_zygote
from csi_helpers.chain.kernels.zygote import Zygote, zygote_supported
from csi_helpers.chain.runner import run_cycle
from csi_helpers.errors import StepFailed
from csi_helpers.runfolder.layout import STEPS
from csi_helpers.runfolder.manifest import read_manifest

AFTER_PARAMETERS = 2  # cells: markdown header, parameters, then the step's own code


KERNEL_COMMANDS = (
    "ipykernel_launcher",
    "csi_helpers.chain.kernels.zygote",
)  # forks keep the latter


def kernel_pids() -> set[int]:
    """Running kernels (and kernel zygotes) started by this process, wherever they now hang
    in the process tree: jupyter_client marks them with ``JPY_PARENT_PID``."""
    me = str(os.getpid())
    pids = set()
    for proc in psutil.process_iter():
        try:
            if (
                proc.status() != psutil.STATUS_ZOMBIE
                and any(name in " ".join(proc.cmdline()) for name in KERNEL_COMMANDS)
                and proc.environ().get("JPY_PARENT_PID") == me
            ):
                pids.add(proc.pid)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return pids


def add_cell(folder: Path, number: int, code: str, *, index: int | None = None) -> None:
    """Insert a code cell into step ``number``'s tiny notebook (at the end by default)."""
    path = folder / STEPS[number - 1].notebook
    nb = nbformat.read(path, as_version=4)
    cell = new_code_cell(code)
    nb.cells.insert(len(nb.cells) if index is None else index, cell)
    nbformat.write(nb, path)


def stream_text(run_dir: Path, number: int) -> str:
    nb = nbformat.read(run_dir / "notebooks" / STEPS[number - 1].notebook, as_version=4)
    return "".join(
        o.get("text", "")
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.output_type == "stream"
    )


def tagged_line(text: str, tag: str) -> str:
    [line] = [ln for ln in text.splitlines() if ln.startswith(tag)]
    return line.removeprefix(tag).strip()


def test_steps_never_share_a_kernel_or_its_variables(tmp_path, params_file, chain_dir):
    folder = chain_dir()
    for n in (1, 2, 3):
        add_cell(
            folder,
            n,
            "import os\n"
            'leaked = sorted(k for k in globals() if k.startswith("set_by_step_"))\n'
            'print("leaked:", leaked)\n'
            'print("pid:", os.getpid())\n'
            f"set_by_step_{n} = {n}",
        )
    before = kernel_pids()
    result = run_cycle(
        params_file,
        runs_dir=tmp_path / "runs",
        reports_dir=tmp_path / "reports",
        notebooks=folder,
        to_step=3,
    )
    texts = {n: stream_text(result.run_dir, n) for n in (1, 2, 3)}
    assert {n: tagged_line(t, "leaked:") for n, t in texts.items()} == {n: "[]" for n in (1, 2, 3)}
    pids = {tagged_line(t, "pid:") for t in texts.values()}
    assert len(pids) == 3
    assert kernel_pids() <= before  # every kernel of the run is gone


def test_warm_kernels_look_like_fresh_ones(tmp_path, params_file, chain_dir):
    """The same two steps run on plain kernels (prestart=False) and on kernels forked
    from the zygote and warmed: imports already done, yet the same names in the user
    namespace, execution counts from 1, figures inline."""
    folder = chain_dir()
    for n in (1, 2):
        add_cell(
            folder,
            n,
            'import sys\nprint("preloaded:", "matplotlib.pyplot" in sys.modules)',
            index=AFTER_PARAMETERS,
        )
        add_cell(folder, n, "import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nplt.show()")
        add_cell(
            folder,
            n,
            "import json, os, numpy\n"
            'print("names:", json.dumps(sorted(get_ipython().user_ns)))\n'
            'print("statsmodels:", "statsmodels" in sys.modules)\n'
            'print("where:", json.dumps([os.getcwd(), sys.path, os.getpgid(0) == os.getpid()]))\n'
            'print("draw:", numpy.random.random())',
        )
    runs = {
        prestart: run_cycle(
            params_file,
            run_id=f"prestart-{prestart}",
            runs_dir=tmp_path / "runs",
            reports_dir=tmp_path / "reports",
            notebooks=folder,
            to_step=2,
            prestart=prestart,
        ).run_dir
        for prestart in (False, True)
    }
    for n in (1, 2):
        cold, warm = stream_text(runs[False], n), stream_text(runs[True], n)
        assert tagged_line(cold, "preloaded:") == "False"
        if n > 1 or zygote_supported():  # step 1 is forked from the zygote, not warmed
            assert tagged_line(warm, "preloaded:") == "True"
        assert json.loads(tagged_line(warm, "names:")) == json.loads(tagged_line(cold, "names:"))
        # same working directory and import path, own process group (session leader)
        assert tagged_line(warm, "where:") == tagged_line(cold, "where:")
        cwd, _, leader = json.loads(tagged_line(warm, "where:"))
        assert cwd == str(folder) and leader
        # only what the steps import is preloaded (the tiny steps never need statsmodels)
        assert tagged_line(warm, "statsmodels:") == "False"
        for run_dir in runs.values():
            nb = nbformat.read(run_dir / "notebooks" / STEPS[n - 1].notebook, as_version=4)
            counts = [c.execution_count for c in nb.cells if c.cell_type == "code"]
            assert counts == list(range(1, len(counts) + 1))
            outputs = [o for c in nb.cells for o in c.get("outputs", [])]
            assert any("image/png" in o.get("data", {}) for o in outputs)
    # forks of one zygote do not share random state
    draws = {tagged_line(stream_text(runs[True], n), "draw:") for n in (1, 2)}
    assert len(draws) == 2


def test_peak_memory_of_each_kernel_is_recorded(tmp_path, params_file, chain_dir):
    folder = chain_dir()
    add_cell(folder, 2, 'ballast = b"x" * (400 * 2**20)  # 400 MiB, touched\ndel ballast')
    result = run_cycle(
        params_file,
        runs_dir=tmp_path / "runs",
        reports_dir=tmp_path / "reports",
        notebooks=folder,
        to_step=3,
    )
    steps = read_manifest(result.run_dir)["steps"]
    peaks = [s["peak_rss_mib"] for s in steps[:3]]
    assert all(isinstance(p, float) and p > 20 for p in peaks), peaks
    assert peaks[1] - max(peaks[0], peaks[2]) > 300  # the kernel's own peak, not the runner's
    assert "peak_rss_mib" not in steps[3]


def test_failed_step_leaves_no_kernel_not_even_the_one_started_ahead(
    tmp_path, params_file, chain_dir
):
    folder = chain_dir(broken={2: 'raise ValueError("planted")'})
    before = kernel_pids()
    with pytest.raises(StepFailed, match="step 2"):
        run_cycle(
            params_file,
            runs_dir=tmp_path / "runs",
            reports_dir=tmp_path / "reports",
            notebooks=folder,
            to_step=4,
        )
    run_dir = tmp_path / "runs" / "web-q1"
    assert (run_dir / ".csi" / "03.kernel.log").is_file()  # step 3's kernel had been started
    assert not (run_dir / ".csi" / "04.kernel.log").exists()
    assert kernel_pids() <= before
    manifest = read_manifest(run_dir)
    assert [s["status"] for s in manifest["steps"][:3]] == ["succeeded", "failed", "pending"]
    assert isinstance(manifest["steps"][1]["peak_rss_mib"], float)


def test_interrupt_before_a_step_leaves_no_kernel(tmp_path, params_file, chain_dir):
    def interrupt_at_step_2(step, status, seconds):
        if step.number == 2 and status == "running":
            raise KeyboardInterrupt

    before = kernel_pids()
    with pytest.raises(KeyboardInterrupt):
        run_cycle(
            params_file,
            runs_dir=tmp_path / "runs",
            reports_dir=tmp_path / "reports",
            notebooks=chain_dir(),
            on_progress=interrupt_at_step_2,
        )
    assert (tmp_path / "runs" / "web-q1" / ".csi" / "02.kernel.log").is_file()
    assert kernel_pids() <= before


@pytest.mark.slow
def test_ctrl_c_while_a_cell_runs_leaves_no_kernel_and_the_next_run_works(
    tmp_path, params_file, chain_dir
):
    folder = chain_dir()
    marker = tmp_path / "step2-is-running"
    add_cell(
        folder,
        2,
        f"import pathlib, time\npathlib.Path({str(marker)!r}).touch()\ntime.sleep(300)",
    )

    def press_ctrl_c() -> None:
        deadline = time.monotonic() + 240
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        os.kill(os.getpid(), signal.SIGINT)

    before = kernel_pids()
    presser = threading.Thread(target=press_ctrl_c, daemon=True)
    presser.start()
    with pytest.raises(KeyboardInterrupt):
        run_cycle(
            params_file,
            runs_dir=tmp_path / "runs",
            reports_dir=tmp_path / "reports",
            notebooks=folder,
            to_step=3,
        )
    presser.join()
    assert marker.exists()  # the signal came while step 2's cell was running
    assert kernel_pids() <= before

    result = run_cycle(
        params_file,
        runs_dir=tmp_path / "runs",
        reports_dir=tmp_path / "reports",
        notebooks=chain_dir(),
        to_step=2,
    )
    assert read_manifest(result.run_dir)["status"] == "partial"
    assert kernel_pids() <= before


def test_without_a_zygote_kernels_start_plain(tmp_path, params_file, chain_dir, monkeypatch):
    """A zygote that dies at start costs nothing but speed: each kernel starts plain."""
    real_popen = kernel_zygote.subprocess.Popen

    def broken_zygote(args, **kwargs):
        return real_popen([sys.executable, "-c", "raise SystemExit(3)"], **kwargs)

    monkeypatch.setattr(kernel_zygote.subprocess, "Popen", broken_zygote)
    folder = chain_dir()
    for n in (1, 2):  # a plain kernel's own stderr goes to its step's log too
        add_cell(folder, n, f"import os\nos.write(2, b'plain-kernel-stderr-{n}\\n')")
    before = kernel_pids()
    result = run_cycle(
        params_file,
        runs_dir=tmp_path / "runs",
        reports_dir=tmp_path / "reports",
        notebooks=folder,
        to_step=2,
    )
    assert read_manifest(result.run_dir)["status"] == "partial"
    for n in (1, 2):
        log = (result.run_dir / ".csi" / f"0{n}.kernel.log").read_text()
        assert "kernel zygote exited (exit code 3); plain kernel started instead" in log
        assert f"plain-kernel-stderr-{n}\n" in log
        assert f"plain-kernel-stderr-{3 - n}" not in log
    assert kernel_pids() <= before


def test_kernel_dying_mid_step_fails_the_step_and_leaves_nothing(tmp_path, params_file, chain_dir):
    before = kernel_pids()
    with pytest.raises(StepFailed, match=r"step 2 \(measurement\) failed[\s\S]*DeadKernelError"):
        run_cycle(
            params_file,
            runs_dir=tmp_path / "runs",
            reports_dir=tmp_path / "reports",
            notebooks=chain_dir(broken={2: "import os\nos._exit(1)"}),
            to_step=3,
        )
    manifest = read_manifest(tmp_path / "runs" / "web-q1")
    assert [s["status"] for s in manifest["steps"][:3]] == ["succeeded", "failed", "pending"]
    assert kernel_pids() <= before


@pytest.mark.skipif(
    not zygote_supported(), reason="platform: kernels fork from a zygote on Linux only"
)
def test_zygote_imports_what_a_kernel_waits_for_before_forking_it(tmp_path):
    """The runner starts the zygote with the notebooks' own imports only; a kernel's
    request adds what its step's helpers import inside functions, and the zygote
    imports those too before it forks that kernel (so the step does not pay for them)."""
    from jupyter_client import BlockingKernelClient

    from csi_helpers.chain.kernels.pool import KernelPool

    zygote = Zygote(["json"])
    with contextlib.closing(zygote), KernelPool(zygote=zygote) as pool:
        km = pool.start(cwd=tmp_path, needs=("wave",), warm=False).result(timeout=120)
        client = BlockingKernelClient()
        client.load_connection_info(km.get_connection_info())
        client.start_channels()
        try:
            client.wait_for_ready(timeout=60)
            reply = client.execute_interactive(
                "import sys\nloaded = sorted({'json', 'wave', 'sunau'} & set(sys.modules))",
                user_expressions={"loaded": "loaded"},
                timeout=60,
            )
        finally:
            client.stop_channels()
    loaded = reply["content"]["user_expressions"]["loaded"]["data"]["text/plain"]
    assert loaded == "['json', 'wave']"  # wanted by the zygote or the kernel; sunau by neither


@pytest.mark.skipif(os.name != "posix", reason="platform: Unix sockets on POSIX only")
def test_kernels_talk_over_unix_sockets_not_ports(tmp_path):
    """No TCP port is chosen, so cycles run side by side (csi batch) cannot race for one,
    and the socket files go when the kernel does."""
    from csi_helpers.chain.kernels.pool import KernelPool

    zygote = Zygote(["json"])
    with contextlib.closing(zygote), KernelPool(zygote=zygote) as pool:
        km = pool.start(cwd=tmp_path).result(timeout=120)
        info = km.get_connection_info()
        client = km.blocking_client()
        client.start_channels()
        try:
            client.wait_for_ready(timeout=60)
        finally:
            client.stop_channels()
        sockets = sorted(Path(info["ip"]).parent.glob(Path(info["ip"]).name + "-*"))
        assert info["transport"] == "ipc" and len(sockets) == 5  # shell, iopub, stdin, hb, control
        assert len(str(sockets[0])) < 100  # fits a Unix socket address
    assert not any(path.exists() for path in sockets)


@pytest.mark.skipif(
    not zygote_supported(), reason="platform: kernels fork from a zygote on Linux only"
)
def test_cycles_share_a_batch_workers_zygote_and_leave_it_running(tmp_path, params_file, chain_dir):
    """A batch worker keeps one zygote for all its cycles: each cycle's kernels are
    forked from it, and only the zygote outlives the cycles, until it is closed."""
    from csi_helpers.chain.kernels.pool import start_zygote

    folder = chain_dir()
    add_cell(folder, 2, 'import os\nprint("parent:", os.getppid())')
    before = kernel_pids()
    zygote = start_zygote(folder)
    assert zygote is not None
    try:
        runs = [
            run_cycle(
                params_file,
                run_id=f"cycle-{n}",
                runs_dir=tmp_path / "runs",
                reports_dir=tmp_path / "reports",
                notebooks=folder,
                to_step=2,
                zygote=zygote,
            ).run_dir
            for n in (1, 2)
        ]
        assert zygote.alive
        for run_dir in runs:
            assert tagged_line(stream_text(run_dir, 2), "parent:") == str(zygote.process.pid)
        assert kernel_pids() - before == {zygote.process.pid}
    finally:
        zygote.close()
    assert not zygote.alive
    assert kernel_pids() <= before
