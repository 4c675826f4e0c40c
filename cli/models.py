"""``gazekit train``, ``gazekit predict`` and ``gazekit evaluate``."""

from __future__ import annotations

from pathlib import Path

import click

from gazekit.cli._common import check_output, overwrite_option, progress_option, show_progress

TASK = click.Choice(["intent", "scanpath", "intent_gru", "intent_image"], case_sensitive=False)
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


#: ``--device`` of the model commands.
device_option = click.option(
    "--device",
    default="auto",
    show_default=True,
    callback=lambda ctx, p, v: _device(v),
    help="auto (cuda when available), cpu, cuda or cuda:N.",
)


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
    help="JSON or TOML config file, or a shipped one: tiny, base, gazesearch (image-free, "
    "target-conditioned).",
)
@click.option(
    "-o", "--output", "out", required=True, type=click.Path(file_okay=False), help="Run directory."
)
@device_option
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
    "--split-file",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="CSV/JSON assigning recordings (recording_id, or image_id[, target]) to train/valid/"
    "test; default: the dataset's split column, else a random split.",
)
@click.option(
    "--leakage-unit",
    type=click.Choice(["image", "image_target"], case_sensitive=False),
    default=None,
    help="What may not appear in two splits: an image, or an (image, target) pair (the "
    "published GazeSearch split's unit).",
)
@progress_option
def train(task: str, data: str, config: str, out: str, device: str, regime: str | None, max_steps: int | None,
          seed: int | None, compile_: bool | None, resume: bool, split_file: str | None,
          leakage_unit: str | None, overwrite: bool, progress: bool | None) -> None:  # fmt: skip
    """Train an intent or scanpath model (multi-GPU: launch this command with torchrun).

    \b
    Examples:
      gazekit train intent --data data/ --config tiny -o runs/intent
      torchrun --nproc_per_node 4 -m gazekit.cli train scanpath --data data/ -o runs/sp
    """
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
        path, task=task, regime=regime, max_steps=max_steps, seed=seed, compile=compile_,
        split_file=split_file, leakage_unit=leakage_unit,
    )  # fmt: skip
    show = show_progress(progress)
    res = run(data, cfg, out, device=device, resume=resume, progress=show)
    click.echo(
        f"{task}: {res.steps} steps, best {res.score_name} {res.best_score:.4f} "
        f"(validation loss {res.best_val:.4f}), "
        f"{res.tokens_per_s:,.0f} fixation tokens/s → {res.checkpoint} (loss curve {res.run_dir / 'loss.png'})"
    )


@click.command("predict")
@click.argument("task", type=click.Choice(["intent", "scanpath"], case_sensitive=False))
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
@click.option("--seed", type=int, default=0, show_default=True, help="Sampling seed.")
@device_option
@progress_option
@overwrite_option
def predict(task: str, checkpoint: str, data: str, out: str, samples: int, seed: int,
            device: str, progress: bool | None, overwrite: bool) -> None:  # fmt: skip
    """Write per-fixation intent probabilities, or sampled scanpaths per image, as Parquet.

    \b
    Examples:
      gazekit predict intent --checkpoint runs/intent/best.pt --data data/ -o intents.parquet
      gazekit predict scanpath --checkpoint runs/sp/best.pt --data data/ -o paths.parquet
    """
    from gazekit.models.predict import predict_intent_table, sample_scanpath_table

    check_output(out, overwrite)
    show = show_progress(progress)
    if task == "intent":
        df = predict_intent_table(checkpoint, data, out, device=device, progress=show)
    else:
        df = sample_scanpath_table(checkpoint, data, out, n_samples=samples, seed=seed,
                                   device=device, progress=show)  # fmt: skip
    click.echo(f"{len(df):,} rows → {out}")


