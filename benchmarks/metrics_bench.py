"""Scanpath-metric benchmark: gazekit vs multimatch-gaze, with METRICS.md anchors.

Run with the benchmark venv: ``/work/benchenv/bin/python benchmarks/metrics_bench.py``.
1,000 pairs of 5–15 fixations and 100 pairs of 80–120 fixations (uniform positions on
1280×720 for MultiMatch and 320×240 for ScanMatch/sequence score, durations 0.1–0.5 s).
"""

from __future__ import annotations

import time

import numpy as np

from gazekit.metrics import scanpath as sp

ANCHORS = {  # METRICS.md, this machine: (short set, long set) seconds
    "multimatch": (0.99, 2.5),
    "scanmatch_50ms": (5.7, 41.0),
    "sequence_score": (0.42, 4.5),
}


def make_pairs(
    rng: np.random.Generator, n_pairs: int, lo: int, hi: int, w: float, h: float
) -> list:
    out = []
    for _ in range(n_pairs):
        pair = []
        for n in rng.integers(lo, hi + 1, 2):
            pair.append(
                np.column_stack(
                    [rng.uniform(0, w, n), rng.uniform(0, h, n), rng.uniform(100.0, 500.0, n)]
                )
            )
        out.append(pair)
    return out


def timed(fn, pairs) -> float:
    t = time.perf_counter()
    for p, q in pairs:
        fn(p, q)
    return time.perf_counter() - t


def main() -> None:
    rng = np.random.default_rng(0)
    sets = {
        "short (1000 x 5-15)": (
            make_pairs(rng, 1000, 5, 15, 1280, 720),
            make_pairs(rng, 1000, 5, 15, 320, 240),
        ),
        "long (100 x 80-120)": (
            make_pairs(rng, 100, 80, 120, 1280, 720),
            make_pairs(rng, 100, 80, 120, 320, 240),
        ),
    }
    try:
        import multimatch_gaze as mm
    except ImportError:  # pragma: no cover - only in /work/benchenv
        mm = None
    dt = [("start_x", "f8"), ("start_y", "f8"), ("duration", "f8")]
    # warm the Numba kernels (cached on disk; first call loads or compiles)
    p, q = sets["short (1000 x 5-15)"][0][0]
    frame = {"frame_size": (1280, 720)}
    sp.multimatch(p, q, **frame), sp.scanmatch(p, q, **frame), sp.sequence_score_grid(p, q, **frame)
    for k, (label, (mm_pairs, grid_pairs)) in enumerate(sets.items()):
        print(f"== {label}")
        g = timed(lambda a, b: sp.multimatch(a, b, frame_size=(1280, 720)), mm_pairs)
        line = f"  multimatch      gazekit {g:7.3f} s"
        if mm is not None:
            s_ = np.array([1.0, 1.0, 1e-3])  # multimatch-gaze takes durations in seconds
            recs = [
                (np.rec.fromarrays((a * s_).T, dtype=dt), np.rec.fromarrays((b * s_).T, dtype=dt))
                for a, b in mm_pairs
            ]
            r = timed(lambda a, b: mm.docomparison(a, b, screensize=[1280, 720]), recs)
            line += f" | multimatch-gaze {r:7.3f} s (same run) | speed-up x{r / g:6.1f}"
        print(
            line + f" | anchor {ANCHORS['multimatch'][k]} s (x{ANCHORS['multimatch'][k] / g:.1f})"
        )
        g = timed(
            lambda a, b: sp.scanmatch(a, b, frame_size=(320, 240), temporal_bin_ms=50.0),
            grid_pairs,
        )
        a_ = ANCHORS["scanmatch_50ms"][k]
        print(f"  scanmatch 50ms  gazekit {g:7.3f} s | anchor {a_} s (x{a_ / g:.1f})")
        g = timed(lambda a, b: sp.sequence_score_grid(a, b, frame_size=(320, 240)), grid_pairs)
        a_ = ANCHORS["sequence_score"][k]
        print(f"  sequence score  gazekit {g:7.3f} s | anchor {a_} s (x{a_ / g:.1f})")


if __name__ == "__main__":
    main()
