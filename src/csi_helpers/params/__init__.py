"""Run parameters: one YAML file per cycle, validated by a typed schema.

- :mod:`~csi_helpers.params.models`: the schema (service, cycle, strategy, and the
  whole file), as frozen pydantic models; :mod:`~csi_helpers.params.sources` and
  :mod:`~csi_helpers.params.settings` the sources and the settings sections,
  :mod:`~csi_helpers.params.business` the optional business figures (money),
  :mod:`~csi_helpers.params.base` what they share;
- :mod:`~csi_helpers.params.loading`: a YAML file in, typed params out
  (:func:`load_params`), or one message that lists every problem;
- :mod:`~csi_helpers.params.messages`: those messages, with key path, line and a
  did-you-mean;
- :mod:`~csi_helpers.params.presets`: packaged source presets (ServiceNow, Jira);
- :mod:`~csi_helpers.params.secrets`: ``${VAR}`` credentials, expanded only at the
  moment of use (:func:`expand_env`) and kept out of messages.

Example:
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "p.yaml").write_text(
    ...     "service: {id: web, name: Web}\\n"
    ...     "cycle: {id: 2026q1, start: 2026-01-01, end: 2026-03-31}\\n"
    ... )
    >>> load_params(folder / "p.yaml").cycle.days
    90
"""

from csi_helpers.params.business import Business
from csi_helpers.params.loading import (
    check_sources,
    load_params,
    params_json_schema,
    validate_params_file,
)
from csi_helpers.params.models import (
    Calendar,
    CriticalSuccessFactor,
    Cycle,
    Demo,
    Kpi,
    Objective,
    Params,
    Scope,
    Service,
    Strategy,
)
from csi_helpers.params.presets import load_preset, preset_names
from csi_helpers.params.secrets import expand_env
from csi_helpers.params.settings import (
    Analysis,
    EngineSettings,
    RegisterSettings,
    Report,
    SparkSettings,
)
from csi_helpers.params.sources import SERVICENOW_STATES, EventStates, Source

__all__ = [
    "SERVICENOW_STATES",
    "Analysis",
    "Business",
    "Calendar",
    "CriticalSuccessFactor",
    "Cycle",
    "Demo",
    "EngineSettings",
    "EventStates",
    "Kpi",
    "Objective",
    "Params",
    "RegisterSettings",
    "Report",
    "Scope",
    "Service",
    "Source",
    "SparkSettings",
    "Strategy",
    "check_sources",
    "expand_env",
    "load_params",
    "load_preset",
    "params_json_schema",
    "preset_names",
    "validate_params_file",
]
