"""Event-detection speed and memory: gazekit's detectors vs pymovements and REMoDNaV, one run.

1. 10 million samples at 1000 Hz (synthetic: fixations with noise and drift,
   main-sequence saccades, blinks as 50–400 ms NaN losses, a few short losses),
   screen 1920×1080 px / 531×298 mm at 650 mm.
2. A batch of 1,000 recordings at 60 Hz (30 s each, timestamp jitter, 1 % dropped rows).

Every gazekit detector is timed in-process after a warm-up (whole ``detect``: degrees,
gap filling, blinks, Savitzky–Golay velocity, labelling, post-processing, events table),
with the JIT compile / cache load reported separately and the first call in a fresh
process measured in a subprocess. Peak memory is the largest RSS increase during the
call (sampled every millisecond), against the bytes of the input arrays. Peers run on
the same data in the same run: pymovements I-VT (pix2deg + Savitzky–Golay pos2vel +
ivt), I-DT (pix2deg + idt) and REMoDNaV (preproc + classify). A peer slower than the
``--peer-samples`` budget runs on the first N samples and is extrapolated linearly
(said in the output). Missing peers are skipped.

Run: ``python benchmarks/events_bench.py [--samples N] [--peer-samples N] [--batch N]``
with pymovements and REMoDNaV installed in the same environment (a missing peer is
announced loudly and no ratio is printed for it). REMoDNaV is not run at 60 Hz: its
default Savitzky–Golay window (19 ms) is under the odd number of samples it requires
there and it refuses the data.
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from gazekit import events
from gazekit.geometry import Geometry
from gazekit.recording import Recording

GEOM = Geometry(
    frame="screen",
    screen_w_px=1920,
    screen_h_px=1080,
    screen_w_mm=531,
    screen_h_mm=298,
    viewing_distance_mm=650,
)
PX_PER_DEG = GEOM.px_per_deg()


def synth(n: int, rate: float, seed: int, *, jitter: float = 0.0, drop: float = 0.0) -> dict:
    """Fast synthetic gaze (screen px): fixations, saccades, blinks, noise."""
    rng = np.random.default_rng(seed)
    dt = 1000.0 / rate
    total = n * dt
    m = int(total / 200) + 10
    fix_ms = np.clip(rng.lognormal(np.log(230), 0.45, m), 60, 2000)
    amp = np.clip(rng.gamma(2.0, 3.0, m), 0.5, 25.0)  # deg
    sac_ms = 2.2 * amp + 21.0
    ang = rng.uniform(0, 2 * np.pi, m)
    px = np.empty(m + 1)
    py = np.empty(m + 1)
    px[0], py[0] = 960.0, 540.0
    for k in range(m):  # random walk kept on screen (m ~ n/200: cheap)
        nx = px[k] + amp[k] * PX_PER_DEG * np.cos(ang[k])
        ny = py[k] + amp[k] * PX_PER_DEG * np.sin(ang[k])
        if not (100 < nx < 1820 and 100 < ny < 980):
            nx, ny = px[k] - (nx - px[k]), py[k] - (ny - py[k])
        px[k + 1], py[k + 1] = np.clip(nx, 50, 1870), np.clip(ny, 50, 1030)
    dur = np.empty(2 * m)
    dur[0::2], dur[1::2] = fix_ms, sac_ms
    bounds = np.concatenate([[0.0], np.cumsum(dur)])
    t = np.arange(n) * dt
    if jitter:
        t = t + np.clip(rng.normal(0, jitter, n), -0.4 * dt, 0.4 * dt)
        t[0] = 0.0
    seg = np.searchsorted(bounds, t, side="right") - 1
    k = seg // 2
    frac = (t - bounds[seg]) / dur[seg]
    s = np.where(seg % 2 == 1, 0.5 - 0.5 * np.cos(np.pi * frac), 0.0)
    del frac, seg
    noise = 0.02 * PX_PER_DEG if rate >= 500 else 0.1 * PX_PER_DEG
    x = px[k] + s * (px[k + 1] - px[k]) + rng.normal(0, noise, n)
    y = py[k] + s * (py[k + 1] - py[k]) + rng.normal(0, noise, n)
    del s, k
    pupil = 20.0 + rng.normal(0, 0.3, n)
    # blinks (~15/min, 50-400 ms) and short losses (~5/min, 5-40 ms)
    for rate_min, lo, hi in ((15, 50, 400), (5, 5, 40)):
        nb = rng.poisson(rate_min * total / 60000)
        on = rng.uniform(0, total, nb)
        off = on + rng.uniform(lo, hi, nb)
        a = np.searchsorted(t, on)
        b = np.searchsorted(t, off)
        for i, j in zip(a, b, strict=True):
            x[i:j] = np.nan
            y[i:j] = np.nan
            pupil[i:j] = np.nan
    if drop:
        keep = rng.random(n) >= drop
        keep[0] = True
        t, x, y, pupil = t[keep], x[keep], y[keep], pupil[keep]
    return {"t_ms": t, "x_px": x, "y_px": y, "pupil": pupil, "valid": np.isfinite(x)}


def recording(cols: dict, rid: str, rate: float) -> Recording:
    return Recording(rid, pd.DataFrame(cols, copy=False), GEOM, "bench", "", "memory", rate)


def input_bytes(cols: dict) -> int:
    return sum(v.nbytes for v in cols.values())


class PeakRSS:
    """Largest RSS increase (bytes) while the ``with`` block runs (1 ms sampling)."""

    def __enter__(self) -> PeakRSS:
        import psutil

        self._p = psutil.Process()
        self.base = self._p.memory_info().rss
        self.peak = self.base
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._p.memory_info().rss)
            time.sleep(0.001)

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._t.join()
        self.peak = max(self.peak, self._p.memory_info().rss)

    @property
    def extra(self) -> int:
        return self.peak - self.base


def timed(f: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    best, out = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = f()
        best = min(best, time.perf_counter() - t0)
    return best, out


# ----------------------------------------------------------------------- peers
def _pm_gaze(cols: dict, rate: float, *, index_time: bool = False) -> Any:
    import pymovements as pm

    exp = pm.gaze.Experiment(
        screen_width_px=1920,
        screen_height_px=1080,
        screen_width_cm=53.1,
        screen_height_cm=29.8,
        distance_cm=65.0,
        origin="upper left",
        sampling_rate=rate,
    )
    pix = np.stack([cols["x_px"], cols["y_px"]])
    t = np.round(cols["t_ms"]).astype(np.int64)  # pymovements' I-DT needs integer ms
    if index_time:  # ... and a constant step: sample indices for jittered 60 Hz data
        t = np.arange(len(t), dtype=np.int64)
    return pm.gaze.from_numpy(time=t, pixel=pix, experiment=exp, time_unit="ms")


def pm_ivt(cols: dict, rate: float) -> int:
    g = _pm_gaze(cols, rate)
    g.pix2deg()
    w = max(3, round(20 * rate / 1000) | 1)
    g.pos2vel("savitzky_golay", window_length=w, degree=min(2, w - 1))
    g.detect("ivt", velocity_threshold=30.0, minimum_duration=60)
    return len(g.events.frame)


def pm_idt(cols: dict, rate: float) -> int:
    regular = rate >= 1000
    g = _pm_gaze(cols, rate, index_time=not regular)
    g.pix2deg()
    g.detect(
        "idt",
        dispersion_threshold=1.0,
        minimum_duration=100 if regular else max(1, round(100 * rate / 1000)),
    )
    return len(g.events.frame)


def remodnav(cols: dict, rate: float) -> int:
    from remodnav.clf import EyegazeClassifier

    logging.getLogger("remodnav").setLevel(logging.WARNING)
    clf = EyegazeClassifier(px2deg=1.0 / PX_PER_DEG, sampling_rate=rate)
    data = np.rec.fromarrays([cols["x_px"], cols["y_px"]], names="x,y")
    return len(clf(clf.preproc(data)))


PEERS: dict[str, tuple[str, Callable[[dict, float], int]]] = {
    "ivt": ("pymovements I-VT", pm_ivt),
    "idt": ("pymovements I-DT", pm_idt),
    "adaptive": ("REMoDNaV", remodnav),
}
TARGETS = {"ivt": 100.0, "idt": 300.0, "adaptive": 150.0}


def _have(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def time_peer(name: str, cols: dict, rate: float, budget: int) -> tuple[float, str] | None:
    """Seconds for the whole input (extrapolated from ``budget`` samples when smaller)."""
    label, f = PEERS[name]
    if not _have("pymovements" if "pymovements" in label else "remodnav"):
        print(f"  !!! {label} NOT INSTALLED: not run, no ratio (pip install "
              f"{'pymovements' if 'pymovements' in label else 'remodnav'}) !!!")
        return None
    n = len(cols["t_ms"])
    sub = cols if budget <= 0 or budget >= n else {k: v[:budget] for k, v in cols.items()}
    m = len(sub["t_ms"])
    secs, _ = timed(lambda: f(sub, rate))
    note = "" if m == n else f" (timed on {m:,} samples, ×{n / m:.1f} linear extrapolation)"
    return secs * n / m, note


# ------------------------------------------------------------------- first call
FIRST_CALL = """
import time
t0 = time.perf_counter()
import numpy as np, pandas as pd
from gazekit import events
from gazekit.geometry import Geometry
from gazekit.recording import Recording
t1 = time.perf_counter()
g = Geometry(frame="screen", screen_w_px=1920, screen_h_px=1080, screen_w_mm=531,
             screen_h_mm=298, viewing_distance_mm=650)
