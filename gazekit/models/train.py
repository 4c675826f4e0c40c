"""Training loop shared by the intent and scanpath models.

AdamW, linear warm-up then cosine decay, gradient clipping, checkpoint selection and
early stopping on a validation score (intent: macro average precision over findings, the
measure the task is judged on; scanpath: the negative validation NLL), deterministic seeds, bf16 autocast on CUDA, optional ``torch.compile``,
DistributedDataParallel when launched by ``torchrun`` (one entry point), a tqdm progress
bar, atomic versioned checkpoints with resume, ``metrics.csv`` and ``loss.png`` per run.
"""

from __future__ import annotations

import csv
import json
import logging
import math
import os
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gazekit._version import __version__
from gazekit.errors import GazekitError, InputError
from gazekit.io.parquet import atomic_path
from gazekit.models.data import (
    Corpus,
    Example,
    example_digest,
    load_corpus,
    pad_batch,
)
from gazekit.models.nn import IntentModel, ModelConfig, ScanpathModel

log = logging.getLogger(__name__)

CHECKPOINT_FORMAT = 1
TASKS: dict[str, type[torch.nn.Module]] = {"intent": IntentModel, "scanpath": ScanpathModel}


def _register_baselines() -> None:
    from gazekit.models.baselines import GRUIntentModel, ImageOnlyIntentModel

    TASKS["intent_gru"] = GRUIntentModel
    TASKS["intent_image"] = ImageOnlyIntentModel


