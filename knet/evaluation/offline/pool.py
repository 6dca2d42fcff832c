"""Split videos into work items and run them in a process pool.

A video is cut into chunks of frames; each chunk starts ``max_window - 1``
frames early so that the VPQ windows ending in it see all their frames
(those warm-up frames are decoded but not counted). Every work item returns
a small mergeable state, so memory stays at a window of frames per worker.
"""
import functools
import math
import multiprocessing as mp
import signal
import sys
from typing import Callable, List, Sequence, Tuple

__all__ = ['make_chunks', 'chunk_size', 'run_tasks']


def make_chunks(frames: Sequence, max_window: int,
                chunk: int) -> List[Tuple[List, int]]:
    """Split a video into (frames, index of the first counted frame)."""
    out = []
    for a in range(0, len(frames), chunk):
        s = max(0, a - max_window + 1)
        out.append((list(frames[s:a + chunk]), a - s))
    return out


def chunk_size(total: int, workers: int, chunk: int = 0) -> int:
    """``chunk`` if set, else about four work items per worker (>= 8
    frames each)."""
    return chunk or max(8, math.ceil(total / max(1, workers * 4)))


def _ignore_sigint() -> None:
    """Pool workers leave Ctrl-C to the main process, which stops them (a
    worker's KeyboardInterrupt would print a traceback per process)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _indexed(fn: Callable, item):
    index, task = item
    return index, fn(task)


def run_tasks(fn: Callable, tasks: List, workers: int, total: int,
              desc: str) -> List:
    """``fn`` over ``tasks`` in ``workers`` processes (in this one for 1),
    with a progress bar over ``total`` frames; each result ends with the
    number of frames it counted. Results come in task order, so that
    merging them adds floats in the same order whatever the workers."""
    from tqdm import tqdm
    bar = tqdm(total=total, desc=desc, unit='frame', disable=None,
               file=sys.stderr)
    results = [None] * len(tasks)
    try:
        if workers <= 1 or len(tasks) <= 1:
            for i, t in enumerate(tasks):
                results[i] = fn(t)
                bar.update(results[i][-1])
        else:
            ctx = mp.get_context('fork' if 'fork' in mp.get_all_start_methods()
                                 else 'spawn')
            with ctx.Pool(min(workers, len(tasks)),
                          initializer=_ignore_sigint) as pool:
                for i, r in pool.imap_unordered(functools.partial(
                        _indexed, fn), enumerate(tasks)):
                    bar.update(r[-1])
                    results[i] = r
    finally:
        bar.close()
    return results
