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