@dataclass
class TrainConfig:
    """Optimisation settings (defaults: a CPU smoke run)."""

    task: str = "intent"
    regime: str = "radhybrid"
    source: str = "auto"
    batch_size: int = 16
    lr: float = 2e-3
    weight_decay: float = 0.01
    warmup_steps: int = 20
    max_steps: int = 300
    eval_every: int = 25
    patience: int = 6
    grad_clip: float = 1.0
    seed: int = 0
    split: tuple[float, float, float] = (0.7, 0.15, 0.15)
    split_file: str | None = None
    leakage_unit: str = "image"
    compile: bool = False
    cpu_threads: int = 1
    model: ModelConfig = field(default_factory=ModelConfig)

    def __post_init__(self) -> None:
        """Refuse settings no optimiser can run with (named, with what to pass)."""
        import math

        def bad(name: str, need: str) -> InputError:
            return InputError(f"training config: {name} = {getattr(self, name)!r}; need {need}")

        for name in ("lr", "grad_clip"):
            v = getattr(self, name)
            if not isinstance(v, int | float) or not math.isfinite(v) or v <= 0:
                raise bad(name, "a finite number > 0")
        if not isinstance(self.weight_decay, int | float) or not 0 <= self.weight_decay < 1:
            raise bad("weight_decay", "a number in [0, 1)")
        for name in ("batch_size", "max_steps", "eval_every", "patience", "cpu_threads"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise bad(name, "a whole number >= 1")
        if not isinstance(self.warmup_steps, int) or self.warmup_steps < 0:
            raise bad("warmup_steps", "a whole number >= 0")
        split = tuple(self.split)
        if len(split) != 3 or any(not 0 <= f <= 1 for f in split) or not 0.99 <= sum(split) <= 1.01:
            raise bad("split", "three fractions (train, val, test) in [0, 1] that sum to 1")

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict (model config nested)."""
        d = asdict(self)
        d["model"] = self.model.to_dict()
        d["split"] = list(self.split)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        """Inverse of :meth:`to_dict`; unknown keys are an error."""
        d = dict(d)
        model = ModelConfig.from_dict(d.pop("model", {}))
        if "split" in d:
            d["split"] = tuple(d["split"])
        try:
            return cls(model=model, **d)
        except TypeError as exc:
            raise InputError(f"bad training config: {exc}") from None

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None, **overrides: Any) -> TrainConfig:
        """Read a JSON or TOML (``.toml``) config, or the defaults, then apply ``overrides``.

        Overrides that are None are ignored. The model architecture is the nested ``model``
        object (a ``[model]`` table in TOML).
        """
        import tomllib

        d: dict[str, Any] = {}
        if path is not None:
            p = Path(path)
            try:
                text = p.read_text()
                d = tomllib.loads(text) if p.suffix == ".toml" else json.loads(text)
            except (OSError, json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
                raise InputError(f"cannot read config ({exc})", path=p) from None
        d.update({k: v for k, v in overrides.items() if v is not None})
        return cls.from_dict(d)


def config_path(name: str) -> Path:
    """A shipped config by name (``tiny``, ``base``, ``gazesearch``).

    Parameters
    ----------
    name : str
        Config name (the file stem under ``gazekit/models/configs``).

    Returns
    -------
    Path
        The config file.

    Raises
    ------
    InputError
        No such shipped config; the message lists the shipped ones.
    """
    folder = Path(__file__).parent / "configs"
    p = folder / f"{name}.json"
    if not p.is_file():
        shipped = ", ".join(sorted(f.stem for f in folder.glob("*.json"))) or "none"
        raise InputError(
            f"no shipped config {name!r}; shipped: {shipped} (or pass a .json/.toml file)",
            path=p,
        )
    return p


_register_baselines()


def seed_everything(seed: int) -> None:
    """Seed Python and torch (NumPy generators are created from the seed where used)."""
    random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)


def resolve_device(device: str) -> torch.device:
    """``auto`` → cuda when available, else cpu; an unavailable cuda is an error."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise GazekitError("--device cuda asked for, but no CUDA device is available")
    return torch.device(device)


def to_tensors(
    corpus: Corpus, examples: list[Example], device: torch.device
) -> dict[str, torch.Tensor]:
    """Padded batch of examples (with their images) on ``device``."""
    b = {k: torch.as_tensor(v, device=device) for k, v in pad_batch(examples).items()}
    if not corpus.images:  # image-free corpus: only the batch size is read (backbone "none")
        b["image"] = torch.zeros(len(examples), 1, 1, 1, device=device)
        return b
    missing = next((e.image_id for e in examples if e.image_id not in corpus.images), None)
    if missing is not None:
        raise InputError(f"no image for {missing!r} (images/<image_id>.png); an image-free "
                         "model (model.backbone 'none') needs none")  # fmt: skip
    b["image"] = torch.stack([torch.as_tensor(corpus.images[e.image_id]) for e in examples])[
        :, None
    ].to(device)
    return b


def image_tensor(corpus: Corpus, image_id: str) -> torch.Tensor:
    """(1, 1, S, S) image of ``image_id``, or a (1, 1, 1, 1) placeholder for an image-free corpus."""
    if not corpus.images:
        return torch.zeros(1, 1, 1, 1)
    if image_id not in corpus.images:
        raise InputError(f"no image for {image_id!r} (images/<image_id>.png)")
    return torch.as_tensor(corpus.images[image_id])[None, None]


def lr_at(step: int, cfg: TrainConfig) -> float:
    """Linear warm-up then cosine decay to 10 % of ``lr``."""
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    frac = (step - cfg.warmup_steps) / max(1, cfg.max_steps - cfg.warmup_steps)
    return cfg.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(frac, 1.0))))


@dataclass
class RunResult:
    """What :func:`train` produced."""

    run_dir: Path
    checkpoint: Path
    best_val: float
    steps: int
    tokens_per_s: float
    split: dict[str, Any]
    best_score: float = math.nan
    score_name: str = "neg_val_loss"


