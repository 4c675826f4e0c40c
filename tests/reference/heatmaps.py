"""Slow, obviously-correct references for the heatmap and saliency kernels."""

from __future__ import annotations

import numpy as np


def naive_heatmap(x, y, w, shape, sigma_px):
    """Sum of one full-image Gaussian per fixation (the approach gazekit avoids)."""
    h, wd = shape
    yy, xx = np.mgrid[:h, :wd].astype(np.float64)
    out = np.zeros(shape)
    for xi, yi, wi in zip(x, y, w, strict=True):
        out += wi * np.exp(-((xx - xi) ** 2 + (yy - yi) ** 2) / (2 * sigma_px**2))
    return out / out.sum()


def naive_auc_judd(s, fix_idx):
    """Loop transcription of the MIT AUC_Judd.m (no jitter)."""
    s = (s - s.min()) / (s.max() - s.min())
    flat = s.ravel()
    sth = flat[fix_idx]
    n_fix, n_pix = len(sth), flat.size
    th = sorted(sth, reverse=True)
    tp, fp = [0.0], [0.0]
    for i, t in enumerate(th, 1):
        above = int((flat >= t).sum())
        tp.append(i / n_fix)
        fp.append((above - i) / (n_pix - n_fix))
    tp.append(1.0)
    fp.append(1.0)
    return float(np.trapezoid(tp, fp))


def naive_auc_splits(pos, neg, step):
    """Per-split loop of the MIT AUC_Borji.m / AUC_shuffled.m threshold sweep."""
    aucs = []
    for k in range(neg.shape[1]):
        cur = neg[:, k]
        th = np.arange(0, max(pos.max(), cur.max()) + step * 1e-9, step)[::-1]
        tp = [0.0] + [(pos >= t).sum() / pos.size for t in th] + [1.0]
        fp = [0.0] + [(cur >= t).sum() / cur.size for t in th] + [1.0]
        aucs.append(np.trapezoid(tp, fp))
    return float(np.mean(aucs))


def naive_coverage_counts(x, y, radius, masks):
    """Pixels of each (R, H, W) mask within each point's radius (scalar or (N,)), by brute force."""
    _, h, w = masks.shape
    yy, xx = np.mgrid[:h, :w]
    near = np.zeros((h, w), bool)
    for cx, cy, r in zip(x, y, np.broadcast_to(radius, np.shape(x)), strict=True):
        if np.isfinite(cx) and np.isfinite(cy):
            near |= (xx - cx) ** 2 + (yy - cy) ** 2 <= r * r
    return (masks & near[None]).sum(axis=(1, 2))
