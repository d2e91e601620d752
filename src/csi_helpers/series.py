"""Deprecated: ``csi_helpers.series``, a module path of 0.1 (see :mod:`csi_helpers.compat`).

Its contents live in :mod:`csi_helpers.processing.series`
and the modules ``compat.ALIASES`` names; the alias keeps notebooks written for
csi-workbook 0.1 working for one release.
"""

from csi_helpers.compat import ALIASES, moved
from csi_helpers.processing import series as _series
from csi_helpers.processing.series import GRAINS, TICKET_DIMENSIONS  # noqa: F401
from csi_helpers.report.charts import WEEKDAYS  # noqa: F401

moved(__name__, *ALIASES[__name__])


def _tables(engine, **paths):
    from csi_helpers.processing import engines

    con = engines.connect(engine)
    return {k: None if p is None else con.read_parquet(str(p)) for k, p in paths.items()}


def daily_series(
    *, start, end, timezone, monitoring=None, tickets=None, downtime=None, engine=None
):
    """0.1's signature: the canonical tables as Parquet paths."""
    tables = _tables(engine, monitoring=monitoring, tickets=tickets, downtime=downtime)
    return _series.daily_series(start=start, end=end, timezone=timezone, **tables)


def hourly_series(*, start, end, monitoring=None, tickets=None, downtime=None, engine=None):
    """0.1's signature: the canonical tables as Parquet paths."""
    tables = _tables(engine, monitoring=monitoring, tickets=tickets, downtime=downtime)
    return _series.hourly_series(start=start, end=end, **tables)


def weekday_hour_profile(monitoring, *, start, end, timezone, engine=None):
    """0.1's signature: the monitoring table as a Parquet path."""
    table = _tables(engine, monitoring=monitoring)["monitoring"]
    return _series.weekday_hour_profile(table, start=start, end=end, timezone=timezone)


def ticket_series(tickets, *, start, end, timezone, grain="day", by=(), engine=None):
    """0.1's signature: the tickets table as a Parquet path."""
    table = _tables(engine, tickets=tickets)["tickets"]
    return _series.ticket_series(table, start=start, end=end, timezone=timezone, grain=grain, by=by)


def monitoring_series(
    monitoring, *, start, end, timezone, grain="day", by_service=False, engine=None
):
    """0.1's signature: the monitoring table as a Parquet path."""
    table = _tables(engine, monitoring=monitoring)["monitoring"]
    return _series.monitoring_series(
        table, start=start, end=end, timezone=timezone, grain=grain, by_service=by_service
    )
