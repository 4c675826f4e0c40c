"""Sample-level agreement of the event detectors with two human coders (Lund 2013 data).

Reads the hand-labelled image-viewing recordings of Andersson et al. (2017) from
``../shared/data/lund2013`` (``--data`` or ``GAZEKIT_LUND2013``), runs every registered
gazekit detector with its DEFAULT parameters (one parameter set for all files) and the
peers pymovements (I-VT, defaults) and REMoDNaV (defaults) in the same run, and prints
Cohen's kappa per class (fixation, saccade, PSO; one class against the rest) against
each coder (MN, RA), as the mean over recordings. The human anchor (MN against RA) is
computed from the same files, both pooled over samples and as a mean over recordings.
A sensitivity table shows the adaptive detector's kappa when each default moves ±50 %.

    python benchmarks/lund2013_agreement.py [--data DIR] [--no-sensitivity]

Geometry from the files: 1024×768 px on 380×300 mm at 670 mm. The sampling rate is taken
from each file's timestamps (two recordings step 5 ms although their header says
500 Hz); time is the sample index × that period (the timestamps wrap in places). The
pupil height (``pos`` column 2, which falls as the lid closes) goes to blink detection.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from gazekit.events import DETECTORS, label_samples
from gazekit.events.base import FIXATION, PSO, SACCADE
from gazekit.geometry import Geometry
from gazekit.metrics.classification import cohen_kappa
from gazekit.recording import Recording

SCREEN = {"screen_w_px": 1024, "screen_h_px": 768, "screen_w_mm": 380.0, "screen_h_mm": 300.0,
          "viewing_distance_mm": 670.0}  # fmt: skip
GEOM = Geometry(frame="screen", **SCREEN)
#: Coder label and gazekit code of each scored class.
CLASSES = {"fixation": (1, FIXATION), "saccade": (2, SACCADE), "pso": (3, PSO)}
#: The issue's targets for the default adaptive detector.
TARGET_MEAN, TARGET_MIN, TARGET_PSO = 0.82, 0.75, 0.60


@dataclasses.dataclass
class LundRecording:
    """One recording: gaze, pupil, the true period and both coders' labels."""

    name: str
    x: np.ndarray
    y: np.ndarray
    pupil: np.ndarray
    dt_ms: float
    labels: dict[str, np.ndarray]


def default_data_dir() -> Path:
    """``$GAZEKIT_LUND2013``, else ``../shared/data/lund2013`` next to the repository."""
    env = os.environ.get("GAZEKIT_LUND2013")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[1].parent / "shared" / "data" / "lund2013"


def _read(path: Path) -> tuple[np.ndarray, float]:
    import scipy.io

    pos = scipy.io.loadmat(path)["ETdata"][0, 0]["pos"].astype(float)
    steps = np.diff(pos[:, 0])
    dt_ms = float(np.median(steps[steps > 0])) / 1000.0  # µs → ms; wraps are negative
    return pos, dt_ms


def recordings(root: Path) -> list[LundRecording]:
    """Recordings labelled by both coders (the corrected ``_FIX_MN`` file replaces MN)."""
    files: dict[str, dict[str, Path]] = {}
    for f in sorted(root.glob("*_labelled_*.mat")):
        stem = f.stem.replace("_labelled_FIX_", "_labelled_")
        name, coder = stem.rsplit("_labelled_", 1)
        if f.stem.endswith("_labelled_MN") and (root / f"{name}_labelled_FIX_MN.mat").exists():
            continue
        files.setdefault(name, {})[coder] = f
    out = []
    for name, by_coder in files.items():
        if not {"MN", "RA"} <= set(by_coder):
            continue
        pos, dt_ms = _read(by_coder["MN"])
        labels = {c: _read(p)[0][:, 5].astype(int) for c, p in by_coder.items()}
        x, y = pos[:, 3], pos[:, 4]
        lost = (x == 0) & (y == 0)
        pupil = np.where(lost | (pos[:, 2] <= 0), np.nan, pos[:, 2])
        out.append(LundRecording(name, np.where(lost, np.nan, x), np.where(lost, np.nan, y),
                                 pupil, dt_ms, labels))  # fmt: skip
    return out


def kappas(codes: np.ndarray, labels: np.ndarray, peer: bool = False) -> dict[str, float]:
    """Per-class kappa on the common prefix (peers' codes use the coders' numbering)."""
    n = min(len(codes), len(labels))
    out = {}
    for cls, (human, ours) in CLASSES.items():
        a, b = labels[:n] == human, (codes[:n] == (human if peer else ours))
        out[cls] = cohen_kappa(a, b) if (a.any() or b.any()) else float("nan")
    return out


