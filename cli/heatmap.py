"""``gazekit heatmap`` and ``gazekit anatomy``: per-anatomy heatmaps and atlas tools."""

from __future__ import annotations

import itertools
from pathlib import Path

import click

from gazekit.cli._common import parse_pair, progress_bar, progress_option
from gazekit.io.images import MAX_IMAGE_PX
from gazekit.io.layout import id_filename


def _load_atlas(spec: str, shape: tuple[int, int], chest_box: str | None):  # type: ignore[no-untyped-def]
    from gazekit import anatomy

    if spec == "template":
        if chest_box is None:
            h, w = shape
            box = (0.08 * w, 0.06 * h, 0.92 * w, 0.94 * h)
        elif Path(chest_box).is_file():
            box = anatomy.read_chest_box(chest_box)
        else:
            try:
                box = tuple(float(v) for v in chest_box.split(","))
                assert len(box) == 4
            except (ValueError, AssertionError):
                raise click.BadParameter(
                    "expected x0,y0,x1,y1 or a CSV file", param_hint="--chest-box"
                ) from None
        return anatomy.template_from_box(box, shape)  # type: ignore[arg-type]
    atlas = anatomy.Atlas.load(spec)
    if atlas.shape != shape:
        atlas = atlas.resized(shape)
    return atlas


def _read_image(path: Path):  # type: ignore[no-untyped-def]
    from gazekit.io.images import read_image

    return read_image(path)


def _read_events(path: str):  # type: ignore[no-untyped-def]
    import numpy as np
    import pandas as pd

    from gazekit.errors import InputError

    try:
        df = pd.read_parquet(path) if path.endswith(".parquet") else pd.read_csv(path)
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InputError(
            f"not an events table (Parquet or CSV): {exc.__class__.__name__}", path=path
        ) from None
    missing = [c for c in ("x_px", "y_px", "duration_ms") if c not in df.columns]
    if missing:
        raise InputError(f"events table lacks columns {missing}", path=path)
    for col in ("x_px", "y_px", "duration_ms"):
        try:
            v = pd.to_numeric(df[col], errors="raise").to_numpy(dtype=float)
        except (ValueError, TypeError):
            raise InputError("values must be numbers", path=path, column=col) from None
        bad = ~np.isfinite(v) if col == "duration_ms" else np.isinf(v) | (np.abs(np.nan_to_num(v)) > 1e5)
        if col == "duration_ms":
            bad |= v < 0
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(
                f"impossible value {v[i]:g} ({int(bad.sum())} row(s)); durations are finite "
                "and >= 0 ms, coordinates within ±100000 px",
                path=path, line=i + 2 if not path.endswith(".parquet") else None, column=col,
            )  # fmt: skip
    return df


class _Positive(click.ParamType):
    """A finite number > 0 (NaN, inf, zero and negatives refused)."""

    name = "float"

    def convert(self, value, param, ctx):  # type: ignore[no-untyped-def]
        try:
            v = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number", param, ctx)
        if not (v > 0 and v != float("inf")):
            self.fail(f"{value!r} must be a finite number > 0", param, ctx)
        return v


POSITIVE = _Positive()