def _distributed() -> tuple[int, int]:
    if "RANK" in os.environ and "WORLD_SIZE" in os.environ:
        import torch.distributed as dist

        if not dist.is_initialized():
            dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def save_checkpoint(path: Path, model: torch.nn.Module, opt: torch.optim.Optimizer, cfg: TrainConfig,
                    step: int, best_val: float, split: dict[str, Any], history: list[dict],
                    best_score: float = math.nan) -> Path:  # fmt: skip
    """One versioned dict: weights, optimiser, config, step, RNG states, versions.

    Everything in it is a tensor, dict, list, str or number, so it loads with
    ``torch.load(weights_only=True)``: a checkpoint is never unpickled as code.

    Parameters
    ----------
    path : Path
        Destination (written atomically).
    model, opt : torch.nn.Module, torch.optim.Optimizer
        The (possibly wrapped) model and its optimiser.
    cfg : TrainConfig
    step : int
        Optimiser steps done.
    best_val : float
        Validation loss of the best evaluation so far.
    best_score : float
        Selection score of the best evaluation so far (higher is better, e.g.
        validation macro-AP).
    split : dict
        Recording ids of the train/val/test split (and the training data's fingerprint).
    history : list of dict
        Per-step ``step``/``train_loss``/``lr``/``val_loss``.

    Returns
    -------
    Path
        ``path``.
    """
    raw = getattr(model, "module", model)
    raw = getattr(raw, "_orig_mod", raw)
    state = {
        "format_version": CHECKPOINT_FORMAT, "task": cfg.task, "config": cfg.to_dict(),
        "model_state": raw.state_dict(), "optimizer_state": opt.state_dict(), "step": step,
        "best_val": best_val, "best_score": best_score, "split": split, "history": history,
        "rng": {"torch": torch.get_rng_state(), "python": _python_rng_state()},
        "versions": {"gazekit": str(__version__), "torch": str(torch.__version__)},
    }  # fmt: skip
    with atomic_path(path) as tmp:
        torch.save(state, tmp)
    return path


def _python_rng_state() -> list[Any]:
    version, internal, gauss = random.getstate()
    return [version, list(internal), gauss]


def _set_python_rng_state(state: list[Any]) -> None:
    version, internal, gauss = state
    random.setstate((version, tuple(internal), gauss))


#: Keys every gazekit checkpoint has.
_CHECKPOINT_KEYS = ("task", "config", "model_state", "optimizer_state", "step", "best_val",
                    "split", "history", "rng")  # fmt: skip


def read_checkpoint(
    path: str | os.PathLike[str],
    device: str | torch.device = "cpu",
    task: str | None = None,
) -> dict[str, Any]:
    """The checkpoint dict, loaded without running code from the file.

    ``torch.load(weights_only=True)`` accepts only tensors and plain containers, so a
    crafted pickle cannot execute anything; a file that is not a gazekit checkpoint,
    or one of another task, is refused with a one-line error.

    Parameters
    ----------
    path : str or PathLike
        Checkpoint file (``checkpoint.pt``/``best.pt`` of a run).
    device : str or torch.device
        Where tensors are mapped.
    task : str, optional
        Required task (``intent``, ``scanpath``, ``intent_gru``); any when omitted.

    Returns
    -------
    dict
        See :func:`save_checkpoint`.

    Raises
    ------
    InputError
        Unreadable, not a gazekit checkpoint, unsupported format version, or another task.
    """
    import pickle
    import warnings
    import zipfile

    p = Path(path)
    if not p.is_file():
        raise InputError("checkpoint is not a regular file", path=p)
    try:
        with warnings.catch_warnings():  # e.g. "Detected pickle protocol 4": refused below
            warnings.simplefilter("ignore", UserWarning)
            ck = torch.load(p, map_location=device, weights_only=True)
    except pickle.UnpicklingError:
        raise InputError(
            "not a gazekit checkpoint (holds objects other than tensors and plain data; "
            "gazekit never unpickles code)", path=p,
        ) from None
    except (OSError, RuntimeError, EOFError, ValueError, zipfile.BadZipFile, KeyError,
            AttributeError, TypeError, IndexError) as exc:  # fmt: skip
        raise InputError(
            f"not a gazekit checkpoint (unreadable: {exc.__class__.__name__})", path=p
        ) from None
    if not isinstance(ck, dict) or any(k not in ck for k in _CHECKPOINT_KEYS):
        raise InputError("not a gazekit checkpoint (pass a run's checkpoint.pt or best.pt)", path=p)
    if ck.get("format_version") != CHECKPOINT_FORMAT:
        raise InputError(
            f"checkpoint format {ck.get('format_version')!r} is not supported "
            f"(this gazekit reads format {CHECKPOINT_FORMAT}; retrain)", path=p,
        )
    if ck["task"] not in TASKS:
        raise InputError(f"checkpoint of unknown task {ck['task']!r}", path=p)
    if task is not None and ck["task"] != task:
        raise InputError(
            f"checkpoint is a {ck['task']!r} model; a {task!r} checkpoint is needed", path=p
        )
    return ck