def to_recording(r: LundRecording) -> Recording:
    t = np.arange(len(r.x)) * r.dt_ms
    s = pd.DataFrame({"t_ms": t, "x_px": r.x, "y_px": r.y, "pupil": r.pupil,
                      "valid": np.isfinite(r.x)})  # fmt: skip
    return Recording(r.name, s, GEOM, "lund2013", "", "mat", 1000.0 / r.dt_ms)


def run_gazekit(r: LundRecording, method: str, **params: object) -> np.ndarray:
    return label_samples(to_recording(r), method=method, **params)


def run_remodnav(r: LundRecording) -> np.ndarray:
    """REMoDNaV with its defaults; its codes in the coders' numbering (pursuit 4)."""
    from remodnav.clf import EyegazeClassifier

    rate = 1000.0 / r.dt_ms
    deg_per_px = np.degrees(2 * np.arctan(380 / 1024 / 2 / 670))
    clf = EyegazeClassifier(px2deg=deg_per_px, sampling_rate=rate)
    data = np.rec.fromarrays([r.x, r.y], names="x,y")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        events = clf(clf.preproc(data))
    codes = np.zeros(len(r.x), int)
    kind = {"FIXA": 1, "SACC": 2, "ISAC": 2, "HPSO": 3, "LPSO": 3, "IHPS": 3, "ILPS": 3, "PURS": 4}
    for ev in events:
        a, b = round(ev["start_time"] * rate), round(ev["end_time"] * rate)
        codes[a:b] = kind.get(ev["label"], 0)
    return codes


