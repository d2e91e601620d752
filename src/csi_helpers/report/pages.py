"""Pages the workbook renders itself from its templates (the batch index), in the house style.

A page is one self-contained HTML file: the report stylesheet
(``templates/csi_report/report.css``) inlined, no script, no remote resource.
Templates render with autoescape on, so every value a caller passes is escaped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

__all__ = ["TEMPLATES_DIR", "render_page"]

#: The package's templates: ``csi_report`` (nbconvert) and the pages rendered here.
TEMPLATES_DIR = Path(__file__).parent / "templates"


def render_page(template: str, **values: Any) -> str:
    """Render ``template`` (a path under :data:`TEMPLATES_DIR`) with ``values``, escaped.

    The template receives the house stylesheet as ``css`` besides ``values``.
    """
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(default=True, default_for_string=True),
        keep_trailing_newline=True,
    )
    css = (TEMPLATES_DIR / "csi_report" / "report.css").read_text(encoding="utf-8")
    # the package's own stylesheet, not user text
    return env.get_template(template).render(css=Markup(css), **values)
