"""Sample-level agreement of the event detectors with two human coders (Lund 2013 data).

Reads the hand-labelled image-viewing recordings of Andersson et al. (2017) from
``../shared/data/lund2013`` (``--data``), runs every registered gazekit detector with its
DEFAULT parameters (one parameter set for all files), and prints Cohen's kappa per class
(fixation, saccade, PSO; one class against the rest, on each recording's samples, then
averaged over recordings) against each coder (MN, RA), next to pymovements' I-VT and
REMoDNaV run in the same process when installed, and the published anchors.

    python benchmarks/lund2013_agreement.py [--data DIR]

Geometry from the data's README: 1024×768 px on 380×300 mm at 670 mm, 500 Hz. The files'
timestamps wrap in places; time is the sample index × 2 ms (the tracker's fixed rate).
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from gazekit.events import DETECTORS, label_samples
from gazekit.events.base import FIXATION, PSO, SACCADE
from gazekit.geometry import Geometry
from gazekit.metrics.classification import cohen_kappa
from gazekit.recording import Recording

GEOM = Geometry(frame="screen", screen_w_px=1024, screen_h_px=768, screen_w_mm=380,
                screen_h_mm=300, viewing_distance_mm=670)  # fmt: skip
RATE = 500.0
CLASSES = {"fixation": (1, FIXATION), "saccade": (2, SACCADE), "pso": (3, PSO)}
ANCHORS = {
    "pymovements I-VT (defaults)": {"fixation": (0.52, 0.53), "saccade": (0.26, 0.27)},
    "REMoDNaV": {"fixation": (0.53, 0.55), "saccade": (0.76, 0.76), "pso": (0.58, 0.59)},
    "I2MC": {"fixation": (0.64, 0.56), "saccade": (0.61, 0.61)},
    "human MN vs RA": {"fixation": (0.84, 0.84), "saccade": (0.91, 0.91), "pso": (0.76, 0.76)},
}


def load(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x, y (px, NaN where lost) and the coder's labels of one .mat file."""
    import scipy.io

    pos = scipy.io.loadmat(path)["ETdata"][0, 0]["pos"]
    x, y = pos[:, 3].astype(float), pos[:, 4].astype(float)
    lost = (x == 0) & (y == 0)
    return np.where(lost, np.nan, x), np.where(lost, np.nan, y), pos[:, 5].astype(int)


def recordings(root: Path) -> list[tuple[str, dict[str, Path]]]:
    """(recording name, {coder: file}) for recordings labelled by both coders."""
    out: dict[str, dict[str, Path]] = {}
    for f in sorted(root.glob("*_labelled_*.mat")):
        stem = f.stem.replace("_labelled_FIX_", "_labelled_")
        name, coder = stem.rsplit("_labelled_", 1)
        if f.stem.endswith("_labelled_MN") and (root / f"{name}_labelled_FIX_MN.mat").exists():
            continue  # the corrected MN file replaces it
        out.setdefault(name, {})[coder] = f
    return [(k, v) for k, v in out.items() if {"MN", "RA"} <= set(v)]


def kappas(codes: np.ndarray, labels: np.ndarray, peer: bool = False) -> dict[str, float]:
    n = min(len(codes), len(labels))
    out = {}
    for cls, (human, ours) in CLASSES.items():
        a, b = labels[:n] == human, (codes[:n] == (human if peer else ours))
        out[cls] = cohen_kappa(a, b) if (a.any() or b.any()) else float("nan")
    return out


def run_gazekit(x: np.ndarray, y: np.ndarray, method: str) -> np.ndarray:
    t = np.arange(len(x)) * (1000.0 / RATE)
    s = pd.DataFrame({"t_ms": t, "x_px": x, "y_px": y, "pupil": np.nan, "valid": np.isfinite(x)})
    rec = Recording("lund", s, GEOM, "lund2013", "", "mat", RATE)
    return label_samples(rec, method=method)