@click.command("heatmap")
@click.argument("events", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--image",
    "image_path",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Radiograph PNG (default: DIR/images/<image_id>.png of a dataset).",
)
@click.option(
    "--shape-px", "shape", default=None, help="Image size WxH in px when there is no image."
)
@click.option(
    "--anatomy",
    "anatomy_spec",
    default="auto",
    show_default=True,
    help="Atlas .npz, 'template' (fitted to --chest-box) or 'auto' "
    "(DIR/anatomy/<image_id>.npz of a dataset, else the template).",
)
@click.option(
    "--chest-box", default=None, help="x0,y0,x1,y1 px or a REFLACX chest_bounding_box.csv."
)
@click.option(
    "--sigma-deg",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Gaussian kernel σ (deg) [default: 1.0].",
)
@click.option(
    "--sigma-px",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Gaussian kernel σ (px of the image), instead of --sigma-deg.",
)
@click.option(
    "--px-per-deg",
    type=POSITIVE,
    default=None,
    help="Image px per degree (default: each recording's geometry in DIR/recordings.parquet).",
)
@click.option(
    "--weight",
    type=click.Choice(["duration", "count"], case_sensitive=False),
    default="duration",
    show_default=True,
    help="Weight of each fixation.",
)
@click.option("--downsample", type=click.IntRange(min=1, max=64), default=1, show_default=True)
@click.option(
    "--source",
    type=click.Choice(["auto", "detected", "tracker"], case_sensitive=False),
    default="auto",
    show_default=True,
    help="Fixations to use (auto: detected if the table has any, else the tracker's).",
)
@click.option("--method", default=None, help="Detector/tracker name when the source has several.")
@click.option("--eye", default=None, help="left, right or both, when the events hold several.")
@click.option(
    "--figures/--no-figures",
    default=True,
    show_default=True,
    help="Draw the PNG figures (the NPZ arrays and region_stats.parquet are always written).",
)
@click.option(
    "-o",
    "--output",
    "outdir",
    type=click.Path(file_okay=False),
    required=True,
    help="Output directory (PNG, NPZ, region_stats.parquet).",
)
@progress_option
def heatmap(
    events,
    image_path,
    shape,
    anatomy_spec,
    chest_box,
    sigma_deg,
    sigma_px,
    px_per_deg,
    weight,
    downsample,
    source,
    method,
    eye,
    figures,
    outdir,
    progress,
) -> None:  # type: ignore[no-untyped-def]
    """Heatmaps, per-region maps (PNG + NPZ) and region_stats.parquet from EVENTS tables.

    EVENTS are events tables (Parquet or CSV with x_px, y_px, onset_ms, duration_ms); for
    a dataset's DIR/events.parquet the image, atlas and geometry of each recording are
    found in DIR. Exactly one fixation source, method and eye is used (see --source).

    \b
    Examples:
      gazekit heatmap data/events.parquet -o heatmaps/ --sigma-deg 1.0
      gazekit heatmap fixations.csv --image cxr.png --sigma-px 25 -o heatmaps/
    """
    import pandas as pd

    from gazekit import heatmaps
    from gazekit.geometry import Geometry
    from gazekit.io.selection import select_events

    if sigma_deg is not None and sigma_px is not None:
        raise click.UsageError("give --sigma-deg or --sigma-px, not both")
    sigma, sigma_unit = (sigma_px, "px") if sigma_px is not None else (sigma_deg or 1.0, "deg")
    fixed_image = _read_image(Path(image_path)) if image_path else None
    fixed_shape = None
    if shape is not None:
        w, h = parse_pair(shape, "--shape-px")  # type: ignore[misc]
        fixed_shape = (int(h), int(w))
        if not (0 < w * h <= MAX_IMAGE_PX):
            raise click.BadParameter(f"{shape!r}: each side must be > 0 and the image at most "
                                     f"{MAX_IMAGE_PX:,} px", param_hint="--shape")  # fmt: skip
    scale = Geometry.from_px_per_deg(px_per_deg) if px_per_deg else None
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    tables = []
    selections = []
    for path in dict.fromkeys(events):  # a file given twice is read once
        root = Path(path).parent
        info = (
            heatmaps.recording_info(root / "recordings.parquet")
            if (root / "recordings.parquet").is_file()
            else {}
        )
        df = _read_events(path)
        df, sel = select_events(df, source, method, eye, require=True)
        selections.append(sel.to_dict())
        click.echo(f"{path}: fixations from {sel.describe()}")
        groups = (
            df.groupby("recording_id", sort=True)
            if "recording_id" in df.columns
            else [(Path(path).stem, df)]
        )
        bar = progress_bar(groups, df["recording_id"].nunique() if "recording_id" in df.columns
                           else 1, "heatmap", "rec", progress)  # fmt: skip
        for rid, fx in bar:
            rid = str(rid[0] if isinstance(rid, tuple) else rid)
            meta = info.get(rid, {})
            image_id = meta.get("image_id")
            image = fixed_image
            name = id_filename(image_id, "image_id") if image_id else None
            if image is None and name and (root / "images" / f"{name}.png").is_file():
                image = _read_image(root / "images" / f"{name}.png")
            grid = image.shape[:2] if image is not None else fixed_shape
            if grid is None:
                raise click.UsageError(f"{rid}: no image found; give --image or --shape-px")
            spec = anatomy_spec
            if spec == "auto":
                npz = root / "anatomy" / f"{name}.npz" if name else None
                spec = str(npz) if npz is not None and npz.is_file() else "template"
            atlas = _load_atlas(spec, grid, chest_box)
            geom = scale
            if geom is None and meta and meta["geometry"].has_degrees:
                geom = meta["geometry"]
            if sigma_unit == "deg" and geom is None:
                raise click.UsageError(
                    f"{rid}: sigma in degrees needs --px-per-deg or a dataset's screen geometry "
                    "(or use --sigma-px)"
                )
            if scale is not None:  # an explicit --px-per-deg overrides per-fixation mappings
                fx = fx.drop(columns=[c for c in ("px_per_deg_x", "px_per_deg_y") if c in fx])
            heat = heatmaps.compute(
                fx, grid, weight=weight, sigma=sigma, unit=sigma_unit, geometry=geom,
                downsample=downsample,
            )  # fmt: skip
            st = heatmaps.region_stats(
                fx,
                atlas,
                recording_id=rid,
                image_id=image_id,
                reader_id=meta.get("reader_id"),
                geometry=geom,  # coverage within 1°, or within sigma px without a scale
                coverage_unit="deg" if geom else "px",
                coverage_radius=1.0 if geom else sigma,
                heat=heat,
            )
            tables.append(st)
            stem = id_filename(rid, "recording_id")
            heatmaps.save_heatmaps(out / f"{stem}.npz", heat, atlas)
            if figures:
                _figures(heat, image, atlas, st, rid, out / stem)
            top = st.loc[st["dwell_share"].idxmax(), "region"] if st["dwell_ms"].sum() > 0 else "-"
            click.echo(f"{rid}: {len(fx)} fixations, most dwell in {top}")
    if any(s != selections[0] for s in selections):
        raise click.UsageError(
            f"the EVENTS tables differ in fixation source/method/eye ({selections}); pass "
            "--source/--method/--eye so that one kind is used"
        )
    meta = {
        "selection": selections[0],
        "weight": weight,
        "sigma": sigma,
        "sigma_unit": sigma_unit,
        "downsample": downsample,
    }
    heatmaps.write_region_stats(
        pd.concat(tables, ignore_index=True), out / "region_stats.parquet", meta
    )
    click.echo(f"wrote {len(tables)} heatmap(s) and region_stats.parquet to {out}")


