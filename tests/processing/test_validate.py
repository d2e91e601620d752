"""Canonical typing: quarantine reasons with values, time zones, bounds, ledger, schemas."""

from __future__ import annotations

import pandas as pd
import pytest

from csi_helpers.errors import DataError
from csi_helpers.processing.ledger import ledger_entry
from csi_helpers.processing.validate import canonical_table
from csi_helpers.tables.canonical import CANONICAL
from csi_helpers.tables.schemas import BOUNDS, table_schema, validate_table


def src(kind: str, **kw):
    from csi_helpers.params import Source

    return Source(name="s", kind=kind, path="s.csv", **kw)


def reasons(quarantine: pd.DataFrame) -> dict[int, str]:
    return dict(zip(quarantine["source_row"], quarantine["reason"], strict=True))


def test_wrong_values_are_quarantined_with_column_and_value():
    raw = pd.DataFrame(
        {
            "ticket_id": ["A", "B", "C", "D", "E", "F"],
            "opened_at": ["2026-01-05 10:00", "31/02/2026 10:00", *["2026-01-05"] * 4],
            "reassignment_count": ["1", "0", "two", "1.5", "-1", None],
            "made_sla": ["yes", "no", "true", "1", "0", "maybe"],
        }
    )
    before = raw.copy()
    table, quarantine = canonical_table(raw, src("tickets"))
    pd.testing.assert_frame_equal(raw, before)  # the caller's frame is not modified
    assert table["ticket_id"].tolist() == ["A"]
    assert reasons(quarantine) == {
        2: "unparseable opened_at: '31/02/2026 10:00'",
        3: "not a number in reassignment_count: 'two'",
        4: "not a whole number in reassignment_count: '1.5'",
        5: "out of range reassignment_count: '-1' (allowed at least 0)",
        6: "not true/false in made_sla: 'maybe'",
    }
    assert quarantine.loc[0, "opened_at"] == "31/02/2026 10:00"  # raw text kept


def test_mixed_time_zones_naive_in_source_zone_offsets_kept_all_utc():
    raw = pd.DataFrame(
        {
            "ticket_id": ["A", "B", "C", "D"],
            "opened_at": [
                "2026-01-05 10:00",  # naive: Paris winter time, UTC+1
                "2026-01-05T10:00:00Z",
                "2026-01-05 10:00-05:00",
                "2026-07-05 10:00",  # naive: Paris summer time, UTC+2
            ],
        }
    )
    table, quarantine = canonical_table(raw, src("tickets", timezone="Europe/Paris"))
    assert quarantine.empty
    assert str(table["opened_at"].dtype) == "datetime64[us, UTC]"
    assert table["opened_at"].dt.strftime("%Y-%m-%d %H:%M").tolist() == [
        "2026-01-05 09:00",
        "2026-01-05 10:00",
        "2026-01-05 15:00",
        "2026-07-05 08:00",
    ]


def test_mixed_zones_with_a_custom_format():
    raw = pd.DataFrame({"ticket_id": ["A", "B"], "opened_at": ["05/01/2026 10:00 +0100", "x"]})
    s = src("tickets", timestamp_format="%d/%m/%Y %H:%M %z", timezone="America/New_York")
    table, quarantine = canonical_table(raw, s)
    assert table["opened_at"].dt.hour.tolist() == [9]
    assert reasons(quarantine) == {2: "unparseable opened_at: 'x'"}


def test_ignore_offsets_reads_wrongly_stamped_times_as_local_wall_clock():
    """An export that stamps Amsterdam wall-clock times "+00:00" (issue 18): with
    ignore_offsets the offsets go and each time is read in the source's zone, so winter
    times move 1 h and summer times 2 h back to UTC; without it the stamps stand."""
    raw = pd.DataFrame(
        {
            "ticket_id": ["A", "B", "C", "D"],
            "opened_at": [
                "2026-01-05T10:00:00+00:00",
                "2026-07-05 10:00Z",
                "2026-07-05T10:00:30.5+00:00",
                "2026-01-06",  # a date alone keeps its day
            ],
        }
    )
    wrong = src("tickets", timezone="Europe/Amsterdam")
    table, _ = canonical_table(raw, wrong)
    shown = table["opened_at"].dt.strftime("%Y-%m-%d %H:%M").tolist()
    assert shown == ["2026-01-05 10:00", "2026-07-05 10:00", "2026-07-05 10:00", "2026-01-05 23:00"]
    fixed = src("tickets", timezone="Europe/Amsterdam", ignore_offsets=True)
    table, quarantine = canonical_table(raw, fixed)
    assert quarantine.empty
    shown = table["opened_at"].dt.strftime("%Y-%m-%d %H:%M").tolist()
    assert shown == ["2026-01-05 09:00", "2026-07-05 08:00", "2026-07-05 08:00", "2026-01-05 23:00"]
    custom = src(
        "tickets", timezone="Europe/Amsterdam", ignore_offsets=True,
        timestamp_format="%d/%m/%Y %H:%M %z",
    )  # fmt: skip
    table, _ = canonical_table(
        pd.DataFrame({"ticket_id": ["A"], "opened_at": ["05/07/2026 10:00 +0000"]}), custom
    )
    assert table["opened_at"].dt.strftime("%H:%M").tolist() == ["08:00"]


