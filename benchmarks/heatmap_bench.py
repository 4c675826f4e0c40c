"""Heatmap and saliency-metric speed, against the naive approach and peers, in one run.

1. 1,000 fixations on a 2048×2048 image (σ = 40 px ≈ 1°): gazekit (splat + separable
   blur) vs the naive sum of one full-image Gaussian per fixation vs pymovements'
   ``plotting.heatmap`` (a 2-D histogram drawn with imshow's ``gaussian``
   interpolation; timed with the figure drawn, against gazekit's compute + overlay drawn).
2. Per-anatomy heatmaps for 500 recordings × 14 regions (1024² images, 256² grid).
3. Saliency metrics on 1,000 maps of 224×224 with 15 fixations each vs pysaliency.

Run: ``/work/benchenv/bin/python benchmarks/heatmap_bench.py [--quick]`` (``--quick``
times the naive approach on 50 fixations and extrapolates linearly). Peers that are not
installed are skipped.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from gazekit import heatmaps
from gazekit.anatomy import template_from_box
from gazekit.metrics import saliency as S


def best_of(f: Callable[[], Any], n: int = 3) -> float:
    best = np.inf
    for _ in range(n):
        t0 = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t0)
    return best


def naive(
    x: np.ndarray, y: np.ndarray, w: np.ndarray, shape: tuple[int, int], sigma: float
) -> np.ndarray:
    """One full-image Gaussian per fixation, summed with NumPy (float32)."""
    h, wd = shape
    yy = np.arange(h, dtype=np.float32)[:, None]
    xx = np.arange(wd, dtype=np.float32)[None, :]
    out = np.zeros(shape, np.float32)
    for xi, yi, wi in zip(x, y, w, strict=True):
        out += wi * np.exp(-((xx - xi) ** 2 + (yy - yi) ** 2) / (2 * sigma**2))
    return out / out.sum()


def bench_single(quick: bool) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from gazekit.plotting import plot_heatmap

    rng = np.random.default_rng(0)
    n, size, sigma = 1000, 2048, 40.0
    x, y, w = rng.uniform(0, size, n), rng.uniform(0, size, n), rng.uniform(100, 800, n)
    t_gk = best_of(lambda: heatmaps.heatmap(x, y, (size, size), weights=w, sigma=sigma, unit="px"))
    k = 50 if quick else n
    t_naive = best_of(lambda: naive(x[:k], y[:k], w[:k], (size, size), sigma), n=1) * n / k
    ref = naive(x[:50], y[:50], w[:50], (size, size), sigma)
    got = heatmaps.heatmap(x[:50], y[:50], (size, size), weights=w[:50], sigma=sigma, unit="px")
    err = float(np.abs(got - ref).max() / ref.max())
    note = " (extrapolated from 50)" if quick else ""
    print(f"[1] 1,000 fixations, 2048x2048, sigma 40 px: gazekit {t_gk:.3f} s | naive {t_naive:.1f} s{note}"
          f" -> {t_naive / t_gk:.0f}x faster (max rel. difference {err:.1e})")  # fmt: skip

    def gk_drawn() -> None:
        heat = heatmaps.heatmap(x, y, (size, size), weights=w, sigma=sigma, unit="px")
        ax = plot_heatmap(heat, None, contours=False, colorbar=False)
        ax.figure.canvas.draw()
        plt.close(ax.figure)

    t_gk_draw = best_of(gk_drawn, n=2)
    try:
        import polars as pl
        import pymovements as pm

        exp = pm.Experiment(size, size, 53.0, 53.0, 70.0, "upper left", 1000.0)
        # fixation positions repeated by duration in ms (1 kHz samples), so both weight by dwell
        reps = np.round(w).astype(int)
        gaze = pm.Gaze(
            pl.DataFrame({"x": np.repeat(x, reps), "y": np.repeat(y, reps)}),
            exp,
            pixel_columns=["x", "y"],
        )

        def pm_drawn() -> None:
            fig, _ax = pm.plotting.heatmap(gaze, "pixel", gridsize=(size, size), show_cbar=False)
            fig.canvas.draw()
            plt.close(fig)

        t_pm = best_of(pm_drawn, n=2)
        print(f"    drawn figure: gazekit compute+overlay {t_gk_draw:.2f} s | pymovements.plotting.heatmap"
              f" {t_pm:.2f} s -> {t_pm / t_gk_draw:.1f}x; compute only vs pymovements: {t_pm / t_gk:.0f}x")  # fmt: skip
    except Exception as exc:  # peer missing or its API changed
        print(f"    pymovements: skipped ({type(exc).__name__}: {exc})")


def bench_batch() -> None:
    rng = np.random.default_rng(1)
    full = template_from_box((80, 60, 944, 980), (1024, 1024))
    atlas = full.subset(list(full.names[:14]))
    items = []
    for m in rng.integers(40, 200, 500):
        fx = pd.DataFrame(
            {
                "x_px": rng.uniform(100, 900, m),
                "y_px": rng.uniform(80, 950, m),
                "duration_ms": rng.uniform(100, 800, m),
            }
        )
        items.append((fx, atlas))
    t0 = time.perf_counter()
    acc = None
    for st in heatmaps.per_anatomy_batch(items, sigma=40, unit="px", downsample=4, workers=2):
        acc = st.copy() if acc is None else acc + st  # group mean per region
    t_b = time.perf_counter() - t0
    t0 = time.perf_counter()
    for fx, a in items[:100]:
        heatmaps.region_stats(fx, a, coverage_radius=40, coverage_unit="px")
    t_s = (time.perf_counter() - t0) * 5
    print(f"[2] 500 recordings x 14 regions (1024^2 images, 256^2 grid, 2 threads): {t_b:.2f} s "
          f"(target < 10 s); region_stats for 500 recordings: {t_s:.2f} s")  # fmt: skip


def bench_saliency() -> None:
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(2)
    maps = [gaussian_filter(rng.random((224, 224)), 6) for _ in range(1000)]
    fix = [
        (rng.integers(0, 224, 15).astype(float), rng.integers(0, 224, 15).astype(float))
        for _ in maps
    ]
    others = [fix[(i + 1) % len(fix)] for i in range(len(fix))]
    dens = [gaussian_filter(S.fixation_map(f, (224, 224)), 8) + 1e-12 for f in fix]
    runs = {
        "NSS": lambda: [S.nss(m, f) for m, f in zip(maps, fix, strict=True)],
        "CC": lambda: [S.cc(m, d) for m, d in zip(maps, dens, strict=True)],
        "SIM": lambda: [S.sim(m, d) for m, d in zip(maps, dens, strict=True)],
        "KLD": lambda: [S.kld(m, d) for m, d in zip(maps, dens, strict=True)],
        "AUC-Judd": lambda: [S.auc_judd(m, f) for m, f in zip(maps, fix, strict=True)],
        "rank AUC": lambda: [S.auc_rank(m, f) for m, f in zip(maps, fix, strict=True)],
        "AUC-Borji": lambda: [S.auc_borji(m, f) for m, f in zip(maps, fix, strict=True)],
        "shuffled AUC": lambda: [
            S.auc_shuffled(m, f, o) for m, f, o in zip(maps, fix, others, strict=True)
        ],
    }
    gk = {k: best_of(f, n=1) for k, f in runs.items()}
    ps: dict[str, float] = {}
    try:
        import pysaliency.metrics as pm

        if not hasattr(np, "trapz"):
            setattr(np, "trapz", np.trapezoid)  # noqa: B010  pysaliency calls np.trapz (NumPy < 2.4)
        ints = [(f[0].astype(int), f[1].astype(int)) for f in fix]
        ps["NSS"] = best_of(lambda: [pm.NSS(m, *f) for m, f in zip(maps, ints, strict=True)], n=1)
        ps["CC"] = best_of(lambda: [pm.CC(m, d) for m, d in zip(maps, dens, strict=True)], n=1)
        ps["SIM"] = best_of(lambda: [pm.SIM(m, d) for m, d in zip(maps, dens, strict=True)], n=1)
        ps["KLD"] = best_of(
            lambda: [pm.MIT_KLDiv(m, d) for m, d in zip(maps, dens, strict=True)], n=1
        )
        from pysaliency.roc import general_roc

        ps["rank AUC"] = best_of(
            lambda: [
                general_roc(m[f[1], f[0]], m.ravel()) for m, f in zip(maps, ints, strict=True)
            ],
            n=1,
        )
    except Exception as exc:
        print(f"    pysaliency: skipped ({type(exc).__name__}: {exc})")
    listed = {
        "NSS": 0.07,
        "CC": 0.43,
        "SIM": 0.20,
        "KLD": 0.67,
        "AUC-Judd": 4.2,
        "rank AUC": 5.7,  # pysaliency's uniform AUC
        "AUC-Borji": 5.7,  # nearest pysaliency listing: its uniform (rank) AUC
        "shuffled AUC": 2.6,
    }
    print(
        "[3] 1,000 maps 224x224, 15 fixations each (s): metric  gazekit  pysaliency(this run)  pysaliency(METRICS.md)"
    )
    for k, t in gk.items():
        now = f"{ps[k]:.3f} ({ps[k] / t:.1f}x)" if k in ps else "-"
        print(f"    {k:<13} {t:7.3f}   {now:<18} {listed[k]:.2f} ({listed[k] / t:.1f}x)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--quick", action="store_true", help="extrapolate the naive timing from 50 fixations"
    )
    args = ap.parse_args()
    bench_single(args.quick)
    bench_batch()
    bench_saliency()


if __name__ == "__main__":
    main()
