"""GazeSearch benchmark: an image-free, target-conditioned scanpath model against per-target baselines.

Reads a GazeSearch scanpath list (default: ``../shared/data/gazesearch/gazesearch_train_valid.json``
next to the repository), trains the image-free model (config ``gazesearch``: ``backbone
"none"``, conditioned on the finding searched for) on its ``train`` split, selects the
checkpoint on ``valid`` (validation NLL), and prints the ``gazesearch`` preset's table —
log-likelihood and information gain first, then ScanMatch, SED, MultiMatch and STDE — for
the model and every baseline, on ``valid`` or on any split of any list passed with
``--data FILE --eval-split NAME``.

The image-based peer (ChestSearch, WACV 2025) needs the MIMIC-CXR images and is **not
run** here; its published figures are printed as published, never as measured.

Usage::

    python benchmarks/gazesearch.py [--data FILE --eval-split NAME] [--json rows.json]
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT.parent / "shared" / "data" / "gazesearch" / "gazesearch_train_valid.json"
#: ChestSearch as published (Pham et al., WACV 2025, Table 2; centre prepended). Not measured here.
PUBLISHED = {"ChestSearch (published, image-based)": {"scanmatch": 0.400, "sed": 4.75}}
HEADLINE = ("ll_bits_per_fixation", "ig_vs_centre_bias", "ig_vs_target_density", "scanmatch",
            "sed", "mm_vector", "mm_direction", "mm_length", "mm_position", "stde")  # fmt: skip


def _convert(src: Path, out: Path) -> Path:
    from gazekit.io.convert import convert

    convert([src], out, fmt="gazesearch", overwrite=True)
    return out


def _table(rows: pd.DataFrame) -> str:
    main = rows[~rows["metric"].str.startswith("delta_")]
    metrics = [m for m in HEADLINE if m in set(main["metric"])]
    models = list(dict.fromkeys(main["model"]))
    cell = {(r.model, r.metric): r for r in main.itertuples()}
    width = max(len(m) for m in models) + 2
    lines = ["predictor".ljust(width) + "".join(f"{m:>24s}" for m in metrics)]
    for name in models:
        vals = []
        for m in metrics:
            r = cell.get((name, m))
            if r is None or not math.isfinite(r.value):
                vals.append(f"{'—':>24s}")
            elif m.startswith(("ll_", "ig_")) and math.isfinite(r.ci_low):
                vals.append(f"{r.value:8.3f} [{r.ci_low:6.3f},{r.ci_high:6.3f}]".rjust(24))
            else:
                vals.append(f"{r.value:24.3f}")
        lines.append(name.ljust(width) + "".join(vals))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--train", type=Path, default=None,
                    help=f"scanpath list with train/valid splits [default: {DEFAULT}]")  # fmt: skip
    ap.add_argument("--data", type=Path, default=None,
                    help="scanpath list to evaluate on [default: the --train list]")  # fmt: skip
    ap.add_argument("--eval-split", default="valid", help="split of --data to evaluate [valid]")
    ap.add_argument("--config", default="gazesearch", help="training config [gazesearch]")
    ap.add_argument("--max-steps", type=int, default=None, help="override the step budget")
    ap.add_argument("--samples", type=int, default=4, help="draws per stochastic predictor [4]")
    ap.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples [1000]")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workdir", type=Path, default=None, help="keep datasets and the run here")
    ap.add_argument("--json", type=Path, default=None, help="write rows (predictor, metric, value)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    from gazekit.models.preset_eval import evaluate_preset
    from gazekit.models.train import TrainConfig, config_path, train

    src = args.train or Path(os.environ.get("GAZEKIT_GAZESEARCH", DEFAULT))
    if not src.is_file():
        print(f"GazeSearch list not found: {src} (pass --train FILE)", file=sys.stderr)
        return 2
    print(f"machine load (1/5/15 min): {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as tmp:
        work = args.workdir or Path(tmp)
        t0 = time.perf_counter()
        train_ds = _convert(src, work / "train_ds")
        eval_ds = train_ds if args.data is None else _convert(args.data, work / "eval_ds")
        t1 = time.perf_counter()
        cfg_file = Path(args.config) if args.config.endswith(".json") else config_path(args.config)
        cfg = TrainConfig.load(cfg_file, max_steps=args.max_steps, seed=args.seed)
        res = train(train_ds, cfg, work / "run", device="cpu")
        t2 = time.perf_counter()
        result = evaluate_preset(res.checkpoint, eval_ds, eval_split=args.eval_split,
                                 train_data=train_ds, n_samples=args.samples,
                                 decodings=("sample", "greedy"), seed=args.seed,
                                 n_boot=args.bootstrap)  # fmt: skip
        t3 = time.perf_counter()
    rows = result["rows"]
    n = int(rows.loc[rows["metric"] == "scanmatch", "support"].iloc[0])
    print(f"\nGazeSearch preset on '{args.eval_split}' of {args.data or src} ({n} scanpaths); "
          f"model trained {res.steps} steps, best validation NLL {res.best_val:.3f} nats/fixation")  # fmt: skip
    print(
        "log-likelihood/IG: bits per fixation [95 % bootstrap interval over images]; "
        "SED lower is better, all else higher\n"
    )
    print(_table(rows))
    grid = rows[rows["metric"].isin(["sed", "sed_gazesearch_grid"])]
    wide = grid.pivot_table(index="model", columns="metric", values="value", sort=False)
    print("\nSED on GazeSearch's own 44-px grid (its code) vs gazekit's exact 44.8-px grid:")
    for name, r in wide.iterrows():
        print(f"  {name:36s} exact {r['sed']:.3f}  benchmark-grid {r['sed_gazesearch_grid']:.3f}  "
              f"difference {r['sed_gazesearch_grid'] - r['sed']:+.3f}")  # fmt: skip
    print(
        "\nPEER NOT RUN: ChestSearch needs the MIMIC-CXR images (PhysioNet credentialing). "
        "Its PUBLISHED figures (not measured here, test split): ScanMatch 0.400, SED 4.75."
    )
    model = rows[(rows["model"] == "model (sample)")].set_index("metric")["value"]
    for peer, figs in PUBLISHED.items():
        print(f"  model (sample) / {peer}: ScanMatch {model['scanmatch'] / figs['scanmatch']:.3f}, "
              f"SED {model['sed'] / figs['sed']:.3f} (ratios of a measured to a published figure)")  # fmt: skip
    print(f"\ntime: convert {t1 - t0:.1f} s, train {t2 - t1:.1f} s, evaluate {t3 - t2:.1f} s")
    if args.json is not None:
        out = [{"predictor": r.model, "metric": r.metric, "value": _num(r.value),
                "ci_low": _num(r.ci_low), "ci_high": _num(r.ci_high), "support": int(r.support)}
               for r in rows.itertuples()]  # fmt: skip
        out += [{"predictor": p, "metric": m, "value": v, "ci_low": None, "ci_high": None,
                 "support": None, "published": True} for p, f in PUBLISHED.items()
                for m, v in f.items()]  # fmt: skip
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=1))
        print(f"rows → {args.json}")
    return 0


def _num(v: float) -> float | None:
    return float(v) if np.isfinite(v) else None


if __name__ == "__main__":
    raise SystemExit(main())
