"""Model speed: training throughput (fixation tokens/s) and scanpath inference latency.

CPU always; CUDA too when a GPU is present (bf16 autocast, GPU-busy share of the
steady-state step time from CUDA events, and model FLOP utilisation from
:class:`torch.utils.flop_counter.FlopCounterMode` against ``--peak-tflops``)::

    python benchmarks/train_bench.py [--config tiny|base|FILE] [--steps 30]

The corpus is simulated in memory (``--images`` images × 3 readers).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from gazekit.models import IntentModel, ScanpathModel, TrainConfig, config_path, load_corpus
from gazekit.models.train import to_tensors


def corpus_dir(n_images: int, image_size: int) -> Path:
    from gazekit.synthetic import simulate_corpus
    from gazekit.synthetic.export import write_sessions

    out = Path(tempfile.mkdtemp(prefix="gazekit-train-bench-")) / "sim"
    write_sessions(
        simulate_corpus(n_images, seed=1, n_readers=3, image_size=image_size, strategy="mixed"), out
    )
    return out


def train_throughput(
    model_cls: type, cfg: TrainConfig, corpus, device: torch.device, steps: int
) -> dict:
    torch.manual_seed(0)
    model = model_cls(cfg.model).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr)
    rng = np.random.default_rng(0)
    ex = corpus.examples
    batches = [to_tensors(corpus, [ex[i] for i in rng.choice(len(ex), min(cfg.batch_size, len(ex)), replace=False)], device)
               for _ in range(4)]  # fmt: skip
    cuda = device.type == "cuda"

    def step(b: dict) -> None:
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=cuda):
            _, loss = model(b)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for b in batches[:2]:  # warm-up
        step(b)
    if cuda:
        torch.cuda.synchronize()
    tokens, busy = 0, 0.0
    t0 = time.perf_counter()
    for i in range(steps):
        b = batches[i % len(batches)]
        if cuda:
            s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            s.record()
        step(b)
        if cuda:
            e.record()
            torch.cuda.synchronize()
            busy += s.elapsed_time(e) / 1000.0
        tokens += int(b["mask"].sum())
    wall = time.perf_counter() - t0
    out = {"tokens_per_s": tokens / wall, "step_ms": 1000 * wall / steps}
    if cuda:
        from torch.utils.flop_counter import FlopCounterMode

        with FlopCounterMode(display=False) as fc:
            step(batches[0])
        out["gpu_busy"] = busy / wall
        out["tflops"] = fc.get_total_flops() * steps / wall / 1e12
    return out


def latency(cfg: TrainConfig, corpus, device: torch.device) -> dict:
    model = ScanpathModel(cfg.model).to(device).eval()
    img = torch.as_tensor(next(iter(corpus.images.values())))[None, None].to(device)
    out = {}
    for n in (1, 256):
        model.sample(img, n_samples=n, max_len=30)
        if device.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        model.sample(
            img, n_samples=n, max_len=30, generator=torch.Generator(device=device).manual_seed(0)
        )
        if device.type == "cuda":
            torch.cuda.synchronize()
        out[f"ms_per_scanpath_batch{n}"] = 1000 * (time.perf_counter() - t0) / n
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", default="tiny")
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--images", type=int, default=12)
    ap.add_argument("--threads", type=int, default=1, help="CPU torch threads")
    ap.add_argument(
        "--peak-tflops",
        type=float,
        default=989.0,
        help="GPU peak bf16 TFLOP/s (H100 SXM dense: 989)",
    )
    args = ap.parse_args()
    path = (
        Path(args.config) if args.config.endswith((".json", ".toml")) else config_path(args.config)
    )
    cfg = TrainConfig.load(path)
    data = corpus_dir(args.images, max(256, cfg.model.image_size))
    corpus = load_corpus(data, image_size=cfg.model.image_size)
    n_tok = sum(len(e) for e in corpus.examples)
    print(
        f"config {path.name}: {len(corpus.examples)} recordings, {n_tok} fixation tokens, batch {cfg.batch_size}"
    )
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    torch.set_num_threads(args.threads)
    for dev in devices:
        for name, cls in (("intent", IntentModel), ("scanpath", ScanpathModel)):
            r = train_throughput(cls, cfg, corpus, dev, args.steps)
            extra = ""
            if "gpu_busy" in r:
                extra = f", GPU busy {r['gpu_busy']:.0%} of step time, {r['tflops']:.2f} TFLOP/s = {r['tflops'] / args.peak_tflops:.1%} MFU"
            print(
                f"{dev.type:4s} train {name:8s} {r['tokens_per_s']:10,.0f} fixation tokens/s ({r['step_ms']:.1f} ms/step){extra}"
            )
        lat = latency(cfg, corpus, dev)
        print(
            f"{dev.type:4s} sample scanpaths (30 fixations): "
            + ", ".join(f"{k.split('_')[-1]} {v:.2f} ms/scanpath" for k, v in lat.items())
        )
    if not torch.cuda.is_available():
        print("no CUDA device: GPU figures skipped")


if __name__ == "__main__":
    main()