def test_local_time_skipped_by_daylight_saving_is_named():
    raw = pd.DataFrame({"ticket_id": ["A"], "opened_at": ["2026-03-29 02:30"]})
    _, quarantine = canonical_table(raw, src("tickets", timezone="Europe/Paris"))
    assert reasons(quarantine) == {
        1: "nonexistent or ambiguous local time in opened_at (Europe/Paris): '2026-03-29 02:30'"
    }


def test_duplicate_ids_keep_the_first_usable_row():
    raw = pd.DataFrame(
        {
            "ticket_id": ["A", "A", "B", "B", "B"],
            "opened_at": ["2026-01-05", "2026-01-06", "bad", "2026-01-07", "2026-01-08"],
        }
    )
    table, quarantine = canonical_table(raw, src("tickets"))
    assert table["ticket_id"].tolist() == ["A", "B"]
    assert table["opened_at"].dt.day.tolist() == [5, 7]
    assert reasons(quarantine) == {
        2: "duplicate ticket_id: 'A'",
        3: "unparseable opened_at: 'bad'",
        5: "duplicate ticket_id: 'B'",
    }


def test_times_running_backwards_are_quarantined():
    tickets = pd.DataFrame(
        {
            "ticket_id": ["A", "B"],
            "opened_at": ["2026-01-05 10:00"] * 2,
            "resolved_at": ["2026-01-05 09:00", "2026-01-05 11:00"],
        }
    )
    _, quarantine = canonical_table(tickets, src("tickets"))
    assert reasons(quarantine) == {1: "resolved before opened"}
    downtime = pd.DataFrame(
        {"start": ["2026-01-05 10:00", "2026-01-05 10:00"], "end": ["2026-01-05 09:59", None]}
    )
    table, quarantine = canonical_table(downtime, src("downtime"))
    assert reasons(quarantine) == {1: "ends before it starts", 2: "missing end"}
    assert table.empty


@pytest.mark.parametrize(
    ("kind", "column", "bad", "good"),
    [
        ("monitoring", "error_rate", "1.5", "0.02"),
        ("monitoring", "error_rate", "-0.1", "0"),
        ("monitoring", "utilisation", "-3", "1.4"),
        ("monitoring", "requests", "-1", "0"),
        ("survey", "score", "11", "5"),
        ("ticket_events", "reopen_count", "-2", "3"),
    ],
)
def test_values_out_of_range(kind, column, bad, good):
    time = {"monitoring": "timestamp", "survey": "sent_at", "ticket_events": "updated_at"}[kind]
    raw = pd.DataFrame({time: ["2026-01-05 10:00"] * 2, column: [bad, good]})
    if kind == "ticket_events":
        raw["ticket_id"] = ["A", "A"]
    table, quarantine = canonical_table(raw, src(kind))
    assert quarantine["reason"].tolist()[0].startswith(f"out of range {column}: {bad!r}")
    assert table[column].astype(float).tolist() == [float(good)]


def test_ledger_counts_add_up_per_reason():
    raw = pd.DataFrame(
        {
            "ticket_id": ["A", "B", "C", "C", None, "E"],
            "opened_at": ["2026-01-05", "x", "y", "2026-01-05", "2026-01-05", "2026-01-05"],
        }
    )
    s = src("tickets")
    _, quarantine = canonical_table(raw, s)
    rows = pd.DataFrame(ledger_entry(s, raw, quarantine))
    summary, detail = rows.iloc[0], rows.iloc[1:].set_index("reason")
    assert (summary["rows_in"], summary["rows_out"]) == (6, 3)
    assert detail["rows"].to_dict() == {"unparseable opened_at": 2, "missing ticket_id": 1}
    assert summary["rows_in"] == summary["rows_out"] + detail["rows"].sum()
    assert detail.loc["unparseable opened_at", "example"] == "row 2: 'x'"
    assert set(detail["level"]) == {"quarantined"}


