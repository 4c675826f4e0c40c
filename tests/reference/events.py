"""Plain NumPy/Python references of :mod:`gazekit.events._kernels` (slow, obviously right).

Same names and semantics; they return their results instead of writing into ``out``
arrays. Used by the event tests.
"""

from __future__ import annotations

import numpy as np

from gazekit.events.base import BLINK, FIXATION, PSO, PURSUIT, SACCADE, UNDEFINED


def affine_degrees(x, y, ax, bx, ay, by, dist):
    """Per-axis ``degrees(arctan2(a + b·x, dist))``."""
    return np.degrees(np.arctan2(ax + bx * x, dist)), np.degrees(np.arctan2(ay + by * y, dist))


def savgol_kinematics(t, x, y, valid, half, order, dt):
    """Per sample: ``np.polyfit`` of the valid samples within ``(half + 0.75)·dt`` ms.

    Returns ``(speed /s, accel /s²)``; NaN for invalid samples or fewer than 2 points,
    accel NaN when the fit is first order.
    """
    n = len(t)
    speed = np.full(n, np.nan)
    accel = np.full(n, np.nan)
    radius = (half + 0.75) * dt
    for i in range(n):
        if not valid[i]:
            continue
        sel = valid & (np.abs(t - t[i]) <= radius)
        idx = np.flatnonzero(sel)
        if len(idx) < 2:
            continue
        u = (t[idx] - t[i]) / dt
        p = min(order, len(idx) - 1)
        cx = np.polyfit(u, x[idx], p)[::-1]
        cy = np.polyfit(u, y[idx], p)[::-1]
        vx, vy = cx[1] / dt, cy[1] / dt
        speed[i] = np.hypot(vx, vy) * 1000.0
        if p >= 2:
            accel[i] = np.hypot(2 * cx[2], 2 * cy[2]) / dt**2 * 1.0e6
    return speed, accel


def ivt_labels(speed, valid, blink, threshold):
    """I-VT codes."""
    out = np.where(speed < threshold, FIXATION, SACCADE).astype(np.int8)
    out[np.isnan(speed)] = UNDEFINED
    out[~valid] = UNDEFINED
    out[blink] = BLINK
    return out


def _dispersion(x, y):
    return (x.max() - x.min()) + (y.max() - y.min())


def idt_labels(t, x, y, valid, blink, max_dispersion, window_ms, dt):
    """I-DT as in Salvucci & Goldberg (2000), recomputing every window's dispersion."""
    n = len(t)
    out = np.zeros(n, np.int8)
    i = 0
    while i < n:
        if not valid[i]:
            out[i] = BLINK if blink[i] else UNDEFINED
            i += 1
            continue
        j = i
        while t[j] - t[i] + dt < window_ms and j + 1 < n and valid[j + 1]:
            j += 1
        if t[j] - t[i] + dt < window_ms:
            out[i : j + 1] = UNDEFINED
            i = j + 1
            continue
        if _dispersion(x[i : j + 1], y[i : j + 1]) <= max_dispersion:
            while (
                j + 1 < n
                and valid[j + 1]
                and _dispersion(x[i : j + 2], y[i : j + 2]) <= max_dispersion
            ):
                j += 1
            out[i : j + 1] = FIXATION
            i = j + 1
        else:
            out[i] = SACCADE
            i += 1
    return out


def _runs(codes, t, split_gap_ms):
    """All runs (including undefined): list of (start, end, code)."""
    runs = []
    s = 0
    n = len(codes)
    for i in range(1, n + 1):
        if i == n or codes[i] != codes[s] or t[i] - t[i - 1] > split_gap_ms:
            runs.append((s, i - 1, int(codes[s])))
            s = i
    return runs


def label_runs(codes, t, split_gap_ms):
    """Runs of defined codes: ``(starts, ends, codes)``."""
    r = [x for x in _runs(codes, t, split_gap_ms) if x[2] != UNDEFINED]
    return (
        np.array([a for a, _, _ in r], np.int64),
        np.array([b for _, b, _ in r], np.int64),
        np.array([c for _, _, c in r], np.int8),
    )


def _offset(t, e, dt):
    return t[e + 1] if e + 1 < len(t) and t[e + 1] - t[e] <= 1.5 * dt else t[e] + dt


def event_properties(starts, ends, t, x, y, xd, yd, speed, valid, dt, split_gap_ms):
    """Per-event properties, columns of ``_kernels.PROPERTY_COLUMNS``."""
    out = np.full((len(starts), 16), np.nan)
    for k, (s, e) in enumerate(zip(starts, ends, strict=True)):
        out[k, 0] = t[s]
        out[k, 1] = _offset(t, e, dt)
        idx = np.arange(s, e + 1)[valid[s : e + 1]]
        if len(idx) == 0:
            continue
        f, la = idx[0], idx[-1]
        out[k, 2:8] = [x[idx].mean(), y[idx].mean(), x[f], y[f], x[la], y[la]]
        out[k, 8] = _dispersion(x[idx], y[idx])
        out[k, 9] = _dispersion(xd[idx], yd[idx])
        v = speed[idx]
        v = v[~np.isnan(v)]
        if len(v):
            out[k, 10], out[k, 11] = v.max(), v.mean()
        out[k, 12:16] = [xd[f], yd[f], xd[la], yd[la]]
    return out


