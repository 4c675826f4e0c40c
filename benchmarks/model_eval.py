"""Held-out intent and scanpath evaluation on simulated corpora, several seeds.

For each reading strategy (seq, explore, hybrid) a corpus of ``--images`` images read by
``--readers`` readers of that strategy is simulated and written once; for each seed the
intent transformer is trained on the matching regime (radseq, radexplore, radhybrid)
and evaluated with :func:`gazekit.models.evaluate_intent`, which trains the GRU and the
image-only classifier on the same split, fits the region × time prior and scores the
finding-box oracle; with ``--tasks intent,scanpath`` the scanpath model is trained and
evaluated too (``--tasks scanpath``: only it).
Splits are by image (three readers are too few to split readers too).

Every row has a 95 % bootstrap interval over test images (per seed); the summary gives,
per (regime, model, metric), the mean over seeds and the widest interval, and whether
the transformer's interval lies above the best fair baseline's on every seed.

Usage::

    python benchmarks/model_eval.py --images 200 --seeds 3 --tasks intent,scanpath -o /tmp/model-eval
    python benchmarks/model_eval.py --images 40 --seeds 1 --max-steps 200   # smoke

Writes ``rows-<strategies>.json`` (all rows, with a ``seed`` column) and
``summary-<strategies>.md`` under ``-o`` (run strategies as separate processes to share
one output directory).
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd

PAIRS = {"seq": "radseq", "explore": "radexplore", "hybrid": "radhybrid"}
FAIR = ("region-time-prior", "gru", "image-only")


def simulate(out: Path, strategy: str, images: int, readers: int, size: int) -> Path:
    from gazekit.synthetic import simulate_corpus
    from gazekit.synthetic.export import write_sessions

    d = out / f"sim-{strategy}"
    if not (d / "recordings.parquet").is_file():
        sessions = simulate_corpus(
            images, seed=7, n_readers=readers, image_size=size, strategy=strategy
        )
        write_sessions(sessions, d)
    return d


def summarise(rows: pd.DataFrame) -> str:
    lines = []
    plain = rows[~rows["metric"].str.startswith("delta_")]
    agg = plain.groupby(["task", "regime", "metric", "model"], sort=False).agg(
        value=("value", "mean"), ci_low=("ci_low", "min"), ci_high=("ci_high", "max"),
        seeds=("seed", "nunique"),
    )  # fmt: skip
    for (task, regime, metric), g in agg.groupby(level=[0, 1, 2], sort=False):
        lines.append(f"\n### {task} · {regime} · {metric}\n")
        lines.append("| model | mean over seeds | widest 95 % CI | seeds |\n|---|---|---|---|")
        for (_, _, _, model), r in g.iterrows():
            lines.append(
                f"| {model} | {r.value:.3f} | [{r.ci_low:.3f}, {r.ci_high:.3f}] | {r.seeds} |"
            )
        if task == "intent":
            wins = []
            for _seed, s in plain[
                (plain["regime"] == regime) & (plain["metric"] == metric)
            ].groupby("seed"):
                by = s.set_index("model")
                fair = by.loc[[m for m in FAIR if m in by.index]]
                best = fair["value"].idxmax()
                wins.append(by.loc["transformer", "ci_low"] > fair.loc[best, "ci_high"])
            lines.append(
                f"\ntransformer's CI above the best fair baseline's CI on {sum(wins)}/{len(wins)} seeds"
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=200)
    ap.add_argument("--readers", type=int, default=3)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--size", type=int, default=256, help="Simulated image size (px).")
    ap.add_argument("--config", default="tiny")
    ap.add_argument("--max-steps", type=int, default=None)
    ap.add_argument("--bootstrap", type=int, default=1000)
    ap.add_argument("--strategies", default="seq,explore,hybrid")
    ap.add_argument("--tasks", default="intent", help="intent, scanpath or intent,scanpath.")
    ap.add_argument("-o", "--output", default="model-eval")
    args = ap.parse_args()

    import torch

    from gazekit.models import TrainConfig, config_path, evaluate_intent, load_corpus, train
    from gazekit.models.evaluate_scanpath import evaluate_scanpath
    from gazekit.models.report import format_rows

    torch.set_num_threads(1)
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    path = Path(args.config) if Path(args.config).suffix else config_path(args.config)
    base = TrainConfig.load(path, max_steps=args.max_steps)
    frames = []
    tag = args.strategies.replace(",", "-") + "-" + args.tasks.replace(",", "-")
    t0 = time.perf_counter()
    for strategy in args.strategies.split(","):
        regime = PAIRS[strategy]
        data = simulate(out, strategy, args.images, args.readers, args.size)
        corpus = load_corpus(data, regime=regime, image_size=base.model.image_size)
        for seed in range(args.seeds):
            cfg = replace(base, task="intent", regime=regime, seed=seed)
            run_dir = out / regime / f"seed{seed}"
            t1 = time.perf_counter()
            if "intent" in args.tasks:
                run = train(corpus, cfg, run_dir / "intent")
                res = evaluate_intent(
                    run.checkpoint, data, out=run_dir, n_boot=args.bootstrap, seed=seed
                )
                print(format_rows(res["rows"]), flush=True)
                print(
                    f"[{regime} seed {seed}: {run.steps} steps, {time.perf_counter() - t1:.0f} s]"
                )
                frames.append(res["rows"].assign(seed=seed))
            if "scanpath" in args.tasks:
                sp = train(corpus, replace(cfg, task="scanpath"), run_dir / "scanpath")
                sres = evaluate_scanpath(sp.checkpoint, data, out=run_dir, n_boot=args.bootstrap,
                                         seed=seed)  # fmt: skip
                print(format_rows(sres["rows"]), flush=True)
                frames.append(sres["rows"].assign(seed=seed))
            allrows = pd.concat(frames, ignore_index=True)
            allrows.to_json(out / f"rows-{tag}.json", orient="records", indent=1)
    allrows = pd.concat(frames, ignore_index=True)
    summary = summarise(allrows)
    (out / f"summary-{tag}.md").write_text(summary)
    print(summary)
    load = os.getloadavg()[0]
    print(f"total {time.perf_counter() - t0:.0f} s, load {load:.1f}; rows → {out}/rows-{tag}.json")


if __name__ == "__main__":
    main()
