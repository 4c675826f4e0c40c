"""`gazekit demo`: every step runs, a summary is printed and demo.png is drawn."""

from __future__ import annotations

from click.testing import CliRunner

from gazekit import demo
from gazekit.cli.main import cli


def test_demo_runs_every_step_and_draws_the_figure(tmp_path):
    ctx = demo.run_demo(tmp_path / "d", n_images=1, n_readers=2, image_size=192)
    names = [n for n, _, _ in ctx.summary]
    assert names == [n for n, _ in demo.STEPS]
    assert (tmp_path / "d" / "demo.png").stat().st_size > 10_000
    assert ctx.dataset_dir is not None and (ctx.dataset_dir / "recordings.parquet").exists()
    text = demo.format_summary(ctx)
    assert "simulate" in text and "figure" in text and "total" in text


def test_added_step_runs_before_the_figure_and_sees_earlier_results(tmp_path):
    seen = []

    def step_count(ctx):
        seen.append(len(ctx.sessions))
        return f"{len(ctx.sessions)} sessions"

    steps = [(n, s) for n, s in demo.STEPS if n in ("simulate", "figure")]
    demo.add_step("count", step_count, steps=steps)
    assert [n for n, _ in steps] == ["simulate", "count", "figure"]
    ctx = demo.run_demo(tmp_path / "d", n_images=1, n_readers=1, image_size=128, steps=steps)
    assert seen == [1]
    assert ("count", "1 sessions") in [(n, m) for n, m, _ in ctx.summary]


def test_demo_command_prints_the_summary(tmp_path):
    out = tmp_path / "demo"
    res = CliRunner().invoke(cli, ["demo", "-o", str(out), "--images", "1", "--image-size-px", "128"])
    assert res.exit_code == 0, res.output
    assert "gazekit demo" in res.output and "figure" in res.output
    assert (out / "demo.png").exists()

