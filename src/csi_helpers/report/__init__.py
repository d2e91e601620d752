"""What managers see: charts, tables, the house style and the HTML and PDF reports.

- :mod:`~csi_helpers.report.style`: the house style of charts and tables;
- :mod:`~csi_helpers.report.charts`: one chart per helper, returned as a figure;
- :mod:`~csi_helpers.report.tables`: tables and lists as a report displays them;
- :mod:`~csi_helpers.report.html`: an executed step notebook → a self-contained
  HTML report (nbconvert, the ``csi_report`` template in ``templates/``);
- :mod:`~csi_helpers.report.browser`: headless Chromium for PDF and screenshots
  (:mod:`~csi_helpers.report.chromium` finds and runs the binary).

Nothing here knows about steps or run folders: each function takes data and
returns a figure, a table or a file. Names are imported on first use (nbconvert
and matplotlib take seconds to load).
"""

from csi_helpers.lazy import exports

__getattr__, __all__ = exports(
    __name__,
    {
        "csi_helpers.report.tables": ("bullets", "styled_scorecard", "table"),
        "csi_helpers.report.style": ("use_house_style",),
        "csi_helpers.report.html": ("export_html", "export_pdf"),
    },
)
