"""What the demo's service owner did between the cycles: the Q2 campaign action was carried out.

In the demo's story the Q2 report proposes to stagger the campaigns away from the
Friday evening peak and to add capacity before each one; the service owner approves
it and it is carried out on 2026-07-01 (the demo data double the capacity and move
the campaigns from then on). In a real workbook people record that with
``csi register update ID --status in_progress``; ``make run`` does it for the demo
with this module, between the two cycles, so that Q3's step 7 reviews the action
(an entry still proposed is not reviewed as if it had been carried out).

Run it as ``python -m csi_helpers.chain.demo_owner PARAMS`` (the first cycle's params).
"""

from __future__ import annotations

import sys
from pathlib import Path

from csi_helpers.params import load_params
from csi_helpers.register import open_register, register_url

__all__ = ["ACTION_TITLE", "OWNER", "carry_out_campaign_action"]

ACTION_TITLE = "Stagger campaigns"  # how the Q2 plan's campaign action starts
OWNER = "Head of E-commerce (demo)"


def carry_out_campaign_action(params_path: str | Path) -> list[str]:
    """Move the first cycle's campaign action to ``in_progress``, as its owner would.

    Idempotent: an entry already in progress (or later) is left as it is.

    Returns:
        The ids of the campaign action entries, now in progress.
    """
    params = load_params(params_path)
    moved = []
    with open_register(register_url(params)) as register:
        entries = register.entries()
        mine = entries[
            (entries["created_run_id"] == params.default_run_id)
            & entries["title"].str.startswith(ACTION_TITLE)
        ]
        for entry in mine.itertuples(index=False):
            note = "carried out on 2026-07-01: capacity doubled, campaigns staggered"
            for status in ("approved", "in_progress"):
                if entry.status in ("proposed", "approved") and entry.status != status:
                    register.update(entry.id, status=status, by=OWNER, note=note)
                    entry = entry._replace(status=status)
            moved.append(entry.id)
    return moved


if __name__ == "__main__":  # pragma: no cover - the Makefile's call
    print(", ".join(carry_out_campaign_action(sys.argv[1])) or "no campaign action found")
