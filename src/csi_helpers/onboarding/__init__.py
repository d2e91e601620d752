"""Onboarding a team's exports: params checked against the data they name."""

from csi_helpers.lazy import exports

__getattr__, __all__ = exports(
    __name__,
    {"csi_helpers.onboarding.check": ("check_against_data", "close_match")},
)
