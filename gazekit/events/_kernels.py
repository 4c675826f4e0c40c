"""Numba kernels of event detection (pure functions on contiguous arrays).

Every kernel here has a plain NumPy/Python twin of the same name in
:mod:`gazekit.events._reference`; ``tests/test_events_kernels.py`` proves they agree.
Public wrappers (:mod:`gazekit.events.signal`, :mod:`gazekit.events.ivt`, ...) validate
input, convert physical units to samples and build masks; kernels only compute.

Label codes are those of :mod:`gazekit.events.base` (0 undefined, 1 fixation,
2 saccade, 3 PSO, 4 blink).
"""

from __future__ import annotations

import math

import numpy as np

from gazekit._numba import njit, pnjit, prange

UNDEFINED = 0
FIXATION = 1
SACCADE = 2
PSO = 3
BLINK = 4


# --------------------------------------------------------------------- geometry
@njit
def affine_degrees(x, y, ax, bx, ay, by, dist, out_x, out_y):  # pragma: no cover - jitted
    """Per-axis visual angle ``atan((a + b·x) / dist)`` in degrees, written to ``out_*``.

    ``a + b·x`` is the offset (mm) from the screen centre: the composition of the
    image→screen placement and the px→mm scale of :meth:`Geometry.to_degrees`.
    """
    n = x.shape[0]
    k = 180.0 / math.pi
    for i in range(n):
        out_x[i] = math.atan2(ax + bx * x[i], dist) * k
        out_y[i] = math.atan2(ay + by * y[i], dist) * k


# ------------------------------------------------------------- Savitzky–Golay
@njit(inline="always")
def _local_fit(t, x, y, valid, i, radius, order, dt):  # pragma: no cover - jitted
    """Least-squares polynomial fit around sample ``i`` on the true timestamps.

    Uses the valid samples within ``radius`` ms of ``t[i]``; the order drops to
    ``m - 1`` for ``m`` samples (at most 3). Solves the normal equations by Gaussian
    elimination with partial pivoting. Returns ``(vx, vy, ax, ay)`` in units per ms
    and per ms² (NaN when under 2 samples; accelerations NaN below second order).
    """
    n = t.shape[0]
    lo = i
    while lo > 0 and t[i] - t[lo - 1] <= radius:
        lo -= 1
    hi = i
    while hi < n - 1 and t[hi + 1] - t[i] <= radius:
        hi += 1
    mom = np.zeros(7)
    bx = np.zeros(4)
    by = np.zeros(4)
    m = 0
    for j in range(lo, hi + 1):
        if not valid[j]:
            continue
        u = (t[j] - t[i]) / dt
        p = 1.0
        for k in range(7):
            mom[k] += p
            if k < 4:
                bx[k] += x[j] * p
                by[k] += y[j] * p
            p *= u
        m += 1
    nan = np.nan
    if m < 2:
        return nan, nan, nan, nan
    p = min(order, m - 1, 3)
    while p >= 1:
        q = p + 1
        a = np.empty((q, q + 2))
        for r in range(q):
            for c in range(q):
                a[r, c] = mom[r + c]
            a[r, q] = bx[r]
            a[r, q + 1] = by[r]
        singular = False
        for c in range(q):
            piv = c
            for r in range(c + 1, q):
                if abs(a[r, c]) > abs(a[piv, c]):
                    piv = r
            if abs(a[piv, c]) <= 1e-12 * max(1.0, mom[0]):
                singular = True
                break
            if piv != c:
                for k in range(q + 2):
                    tmp = a[c, k]
                    a[c, k] = a[piv, k]
                    a[piv, k] = tmp
            for r in range(q):
                if r != c:
                    f = a[r, c] / a[c, c]
                    for k in range(c, q + 2):
                        a[r, k] -= f * a[c, k]
        if singular:
            p -= 1
            continue
        vx = a[1, q] / a[1, 1] / dt
        vy = a[1, q + 1] / a[1, 1] / dt
        if p >= 2:
            return vx, vy, 2.0 * a[2, q] / a[2, 2] / (dt * dt), 2.0 * a[2, q + 1] / a[2, 2] / (dt * dt)
        return vx, vy, nan, nan
    return nan, nan, nan, nan


