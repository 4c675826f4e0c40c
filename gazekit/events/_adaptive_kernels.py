"""Numba kernels of the adaptive detector (:mod:`gazekit.events.adaptive`).

Pure functions on contiguous arrays; the rules they implement, with their sources,
are described in :mod:`gazekit.events.adaptive`. Their independently written
references live in ``tests/reference/events.py``.
"""

from __future__ import annotations

import math

import numpy as np

from gazekit._numba import njit

FIXATION = 1
SACCADE = 2
PSO = 3
BLINK = 4

#: Most speeds one context window's thresholds read (an even subsample beyond it).
CONTEXT_VALUES = 512


# ------------------------------------------------------------------ thresholds
@njit(inline="always")
def _median_sorted(a, k):  # pragma: no cover - jitted
    """Median of the sorted prefix ``a[:k]`` (``k ≥ 1``)."""
    h = k // 2
    if k % 2 == 1:
        return a[h]
    return 0.5 * (a[h - 1] + a[h])


@njit(inline="always")
def _mad_sorted(a, k, med):  # pragma: no cover - jitted
    """Median absolute deviation from ``med`` of the sorted prefix ``a[:k]``, in O(k).

    The deviations left of ``med`` ascend walking left, those right of it walking right;
    merging the two walks visits them in ascending order.
    """
    m = 0
    while m < k and a[m] <= med:
        m += 1
    left = m - 1
    right = m
    lo_rank = (k - 1) // 2
    hi_rank = k // 2
    lo_val = 0.0
    r = 0
    while r <= hi_rank:
        if right >= k or (left >= 0 and med - a[left] <= a[right] - med):
            d = med - a[left]
            left -= 1
        else:
            d = a[right] - med
            right += 1
        if r == lo_rank:
            lo_val = d
        if r == hi_rank:
            return 0.5 * (lo_val + d)
        r += 1
    return lo_val


@njit
def noise_thresholds(values, m, start, k_peak, k_onset, tol):  # pragma: no cover - jitted
    """Nyström & Holmqvist's iteration on the sorted ``values[:m]`` (sorted in place).

    ``PT ← centre + k_peak·spread`` of the values below the current ``PT``, from
    ``start`` until it moves by less than ``tol``; centre and spread are the median and
    1.4826·MAD. Returns ``(PT, ST = centre + k_onset·spread)``; ``(start, NaN)`` when
    fewer than 3 values lie below ``start``.
    """
    values[:m].sort()
    pt = start
    k = np.searchsorted(values[:m], pt)
    if k < 3:
        return start, np.nan
    med = 0.0
    sd = 0.0
    for _ in range(100):
        k = np.searchsorted(values[:m], pt)
        if k < 3:
            break
        med = _median_sorted(values, k)
        sd = 1.4826 * _mad_sorted(values, k, med)
        new = med + k_peak * sd
        done = abs(new - pt) < tol
        pt = new
        if done:
            break
    k = np.searchsorted(values[:m], pt)
    if k >= 3:
        med = _median_sorted(values, k)
        sd = 1.4826 * _mad_sorted(values, k, med)
    return pt, med + k_onset * sd


@njit
def block_thresholds(
    t, speed, ok, pt0, st0, block_ms, context_ms, k_peak, k_onset, tol, min_count, out_pt, out_st
):  # pragma: no cover - jitted
    """Local peak/onset thresholds per block of ``block_ms``.

    Block ``b`` covers ``t[0] + [b·block_ms, (b+1)·block_ms)``; its thresholds come from
    :func:`noise_thresholds` (started at the recording's ``pt0``) on the usable speeds
    within ``context_ms`` centred on the block, read with the stride that keeps at most
    :data:`CONTEXT_VALUES` of them (every sample up to 512 Hz for a 1 s context). Blocks whose context holds fewer than
    ``min_count`` usable samples get the recording's ``(pt0, st0)``.
    """
    n = t.shape[0]
    nb = out_pt.shape[0]
    t0 = t[0]
    half = 0.5 * context_ms
    # the longest context, for one buffer
    cap = 1
    lo = 0
    hi = 0
    for b in range(nb):
        c = t0 + (b + 0.5) * block_ms
        while lo < n and t[lo] < c - half:
            lo += 1
        while hi < n and t[hi] <= c + half:
            hi += 1
        cap = max(cap, hi - lo)
    buf = np.empty(cap)
    lo = 0
    hi = 0
    for b in range(nb):
        c = t0 + (b + 0.5) * block_ms
        while lo < n and t[lo] < c - half:
            lo += 1
        while hi < n and t[hi] <= c + half:
            hi += 1
        m = 0
        stride = (hi - lo + CONTEXT_VALUES - 1) // CONTEXT_VALUES
        for j in range(lo, hi, max(stride, 1)):
            v = speed[j]
            if ok[j] and v < pt0:
                buf[m] = v
                m += 1
        if m < min_count:
            out_pt[b] = pt0
            out_st[b] = st0
            continue
        pt, st = noise_thresholds(buf, m, pt0, k_peak, k_onset, tol)
        if st != st:
            pt = pt0
            st = st0
        out_pt[b] = pt
        out_st[b] = st


