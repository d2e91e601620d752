"""``python -m csi_helpers.cli``: the ``csi`` command."""

import sys

from csi_helpers.cli import main

if __name__ == "__main__":
    sys.exit(main())
