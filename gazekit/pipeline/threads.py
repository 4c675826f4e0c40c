"""Worker-process hygiene: one compute thread per worker, and no orphaned workers.

The pipeline parallelises across recordings, one per worker process. Inner thread
pools (BLAS, OpenMP, Numba's parallel kernels, OpenCV, Arrow) would oversubscribe
the cores: with two workers on two cores, a second busy BLAS thread per worker makes
two workers slower than one. Environment variables such as ``OPENBLAS_NUM_THREADS``
only act when set *before* the library loads, so :func:`limit_threads` also lowers
the pools of libraries that are already loaded, through :mod:`threadpoolctl` (BLAS,
OpenMP) and each library's own setter (Numba, OpenCV, Arrow).
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

log = logging.getLogger(__name__)

#: Variables read by BLAS/OpenMP/Numba/numexpr when they load (set for child processes).
THREAD_ENV: dict[str, str] = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "VECLIB_MAXIMUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
    "NUMBA_NUM_THREADS": "1",
}

_state: dict[str, Any] = {"limited": False, "counts": None, "limiter": None}
_lock = threading.Lock()


def limit_threads() -> dict[str, int]:
    """Make this process use one thread in every numeric library; idempotent.

    Returns
    -------
    dict of str to int
        Thread counts after the change (see :func:`thread_counts`).
    """
    with _lock:
        if _state["limited"]:
            return dict(_state["counts"])
        os.environ.update(THREAD_ENV)
        from threadpoolctl import threadpool_limits

        # Keep the limiter object alive: the limits hold for the life of the process.
        _state["limiter"] = threadpool_limits(limits=1)
        try:
            import numba

            numba.set_num_threads(1)
        except (ImportError, ValueError):  # pragma: no cover - numba is a dependency
            pass
        try:
            import cv2

            cv2.setNumThreads(1)
        except ImportError:  # pragma: no cover - opencv is a dependency
            pass
        import pyarrow as pa

        pa.set_cpu_count(1)
        pa.set_io_thread_count(1)
        _state["limited"] = True
        _state["counts"] = thread_counts()
        return dict(_state["counts"])


def thread_counts() -> dict[str, int]:
    """Threads each numeric library of this process would use.

    Returns
    -------
    dict of str to int
        ``blas`` and ``openmp`` (largest pool among the loaded libraries, per
        :func:`threadpoolctl.threadpool_info`; 0 when none is loaded), ``numba``,
        ``opencv`` and ``arrow`` (CPU pool).
    """
    from threadpoolctl import threadpool_info

    out = {"blas": 0, "openmp": 0}
    for info in threadpool_info():
        api = info.get("user_api")
        if api in out:
            out[api] = max(out[api], int(info.get("num_threads", 0)))
    import numba

    out["numba"] = int(numba.get_num_threads())
    try:
        import cv2

        out["opencv"] = int(cv2.getNumThreads())
    except ImportError:  # pragma: no cover - opencv is a dependency
        out["opencv"] = 0
    import pyarrow as pa

    out["arrow"] = int(pa.cpu_count())
    return out


def _watch(driver_pid: int, parent_pid: int, interval_s: float) -> None:
    while True:
        threading.Event().wait(interval_s)
        try:
            os.kill(driver_pid, 0)
            alive = True
        except ProcessLookupError:
            alive = False
        except PermissionError:  # pragma: no cover - pid reused by another user
            alive = False
        if not alive or os.getppid() != parent_pid:
            log.warning("pipeline driver %d is gone; worker %d exits", driver_pid, os.getpid())
            os._exit(70)


def exit_with_driver(driver_pid: int, interval_s: float = 0.5) -> None:
    """Exit this worker process soon after the driver process dies.

    A daemon thread checks every ``interval_s`` seconds that ``driver_pid`` still
    exists and that this process has not been re-parented (its parent, the driver or
    the fork server, exited), and ends the process with status 70 otherwise. So a
    driver killed with ``kill -9`` leaves no workers computing for nobody.

    Parameters
    ----------
    driver_pid : int
        Process id of the pipeline driver.
    interval_s : float, s
        Polling period.
    """
    t = threading.Thread(
        target=_watch,
        args=(driver_pid, os.getppid(), interval_s),
        name="gazekit-driver-watch",
        daemon=True,
    )
    t.start()


def init_worker(driver_pid: int) -> None:
    """Process-pool initializer: :func:`limit_threads` and :func:`exit_with_driver`."""
    limit_threads()
    exit_with_driver(driver_pid)
