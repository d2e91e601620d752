"""pytest, for the whole checkout: the deprecated module aliases of 0.1 are not collected.

``--doctest-modules`` imports every module under ``src/``; importing an alias warns
(:mod:`csi_helpers.compat`), and the aliases have no doctests of their own.
"""

from csi_helpers.compat import ALIASES

collect_ignore = [f"src/{name.replace('.', '/')}.py" for name in ALIASES]
