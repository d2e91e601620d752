"""XES event logs read as text: one row per event, trace attributes as ``case:`` columns."""

from __future__ import annotations

import gzip

import pandas as pd
import pytest

from csi_helpers.connectors import describe, file_span, read_header, read_raw
from csi_helpers.connectors.files import read_raw_chunks
from csi_helpers.errors import DataError
from csi_helpers.params import Source

# Two tickets; INC1's priority comes after its events (XES allows it), INC2 has no
# priority and its second event no timestamp; a resource first appears in event 3.
XES = """\
<?xml version="1.0" encoding="UTF-8"?>
<log xes.version="1.0" xmlns="http://www.xes-standard.org/">
  <extension name="Concept" prefix="concept" uri="http://www.xes-standard.org/concept.xesext"/>
  <global scope="event"><string key="concept:name" value="__INVALID__"/></global>
  <classifier name="Activity" keys="concept:name"/>
  <string key="concept:name" value="helpdesk export"/>
  <trace>
    <string key="concept:name" value="INC1"/>
    <event>
      <string key="concept:name" value="New"/>
      <date key="time:timestamp" value="2026-01-05T08:00:00.000+01:00"/>
      <string key="lifecycle:transition" value="complete"/>
    </event>
    <event>
      <string key="concept:name" value="Resolved"/>
      <date key="time:timestamp" value="2026-01-05T14:00:00.000+01:00"/>
      <string key="org:resource" value="Zoë"/>
    </event>
    <int key="priority" value="007"/>
  </trace>
  <trace>
    <string key="concept:name" value="INC2"/>
    <event>
      <string key="concept:name" value="New"/>
      <date key="time:timestamp" value="2026-01-06T09:30:00.000+00:00"/>
    </event>
    <event><string key="concept:name" value="Closed"/><string key="note" value=""/></event>
  </trace>
</log>
"""

EXPECTED = pd.DataFrame(
    {
        "case:concept:name": ["INC1", "INC1", "INC2", "INC2"],
        "case:priority": ["007", "007", None, None],
        "concept:name": ["New", "Resolved", "New", "Closed"],
        "time:timestamp": [
            "2026-01-05T08:00:00.000+01:00",
            "2026-01-05T14:00:00.000+01:00",
            "2026-01-06T09:30:00.000+00:00",
            None,
        ],
        "lifecycle:transition": ["complete", None, None, None],
        "org:resource": [None, "Zoë", None, None],
    }
).astype("string")


def source(path, **kw) -> Source:
    return Source(name="log", kind="ticket_events", path=path, **kw)


@pytest.mark.parametrize("name", ["log.xes", "log.xes.gz", "log.XES"])
def test_xes_reads_one_row_per_event_with_case_columns(tmp_path, name):
    path = tmp_path / name
    data = XES.encode()
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    assert source(path).file_format == "xes"
    pd.testing.assert_frame_equal(read_raw(source(path)), EXPECTED)
    assert describe(source(path)) == {"location": str(path), "format": "xes", "query": None}


def test_chunks_have_every_column_and_add_up_to_the_whole(tmp_path):
    path = tmp_path / "log.xes"
    path.write_text(XES, encoding="utf-8")
    chunks = list(read_raw_chunks(source(path), chunk_rows=3))
    assert [c.index.tolist() for c in chunks] == [[0, 1, 2], [3]]
    assert all(c.columns.tolist() == EXPECTED.columns.tolist() for c in chunks)
    pd.testing.assert_frame_equal(pd.concat(chunks), EXPECTED)
    two = list(read_raw_chunks(source(path), chunk_rows=2))
    assert [c.index.tolist() for c in two] == [[0, 1], [2, 3]]


def test_a_sample_still_has_every_column_of_the_file(tmp_path):
    """The header step 2 checks the mapping against: a key first used late is in it."""
    path = tmp_path / "log.xes"
    path.write_text(XES, encoding="utf-8")
    sample = read_raw(source(path), nrows=1)
    pd.testing.assert_frame_equal(sample, EXPECTED.head(1))
    assert read_header(source(path)) == EXPECTED.columns.tolist()


