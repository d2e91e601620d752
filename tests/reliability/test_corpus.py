"""Every case of the corpus ends in one actionable message, the right exit code, no
traceback, and no earlier good output lost (issue 17 point 7).

Cases that stop before any step runs are quick; cases that run step notebooks are
marked slow (CI runs them).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from corpus import CASES, Case
from workspace import csi

from csi_helpers.runfolder.hashing import sha256_file


def _kept(ws: Path) -> dict[str, str]:
    """The good run's reports and its run folder's record, by content."""
    files = [*(ws / "reports").rglob("*.html"), ws / "runs" / "shop-wk10" / "manifest.json"]
    files += (ws / "runs" / "shop-wk10" / "process").rglob("*.parquet")
    return {str(p.relative_to(ws)): sha256_file(p) for p in files if p.is_file()}


def _params(case: Case):
    marks = [pytest.mark.slow] if case.kernels else []
    return pytest.param(case, id=case.name, marks=marks)


@pytest.mark.parametrize("case", [_params(c) for c in CASES])
def test_case(case: Case, workspace: Path) -> None:
    case.change(workspace)
    before = _kept(workspace)  # what the command finds, and must not lose
    env = {**os.environ, "COLUMNS": "200", **case.extra}
    done = csi(list(case.argv), cwd=workspace, wrap=case.wrap, env=env)
    said = done.stderr + done.stdout
    assert done.returncode == case.code, said
    assert "Traceback" not in said, said
    for words in case.names:
        assert words in said, f"{words!r} not in the message:\n{said}"
    if case.code != 0:
        assert said.strip(), "a failure says why"
        after = _kept(workspace)
        kept = {k: v for k, v in after.items() if k in before}
        assert kept == {k: before[k] for k in kept} and set(before) <= set(after), (
            "the earlier good run changed"
        )
    if case.then is not None:
        case.then(workspace)
