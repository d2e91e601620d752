"""Incident tickets in ServiceNow export form.

Three sources feed the queue: one Availability ticket per outage (P1 or P2,
raised by monitoring), customer tickets in proportion to traffic (plus extra
Performance tickets in hours past the utilisation threshold), and a few tickets
caused by failed or backed-out changes. Resolution times are lognormal per
priority; the Web Platform group resolves more slowly, so it holds most SLA
breaches; reassigned and reopened tickets take longer.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from csi_helpers.demo import scenario as sc

CUSTOMER_CATEGORIES = {
    "Payment": 0.22,
    "Checkout": 0.22,
    "Account": 0.28,
    "Search": 0.16,
    "Performance": 0.12,
}
PERFORMANCE_TICKETS_PER_EXCESS = 12.0  # extra tickets/hour per unit of utilisation past it
# (subcategory, short description) per category
CATALOGUE = {
    "Performance": (
        ("Slow page load", "Product pages loading slowly"),
        ("Timeout", "Checkout page times out"),
        ("Slow search", "Search results take too long to appear"),
    ),
    "Payment": (
        ("Card declined", "Card payment declined at checkout"),
        ("Payment gateway", "Payment page does not load"),
        ("Refund", "Refund not received"),
    ),
    "Checkout": (
        ("Basket", "Items disappear from basket"),
        ("Order confirmation", "No order confirmation e-mail"),
        ("Delivery options", "Delivery options not shown"),
    ),
    "Account": (
        ("Login", "Cannot log in to account"),
        ("Password reset", "Password reset e-mail not received"),
        ("Profile", "Cannot update delivery address"),
    ),
    "Search": (
        ("No results", "Search returns no results"),
        ("Wrong results", "Search shows unrelated products"),
        ("Filters", "Search filters do not apply"),
    ),
}
# priority shares (P1..P4) per category
PRIORITY_SHARE = {
    "Performance": (0.00, 0.25, 0.60, 0.15),
    "Payment": (0.03, 0.22, 0.55, 0.20),
    "Checkout": (0.02, 0.18, 0.60, 0.20),
    "Account": (0.00, 0.05, 0.45, 0.50),
    "Search": (0.00, 0.05, 0.55, 0.40),
}
GROUP_SHARE = {
    "Performance": {"Web Platform": 0.65, "Database": 0.25, "Network": 0.10},
    "Payment": {"Payments": 0.85, "Service Desk": 0.15},
    "Checkout": {"Web Platform": 0.55, "Payments": 0.20, "Service Desk": 0.25},
    "Account": {"Service Desk": 0.75, "Web Platform": 0.25},
    "Search": {"Web Platform": 0.45, "Database": 0.35, "Service Desk": 0.20},
}
CONTACT_SHARE = {"Phone": 0.25, "Email": 0.30, "Self-service": 0.30, "Chat": 0.15}
MEDIAN_RESOLUTION_HOURS = (1.8, 4.0, 10.0, 30.0)  # P1..P4, before group and reassignment
RESOLUTION_SIGMA = 0.75
GROUP_SLOWDOWN = {"Web Platform": 1.7, "Payments": 0.9, "Service Desk": 0.75}  # others 1.0
REASSIGNED_SLOWDOWN = 1.5
CHANGE_CATEGORY = {
    "Web Platform": ("Checkout", "Performance"),
    "Payments": ("Payment",),
    "Database": ("Search",),
    "Network": ("Performance",),
}


def _customer_rows(
    health: pd.DataFrame, rng: np.random.Generator, *, requests_per_ticket: float
) -> pd.DataFrame:
    """Tickets raised by customers: Poisson per hour in proportion to traffic."""
    hours = health["timestamp"].to_numpy()
    per_hour = rng.poisson(health["requests"].to_numpy() / requests_per_ticket)
    excess = np.clip(health["utilisation"].to_numpy() - sc.UTILISATION_THRESHOLD, 0, None)
    extra = rng.poisson(PERFORMANCE_TICKETS_PER_EXCESS * excess)
    names = np.array(list(CUSTOMER_CATEGORIES))
    category = np.concatenate(
        [
            rng.choice(names, size=int(per_hour.sum()), p=list(CUSTOMER_CATEGORIES.values())),
            np.full(int(extra.sum()), "Performance"),
        ]
    )
    hour = np.concatenate([np.repeat(hours, per_hour), np.repeat(hours, extra)])
    second = pd.to_timedelta(rng.integers(0, 3600, size=len(hour)), "s")
    return pd.DataFrame({"opened_at": pd.DatetimeIndex(hour) + second, "category": category})


def _change_rows(changes: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """One to three tickets after each failed or backed-out change, linked by ``caused_by``."""
    bad = changes.loc[changes["outcome"] != "Successful"]
    count = rng.integers(1, 4, size=len(bad))
    group = np.repeat(bad["assignment_group"].to_numpy(), count)
    pick = rng.integers(0, 2, size=len(group))
    category = [
        CHANGE_CATEGORY[g][p % len(CHANGE_CATEGORY[g])] for g, p in zip(group, pick, strict=True)
    ]
    delay = pd.to_timedelta(rng.integers(15 * 60, 6 * 3600, size=len(group)), "s")
    rows = pd.DataFrame(
        {
            "opened_at": pd.DatetimeIndex(np.repeat(bad["actual_end"].to_numpy(), count)) + delay,
            "category": category,
            "assignment_group": group,
            "priority": np.where(rng.random(len(group)) < 0.4, sc.PRIORITIES[1], sc.PRIORITIES[2]),
            "caused_by": np.repeat(bad["number"].to_numpy(), count),
        }
    )
    return rows.loc[rows["opened_at"] < sc.DATA_END]


def _fill_attributes(rows: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Draw priority, group, subcategory, description and contact where not yet set."""
    rows = rows.copy()
    n = len(rows)
    for column in ("priority", "assignment_group", "caused_by"):
        if column not in rows:
            rows[column] = pd.Series([None] * n, index=rows.index, dtype="object")
    rows["subcategory"] = ""
    rows["short_description"] = ""
    for category, catalogue in CATALOGUE.items():
        mask = (rows["category"] == category).to_numpy()
        k = int(mask.sum())
        need_priority = mask & rows["priority"].isna().to_numpy()
        rows.loc[need_priority, "priority"] = rng.choice(
            np.array(sc.PRIORITIES), size=int(need_priority.sum()), p=PRIORITY_SHARE[category]
        )
        need_group = mask & rows["assignment_group"].isna().to_numpy()
        shares = GROUP_SHARE[category]
        rows.loc[need_group, "assignment_group"] = rng.choice(
            np.array(list(shares)), size=int(need_group.sum()), p=list(shares.values())
        )
        pick = rng.integers(0, len(catalogue), size=k)
        rows.loc[mask, "subcategory"] = [catalogue[i][0] for i in pick]
        rows.loc[mask, "short_description"] = [catalogue[i][1] for i in pick]
    contact = np.array(list(CONTACT_SHARE))
    rows["contact_type"] = rng.choice(contact, size=n, p=list(CONTACT_SHARE.values()))
    monitored = (rows["category"] == "Performance").to_numpy() & (rng.random(n) < 0.3)
    rows.loc[monitored, "contact_type"] = "Monitoring"
    rows["caused_by"] = rows["caused_by"].fillna("")
    return rows


