"""Conversion speed: EyeLink ASC and Gazepoint (EGD-CXR) CSV → validated Parquet.

Generates a binocular 1000 Hz ASC of ``--minutes`` (default 60: one hour, 3.6 M sample
lines) and an EGD ``eye_gaze.csv`` with ``--egd-rows`` rows, converts each with
:func:`gazekit.io.convert.convert` (read + validate + write Parquet), and parses the
same ASC with pymovements in the same run when it is installed (the issue's peer):

    python benchmarks/convert_bench.py                # gazekit only, if pymovements absent
    /work/benchenv/bin/python benchmarks/convert_bench.py --minutes 60

Prints samples/s, MB/s, the ratio to pymovements, and peak memory (RSS high-water mark
of a child process per measurement) against the in-memory size of the output table.
Targets (issue #2): ≥ 5× pymovements, peak memory < 3× the output's in-memory size.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np


def make_asc(path: Path, minutes: float, seed: int = 0) -> int:
    """Write a binocular 1000 Hz ASC with fixations, saccades and blinks; return samples."""
    rng = np.random.default_rng(seed)
    n = int(minutes * 60_000)
    t = 1_000_000 + np.arange(n)
    # piecewise-constant fixations with noise, saccade ramps between them
    n_fix = n // 250 + 1
    cx, cy = rng.uniform(200, 1700, n_fix), rng.uniform(100, 980, n_fix)
    seg = np.minimum(np.arange(n) // 250, n_fix - 1)
    x = cx[seg] + rng.normal(0, 0.4, n)
    y = cy[seg] + rng.normal(0, 0.4, n)
    p = 1200 + rng.normal(0, 5, n)
    lost = np.zeros(n, bool)
    for start in rng.integers(0, n - 200, n // 4000):
        lost[start : start + 120] = True
    xs = np.where(lost, "   .", np.char.mod("%7.1f", x))
    ys = np.where(lost, "   .", np.char.mod("%7.1f", y))
    ps = np.where(lost, "    0.0", np.char.mod("%7.1f", p))
    header = (
        "** CONVERTED FROM BENCH.EDF using edfapi 4.2.1 Linux\n** TYPE: EDF_FILE BINARY EVENT SAMPLE TAGGED\n"
        "**\n\nMSG\t999990 DISPLAY_COORDS 0 0 1919 1079\nMSG\t999990 RECCFG CR 1000 2 1 LR\n"
        "START\t1000000 \tLEFT\tRIGHT\tSAMPLES\tEVENTS\nPRESCALER\t1\nVPRESCALER\t1\nPUPIL\tAREA\n"
        "EVENTS\tGAZE\tLEFT\tRIGHT\tRATE\t1000.00\tTRACKING\tCR\tFILTER\t2\n"
        "SAMPLES\tGAZE\tLEFT\tRIGHT\tRATE\t1000.00\tTRACKING\tCR\tFILTER\t2\n"
    )
    with open(path, "w") as fh:
        fh.write(header)
        step = 250_000
        for a in range(0, n, step):
            b = min(a + step, n)
            cols = [
                t[a:b].astype(str),
                xs[a:b],
                ys[a:b],
                ps[a:b],
                xs[a:b],
                ys[a:b],
                ps[a:b],
                np.full(b - a, "....."),
            ]
            fh.write("\n".join("\t".join(r) for r in zip(*cols, strict=True)) + "\n")
            for k in range(a // 250, (b - 1) // 250):
                s, e = 1_000_000 + k * 250, 1_000_000 + k * 250 + 230
                fh.write(f"EFIX L   {s}\t{e}\t231\t{cx[k]:7.1f}\t{cy[k]:7.1f}\t   1200\n")
        fh.write(f"END\t{t[-1]} \tSAMPLES\tEVENTS\tRES\t  38.54\t  31.12\n")
    return n


def make_egd(folder: Path, rows: int) -> int:
    """An EGD folder with ``rows`` samples (simulated sessions written by the EGD writer)."""
    import dataclasses

    import pandas as pd

    from gazekit.io import write
    from gazekit.synthetic import simulate_corpus

    (sess,) = list(simulate_corpus(1, seed=1, image_size=1024, tracker="gazepoint"))
    rec = sess.recording
    reps = max(1, rows // len(rec.samples))
    recs = []
    for k in range(reps):
        recs.append(dataclasses.replace(rec, recording_id=f"img{k:05d}-R1", image_id=f"img{k:05d}",
                                        events=rec.events.assign(recording_id=f"img{k:05d}-R1"),
                                        transcript=None))  # fmt: skip
    write(recs, folder, "egd")
    return int(sum(len(r.samples) for r in recs)) if reps else int(pd.Series([0]).sum())


def _child(fn_name: str, args: tuple, q: mp.Queue) -> None:
    if fn_name == "gazekit_convert":  # import outside the timed region
        import gazekit.io.convert
        import gazekit.io.eyelink  # noqa: F401
    rss0 = _status_mb("VmRSS")
    t0 = time.perf_counter()
    out = globals()[fn_name](*args)
    seconds = time.perf_counter() - t0
    q.put({"seconds": seconds, "maxrss_mb": _status_mb("VmHWM"), "start_rss_mb": rss0, **out})


def _status_mb(key: str) -> float:
    """A ``/proc/self/status`` memory field (VmRSS, VmHWM) in MB; ru_maxrss elsewhere."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def gazekit_convert(src: str, out: str) -> dict:
    from gazekit.io.convert import convert
    from gazekit.io.parquet import read_table

    res = convert([src], out, overwrite=True)
    size = 0
    for f in Path(out, "samples").glob("*.parquet"):
        size += read_table(f, "samples")[0].nbytes
    return {"samples": res.n_samples, "output_mb": size / 2**20}