def run_pymovements_ivt(r: LundRecording) -> np.ndarray:
    """pymovements' I-VT with its default parameters (pix2deg, pos2vel, detect)."""
    import pymovements as pm

    rate = 1000.0 / r.dt_ms
    exp = pm.gaze.Experiment(screen_width_px=1024, screen_height_px=768, screen_width_cm=38.0,
                             screen_height_cm=30.0, distance_cm=67.0, origin="upper left",
                             sampling_rate=rate)  # fmt: skip
    step = round(r.dt_ms)
    t = np.arange(len(r.x), dtype=np.int64) * step
    g = pm.gaze.from_numpy(time=t, pixel=np.stack([r.x, r.y]), experiment=exp, time_unit="ms")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g.pix2deg()
        g.pos2vel()
        g.detect("ivt")
    codes = np.full(len(r.x), 2)  # I-VT is binary: what is not fixation is saccade
    fr = g.events.frame
    for on, off in zip(fr["onset"].to_list(), fr["offset"].to_list(), strict=True):
        codes[int(on) // step : int(off) // step + 1] = 1
    return codes


PEERS: dict[str, tuple[str, Callable[[LundRecording], np.ndarray]]] = {
    "pymovements I-VT": ("pymovements", run_pymovements_ivt),
    "REMoDNaV": ("remodnav", run_remodnav),
}


def human_anchor(recs: list[LundRecording]) -> pd.DataFrame:
    """MN against RA: kappa pooled over all samples and as the mean over recordings."""
    per = []
    pooled_a: list[np.ndarray] = []
    pooled_b: list[np.ndarray] = []
    for r in recs:
        a, b = r.labels["MN"], r.labels["RA"]
        n = min(len(a), len(b))
        pooled_a.append(a[:n])
        pooled_b.append(b[:n])
        per.append(kappas(b[:n], a[:n], peer=True))
    a, b = np.concatenate(pooled_a), np.concatenate(pooled_b)
    pooled = {c: cohen_kappa(a == h, b == h) for c, (h, _) in CLASSES.items()}
    mean = pd.DataFrame(per).mean().to_dict()
    return pd.DataFrame([pooled, mean], index=["pooled over samples", "mean over recordings"])


def agreement(recs: list[LundRecording], runners: dict[str, Callable[[LundRecording], np.ndarray]],
              peers: set[str]) -> tuple[pd.DataFrame, list[str]]:  # fmt: skip
    """Mean-over-recordings kappa table (detector × class/coder) and peer failures."""
    rows, failures = [], []
    for r in recs:
        for label, fn in runners.items():
            try:
                codes = fn(r)
            except Exception as exc:  # a peer failing on one recording is reported
                if label not in peers:
                    raise
                failures.append(f"{label} on {r.name}: {type(exc).__name__}: {exc}")
                continue
            for coder in ("MN", "RA"):
                k = kappas(codes, r.labels[coder], peer=label in peers)
                rows.append({"detector": label, "coder": coder, "recording": r.name, **k})
    df = pd.DataFrame(rows)
    table = df.groupby(["detector", "coder"])[list(CLASSES)].mean().unstack("coder")
    counts = df.groupby("detector")["recording"].nunique()
    table[("recordings", "")] = counts
    return table, failures


def summary(table: pd.DataFrame, label: str) -> tuple[float, float, float]:
    """(mean of fixation+saccade kappa over both coders, their minimum, mean PSO kappa)."""
    a = table.loc[label]
    fs = [a[(c, k)] for c in ("fixation", "saccade") for k in ("MN", "RA")]
    return float(np.mean(fs)), float(min(fs)), float(np.mean([a[("pso", k)] for k in ("MN", "RA")]))


#: Defaults moved by the sensitivity table (signal, post-processing and adaptive ones).
SENSITIVE = ("sg_window_ms", "max_gap_ms", "blink_pad_ms", "min_fixation_ms", "min_saccade_ms",
             "peak_start_deg_s", "peak_k_sd", "onset_k_sd", "context_ms", "min_peak_samples",
             "pso_window_ms", "pso_max_ms", "pursuit_velocity_deg_s")  # fmt: skip


def sensitivity(recs: list[LundRecording]) -> pd.DataFrame:
    """Adaptive kappa summary at the defaults and with each default at 0.5× and 1.5×."""
    from gazekit.events import resolve

    defaults = resolve("adaptive").as_dict()

    def score(**kw: object) -> dict[str, float]:
        table, _ = agreement(recs, {"a": lambda r: run_gazekit(r, "adaptive", **kw)}, set())
        m, lo, pso = summary(table, "a")
        return {"fix+sac mean": m, "fix+sac min": lo, "pso": pso}

    rows = [{"parameter": "(defaults)", "value": float("nan"), "factor": 1.0, **score()}]
    for name in SENSITIVE:
        v0 = defaults[name]
        for f in (0.5, 1.5):
            v = max(1, round(v0 * f)) if isinstance(v0, int) else v0 * f
            try:
                rows.append({"parameter": name, "value": v, "factor": f, **score(**{name: v})})
            except Exception as exc:  # a value outside the valid range is reported
                rows.append({"parameter": name, "value": v, "factor": f, "error": str(exc)[:60]})
    return pd.DataFrame(rows).set_index(["parameter", "factor"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=str(default_data_dir()), help="lund2013 folder")
    ap.add_argument("--no-sensitivity", action="store_true", help="skip the ±50 %% table")
    args = ap.parse_args()
    logging.getLogger("remodnav").setLevel(logging.WARNING)
    root = Path(args.data)
    if (root / "img").is_dir():
        root = root / "img"
    recs = recordings(root)
    if not recs:
        raise SystemExit(f"no labelled recordings in {root} (pass --data or GAZEKIT_LUND2013)")
    runners: dict[str, Callable[[LundRecording], np.ndarray]] = {
        f"gazekit {m}": (lambda r, m=m: run_gazekit(r, m)) for m in DETECTORS.names()
    }
    missing = []
    for label, (module, fn) in PEERS.items():
        try:
            __import__(module)
        except ImportError:
            missing.append(f"{label} (pip install {module})")
            continue
        runners[label] = fn
    rates = sorted({round(1000.0 / r.dt_ms) for r in recs})
    print(f"{len(recs)} recordings (rates from timestamps: {rates} Hz)\n")
    print("human anchor, MN against RA, sample-level Cohen's kappa:")
    print(human_anchor(recs).round(2).to_string(), "\n")
    table, failures = agreement(recs, runners, set(PEERS))
    print("detectors against each coder, mean over recordings:")
    print(table.round(2).to_string())
    for f in failures:
        print(f"  (peer failed, recording left out of its row: {f[:150]})")
    for m in missing:
        print(f"\n!!! PEER MISSING: {m} was not run; no figure is printed for it !!!",
              file=sys.stderr)  # fmt: skip
    if "gazekit adaptive" in table.index:
        m, lo, pso = summary(table, "gazekit adaptive")
        ok = m >= TARGET_MEAN and lo >= TARGET_MIN and pso >= TARGET_PSO
        print(f"\nadaptive: mean fixation+saccade kappa {m:.3f} (target >= {TARGET_MEAN}), "
              f"min {lo:.3f} (target >= {TARGET_MIN}), PSO {pso:.3f} (target >= {TARGET_PSO})"
              f" -> {'MET' if ok else 'NOT MET'}")  # fmt: skip
        for peer in PEERS:
            if peer in table.index:
                pm_, plo, ppso = summary(table, peer)
                print(f"{peer}: mean fixation+saccade {pm_:.3f}, min {plo:.3f}, PSO {ppso:.3f}")
    if not args.no_sensitivity:
        print("\nsensitivity of the adaptive detector (each default at 0.5x / 1x / 1.5x):")
        print(sensitivity(recs).round(3).to_string())


if __name__ == "__main__":
    main()