def _figures(heat, image, atlas, st, rid: str, stem: Path) -> None:  # type: ignore[no-untyped-def]
    """``<stem>_heatmap.png`` and ``<stem>_regions.png`` (``stem`` from the encoded id)."""
    from gazekit import heatmaps
    from gazekit.plotting import plot_heatmap, plot_per_region, save_figure

    ax = plot_heatmap(heat, image, atlas=atlas, outline=(), title=rid)
    save_figure(ax.figure, stem.parent / f"{stem.name}_heatmap.png")
    shares = dict(zip(st["region"], st["dwell_share"], strict=True))
    fig = plot_per_region(
        heatmaps.stacked(heat, atlas), image, atlas.names, atlas=atlas, shares=shares
    )
    save_figure(fig, stem.parent / f"{stem.name}_regions.png")


@click.command("anatomy")
@click.argument("source", type=click.Path(exists=True))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(
        ["auto", "npz", "chexmask", "labelmap", "boxes", "template"], case_sensitive=False
    ),
    default="auto",
    show_default=True,
    help="Format of SOURCE (auto: from its extension).",
)
@click.option(
    "--names",
    "names_table",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Label-map name table (JSON or label,name CSV).",
)
@click.option("--shape-px", "shape", default=None, help="Grid WxH in px for boxes/template.")
@click.option(
    "-o",
    "--output",
    "out",
    type=click.Path(),
    default=None,
    help="Write the atlas .npz (a directory for CheXmask CSVs).",
)
@click.option(
    "--mapped",
    is_flag=True,
    help="Write the memory-mappable form (<image_id>.codes.npy + .codes.json: uncompressed "
    "code map, shared by pipeline workers) instead of .npz.",
)
def anatomy(source, fmt, names_table, shape, out, mapped) -> None:  # type: ignore[no-untyped-def]
    """Inspect an atlas (region, parent, area) or convert SOURCE to the atlas .npz format.

    SOURCE: atlas .npz, CheXmask CSV, label map (.png/.npy, with --names), Chest ImaGenome
    boxes (.json), or a chest box CSV (--format template).

    \b
    Examples:
      gazekit anatomy data/anatomy/img001.npz
      gazekit anatomy chexmask.csv -o data/anatomy/
      gazekit anatomy chest_bounding_box.csv --format template --shape-px 1024x1024 -o a.npz
    """
    from gazekit import anatomy as an

    src = Path(source)
    if fmt == "auto":
        fmt = {
            ".npz": "npz",
            ".csv": "chexmask",
            ".json": "boxes",
            ".png": "labelmap",
            ".npy": "labelmap",
        }.get(src.suffix.lower(), "npz")
        if src.name.endswith(".codes.npy"):  # the mapped atlas form
            fmt = "npz"
    grid = None
    if shape is not None:
        w, h = parse_pair(shape, "--shape-px")  # type: ignore[misc]
        grid = (int(h), int(w))
    if fmt == "chexmask":
        atlases = an.iter_chexmask(src)  # streamed: one decoded atlas in memory at a time
    elif fmt == "labelmap":
        if names_table is None:
            raise click.UsageError("a label map needs --names")
        atlases = {src.stem: an.from_label_map(src, an.read_name_table(names_table))}
    elif fmt == "boxes":
        atlases = {src.stem: an.read_boxes(src, grid)}
    elif fmt == "template":
        if grid is None:
            raise click.UsageError("a template needs --shape-px")
        atlases = {src.stem: an.template_from_box(an.read_chest_box(src), grid)}
    else:
        loaded = an.Atlas.load(src)
        atlases = {loaded.image_id or src.stem: loaded}
    items = iter(atlases.items() if isinstance(atlases, dict) else atlases)
    head = list(itertools.islice(items, 2))  # a one-atlas CSV may go to a single .npz
    single = len(head) < 2
    items = itertools.chain(head, items)
    for image_id, atlas in items:
        click.echo(f"{image_id}: {len(atlas)} regions on a {atlas.shape[1]}×{atlas.shape[0]} grid")
        for name, area in atlas.areas().items():
            parent = atlas.parents.get(name) or "-"
            click.echo(f"  {name:<26} parent={parent:<12} area={area} px")
        if out is not None:
            dest = (
                Path(out) / f"{id_filename(image_id, 'image_id')}.npz"
                if not single or Path(out).suffix != ".npz"
                else Path(out)
            )
            if mapped:
                dest = dest.with_name(dest.name[: -len(".npz")] + ".codes.npy")
                atlas.save_mapped(dest)
            else:
                atlas.save(dest)
            click.echo(f"  → {dest}")
