"""From raw snapshots to analysable tables and series (step 4's computing).

- :mod:`~csi_helpers.processing.validate`: a raw snapshot typed into its canonical
  table, every rejected row quarantined with the reason; :mod:`~csi_helpers.processing.values`
  types its text, value by value (numbers, booleans, timestamps);
- :mod:`~csi_helpers.processing.repeats`: the rows that repeat a kept id or sample;
- :mod:`~csi_helpers.processing.ledger`: rows in, out and quarantined per source;
- :mod:`~csi_helpers.processing.events`: a status-change log rebuilt into one row
  per ticket, and its pauses;
- :mod:`~csi_helpers.processing.scope`: the records a KPI entry counts;
- :mod:`~csi_helpers.processing.coverage`: the part of the cycle each source covers;
- :mod:`~csi_helpers.processing.series`: hourly, daily and weekly KPI series;
- :mod:`~csi_helpers.processing.engines`: the DuckDB or Spark backend the series
  run on.

Every function here is a pure function of tables and typed options: step 4
(:mod:`csi_helpers.steps.process`) reads the run folder and writes the results.
The modules are imported on use (DuckDB, ibis and pandera take seconds to load).
"""

__all__ = [
    "coverage",
    "engines",
    "events",
    "ledger",
    "repeats",
    "scope",
    "series",
    "validate",
    "values",
]
