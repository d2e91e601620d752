"""The house style of every chart: legible on screen and when printed.

Plot helpers return a figure and never show or save it; the step decides.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from cycler import cycler

PALETTE = ["#1f4e79", "#c55a11", "#548235", "#7f6000", "#7030a0", "#2e75b6", "#a5a5a5"]
RAG_COLOURS = {"green": "#2e7d32", "amber": "#f9a825", "red": "#c62828", "grey": "#9e9e9e"}


def use_house_style() -> None:
    """Apply the house style to charts and tables (idempotent; seaborn draws with it too)."""
    pd.set_option("display.max_colwidth", 120)
    pd.set_option("display.max_columns", 40)
    pd.set_option("display.max_rows", 80)
    pd.set_option("display.precision", 4)
    plt.style.use("seaborn-v0_8-whitegrid")
    plt.rcParams.update(
        {
            "axes.prop_cycle": cycler(color=PALETTE),
            "figure.figsize": (9.0, 4.0),
            "figure.dpi": 100,
            "savefig.dpi": 110,
            "axes.titlesize": 12,
            "axes.titleweight": "bold",
            "axes.labelsize": 10,
            "xtick.labelsize": 9,
            "ytick.labelsize": 9,
            "legend.fontsize": 9,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "font.family": "DejaVu Sans",
        }
    )