def _resolution_seconds(rows: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Draw reassignments, reopens and the lognormal time to (final) resolution."""
    n = len(rows)
    reassigned = rng.random(n) < sc.REASSIGN_SHARE
    reassignments = np.where(reassigned, rng.choice([1, 2, 3], size=n, p=[0.7, 0.22, 0.08]), 0)
    reopened = rng.random(n) < sc.REOPEN_SHARE
    reopens = np.where(reopened, rng.choice([1, 2], size=n, p=[0.9, 0.1]), 0)
    priority = pd.Categorical(rows["priority"], categories=sc.PRIORITIES).codes
    median = np.asarray(MEDIAN_RESOLUTION_HOURS)[priority]
    median = median * rows["assignment_group"].map(GROUP_SLOWDOWN).fillna(1.0).to_numpy()
    median = median * np.where(reassigned, REASSIGNED_SLOWDOWN, 1.0)
    hours = rng.lognormal(np.log(median), RESOLUTION_SIGMA)
    hours = hours + np.where(reopened, rng.lognormal(np.log(24.0), 0.6, size=n), 0.0)
    return rows.assign(
        reassignment_count=reassignments,
        reopen_count=reopens,
        resolve_seconds=np.maximum(np.rint(hours * 3600), 300).astype(np.int64),
    )


def _outage_rows(outages: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """One Availability ticket per outage, raised by monitoring, resolved soon after it ends."""
    n = len(outages)
    opened = outages["start"] + pd.to_timedelta(rng.integers(60, 481, size=n), "s")
    resolved = outages["end"] + pd.to_timedelta(rng.integers(300, 2401, size=n), "s")
    first, last = sc.OUTAGE_PEAK_WINDOW
    peak = (outages["start"].dt.hour >= first) & (outages["start"].dt.hour < last)
    critical = peak | (outages["duration_min"] >= 45)
    return pd.DataFrame(
        {
            "opened_at": opened,
            "category": "Availability",
            "subcategory": "Site down",
            "short_description": "ShopFront unavailable: " + outages["cause"],
            "priority": np.where(critical, sc.PRIORITIES[0], sc.PRIORITIES[1]),
            "assignment_group": outages["group"],
            "contact_type": "Monitoring",
            "caused_by": "",
            "reassignment_count": 0,
            "reopen_count": 0,
            "resolve_seconds": (resolved - opened) // pd.Timedelta(seconds=1),
            "outage_id": outages["outage_id"],
        }
    )


def _finish(rows: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Number by opening time; set resolved/closed times, state and ``made_sla`` at data end."""
    rows = rows.sort_values("opened_at", kind="stable").reset_index(drop=True)
    rows.insert(0, "number", [f"INC{10001 + i:07d}" for i in range(len(rows))])
    n = len(rows)
    opened = pd.DatetimeIndex(rows["opened_at"]).as_unit("s")
    resolved = opened + pd.to_timedelta(rows["resolve_seconds"].to_numpy(), "s")
    early = rng.random(n) < 0.4  # the caller confirms; otherwise auto-close after 72 h
    close_seconds = np.where(early, rng.integers(3600, 72 * 3600, size=n), 72 * 3600)
    closed = resolved + pd.to_timedelta(close_seconds, "s")
    is_open = resolved >= sc.DATA_END
    is_closed = closed < sc.DATA_END
    elapsed = np.where(is_open, sc.DATA_END - opened, resolved - opened)
    target = rows["priority"].map(sc.SLA_TARGET_HOURS).to_numpy(dtype=float)
    fresh = (sc.DATA_END - opened < pd.Timedelta(hours=4)) & (rows["reassignment_count"] == 0)
    state = np.select(
        [is_open & fresh, is_open, is_closed], ["New", "In Progress", "Closed"], "Resolved"
    )
    return rows.assign(
        opened_at=opened,
        state=state,
        resolved_at=resolved.where(~is_open),
        closed_at=closed.where(is_closed),
        made_sla=pd.to_timedelta(elapsed) <= pd.to_timedelta(target, "h"),
    )


def draw_incidents(
    health: pd.DataFrame,
    outages: pd.DataFrame,
    changes: pd.DataFrame,
    rng: np.random.Generator,
    *,
    requests_per_ticket: float = sc.REQUESTS_PER_TICKET,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Draw the incident queue; return it and the outages with their ticket numbers.

    ``requests_per_ticket`` sets the customer ticket rate (the demo's 20,000 by
    default; the large-data benchmark lowers it to reach its ticket count).

    Example:
        >>> from csi_helpers.demo.build import build_tables
        >>> tables = build_tables(seed=7)
        >>> incidents, outages = tables["incidents"], tables["outages"]
        >>> bool(outages["incident_number"].isin(incidents["number"]).all())
        True
    """
    customers = _customer_rows(health, rng, requests_per_ticket=requests_per_ticket)
    others = pd.concat([customers, _change_rows(changes, rng)])
    others = _resolution_seconds(_fill_attributes(others, rng), rng)
    rows = pd.concat([_outage_rows(outages, rng), others], ignore_index=True)
    incidents = _finish(rows, rng)
    numbers = incidents.dropna(subset=["outage_id"]).set_index("outage_id")["number"]
    outages = outages.assign(incident_number=outages["outage_id"].map(numbers))
    return incidents.drop(columns=["outage_id", "resolve_seconds"]), outages
