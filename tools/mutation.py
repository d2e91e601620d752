"""``make mutation``: mutation testing (cosmic-ray) of the modules in mutation/targets.toml.

Each module is mutated in a copy of the checkout's tracked files (never in the working
tree), and each mutant is run against only the tests that pin the module, with the module's
own doctests, by a fork server (tools/mutation_server.py) that has imported the third-party
libraries once. Mutants inside annotations nothing evaluates, or on a line marked
``# pragma: no mutate``, are counted apart and not run (:func:`_skip_unrun`). Prints the
kill rate per module, keeps each module's last figures in mutation/results/ and writes
mutation/RESULTS.md from them with the survivors (module, line, mutated line), flagged
where mutation/EQUIVALENT.md does not name the line, for a test to kill or for that file
to explain. Slow (about a second per mutant of a KPI module, several for the
verification's): not part of CI. Runs of different modules may go side by side.

    python tools/mutation.py [MODULE_SUBSTRING ...] [--timeout SECONDS]
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import hashlib
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

from cosmic_ray.work_db import WorkDB, use_db
from cosmic_ray.work_item import TestOutcome, WorkerOutcome, WorkResult
from tracked_copy import tracked_copy  # tools/, beside this script

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("only", nargs="*", help="run the modules whose path contains one of these")
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds per mutant")
    ap.add_argument(
        "--survivors", action="store_true",
        help="run only the survivors of each module's last run, the rest counted as killed "
        "then: the quick check of new tests (refused where the module changed since)",
    )  # fmt: skip
    ap.add_argument(
        "--shard", type=_shard, metavar="I/N",
        help="run the I-th of N equal shares of each module's mutants (N runs side by side "
        "on N cores); the last shard to finish merges their figures into one record",
    )  # fmt: skip
    args = ap.parse_args()
    # a stopped run stops its cosmic-ray and fork server too (subprocess.run kills its
    # child on any exception, and the fork server's context kills the server)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    config = tomllib.loads((ROOT / "mutation" / "targets.toml").read_text())
    targets = config["targets"]
    chosen = {m: t for m, t in targets.items() if not args.only or any(o in m for o in args.only)}
    with tempfile.TemporaryDirectory(prefix="csi-mutation-") as tmp:
        copy = tracked_copy(ROOT, Path(tmp) / "checkout")
        for module, tests in chosen.items():
            started = time.monotonic()
            only = _last_survivors(copy, module) if args.survivors else None
            if args.survivors and only is None:
                print(f"{module}: changed since its last run, or never run: run it whole")
                continue
            counts = _mutate(copy, module, tests, args.timeout, only, args.shard)
            killed, survivors, total, skipped = counts
            rate = killed / total if total else 1.0
            seconds = time.monotonic() - started
            apart = f" ({skipped} in annotations or `no mutate` lines, not run)" if skipped else ""
            figures = f"{killed}/{total} killed ({rate:.0%}){apart}, {seconds:.0f} s"
            print(f"{module}: {figures}", flush=True)
            how = "survivors of the last run" if args.survivors else "whole"
            record = _record(copy, module, (killed, total, skipped), seconds, survivors, how)
            if args.shard:
                record = _merged_shards(module, record, *args.shard)
            if record is not None:
                _save(module, record)
            _write_results()
    return 0


def _mutate(copy: Path, module: str, tests: list[str], timeout: float, only=None, shard=None):
    """Run the mutants of ``module`` (only those in ``only``, the rest counted as killed
    before, when given; only shard ``(i, n)``'s share, when given) and count them:
    killed, survivors, run, not run."""
    sock = copy / f"pytest-{os.getpid()}.sock"
    command = shlex.join(
        [sys.executable, str(ROOT / "tools" / "mutation_server.py"), "run", str(sock),
         "-x", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
         "-o", "addopts=--doctest-modules", *tests, module]
    )  # fmt: skip
    config = copy / "cosmic-ray.toml"
    config.write_text(
        "[cosmic-ray]\n"
        f"module-path = {json.dumps(module)}\n"
        f"timeout = {timeout}\n"
        "excluded-modules = []\n"
        f"test-command = {json.dumps(command)}\n"  # a JSON string is a TOML basic string
        '[cosmic-ray.distributor]\nname = "local"\n'
    )
    session = copy / "session.sqlite"
    session.unlink(missing_ok=True)
    env = {**_environ(), "PYTHONPATH": str(copy / "src"), "PYTHONDONTWRITEBYTECODE": "1"}
    run = {"cwd": copy, "check": True, "env": env}
    subprocess.run([_tool("cosmic-ray"), "init", str(config), str(session)], **run)
    _skip_unrun(copy / module, session)
    if only is not None:
        _skip_killed_before(session, only)
    if shard is not None:
        _skip_other_shards(session, *shard)
    with _fork_server(sock, timeout, env):
        subprocess.run([_tool("cosmic-ray"), "exec", str(config), str(session)], **run)
    killed, survivors, total, skipped = 0, [], 0, 0
    with use_db(str(session), WorkDB.Mode.open) as db:
        for item, result in db.completed_work_items:
            if result.output == OTHER_SHARD:
                continue
            if result.output == KILLED_BEFORE:
                killed, total = killed + 1, total + 1
                continue
            if result.worker_outcome == WorkerOutcome.SKIPPED:
                skipped += 1
                continue
            total += 1
            if result.test_outcome == TestOutcome.SURVIVED:
                spec = item.mutations[0]
                line = spec.start_pos[0]
                survivors.append((line, spec.operator_name, spec.occurrence, _mutated(result.diff)))
            else:
                killed += 1
    return killed, sorted(survivors), total, skipped


KILLED_BEFORE = "killed in the module's last run"
OTHER_SHARD = "another shard's"


def _shard(text: str) -> tuple[int, int]:
    i, _, n = text.partition("/")
    if not (i.isdigit() and n.isdigit() and 1 <= int(i) <= int(n)):
        raise argparse.ArgumentTypeError(f"a shard is I/N with 1 <= I <= N, got {text!r}")
    return int(i), int(n)


def _skip_other_shards(session: Path, i: int, n: int) -> None:
    """Leave pending only every n-th mutant from the i-th, in an order every shard shares
    (position, operator, occurrence; cosmic-ray's job ids differ from session to session)."""
    with use_db(str(session), WorkDB.Mode.open) as db:
        items = sorted(
            db.pending_work_items,
            key=lambda it: (tuple(it.mutations[0].start_pos), it.mutations[0].operator_name,
                            it.mutations[0].occurrence),
        )  # fmt: skip
        for k, item in enumerate(items):
            if k % n != i - 1:
                db.set_result(item.job_id, WorkResult(WorkerOutcome.SKIPPED, OTHER_SHARD))


def _merged_shards(module: str, record: dict, i: int, n: int) -> dict | None:
    """Keep shard i's record beside the module's; once all n are there for the same
    source, the merged record (None until then)."""
    part = _record_path(module).with_suffix(f".json.shard-{i}-of-{n}")
    part.write_text(json.dumps(record, indent=1))
    parts = [_record_path(module).with_suffix(f".json.shard-{k}-of-{n}") for k in range(1, n + 1)]
    shards = [json.loads(p.read_text()) for p in parts if p.exists()]
    if len(shards) < n or len({r["source_sha256"] for r in shards}) > 1:
        return None
    merged = {**record, "how": f"{record['how']}, in {n} shards"}
    for key in ("killed", "total"):
        merged[key] = sum(r[key] for r in shards)
    merged["seconds"] = max(r["seconds"] for r in shards)  # side by side
    merged["survivors"] = sorted(s for r in shards for s in r["survivors"])
    for p in parts:
        p.unlink()
    return merged


def _skip_killed_before(session: Path, survivors: set[tuple[int, str, int]]) -> None:
    """Mark every pending mutant but the last run's survivors as killed then."""
    with use_db(str(session), WorkDB.Mode.open) as db:
        for item in list(db.pending_work_items):
            spec = item.mutations[0]
            if (spec.start_pos[0], spec.operator_name, spec.occurrence) not in survivors:
                db.set_result(item.job_id, WorkResult(WorkerOutcome.SKIPPED, KILLED_BEFORE))


def _last_survivors(copy: Path, module: str) -> set[tuple[int, str, int]] | None:
    """The survivors of the module's last run, or None if it never ran or changed since."""
    record = _record_path(module)
    if not record.exists():
        return None
    last = json.loads(record.read_text())
    if last.get("source_sha256") != _sha256(copy / module):
        return None
    return {(line, op, n) for line, op, n, *_ in last["survivors"]}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _record_path(module: str) -> Path:
    """Where a module's last figures go; the folder is made here, as git does not keep it
    (a fresh checkout has none, and a shard's record was lost at the end of its run)."""
    folder = ROOT / "mutation" / "results"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / (module.replace("/", "__") + ".json")


def _mutated(diff: str | None) -> str:
    """The mutated source line of a unified diff, stripped (``""`` when there is none)."""
    added = [
        line[1:].strip() for line in (diff or "").splitlines()
        if line.startswith("+") and not line.startswith("+++")
    ]  # fmt: skip
    return " / ".join(added)


def _skip_unrun(source: Path, session: Path) -> None:
    """Mark as skipped the mutants inside annotations nothing evaluates, and those on a line
    marked ``# pragma: no mutate`` (cosmic-ray's own marker), whose every mutant is
    explained in mutation/EQUIVALENT.md."""
    text = source.read_text()
    pragma = {n for n, line in enumerate(text.splitlines(), 1) if "# pragma: no mutate" in line}
    inside = _unread_annotations(ast.parse(text), source)
    with use_db(str(session), WorkDB.Mode.open) as db:
        for item in list(db.pending_work_items):
            at = tuple(item.mutations[0].start_pos)
            if at[0] in pragma:
                db.set_result(item.job_id, WorkResult(WorkerOutcome.SKIPPED, "no mutate"))
            elif any(start <= at < end for start, end in inside):
                db.set_result(item.job_id, WorkResult(WorkerOutcome.SKIPPED, "annotation"))


def _unread_annotations(tree: ast.Module, source: Path) -> list[tuple[tuple[int, int], ...]]:
    """Spans (start, end) of the annotations that nothing evaluates.

    In a module with ``from __future__ import annotations`` every annotation is a string
    that stays one unless ``typing.get_type_hints`` reads it, and the only code that does
    is :class:`csi_helpers.kpis.base.KpiDefinition`, on each KPI function (its options'
    types). So the annotations of KPI functions are read; all others are not. Without
    that import, annotations are evaluated at import, and every one is read.
    """
    if not any(
        isinstance(node, ast.ImportFrom) and node.module == "__future__"
        and any(a.name == "annotations" for a in node.names)
        for node in tree.body
    ):  # fmt: skip
        return []
    read = _kpi_function_lines(source)
    spans = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            if min([d.lineno for d in node.decorator_list] + [node.lineno]) in read:
                continue
            args = node.args
            every = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
            spans += [a.annotation for a in every if a is not None and a.annotation]
            spans += [node.returns] if node.returns else []
        elif isinstance(node, ast.AnnAssign):
            spans.append(node.annotation)
    return [((a.lineno, a.col_offset), (a.end_lineno, a.end_col_offset)) for a in spans]


def _kpi_function_lines(source: Path) -> set[int]:
    """First lines (decorators included) of the KPI functions defined in ``source``."""
    sys.path.insert(0, str(ROOT / "src"))
    from csi_helpers.kpis import LIBRARY

    here = source.resolve()
    return {
        d.compute.__code__.co_firstlineno
        for d in LIBRARY.values()
        if Path(d.compute.__code__.co_filename).name == here.name
        and Path(d.compute.__code__.co_filename).parent.name == here.parent.name
    }


@contextlib.contextmanager
def _fork_server(sock: Path, timeout: float, env: dict[str, str]):
    """tools/mutation_server.py for the span of one module: the imports paid once."""
    sock.unlink(missing_ok=True)
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "tools" / "mutation_server.py"), "serve", str(sock),
         str(0.9 * timeout)], env=env, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        if server.stdout.readline().strip() != "ready":
            raise RuntimeError("the mutation fork server did not start")
        yield
    finally:
        server.kill()
        server.wait()
        sock.unlink(missing_ok=True)


