"""Every command follows the same conventions (a newcomer learns them once)."""

from __future__ import annotations

import re

import click
import pytest

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
    assert "Example" in (_command(name).help or ""), name


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_flags_with_a_physical_unit_carry_it_in_their_name(name):
    pattern = re.compile(r"\((?:in )?(ms|deg/s|°/s|deg|°|px|mm|Hz|s)\b[);,]")
    for opt in _options(name):
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