@njit(inline="always")
def _savgol_block(
    t, x, y, valid, half, order, dt, cv, ca, out_speed, out_accel, accel, a, b
):  # pragma: no cover
    """Samples ``a <= i < b`` of :func:`savgol_kinematics` (sliding counts start at ``a``)."""
    n = t.shape[0]
    w = 2 * half + 1
    radius = (half + 0.75) * dt
    tol = 1.0e-3 * dt
    denom = half * (half + 1) * (2 * half + 1) / 3.0  # Σ k² over the window
    run = 0
    sx0 = sy0 = sx1 = sy1 = sx2 = sy2 = sx3 = sy3 = 0.0
    # cubic velocity weights cv[half + k] = α·k + β·k³ (order 3 only; half ≥ 2 then)
    alpha = 0.0
    beta = 0.0
    if order >= 3:
        beta = (cv[half + 2] - 2.0 * cv[half + 1]) / 6.0
        alpha = cv[half + 1] - beta
    # counts of invalid samples and irregular intervals in the window [i-half, i+half]
    bad = 0
    irr = 0
    for j in range(max(a - half, 0), min(a + half + 1, n)):
        if not valid[j]:
            bad += 1
    for j in range(max(a - half, 0), min(a + half, n - 1)):
        if abs(t[j + 1] - t[j] - dt) > tol:
            irr += 1
    for i in range(a, b):
        if i > a:
            jn = i + half  # entering sample
            if jn < n and not valid[jn]:
                bad += 1
            jo = i - half - 1  # leaving sample
            if jo >= 0 and not valid[jo]:
                bad -= 1
            if jn < n and abs(t[jn] - t[jn - 1] - dt) > tol:  # interval (jn-1, jn) enters
                irr += 1
            if jo >= 0 and jo + 1 < n and abs(t[jo + 1] - t[jo] - dt) > tol:  # (jo, jo+1) leaves
                irr -= 1
        if not valid[i]:
            out_speed[i] = np.nan
            if accel:
                out_accel[i] = np.nan
            run = 0
            continue
        if i >= half and i + half < n and bad == 0 and irr == 0:
            o = i - half
            if order >= 3:
                # cubic: the velocity weights are α·k + β·k³; keep Σx, Σk·x, Σk²·x and
                # Σk³·x by recurrence (k → k - 1 as the window slides), recomputed
                # exactly at every multiple of 128 (relative error < 1e-6; the same grid
                # in serial and block-parallel runs, so both give identical results)
                if run > 0 and i % 128 != 0:
                    xo = x[o - 1]  # left the window at k = -half - 1 (before the shift)
                    yo = y[o - 1]
                    xn = x[i + half]  # enters at k = half (after the shift)
                    yn = y[i + half]
                    # remove the leaving sample at k = -half - 1 ... in old coordinates it
                    # sat at k = -half; shift every remaining k by -1, then add the new one
                    h1 = -half
                    sx0 -= xo
                    sy0 -= yo
                    sx1 -= h1 * xo
                    sy1 -= h1 * yo
                    sx2 -= h1 * h1 * xo
                    sy2 -= h1 * h1 * yo
                    sx3 -= h1 * h1 * h1 * xo
                    sy3 -= h1 * h1 * h1 * yo
                    sx3 = sx3 - 3.0 * sx2 + 3.0 * sx1 - sx0
                    sy3 = sy3 - 3.0 * sy2 + 3.0 * sy1 - sy0
                    sx2 = sx2 - 2.0 * sx1 + sx0
                    sy2 = sy2 - 2.0 * sy1 + sy0
                    sx1 = sx1 - sx0
                    sy1 = sy1 - sy0
                    hh = float(half)
                    sx0 += xn
                    sy0 += yn
                    sx1 += hh * xn
                    sy1 += hh * yn
                    sx2 += hh * hh * xn
                    sy2 += hh * hh * yn
                    sx3 += hh * hh * hh * xn
                    sy3 += hh * hh * hh * yn
                    run += 1
                else:
                    sx0 = sy0 = sx1 = sy1 = sx2 = sy2 = sx3 = sy3 = 0.0
                    for k in range(w):
                        u = float(k - half)
                        sx0 += x[o + k]
                        sy0 += y[o + k]
                        sx1 += u * x[o + k]
                        sy1 += u * y[o + k]
                        sx2 += u * u * x[o + k]
                        sy2 += u * u * y[o + k]
                        sx3 += u * u * u * x[o + k]
                        sy3 += u * u * u * y[o + k]
                    run = 1
                vx = (alpha * sx1 + beta * sx3) / dt
                vy = (alpha * sy1 + beta * sy3) / dt
            else:
                # orders 1-2: the velocity weights are k / Σk², so keep Σx and Σk·x by
                # recurrence along a regular stretch, recomputed exactly every 512 samples
                if 0 < run < 512:
                    xo = x[o - 1]
                    yo = y[o - 1]
                    xn = x[i + half]
                    yn = y[i + half]
                    sx1 = sx1 - sx0 + (half + 1) * xo + half * xn
                    sy1 = sy1 - sy0 + (half + 1) * yo + half * yn
                    sx0 = sx0 - xo + xn
                    sy0 = sy0 - yo + yn
                    run += 1
                else:
                    sx0 = 0.0
                    sy0 = 0.0
                    sx1 = 0.0
                    sy1 = 0.0
                    for k in range(w):
                        sx0 += x[o + k]
                        sy0 += y[o + k]
                        sx1 += (k - half) * x[o + k]
                        sy1 += (k - half) * y[o + k]
                    run = 1
                vx = sx1 / denom / dt
                vy = sy1 / denom / dt
            axx = 0.0
            ayy = 0.0
            if accel:
                for k in range(w):
                    axx += ca[k] * x[o + k]
                    ayy += ca[k] * y[o + k]
                axx /= dt * dt
                ayy /= dt * dt
        else:
            run = 0
            vx, vy, axx, ayy = _local_fit(t, x, y, valid, i, radius, order, dt)
        out_speed[i] = math.sqrt(vx * vx + vy * vy) * 1000.0
        if accel:
            out_accel[i] = math.sqrt(axx * axx + ayy * ayy) * 1.0e6


