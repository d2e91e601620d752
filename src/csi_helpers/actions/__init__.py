"""Improvement actions: what the findings of a cycle call for, with the KPI each should move.

:mod:`~csi_helpers.actions.rules` maps a finding (its kind and subject) to a
candidate action, its owner, due date and expected effect. The CSI register
(:mod:`csi_helpers.register`) keeps the actions once step 7 has added them.
"""

from csi_helpers.actions.rules import (
    ACTION_COLUMNS,
    RECOMMENDATION_COLUMNS,
    RULES,
    Rule,
    owners_of,
    recommend_actions,
    recommendations,
)

__all__ = [
    "ACTION_COLUMNS",
    "RECOMMENDATION_COLUMNS",
    "RULES",
    "Rule",
    "owners_of",
    "recommend_actions",
    "recommendations",
]
