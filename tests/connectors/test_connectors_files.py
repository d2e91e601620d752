"""File connector: every format read as text, bad files reported as DataError."""

from __future__ import annotations

import gzip

import pandas as pd
import pytest

from csi_helpers.connectors import file_span, read_raw
from csi_helpers.errors import DataError
from csi_helpers.params import Source

# Texts a typed reader would change: leading zeros, trailing zeros, a date, blanks.
TEXT = pd.DataFrame(
    {
        "id": ["INC001", "INC002", "INC003"],
        "count": ["007", "1.50", None],
        "opened": ["2026-01-05 08:00", "05/01/2026", "2026-01-05T08:00:00+01:00"],
        "note": ['a, quoted "b"', "é ü 中", "NA"],
    }
)
CSV = (
    "id,count,opened,note\n"
    'INC001,007,2026-01-05 08:00,"a, quoted ""b"""\n'
    "INC002,1.50,05/01/2026,é ü 中\n"
    "INC003,,2026-01-05T08:00:00+01:00,NA\n"
)


def source(path, **kw) -> Source:
    return Source(name="s", kind="tickets", path=path, **kw)


def expected() -> pd.DataFrame:
    return TEXT.astype("string")


def write_jsonl(path) -> None:
    """The rows of TEXT; 1.50 as a JSON number whose text must survive ("007" is not JSON)."""
    lines = [
        '{"id": "INC001", "count": "007", "opened": "2026-01-05 08:00", '
        '"note": "a, quoted \\"b\\""}',
        '{"id": "INC002", "count": 1.50, "opened": "05/01/2026", "note": "é ü 中"}',
        '{"id": "INC003", "count": null, "opened": "2026-01-05T08:00:00+01:00", "note": "NA"}',
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.parametrize("name", ["t.csv", "t.csv.gz", "t.xlsx", "t.parquet", "t.jsonl"])
def test_every_format_round_trips_to_the_same_text(tmp_path, name):
    path = tmp_path / name
    if name == "t.csv":
        path.write_text(CSV, encoding="utf-8")
    elif name == "t.csv.gz":
        path.write_bytes(gzip.compress(CSV.encode()))
    elif name == "t.xlsx":
        TEXT.to_excel(path, index=False)
    elif name == "t.parquet":
        TEXT.to_parquet(path)
    else:
        write_jsonl(path)
    frame = read_raw(source(path))
    pd.testing.assert_frame_equal(frame, expected())
    sample = read_raw(source(path), nrows=2)
    pd.testing.assert_frame_equal(sample, expected().head(2))


def test_json_lines_keep_number_text_and_render_nested_values(tmp_path):
    path = tmp_path / "t.ndjson"
    path.write_text('{"a": 1.10, "b": true, "c": {"x": [1, 2]}}\n\n{"a": 2e3, "d": "y"}\n')
    frame = read_raw(source(path))
    assert frame.columns.tolist() == ["a", "b", "c", "d"]
    assert frame["a"].tolist() == ["1.10", "2e3"]
    assert frame["b"].tolist() == ["true", pd.NA]
    assert frame["c"].tolist() == ['{"x": [1, 2]}', pd.NA]


def test_parquet_typed_columns_become_text(tmp_path):
    path = tmp_path / "t.parquet"
    pd.DataFrame(
        {
            "n": [1, 2],
            "x": [0.5, None],
            "t": pd.to_datetime(["2026-01-05 08:00", "2026-01-06 09:30"], utc=True),
        }
    ).to_parquet(path)
    frame = read_raw(source(path))
    assert frame["n"].tolist() == ["1", "2"]
    assert frame["x"].tolist() == ["0.5", pd.NA]
    assert frame["t"].tolist() == ["2026-01-05T08:00:00+00:00", "2026-01-06T09:30:00+00:00"]


def test_byte_order_mark_is_dropped_silently(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + CSV.encode())
    frame = read_raw(source(path))
    assert frame.columns[0] == "id"
    pd.testing.assert_frame_equal(frame, expected())
    gz = tmp_path / "bom.csv.gz"
    gz.write_bytes(gzip.compress(b"\xef\xbb\xbf" + CSV.encode()))
    assert read_raw(source(gz)).columns[0] == "id"
    jl = tmp_path / "bom.jsonl"
    jl.write_bytes(b'\xef\xbb\xbf{"id": "A"}\n')
    assert read_raw(source(jl)).columns.tolist() == ["id"]


def test_header_only_file_gives_zero_rows(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("id,opened\n")
    frame = read_raw(source(path))
    assert len(frame) == 0 and frame.columns.tolist() == ["id", "opened"]


@pytest.mark.parametrize("name", ["e.csv", "e.jsonl", "e.parquet", "e.xlsx"])
def test_empty_file_names_the_file_and_says_export_again(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"")
    with pytest.raises(DataError, match=r"empty \(0 bytes\); export it again") as err:
        read_raw(source(path))
    assert str(path) in str(err.value)


def test_blank_csv_and_blank_jsonl_are_reported(tmp_path):
    (tmp_path / "b.csv").write_text("\n\n")
    with pytest.raises(DataError, match=r"no header row; export it again with a header"):
        read_raw(source(tmp_path / "b.csv"))
    (tmp_path / "b.jsonl").write_text("\n \n")
    with pytest.raises(DataError, match=r"no JSON records; export it again"):
        read_raw(source(tmp_path / "b.jsonl"))


def test_truncated_gzip_is_reported(tmp_path):
    path = tmp_path / "t.csv.gz"
    whole = gzip.compress((CSV * 200).encode())
    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(DataError, match=r"truncated or damaged gzip.*export it again") as err:
        read_raw(source(path))
    assert str(path) in str(err.value)


def test_non_utf8_names_the_byte_offset_and_suggests_utf8(tmp_path):
    path = tmp_path / "latin.csv"
    body = b"id,note\nA,ok\nB,caf\xe9\n"
    path.write_bytes(body)
    with pytest.raises(DataError) as err:
        read_raw(source(path))
    message = str(err.value)
    assert str(path) in message
    offset = body.index(b"\xe9")  # 18
    assert f"byte 0xe9 at offset {offset} (line 3)" in message
    assert "Re-export it as UTF-8" in message and "not supported yet" in message


def test_non_utf8_inside_gzip_offset_is_in_the_uncompressed_text(tmp_path):
    path = tmp_path / "latin.csv.gz"
    body = b"id\n\xff\n"
    path.write_bytes(gzip.compress(body))
    with pytest.raises(DataError, match=r"byte 0xff at offset 3 \(line 2\)"):
        read_raw(source(path))


def test_unreadable_excel_is_reported(tmp_path):
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    with pytest.raises(DataError, match=r"cannot read .*broken.xlsx as excel") as err:
        read_raw(source(path))
    assert "check the file" in str(err.value)


def test_legacy_xls_asks_for_xlsx(tmp_path):
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0" + b"\x00" * 100)
    with pytest.raises(DataError, match=r"legacy Excel \.xls; save it as \.xlsx"):
        read_raw(source(path))


@pytest.mark.parametrize(
    ("name", "content", "found"),
    [
        ("t.xlsx", CSV.encode(), "its content is text"),
        ("t.parquet", CSV.encode(), "its content is text"),
        ("t.csv", None, "its content is zip"),
        ("t.jsonl", b"PAR1" + b"\x00" * 20, "its content is parquet"),
    ],
)
def test_file_that_is_not_what_its_suffix_says(tmp_path, name, content, found):
    path = tmp_path / name
    if content is None:
        TEXT.to_excel(tmp_path / "real.xlsx", index=False)
        content = (tmp_path / "real.xlsx").read_bytes()
    path.write_bytes(content)
    with pytest.raises(DataError, match=found) as err:
        read_raw(source(path))
    assert str(path) in str(err.value) and "set `format` in params" in str(err.value)


def test_malformed_rows_are_reported_with_the_file(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("a,b\n1,2\n3,4,5\n")
    with pytest.raises(DataError, match=r"cannot read .*ragged.csv as csv.*line 3"):
        read_raw(source(path))
    jl = tmp_path / "bad.jsonl"
    jl.write_text('{"a": 1}\n{"a": \n')
    with pytest.raises(DataError, match=r"bad.jsonl line 2 is not JSON"):
        read_raw(source(jl))
    arr = tmp_path / "arr.jsonl"
    arr.write_text("[1, 2]\n")
    with pytest.raises(DataError, match=r"line 1 holds a list, not an object"):
        read_raw(source(arr))


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match=r"file not found.*check its path"):
        read_raw(source(tmp_path / "nope.csv"))


@pytest.mark.parametrize("name", ["t.csv.gz", "t.parquet"])
def test_file_span_reads_one_column(tmp_path, name):
    frame = pd.DataFrame({"opened": ["2026-01-07 10:00", "2026-01-05 08:00", "x"], "id": "a"})
    path = tmp_path / name
    if name.endswith(".gz"):
        path.write_bytes(gzip.compress(b"\xef\xbb\xbf" + frame.to_csv(index=False).encode()))
    else:
        frame.to_parquet(path)
    assert file_span(source(path), "opened") == (
        "2026-01-05T08:00:00+00:00",
        "2026-01-07T10:00:00+00:00",
    )
    assert file_span(source(path), None) == (None, None)