@njit
def savgol_kinematics(
    t, x, y, valid, half, order, dt, cv, ca, out_speed, out_accel, accel=True
):  # pragma: no cover
    """Savitzky–Golay speed and acceleration magnitude on a possibly irregular time base.

    Parameters
    ----------
    t : (n,) float64, ms
    x, y : (n,) float64
        Positions (deg, or px in degree-free mode).
    valid : (n,) bool
        Samples that may enter a fit; others give NaN and are skipped by neighbours.
    half : int
        Half window in samples (window ``2·half + 1``).
    order : int
        Polynomial order (1 to 3).
    dt : float
        Nominal sample period (ms).
    cv : (2·half + 1,) float64
        Uniform-grid SG first-derivative weights (per sample), convolved for order 3;
        orders 1–2 use the equal weights ``k / Σk²`` by recurrence.
    ca : (2·half + 1,) float64
        Uniform-grid SG second-derivative weights (per sample²), used where the window
        is complete, valid and regular. For orders 1–2 the first-derivative weights
        there are ``k / Σk²``; the kernel keeps ``Σx`` and ``Σk·x`` by recurrence
        along regular stretches (recomputed exactly every 512 samples), O(1) per sample.
    out_speed : (n,) float64
        Written: speed per second (units/s).
    out_accel : (n,) float64
        Written: acceleration magnitude per second² (units/s²), only when ``accel`` is
        true (otherwise it may be any array, e.g. of length 0, and is not touched).

    Notes
    -----
    A window is *regular* when every interval in it is within 0.1 % of ``dt``; there
    the classic convolution is exact. Elsewhere (timestamp jitter, dropped rows,
    gaps, recording edges) the same polynomial is fitted by least squares on the
    true timestamps of the valid samples within ``(half + 0.75)·dt`` ms.
    """
    n = t.shape[0]
    _savgol_block(t, x, y, valid, half, order, dt, cv, ca, out_speed, out_accel, accel, 0, n)