t = np.arange(5000.0)
x = 960 + np.where(t % 400 < 350, 0.0, 50.0)
df = pd.DataFrame({"t_ms": t, "x_px": x, "y_px": x * 0 + 540, "pupil": x * 0 + 20,
                   "valid": np.ones(5000, bool)})
rec = Recording("r", df, g, "c", "", "memory", 1000.0)
for m in events.DETECTORS.names():
    events.detect(rec, m)
t2 = time.perf_counter()
print(f"{t1 - t0:.3f} {t2 - t1:.3f}")
"""


def first_call() -> None:
    print("\nFirst call in a fresh process (import gazekit.events + detect with every detector):")
    for attempt in ("1st process (may compile and fill the cache)", "2nd process (cache load)"):
        t0 = time.perf_counter()
        res = subprocess.run(
            [sys.executable, "-c", FIRST_CALL], capture_output=True, text=True, check=True
        )
        wall = time.perf_counter() - t0
        imp, call = map(float, res.stdout.split())
        ok = "OK" if imp + call < 3.0 else "over the 3 s target"
        print(
            f"  {attempt:46s} import {imp:.2f} s, first detect {call:.2f} s, "
            f"process {wall:.2f} s [{ok}]"
        )


# ------------------------------------------------------------------------ main
def bench_long(n: int, peer_samples: int) -> None:
    cols = synth(n, 1000.0, seed=0)
    nbytes = input_bytes(cols)
    rec = recording(cols, "long", 1000.0)
    print(
        f"\n{n:,} samples at 1000 Hz ({np.isnan(cols['x_px']).mean():.1%} lost), "
        f"input arrays {nbytes / 1e6:.0f} MB"
    )
    for method in events.DETECTORS.names():
        small = recording({k: v[:20_000] for k, v in cols.items()}, "warm", 1000.0)
        t0 = time.perf_counter()
        events.detect(small, method)  # JIT compile or cache load
        jit = time.perf_counter() - t0
        with PeakRSS() as mem:
            secs, ev = timed(lambda m=method: events.detect(rec, m))
        secs = min(secs, timed(lambda m=method: events.detect(rec, m), repeat=2)[0])
        counts = ev["event"].value_counts().to_dict()
        print(
            f"  gazekit {method:14s} {secs:7.3f} s  {n / secs / 1e6:7.1f} M samples/s  "
            f"peak +{mem.extra / 1e6:.0f} MB = {mem.extra / nbytes:.2f}× input "
            f"[{'OK' if mem.extra <= 2 * nbytes else 'over 2×'}]  (warm-up/JIT {jit:.2f} s) "
            f"{counts.get('fixation', 0)} fix, {counts.get('saccade', 0)} sac"
        )
        if method in PEERS:
            peer = time_peer(method, cols, 1000.0, peer_samples)
            if peer is not None:
                psecs, note = peer
                ratio = psecs / secs
                target = TARGETS[method]
                print(
                    f"  {PEERS[method][0]:22s} {psecs:7.2f} s  {n / psecs / 1e6:7.2f} M samples/s"
                    f"{note}\n  → gazekit {method} is {ratio:.0f}× faster "
                    f"(target ≥ {target:.0f}×: {'met' if ratio >= target else 'NOT met'})"
                )


def bench_batch(n_rec: int, seconds: float, peer_recs: int, jobs: int) -> None:
    rate = 60.0
    n = int(seconds * rate)
    recs = [
        recording(synth(n, rate, seed=i, jitter=1.2, drop=0.01), f"r{i:04d}", rate)
        for i in range(n_rec)
    ]
    total = sum(len(r.samples) for r in recs)
    print(f"\nBatch: {n_rec:,} recordings at 60 Hz ({seconds:.0f} s each, jittered, 1 % dropped)")
    for method in events.DETECTORS.names():
        events.detect_many(recs[:2], method, jobs=1)
        serial, _ = timed(lambda m=method: events.detect_many(recs, m, jobs=1))
        par, ev = timed(lambda m=method: events.detect_many(recs, m, jobs=jobs))
        print(
            f"  gazekit {method:14s} {min(serial, par):7.3f} s  "
            f"({n_rec / min(serial, par):,.0f} rec/s; 1 thread {serial:.3f} s, "
            f"{jobs} threads {par:.3f} s)  {len(ev):,} events"
        )
        if method in PEERS:
            label, f = PEERS[method]
            if label == "REMoDNaV":
                print("  REMoDNaV               not run at 60 Hz (it rejects its own default "
                      "19 ms filter window at this rate)")
                continue
            if not _have("pymovements" if "pymovements" in label else "remodnav"):
                print(f"  !!! {label} NOT INSTALLED: not run, no ratio !!!")
                continue
            k = max(1, min(peer_recs, n_rec))
            secs, _ = timed(lambda f=f, k=k: [f(_cols(r), rate) for r in recs[:k]])
            psecs = secs * n_rec / k
            note = "" if k == n_rec else f" (timed on {k} recordings, extrapolated)"
            print(
                f"  {label:22s} {psecs:7.2f} s{note}  → gazekit {psecs / min(serial, par):.0f}× faster"
            )
    print(f"  ({total:,} samples in all)")


def _cols(rec: Recording) -> dict:
    return {c: rec.samples[c].to_numpy() for c in ("t_ms", "x_px", "y_px")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=10_000_000)
    ap.add_argument(
        "--peer-samples",
        type=int,
        default=1_000_000,
        help="time peers on the first N samples and extrapolate (0: all)",
    )
    ap.add_argument("--batch", type=int, default=1000, help="60 Hz recordings in the batch")
    ap.add_argument("--batch-seconds", type=float, default=30.0)
    ap.add_argument("--peer-recordings", type=int, default=50)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    print(f"gazekit event detection benchmark; detectors: {', '.join(events.DETECTORS.names())}")
    print(f"CPU cores: {os.cpu_count()}, python {sys.version.split()[0]}, "
          f"load average {os.getloadavg()[0]:.2f}")
    first_call()
    bench_long(args.samples, args.peer_samples)
    bench_batch(args.batch, args.batch_seconds, args.peer_recordings, args.jobs)


if __name__ == "__main__":
    main()