def merge_fixations(codes, t, xd, yd, valid, max_gap_ms, max_distance, dt, split_gap_ms):
    """Merge nearby fixations (see the kernel); returns ``(codes, merges)``."""
    codes = codes.copy()
    merges = 0
    prev = None  # (end, indices of the merged fixation's valid samples)
    for s, e, c in _runs(codes, t, split_gap_ms):
        if c != FIXATION:
            continue
        cur = [i for i in range(s, e + 1) if valid[i]]
        if prev is not None and prev[1] and cur and t[s] - t[prev[0]] - dt <= max_gap_ms:
            between = range(prev[0] + 1, s)
            clean = all(valid[i] and codes[i] != BLINK for i in between)
            clean &= all(t[i] - t[i - 1] <= split_gap_ms for i in range(prev[0] + 1, s + 1))
            if clean:
                d = np.hypot(
                    xd[cur].mean() - xd[prev[1]].mean(), yd[cur].mean() - yd[prev[1]].mean()
                )
                if d <= max_distance:
                    codes[prev[0] + 1 : s] = FIXATION
                    prev = (e, prev[1] + list(between) + cur)
                    merges += 1
                    continue
        prev = (e, cur)
    return codes, merges


def drop_short(codes, t, code, min_ms, replacement, dt, split_gap_ms):
    """Relabel short runs of ``code``; returns ``(codes, dropped)``."""
    codes = codes.copy()
    dropped = 0
    for s, e, c in _runs(codes, t, split_gap_ms):
        if c == code and _offset(t, e, dt) - t[s] < min_ms:
            codes[s : e + 1] = replacement
            dropped += 1
    return codes, dropped


# ----------------------------------------------------------------------- adaptive
# Written from the rules in gazekit.events.adaptive, not from the kernels: thresholds with
# np.median over each context window, velocities with np.polyfit, runs from np.diff.


def noise_thresholds(values, start, k_peak, k_onset, tol):
    """(PT, ST) of Nyström & Holmqvist's iteration with np.median; (start, nan) if < 3 below."""
    v = np.asarray(values, dtype=float)
    if (v < start).sum() < 3:
        return start, np.nan
    pt = start
    for _ in range(100):
        below = v[v < pt]
        if below.size < 3:
            break
        med = np.median(below)
        new = med + k_peak * 1.4826 * np.median(np.abs(below - med))
        done = abs(new - pt) < tol
        pt = new
        if done:
            break
    below = v[v < pt]
    med = np.median(below)
    return pt, med + k_onset * 1.4826 * np.median(np.abs(below - med))