@pnjit
def savgol_kinematics_parallel(
    t, x, y, valid, half, order, dt, cv, ca, out_speed, out_accel, accel=True, block=65536
):  # pragma: no cover
    """:func:`savgol_kinematics` on blocks of ``block`` samples in parallel (long recordings)."""
    n = t.shape[0]
    nb = (n + block - 1) // block
    for k in prange(nb):
        a = k * block
        b = min(n, a + block)
        _savgol_block(t, x, y, valid, half, order, dt, cv, ca, out_speed, out_accel, accel, a, b)


@pnjit
def affine_degrees_parallel(x, y, ax, bx, ay, by, dist, out_x, out_y):  # pragma: no cover
    """:func:`affine_degrees` with the samples split across threads (long recordings)."""
    k = 180.0 / math.pi
    for i in prange(x.shape[0]):
        out_x[i] = math.atan2(ax + bx * x[i], dist) * k
        out_y[i] = math.atan2(ay + by * y[i], dist) * k


# ------------------------------------------------------------------ detectors
@njit
def ivt_labels(speed, valid, blink, threshold, out):  # pragma: no cover - jitted
    """I-VT: fixation below ``threshold`` (speed units), saccade at or above it.

    Blink samples get :data:`BLINK`; other invalid samples or NaN speed
    :data:`UNDEFINED`. ``out`` is an (n,) int8 array, written.
    """
    for i in range(speed.shape[0]):
        if blink[i]:
            out[i] = BLINK
        elif not valid[i]:
            out[i] = UNDEFINED
        else:
            v = speed[i]
            if v < threshold:
                out[i] = FIXATION
            elif v >= threshold:
                out[i] = SACCADE
            else:  # NaN
                out[i] = UNDEFINED


@njit(inline="always")
def _dq_push(buf, head, tail, vals, idx, sign):  # pragma: no cover - jitted
    """Push ``idx`` on a monotonic deque of ``sign·vals`` (front = max); grows ``buf``."""
    v = sign * vals[idx]
    while tail > head and sign * vals[buf[tail - 1]] <= v:
        tail -= 1
    if tail == buf.shape[0]:
        if head > 0:  # compact
            m = tail - head
            for k in range(m):
                buf[k] = buf[head + k]
            head = 0
            tail = m
        else:
            nb = np.empty(2 * buf.shape[0], dtype=buf.dtype)
            nb[:tail] = buf[:tail]
            buf = nb
    buf[tail] = idx
    return buf, head, tail + 1


@njit(inline="always")
def _dq_front(buf, head, tail, start):  # pragma: no cover - jitted
    """Drop indices before ``start`` from the front; return the new head."""
    while head < tail and buf[head] < start:
        head += 1
    return head


