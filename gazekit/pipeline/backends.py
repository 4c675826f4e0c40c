"""Execution backends: the same per-unit tasks run in-process, in a process pool, or on Dask.

Every backend streams: at most ``max_in_flight`` tasks are submitted at once and
results are handed back as they complete, so the driver's memory does not grow with
the corpus.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from gazekit.errors import GazekitError
from gazekit.pipeline.threads import THREAD_ENV, init_worker

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


class Backend:
    """Base class: ``run(fn, tasks)`` yields ``(task, result or exception)`` as tasks finish."""

    name = "sync"
    n_workers = 1
    dashboard: str | None = None
    #: Whether tasks run in worker processes of their own (they then limit their
    #: numeric libraries to one thread each; the in-process backend leaves the
    #: caller's process as it is).
    remote = False

    def run(self, fn: Callable[[T], R], tasks: Iterable[T]) -> Iterator[tuple[T, Any]]:
        for task in tasks:
            try:
                yield task, fn(task)
            except Exception as exc:
                yield task, exc

    def close(self) -> None:
        """Release workers."""


class ProcessBackend(Backend):
    """A local :class:`~concurrent.futures.ProcessPoolExecutor` (``forkserver`` start)."""

    name = "processes"
    remote = True

    def __init__(self, n_workers: int | None = None, max_in_flight: int | None = None) -> None:
        self.n_workers = n_workers or os.cpu_count() or 1
        self.max_in_flight = max_in_flight or 2 * self.n_workers
        method = (
            "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
        )
        self._ctx = multiprocessing.get_context(method)
        if method == "forkserver":
            self._ctx.set_forkserver_preload(["gazekit.pipeline"])
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=self.n_workers,
            mp_context=self._ctx,
            initializer=init_worker,
            initargs=(os.getpid(),),
        )

    def run(self, fn: Callable[[T], R], tasks: Iterable[T]) -> Iterator[tuple[T, Any]]:
        it = iter(tasks)
        pending: dict[Any, T] = {}
        while True:
            while len(pending) < self.max_in_flight:
                task = next(it, None)
                if task is None:
                    break
                pending[self._pool.submit(fn, task)] = task
            if not pending:
                return
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            broken = False
            for fut in done:
                task = pending.pop(fut)
                exc = fut.exception()
                broken |= isinstance(exc, BrokenProcessPool)
                yield task, (exc if exc is not None else fut.result())
            if broken:  # a worker died (killed, out of memory): its tasks failed; go on
                log.warning("a worker process died; restarting the process pool")
                for fut, task in list(pending.items()):
                    pending.pop(fut)
                    yield task, BrokenProcessPool("worker pool restarted")
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = self._new_pool()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class DaskBackend(Backend):
    """A dask.distributed client: an existing one, a scheduler address/file, or a LocalCluster.

    Parameters
    ----------
    address : str, optional
        ``tcp://host:port`` (``dask://host:port`` is accepted as an alias).
    scheduler_file : str, optional
        JSON file written by ``dask scheduler --scheduler-file``.
    client : distributed.Client, optional
        Use this client (not closed by :meth:`close`).
    n_workers : int, optional
        Workers of the LocalCluster started when no address, file or client is given.
    max_in_flight : int, optional
        Futures submitted at once; default four per worker thread.
    """

    name = "dask"
    remote = True

    def __init__(
        self,
        address: str | None = None,
        scheduler_file: str | None = None,
        client: Any = None,
        n_workers: int | None = None,
        max_in_flight: int | None = None,
    ) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError:  # pragma: no cover - distributed is a dependency
            raise GazekitError("the dask scheduler needs the 'distributed' package") from None
        self._own: list[Any] = []
        # Dask logs every worker start, stop and closed connection at INFO, some of it
        # after the cluster is closed; show them only when gazekit's own logging is
        # verbose (``gazekit -v``).
        logging.getLogger("distributed").setLevel(_dask_log_level())
        if client is None:
            if address:
                client = Client(address.replace("dask://", "tcp://", 1))
            elif scheduler_file:
                client = Client(scheduler_file=scheduler_file)
            else:
                # Thread limits in the environment act before NumPy loads in each
                # worker; Dask's INFO logs (worker start/stop) only with -v.
                cluster = LocalCluster(
                    n_workers=n_workers or os.cpu_count() or 1,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=":0",
                    env=dict(THREAD_ENV),
                    silence_logs=_dask_log_level(),
                )
                client = Client(cluster)
                self._own.append(cluster)
            self._own.insert(0, client)
        self.client = client
        threads = sum(w.get("nthreads", 1) for w in client.scheduler_info()["workers"].values())
        self.n_workers = max(threads, 1)
        self.max_in_flight = max_in_flight or 4 * self.n_workers
        self.dashboard = getattr(client, "dashboard_link", None)
        self.name = f"dask ({client.scheduler.address})"

    def run(self, fn: Callable[[T], R], tasks: Iterable[T]) -> Iterator[tuple[T, Any]]:
        from distributed import as_completed

        it = iter(tasks)
        pending: dict[str, T] = {}
        ac = as_completed()

        def submit() -> bool:
            task = next(it, None)
            if task is None:
                return False
            fut = self.client.submit(fn, task, pure=False)
            pending[fut.key] = task
            ac.add(fut)
            return True

        while len(pending) < self.max_in_flight and submit():
            pass
        for fut in ac:
            task = pending.pop(fut.key)
            if fut.status == "error":
                outcome: Any = fut.exception()
            else:
                outcome = fut.result()
            fut.release()
            yield task, outcome
            while len(pending) < self.max_in_flight and submit():
                pass

    def close(self) -> None:
        if len(self._own) == 2:  # our LocalCluster: stop workers before the scheduler
            with contextlib.suppress(Exception):
                self.client.retire_workers(close_workers=True)
        for obj in self._own:
            with contextlib.suppress(Exception):
                obj.close()


def _dask_log_level() -> int:
    """WARNING unless gazekit's own logging is at INFO or below (``gazekit -v``)."""
    level = logging.getLogger("gazekit").getEffectiveLevel()
    return logging.INFO if level <= logging.INFO else logging.WARNING


def make_backend(
    scheduler: str = "sync",
    *,
    n_workers: int | None = None,
    scheduler_file: str | None = None,
    client: Any = None,
    max_in_flight: int | None = None,
) -> Backend:
    """Backend for ``--scheduler sync|processes|dask|dask://HOST:PORT|tcp://HOST:PORT``."""
    if client is not None or scheduler_file:
        return DaskBackend(
            scheduler_file=scheduler_file, client=client, max_in_flight=max_in_flight
        )
    if scheduler == "sync":
        return Backend()
    if scheduler == "processes":
        return ProcessBackend(n_workers, max_in_flight)
    if scheduler == "dask":
        return DaskBackend(n_workers=n_workers, max_in_flight=max_in_flight)
    if scheduler.startswith(("dask://", "tcp://", "tls://", "inproc://")):
        return DaskBackend(address=scheduler, max_in_flight=max_in_flight)
    raise GazekitError(
        f"unknown scheduler {scheduler!r}; use sync, processes, dask or dask://HOST:PORT"
    )
