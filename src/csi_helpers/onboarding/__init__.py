"""Onboarding a team's exports: a new workbook (``csi init``), params proposed from an
export (``csi params sniff``), params checked against the data they name."""

from csi_helpers.lazy import exports

__getattr__, __all__ = exports(
    __name__,
    {
        "csi_helpers.onboarding.check": ("check_against_data", "close_match"),
        "csi_helpers.onboarding.sniff": ("sniff_file",),
        "csi_helpers.onboarding.proposal": ("proposal_text",),
        "csi_helpers.onboarding.workbook": ("create_workbook",),
    },
)
