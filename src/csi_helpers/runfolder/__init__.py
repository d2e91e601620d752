"""The run folder: the only channel between steps.

- :mod:`~csi_helpers.runfolder.layout`: the seven steps and where each keeps its
  artefacts and its I/O log;
- :mod:`~csi_helpers.runfolder.context`: what a step notebook works with
  (:func:`begin_step`, :class:`StepContext`): read earlier steps' tables and
  records, write its own, every read and write logged;
- :mod:`~csi_helpers.runfolder.manifest`: ``manifest.json``, what produced each file;
- :mod:`~csi_helpers.runfolder.hashing`: content hashes and row counts;
- :mod:`~csi_helpers.runfolder.parquet`: tables larger than memory, chunk by chunk;
- :mod:`~csi_helpers.runfolder.paths`: where the workbook's notebooks are.

Every file is written atomically (:mod:`csi_helpers.atomic`). Names are imported
on first use, so the runner can read the layout without loading pandas.
"""

from csi_helpers.lazy import exports

__getattr__, __all__ = exports(
    __name__,
    {
        "csi_helpers.runfolder.context": (
            "PreviousRun",
            "StepContext",
            "begin_step",
            "show_errors_plainly",
        ),
        "csi_helpers.runfolder.layout": ("REPORT_STEPS", "STEPS", "Step", "io_log_path", "step"),
        "csi_helpers.runfolder.manifest": ("has_manifest", "read_manifest"),
        "csi_helpers.runfolder.hashing": ("sha256_file",),
    },
)