@njit
def idt_labels(t, x, y, valid, blink, max_dispersion, window_ms, dt, out):  # pragma: no cover
    """I-DT (Salvucci & Goldberg 2000) with a linear-time sliding-window dispersion.

    A window of valid samples lasting at least ``window_ms`` (``t[j] - t[i] + dt``)
    whose dispersion ``(max x - min x) + (max y - min y)`` is at most
    ``max_dispersion`` starts a fixation, which grows while the dispersion stays
    under the threshold; otherwise the window's first sample is a saccade and the
    window slides by one. Running minima/maxima come from four monotonic deques, so
    each sample is pushed and popped at most once: O(n) overall. Windows never span
    invalid samples; valid samples that cannot fill a window before a gap or the end
    stay :data:`UNDEFINED`.
    """
    n = t.shape[0]
    cap = 256
    bxmax = np.empty(cap, np.int64)
    bxmin = np.empty(cap, np.int64)
    bymax = np.empty(cap, np.int64)
    bymin = np.empty(cap, np.int64)
    h0 = t0 = h1 = t1 = h2 = t2 = h3 = t3 = 0
    i = 0
    j = -1  # last sample pushed on the deques (window is [i, j])
    while i < n:
        if not valid[i]:
            out[i] = BLINK if blink[i] else UNDEFINED
            i += 1
            continue
        if j < i:  # empty window: restart the deques at i
            h0 = t0 = h1 = t1 = h2 = t2 = h3 = t3 = 0
            j = i - 1
        # grow to the minimum duration
        while j < i or t[j] - t[i] + dt < window_ms:
            if j + 1 >= n or not valid[j + 1]:
                break
            j += 1
            bxmax, h0, t0 = _dq_push(bxmax, h0, t0, x, j, 1.0)
            bxmin, h1, t1 = _dq_push(bxmin, h1, t1, x, j, -1.0)
            bymax, h2, t2 = _dq_push(bymax, h2, t2, y, j, 1.0)
            bymin, h3, t3 = _dq_push(bymin, h3, t3, y, j, -1.0)
        if t[j] - t[i] + dt < window_ms:
            # cannot fill a window before a gap or the end
            for k in range(i, j + 1):
                out[k] = UNDEFINED
            i = j + 1
            continue
        xmax = x[bxmax[h0]]
        xmin = x[bxmin[h1]]
        ymax = y[bymax[h2]]
        ymin = y[bymin[h3]]
        if (xmax - xmin) + (ymax - ymin) <= max_dispersion:
            while j + 1 < n and valid[j + 1]:
                xn = x[j + 1]
                yn = y[j + 1]
                d = (max(xmax, xn) - min(xmin, xn)) + (max(ymax, yn) - min(ymin, yn))
                if d > max_dispersion:
                    break
                j += 1
                xmax = max(xmax, xn)
                xmin = min(xmin, xn)
                ymax = max(ymax, yn)
                ymin = min(ymin, yn)
            for k in range(i, j + 1):
                out[k] = FIXATION
            i = j + 1  # deques restart at the next window
        else:
            out[i] = SACCADE
            i += 1
            h0 = _dq_front(bxmax, h0, t0, i)
            h1 = _dq_front(bxmin, h1, t1, i)
            h2 = _dq_front(bymax, h2, t2, i)
            h3 = _dq_front(bymin, h3, t3, i)


# ------------------------------------------------------------ runs and events
@njit(inline="always")
def _run_end(codes, t, s, split_gap_ms):  # pragma: no cover - jitted
    """Inclusive end of the run starting at ``s`` (same code, no Δt above the split gap)."""
    n = codes.shape[0]
    c = codes[s]
    e = s
    while e + 1 < n and codes[e + 1] == c and t[e + 1] - t[e] <= split_gap_ms:
        e += 1
    return e


@njit(inline="always")
def _run_offset(t, e, dt, split_gap_ms):  # pragma: no cover - jitted
    """Offset (ms) of a run ending at sample ``e``: the next sample's time when it
    follows without a gap (≤ 1.5·Δt), else ``t[e] + dt``."""
    if e + 1 < t.shape[0] and t[e + 1] - t[e] <= 1.5 * dt:
        return t[e + 1]
    return t[e] + dt


@njit
def label_runs(codes, t, split_gap_ms):  # pragma: no cover - jitted
    """Runs of equal, defined codes: ``(starts, ends, codes)`` (inclusive ends).

    A run is split where two consecutive samples are more than ``split_gap_ms`` apart
    (dropped rows); :data:`UNDEFINED` samples form no run.
    """
    n = codes.shape[0]
    m = 0
    s = 0
    while s < n:
        e = _run_end(codes, t, s, split_gap_ms)
        if codes[s] != UNDEFINED:
            m += 1
        s = e + 1
    starts = np.empty(m, np.int64)
    ends = np.empty(m, np.int64)
    kinds = np.empty(m, np.int8)
    k = 0
    s = 0
    while s < n:
        e = _run_end(codes, t, s, split_gap_ms)
        if codes[s] != UNDEFINED:
            starts[k] = s
            ends[k] = e
            kinds[k] = codes[s]
            k += 1
        s = e + 1
    return starts, ends, kinds