def pymovements_parse(src: str) -> dict:
    import warnings

    import pymovements as pm

    warnings.simplefilter("ignore")  # one UserWarning per fixation otherwise

    gaze = pm.gaze.from_asc(src)
    return {"samples": int(gaze.samples.height)}


def baseline_rss() -> dict:
    import gazekit.io.convert  # noqa: F401 - the imports' own footprint

    return {"samples": 0}


def measure(fn: str, *args: str) -> dict:
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_child, args=(fn, args, q))
    p.start()
    p.join()
    if p.exitcode != 0:
        raise RuntimeError(f"{fn} failed (exit code {p.exitcode})")
    return q.get()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=60.0, help="ASC length (default: one hour)")
    ap.add_argument("--egd-rows", type=int, default=1_000_000, help="rows of the EGD CSV")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="gazekit-convert-bench-"))
    results = {}
    try:
        asc = work / "bench.asc"
        n = make_asc(asc, args.minutes)
        mb = asc.stat().st_size / 2**20
        print(f"ASC: {n:,} binocular samples at 1000 Hz, {mb:.0f} MB")
        g = measure("gazekit_convert", str(asc), str(work / "out_asc"))
        base = g["start_rss_mb"]  # after the imports, before the conversion
        extra = g["maxrss_mb"] - base
        print(f"  gazekit      {g['seconds']:7.2f} s  {n / g['seconds'] / 1e6:6.2f} M samples/s  {mb / g['seconds']:6.1f} MB/s"
              f"  peak RSS +{extra:.0f} MB over imports = {extra / g['output_mb']:.1f}x the output table ({g['output_mb']:.0f} MB)")  # fmt: skip
        results["asc"] = {**g, "input_mb": mb, "baseline_rss_mb": base}
        try:
            import pymovements  # noqa: F401

            pm = measure("pymovements_parse", str(asc))
            print(
                f"  pymovements  {pm['seconds']:7.2f} s  {n / pm['seconds'] / 1e6:6.2f} M samples/s  -> gazekit is {pm['seconds'] / g['seconds']:.1f}x faster (target >= 5x)"
            )
            results["pymovements"] = pm
        except ImportError:
            print(
                "  pymovements not installed: peer skipped (pip install pymovements in a benchmark env)"
            )
        egd = work / "egd"
        rows = make_egd(egd, args.egd_rows)
        mb = (egd / "eye_gaze.csv").stat().st_size / 2**20
        e = measure("gazekit_convert", str(egd), str(work / "out_egd"))
        print(
            f"EGD CSV: {rows:,} rows, {mb:.0f} MB\n  gazekit      {e['seconds']:7.2f} s  {rows / e['seconds'] / 1e6:6.2f} M samples/s  {mb / e['seconds']:6.1f} MB/s"
        )
        results["egd"] = {**e, "input_mb": mb}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
