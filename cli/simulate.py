"""``gazekit simulate``: synthetic reading sessions with ground truth, in real file formats."""

from __future__ import annotations

import click

from gazekit.cli._common import check_output, overwrite_option


@click.command("simulate")
@click.option(
    "-n",
    "--n-images",
    "n_images",
    type=click.IntRange(min=1, max=100_000),
    default=4,
    show_default=True,
    help="Number of synthetic radiographs.",
)
@click.option(
    "--readers",
    type=click.IntRange(min=1, max=1000),
    default=1,
    show_default=True,
    help="Readers per image (each image is read by every reader).",
)
@click.option(
    "--tracker",
    type=click.Choice(["gazepoint", "eyelink"], case_sensitive=False),
    default="gazepoint",
    show_default=True,
    help="60 Hz Gazepoint-like or 1000 Hz EyeLink-like recording.",
)
@click.option(
    "--strategy",
    type=click.Choice(["seq", "explore", "hybrid", "mixed"], case_sensitive=False),
    default="mixed",
    show_default=True,
    help="Reading strategy; 'mixed' cycles through the three.",
)
@click.option(
    "-o",
    "--output",
    "outdir",
    type=click.Path(file_okay=False),
    required=True,
    help="Output directory.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["parquet", "egd", "reflacx", "asc"], case_sensitive=False),
    default="parquet",
    show_default=True,
    help="File format of the recordings.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Root random seed.")
@click.option(
    "--image-size-px",
    "image_size",
    type=click.IntRange(min=64, max=8192),
    default=1024,
    show_default=True,
    help="Radiograph size (px; square).",
)
@click.option(
    "--n-findings",
    type=click.IntRange(min=0, max=13),
    default=None,
    help="Findings per image (default: 0-4 at random).",
)
@click.option(
    "--min-duration-s",
    type=click.FloatRange(min=0, max=3600),
    default=None,
    help="Make every reading at least this long (review fixations).",
)
@overwrite_option
def simulate(
    n_images: int,
    readers: int,
    tracker: str,
    strategy: str,
    outdir: str,
    fmt: str,
    seed: int,
    image_size: int,
    n_findings: int | None,
    min_duration_s: float | None,
    overwrite: bool,
) -> None:
    """Generate synthetic chest X-ray reading sessions with ground truth.

    Writes images/<image_id>.png, anatomy/<image_id>.npz, truth/fixations.parquet and the
    recordings in the chosen format under OUTPUT, which must be empty (or, with
    --overwrite, an earlier simulation, removed first).

    \b
    Examples:
      gazekit simulate -n 8 --readers 2 -o sim/
      gazekit simulate --tracker eyelink --format asc --seed 1 -o sim-asc/
    """
    from gazekit.synthetic import simulate_corpus
    from gazekit.synthetic.export import prepare_output, write_sessions

    check_output(outdir, overwrite)  # writable; existing output only with --overwrite
    prepare_output(outdir, overwrite)  # emptied first: no file of an earlier run is left

    params = {
        "n_images": n_images,
        "readers": readers,
        "tracker": tracker,
        "strategy": strategy,
        "seed": seed,
        "image_size": image_size,
        "n_findings": n_findings,
        "min_duration_s": min_duration_s,
    }
    sessions = simulate_corpus(
        n_images,
        seed=seed,
        n_readers=readers,
        tracker=tracker,
        strategy=strategy,
        image_size=image_size,
        n_findings=n_findings,
        min_duration_s=min_duration_s,
    )
    recs = write_sessions(sessions, outdir, fmt, parameters=params)
    click.echo(
        f"wrote {len(recs)} sessions ({n_images} images x {readers} readers, {fmt}) to {outdir}"
    )
