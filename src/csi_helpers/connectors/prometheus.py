"""Prometheus sources: a PromQL range query over the cycle, every value kept as text.

``read_raw`` calls ``/api/v1/query_range`` with the source's ``query`` and
``step`` over a time window. The window is passed as ``start``/``end``
(timezone-aware datetimes, or dates: a date means its midnight UTC, and an
``end`` date is included whole); without them it is the last 7 days. Step 3
passes the cycle's window (:meth:`csi_helpers.params.Params.cycle_window`, whole days
in the service's time zone).

The result is long: one row per (series, timestamp), with ``timestamp`` as
ISO 8601 UTC text, one column per label, and ``value`` as the text Prometheus
returns (``"NaN"`` and ``"+Inf"`` included). Ranges longer than Prometheus'
11,000 points per series are fetched in consecutive pieces on the same step
grid. Any error raises :class:`~csi_helpers.errors.DataError` and returns
nothing: there is no partial snapshot.

The base URL may hold basic-auth credentials as ``https://user:${VAR}@host``;
they are expanded at the moment of reading, sent as an ``Authorization``
header, and masked everywhere else.
"""

from __future__ import annotations

import base64
import json
import math
import re
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd

from csi_helpers.errors import DataError, ParamsError
from csi_helpers.params import Source, expand_env

DEFAULT_WINDOW = timedelta(days=7)
MAX_POINTS_PER_QUERY = 10_000  # Prometheus refuses more than 11,000 points per series
_DURATION = re.compile(r"(\d+)(ms|s|m|h|d|w|y)")
_UNIT_SECONDS = {
    "ms": 0.001,
    "s": 1,
    "m": 60,
    "h": 3600,
    "d": 86400,
    "w": 7 * 86400,
    "y": 365 * 86400,
}
_RESERVED = ("timestamp", "value")


def read_raw(
    source: Source,
    *,
    nrows: int | None = None,
    start: datetime | date | None = None,
    end: datetime | date | None = None,
) -> pd.DataFrame:
    """Run a Prometheus range query and return one row per (series, timestamp).

    Args:
        source: a source with ``connector: prometheus``, ``url`` (the server's
            base URL), ``query`` (PromQL) and ``step`` (e.g. ``"5m"``).
        nrows: return only the first rows (for schema checks).
        start: first instant of the window (default: ``end`` minus 7 days).
        end: last instant of the window (default: now). A date means the end
            of that day, so a cycle's ``end`` date is included whole.

    Returns:
        Columns ``timestamp``, the labels (sorted by name; a label called
        ``timestamp`` or ``value`` becomes ``label_timestamp``/``label_value``)
        and ``value``, all of dtype ``string``; rows sorted by series, then time.

    Raises:
        DataError: the server is unreachable or slower than ``timeout_s``, it
            answers with an HTTP error or ``status: error`` (its message is
            quoted), or the window or step is invalid.

    Example:
        >>> src = Source(name="cpu", kind="monitoring", connector="prometheus",
        ...              url="http://127.0.0.1:1", query="up", step="1h", timeout_s=2)
        >>> read_raw(src)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        csi_helpers.errors.DataError: source 'cpu': cannot connect to http://127.0.0.1:1 ...
    """
    step_s = parse_step(source)
    t_end = _instant(end, is_end=True) if end is not None else datetime.now(UTC)
    t_start = _instant(start, is_end=False) if start is not None else t_end - DEFAULT_WINDOW
    if t_end < t_start:
        raise DataError(
            f"source {source.name!r}: the window ends ({t_end.isoformat()}) before it starts "
            f"({t_start.isoformat()}); check the cycle dates"
        )
    base, auth = _base_and_auth(source)
    series: dict[tuple[tuple[str, str], ...], list[tuple[float, str]]] = {}
    for chunk_start, chunk_end in _chunks(t_start.timestamp(), t_end.timestamp(), step_s):
        form = {
            "query": source.query or "",
            "start": _unix(chunk_start),
            "end": _unix(chunk_end),
            "step": _unix(step_s),
            "timeout": f"{source.timeout_s:g}s",
        }
        for item in _query_range(source, base, auth, form):
            key = tuple(sorted(item.get("metric", {}).items()))
            series.setdefault(key, []).extend((float(t), str(v)) for t, v in item["values"])
    frame = _long_table(series)
    return frame.head(nrows).reset_index(drop=True) if nrows is not None else frame


def describe(source: Source) -> dict[str, object]:
    """Provenance of a Prometheus read: the base URL (credentials masked), the PromQL and step."""
    return {
        "location": masked_url(source),
        "format": f"prometheus query_range (step {source.step})",
        "query": source.query,
    }


def parse_step(source: Source) -> float:
    """The source's ``step`` in seconds (Prometheus duration like ``1h30m``, or seconds).

    Raises:
        DataError: the step is missing, not a duration, or zero.
    """
    text = (source.step or "").strip()
    seconds: float | None = None
    try:
        seconds = float(text)
    except ValueError:
        parts = _DURATION.findall(text)
        if parts and "".join(n + u for n, u in parts) == text:
            seconds = sum(int(n) * _UNIT_SECONDS[u] for n, u in parts)
    if seconds is None or not math.isfinite(seconds) or seconds <= 0:
        raise DataError(
            f"source {source.name!r}: step {source.step!r} is not a duration; "
            "write it as Prometheus does, e.g. 30s, 5m, 1h or 1h30m"
        )
    return seconds


