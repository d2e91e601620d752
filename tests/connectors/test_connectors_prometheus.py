"""The Prometheus connector against a real server holding a known series."""

from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from prometheus_server import free_port, prometheus  # noqa: F401 (session fixture)

from csi_helpers.connectors import prometheus as prom
from csi_helpers.errors import DataError
from csi_helpers.params import Source


def make_source(url: str, query: str, *, step: str = "5m", timeout_s: float = 10) -> Source:
    return Source(
        name="inflight",
        kind="monitoring",
        connector="prometheus",
        url=url,
        query=query,
        step=step,
        timeout_s=timeout_s,
    )


def loaded_rows(known) -> list[tuple[str, str, str]]:
    return [
        (prom._iso(t), instance, value)
        for instance in sorted(known.samples)
        for t, value in known.samples[instance]
    ]


def test_reads_back_every_loaded_sample(prometheus):  # noqa: F811
    known = prometheus.known
    source = make_source(prometheus.url, known.metric)
    frame = prom.read_raw(source, start=known.first, end=known.last)
    assert list(frame.columns) == ["timestamp", "__name__", "instance", "job", "value"]
    assert set(frame.dtypes.astype(str)) == {"string"}
    assert list(zip(frame["timestamp"], frame["instance"], frame["value"], strict=True)) == (
        loaded_rows(known)
    )
    assert set(frame["job"]) == {"csi-test"} and set(frame["__name__"]) == {known.metric}
    assert frame["timestamp"].iloc[0] == known.first.strftime("%Y-%m-%dT%H:%M:%SZ")
    # the planted pattern survives: busy hours at 40, quiet at 10 (web-1)
    web1 = frame[frame["instance"] == "web-1"]
    hours = web1["timestamp"].str[11:13].astype(int)
    assert set(web1.loc[hours.between(9, 16), "value"]) == {"40"}
    assert set(web1.loc[~hours.between(9, 16), "value"]) == {"10"}
    print(f"prometheus fixture startup: {prometheus.startup_s} s")


def test_long_ranges_are_fetched_in_pieces_on_the_same_grid(prometheus, monkeypatch):  # noqa: F811
    known = prometheus.known
    source = make_source(prometheus.url, f'{known.metric}{{instance="web-2"}}')
    whole = prom.read_raw(source, start=known.first, end=known.last)
    monkeypatch.setattr(prom, "MAX_POINTS_PER_QUERY", 37)
    pieces = prom.read_raw(source, start=known.first, end=known.last)
    assert pieces.equals(whole) and len(whole) == len(known.samples["web-2"])


def test_aggregation_labels_nrows_and_empty_result(prometheus):  # noqa: F811
    known = prometheus.known
    summed = prom.read_raw(
        make_source(prometheus.url, f"sum by (job) ({known.metric})", step="1h"),
        start=known.first,
        end=known.last,
    )
    assert list(summed.columns) == ["timestamp", "job", "value"]
    sample = prom.read_raw(
        make_source(prometheus.url, known.metric), nrows=5, start=known.first, end=known.last
    )
    assert len(sample) == 5
    empty = prom.read_raw(make_source(prometheus.url, "no_such_metric"), start=known.first)
    assert empty.empty and list(empty.columns) == ["timestamp", "value"]


def stamp(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_the_fixture_holds_more_than_the_default_window(prometheus):  # noqa: F811
    known = prometheus.known
    assert known.last - known.first > timedelta(days=8)  # the default window is 7 days
    assert known.last > datetime.now(UTC) - timedelta(days=1)


def test_default_window_is_the_last_seven_days(prometheus):  # noqa: F811
    """The fixture holds 9 days, so the first point returned is where the window starts:
    7 days before the call (Prometheus evaluates the range at start, start + step, ...)."""
    known = prometheus.known
    source = make_source(prometheus.url, f'{known.metric}{{instance="web-1"}}', step="1h")
    before = datetime.now(UTC)
    frame = prom.read_raw(source)
    after = datetime.now(UTC)
    first = stamp(frame["timestamp"].iloc[0])
    slack = timedelta(milliseconds=1)  # start is sent to the millisecond
    assert before - timedelta(days=7) - slack <= first <= after - timedelta(days=7) + slack
    assert first - known.first > timedelta(days=1)  # older samples exist and are not read
    # one point an hour from there to the last sample (5 minutes' look-back beyond it)
    last = stamp(frame["timestamp"].iloc[-1])
    assert known.last <= last + timedelta(hours=1) and last <= known.last + timedelta(minutes=5)
    assert len(frame) == (last - first) // timedelta(hours=1) + 1


def test_window_with_only_an_end_starts_seven_days_before_it(prometheus):  # noqa: F811
    known = prometheus.known
    source = make_source(prometheus.url, f'{known.metric}{{instance="web-1"}}', step="5m")
    frame = prom.read_raw(source, end=known.last)
    start = known.last - timedelta(days=7)
    assert frame["timestamp"].iloc[0] == start.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert frame["timestamp"].iloc[-1] == known.last.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert len(frame) == 7 * 24 * 12 + 1  # 5-minute points, both ends included


def test_promql_syntax_error_quotes_prometheus(prometheus):  # noqa: F811
    source = make_source(prometheus.url, "sum(rate(http_requests_total[5m])")
    with pytest.raises(DataError, match=r"source 'inflight'.*HTTP 400.*bad_data.*parse error"):
        prom.read_raw(source)


def test_wrong_port_fails_with_a_hint():
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(DataError, match=rf"is Prometheus running at {url}\?"):
        prom.read_raw(make_source(url, "up"))


class _Slow(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        time.sleep(3)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


class _StatusError(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = b'{"status":"error","errorType":"execution","error":"query timed out"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def fake_server():
    servers = []

    def start(handler: type[BaseHTTPRequestHandler]) -> str:
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_timeout_names_the_url_and_the_limit(fake_server):
    url = fake_server(_Slow)
    t0 = time.perf_counter()
    with pytest.raises(DataError, match=rf"{url} did not answer within 0.5 s"):
        prom.read_raw(make_source(url, "up", timeout_s=0.5))
    assert time.perf_counter() - t0 < 2.5


def test_status_error_is_reported_and_nothing_returned(fake_server):
    url = fake_server(_StatusError)
    with pytest.raises(DataError, match="refused the query: query timed out"):
        prom.read_raw(make_source(url, "up"))


def test_invalid_step_window_and_credentials_masked(monkeypatch):
    with pytest.raises(DataError, match="step '5 minutes' is not a duration"):
        prom.read_raw(make_source("http://127.0.0.1:1", "up", step="5 minutes"))
    with pytest.raises(DataError, match=r"ends .* before it starts"):
        prom.read_raw(
            make_source("http://127.0.0.1:1", "up"), start=date(2026, 2, 1), end=date(2026, 1, 1)
        )
    monkeypatch.setenv("CSI_PROM_PW", "hunter2-prom")
    port = free_port()
    source = make_source(f"http://alice:${{CSI_PROM_PW}}@127.0.0.1:{port}", "up")
    with pytest.raises(DataError) as caught:
        prom.read_raw(source)
    assert "hunter2-prom" not in str(caught.value) and "alice:***@" in str(caught.value)
    assert prom.describe(source)["location"] == f"http://alice:***@127.0.0.1:{port}"


def test_step_parsing():
    seconds = {"30s": 30, "5m": 300, "1h30m": 5400, "90": 90, "1.5": 1.5, "500ms": 0.5}
    for text, expected in seconds.items():
        assert prom.parse_step(make_source("http://x", "up", step=text)) == expected
    assert prom._chunks(0, 100, 10) == [(0, 100)]