def test_nested_attributes_lists_and_events_outside_traces(tmp_path):
    path = tmp_path / "nested.xes"
    path.write_text(
        '<log xes.version="2.0">'
        '<event><string key="concept:name" value="Maintenance"/></event>'
        '<trace><string key="concept:name" value="INC9"/>'
        '<container key="customer"><string key="name" value="ACME"/>'
        '<int key="tier" value="1"/></container>'
        '<event><string key="concept:name" value="New"/>'
        '<float key="cost" value="3.50"><string key="currency" value="EUR"/></float>'
        '<list key="tags"><values><string key="tag" value="vip"/>'
        '<string key="tag" value="web"/></values></list></event>'
        "</trace></log>"
    )
    frame = read_raw(source(path))
    assert frame.to_dict("records") == [
        {
            "case:concept:name": None,
            "case:customer.name": None,
            "case:customer.tier": None,
            "concept:name": "Maintenance",
            "cost": None,
            "cost.currency": None,
            "tags": None,
        },
        {
            "case:concept:name": "INC9",
            "case:customer.name": "ACME",
            "case:customer.tier": "1",
            "concept:name": "New",
            "cost": "3.50",
            "cost.currency": "EUR",
            "tags": '["vip", "web"]',
        },
    ]


@pytest.mark.parametrize("gzipped", [False, True])
def test_malformed_xes_names_the_file_and_line(tmp_path, gzipped):
    broken = XES.replace("</event>\n    <int", "</evnt>\n    <int")
    path = tmp_path / ("bad.xes.gz" if gzipped else "bad.xes")
    path.write_bytes(gzip.compress(broken.encode()) if gzipped else broken.encode())
    with pytest.raises(DataError, match=r"not well-formed XES: mismatched tag at line 18") as err:
        read_raw(source(path))
    assert str(err.value).startswith(f"source 'log': {path} ")
    assert ("uncompressed" in str(err.value)) is gzipped
    with pytest.raises(DataError, match=r"line 18"):
        list(read_raw_chunks(source(path), chunk_rows=2))


def test_truncated_xes_and_bad_attributes_are_data_errors(tmp_path):
    path = tmp_path / "cut.xes"
    path.write_text(XES[: XES.index('  <trace>\n    <string key="concept:name" value="INC2')])
    with pytest.raises(
        DataError, match=r"cut.xes is not well-formed XES: no element found at line 21"
    ):
        read_raw(source(path))
    path.write_text('<log><trace><event><string value="x"/></event></trace></log>')
    with pytest.raises(DataError, match=r"trace 1, event 1 has a <string> attribute without a key"):
        read_raw(source(path))
    path.write_text('<log><trace><string key="concept:name" value="A"/></trace></log>')
    with pytest.raises(DataError, match=r"holds no XES events"):
        read_raw(source(path))
    path.write_text("<html><body/></html>")
    with pytest.raises(DataError, match=r"root element is <html>, not <log>"):
        read_raw(source(path))
    path.write_bytes(b"PAR1" + b"\0" * 20)
    with pytest.raises(DataError, match=r"read as xes .* its content is parquet"):
        read_raw(source(path))


def test_format_xes_in_params_reads_a_file_of_any_name(tmp_path):
    path = tmp_path / "export.txt"
    path.write_text(XES, encoding="utf-8")
    assert source(path).file_format == "csv"
    pd.testing.assert_frame_equal(read_raw(source(path, format="xes")), EXPECTED)


def test_file_span_of_an_xes_column(tmp_path):
    path = tmp_path / "log.xes.gz"
    path.write_bytes(gzip.compress(XES.encode()))
    assert file_span(source(path), "time:timestamp") == (
        "2026-01-05T07:00:00+00:00",
        "2026-01-06T09:30:00+00:00",
    )
