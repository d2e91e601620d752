"""tools/mutation.py: which mutants it leaves unrun, and which survivors it calls explained."""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tool():
    sys.path.insert(0, str(REPO / "tools"))  # it imports tracked_copy from beside it
    try:
        spec = importlib.util.spec_from_file_location("mutation", REPO / "tools" / "mutation.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.path.remove(str(REPO / "tools"))


SOURCE = """from __future__ import annotations

SIZE = 1 << 20  # pragma: no mutate


def f(a: int = 1, *, b: list[int] | None = None) -> dict[str, int]:
    total: int | None = a + 1
    return {"a": total}
"""


def test_annotations_are_unread_only_under_postponed_evaluation(tool, tmp_path):
    source = tmp_path / "m.py"
    source.write_text(SOURCE)
    spans = tool._unread_annotations(ast.parse(SOURCE), source)
    texts = sorted(
        SOURCE.splitlines()[start[0] - 1][start[1] : end[1]] for start, end in spans
    )  # every annotation here is on one line
    assert texts == ["dict[str, int]", "int", "int | None", "list[int] | None"]
    evaluated = SOURCE.replace("from __future__ import annotations\n", "")
    assert tool._unread_annotations(ast.parse(evaluated), source) == []


def cosmic_ray_session(tmp_path: Path) -> tuple[Path, Path]:
    """SOURCE as m.py and a cosmic-ray session of its mutants, none run."""
    source = tmp_path / "m.py"
    source.write_text(SOURCE)
    config = tmp_path / "cr.toml"
    config.write_text(
        f'[cosmic-ray]\nmodule-path = "{source}"\ntimeout = 10\nexcluded-modules = []\n'
        'test-command = "true"\n[cosmic-ray.distributor]\nname = "local"\n'
    )
    session = tmp_path / "session.sqlite"
    init = Path(sys.executable).with_name("cosmic-ray")
    subprocess.run([str(init), "init", str(config), str(session)], check=True, cwd=tmp_path)
    return source, session


def test_no_mutate_lines_and_annotations_are_skipped_the_rest_run(tool, tmp_path):
    """A real cosmic-ray session over SOURCE: the shift on the pragma line and the
    annotations' mutants are skipped; the default, the `*` and the `+` are pending."""
    from cosmic_ray.work_db import WorkDB, use_db

    source, session = cosmic_ray_session(tmp_path)
    tool._skip_unrun(source, session)
    with use_db(str(session), WorkDB.Mode.open) as db:
        skipped = {(i.mutations[0].start_pos[0], r.output) for i, r in db.completed_work_items}
        pending = {
            (i.mutations[0].start_pos, i.mutations[0].operator_name) for i in db.pending_work_items
        }
    assert (3, "no mutate") in skipped
    # the `|` in `b`'s annotation (cosmic-ray mutates none in `total`'s)
    assert {line for line, why in skipped if why == "annotation"} == {6}
    assert ((6, 18), "core/ReplaceBinaryOperator_Mul_Div") in pending  # the `*` marker runs
    assert not any(line == 3 for (line, _), _ in pending)
    assert ((7, 26), "core/ReplaceBinaryOperator_Add_Sub") in pending
    assert any(op == "core/NumberReplacer" and pos[0] == 6 for pos, op in pending)


def test_a_survivors_rerun_runs_only_the_last_survivors_of_an_unchanged_module(
    tool, tmp_path, monkeypatch
):
    from cosmic_ray.work_db import WorkDB, use_db

    monkeypatch.setattr(tool, "ROOT", tmp_path)
    (tmp_path / "mutation").mkdir()
    source, session = cosmic_ray_session(tmp_path)
    survivor = [7, "core/ReplaceBinaryOperator_Add_Sub", 0, "total: int | None = a - 1"]
    tool._save("m.py", tool._record(tmp_path, "m.py", (40, 41, 12), 9.0, [survivor], "whole"))
    only = tool._last_survivors(tmp_path, "m.py")
    assert only == {(7, "core/ReplaceBinaryOperator_Add_Sub", 0)}
    tool._skip_killed_before(session, only)
    with use_db(str(session), WorkDB.Mode.open) as db:
        pending = [i.mutations[0] for i in db.pending_work_items]
        before = {r.output for _, r in db.completed_work_items}
    assert [(m.start_pos[0], m.operator_name) for m in pending] == [tuple(survivor[:2])]
    assert before == {tool.KILLED_BEFORE}
    source.write_text(SOURCE + "\n# changed\n")
    assert tool._last_survivors(tmp_path, "m.py") is None  # run it whole
    assert tool._last_survivors(tmp_path, "never_run.py") is None


def test_shards_split_the_mutants_and_the_last_one_merges_the_figures(tool, tmp_path, monkeypatch):
    from cosmic_ray.work_db import WorkDB, use_db

    monkeypatch.setattr(tool, "ROOT", tmp_path)  # a fresh checkout: no mutation/results yet
    pending = []
    for i in (1, 2):
        folder = tmp_path / f"shard{i}"
        folder.mkdir()
        _, session = cosmic_ray_session(folder)
        tool._skip_other_shards(session, i, 2)
        with use_db(str(session), WorkDB.Mode.open) as db:
            pending.append(
                {(tuple(m.start_pos), m.operator_name, m.occurrence)
                 for m in (it.mutations[0] for it in db.pending_work_items)}
            )  # fmt: skip
    assert pending[0] and not pending[0] & pending[1]  # disjoint ...
    assert abs(len(pending[0]) - len(pending[1])) <= 1  # ... halves
    (tmp_path / "m.py").write_text(SOURCE)
    first = tool._record(tmp_path, "m.py", (20, 21, 12), 30.0, [[7, "op", 0, "a"]], "whole")
    assert tool._merged_shards("m.py", first, 1, 2) is None  # the other is still running
    second = tool._record(tmp_path, "m.py", (19, 20, 12), 40.0, [[6, "op", 1, "b"]], "whole")
    merged = tool._merged_shards("m.py", second, 2, 2)
    assert (merged["killed"], merged["total"], merged["skipped"], merged["seconds"]) == (
        39,
        41,
        12,
        40,
    )
    assert merged["survivors"] == [[6, "op", 1, "b"], [7, "op", 0, "a"]]
    assert merged["how"] == "whole, in 2 shards"
    assert not list((tmp_path / "mutation" / "results").iterdir())  # the parts are gone


def test_survivors_on_lines_the_equivalents_file_names_are_explained(tool, tmp_path):
    equivalent = tmp_path / "EQUIVALENT.md"
    equivalent.write_text(
        "## Kinds that recur\n\n- line 5 of nothing\n\n"
        "## `src/a.py` (run 2026-12-05)\n\n- line 12, `*` → `/`.\n"
        "- lines 84, 85 and 87 round to 5 places; lines 3 and 4, `&` → `*`.\n"
        "- 300 tickets (not a line).\n\n"
        "## `src/b.py`\n\n- lines 7, 9, and 11.\n"
    )
    assert tool._explained_lines(equivalent) == {
        "src/a.py": {3, 4, 12, 84, 85, 87},
        "src/b.py": {7, 9, 11},
    }
    survivor = [12, "core/ReplaceBinaryOperator_Mul_Div", 0, "def f(a, /, b):"]
    assert tool._survivor_line(survivor, {12}) == (
        "- line 12: `def f(a, /, b):` (ReplaceBinaryOperator_Mul_Div, occurrence 0)"
    )
    assert tool._survivor_line(survivor, set()).endswith("**(not explained)**")


def test_the_mutated_line_is_read_from_the_diff(tool):
    diff = "--- a/m.py\n+++ b/m.py\n@@ -1 +1 @@\n-x = a & b\n+x = a * b\n"
    assert tool._mutated(diff) == "x = a * b"
    assert tool._mutated(None) == ""