def load_checkpoint(
    path: str | os.PathLike[str], device: str | torch.device = "cpu", task: str | None = None
) -> tuple[torch.nn.Module, dict[str, Any]]:
    """Model (eval mode) and the checkpoint dict (see :func:`read_checkpoint`).

    Parameters
    ----------
    path : str or PathLike
        Checkpoint file.
    device : str or torch.device
        Device of the returned model.
    task : str, optional
        Required task; any when omitted.

    Returns
    -------
    (torch.nn.Module, dict)
        The model in eval mode and the checkpoint dict.

    Raises
    ------
    InputError
        See :func:`read_checkpoint`; also weights that do not fit the stored config.
    """
    ck = read_checkpoint(path, device, task)
    try:
        cfg = TrainConfig.from_dict(ck["config"])
        model = TASKS[ck["task"]](cfg.model)
        model.load_state_dict(ck["model_state"])
    except (RuntimeError, TypeError, ValueError, KeyError) as exc:
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        raise InputError(
            f"checkpoint weights do not match its config ({exc.__class__.__name__}: {first})",
            path=path,
        ) from None
    model.to(device).eval()
    return model, ck


def _evaluate(
    model: torch.nn.Module,
    corpus: Corpus,
    ex: list[Example],
    cfg: TrainConfig,
    device: torch.device,
) -> tuple[float, float]:
    """Validation loss per real token and the selection score (higher is better).

    Intent tasks: macro average precision over the findings with a positive in ``ex``
    (pooled over fixations). Scanpath: minus the loss.
    """
    model.eval()
    total, n = 0.0, 0
    probs, ys = [], []
    with torch.no_grad():
        for i in range(0, len(ex), cfg.batch_size):
            part = ex[i : i + cfg.batch_size]
            b = to_tensors(corpus, part, device)
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.type == "cuda"):
                out, loss = model(b)
            k = int(b["mask"].sum())
            total += float(loss) * k
            n += k
            if cfg.task.startswith("intent"):
                m = b["mask"].cpu().numpy()
                probs.append(torch.sigmoid(out.float()).cpu().numpy()[m])
                ys.append(b["intent"].cpu().numpy()[m])
    model.train()
    loss = total / max(n, 1)
    if not probs:
        return loss, -loss
    return loss, macro_ap(np.concatenate(ys), np.concatenate(probs))


def macro_ap(y: np.ndarray, s: np.ndarray) -> float:
    """Mean average precision over the columns of ``y`` (N, C) that have a positive.

    NaN when no column has one (then the selection falls back to the first evaluation).
    """
    from gazekit.metrics.classification import average_precision

    aps = [average_precision(y[:, c], s[:, c]) for c in range(y.shape[1]) if y[:, c].any()]
    return float(np.mean(aps)) if aps else math.nan


def _plot(history: list[dict], path: Path) -> None:
    from matplotlib.figure import Figure  # no pyplot: the user's backend is never touched

    fig = Figure(figsize=(6, 3.5))
    ax = fig.subplots()
    ax.plot([h["step"] for h in history], [h["train_loss"] for h in history], label="train")
    val = [h for h in history if h.get("val_loss") is not None]
    ax.plot([h["step"] for h in val], [h["val_loss"] for h in val], "o-", label="validation")
    ax.set(xlabel="step", ylabel="loss", title="training curve")
    ax.legend(loc="upper left")
    ap = [h for h in history if h.get("val_ap") is not None and math.isfinite(h["val_ap"])]
    if ap:
        ax2 = ax.twinx()
        ax2.plot([h["step"] for h in ap], [h["val_ap"] for h in ap], "s--", color="tab:green",
                 label="validation macro-AP")  # fmt: skip
        ax2.set_ylabel("validation macro-AP")
        ax2.legend(loc="upper right")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)