# ------------------------------------------------------------------ the walk
@njit(inline="always")
def _velocity(t, x, y, ok, i, half, cv, dt):  # pragma: no cover - jitted
    """Velocity ``(vx, vy)`` (units/s) at sample ``i``.

    The Savitzky–Golay derivative of the signal's speed where the window is complete,
    usable and regular; elsewhere the difference over the nearest usable neighbours.
    """
    n = t.shape[0]
    if i >= half and i + half < n:
        regular = True
        for j in range(i - half, i + half + 1):
            if not ok[j] or (j > i - half and abs(t[j] - t[j - 1] - dt) > 1e-3 * dt):
                regular = False
                break
        if regular:
            vx = 0.0
            vy = 0.0
            for k in range(2 * half + 1):
                vx += cv[k] * x[i - half + k]
                vy += cv[k] * y[i - half + k]
            return vx / dt * 1000.0, vy / dt * 1000.0
    a = i - 1 if i > 0 and ok[i - 1] else i
    b = i + 1 if i + 1 < n and ok[i + 1] else i
    if a == b:
        return 0.0, 0.0
    return (x[b] - x[a]) / (t[b] - t[a]) * 1000.0, (y[b] - y[a]) / (t[b] - t[a]) * 1000.0


@njit(inline="always")
def _dist(x, y, a, b):  # pragma: no cover - jitted
    return math.sqrt((x[b] - x[a]) ** 2 + (y[b] - y[a]) ** 2)


@njit(inline="always")
def _pso_end(
    t, x, y, speed, ok, half, cv, dt, k, off, on, lt, pt, dx, dy, pso_window_ms, pso_max_ms
):  # pragma: no cover - jitted
    """Last sample of the PSO that may start at ``k`` after a saccade ``[on, off]``; -1: none.

    Excursions above ``lt`` that start within ``pso_window_ms`` of ``k`` belong to the
    PSO, which is capped at ``pso_max_ms``. An excursion above the peak threshold ``pt``
    is a PSO only if it moves against the saccade direction ``(dx, dy)``; otherwise it
    is the next saccade and the PSO ends before it. A PSO whose largest distance from
    the saccade's landing point is not below the saccade's amplitude is none.
    """
    n = t.shape[0]
    tk = t[k]
    last = -1
    prev_peak = np.inf
    q = k
    while q < n and ok[q] and t[q] - tk <= pso_max_ms:
        if speed[q] <= lt:
            q += 1
            continue
        if t[q] - tk > pso_window_ms:
            break
        e = q
        pk = q
        while e + 1 < n and ok[e + 1] and speed[e + 1] > lt and t[e + 1] - tk <= pso_max_ms:
            e += 1
            if speed[e] > speed[pk]:
                pk = e
        if speed[pk] >= prev_peak:
            break  # not damped: a new movement, not the oscillation
        if speed[pk] > pt:
            vx, vy = _velocity(t, x, y, ok, pk, half, cv, dt)
            if vx * dx + vy * dy >= 0.0:
                break
        prev_peak = speed[pk]
        last = e
        q = e + 1
    if last < 0:
        return -1
    amp = _dist(x, y, on, off)
    for r in range(k, last + 1):
        if _dist(x, y, off, r) >= amp:
            return -1
    return last