def block_thresholds(t, speed, ok, pt0, st0, block_ms, context_ms, k_peak, k_onset, tol, min_count, nb):
    """Per-block (PT, ST) arrays from the usable speeds below pt0 in each centred context."""
    bpt, bst = np.empty(nb), np.empty(nb)
    for b in range(nb):
        c = t[0] + (b + 0.5) * block_ms
        window = np.flatnonzero((t >= c - context_ms / 2) & (t <= c + context_ms / 2))
        if len(window):
            window = window[:: -(-len(window) // 512)]  # at most 512, evenly spread
        inside = window[ok[window] & (speed[window] < pt0)]
        pt, st = noise_thresholds(speed[inside], pt0, k_peak, k_onset, tol)
        if len(inside) < min_count or np.isnan(st):
            pt, st = pt0, st0
        bpt[b], bst[b] = pt, st
    return bpt, bst


def _velocity(t, x, y, ok, i, half, order, dt):
    """Velocity (units/s) at i: polynomial fit on a complete regular usable window, else
    the difference over the usable neighbours."""
    n = len(t)
    lo, hi = i - half, i + half + 1
    if lo >= 0 and hi <= n and ok[lo:hi].all() and np.all(np.abs(np.diff(t[lo:hi]) - dt) <= 1e-3 * dt):
        u = np.arange(-half, half + 1, dtype=float)
        return (np.polyfit(u, x[lo:hi], order)[-2] / dt * 1000.0,
                np.polyfit(u, y[lo:hi], order)[-2] / dt * 1000.0)
    a = i - 1 if i > 0 and ok[i - 1] else i
    b = i + 1 if i + 1 < n and ok[i + 1] else i
    if a == b:
        return 0.0, 0.0
    return (x[b] - x[a]) / (t[b] - t[a]) * 1000.0, (y[b] - y[a]) / (t[b] - t[a]) * 1000.0


def adaptive_walk(t, x, y, speed, ok, clean, half, order, dt, block_ms, bpt, bst, min_peak,
                  min_saccade_ms, pso_window_ms, pso_max_ms, with_pso, codes):
    """Saccades, PSOs and the blinks they touch, marked in a copy of ``codes`` (returned)."""
    codes = codes.copy()
    n = len(t)
    blk = np.minimum(((t - t[0]) // block_ms).astype(int), len(bpt) - 1)
    above = ok & (speed > bpt[blk])
    vel = lambda i: np.array(_velocity(t, x, y, ok, i, half, order, dt))  # noqa: E731
    dist = lambda a, b: np.hypot(x[b] - x[a], y[b] - y[a])  # noqa: E731
    last, i = -1, 0
    while i < n:
        if not above[i]:
            i += 1
            continue
        j = i
        while j + 1 < n and above[j + 1]:
            j += 1
        if j - i + 1 < min_peak:
            i = j + 1
            continue
        pt, st = bpt[blk[i]], bst[blk[i]]
        pk = i + int(np.argmax(speed[i : j + 1]))
        on = i
        while on - 1 > last and ok[on - 1] and speed[on - 1] >= st:
            on -= 1
        pre = [q for q in range(on - 1, last, -1) if t[on] - t[q] <= 40.0]
        good = []
        for q in pre:
            if not ok[q]:
                break
            good.append(q)
        lt = st
        if len(good) >= 2:
            w = speed[good]
            lt = 0.7 * st + 0.3 * (w.mean() + 3 * w.std())
        d = vel(pk)
        k = pk + 1
        while k < n and ok[k]:
            if speed[k] < lt or vel(k) @ d <= 0:
                break
            if speed[k] < pt and speed[k] <= speed[k - 1] and k + 1 < n and ok[k + 1] and speed[k + 1] > speed[k]:
                break
            k += 1
        off = k - 1
        if t[off] - t[on] + dt < min_saccade_ms:
            i = j + 1
            continue
        end = off
        if with_pso and k < n and ok[k]:
            end = max(end, _pso(t, speed, ok, k, off, on, lt, pt, d, vel, dist, pso_window_ms, pso_max_ms))
        if not clean[max(on - 1, 0) : end + 2].all():
            codes[on : end + 1] = BLINK
        else:
            codes[on : off + 1] = SACCADE
            codes[off + 1 : end + 1] = PSO
        last = end
        i = max(end, j) + 1
    return codes


def _pso(t, speed, ok, k, off, on, lt, pt, d, vel, dist, pso_window_ms, pso_max_ms):
    """Last PSO sample after a saccade [on, off] (the offset itself when there is none)."""
    n = len(t)
    inside = [q for q in range(k, n) if t[q] - t[k] <= pso_max_ms]
    stop = next((q for q in inside if not ok[q]), None)
    if stop is not None:
        inside = inside[: inside.index(stop)]
    last, prev = -1, np.inf
    q = 0
    while q < len(inside):
        s = inside[q]
        if speed[s] <= lt:
            q += 1
            continue
        if t[s] - t[k] > pso_window_ms:
            break
        e = q
        while e + 1 < len(inside) and speed[inside[e + 1]] > lt:
            e += 1
        exc = inside[q : e + 1]
        peak = exc[int(np.argmax(speed[exc]))]
        if speed[peak] >= prev or (speed[peak] > pt and vel(peak) @ d >= 0):
            break
        prev = speed[peak]
        last = inside[e]
        q = e + 1
    if last < 0 or any(dist(off, r) >= dist(on, off) for r in range(k, last + 1)):
        return off
    return last


def pursuit_kernel(t, x, y, ok, codes, window_ms, velocity, min_ms):
    """Pursuit inside fixation runs (see :mod:`gazekit.events.pursuit`): ``(codes, count)``."""
    codes = codes.copy()
    count = 0

    def trend(idx):
        idx = idx[ok[idx]]
        if len(idx) < 3 or np.ptp(t[idx]) == 0:
            return None
        return np.array([np.polyfit(t[idx], x[idx], 1)[0], np.polyfit(t[idx], y[idx], 1)[0]]) * 1000

    for s, e, c in _runs(codes, t, np.inf):
        if c != FIXATION or t[e] - t[s] < min_ms:
            continue
        whole = trend(np.arange(s, e + 1))
        if whole is None or np.hypot(*whole) < 0.5 * velocity:
            continue
        moving = np.zeros(e - s + 1, bool)
        for i in range(s, e + 1):
            win = np.arange(s, e + 1)[np.abs(t[s : e + 1] - t[i]) <= window_ms / 2]
            a, b = trend(win[win < i]), trend(win[win >= i])
            moving[i - s] = (
                a is not None and b is not None and np.hypot(*a) > velocity
                and np.hypot(*b) > velocity and a @ b / (np.hypot(*a) * np.hypot(*b)) > 0.5
            )  # fmt: skip
        for a, b, m in _runs(moving.astype(np.int8), t[s : e + 1], np.inf):
            if m and t[s + b] - t[s + a] >= min_ms:
                codes[s + a : s + b + 1] = PURSUIT
                count += 1
    return codes, count