def masked_url(source: Source) -> str:
    """The base URL as params give it, with a password shown as ``***``."""
    return re.sub(r"(//[^/@:]*:)[^@/]*@", r"\1***@", source.url or "")


# --------------------------------------------------------------------------- HTTP


def _base_and_auth(source: Source) -> tuple[str, str | None]:
    try:
        url = expand_env(source.url or "", key=f"sources[{source.name}].url")
    except ParamsError as exc:
        raise DataError(f"source {source.name!r}: {exc}") from None
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DataError(
            f"source {source.name!r}: url {masked_url(source)!r} is not an http(s) URL; "
            "give Prometheus' base URL, e.g. http://prometheus.example:9090"
        )
    auth = None
    if parts.username is not None:
        user = urllib.parse.unquote(parts.username)
        password = urllib.parse.unquote(parts.password or "")
        auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    netloc = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    netloc += f":{parts.port}" if parts.port else ""
    path = parts.path.rstrip("/") + "/api/v1/query_range"
    return urllib.parse.urlunsplit((parts.scheme, netloc, path, "", "")), auth


def _query_range(
    source: Source, endpoint: str, auth: str | None, form: dict[str, str]
) -> list[dict[str, Any]]:
    shown = masked_url(source)
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
    if auth:
        headers["Authorization"] = auth
    request = urllib.request.Request(
        endpoint, data=urllib.parse.urlencode(form).encode(), headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=source.timeout_s) as response:
            body = response.read()
    except urllib.error.HTTPError as exc:
        message = _api_error(exc.read()) or exc.reason
        raise DataError(
            f"source {source.name!r}: Prometheus at {shown} answered HTTP {exc.code}: {message}; "
            "check `query` and `step` in params"
        ) from None
    except TimeoutError:
        raise _timeout(source, shown) from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, TimeoutError):
            raise _timeout(source, shown) from None
        if isinstance(reason, ConnectionRefusedError):
            raise DataError(
                f"source {source.name!r}: cannot connect to {shown} (connection refused): "
                f"is Prometheus running at {shown}?"
            ) from None
        raise DataError(
            f"source {source.name!r}: cannot connect to {shown} ({reason}): "
            "check the host name and port in `url`"
        ) from None
    except OSError as exc:
        raise DataError(
            f"source {source.name!r}: reading from {shown} failed ({exc}); try again"
        ) from None
    try:
        payload = json.loads(body)
    except ValueError:
        raise DataError(
            f"source {source.name!r}: {shown} did not answer with Prometheus' JSON API; "
            "check that `url` is Prometheus' base URL"
        ) from None
    if payload.get("status") != "success":
        raise DataError(
            f"source {source.name!r}: Prometheus at {shown} refused the query: "
            f"{payload.get('error', payload)}; check `query` in params"
        )
    data = payload.get("data", {})
    if data.get("resultType") != "matrix":
        raise DataError(
            f"source {source.name!r}: expected a range vector (matrix) from {shown}, "
            f"got {data.get('resultType')!r}"
        )
    return data.get("result", [])


def _api_error(body: bytes) -> str | None:
    try:
        payload = json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace").strip()[:300] or None
    if isinstance(payload, dict) and payload.get("error"):
        kind = payload.get("errorType")
        return f"{kind}: {payload['error']}" if kind else str(payload["error"])
    return None


def _timeout(source: Source, shown: str) -> DataError:
    return DataError(
        f"source {source.name!r}: Prometheus at {shown} did not answer within "
        f"{source.timeout_s:g} s; raise `timeout_s`, use a coarser `step`, or check the server"
    )


# --------------------------------------------------------------------------- shaping


def _instant(value: datetime | date, *, is_end: bool) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise DataError(
                f"Prometheus window {value.isoformat()} has no time zone; pass an aware datetime"
            )
        return value.astimezone(UTC)
    day = value + timedelta(days=1) if is_end else value
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _chunks(start: float, end: float, step: float) -> list[tuple[float, float]]:
    """Consecutive [start, end] pieces of at most MAX_POINTS_PER_QUERY points, same grid."""
    pieces = []
    total = math.floor((end - start) / step + 1e-9) + 1
    for first in range(0, total, MAX_POINTS_PER_QUERY):
        last = min(first + MAX_POINTS_PER_QUERY, total) - 1
        pieces.append((start + first * step, start + last * step))
    return pieces


def _unix(seconds: float) -> str:
    return f"{seconds:.3f}".rstrip("0").rstrip(".")


def _iso(seconds: float) -> str:
    stamp = datetime.fromtimestamp(round(seconds, 3), UTC)
    spec = "milliseconds" if stamp.microsecond else "seconds"
    return stamp.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


def _long_table(series: dict[tuple[tuple[str, str], ...], list[tuple[float, str]]]) -> pd.DataFrame:
    names = sorted({name for key in series for name, _ in key})
    columns = {n: f"label_{n}" if n in _RESERVED else n for n in names}
    rows = []
    for key in sorted(series):
        labels = dict(key)
        seen: dict[float, str] = {}
        for t, v in series[key]:
            seen.setdefault(t, v)
        for t in sorted(seen):
            rows.append([_iso(t), *(labels.get(n, pd.NA) for n in names), seen[t]])
    return pd.DataFrame(
        rows, columns=["timestamp", *(columns[n] for n in names), "value"], dtype="string"
    )