def _record(copy: Path, module: str, counts, seconds: float, survivors, how: str) -> dict:
    killed, total, skipped = counts
    if how != "whole":  # the table shows what a whole run takes
        seconds = json.loads(_record_path(module).read_text())["seconds"]
    return {"module": module, "killed": killed, "total": total, "skipped": skipped,
            "seconds": round(seconds), "date": time.strftime("%Y-%m-%d"), "how": how,
            "source_sha256": _sha256(copy / module), "survivors": survivors}  # fmt: skip


def _save(module: str, record: dict) -> None:
    """Keep one module's last figures (mutation/results/, not in git), so that runs of
    different modules, one after the other or side by side, add up to one table."""
    path = _record_path(module)
    path.write_text(json.dumps(record, indent=1))


def _write_results() -> None:
    """mutation/RESULTS.md from every module's last figures, each survivor with its mutated
    line, flagged where mutation/EQUIVALENT.md does not name its line."""
    folder = ROOT / "mutation" / "results"
    records = [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]
    explained = _explained_lines(ROOT / "mutation" / "EQUIVALENT.md")
    lines = [
        "# Mutation testing: last run of each module",
        "",
        "| module | killed | mutants | kill rate | survivors not explained "
        "| in annotations or `no mutate`, not run | seconds | date |",
        "|---|---|---|---|---|---|---|---|",
    ]
    sections = []
    for r in records:
        rate = r["killed"] / r["total"] if r["total"] else 1.0
        known = explained.get(r["module"], set())
        unexplained = sum(s[0] not in known for s in r["survivors"])
        rerun = " (survivors rerun)" if r.get("how", "whole").startswith("survivors") else ""
        lines.append(
            f"| `{r['module']}` | {r['killed']} | {r['total']} | {rate:.0%} | {unexplained} "
            f"| {r.get('skipped', 0)} | {r['seconds']} | {r['date']}{rerun} |"
        )
        if r["survivors"]:
            sections += ["", f"## Survivors in `{r['module']}`", ""]
            sections += [_survivor_line(s, known) for s in r["survivors"]]
    tmp = ROOT / "mutation" / f".RESULTS.{os.getpid()}.md"
    tmp.write_text("\n".join(lines + sections) + "\n")
    tmp.replace(ROOT / "mutation" / "RESULTS.md")


def _survivor_line(survivor: list, known: set[int]) -> str:
    line, op, n, *mutant = survivor  # results before the mutated line was kept lack it
    text = f": `{mutant[0]}`" if mutant and mutant[0] else ""
    mark = "" if line in known else " **(not explained)**"
    return f"- line {line}{text} ({op.removeprefix('core/')}, occurrence {n}){mark}"


def _explained_lines(path: Path) -> dict[str, set[int]]:
    """The lines each module's section of EQUIVALENT.md names ("line 12", "lines 84, 85
    and 87"): a survivor on another line is flagged in RESULTS.md. By line, not by
    mutant: a line with one mutant explained and another not is not flagged."""
    sections: dict[str, set[int]] = {}
    module = None
    for text in path.read_text().splitlines() if path.exists() else []:
        if heading := re.match(r"## `([^`]+)`", text):
            module = heading.group(1)
            sections[module] = set()
        elif module:
            for run in re.findall(r"\blines? (\d+(?:(?:, | and |, and )\d+)*)", text):
                sections[module] |= {int(n) for n in re.findall(r"\d+", run)}
    return sections


def _tool(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


def _environ() -> dict[str, str]:
    return dict(os.environ)


if __name__ == "__main__":
    sys.exit(main())
