"""Bad-input matrix, long version: every case of ``tests/robustness_cases.py`` plus fuzzed files,
each command in its own process with a time limit, and ``convert`` killed at random moments.

Prints one line per non-clean outcome and the counts: inputs tried, clean errors, accepted
(``ok``, for cases where success is allowed), tracebacks (including "internal error"
lines), hangs (past the time limit) and silent wrong results (exit 0 where an error was
due, or a safety check that failed after the run).

There is no peer tool to compare with: the figures are absolute counts.

Usage::

    python benchmarks/robustness_matrix.py [--fuzz 60] [--kills 12] [--limit-s 120] [--only convert]
"""

from __future__ import annotations

import argparse
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the case table; gazekit itself from its install

from robustness_cases import (  # noqa: E402
    DATA,
    OUTCOMES,
    Case,
    build_hostile_files,
    cases,
    classify,
    expand,
)


def gazekit(argv: list[str], limit_s: float) -> tuple[int | None, str]:
    """Run ``gazekit ARGV`` in a fresh process; ``(exit code or None on timeout, output)``."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "gazekit.cli.main", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        out, _ = proc.communicate(timeout=limit_s)
        return proc.returncode, out.decode(errors="replace")
    except subprocess.TimeoutExpired:
        import os

        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        return None, out.decode(errors="replace")


def fixtures(base: Path, limit_s: float) -> dict[str, Path]:
    """A simulated dataset with events/intent labels, a checkpoint, and the hostile files."""
    ds = base / "ds"
    for argv in (
        ["simulate", "-n", "2", "--readers", "2", "--image-size-px", "256", "-o", str(ds)],
        ["events", str(ds), "-o", str(ds), "--no-progress"],
        ["intent", str(ds)],
        ["train", "intent", "--data", str(ds), "-o", str(base / "run"), "--max-steps", "2",
         "--device", "cpu"],
    ):  # fmt: skip
        code, out = gazekit(argv, 10 * limit_s)
        if code != 0:
            raise SystemExit(f"fixture step failed: gazekit {' '.join(argv)}\n{out}")
    f = build_hostile_files(base / "m", ds)
    f["ds"], f["ck"] = ds, base / "run" / "best.pt"
    shutil.copytree(ds, base / "ds_copy")
    f["ds_copy"] = base / "ds_copy"
    for name, ck in (("run_copy", None), ("run_garbage", f["garbage_pt"]), ("run_pickle", f["marker_pt"])):
        shutil.copytree(base / "run", base / name)
        if ck is not None:
            shutil.copy(ck, base / name / "checkpoint.pt")
        f[name] = base / name
    return f


def fuzz_cases(f: dict[str, Path], n: int, seed: int) -> list[Case]:
    """``n`` mutated copies of good inputs (bit flips, truncation, splices), to several commands."""
    rng = np.random.default_rng(seed)
    sources = [
        (DATA / "asc" / "monocular.asc", "convert", ".asc"),
        (DATA / "asc" / "binocular.asc", "convert", ".asc"),
        (DATA / "tobii" / "prolab_export.tsv", "convert", ".tsv"),
        (DATA / "egd" / "eye_gaze.csv", "convert", ".csv"),
        (f["samples_file"], "events", ".parquet"),
        (f["ds"] / "events.parquet", "heatmap", ".parquet"),
        (f["ck"], "predict", ".pt"),
    ]
    out: list[Case] = []
    fz = f["root"] / "fuzz"
    fz.mkdir(exist_ok=True)
    for i in range(n):
        src, cmd, suffix = sources[i % len(sources)]
        data = bytearray(src.read_bytes())
        kind = ("flip", "truncate", "splice")[int(rng.integers(3))]
        if kind == "flip":
            for _ in range(int(rng.integers(1, 32))):
                j = int(rng.integers(len(data)))
                data[j] ^= 1 << int(rng.integers(8))
        elif kind == "truncate":
            data = data[: int(rng.integers(len(data)))]
        else:
            j, k = sorted(int(v) for v in rng.integers(len(data), size=2))
            data = data[:j] + data[k:] + data[j:k]
        p = fz / f"fuzz{i:04d}{suffix}"
        p.write_bytes(bytes(data))
        f[p.stem] = p
        key = "{" + p.stem + "}"
        argv = {
            "convert": ("convert", key, "-o", "{root}/out/{case}"),
            "events": ("events", key, "-o", "{root}/out/{case}", "--no-progress"),
            "heatmap": ("heatmap", key, "--sigma-px", "1", "--shape-px", "256x256", "-o", "{root}/out/{case}"),
            "predict": ("predict", "intent", "--data", "{ds}", "--checkpoint", key, "-o",
                        "{root}/out/{case}.parquet"),
        }[cmd]  # fmt: skip
        out.append(Case(f"fuzz_{cmd}_{kind}_{i:04d}", argv, expect="safe"))
    return out


def kill_convert(base: Path, n: int, seed: int, limit_s: float) -> Counter:
    """Kill ``convert`` at ``n`` random moments; count outcomes (``ok`` or ``silent_wrong``)."""
    import pandas as pd

    def tables(path: Path) -> dict[str, pd.DataFrame]:
        d = {}
        for p in sorted(path.rglob("*.parquet")):
            df = pd.read_parquet(p)
            d[str(p.relative_to(path))] = df.sort_values(list(df.columns[:2])).reset_index(drop=True)
        return d

    def same(a: dict, b: dict) -> bool:
        if a.keys() != b.keys():
            return False
        return all(a[k].equals(b[k]) for k in a)

    new = [DATA / "asc", DATA / "egd", DATA / "reflacx", DATA / "tobii" / "prolab_export.tsv"]
    old = [DATA / "asc"]

    def convert(inputs, out, *extra):  # type: ignore[no-untyped-def]
        return subprocess.Popen(
            [sys.executable, "-m", "gazekit.cli.main", "convert", *map(str, inputs), "-o", str(out),
             "--no-progress", *extra], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip

    t0 = time.perf_counter()
    convert(new, base / "ref_new").wait()
    took = time.perf_counter() - t0
    convert(old, base / "ref_old").wait()
    ref_new, ref_old = tables(base / "ref_new"), tables(base / "ref_old")
    rng = np.random.default_rng(seed)
    counts: Counter = Counter()
    for i in range(n):
        out = base / f"kill{i}" / "ds"
        out.parent.mkdir()
        overwrite = bool(i % 2)
        if overwrite:
            convert(old, out).wait()
        proc = convert(new, out, *(["--overwrite"] if overwrite else []))
        time.sleep(float(rng.uniform(0.0, 1.1)) * took)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        left_ok = True
        if out.exists() and any(out.iterdir()):
            left = tables(out)
            left_ok = same(left, ref_new) or (overwrite and same(left, ref_old))
        again = convert(new, out, *(["--overwrite"] if out.exists() else []))
        code = again.wait(timeout=limit_s)
        resumed = code == 0 and same(tables(out), ref_new)
        outcome = "ok" if left_ok and resumed else "silent_wrong"
        if outcome != "ok":
            print(f"  kill {i}: left_ok={left_ok} resumed={resumed}")
        counts[outcome] += 1
    return counts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fuzz", type=int, default=60, help="fuzzed inputs (default 60)")
    ap.add_argument("--kills", type=int, default=12, help="convert kills (default 12)")
    ap.add_argument("--limit-s", type=float, default=120.0, help="time limit per command (s)")
    ap.add_argument("--only", default=None, help="only cases whose id starts with this")
    ap.add_argument("--seed", type=int, default=14)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="gazekit-robustness-") as tmp:
        base = Path(tmp)
        print("building fixtures ...", flush=True)
        f = fixtures(base, args.limit_s)
        todo = [c for c in cases() if not c.hangs or args.only] + fuzz_cases(f, args.fuzz, args.seed)
        if args.only:
            todo = [c for c in todo if c.id.startswith(args.only)]
        counts: Counter = Counter()
        pipeline_counts: Counter = Counter()
        t0 = time.perf_counter()
        for case in todo:
            code, output = gazekit(expand(case, f), args.limit_s)
            outcome = classify(code, output, False, case.expect)
            if case.check is not None and outcome in ("ok", "clean_error"):
                problem = case.check(f)
                if problem:
                    outcome = "silent_wrong"
                    output += f"\n[check] {problem}"
            (pipeline_counts if case.pipeline else counts)[outcome] += 1
            if outcome not in ("ok", "clean_error"):
                last = output.strip().splitlines()[-1][:160] if output.strip() else ""
                tag = f" (known: {case.known})" if case.known else ""
                print(f"  {outcome:<12} {case.id}{tag}: {last}", flush=True)
        elapsed = time.perf_counter() - t0
        kills = kill_convert(base / "kills", args.kills, args.seed, args.limit_s) if args.kills else Counter()
    print()
    print(f"bad-input matrix: {sum(counts.values())} inputs to every command but pipeline, "
          f"{elapsed:.0f} s")  # fmt: skip
    for k in OUTCOMES:
        print(f"  {k:<13} {counts[k]}")
    if pipeline_counts:
        print(f"pipeline command (tracked apart): {sum(pipeline_counts.values())} inputs")
        for k in OUTCOMES:
            print(f"  {k:<13} {pipeline_counts[k]}")
    if kills:
        print(f"convert killed at random moments: {sum(kills.values())} runs")
        print(f"  old-or-new and resumed   {kills['ok']}")
        print(f"  mixed or not resumable   {kills['silent_wrong']}")


if __name__ == "__main__":
    main()
