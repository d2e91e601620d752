"""The KPI aggregations written once and run on DuckDB or on Spark in local mode.

The fast tests check the ``engine`` params section and the errors a user sees;
the slow ones run the same series on DuckDB and on a real local Spark session
and compare the numbers: counts, periods and groups exactly, floats to 1e-12
relative (summation order and the percentile's interpolation formula differ in
the last bits).
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest
from engine_tables import parquet_table
from spark_local import spark_engine  # noqa: F401 (session fixture)

from csi_helpers.errors import EngineError, ParamsError
from csi_helpers.params import EngineSettings, load_params
from csi_helpers.processing import engines as engine
from csi_helpers.processing import series

# Third-party deprecations under pandas 3.1 and DuckDB 2.0 (inside ibis and pyspark), not ours.
pytestmark = [
    pytest.mark.filterwarnings("ignore:fetch_arrow_table:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning"),
]

# A window over the spring daylight-saving change in Europe and America.
START, END = pd.Timestamp("2026-03-02", tz="UTC"), pd.Timestamp("2026-04-06", tz="UTC")
PARAMS = """\
service: {id: web, name: Web shop}
cycle: {id: q1, start: 2026-01-01, end: 2026-03-31}
"""


def write_params(tmp_path, text: str):
    path = tmp_path / "p.yaml"
    path.write_text(PARAMS + text)
    return path


def test_engine_defaults_to_duckdb_and_reads_spark_settings(tmp_path):
    assert load_params(write_params(tmp_path, "")).engine.backend == "duckdb"
    params = load_params(
        write_params(
            tmp_path,
            "engine:\n  backend: spark\n  spark:\n    master: spark://head:7077\n"
            "    conf: {spark.executor.memory: 4g, spark.executor.cores: 2,"
            " spark.sql.adaptive.enabled: true}\n",
        )
    )
    assert params.engine.backend == "spark"
    assert params.engine.spark.master == "spark://head:7077"
    assert params.engine.spark.conf == {  # as Spark reads them: text
        "spark.executor.memory": "4g",
        "spark.executor.cores": "2",
        "spark.sql.adaptive.enabled": "true",
    }


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ("engine: {backend: dask}", r"engine\.backend \(line 3\).*'duckdb' or 'spark'"),
        (
            "engine: {spark: {master: localhost}}",
            r"engine\.spark\.master \(line 3\): expected local",
        ),
        ("engine: {spark: {conf: {executor.memory: 4g}}}", r"start with 'spark\.'"),
        (
            "engine: {spark: {conf: {spark.sql.session.timeZone: CET}}}",
            r"must stay UTC .*'CET'",
        ),
        ("engine: {backend: spark, sparks: {}}", r"unknown key; did you mean 'spark'"),
    ],
)
def test_bad_engine_settings_name_the_key(tmp_path, section, message):
    with pytest.raises(ParamsError, match=message):
        load_params(write_params(tmp_path, section + "\n"))


def test_spark_without_java_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # no java on it
    with pytest.raises(EngineError, match=r"no Java runtime.*openjdk-17-jre-headless"):
        engine.spark_session(EngineSettings(backend="spark").spark)


def test_spark_without_pyspark_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyspark", None)  # import pyspark raises ImportError
    with pytest.raises(EngineError, match=r"pyspark is not installed.*\[spark\]"):
        engine.connect(EngineSettings(backend="spark"))


ZONES = [
    "UTC",
    "Europe/Amsterdam",
    "America/New_York",
    "America/Sao_Paulo",  # dropped daylight saving in 2019
    "Asia/Kolkata",  # +05:30
    "Asia/Kathmandu",  # +05:45
    "Australia/Lord_Howe",  # half-hour daylight saving
    "Pacific/Chatham",  # +12:45 / +13:45
]


@pytest.mark.parametrize("timezone", ZONES)
def test_local_time_agrees_with_the_tz_database(tmp_path, timezone):
    rng = np.random.default_rng(ZONES.index(timezone))
    start, end = pd.Timestamp("2018-01-01", tz="UTC"), pd.Timestamp("2028-01-01", tz="UTC")
    seconds = rng.integers(start.timestamp(), end.timestamp(), 20_000)
    instants = pd.to_datetime(seconds * 1_000_000 + rng.integers(0, 1_000_000, 20_000), unit="us")
    path = tmp_path / "t.parquet"
    pd.DataFrame({"timestamp": instants.tz_localize("UTC")}).to_parquet(path)
    t = engine.connect().read_parquet(str(path))
    local = engine.local_time(t.timestamp, timezone, start=start, end=end)
    got = engine.to_pandas(t.select(local=local))["local"]
    expected = instants.tz_localize("UTC").tz_convert(timezone).tz_localize(None)
    assert got.tolist() == expected.tolist()


def test_offsets_change_to_the_second_and_unknown_zones_are_refused():
    autumn = engine.utc_offsets(
        "Australia/Lord_Howe",
        pd.Timestamp("2026-03-01", tz="UTC"),
        pd.Timestamp("2026-05-01", tz="UTC"),
    )
    # 02:00 daylight time (+11:00) on 5 April becomes 01:30 standard time (+10:30)
    assert [(pd.Timestamp(s, unit="us", tz="UTC"), o / 3.6e9) for s, o in autumn] == [
        (pd.Timestamp("2026-03-01", tz="UTC"), 11.0),
        (pd.Timestamp("2026-04-04 15:00", tz="UTC"), 10.5),
    ]
    with pytest.raises(ParamsError, match="unknown time zone 'Europe/Amsterdm'"):
        engine.utc_offsets("Europe/Amsterdm", START, END)


# --------------------------------------------------------------------------- DuckDB vs Spark


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    """Monitoring samples and tickets over the DST change, with missing values throughout."""
    folder = tmp_path_factory.mktemp("engine")
    rng = np.random.default_rng(5)
    n = 4000
    stamps = START + pd.to_timedelta(rng.uniform(0, 35 * 86400, n), unit="s")

    def gaps(values, share=0.05):
        return pd.array(np.where(rng.random(len(values)) < share, np.nan, values), "Float64")

    pd.DataFrame(
        {
            "timestamp": stamps.astype("datetime64[us, UTC]"),
            "service": pd.array(rng.choice(["web", "api", None], n), dtype="string"),
            "requests": gaps(rng.poisson(40, n).astype(float)),
            "capacity": pd.array(rng.uniform(80, 120, n), "Float64"),
            "utilisation": gaps(rng.uniform(0, 1, n)),
            "latency_p95_ms": gaps(rng.gamma(2, 100, n)),
            "error_rate": gaps(rng.uniform(0, 0.05, n)),
        }
    ).to_parquet(folder / "monitoring.parquet")
    k = 2000
    opened = START + pd.to_timedelta(rng.uniform(0, 35 * 86400, k), unit="s")
    resolved = (opened + pd.to_timedelta(rng.lognormal(1, 1.2, k), unit="h")).where(
        rng.random(k) > 0.1
    )
    pd.DataFrame(
        {
            "opened_at": opened.astype("datetime64[us, UTC]"),
            "resolved_at": pd.Series(resolved).astype("datetime64[us, UTC]"),
            "priority": pd.array(rng.choice(["P1", "P2", "P3", None], k), dtype="string"),
            "service": pd.array(rng.choice(["web", "api"], k), dtype="string"),
            "assignment_group": pd.array(rng.choice(["ops", "dev", None], k), dtype="string"),
        }
    ).to_parquet(folder / "tickets.parquet")
    return folder


def assert_same_numbers(on_duckdb: pd.DataFrame, on_spark: pd.DataFrame) -> None:
    """Same rows, columns and dtypes; floats equal to 1e-12 relative, everything else exactly."""
    assert len(on_duckdb) > 0
    floats = on_duckdb.select_dtypes("float").columns
    pd.testing.assert_frame_equal(
        on_spark.drop(columns=floats), on_duckdb.drop(columns=floats), check_exact=True
    )
    pd.testing.assert_frame_equal(
        on_spark[floats], on_duckdb[floats], check_exact=False, rtol=1e-12, atol=0
    )


@pytest.mark.slow
def test_spark_session_runs_in_utc_with_one_partition_per_core(spark_engine):  # noqa: F811
    session = engine.spark_session(spark_engine.spark)
    assert session.conf.get("spark.sql.session.timeZone") == "UTC"
    assert session.conf.get("spark.sql.shuffle.partitions") == "2"  # local[2]
    assert engine.connect(spark_engine).name == "pyspark"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("grain", "timezone", "by_service"),
    [("hour", "Europe/Amsterdam", True), ("day", "America/New_York", False), ("week", "UTC", True)],
)
def test_monitoring_series_same_on_duckdb_and_spark(
    spark_engine,  # noqa: F811
    tables,
    grain,
    timezone,
    by_service,
):
    window = {"start": START, "end": END, "timezone": timezone, "grain": grain}
    path = tables / "monitoring.parquet"
    on_duckdb = series.monitoring_series(parquet_table(path), by_service=by_service, **window)
    on_spark = series.monitoring_series(
        parquet_table(path, spark_engine), by_service=by_service, **window
    )
    assert_same_numbers(on_duckdb, on_spark)
    if grain == "hour":  # 02:00 on 29 March does not exist in Amsterdam: no such period
        assert not (on_spark["period"] == pd.Timestamp("2026-03-29 02:00")).any()
        assert (on_spark["period"] == pd.Timestamp("2026-03-29 03:00")).any()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("grain", "timezone", "by"),
    [("day", "Europe/Amsterdam", ("service", "assignment_group")), ("week", "Asia/Kolkata", ())],
)
def test_ticket_series_same_on_duckdb_and_spark(spark_engine, tables, grain, timezone, by):  # noqa: F811
    window = {"start": START, "end": END, "timezone": timezone, "grain": grain, "by": by}
    path = tables / "tickets.parquet"
    on_duckdb = series.ticket_series(parquet_table(path), **window)
    on_spark = series.ticket_series(parquet_table(path, spark_engine), **window)
    assert_same_numbers(on_duckdb, on_spark)
    assert on_spark["median_hours_to_resolve"].notna().any()


@pytest.mark.slow
def test_daily_series_and_profile_same_on_duckdb_and_spark(spark_engine, tables):  # noqa: F811
    paths = {"monitoring": tables / "monitoring.parquet", "tickets": tables / "tickets.parquet"}
    window = {"start": START, "end": END, "timezone": "Europe/Amsterdam"}
    on_duckdb = series.daily_series(**window, **{k: parquet_table(p) for k, p in paths.items()})
    on_spark = series.daily_series(
        **window, **{k: parquet_table(p, spark_engine) for k, p in paths.items()}
    )
    assert_same_numbers(on_duckdb, on_spark)
    # every local day of the window; END is 02:00 on 6 April in Amsterdam, so 6 April counts
    assert on_spark["day"].tolist() == list(pd.date_range("2026-03-02", "2026-04-06"))
    monitoring = paths["monitoring"]
    assert_same_numbers(
        series.weekday_hour_profile(parquet_table(monitoring), **window),
        series.weekday_hour_profile(parquet_table(monitoring, spark_engine), **window),
    )
