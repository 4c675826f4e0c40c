"""``gazekit train``, ``gazekit predict`` and ``gazekit evaluate``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from gazekit.cli._common import check_output, overwrite_option

TASK = click.Choice(["intent", "scanpath", "intent_gru"])
#: Files of a run directory (``train`` replaces all of them or none).
RUN_FILES = ("checkpoint.pt", "best.pt", "config.json", "metrics.csv", "loss.png")


def _device(value: str) -> str:
    kind, _, index = value.partition(":")
    if kind not in ("auto", "cpu", "cuda", "mps") or (
        index and (kind != "cuda" or not index.isdigit())
    ):
        raise click.BadParameter(f"{value!r} is not a device; pass auto, cpu, cuda or cuda:N",
                                 param_hint="--device")  # fmt: skip
    return value


@click.command("train")
@click.argument("task", type=TASK)
@click.option(
    "--data",
    required=True,
    type=click.Path(exists=True, file_okay=False),
    help="Dataset directory.",
)
@click.option(
    "--config",
    "config",
    default="tiny",
    show_default=True,
    help="JSON or TOML config file, or a shipped one: tiny, base.",
)
@click.option(
    "-o", "--output", "out", required=True, type=click.Path(file_okay=False), help="Run directory."
)
@click.option("--device", default="auto", show_default=True, callback=lambda ctx, p, v: _device(v),
              help="auto, cpu, cuda or cuda:N.")  # fmt: skip
@click.option(
    "--regime", default=None, help="Intent regime of the labels (radseq, radexplore, radhybrid)."
)
@click.option(
    "--max-steps",
    type=click.IntRange(min=1),
    default=None,
    help="Override the config's step budget.",
)
@click.option("--seed", type=int, default=None, help="Override the config's seed.")
@click.option("--compile", "compile_", is_flag=True, default=None, help="torch.compile the model.")
@click.option("--resume", is_flag=True, help="Continue from OUTPUT/checkpoint.pt.")
@overwrite_option
@click.option(
    "--progress/--no-progress", default=None, help="Progress bar (default: on a terminal)."
)
def train(task: str, data: str, config: str, out: str, device: str, regime: str | None, max_steps: int | None,
          seed: int | None, compile_: bool | None, resume: bool, overwrite: bool,
          progress: bool | None) -> None:  # fmt: skip
    """Train an intent or scanpath model (multi-GPU: launch this command with torchrun)."""
    from gazekit.models.train import TrainConfig, config_path
    from gazekit.models.train import train as run

    if resume and overwrite:
        raise click.UsageError("--resume continues a run, --overwrite replaces it: pass one")
    if not resume:
        run_dir = check_output(out, overwrite)
        for name in RUN_FILES:  # a new run never keeps a file of the one it replaces
            (run_dir / name).unlink(missing_ok=True)
    path = Path(config) if Path(config).suffix in (".json", ".toml") else config_path(config)
    cfg = TrainConfig.load(
        path, task=task, regime=regime, max_steps=max_steps, seed=seed, compile=compile_
    )
    show = sys.stderr.isatty() if progress is None else progress
    res = run(data, cfg, out, device=device, resume=resume, progress=show)
    click.echo(
        f"{task}: {res.steps} steps, best validation loss {res.best_val:.4f}, "
        f"{res.tokens_per_s:,.0f} fixation tokens/s → {res.checkpoint} (loss curve {res.run_dir / 'loss.png'})"
    )


@click.command("predict")
@click.argument("task", type=click.Choice(["intent", "scanpath"]))
@click.option("--checkpoint", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--data", required=True, type=click.Path(exists=True, file_okay=False))
@click.option(
    "-o",
    "--output",
    "out",
    required=True,
    type=click.Path(dir_okay=False),
    help="Output Parquet file.",
)
@click.option(
    "--samples",
    type=click.IntRange(min=1, max=1000),
    default=4,
    show_default=True,
    help="Scanpaths sampled per image.",
)
@click.option("--seed", type=int, default=0, show_default=True)
@overwrite_option
def predict(task: str, checkpoint: str, data: str, out: str, samples: int, seed: int,
            overwrite: bool) -> None:  # fmt: skip
    """Write per-fixation intent probabilities, or sampled scanpaths per image, as Parquet."""
    from gazekit.models.predict import predict_intent_table, sample_scanpath_table

    check_output(out, overwrite)
    if task == "intent":
        df = predict_intent_table(checkpoint, data, out)
    else:
        df = sample_scanpath_table(checkpoint, data, out, n_samples=samples, seed=seed)
    click.echo(f"{len(df):,} rows → {out}")


@click.command("evaluate")
@click.argument("task", type=click.Choice(["intent", "scanpath"]))
@click.option("--checkpoint", "checkpoints", required=True, multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Checkpoint(s) to evaluate (e.g. one per intent regime).")  # fmt: skip
@click.option("--data", required=True, type=click.Path(exists=True, file_okay=False))
@click.option(
    "-o",
    "--output",
    "out",
    required=True,
    type=click.Path(file_okay=False),
    help="Where tables (CSV, markdown) go.",
)
@click.option(
    "--samples",
    type=click.IntRange(min=1, max=1000),
    default=4,
    show_default=True,
    help="Scanpaths sampled per test recording.",
)
def evaluate(task: str, checkpoints: tuple[str, ...], data: str, out: str, samples: int) -> None:
    """Evaluate checkpoints on their held-out recordings against baselines (same run)."""
    from gazekit.models.evaluate import evaluate_intent, evaluate_scanpath, format_tables

    for ck in checkpoints:
        if task == "intent":
            res = evaluate_intent(ck, data, out=out)
        else:
            res = evaluate_scanpath(ck, data, out=out, n_samples=samples)
        click.echo(f"## {task}: {ck}\n")
        click.echo(format_tables(res))
