"""Plain NumPy/Python references of :mod:`gazekit.events._kernels` (slow, obviously right).

Same names and semantics; they return their results instead of writing into ``out``
arrays. Used only by ``tests/test_events_kernels.py`` and benchmarks.
"""

from __future__ import annotations

import numpy as np

from gazekit.events.base import BLINK, FIXATION, PSO, SACCADE, UNDEFINED


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


def adaptive_walk(
    speed: np.ndarray, ok: np.ndarray, t_ms: np.ndarray, pt: float, st: float,
    pso_window_ms: float, min_saccade_ms: float, codes: np.ndarray, local_min: bool = True,
) -> np.ndarray:  # fmt: skip
    """Steps 2–3 of the adaptive detector: mark SACCADE and PSO in ``codes`` (returned)."""
    n = speed.size
    above = ok & (speed > pt)
    runs = np.flatnonzero(np.diff(np.concatenate(([0], above.astype(np.int8), [0]))))
    starts, ends = runs[::2], runs[1::2] - 1
    last_end = -1
    for i, j in zip(starts, ends, strict=True):
        if i <= last_end:
            continue
        on = int(i)
        while (
            on > 0
            and ok[on - 1]
            and on - 1 > last_end
            and not (speed[on] < st and (not local_min or speed[on - 1] >= speed[on]))
        ):
            on -= 1
        if on < i and speed[on] < st:
            on += 1
        lo = on - 1
        while lo >= 0 and ok[lo] and t_ms[on] - t_ms[lo] <= 40.0:
            lo -= 1
        window = speed[lo + 1 : on]
        lt = 0.7 * st + 0.3 * (window.mean() + 3 * window.std()) if window.size >= 2 else st
        off = int(j)
        while (
            off + 1 < n
            and ok[off + 1]
            and not (speed[off] < lt and (not local_min or speed[off + 1] >= speed[off]))
        ):
            off += 1
        if off > j and speed[off] < lt:
            off -= 1
        if t_ms[off] - t_ms[on] >= min_saccade_ms:
            codes[on : off + 1] = SACCADE
            q, peak = off + 1, -1
            while q < n and ok[q] and t_ms[q] - t_ms[off] <= pso_window_ms:
                if lt < speed[q] <= pt:
                    peak = q
                if speed[q] > pt:
                    break
                q += 1
            if peak > 0:
                e = peak
                while e + 1 < n and ok[e + 1] and not (speed[e] < lt and speed[e + 1] >= speed[e]):
                    e += 1
                if speed[e] < lt:
                    e -= 1
                codes[off + 1 : e + 1] = PSO
                off = e
        last_end = off
    return codes