def test_unknown_event_states_are_kept_and_counted_as_a_warning():
    raw = pd.DataFrame(
        {
            "ticket_id": ["A", "A", "A", "B"],
            "updated_at": ["2026-01-05 08:00", "2026-01-05 09:00", "bad", "2026-01-05 10:00"],
            "state": ["New", "Triage", "Triage", "-100"],
        }
    )
    s = src("ticket_events")
    table, quarantine = canonical_table(raw, s)
    assert table["state"].tolist() == ["New", "Triage", "-100"]  # kept, not quarantined
    rows = pd.DataFrame(ledger_entry(s, raw, quarantine))
    warning = rows[rows["level"] == "warning"].iloc[0]
    assert warning["rows"] == 2  # the quarantined "Triage" row is not counted again
    assert warning["example"] == "'Triage' (1), '-100' (1)"
    assert "unknown state" in warning["reason"]
    quarantined = rows.loc[rows["level"] == "quarantined", "rows"].sum()
    assert rows.loc[0, "rows_in"] == rows.loc[0, "rows_out"] + quarantined


def test_no_warning_when_every_state_is_known():
    raw = pd.DataFrame({"ticket_id": ["A"], "updated_at": ["2026-01-05"], "state": ["New"]})
    s = src("ticket_events")
    rows = ledger_entry(s, raw, canonical_table(raw, s)[1])
    assert [r["level"] for r in rows] == [None]


@pytest.mark.parametrize("kind", sorted(CANONICAL))
def test_every_kind_output_validates_even_when_empty(kind):
    key_text = {"string": "k", "datetime": "2026-01-05 10:00", "float": "1", "int": "1"}
    columns = {name: key_text.get(t, "true") for name, t in CANONICAL[kind].items()}
    raw = pd.DataFrame([columns, {n: None for n in columns}])
    table, quarantine = canonical_table(raw, src(kind))
    assert len(table) + len(quarantine) == 2 and len(table) >= 1
    validate_table(kind, table)
    validate_table(kind, table.iloc[0:0])


def test_validate_table_rejects_a_wrong_type_naming_the_column():
    raw = pd.DataFrame({"timestamp": ["2026-01-05 10:00"], "error_rate": ["0.1"]})
    table, _ = canonical_table(raw, src("monitoring"))
    with pytest.raises(DataError, match=r"column 'error_rate'.*report it as a bug"):
        validate_table("monitoring", table.assign(error_rate=["0.1"]))


def test_validate_table_rejects_out_of_range_and_missing_keys():
    raw = pd.DataFrame({"timestamp": ["2026-01-05 10:00"], "error_rate": ["0.1"]})
    table, _ = canonical_table(raw, src("monitoring"))
    bad = table.assign(error_rate=pd.array([2.0], dtype="Float64"))
    with pytest.raises(DataError, match=r"column 'error_rate' fails .*at most 1"):
        validate_table("monitoring", bad)
    with pytest.raises(DataError, match=r"column 'timestamp'"):
        validate_table(
            "monitoring",
            table.assign(timestamp=pd.Series([pd.NaT], dtype=table["timestamp"].dtype)),
        )


def test_schema_bounds_are_the_quarantine_bounds():
    for kind, columns in BOUNDS.items():
        schema = table_schema(kind)
        for column in columns:
            assert schema.columns[column].checks, (kind, column)


@pytest.mark.parametrize("value", ["inf", "-inf", "Infinity", "1e309", "-1e309"])
def test_infinite_numbers_are_quarantined_like_nan(value):
    """``inf``, ``Infinity`` and ``1e309`` (float overflow) used to be kept: one such hourly
    utilisation made the demo's peak utilisation infinite instead of 44.87 %."""
    from csi_helpers.kpis import LIBRARY

    hours = [f"2026-07-01 {h:02d}:00" for h in range(3)]
    raw = pd.DataFrame(
        {
            "timestamp": hours,
            "utilisation": ["0.25", value, "0.5"],
            "latency_ms": ["80", "90", value],
        }
    )
    s = src("monitoring")
    table, quarantine = canonical_table(raw, s)
    assert reasons(quarantine) == {
        2: f"not a finite number in utilisation: {value!r}",
        3: f"not a finite number in latency_ms: {value!r}",
    }
    detail = pd.DataFrame(ledger_entry(s, raw, quarantine)).set_index("reason")["rows"]
    assert detail.dropna().to_dict() == {
        "not a finite number in utilisation": 1,
        "not a finite number in latency_ms": 1,
    }
    peak = LIBRARY["peak_utilisation"](
        table, start=pd.Timestamp("2026-07-01", tz="UTC"), end=pd.Timestamp("2026-07-02", tz="UTC")
    )
    assert (peak.value, peak.n) == (25.0, 1)


