"""The bundled demo: ShopFront, an e-commerce web shop, over two quarters.

Service ``shopfront`` is measured hourly from 2026-04-01 00:00 to 2026-09-30
23:00 UTC. Cycle 1 is Q2 2026 (2,184 hours), cycle 2 is Q3 2026 (2,208 hours);
at 2026-07-01 the platform capacity doubles (the improvement under review).
Every effect below is planted by construction so that the analysis steps can be
tested for recovering it. The same seed gives byte-identical files.

Files written by :func:`generate_demo` (names in :data:`DEMO_FILES`):
``monitoring.csv`` (hourly requests, capacity, utilisation, p95 latency, error
rate), ``campaigns.csv`` (the promotional e-mail calendar), ``outages.csv``
(downtime, each with the INC number raised for it), ``incidents.csv`` (a
ServiceNow-style ticket export), ``csat.csv`` (surveys sent on resolution),
``changes.csv`` (change records) and ``truths.json`` (the table below).

How the data is made:

* requests = trend x weekday-hour profile x (1 + campaign uplift in campaign
  hours) x lognormal noise with mean 1. The trend is the expected daily total
  (weekly mean), ``baseline + slope x days since 2026-04-01``; a weekday's total
  is that times its weekly factor. The evening peak is 18:00-22:00; Friday
  18:00-22:00 carries an extra factor and holds the busiest hours of the week.
* Campaign windows run 48 h from the send hour. Cycle 1 campaigns mostly go out
  on Friday 17:00, on top of the Friday peak; from 2026-07-01 they are staggered
  to Tuesday/Wednesday mornings, one a week, never over a Friday evening.
* p95 latency = base x (1 + k x (u - 0.75)) above utilisation u = 0.75, base
  below; error rate = base + slope x (u - 0.75) above, base below (both with
  multiplicative mean-one noise). Downtime is in ``outages.csv`` only.
* Outage starts are drawn per hour with weight utilisation**6, so most fall in
  the evening peak; cycle-2 durations are rescaled so its downtime is exactly
  half of cycle 1 (to the 0.1 min the durations are held at).
* Tickets: one Availability ticket (P1/P2) per outage; customer tickets at one
  per 20,000 requests plus extra Performance tickets above the threshold; one to
  three tickets after each failed or backed-out change (``caused_by``).
  Resolution is lognormal per priority; Web Platform resolves 1.7x slower.
  ``made_sla`` is resolution within the target (24x7); open tickets count as
  breached once past it. Data end is 2026-10-01 00:00 UTC.

Planted truths (``P`` planted constant, ``R`` realised by the draw; values for
the default seed, rates as fractions unless the unit says %):

====================================== ===================== ================== ==
truth                                  value                 unit               ..
====================================== ===================== ================== ==
seed                                   20260401              -                  P
generator_version                      1                     -                  P
service_id                             shopfront             -                  P
service_name                           ShopFront             -                  P
cycle1_start                           2026-04-01T00:00:00Z  first hour (UTC)   P
cycle1_end                             2026-06-30T23:00:00Z  last hour (UTC)    P
cycle2_start                           2026-07-01T00:00:00Z  first hour (UTC)   P
cycle2_end                             2026-09-30T23:00:00Z  last hour (UTC)    P
hours_cycle1                           2184                  hours              P
hours_cycle2                           2208                  hours              P
trend_baseline_requests_per_day        240000.0              requests/day       P
trend_slope_requests_per_day_per_day   200.0                 requests/day/day   P
noise_sigma                            0.06                  lognormal sigma    P
weekly_factors                         Mon 0.97 .. Sun 1.01  x daily total      P
evening_peak_hours                     18-22                 hour of day        P
friday_evening_factor                  1.25                  multiplier         P
campaign_uplift                        0.4                   fraction           P
campaign_window_hours                  48                    hours              P
campaigns_cycle1                       7                     campaigns          P
campaigns_cycle2                       7                     campaigns          P
campaigns_friday_evening_cycle1        5                     campaigns          R
campaigns_staggered_from               2026-07-01            date               P
capacity_cycle1_rph                    35000                 requests/hour      P
capacity_cycle2_rph                    70000                 requests/hour      P
capacity_change_at                     2026-07-01T00:00:00Z  timestamp (UTC)    P
capacity_upgrade_change                CHG0030054            change number      R
utilisation_threshold                  0.75                  utilisation        P
latency_base_ms                        180.0                 ms                 P
latency_slope_per_utilisation          10.0                  x base per unit u  P
latency_noise_sigma                    0.04                  lognormal sigma    P
error_rate_base                        0.002                 fraction           P
error_rate_slope_per_utilisation       0.08                  fraction per u     P
peak_utilisation_cycle1                1.0757                utilisation        R
peak_utilisation_cycle2                0.4487                utilisation        R
hours_above_threshold_cycle1           33                    hours              R
hours_above_threshold_cycle2           0                     hours              R
outages_cycle1                         30                    outages            P
outages_cycle2                         15                    outages            P
outage_minutes_cycle1                  483.7                 minutes            R
outage_minutes_cycle2                  241.8                 minutes            R
outage_minutes_ratio                   0.499897              cycle 2 / cycle 1  P
availability_pct_cycle1                99.6309               %                  R
availability_pct_cycle2                99.8175               %                  R
outage_peak_window                     17-23                 start hour [17,23) P
outage_minutes_share_peak_window       0.8451                fraction           R
sla_target_hours                       P1 4, P2 8, P3 24,    hours (24x7)       P
                                       P4 72
incidents_total                        2740                  tickets            R
incidents_cycle1                       1371                  tickets            R
incidents_cycle2                       1369                  tickets            R
incidents_open_at_end                  11                    tickets            R
sla_compliance_cycle1                  0.7805                fraction           R
sla_compliance_cycle2                  0.8115                fraction           R
worst_sla_group                        Web Platform          group              P
worst_group_breach_share               0.6476                fraction           R
worst_group_ticket_share               0.3544                fraction           R
reassigned_share                       0.0876                fraction           R
reopened_share                         0.0372                fraction           R
incidents_caused_by_changes            9                     tickets            R
csat_surveys                           2563                  surveys            R
csat_response_rate                     0.2825                fraction           R
csat_mean_score_sla_met                4.1497                score 1-5          R
csat_mean_score_sla_breached           2.8392                score 1-5          R
changes_total                          90                    changes            R
changes_failed_or_backed_out           4                     changes            R
====================================== ===================== ================== ==

Example:
    >>> from csi_helpers.demo import DEMO_FILES, planted_truths
    >>> DEMO_FILES["monitoring"]
    'monitoring.csv'
    >>> truths = planted_truths()
    >>> truths.capacity_cycle1_rph, truths.capacity_cycle2_rph, truths.capacity_change_at
    (35000, 70000, '2026-07-01T00:00:00Z')
"""

from csi_helpers.demo.build import planted_truths
from csi_helpers.demo.io import DEMO_FILES, ensure_demo_data, generate_demo
from csi_helpers.demo.scenario import DEFAULT_SEED, PlantedTruths

__all__ = [
    "DEFAULT_SEED",
    "DEMO_FILES",
    "PlantedTruths",
    "ensure_demo_data",
    "generate_demo",
    "planted_truths",
]
