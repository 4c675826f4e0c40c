"""Regenerate the EGD-CXR and REFLACX fixtures as their producers' code writes them.

Run ``python tests/data/make_corpus_fixtures.py`` from the repository root. Independent
of gazekit (only NumPy and pandas), so a writer bug in gazekit cannot leak into the
fixtures its readers are tested on. Magnitudes and formatting follow the corpora:

REFLACX (the corpus's ``create_main_table.py`` conventions): CRLF, pandas' float
notation, positions/angular resolutions/rectangles rounded to integers and written as
integers, empty cells for missing values, pupil as a normalised area (~1), window
level/width normalised (0-2), times in s from the audio start rounded to 1 ms, label
columns of the ellipses sorted, certainty 1-5, reader not named anywhere. One phase-1
reading that zooms ×2.5 half-way (132 → 53 image px per degree; one fixation off the
image) and one phase-3 reading without zoom.

EGD-CXR (Gazepoint export + the corpus's mapping code): pandas' float notation (5-decimal
values that came through a float parser: ``0.33879000000000004``), ~61.8 Hz, pupils in
mm (~3.5) and px (~18), ``X_ORIGINAL = int(k · (screen − pad))`` with ``k = even image
size / displayed size``, ``int(-k)`` off the image; a calibration image under a truncated
DICOM_ID (absent from ``master_sheet.csv``) with ``X/Y_ORIGINAL`` in screen pixels; two
sessions of one radiologist.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
RNG = np.random.default_rng(20)


def save_crlf(df: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="\r\n") as fh:
        df.to_csv(fh, index=False)


def ints(v: np.ndarray) -> list[str]:
    return ["" if not np.isfinite(x) else str(int(np.round(x))) for x in np.asarray(v, float)]


# ----------------------------------------------------------------------------- REFLACX


def reflacx_reading(
    n: int, t_start: float, fixes: list[tuple[float, float, float, float]], zoom_at: int | None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Gaze samples (1 kHz) and fixations of one reading; zoom ×2.5 from sample ``zoom_at``."""
    w, h = 2544, 3056
    t = np.round(t_start + np.arange(n) / 1000.0, 3)
    zoomed = np.zeros(n, bool) if zoom_at is None else np.arange(n) >= zoom_at
    full = (0, 0, w, h)
    zoom = (763, 1189, 1781, 2411)
    shown = np.where(zoomed[:, None], zoom, full)
    screen = np.tile((470, 12, 1449, 1188), (n, 1))
    ppd = np.where(zoomed[:, None], (53, 52), (132, 131))
    x = np.full(n, np.nan)
    y = np.full(n, np.nan)
    last = None
    for s, e, fx, fy in fixes:
        i0, i1 = np.searchsorted(t, s), np.searchsorted(t, e)
        if last is not None:  # saccade from the previous fixation
            j0, (px, py) = last
            k = np.arange(j0, i0)
            a = (k - j0 + 1) / (i0 - j0 + 1)
            x[k], y[k] = px + a * (fx - px), py + a * (fy - py)
        sd = 3.0 if fx < 0 or not zoomed[i0] else 1.5
        x[i0:i1] = fx + RNG.normal(0, sd * 2, i1 - i0)
        y[i0:i1] = fy + RNG.normal(0, sd * 2, i1 - i0)
        last = (i1, (fx, fy))
    x[: np.searchsorted(t, fixes[0][0])] = fixes[0][2]
    y[: np.searchsorted(t, fixes[0][0])] = fixes[0][3]
    x[last[0] :], y[last[0] :] = last[1]
    blink = slice(n // 3, n // 3 + 30)
    x[blink] = y[blink] = np.nan
    pupil = np.round(1.0 + 0.05 * np.sin(np.arange(n) / 90.0) + RNG.normal(0, 0.004, n), 3)
    pupil[blink] = np.nan
    view = {
        "angular_resolution_x_pixels_per_degree": ints(ppd[:, 0]),
        "angular_resolution_y_pixels_per_degree": ints(ppd[:, 1]),
        "window_width": np.round(np.full(n, 0.81712), 5),
        "window_level": np.round(np.full(n, 0.43611), 5),
        "xmin_shown_from_image": ints(shown[:, 0]), "ymin_shown_from_image": ints(shown[:, 1]),
        "xmax_shown_from_image": ints(shown[:, 2]), "ymax_shown_from_image": ints(shown[:, 3]),
        "xmin_in_screen_coordinates": ints(screen[:, 0]),
        "ymin_in_screen_coordinates": ints(screen[:, 1]),
        "xmax_in_screen_coordinates": ints(screen[:, 2]),
        "ymax_in_screen_coordinates": ints(screen[:, 3]),
    }  # fmt: skip
    gaze = pd.DataFrame({
        "timestamp_sample": t, "x_position": ints(x), "y_position": ints(y),
        "pupil_area_normalized": pupil, **view,
    })  # fmt: skip
    rows = []
    for s, e, fx, fy in fixes:
        i = int(np.searchsorted(t, s))
        rows.append({
            "timestamp_start_fixation": s, "timestamp_end_fixation": e,
            "x_position": str(int(fx)), "y_position": str(int(fy)),
            "pupil_area_normalized": round(float(np.nanmean(pupil[i : i + 50])), 3),
            **{k: v[i] for k, v in view.items()},
        })  # fmt: skip
    return gaze, pd.DataFrame(rows)


PHASE1 = sorted([
    "Airway wall thickening", "Atelectasis", "Consolidation", "Emphysema",
    "Enlarged cardiac silhouette", "Fibrosis", "Fracture", "Groundglass opacity", "Mass",
    "Nodule", "Pleural effusion", "Pleural thickening", "Pneumothorax", "Pulmonary edema",
    "Quality issue", "Support devices", "Wide mediastinum",
])  # fmt: skip
PHASE3 = sorted([
    "Abnormal mediastinal contour", "Acute fracture", "Atelectasis", "Consolidation",
    "Enlarged cardiac silhouette", "Enlarged hilum", "Groundglass opacity", "Hiatal hernia",
    "High lung volume / emphysema", "Interstitial lung disease", "Lung nodule or mass",
    "Pleural abnormality", "Pneumothorax", "Pulmonary edema", "Support devices",
])  # fmt: skip


def ellipses(rows: list[tuple[tuple[int, int, int, int], int, list[str]]], labels: list[str]):
    out = []
    for box, certainty, labs in rows:
        r = dict(zip(("xmin", "ymin", "xmax", "ymax"), box, strict=True))
        r["certainty"] = certainty
        r.update({lab: lab in labs for lab in labels})
        out.append(r)
    return pd.DataFrame(out, columns=["xmin", "ymin", "xmax", "ymax", "certainty", *labels])


def words(text: str, t0: float, t1: float) -> pd.DataFrame:
    toks = text.replace(".", " .").replace(",", " ,").split()
    edges = np.round(np.linspace(t0, t1, len(toks) + 1), 3)
    return pd.DataFrame(
        {"word": toks, "timestamp_start_word": edges[:-1], "timestamp_end_word": edges[1:]}
    )


def make_reflacx(root: Path) -> None:
    main, gazed = root / "main_data", root / "gaze_data"
    readings = {
        "P102R108387": dict(
            phase=1, dicom="5b1f0c2e-4d3a2b1c-0f9e8d7c-6b5a4938-27160514", subject="15628804",
            n=800, t=2.113, zoom=400,
            fixes=[(2.125, 2.3, 1302, 1187), (2.335, 2.48, -35, 1650),
                   (2.56, 2.76, 1190, 2010), (2.79, 2.905, 1415, 1580)],
            ell=[((1105, 1820, 1330, 2080), 4, ["Nodule"]),
                 ((1700, 2290, 2390, 2860), 2, ["Pleural effusion", "Pleural thickening"])],
            text="Small nodule in the right lower lobe. Possible small left effusion.",
            chest=(212, 388, 2391, 2904),
        ),
        "P300R482915": dict(
            phase=3, dicom="0a2f4d6e-1b3c5a7e-9f8d6c4b-2a1e3f5d-7c9b8a6e", subject="11255143",
            n=300, t=0.842, zoom=None,
            fixes=[(0.85, 1.02, 1260, 1490), (1.06, 1.139, 1610, 2110)],
            ell=[((640, 1430, 1960, 2470), 5, ["Enlarged cardiac silhouette"])],
            text="The heart is enlarged.",
            chest=(198, 402, 2370, 2890),
        ),
    }  # fmt: skip
    meta: dict[int, list[dict]] = {1: [], 3: []}
    for rid, r in readings.items():
        gaze, fix = reflacx_reading(r["n"], r["t"], r["fixes"], r["zoom"])
        save_crlf(gaze, gazed / rid / "gaze.csv")
        save_crlf(fix, main / rid / "fixations.csv")
        labels = PHASE1 if r["phase"] == 1 else PHASE3
        save_crlf(ellipses(r["ell"], labels), main / rid / "anomaly_location_ellipses.csv")
        save_crlf(
            pd.DataFrame([dict(zip(("xmin", "ymin", "xmax", "ymax"), r["chest"], strict=True))]),
            main / rid / "chest_bounding_box.csv",
        )
        t_end = r["t"] + r["n"] / 1000.0
        save_crlf(
            words(r["text"], r["t"] + 0.2, t_end), main / rid / "timestamps_transcription.csv"
        )
        (main / rid / "transcription.txt").write_text(r["text"])
        row = {
            "id": rid, "split": "train", "eye_tracking_data_discarded": False,
            "image": f"physionet.org/files/mimic-cxr/2.0.0/files/p{r['subject'][:2]}/p{r['subject']}/s5000/{r['dicom']}.dcm",
            "dicom_id": r["dicom"], "subject_id": r["subject"],
            "image_size_x": 2544, "image_size_y": 3056,
        }  # fmt: skip
        for lab in labels:
            if lab in ("Support devices", "Quality issue"):
                row[lab] = False
            else:
                row[lab] = max([c for _, c, labs in r["ell"] if lab in labs], default=0)
        row["Other"] = ""
        meta[r["phase"]].append(row)
    for phase, rows in meta.items():
        df = pd.DataFrame(rows)
        labels = PHASE1 if phase == 1 else PHASE3
        save_crlf(df[[*df.columns[:8], *labels]], main / f"metadata_phase_{phase}.csv")


# ----------------------------------------------------------------------------- EGD-CXR


def f5(v: np.ndarray) -> np.ndarray:
    """5-decimal values as they come out of a float parser (``33879 * 1e-5``)."""
    return np.round(np.asarray(v, float) * 1e5).astype(np.int64) * 1e-5


def egd_rows(
    session: int, dicom: str, t_start: float, cnt0: int, fixes: list[tuple[float, float, float]],
    size: tuple[int, int] | None, pads: tuple[int, int, int, int],
) -> tuple[pd.DataFrame, pd.DataFrame]:  # fmt: skip
    """Samples (~61.8 Hz) of one image: fixations ``(duration_s, FPOGX, FPOGY)``."""
    dt = 1.0 / 61.8
    n_per = [max(2, int(d / dt)) for d, _, _ in fixes]
    n = sum(n_per)
    t = t_start + np.arange(n) * dt + RNG.normal(0, 0.0004, n)
    fid = np.repeat(np.arange(len(fixes)) + 1, n_per) + 1
    first = np.r_[0, np.cumsum(n_per)[:-1]]
    fs = t[first][fid - 2]
    fx = np.repeat([f[1] for f in fixes], n_per)
    fy = np.repeat([f[2] for f in fixes], n_per)
    bx = fx + RNG.normal(0, 0.006, n)
    by = fy + RNG.normal(0, 0.01, n)
    valid = np.ones(n, int)
    valid[n // 2 : n // 2 + 3] = 0  # a blink
    lpmm = 3.5 + 0.2 * np.sin(np.arange(n) / 40.0) + RNG.normal(0, 0.03, n)
    rpmm = lpmm + 0.06
    lpmm, rpmm = np.where(valid, lpmm, 0.0), np.where(valid, rpmm, 0.0)
    top, bottom, left, right = pads
    sx, sy = fx * 1920, fy * 1080
    if size is None:  # calibration: no DICOM, a black screen-sized image, no pads
        kx = ky = 1.0
        top = bottom = left = right = 0
    else:
        we, he = size[0] + size[0] % 2, size[1] + size[1] % 2
        kx, ky = we / (1920 - left - right), he / (1080 - top - bottom)
    inside = (sx > left) & (sx < 1920 - right) & (sy > top) & (sy < 1080 - bottom)
    xo = np.where(inside, sx - left, -1.0)
    yo = np.where(inside, sy - top, -1.0)
    df = pd.DataFrame({
        "SESSION_ID": session, "MEDIA_ID": 0, "DICOM_ID": dicom, "CNT": cnt0 + np.arange(n),
        "Time (in secs)": f5(t), "TIMETICK(f=10000000)": np.round(6962163.0e5 + t * 1e7),
        "FPOGX": f5(fx), "FPOGY": f5(fy), "FPOGS": f5(fs), "FPOGD": f5(t - fs),
        "FPOGID": fid, "FPOGV": 1, "BPOGX": f5(np.where(valid, bx, 0)),
        "BPOGY": f5(np.where(valid, by, 0)), "BPOGV": valid,
        "LPCX": f5(np.where(valid, 0.37859, 0)), "LPCY": f5(np.where(valid, 0.5943, 0)),
        "LPD": f5(lpmm * 5.23), "LPS": f5(np.where(valid, 1.05276, 0)), "LPV": valid,
        "RPCX": f5(np.where(valid, 0.6379, 0)), "RPCY": f5(np.where(valid, 0.59798, 0)),
        "RPD": f5(rpmm * 5.1), "RPS": f5(np.where(valid, 1.06068, 0)), "RPV": valid,
        "BKID": 0, "BKDUR": 0.0, "BKPMIN": 20, "LPMM": f5(lpmm), "LPMMV": valid,
        "RPMM": f5(rpmm), "RPMMV": valid, "SACCADE_MAG": 0.0, "SACCADE_DIR": 0.0,
        "VID_FRAME": 0.0, "X_ORIGINAL": (kx * xo).astype(int), "Y_ORIGINAL": (ky * yo).astype(int),
    })  # fmt: skip
    last = np.r_[first[1:], n] - 1
    fixrows = df.iloc[last].copy()
    fixrows["Time (in secs)"] = f5(fixrows["FPOGS"] + fixrows["FPOGD"])
    return df, fixrows


def make_egd(root: Path) -> None:
    a = "3a5d1f8e-0c9b2e47-6f1a2b3c-4d5e6f70-81920a1b"
    b = "9c0e2d41-77ab31f2-0d4c5b6a-1e2f3a4b-5c6d7e8f"
    pads = {a: (0, 0, 510, 511), b: (0, 0, 510, 511)}
    sizes = {a: (2544, 3056), b: (2539, 3050)}
    parts = [
        (1, a, 10.31842, [(0.35, 0.49415, 0.49205), (0.3, 0.39018, 0.28168),
                          (0.25, 0.22, 0.61), (0.3, 0.61203, 0.7004)]),
        (1, "c3a8c7f2-5d1e4b6a", 14.1022, [(0.6, 0.50412, 0.49127)]),  # calibration target
        (2, b, 3.05517, [(0.3, 0.45224, 0.33879), (0.35, 0.55619, 0.68211),
                         (0.3, 0.41003, 0.59112)]),
    ]  # fmt: skip
    gaze, fix, cnt = [], [], {}
    for session, dicom, t0, fixes in parts:
        c0 = cnt.get(session, 17)  # the session's sample counter runs on across its images
        g, f = egd_rows(session, dicom, t0, c0, fixes, sizes.get(dicom), pads.get(dicom, (0,) * 4))
        cnt[session] = c0 + len(g) + 80  # the screen between images is not exported
        gaze.append(g)
        fix.append(f)
    pd.concat(gaze).to_csv(root / "eye_gaze.csv", index=False)
    pd.concat(fix).to_csv(root / "fixations.csv", index=False)
    master = pd.DataFrame([
        {"dicom_id": d, "path": f"files/p10/p1000{i}/s5000{i}/{d}.dcm", "study_id": 50000 + i,
         "patient_id": 10000 + i, "stay_id": 30000 + i, "gender": "F", "anchor_age": "20 - 30",
         "image_top_pad": pads[d][0], "image_bottom_pad": pads[d][1],
         "image_left_pad": pads[d][2], "image_right_pad": pads[d][3],
         "Normal": 0, "CHF": 1 - i, "pneumonia": i}
        for i, d in enumerate((a, b))
    ])  # fmt: skip
    master.to_csv(root / "master_sheet.csv", index=False)


if __name__ == "__main__":
    make_reflacx(HERE / "reflacx")
    make_egd(HERE / "egd")
