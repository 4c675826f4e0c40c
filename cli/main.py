"""Entry point of the ``gazekit`` command.

Sub-commands live in their own modules and are imported only when invoked, so
``gazekit --help`` stays fast and a command's heavy dependencies (torch, dask,
matplotlib) load only for the command that needs them.
"""

from __future__ import annotations

import errno
import importlib
import importlib.util
import logging
import sys

import click

from gazekit._version import __version__
from gazekit.errors import GazekitError

# command name -> (module under gazekit.cli, attribute, one-line help)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "convert": ("convert", "convert", "Convert raw recordings into validated Parquet."),
    "info": ("convert", "info", "Print a converted recording's metadata and row counts."),
    "simulate": ("simulate", "simulate", "Generate synthetic chest X-ray reading sessions."),
    "demo": ("demo", "demo", "Run every stage on shipped demo data and draw a figure."),
    "events": ("events", "events", "Detect fixations, saccades, PSO and blinks."),
    "anatomy": ("heatmap", "anatomy", "Inspect or convert anatomy atlases."),
    "heatmap": ("heatmap", "heatmap", "Per-anatomy gaze heatmaps and dwell statistics."),
    "intent": ("intent", "intent", "Label fixations with diagnostic intention."),
    "train": ("models", "train", "Train an intent or scanpath model."),
    "predict": ("models", "predict", "Predict intents or scanpaths with a checkpoint."),
    "evaluate": ("models", "evaluate", "Evaluate checkpoints against baselines."),
    "pipeline": ("pipeline", "pipeline", "Run the whole chain over a corpus, incrementally."),
}


def _available(module: str) -> bool:
    return importlib.util.find_spec(f"gazekit.cli.{module}") is not None


class LazyGroup(click.Group):
    """A click group whose sub-commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name, (mod, _, _) in COMMANDS.items() if _available(mod)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS or not _available(COMMANDS[cmd_name][0]):
            return None
        mod, attr, _ = COMMANDS[cmd_name]
        return getattr(importlib.import_module(f"gazekit.cli.{mod}"), attr)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(n, COMMANDS[n][2]) for n in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:  # the one CLI boundary: every error becomes one line
            raise click.ClickException(error_message(exc)) from None


_ERRNO_ADVICE = {
    errno.ENOSPC: "no space left on the device; free space or write elsewhere",
    errno.EDQUOT: "disk quota exceeded; free space or write elsewhere",
    errno.EACCES: "permission denied; pass a path you can write (or read)",
    errno.EPERM: "operation not permitted; pass a path you own",
    errno.EROFS: "read-only file system; write the output elsewhere",
    errno.ENOENT: "no such file or directory",
    errno.ENOTDIR: "a part of the path is a file, not a directory",
    errno.EISDIR: "is a directory; pass a file",
    errno.EEXIST: "already exists",
    errno.ENAMETOOLONG: "file name too long",
}


def error_message(exc: BaseException) -> str:
    """One line ``<file or option>: <what is wrong and what to pass>`` for any exception.

    gazekit's own errors already name the file/line/column or option; operating-system
    errors name the file and say what to do; anything else is reported as an internal
    error (the traceback is logged at debug level: run with ``-vv`` to see it).

    Parameters
    ----------
    exc : BaseException
        The exception that ended the command.

    Returns
    -------
    str
        The message (click prefixes ``Error: ``).
    """
    if isinstance(exc, GazekitError):
        return str(exc)
    if isinstance(exc, OSError) and exc.errno in _ERRNO_ADVICE:
        where = exc.filename if exc.filename is not None else "output"
        return f"{where}: {_ERRNO_ADVICE[exc.errno]}"
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename is not None else ""
        return f"{where}{exc.strerror or exc}"
    if isinstance(exc, EOFError):
        return "unexpected end of file: an input is empty or truncated"
    if isinstance(exc, MemoryError):
        return "out of memory: the input is too large for this machine; split it or use a bigger one"
    logging.getLogger("gazekit.cli").debug("internal error", exc_info=exc)
    text = " ".join(str(exc).split())[:300]
    return (
        f"internal error ({exc.__class__.__name__}: {text}); this is a gazekit bug, "
        "please report it with the command line (-vv shows the traceback)"
    )


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gazekit")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
def cli(verbose: int) -> None:
    """gazekit: radiologists' eye-tracking data on chest X-rays."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    cli.main(args=argv if argv is not None else sys.argv[1:], prog_name="gazekit")


if __name__ == "__main__":
    main()
