"""Bad input to every command ends in one clean error line, never a traceback or a wrong result.

The case table is in ``tests/robustness_cases.py`` (shared with
``benchmarks/robustness_matrix.py``, the long version). Here each case runs in-process
with click's runner; the crash tests kill ``gazekit convert`` in a subprocess at random
moments and check that what is left is the old dataset, the complete new one, or
nothing, and that running the command again finishes the job.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from robustness_cases import build_hostile_files, cases, classify, expand

from gazekit.cli.main import cli

DATA = Path(__file__).parent / "data"


#: Seconds one bad-input case may take in-process before it counts as a hang.
CASE_LIMIT_S = 60


class _Hang(BaseException):
    """Raised by the alarm inside a command that ran past :data:`CASE_LIMIT_S`."""


def _alarm(signum, frame):  # type: ignore[no-untyped-def]
    raise _Hang


def _run(argv: list[str], limit_s: int = 0):  # type: ignore[no-untyped-def]
    if not limit_s:
        return CliRunner().invoke(cli, argv)
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(limit_s)
    try:
        return CliRunner().invoke(cli, argv)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("matrix")
    ds = base / "ds"
    for argv in (
        ["simulate", "-n", "2", "--readers", "2", "--image-size-px", "128", "-o", str(ds)],
        ["events", str(ds), "-o", str(ds), "--no-progress"],
        ["intent", str(ds)],
        ["train", "intent", "--data", str(ds), "-o", str(base / "run"), "--max-steps", "1",
         "--device", "cpu"],
    ):  # fmt: skip
        res = _run(argv)
        assert res.exit_code == 0, (argv, res.output)
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


def _params():  # type: ignore[no-untyped-def]
    for c in cases():
        if c.slow:  # the benchmark runs it
            continue
        marks = [pytest.mark.xfail(strict=True, run=not c.hangs, reason=c.known)] if c.known else []
        yield pytest.param(c, id=c.id, marks=marks)


@pytest.mark.parametrize("case", list(_params()))
def test_bad_input_gets_a_clean_error(case, fixtures):
    try:
        res = _run(expand(case, fixtures), CASE_LIMIT_S)
    except _Hang:
        pytest.fail(f"hang: still running after {CASE_LIMIT_S} s")
    if isinstance(res.exception, _Hang):
        pytest.fail(f"hang: still running after {CASE_LIMIT_S} s")
    crashed = res.exception is not None and not isinstance(res.exception, SystemExit)
    outcome = classify(res.exit_code, res.output, crashed, case.expect)
    allowed = {"clean_error", "ok"} if case.expect == "safe" else {"clean_error"}
    assert outcome in allowed, f"{outcome}: exit {res.exit_code}\n{res.output[-2000:]}"
    if outcome == "clean_error":
        errors = [ln for ln in res.output.splitlines() if ln.startswith("Error: ")]
        assert res.exit_code != 0 and len(errors) == 1, res.output
        # the case reaches the code it is about: a renamed flag would pass vacuously
        assert "No such option" not in res.output, res.output
    if case.check is not None:
        problem = case.check(fixtures)
        assert problem is None, problem


# ------------------------------------------------------------------ crash tests
def _tables(path: Path) -> dict[str, pd.DataFrame]:
    out = {}
    for p in sorted(path.rglob("*.parquet")):
        df = pd.read_parquet(p)
        out[str(p.relative_to(path))] = df.sort_values(list(df.columns[:2])).reset_index(drop=True)
    return out


def _same(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> bool:
    if a.keys() != b.keys():
        return False
    try:
        for k in a:
            pd.testing.assert_frame_equal(a[k], b[k])
    except AssertionError:
        return False
    return True


def _convert(inputs: list[Path], out: Path, *extra: str, capture: bool = False) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "gazekit.cli.main", "convert", *map(str, inputs), "-o", str(out),
         "--no-progress", "--allow-mixed-pupil-units", *extra],
        stdout=subprocess.PIPE if capture else subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )  # fmt: skip


@pytest.fixture(scope="module")
def crash_inputs(tmp_path_factory) -> tuple[list[Path], list[Path], dict, dict, float]:
    base = tmp_path_factory.mktemp("crash")
    new = [DATA / "asc", DATA / "egd", DATA / "reflacx", DATA / "tobii" / "prolab_export.tsv"]
    old = [DATA / "asc"]
    ref_new, ref_old = base / "ref_new", base / "ref_old"
    t0 = time.perf_counter()
    assert _convert(new, ref_new).wait() == 0
    took = time.perf_counter() - t0
    assert _convert(old, ref_old).wait() == 0
    return new, old, _tables(ref_new), _tables(ref_old), took


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_convert_killed_at_a_random_moment_leaves_old_or_new_never_a_mix(seed, crash_inputs, tmp_path):
    new, old, ref_new, ref_old, took = crash_inputs
    rng = np.random.default_rng(seed)
    out = tmp_path / "ds"
    overwrite = bool(seed % 2)
    if overwrite:  # replacing an existing dataset: the old one must survive the kill
        assert _convert(old, out).wait() == 0
    proc = _convert(new, out, *(["--overwrite"] if overwrite else []))
    time.sleep(float(rng.uniform(0.3, 1.0)) * took)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    if out.exists() and any(out.iterdir()):
        left = _tables(out)
        assert _same(left, ref_new) or (overwrite and _same(left, ref_old)), sorted(left)
    # the same command again finishes the job (no --overwrite needed after a first conversion)
    again = _convert(new, out, *(["--overwrite"] if overwrite or out.exists() else []), capture=True)
    output = again.communicate()[0].decode()
    assert again.returncode == 0, output
    assert _same(_tables(out), ref_new)
    assert not [p for p in tmp_path.iterdir() if "gazekit-" in p.name and not p.name.endswith("lock")]


def test_a_conversion_while_another_holds_the_output_is_refused_and_changes_nothing(
    crash_inputs, tmp_path
):
    from filelock import FileLock

    new, old, _, ref_old, _ = crash_inputs
    out = tmp_path / "ds"
    assert _convert(old, out).wait() == 0
    with FileLock(str(tmp_path / ".ds.gazekit-lock")):  # as a running conversion holds it
        second = _convert(new, out, "--overwrite", capture=True)
        text = second.communicate()[0].decode()
    assert second.returncode != 0 and "another gazekit convert" in text, text
    assert _same(_tables(out), ref_old)