def test_an_infinite_whole_number_is_quarantined_not_out_of_range():
    raw = pd.DataFrame(
        {"ticket_id": ["A", "B"], "opened_at": ["2026-01-05"] * 2, "reopen_count": ["1", "inf"]}
    )
    table, quarantine = canonical_table(raw, src("tickets"))
    assert reasons(quarantine) == {2: "not a finite number in reopen_count: 'inf'"}
    assert table["reopen_count"].tolist() == [1]


def test_duplicate_monitoring_samples_are_kept_once_and_counted():
    """Same service and time (UTC, whatever the offset written) is one sample: the first usable
    row is kept. 500 duplicated hours of the demo's Q3 used to be kept: the error budget counted
    2,708 samples instead of 2,208 and the cycle's load read 31.8 M requests instead of 26.0 M."""
    from csi_helpers.kpis import LIBRARY

    raw = pd.DataFrame(
        {
            "timestamp": [
                "2026-07-01 10:00",
                "2026-07-01 11:00",
                "2026-07-01T12:00:00+01:00",  # 11:00 UTC: a repeat of row 2
                "2026-07-01 11:00",  # another service at the same hour: a sample of its own
                "2026-07-01 12:00",
                "2026-07-01 13:00",
            ],
            "service": ["web", "web", "web", "api", "web", "web"],
            "up": ["true", "false", "false", "true", "true", "true"],
            "requests": ["100", "200", "200", "50", "100", "100"],
        }
    )
    s = src("monitoring")
    table, quarantine = canonical_table(raw, s)
    assert reasons(quarantine) == {3: "duplicate sample: 'web' 2026-07-01 11:00:00+00:00"}
    rows = pd.DataFrame(ledger_entry(s, raw, quarantine))
    assert (rows.loc[0, "rows_in"], rows.loc[0, "rows_out"]) == (6, 5)
    assert rows.loc[1, ["reason", "rows", "example"]].tolist() == [
        "duplicate sample",
        1,
        "row 3: 'web' 2026-07-01 11:00:00+00:00",
    ]
    web = table[table["service"] == "web"]
    assert web["requests"].sum() == 500  # 700 with the repeat
    budget = LIBRARY["error_budget_remaining"](
        web,
        start=pd.Timestamp("2026-07-01", tz="UTC"),
        end=pd.Timestamp("2026-07-02", tz="UTC"),
        options={"slo": 75.0},
    )
    # 1 bad sample of 4 against a budget of 1: none left (-60 % on 2 of 5 with the repeat)
    assert (budget.value, budget.n) == (0.0, 4)


def test_duplicate_samples_are_found_across_chunks_and_without_a_service_column():
    from csi_helpers.processing.validate import canonical_chunks

    raw = pd.DataFrame(
        {"timestamp": ["2026-07-01 10:00", "2026-07-01 11:00", "2026-07-01 10:00"], "up": ["1"] * 3}
    )
    parts = list(canonical_chunks([raw.iloc[:2], raw.iloc[2:]], src("monitoring")))
    assert [len(table) for _, table, _ in parts] == [2, 0]
    assert reasons(parts[1][2]) == {3: "duplicate sample: 2026-07-01 10:00:00+00:00"}


