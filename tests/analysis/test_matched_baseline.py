"""The placebo calendars' sums: only events that share hours interact, and the sums are
those of the whole-grid computation, calendar by calendar."""

import numpy as np

from csi_helpers.analysis._matched_baseline import (
    WEEK_HOURS,
    _positions,
    block_overlaps,
    label_sums,
)


def grid_sums(blocks, labels, values, usable, *, weeks, trend, relative):
    """Reference: each calendar marks its labelled hours on a copy of the whole grid."""
    centre, sink, lags = 2 * weeks, len(values) - 1, np.arange(-weeks, weeks + 1)
    slope, pivot = trend
    rows, valid = [], []
    for label in labels:
        taken = np.zeros(len(values), dtype=int)
        for block, j in zip(blocks, label, strict=True):
            taken[block[centre + j]] += 1
        taken[sink] = 0
        valid.append(
            all((taken[b[centre + j]] <= 1).all() for b, j in zip(blocks, label, strict=True))
        )
        if not valid[-1]:
            continue
        sums = []
        for block, j in zip(blocks, label, strict=True):
            near = block[centre + j + lags]  # (2K+1, H)
            ok = usable[near] & (taken[near] == 0)
            count = ok.sum(axis=0)
            with np.errstate(divide="ignore", invalid="ignore"):
                mean = np.where(ok, values[near], 0.0).sum(axis=0) / count
                lag = (ok * lags[:, None]).sum(axis=0) / count
            if relative:
                week = block[centre].mean() / WEEK_HOURS + j
                local = slope / max(1 + slope * (week - pivot), 0.05)
                base = mean / np.maximum(1 + local * lag, 0.05)
            else:
                base = mean - slope * lag
            where = block[centre + j]
            matched = usable[where] & (count > 0)
            sums.append(
                [
                    np.where(matched, values[where], 0.0).sum(),
                    np.where(matched, base, 0.0).sum(),
                    matched.sum(),
                ]
            )
        rows.append(sums)
    out = np.array(rows).reshape(-1, len(blocks), 3)
    return out[..., 0], out[..., 1], out[..., 2], np.array(valid)


def test_only_events_that_share_hours_of_the_week_interact():
    weeks, n_grid = 1, 12 * WEEK_HOURS
    a = _positions(4 * WEEK_HOURS, 4 * WEEK_HOURS + 3, n_grid, weeks)  # hours 0-2 of week 4
    b = _positions(5 * WEEK_HOURS, 5 * WEEK_HOURS + 3, n_grid, weeks)  # same hours, week 5
    c = _positions(6 * WEEK_HOURS + 50, 6 * WEEK_HOURS + 53, n_grid, weeks)  # other hours
    overlaps = block_overlaps([a, b, c], weeks=weeks, sink=n_grid)
    assert set(overlaps) == {(0, 0), (0, 1), (1, 0), (1, 1), (2, 2)}
    # row r of a is week 2 + r; b labelled l (index l + 1) is week 5 + l: same week when
    # r = l + 3, i.e. row = index + 2, and then on all three hours
    cover = overlaps[0, 1]
    assert cover.shape == (3, 5, 3)
    expected = np.zeros((3, 5, 3), dtype=bool)
    for index in range(3):
        expected[index, index + 2] = True
    np.testing.assert_array_equal(cover, expected)
    # an event covers its own row r at label l when r = l + 2 (its centre, shifted)
    own = overlaps[2, 2]
    assert all(own[index, index + 1].all() for index in range(3))
    assert own.sum() == 3 * 3


def test_overlaps_never_count_hours_outside_the_series():
    weeks, n_grid = 2, 3 * WEEK_HOURS
    a = _positions(0, 5, n_grid, weeks)  # early: most shifted rows fall outside
    b = _positions(WEEK_HOURS, WEEK_HOURS + 5, n_grid, weeks)
    overlaps = block_overlaps([a, b], weeks=weeks, sink=n_grid)
    for (e, _), cover in overlaps.items():
        outside = [a, b][e] == n_grid
        assert not cover[:, outside].any()


def test_sums_per_calendar_equal_the_whole_grid_computation():
    rng = np.random.default_rng(3)
    weeks, n_grid = 3, 16 * WEEK_HOURS
    windows = [(3 * WEEK_HOURS + 40, 3 * WEEK_HOURS + 88)]  # 48 h on Tue-Wed
    windows += [(w * WEEK_HOURS + 40, w * WEEK_HOURS + 64) for w in (6, 9)]  # the same hours
    windows += [(7 * WEEK_HOURS + 100, 9 * WEEK_HOURS + 10)]  # over a week: meets itself
    windows += [(12 * WEEK_HOURS + 130, 12 * WEEK_HOURS + 140)]
    blocks = [_positions(a, b, n_grid, weeks) for a, b in windows]
    values = np.append(rng.gamma(5.0, 20.0, n_grid), 0.0)
    usable = np.append(rng.random(n_grid) > 0.1, False)
    for block in blocks:
        usable[block[2 * weeks]] = False
    labels = rng.integers(-weeks, weeks + 1, size=(400, len(blocks)))
    labels[0] = 0
    for relative, trend in ((True, (0.02, 7.5)), (False, (-3.0, 7.5))):
        options = {"weeks": weeks, "trend": trend, "relative": relative}
        got = label_sums(blocks, labels, values, usable, **options)
        want = grid_sums(blocks, labels, values, usable, **options)
        np.testing.assert_array_equal(got[3], want[3])
        assert 0 < want[3].sum() < len(labels)  # some calendars are impossible
        for g, w in zip(got[:3], want[:3], strict=True):
            np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-9)