@njit
def adaptive_walk(
    t,
    x,
    y,
    speed,
    ok,
    clean,
    half,
    cv,
    dt,
    block_ms,
    bpt,
    bst,
    min_peak,
    min_saccade_ms,
    pso_window_ms,
    pso_max_ms,
    with_pso,
    codes,
):  # pragma: no cover - jitted
    """Mark saccades, PSOs and the blinks they touch in ``codes`` (others untouched).

    Parameters
    ----------
    t, x, y, speed : (n,) float64
        Time (ms), position (deg) and speed (deg/s) of the signal.
    ok : (n,) bool
        Usable samples (valid, not blink, finite speed).
    clean : (n,) bool
        Usable and not interpolated; a saccade or PSO touching a sample that is not
        clean becomes :data:`BLINK`.
    half, cv, dt
        Savitzky–Golay half window, first-derivative weights and period (ms), for the
        velocity direction.
    block_ms, bpt, bst
        Local peak and onset thresholds per block (:func:`block_thresholds`): each
        sample is compared with its block's peak threshold; a saccade uses the
        thresholds of the block where its peak run starts.
    min_peak : int
        Samples a run above the peak threshold needs to start a saccade.
    min_saccade_ms, pso_window_ms, pso_max_ms : float
    with_pso : bool
        Detect PSOs (false at low rates).
    codes : (n,) int8
        Written in place.

    Returns
    -------
    int
        Number of saccades (including those turned into blinks).
    """
    n = t.shape[0]
    nb = bpt.shape[0]
    t0 = t[0]
    last = -1
    count = 0
    i = 0
    while i < n:
        b = min(int((t[i] - t0) / block_ms), nb - 1)
        pt = bpt[b]
        if not (ok[i] and speed[i] > pt):
            i += 1
            continue
        st = bst[b]
        j = i
        pk = i
        while j + 1 < n and ok[j + 1]:
            bj = min(int((t[j + 1] - t0) / block_ms), nb - 1)
            if not speed[j + 1] > bpt[bj]:
                break
            j += 1
            if speed[j] > speed[pk]:
                pk = j
        if j - i + 1 < min_peak:
            i = j + 1
            continue
        # onset: back over the samples at or above the onset threshold
        on = i
        while on - 1 > last and ok[on - 1] and speed[on - 1] >= st:
            on -= 1
        # local offset threshold from the noise in the 40 ms before the onset
        s1 = 0.0
        s2 = 0.0
        m = 0
        q = on - 1
        while q > last and ok[q] and t[on] - t[q] <= 40.0:
            s1 += speed[q]
            s2 += speed[q] * speed[q]
            m += 1
            q -= 1
        lt = st
        if m >= 2:
            mean = s1 / m
            lt = 0.7 * st + 0.3 * (mean + 3.0 * math.sqrt(max(s2 / m - mean * mean, 0.0)))
        # direction of the movement at the peak
        dx, dy = _velocity(t, x, y, ok, pk, half, cv, dt)
        # offset: the first reversal, local speed minimum or drop below LT after the peak
        k = pk + 1
        while k < n and ok[k]:
            if speed[k] < lt:
                break
            vx, vy = _velocity(t, x, y, ok, k, half, cv, dt)
            if vx * dx + vy * dy <= 0.0:
                break
            if (
                speed[k] < pt
                and speed[k] <= speed[k - 1]
                and k + 1 < n
                and ok[k + 1]
                and speed[k + 1] > speed[k]
            ):
                break
            k += 1
        off = k - 1
        if t[off] - t[on] + dt < min_saccade_ms:
            i = j + 1
            continue
        end = off
        pso_end = -1
        if with_pso and k < n and ok[k]:
            pso_end = _pso_end(
                t, x, y, speed, ok, half, cv, dt, k, off, on, lt, pt, dx, dy,
                pso_window_ms, pso_max_ms,
            )  # fmt: skip
            if pso_end >= k:
                end = pso_end
        touches = (on > 0 and not clean[on - 1]) or (end + 1 < n and not clean[end + 1])
        if not touches:
            for r in range(on, end + 1):
                if not clean[r]:
                    touches = True
                    break
        if touches:
            for r in range(on, end + 1):
                codes[r] = BLINK
        else:
            for r in range(on, off + 1):
                codes[r] = SACCADE
            for r in range(off + 1, end + 1):
                codes[r] = PSO
        count += 1
        last = end
        i = max(end, j) + 1
    return count
