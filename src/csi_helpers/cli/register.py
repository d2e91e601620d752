"""``csi register``: list, show, update, export and unlock the CSI register's entries."""

from __future__ import annotations

import os
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from csi_helpers.cli.common import err, out

__all__ = ["register_app"]

register_app = typer.Typer(
    no_args_is_help=True,
    help="The CSI register of improvement actions: list, show, update, export, unlock.",
)

ParamsOption = Annotated[
    Path | None,
    typer.Option("--params", help="A params file; its `register:` section names the register."),
]
UrlOption = Annotated[
    str | None,
    typer.Option("--url", help="A SQLAlchemy URL instead (password as ${VAR}, from the env)."),
]


def _register(params: Path | None, url: str | None) -> Any:
    from csi_helpers.errors import RegisterError
    from csi_helpers.register import open_register, register_url

    if (params is None) == (url is None):
        raise RegisterError(
            "name the register with --params FILE (its `register:` section) or with --url URL"
        )
    if params is not None:
        from csi_helpers.params import load_params

        url = register_url(load_params(params))
    return open_register(url)


def _date_option(value: str | None, option: str) -> date | None:
    from csi_helpers.errors import RegisterError

    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise RegisterError(f"{option}: {value!r} is not a date; write it as YYYY-MM-DD") from None


def _blank(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "-"
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M:%S}"
    return f"{value:g}" if isinstance(value, float) else str(value)


@register_app.command("list")
def register_list(
    params: ParamsOption = None,
    url: UrlOption = None,
    status: Annotated[
        list[str] | None, typer.Option("--status", help="Only entries in this status (repeatable).")
    ] = None,
) -> None:
    """List the register's entries: id, status, owner, due and review dates, KPI, title."""
    with _register(params, url) as reg:
        entries = reg.entries(status=status or None)
        held = reg.lock()
        shown = reg.url
    if held is not None:
        err.print(f"note: the register is locked by {held.describe()}", highlight=False)
    if entries.empty:
        err.print(f"{shown}: no entries", highlight=False)
        return
    header = ("ID", "STATUS", "OWNER", "DUE", "REVIEW", "KPI", "BASE → TARGET", "TITLE")
    rows = [
        (
            e.id,
            e.status,
            _blank(e.owner),
            _blank(e.due),
            _blank(e.review_date),
            _blank(e.kpi_id),
            f"{_blank(e.base_value)} → {_blank(e.target_value)}",
            e.title,
        )
        for e in entries.itertuples(index=False)
    ]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header) - 1)]
    for row in [header, *rows]:
        cells = [str(c).ljust(w) for c, w in zip(row, widths, strict=False)]
        out.print("  ".join([*cells, str(row[-1])]), highlight=False, markup=False)


@register_app.command("show")
def register_show(
    entry_id: Annotated[str, typer.Argument(metavar="ID", help="The entry's id.")],
    params: ParamsOption = None,
    url: UrlOption = None,
) -> None:
    """Show one entry in full, with its allowed next statuses and its history."""
    from csi_helpers.register import allowed_next

    with _register(params, url) as reg:
        entry = reg.get(entry_id)
        history = reg.history(entry_id)
    for name, value in vars(entry).items():
        out.print(f"{name:<16} {_blank(value)}", highlight=False, markup=False)
    following = ", ".join(allowed_next(entry.status)) or "(none: a final state)"
    out.print(f"{'next status':<16} {following}", highlight=False, markup=False)
    out.print("history:", highlight=False)
    for h in history.itertuples(index=False):
        note = f" ({h.note})" if h.note else ""
        change = f"{h.field} {_blank(h.old)} → {_blank(h.new)}"
        out.print(
            f"  {h.changed_at:%Y-%m-%d %H:%M:%S} {h.changed_by}: {change}{note}",
            highlight=False,
            markup=False,
        )


@register_app.command("update")
def register_update(
    entry_id: Annotated[str, typer.Argument(metavar="ID", help="The entry's id.")],
    params: ParamsOption = None,
    url: UrlOption = None,
    status: Annotated[
        str | None,
        typer.Option(
            help="New status: proposed, approved, in_progress, monitoring, closed_successful, "
            "closed_unsuccessful or withdrawn; it must follow the lifecycle."
        ),
    ] = None,
    owner: Annotated[str | None, typer.Option(help="New owner.")] = None,
    due: Annotated[str | None, typer.Option(help="New due date, YYYY-MM-DD.")] = None,
    note: Annotated[
        str | None, typer.Option(help="Outcome note; also kept with this change in the history.")
    ] = None,
    review: Annotated[
        str | None, typer.Option(help="New review date, YYYY-MM-DD (needs a baseline).")
    ] = None,
    base: Annotated[float | None, typer.Option(help="Base value of the KPI.")] = None,
    baseline_run: Annotated[str | None, typer.Option(help="Run id of the baseline.")] = None,
    target: Annotated[float | None, typer.Option(help="Target value of the KPI.")] = None,
    by: Annotated[str | None, typer.Option(help="Who makes the change (default: $USER).")] = None,
) -> None:
    """Change an entry: every change is one transaction and is kept in its history."""
    import getpass

    changes = {
        "status": status,
        "owner": owner,
        "due": _date_option(due, "--due"),
        "note": note,
        "review_date": _date_option(review, "--review"),
        "base_value": base,
        "baseline_run_id": baseline_run,
        "target_value": target,
    }
    who = by or os.environ.get("USER") or getpass.getuser()
    with _register(params, url) as reg:
        before = reg.get(entry_id)
        entry = reg.update(entry_id, by=who, **changes)
    changed = [k for k, v in vars(entry).items() if k != "updated_at" and v != vars(before)[k]]
    if not changed:
        err.print(f"{entry.id}: nothing to change (status {entry.status})", highlight=False)
        return
    out.print(
        f"{entry.id}: "
        + ", ".join(f"{k} {_blank(vars(before)[k])} → {_blank(vars(entry)[k])}" for k in changed),
        highlight=False,
        markup=False,
    )


@register_app.command("export")
def register_export(
    out_file: Annotated[Path, typer.Option("--out", help="The file to write.")],
    params: ParamsOption = None,
    url: UrlOption = None,
    fmt: Annotated[
        str | None,
        typer.Option("--format", help="csv or xlsx (default: from --out's suffix)."),
    ] = None,
) -> None:
    """Export the register to CSV or Excel; text a spreadsheet would run as a formula is quoted."""
    from csi_helpers.register import export_register

    with _register(params, url) as reg:
        path = export_register(reg, out_file, format=fmt)  # type: ignore[arg-type]
        count = len(reg.entries())
    out.print(
        f"{path}: {count} {'entry' if count == 1 else 'entries'}", highlight=False, markup=False
    )


@register_app.command("unlock")
def register_unlock(params: ParamsOption = None, url: UrlOption = None) -> None:
    """Remove the register's lock, left by a run that died (check that it is not running)."""
    with _register(params, url) as reg:
        held = reg.unlock()
    if held is None:
        out.print(f"{reg.url}: was not locked", highlight=False, markup=False)
    else:
        out.print(f"{reg.url}: removed the lock of {held.describe()}", highlight=False)
