"""Every command follows the same conventions (a newcomer learns them once)."""

from __future__ import annotations

import re

import click
import pytest
from click.testing import CliRunner

from gazekit.cli.main import COMMANDS, cli

UNITS = ("ms", "s", "hz", "deg", "deg-s", "px", "mm")
LONG_COMMANDS = ("convert", "events", "heatmap", "predict", "evaluate", "pipeline", "intent")


def _command(name: str) -> click.Command:
    cmd = cli.get_command(click.Context(cli), name)
    assert cmd is not None, name
    return cmd


def _options(name: str) -> list[click.Option]:
    return [p for p in _command(name).params if isinstance(p, click.Option)]


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_output_flag_is_always_dash_o_output(name):
    for opt in _options(name):
        names = set(opt.opts) | set(opt.secondary_opts)
        if names & {"-o", "--out", "--outdir", "--output-dir", "--output"}:
            assert opt.opts[:2] in (["-o", "--output"], ["--output", "-o"]), (name, opt.opts)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_dash_j_means_parallel_jobs_everywhere(name):
    for opt in _options(name):
        if "-j" in opt.opts:
            assert "--jobs" in opt.opts, (name, opt.opts)
            assert "parallel" in (opt.help or "").lower(), (name, opt.help)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_choices_are_case_insensitive(name):
    for p in _command(name).params:
        if isinstance(p.type, click.Choice):
            assert not p.type.case_sensitive, (name, p.name)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_help_shows_an_example(name):
    text = _command(name).help or ""
    assert "Example" in text, name
    # "\b" before the paragraph keeps click from re-wrapping the command lines
    assert re.search(r"\x08\s*\n\s*Examples?:", text), name


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_flags_with_a_physical_unit_carry_it_in_their_name(name):
    # "(ms)", "(in deg/s;", "(px," or "WxH in mm" — not the plural "checkpoint(s)"
    pattern = re.compile(
        r"(?:(?<!\w)\((?:in )?|\bin )(ms|deg/s|°/s|deg|°|px|mm|Hz|s)(?:\b[);,]|\.?$|,)"
    )
    for opt in _options(name):
        if opt.is_flag:  # an on/off switch has no value, hence no unit
            continue
        long = next((o for o in opt.opts if o.startswith("--")), "")
        m = pattern.search(opt.help or "")
        if m:
            unit = {"°": "deg", "°/s": "deg-s", "deg/s": "deg-s", "Hz": "hz"}.get(m[1], m[1])
            assert long.endswith(f"-{unit}"), (name, long, opt.help)


@pytest.mark.parametrize("name", ["predict", "evaluate", "train"])
def test_model_commands_take_a_device(name):
    assert any("--device" in o.opts for o in _options(name))


@pytest.mark.parametrize("name", [c for c in LONG_COMMANDS if c in COMMANDS])
def test_long_commands_can_turn_the_progress_bar_off(name):
    assert any("--no-progress" in (o.opts + o.secondary_opts) for o in _options(name)), name


def test_upper_case_choice_is_accepted_and_normalised(tmp_path):
    res = CliRunner().invoke(cli, ["simulate", "--help"])
    assert res.exit_code == 0
    res = CliRunner().invoke(
        cli, ["simulate", "-n", "1", "--image-size-px", "128", "--tracker", "GazePoint",
              "--format", "PARQUET", "-o", str(tmp_path / "sim")],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "parquet" in res.output


@pytest.fixture(scope="module")
def small_dataset(tmp_path_factory):
    out = tmp_path_factory.mktemp("conv") / "sim"
    res = CliRunner().invoke(cli, ["simulate", "-n", "1", "--image-size-px", "128", "-o", str(out)])
    assert res.exit_code == 0, res.output
    return out


def test_unknown_recording_error_lists_the_recordings(small_dataset):
    res = CliRunner().invoke(cli, ["info", str(small_dataset), "--recording", "nope"])
    assert res.exit_code != 0
    assert "--recording" in res.output and "syn0-img0000-R1" in res.output


def test_unknown_config_error_lists_the_shipped_configs(small_dataset, tmp_path):
    res = CliRunner().invoke(
        cli, ["train", "intent", "--data", str(small_dataset), "--config", "nope",
              "-o", str(tmp_path / "run")],
    )  # fmt: skip
    assert res.exit_code != 0
    assert "no shipped config 'nope'" in res.output
    assert all(n in res.output for n in ("tiny", "base", "gazesearch"))


@pytest.mark.parametrize(
    ("flag", "shown"),
    [pytest.param([], False, id="off_when_stderr_is_not_a_terminal"),
     pytest.param(["--progress"], True, id="on_when_asked")],
)  # fmt: skip
def test_progress_bar_only_on_a_terminal_unless_asked(small_dataset, tmp_path, flag, shown):
    res = CliRunner().invoke(
        cli, ["heatmap", str(small_dataset / "events.parquet"), "--no-figures",
              "-o", str(tmp_path / "h"), *flag],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert ("heatmap: 100%" in res.stderr) is shown, res.stderr
