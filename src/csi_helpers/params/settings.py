"""How a cycle is analysed, reported, registered and aggregated: the params' settings sections."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator

from csi_helpers.params.base import StrictModel, resolve_path

__all__ = [
    "ActionsSettings",
    "Analysis",
    "EngineSettings",
    "RegisterSettings",
    "Report",
    "SparkSettings",
]

#: Most resamples a bootstrap or permutation test may ask for: 100,000 keeps step 5 to
#: minutes on a laptop; far more would run for hours (or never end) and say no more.
MAX_RESAMPLES = 100_000


class Analysis(StrictModel):
    """Settings of step 5's statistics."""

    alpha: float = Field(0.05, gt=0, lt=0.5)
    """Significance level of every test."""
    bootstrap: int = Field(200, ge=20, le=MAX_RESAMPLES)
    """Resamples for bootstrap intervals."""
    permutations: int = Field(1999, ge=99, le=MAX_RESAMPLES)
    """Resamples for permutation tests."""
    seed: int = Field(0, ge=0, le=2**32 - 1)
    """Random seed of resampling methods."""
    baseline_weeks: int = Field(4, ge=1, le=12)
    """Event impact: matched weeks either side."""
    change_window_hours: int = Field(24, ge=0, le=168)
    """Event impact: hours after a change."""
    forecast_days: int = Field(180, ge=14, le=730)
    """Capacity forecast horizon."""
    capacity_limit: float = Field(0.75, gt=0, le=1.5)
    """Utilisation counted as full when no knee."""
    max_anomalies: int = Field(5, ge=1, le=50)
    """Anomaly episodes reported per series."""
    history: bool = True
    """Change points over the previous cycle and this one."""


class ActionsSettings(StrictModel):
    """The action plan: one action per issue, the most pressing first."""

    max: int = Field(5, ge=1, le=50, description="most actions proposed per cycle")


class Report(StrictModel):
    """What the HTML reports' header says."""

    title: str = "Continual service improvement report"
    """Title of the management report."""
    organisation: str = ""
    """The organisation named in the reports' header."""


class RegisterSettings(StrictModel):
    """Where the CSI register lives (step 7 writes it; ``csi register`` manages it).

    Default: the SQLite file ``<directory>/<service.id>.sqlite``, with
    ``directory`` relative to the params file (``../registers``: for
    ``params/demo.yaml``, ``registers/shopfront.sqlite`` in the project).
    """

    url: str | None = None
    """Any SQLAlchemy URL, password as ${VAR}; wins over `directory`."""
    directory: Path = Field(Path("../registers"), validate_default=True)
    """SQLite default's folder."""

    _resolve = field_validator("directory", mode="after")(resolve_path)


SPARK_MASTER = r"^(local(\[(\d+|\*)\])?|spark://\S+|yarn|k8s://\S+|mesos://\S+)$"


class SparkSettings(StrictModel):
    """How to reach Apache Spark when ``engine.backend`` is ``spark``."""

    master: str = Field(
        "local[2]",
        description="Spark master: local[N] on this machine, spark://host:7077, yarn",
        json_schema_extra={"pattern": SPARK_MASTER},
    )
    app_name: str = Field("csi-workbook", description="the application name the cluster shows")
    conf: dict[str, str | int | float | bool] = Field(
        default_factory=dict,
        description="more Spark settings, e.g. spark.executor.memory: 4g (session time zone "
        "stays UTC)",
    )

    @field_validator("master")
    @classmethod
    def _known_master(cls, value: str) -> str:
        if not re.match(SPARK_MASTER, value):
            raise ValueError(
                "expected local, local[N], local[*], spark://host:port, yarn, k8s://... or "
                "mesos://..."
            )
        return value

    @field_validator("conf")
    @classmethod
    def _spark_keys(cls, value: dict[str, Any]) -> dict[str, str]:
        odd = [k for k in value if not k.startswith("spark.")]
        if odd:
            raise ValueError(f"Spark settings start with 'spark.'; not: {', '.join(odd)}")
        # Spark reads every setting as text; YAML's true/2 become "true"/"2"
        value = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in value.items()}
        zone = value.get("spark.sql.session.timeZone", "UTC")
        if zone != "UTC":
            raise ValueError(
                f"spark.sql.session.timeZone must stay UTC (got {zone!r}); the service's "
                "`timezone` decides days and hours"
            )
        return value


class EngineSettings(StrictModel):
    """Where the KPI series are aggregated: DuckDB in this process, or a Spark cluster.

    DuckDB (the default) suits one machine, up to a few hundred million rows in
    Parquet; Spark needs ``pip install 'csi-workbook[spark]'``, Java 17+ and a run
    folder on storage every Spark worker can read.
    """

    backend: Literal["duckdb", "spark"] = Field(
        "duckdb", description="duckdb: in this process (default); spark: on Apache Spark"
    )
    spark: SparkSettings = Field(default_factory=SparkSettings, description="used with spark")