#: Columns of :func:`event_properties`' output.
PROPERTY_COLUMNS = (
    "onset_ms",
    "offset_ms",
    "x_px",
    "y_px",
    "start_x_px",
    "start_y_px",
    "end_x_px",
    "end_y_px",
    "dispersion_px",
    "dispersion_deg",
    "peak_velocity_deg_s",
    "mean_velocity_deg_s",
    "start_x_deg",
    "start_y_deg",
    "end_x_deg",
    "end_y_deg",
)


@njit
def event_properties(
    starts, ends, t, x, y, xd, yd, speed, valid, dt, split_gap_ms
):  # pragma: no cover
    """Per-event properties over the event's valid samples.

    Returns an (m, 16) float64 array in the order of :data:`PROPERTY_COLUMNS`
    (positions NaN for events without valid samples, e.g. blinks).
    """
    m = starts.shape[0]
    out = np.full((m, 16), np.nan)
    for k in range(m):
        s = starts[k]
        e = ends[k]
        out[k, 0] = t[s]
        out[k, 1] = _run_offset(t, e, dt, split_gap_ms)
        cnt = 0
        sx = 0.0
        sy = 0.0
        xmin = np.inf
        xmax = -np.inf
        ymin = np.inf
        ymax = -np.inf
        dxmin = np.inf
        dxmax = -np.inf
        dymin = np.inf
        dymax = -np.inf
        vmax = -np.inf
        vsum = 0.0
        vcnt = 0
        first = -1
        last = -1
        for i in range(s, e + 1):
            if not valid[i]:
                continue
            if first < 0:
                first = i
            last = i
            cnt += 1
            sx += x[i]
            sy += y[i]
            xmin = min(xmin, x[i])
            xmax = max(xmax, x[i])
            ymin = min(ymin, y[i])
            ymax = max(ymax, y[i])
            dxmin = min(dxmin, xd[i])
            dxmax = max(dxmax, xd[i])
            dymin = min(dymin, yd[i])
            dymax = max(dymax, yd[i])
            v = speed[i]
            if v == v:
                vmax = max(vmax, v)
                vsum += v
                vcnt += 1
        if cnt == 0:
            continue
        out[k, 2] = sx / cnt
        out[k, 3] = sy / cnt
        out[k, 4] = x[first]
        out[k, 5] = y[first]
        out[k, 6] = x[last]
        out[k, 7] = y[last]
        out[k, 8] = (xmax - xmin) + (ymax - ymin)
        out[k, 9] = (dxmax - dxmin) + (dymax - dymin)
        if vcnt > 0:
            out[k, 10] = vmax
            out[k, 11] = vsum / vcnt
        out[k, 12] = xd[first]
        out[k, 13] = yd[first]
        out[k, 14] = xd[last]
        out[k, 15] = yd[last]
    return out