@click.command("evaluate")
@click.argument("task", type=click.Choice(["intent", "scanpath"], case_sensitive=False))
@click.option("--checkpoint", "checkpoints", required=True, multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Checkpoints to evaluate (repeatable, e.g. one per intent regime).")  # fmt: skip
@click.option("--data", required=True, type=click.Path(exists=True, file_okay=False))
@click.option(
    "-o",
    "--output",
    "out",
    required=True,
    type=click.Path(file_okay=False),
    help="Where tables (CSV, markdown) and trained baselines go.",
)
@click.option(
    "--samples",
    type=click.IntRange(min=1, max=1000),
    default=4,
    show_default=True,
    help="Scanpaths sampled per test recording.",
)
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Also write every row (task, regime, model, metric, value, ci_low, ci_high, "
    "support) to this JSON file.",
)
@click.option(
    "--bootstrap",
    "n_boot",
    type=click.IntRange(min=20),
    default=1000,
    show_default=True,
    help="Bootstrap resamples over test images for the 95 % intervals.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Sampling/bootstrap seed.")
@click.option(
    "--preset",
    type=click.Choice(["gazesearch"], case_sensitive=False),
    default=None,
    help="Scanpath: a benchmark's conventions (gazesearch: 224 frame, centre prepended, "
    "MultiMatch/ScanMatch 14x14/SED 5x5/STDE, per-target baselines).",
)
@click.option(
    "--eval-split",
    default=None,
    help="With --preset: evaluate this split of DATA (e.g. valid, test) instead of the "
    "checkpoint's held-out recordings.",
)
@click.option(
    "--train-data",
    type=click.Path(exists=True, file_okay=False),
    default=None,
    help="With --preset: dataset holding the checkpoint's training recordings (default DATA).",
)
@click.option(
    "--decoding",
    "decodings",
    type=click.Choice(["sample", "greedy"], case_sensitive=False),
    multiple=True,
    help="With --preset: a model decoding, one row each; repeatable [default: sample].",
)
@click.option(
    "--temperature", type=float, default=1.0, show_default=True, help="Sampling temperature."
)
@device_option
@progress_option
def evaluate(task: str, checkpoints: tuple[str, ...], data: str, out: str, samples: int,
             json_path: str | None, n_boot: int, seed: int, preset: str | None,
             eval_split: str | None, train_data: str | None, decodings: tuple[str, ...],
             temperature: float, device: str, progress: bool | None) -> None:  # fmt: skip
    """Evaluate checkpoints on their held-out recordings against baselines (same run).

    Intent: the transformer against a region × time prior, a GRU and an image-only
    classifier, with the finding-box oracle as an upper bound; scanpath: information gain
    over centre bias and the training density, then prefix similarities. Every value
    comes with a 95 % bootstrap interval over test images.

    \b
    Examples:
      gazekit evaluate intent --checkpoint runs/radseq/best.pt --data data/ -o eval/
      gazekit evaluate scanpath --checkpoint runs/sp/best.pt --data gs/ --preset gazesearch \\
          --eval-split test -o eval/ --json eval/rows.json
    """
    import pandas as pd

    from gazekit.models.evaluate import evaluate_intent, format_tables
    from gazekit.models.evaluate_scanpath import evaluate_scanpath
    from gazekit.models.report import write_json

    frames = []
    show = show_progress(progress)
    if preset is not None and task != "scanpath":
        raise click.UsageError("--preset applies to the scanpath task")
    for ck in checkpoints:
        if preset is not None:
            from gazekit.models.preset_eval import evaluate_preset

            res = evaluate_preset(ck, data, preset=preset, eval_split=eval_split,
                                  train_data=train_data, n_samples=samples,
                                  decodings=decodings or ("sample",), temperature=temperature,
                                  seed=seed, n_boot=n_boot, out=out, device=device,
                                  progress=show)  # fmt: skip
        elif task == "intent":
            res = evaluate_intent(ck, data, out=out, n_boot=n_boot, seed=seed, device=device,
                                  progress=show)  # fmt: skip
        else:
            res = evaluate_scanpath(ck, data, out=out, n_samples=samples, n_boot=n_boot, seed=seed,
                                    device=device, progress=show)  # fmt: skip
        frames.append(res["rows"])
        click.echo(f"## {task}: {ck}\n")
        click.echo(format_tables(res))
    if json_path is not None:
        click.echo(f"rows → {write_json(pd.concat(frames, ignore_index=True), json_path)}")
