"""``gazekit demo``: every stage on a few synthetic sessions, with a summary and a figure."""

from __future__ import annotations

import click


@click.command("demo")
@click.option(
    "-o",
    "--output",
    "outdir",
    type=click.Path(file_okay=False),
    default="gazekit-demo",
    show_default=True,
    help="Output directory.",
)
@click.option(
    "--seed", type=int, default=0, show_default=True, help="Random seed of the demo data."
)
@click.option(
    "--images",
    "n_images",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="Synthetic radiographs.",
)
@click.option(
    "--readers",
    "n_readers",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="Readers per radiograph.",
)
@click.option(
    "--image-size-px",
    "image_size",
    type=click.IntRange(min=128),
    default=1024,
    show_default=True,
    help="Radiograph size (px; square).",
)
def demo(outdir: str, seed: int, n_images: int, n_readers: int, image_size: int) -> None:
    """Run every stage on synthetic demo data; print a summary and draw OUTPUT/demo.png.

    \b
    Examples:
      gazekit demo
      gazekit demo -o demo/ --images 4 --readers 3 --image-size-px 512
    """
    from gazekit.demo import format_summary, run_demo

    ctx = run_demo(outdir, seed=seed, n_images=n_images, n_readers=n_readers, image_size=image_size)
    click.echo(format_summary(ctx))