# ------------------------------------------------------------ post-processing
@njit
def merge_fixations(
    codes, t, xd, yd, valid, max_gap_ms, max_distance, dt, split_gap_ms
):  # pragma: no cover
    """Merge fixations separated by a short, fully valid, blink-free interruption.

    Two fixation runs are merged (the samples between relabelled fixation, in
    place) when the time between them (``t[next start] - t[prev end] - dt``) is at
    most ``max_gap_ms``, every sample between is valid, and their mean positions
    (``xd``/``yd`` units) are at most ``max_distance`` apart (Olsen 2012). Returns
    the number of merges.
    """
    n = codes.shape[0]
    merges = 0
    pe = -1  # end of the previous fixation run
    psx = 0.0
    psy = 0.0
    pc = 0
    s = 0
    while s < n:
        e = _run_end(codes, t, s, split_gap_ms)
        if codes[s] != FIXATION:
            s = e + 1
            continue
        csx = 0.0
        csy = 0.0
        cc = 0
        for i in range(s, e + 1):
            if valid[i]:
                csx += xd[i]
                csy += yd[i]
                cc += 1
        joined = False
        if pe >= 0 and pc > 0 and cc > 0 and t[s] - t[pe] - dt <= max_gap_ms:
            clean = True
            for i in range(pe + 1, s):
                if not valid[i] or codes[i] == BLINK:
                    clean = False
                    break
            for i in range(pe + 1, s + 1):
                if t[i] - t[i - 1] > split_gap_ms:
                    clean = False
                    break
            if clean:
                ddx = csx / cc - psx / pc
                ddy = csy / cc - psy / pc
                if math.sqrt(ddx * ddx + ddy * ddy) <= max_distance:
                    for i in range(pe + 1, s):
                        codes[i] = FIXATION
                        if valid[i]:
                            psx += xd[i]
                            psy += yd[i]
                            pc += 1
                    psx += csx
                    psy += csy
                    pc += cc
                    joined = True
                    merges += 1
        if not joined:
            psx = csx
            psy = csy
            pc = cc
        pe = e
        s = e + 1
    return merges


@njit
def drop_short(codes, t, code, min_ms, replacement, dt, split_gap_ms):  # pragma: no cover
    """Relabel runs of ``code`` lasting less than ``min_ms`` as ``replacement``.

    Run duration is the events table's ``offset - onset``. Returns the number of runs
    relabelled.
    """
    n = codes.shape[0]
    dropped = 0
    s = 0
    while s < n:
        e = _run_end(codes, t, s, split_gap_ms)
        if codes[s] == code and _run_offset(t, e, dt, split_gap_ms) - t[s] < min_ms:
            for i in range(s, e + 1):
                codes[i] = replacement
            dropped += 1
        s = e + 1
    return dropped


# --------------------------------------------------------------------- adaptive
@njit
def adaptive_walk(speed, ok, t_ms, pt, st, pso_window_ms, min_saccade_ms, codes, local_min=True):  # type: ignore[no-untyped-def]
    """Numba kernel of steps 2–3: mark SACCADE and PSO in ``codes`` (others untouched)."""
    n = speed.shape[0]
    i = 0
    last_end = -1
    while i < n:
        if not (ok[i] and speed[i] > pt):
            i += 1
            continue
        j = i
        while j + 1 < n and ok[j + 1] and speed[j + 1] > pt:
            j += 1
        # onset: back to a local minimum below ST
        on = i
        while (
            on > 0
            and ok[on - 1]
            and on - 1 > last_end
            and not (speed[on] < st and (not local_min or speed[on - 1] >= speed[on]))
        ):
            on -= 1
        if on < i and speed[on] < st:
            on += 1  # the sample below the threshold is the fixation's
        # local noise in the 40 ms before the onset
        s = 0.0
        s2 = 0.0
        m = 0
        k = on - 1
        while k >= 0 and ok[k] and t_ms[on] - t_ms[k] <= 40.0:
            s += speed[k]
            s2 += speed[k] * speed[k]
            m += 1
            k -= 1
        lt = st
        if m >= 2:
            mean = s / m
            var = s2 / m - mean * mean
            lt = 0.7 * st + 0.3 * (mean + 3.0 * math.sqrt(max(var, 0.0)))
        off = j
        while (
            off + 1 < n
            and ok[off + 1]
            and not (speed[off] < lt and (not local_min or speed[off + 1] >= speed[off]))
        ):
            off += 1
        if off > j and speed[off] < lt:
            off -= 1
        if t_ms[off] - t_ms[on] >= min_saccade_ms:
            for q in range(on, off + 1):
                codes[q] = SACCADE
            # PSO: a new excursion above LT within the window after the offset
            q = off + 1
            peak = -1
            while q < n and ok[q] and t_ms[q] - t_ms[off] <= pso_window_ms:
                if speed[q] > lt and speed[q] <= pt:
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
                for r in range(off + 1, e + 1):
                    codes[r] = PSO
                off = e
        last_end = off
        i = max(off, j) + 1
    return codes
