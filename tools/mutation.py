"""``make mutation``: mutation testing (cosmic-ray) of the modules in mutation/targets.toml.

Each module is mutated in a copy of the checkout's tracked files (never in the working
tree), and each mutant is run against only the tests that pin the module, with the module's
own doctests. Prints the kill rate per module and writes mutation/RESULTS.md with the
survivors (module, line, operator), for a test to kill or for mutation/EQUIVALENT.md to
explain. Slow (a few seconds per mutant): not part of CI.

    python tools/mutation.py [MODULE_SUBSTRING ...] [--timeout SECONDS]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

from cosmic_ray.work_db import WorkDB, use_db
from cosmic_ray.work_item import TestOutcome
from tracked_copy import tracked_copy  # tools/, beside this script

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("only", nargs="*", help="run the modules whose path contains one of these")
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds per mutant")
    args = ap.parse_args()
    targets = tomllib.loads((ROOT / "mutation" / "targets.toml").read_text())["targets"]
    chosen = {m: t for m, t in targets.items() if not args.only or any(o in m for o in args.only)}
    rows = []
    with tempfile.TemporaryDirectory(prefix="csi-mutation-") as tmp:
        copy = tracked_copy(ROOT, Path(tmp) / "checkout")
        for module, tests in chosen.items():
            started = time.monotonic()
            killed, survivors, total = _mutate(copy, module, tests, args.timeout)
            rate = killed / total if total else 1.0
            seconds = time.monotonic() - started
            print(f"{module}: {killed}/{total} killed ({rate:.0%}), {seconds:.0f} s", flush=True)
            rows.append((module, killed, total, rate, seconds, survivors))
    _write_results(rows)
    return 0


def _mutate(copy: Path, module: str, tests: list[str], timeout: float):
    command = " ".join(
        [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
         "-o", "addopts=--doctest-modules", *tests, module]
    )  # fmt: skip
    config = copy / "cosmic-ray.toml"
    config.write_text(
        "[cosmic-ray]\n"
        f'module-path = "{module}"\n'
        f"timeout = {timeout}\n"
        "excluded-modules = []\n"
        f"test-command = {command!r}\n"
        '[cosmic-ray.distributor]\nname = "local"\n'.replace("'", '"')
    )
    session = copy / "session.sqlite"
    session.unlink(missing_ok=True)
    env = {"PYTHONPATH": str(copy / "src")}
    run = {"cwd": copy, "check": True, "env": {**_environ(), **env}}
    subprocess.run([_tool("cosmic-ray"), "init", str(config), str(session)], **run)
    subprocess.run([_tool("cosmic-ray"), "exec", str(config), str(session)], **run)
    killed, survivors, total = 0, [], 0
    with use_db(str(session), WorkDB.Mode.open) as db:
        for item, result in db.completed_work_items:
            total += 1
            if result.test_outcome == TestOutcome.SURVIVED:
                spec = item.mutations[0]
                survivors.append((spec.start_pos[0], spec.operator_name, spec.occurrence))
            else:
                killed += 1
    return killed, sorted(survivors), total


def _write_results(rows) -> None:
    lines = [
        "# Mutation testing: last run",
        "",
        "| module | killed | mutants | kill rate | seconds |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| `{m}` | {k} | {t} | {r:.0%} | {s:.0f} |" for m, k, t, r, s, _ in rows]
    for module, *_, survivors in rows:
        if survivors:
            lines += ["", f"## Survivors in `{module}`", ""]
            lines += [f"- line {line}: {op} (occurrence {n})" for line, op, n in survivors]
    (ROOT / "mutation" / "RESULTS.md").write_text("\n".join(lines) + "\n")


def _tool(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


def _environ() -> dict[str, str]:
    return dict(os.environ)


if __name__ == "__main__":
    sys.exit(main())
