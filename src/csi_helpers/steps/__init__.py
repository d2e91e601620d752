"""The seven steps' wiring: the only code that takes a :class:`~csi_helpers.runfolder.StepContext`.

One module per step of the ITIL continual improvement process; each reads what
earlier steps left in the run folder, calls the pure code of the computing
packages, and writes its own artefacts:

====  ==========================================  ===================================
step  module                                      notebook
====  ==========================================  ===================================
1     :mod:`~csi_helpers.steps.strategy`          ``01_define_strategy.ipynb``
2     :mod:`~csi_helpers.steps.measurement`       ``02_plan_measurement.ipynb``
3     :mod:`~csi_helpers.steps.gather`            ``03_gather_data.ipynb``
4     :mod:`~csi_helpers.steps.process`           ``04_process_data.ipynb``
5     :mod:`~csi_helpers.steps.analyse`           ``05_analyse_data.ipynb``
6     :mod:`~csi_helpers.steps.present`           ``06_present_findings.ipynb``
7     :mod:`~csi_helpers.steps.implement`         ``07_implement_improvements.ipynb``
====  ==========================================  ===================================

:mod:`~csi_helpers.steps.common` holds what more than one step reads. A notebook
imports its own step's module only (``from csi_helpers.runfolder.layout import process``),
so each kernel loads just what its step needs.
"""

__all__ = ["analyse", "gather", "implement", "measurement", "present", "process", "strategy"]