def run_remodnav(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    from remodnav.clf import EyegazeClassifier

    px_per_deg = 1.0 / np.degrees(2 * np.arctan(380 / 1024 / 2 / 670))
    clf = EyegazeClassifier(px2deg=1.0 / px_per_deg, sampling_rate=RATE)
    data = np.rec.fromarrays([x, y], names="x,y")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        events = clf(clf.preproc(data))
    codes = np.zeros(len(x), int)
    kind = {"FIXA": 1, "SACC": 2, "ISAC": 2, "HPSO": 3, "LPSO": 3, "IHPS": 3, "ILPS": 3, "PURS": 4}
    for ev in events:
        a, b = round(ev["start_time"] * RATE), round(ev["end_time"] * RATE)
        codes[a:b] = kind.get(ev["label"], 0)
    return codes


def run_pymovements_ivt(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """pymovements' I-VT with its default parameters (pix2deg, pos2vel, detect)."""
    import pymovements as pm

    exp = pm.gaze.Experiment(screen_width_px=1024, screen_height_px=768, screen_width_cm=38.0,
                             screen_height_cm=30.0, distance_cm=67.0, origin="upper left",
                             sampling_rate=RATE)  # fmt: skip
    t = np.arange(len(x), dtype=np.int64) * 2
    g = pm.gaze.from_numpy(time=t, pixel=np.stack([x, y]), experiment=exp, time_unit="ms")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g.pix2deg()
        g.pos2vel()
        g.detect("ivt")
    codes = np.full(len(x), 2)  # I-VT is binary: what is not fixation is saccade
    fr = g.events.frame
    for on, off in zip(fr["onset"].to_list(), fr["offset"].to_list(), strict=True):
        codes[int(on) // 2 : int(off) // 2 + 1] = 1
    return codes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--data",
        default=str(Path(__file__).resolve().parents[2] / "shared" / "data" / "lund2013" / "img"),
    )
    args = ap.parse_args()
    root = Path(args.data)
    if (root / "img").is_dir():
        root = root / "img"
    recs = recordings(root)
    if not recs:
        raise SystemExit(f"no labelled recordings in {root}")
    methods: dict[str, object] = {f"gazekit {m}": m for m in DETECTORS.names()}
    peers = {"pymovements I-VT": run_pymovements_ivt, "REMoDNaV": run_remodnav}
    rows = []
    failures: list[str] = []
    for name, files in recs:
        data = {c: load(f) for c, f in files.items()}
        x, y, _ = data["MN"]
        outputs = {label: run_gazekit(x, y, m) for label, m in methods.items()}
        for label, fn in peers.items():
            try:
                outputs[label] = fn(x, y)
            except ImportError:
                continue
            except Exception as exc:  # a peer failing on one recording is reported, not fatal
                failures.append(f"{label} on {name}: {type(exc).__name__}: {exc}")
        for label, codes in outputs.items():
            for coder in ("MN", "RA"):
                k = kappas(codes, data[coder][2], peer=not label.startswith("gazekit"))
                rows.append({"detector": label, "coder": coder, "recording": name, **k})
    df = pd.DataFrame(rows)
    table = df.groupby(["detector", "coder"])[list(CLASSES)].mean().unstack("coder")
    print(f"{len(recs)} recordings, sample-level Cohen's kappa per class (mean over recordings)\n")
    print(table.round(2).to_string())
    for f in failures:
        print(f"  (failed, left out: {f[:150]})")
    print("\npublished anchors (MN/RA):")
    for k, v in ANCHORS.items():
        print(f"  {k:28s} " + "  ".join(f"{c} {a:.2f}/{b:.2f}" for c, (a, b) in v.items()))
    if "gazekit adaptive" in table.index:
        a = table.loc["gazekit adaptive"]
        fs = [a[("fixation", c)] for c in ("MN", "RA")] + [a[("saccade", c)] for c in ("MN", "RA")]
        print(
            f"\nadaptive: mean fixation+saccade kappa {np.mean(fs):.2f} (target >= 0.80), min {min(fs):.2f} "
            f"(target >= 0.75), PSO {np.mean([a[('pso', c)] for c in ('MN', 'RA')]):.2f} (target >= 0.60)"
        )


if __name__ == "__main__":
    main()