def test_timestamps_outside_the_plausible_window_are_quarantined():
    """Before 1990, or more than a year after the cycle's end: one ticket resolved in 2999 took
    the demo's Q3 mean time to resolve (tickets opened in the cycle) from 23.3 h to 6,301 h; one
    opened in 1970 took it (tickets resolved in the cycle) from 24.5 h to 384 h."""
    from csi_helpers.kpis import LIBRARY

    raw = pd.DataFrame(
        {
            "ticket_id": ["A", "B", "C", "D"],
            "opened_at": ["2026-07-01 10:00", "2026-07-01 10:00", "1970-01-01 00:00", "2026-07-02"],
            "resolved_at": [
                "2026-07-01 12:00",
                "2999-01-01 00:00",
                "2026-07-01 12:00",
                "2027-09-30 23:00",  # late, but within a year of the cycle's end: kept
            ],
        }
    )
    s = src("tickets")
    start, end = pd.Timestamp("2026-07-01", tz="UTC"), pd.Timestamp("2026-10-01", tz="UTC")
    table, quarantine = canonical_table(raw, s, cycle_end=end)
    assert reasons(quarantine) == {
        2: "out of range resolved_at: '2999-01-01 00:00' (allowed 1990-01-01 to 2027-10-01)",
        3: "out of range opened_at: '1970-01-01 00:00' (allowed 1990-01-01 to 2027-10-01)",
    }
    detail = pd.DataFrame(ledger_entry(s, raw, quarantine)).set_index("reason")["rows"]
    assert detail.dropna().to_dict() == {"out of range resolved_at": 1, "out of range opened_at": 1}
    assert table["ticket_id"].tolist() == ["A", "D"]
    mttr = LIBRARY["mean_time_to_resolve"]
    opened = mttr(table, start=start, end=end, options={"scope": "opened_in_period"})
    assert (opened.value, opened.n) == (5_472.5, 2)  # (2 h + 10,943 h) / 2; with B: 2.8 M h
    resolved = mttr(table, start=start, end=end)
    assert (resolved.value, resolved.n) == (2.0, 1)  # with C, opened in 1970: 247,627 h


def test_without_a_cycle_the_window_ends_a_year_after_now():
    soon = (pd.Timestamp.now(tz="UTC") + pd.Timedelta(days=300)).strftime("%Y-%m-%d")
    raw = pd.DataFrame({"timestamp": [soon, "2999-01-01", "1989-12-31"], "requests": ["1"] * 3})
    table, quarantine = canonical_table(raw, src("monitoring"))
    assert len(table) == 1
    assert [r.split(":")[0] for r in quarantine["reason"]] == ["out of range timestamp"] * 2


def test_percent_scaled_utilisation_is_refused_with_how_to_declare_it():
    """CloudWatch exports CPU in percent: read as a fraction, 75 % becomes 7,500 %."""
    raw = pd.DataFrame(
        {
            "timestamp": ["2026-07-01 10:00", "2026-07-01 11:00", "2026-07-01 12:00"],
            "cpu": ["35.5", "75", "98.2"],
        }
    )
    s = src("monitoring", columns={"utilisation": "cpu"})
    with pytest.raises(DataError) as caught:
        canonical_table(raw, s)
    message = str(caught.value)
    assert "'cpu' (utilisation) looks like percent" in message
    assert "its median is 75," in message
    assert "sources[s].scales.utilisation: percent" in message


def test_a_declared_percent_scale_is_divided_by_100_and_a_fraction_is_kept():
    raw = pd.DataFrame(
        {"timestamp": ["2026-07-01 10:00", "2026-07-01 11:00"], "cpu": ["75", "120"]}
    )
    percent = src("monitoring", columns={"utilisation": "cpu"}, scales={"utilisation": "percent"})
    table, _ = canonical_table(raw, percent)
    assert table["utilisation"].tolist() == [0.75, 1.2]
    overload = pd.DataFrame({"timestamp": ["2026-07-01 10:00"], "utilisation": ["1.8"]})
    assert canonical_table(overload, src("monitoring"))[0]["utilisation"].tolist() == [1.8]
    declared = src("monitoring", scales={"utilisation": "fraction"})
    raw = pd.DataFrame({"timestamp": ["2026-07-01 10:00"], "utilisation": ["3.5"]})
    assert canonical_table(raw, declared)[0]["utilisation"].tolist() == [3.5]


def test_percent_error_rates_are_refused_before_rows_are_quarantined_one_by_one():
    raw = pd.DataFrame(
        {"timestamp": ["2026-07-01 10:00", "2026-07-01 11:00"], "error_rate": ["2", "5"]}
    )
    with pytest.raises(DataError, match=r"scales\.error_rate: percent"):
        canonical_table(raw, src("monitoring"))
    percent = src("monitoring", scales={"error_rate": "percent"})
    assert canonical_table(raw, percent)[0]["error_rate"].tolist() == [0.02, 0.05]


def test_a_scale_for_a_column_that_is_not_a_ratio_is_a_params_error():
    with pytest.raises(
        ValueError, match=r"scales\.latency_ms: not a ratio column .*utilisation, error_rate"
    ):
        src("monitoring", scales={"latency_ms": "percent"})