def train(
    data: str | os.PathLike[str] | Corpus,
    cfg: TrainConfig,
    out: str | os.PathLike[str],
    *,
    device: str = "auto",
    resume: bool = False,
    progress: bool = False,
    stop_at: int | None = None,
) -> RunResult:
    """Train ``cfg.task`` on a dataset directory (or a loaded :class:`Corpus`).

    Writes ``out/checkpoint.pt`` (last), ``out/best.pt`` (best validation score:
    macro-AP for intent tasks, loss otherwise), ``out/metrics.csv``, ``out/loss.png``
    and ``out/config.json``. With ``resume`` the
    run continues from ``out/checkpoint.pt`` exactly (same next-step loss). ``stop_at``
    ends the run after that step, as an interruption would (the schedule still follows
    ``cfg.max_steps``).

    Parameters
    ----------
    data : path-like or Corpus
        Dataset directory (read with :func:`load_corpus` and ``cfg``'s regime, source
        and image size) or an already loaded corpus.
    cfg : TrainConfig
        Task, model, optimisation and split settings.
    out : path-like
        Run directory.
    device : str
        ``"auto"`` (cuda when available), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
    resume : bool
        Continue from ``out/checkpoint.pt``.
    progress : bool
        Show a progress bar.
    stop_at : int, optional
        Last optimisation step to run.

    Returns
    -------
    RunResult
        Run directory, checkpoint path, best validation loss and score, steps run,
        throughput (tokens/s) and the recording-id split.

    Raises
    ------
    InputError
        Unknown task, too few images/readers for a split, nothing to resume, or a
        checkpoint that does not fit ``cfg``.
    GazekitError
        ``device`` asks for CUDA and none is available.
    """
    if cfg.task not in TASKS:
        raise InputError(f"task must be one of {sorted(TASKS)}, got {cfg.task!r}")
    rank, world = _distributed()
    dev = resolve_device(device)
    if world > 1 and dev.type == "cuda":
        dev = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
        torch.cuda.set_device(dev)
    out = Path(out)
    if dev.type == "cpu":
        # small per-step kernels: extra intra-op threads mostly add contention
        torch.set_num_threads(max(1, cfg.cpu_threads))
    seed_everything(cfg.seed)
    corpus = (
        data
        if isinstance(data, Corpus)
        else load_corpus(
            data, regime=cfg.regime, source=cfg.source, image_size=cfg.model.image_size
        )
    )
    from gazekit.models.splits import check_backbone, resolve_split

    check_backbone(corpus, cfg.model.backbone)
    tr, va, te = resolve_split(corpus, cfg)
    if not tr or not va:
        raise InputError(
            f"too few images/readers for a train/validation split ({len(corpus.examples)} recordings)"
        )
    split = {"train": tr, "val": va, "test": te,
             "digests": {e.recording_id: example_digest(e) for e in corpus.examples}}  # fmt: skip
    by_id = {e.recording_id: e for e in corpus.examples}
    train_ex, val_ex = [by_id[r] for r in tr], [by_id[r] for r in va]
    model = TASKS[cfg.task](cfg.model).to(dev)
    if hasattr(model, "set_pos_weight") and cfg.model.pos_weight == "sqrt":
        from gazekit.models.nn import sqrt_pos_weight

        w = sqrt_pos_weight(np.concatenate([e.intent for e in train_ex]))
        model.set_pos_weight(w)
        log.info("positive weights (sqrt-balanced, training split): %s", np.round(w, 2).tolist())
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    step, best_val, best_score, history = 0, float("inf"), -math.inf, []
    score_name = "val_macro_ap" if cfg.task.startswith("intent") else "neg_val_loss"
    ck_path = out / "checkpoint.pt"
    if resume:
        if not ck_path.is_file():
            raise InputError("nothing to resume (no checkpoint.pt)", path=ck_path)
        ck = read_checkpoint(ck_path, dev, task=cfg.task)
        try:
            model.load_state_dict(ck["model_state"])
            opt.load_state_dict(ck["optimizer_state"])
        except (RuntimeError, ValueError, KeyError) as exc:
            raise InputError(
                f"checkpoint does not fit this config ({exc.__class__.__name__}); resume "
                "with the run's own config.json", path=ck_path,
            ) from None
        step, best_val, history = ck["step"], ck["best_val"], ck["history"]
        best_score = ck.get("best_score", -math.inf)
        torch.set_rng_state(ck["rng"]["torch"].cpu())
        _set_python_rng_state(ck["rng"]["python"])
    run_model: torch.nn.Module = model
    if world > 1:
        from torch.nn.parallel import DistributedDataParallel as DDP

        run_model = DDP(model, device_ids=[dev.index] if dev.type == "cuda" else None)
    if cfg.compile:
        run_model = torch.compile(run_model)  # type: ignore[assignment]
    if rank == 0:
        out.mkdir(parents=True, exist_ok=True)
        with atomic_path(out / "config.json") as tmp:
            Path(tmp).write_text(json.dumps(cfg.to_dict(), indent=2))
    bar = None
    if progress and rank == 0:
        from tqdm import tqdm

        bar = tqdm(total=cfg.max_steps, initial=step, desc=f"train {cfg.task}", unit="step")
    n_tokens, t_start, bad_evals = 0, time.perf_counter(), 0
    model.train()
    while step < min(cfg.max_steps, stop_at or cfg.max_steps):
        # the batch depends on (seed, step, rank) only, so a resumed run draws the same ones
        rng = np.random.default_rng([cfg.seed, step, rank])
        idx = rng.choice(len(train_ex), size=min(cfg.batch_size, len(train_ex)), replace=False)
        if world > 1:
            idx = idx[rank::world] if len(idx) >= world else idx
        batch = to_tensors(corpus, [train_ex[i] for i in idx], dev)
        for g in opt.param_groups:
            g["lr"] = lr_at(step, cfg)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=dev.type == "cuda"):
            _, loss = run_model(batch)  # one call: DDP all-reduces the gradients of this loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        opt.step()
        step += 1
        n_tokens += int(batch["mask"].sum())
        rec: dict[str, Any] = {
            "step": step,
            "train_loss": float(loss.detach()),
            "lr": lr_at(step - 1, cfg),
            "val_loss": None,
            "val_ap": None,
        }
        if step % cfg.eval_every == 0 or step == cfg.max_steps:
            rec["val_loss"], score = _evaluate(run_model, corpus, val_ex, cfg, dev)
            if score_name == "val_macro_ap":
                rec["val_ap"] = score
            if not math.isfinite(score):
                score = -rec["val_loss"]  # no validation positive: fall back to the loss
            if score > best_score + 1e-4:
                best_score, best_val, bad_evals = score, rec["val_loss"], 0
                if rank == 0:
                    save_checkpoint(out / "best.pt", model, opt, cfg, step, best_val, split,
                                    [*history, rec], best_score)  # fmt: skip
            else:
                bad_evals += 1
        history.append(rec)
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{rec['train_loss']:.3f}", val=f"{best_val:.3f}")
        if rec["val_loss"] is not None and rank == 0:
            save_checkpoint(ck_path, model, opt, cfg, step, best_val, split, history, best_score)
        if bad_evals >= cfg.patience:
            log.info(
                "early stop at step %d (validation %s did not improve %d times)",
                step,
                score_name,
                cfg.patience,
            )
            break
    if bar is not None:
        bar.close()
    elapsed = time.perf_counter() - t_start
    if rank == 0:
        save_checkpoint(ck_path, model, opt, cfg, step, best_val, split, history, best_score)
        if not (out / "best.pt").is_file():
            save_checkpoint(out / "best.pt", model, opt, cfg, step, best_val, split, history,
                            best_score)  # fmt: skip
        with atomic_path(out / "metrics.csv") as tmp, open(tmp, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=["step", "train_loss", "val_loss", "val_ap", "lr"])
            w.writeheader()
            w.writerows(history)
        _plot(history, out / "loss.png")
    return RunResult(out, out / "best.pt", best_val, step, n_tokens / max(elapsed, 1e-9), split,
                     best_score, score_name)  # fmt: skip
