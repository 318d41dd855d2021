"""Independent solves side by side on a fixed number of threads (two), whatever the machine."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

#: Threads for independent boundary-value solves: fixed (not the machine's core count), and the results do not
#: depend on it; a 1-core machine runs them interleaved.
WORKERS = 2


def thread_map(fn, items) -> list:
    """``[fn(x) for x in items]``, computed on ``WORKERS`` threads side by side, results in order.

    For independent solves whose time is mostly spent where the GIL is released (torch's backward passes,
    sparse LU factorisations, numpy): each call is the same computation as alone, so the results do not
    depend on the threads. An exception in any call is raised here.
    """
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        return list(pool.map(fn, items))
