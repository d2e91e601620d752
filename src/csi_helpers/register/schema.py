"""The register's tables and the migrations between schema versions.

Version *n* of the schema is what ``MIGRATIONS[:n]`` build from an empty
database: ``MIGRATIONS[i]`` takes a register from version ``i`` to ``i + 1``
(version 0 is "no tables yet"). The version lives in ``csi_meta`` under
``schema_version``; :func:`migrate` runs the missing steps inside the caller's
transaction, so a register is migrated whole or not at all.

To add version 2: write ``_v1_to_v2(connection)`` (e.g. ``ALTER TABLE ... ADD
COLUMN``), append it to :data:`MIGRATIONS`, and update the current tables below
to the new shape. ``csi_meta`` and ``csi_lock`` keep their version-1 shape in
every version: an older workbook reads them to refuse a newer register, and a
writer reads the lock before it migrates.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from csi_helpers.errors import RegisterError

META_TABLE, ENTRY_TABLE, HISTORY_TABLE, LOCK_TABLE = (
    "csi_meta",
    "csi_entries",
    "csi_history",
    "csi_lock",
)
TABLE_NAMES = (META_TABLE, ENTRY_TABLE, HISTORY_TABLE, LOCK_TABLE)


def _tables_v1(metadata: sa.MetaData) -> tuple[sa.Table, sa.Table, sa.Table, sa.Table]:
    """The four tables as version 1 defines them."""
    meta = sa.Table(
        META_TABLE,
        metadata,
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(200), nullable=False),
    )
    entries = sa.Table(
        ENTRY_TABLE,
        metadata,
        sa.Column("id", sa.String(120), primary_key=True),  # <created run id>-a<n>
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("finding_id", sa.String(300)),  # the step 5 finding it answers
        sa.Column("action_id", sa.String(120)),  # the step 7 action it came from
        sa.Column("kpi_id", sa.String(120)),  # the KPI entry of params (scorecard row)
        sa.Column("kpi", sa.String(120)),  # the KPI library id
        sa.Column("metric", sa.String(300)),
        sa.Column("owner", sa.String(200)),
        sa.Column("due", sa.Date),
        sa.Column("expected", sa.Text),  # expected improvement, in words
        sa.Column("base_value", sa.Float),  # the KPI's actual in the baseline run
        sa.Column("target_value", sa.Float),  # the KPI's target
        sa.Column("review_date", sa.Date),  # when the effect is checked
        sa.Column("baseline_run_id", sa.String(200)),
        sa.Column("created_run_id", sa.String(200)),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("outcome_note", sa.Text),
        sa.Column("created_at", sa.DateTime, nullable=False),  # UTC
        sa.Column("updated_at", sa.DateTime, nullable=False),  # UTC
    )
    history = sa.Table(
        HISTORY_TABLE,
        metadata,
        # a named sequence where the database has them (PostgreSQL, DuckDB); SQLite autoincrements
        sa.Column("id", sa.Integer, sa.Sequence("csi_history_id_seq"), primary_key=True),
        sa.Column("entry_id", sa.String(120), sa.ForeignKey(f"{ENTRY_TABLE}.id"), nullable=False),
        sa.Column("changed_at", sa.DateTime, nullable=False),  # UTC
        sa.Column("field", sa.String(64), nullable=False),
        sa.Column("old", sa.Text),
        sa.Column("new", sa.Text),
        sa.Column("changed_by", sa.String(200), nullable=False),
        sa.Column("note", sa.Text),
        sa.Index("ix_csi_history_entry", "entry_id"),
    )
    lock = sa.Table(
        LOCK_TABLE,
        metadata,
        sa.Column("name", sa.String(32), primary_key=True),  # always "register": one row at most
        sa.Column("token", sa.String(64), nullable=False),  # tells two holders of one run id apart
        sa.Column("owner", sa.String(200), nullable=False),  # the run id (or "cli <user>")
        sa.Column("since", sa.DateTime, nullable=False),  # UTC
        sa.Column("host", sa.String(200)),
        sa.Column("pid", sa.Integer),
    )
    return meta, entries, history, lock


def _tables_v2(metadata: sa.MetaData) -> tuple[sa.Table, sa.Table, sa.Table, sa.Table]:
    """Version 2: an entry also holds the change its action promised, as a fraction."""
    meta, entries, history, lock = _tables_v1(metadata)
    # −0.5 for "halve downtime": the review judges the action against it
    entries.append_column(sa.Column("expected_change", sa.Float))
    return meta, entries, history, lock


def _v0_to_v1(connection: sa.Connection) -> None:
    """Create the version 1 tables."""
    metadata = sa.MetaData()
    _tables_v1(metadata)
    metadata.create_all(connection)


def _v1_to_v2(connection: sa.Connection) -> None:
    """Add the promised change of an action (empty for the entries made before)."""
    connection.execute(sa.text(f"ALTER TABLE {ENTRY_TABLE} ADD COLUMN expected_change FLOAT"))


Migration = Callable[[sa.Connection], None]
MIGRATIONS: list[Migration] = [_v0_to_v1, _v1_to_v2]

# The current shape, used by every query.
METADATA = sa.MetaData()
META, ENTRIES, HISTORY, LOCK = _tables_v2(METADATA)


def current_version() -> int:
    """The schema version this workbook writes (the number of migrations)."""
    return len(MIGRATIONS)


def read_version(connection: sa.Connection, *, shown: str) -> int:
    """The register's schema version; 0 for a database with none of its tables.

    Raises:
        RegisterError: the database holds register tables without a readable version.
    """
    names = set(sa.inspect(connection).get_table_names())
    present = sorted(names & set(TABLE_NAMES))
    if META_TABLE not in names:
        if present:
            raise RegisterError(
                f"register {shown}: has the table(s) {', '.join(present)} but no {META_TABLE}, "
                "so its schema version is unknown; it was not made by csi-workbook"
            )
        return 0
    value = connection.execute(
        sa.select(META.c.value).where(META.c.key == "schema_version")
    ).scalar_one_or_none()
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise RegisterError(
            f"register {shown}: {META_TABLE}.schema_version is {value!r}, not a whole number; "
            "the register is damaged"
        ) from None


def migrate(connection: sa.Connection, version: int) -> int:
    """Run the migrations from ``version`` to :func:`current_version` in the open transaction."""
    target = current_version()
    for step in range(version, target):
        MIGRATIONS[step](connection)
    if target != version:
        _set_meta(connection, "schema_version", str(target))
    return target


def _set_meta(connection: sa.Connection, key: str, value: str) -> None:
    done = connection.execute(sa.update(META).where(META.c.key == key).values(value=value))
    if done.rowcount == 0:
        connection.execute(sa.insert(META).values(key=key, value=value))
