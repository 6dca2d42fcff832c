"""Image panoptic quality (panopticapi ``pq_compute`` semantics).

PQ of one image is VPQ with a window of one frame: the same matching (IoU >
0.5 with the prediction's void overlap removed from the union), crowd and
void rules and the same averaging over categories with TP + FP + FN > 0 (see
``vpq.py``, convention 'vpsnet'). Images are independent, so the state is
just the summed TP/FP/FN/IoU per category.
"""
from typing import Iterable, Optional

import numpy as np

from .segments import FrameTable
from .vpq import pq_from_stats, window_stats

__all__ = ['PQAccumulator']


class PQAccumulator:
    """Streaming image PQ over (gt key, pred key, count) frame tables."""

    def __init__(self, num_categories: int):
        self.num_categories = int(num_categories)
        self.stats = np.zeros((self.num_categories, 4))

    def update(self, table: FrameTable,
               order: Optional[np.ndarray] = None) -> None:
        table = tuple(np.asarray(a, dtype=np.int64) for a in table)
        self.stats += window_stats(table, self.num_categories, 'vpsnet',
                                   order)

    def merge(self, other: 'PQAccumulator') -> 'PQAccumulator':
        self.stats += other.stats
        return self

    def result(self, thing_categories: Iterable[int],
               stuff_categories: Iterable[int]) -> dict:
        """PQ/SQ/RQ x100 for all, things and stuff (None when undefined)."""
        things = sorted(int(c) for c in thing_categories)
        stuff = sorted(int(c) for c in stuff_categories)
        out = {}
        for name, cats in (('All', things + stuff), ('Things', things),
                           ('Stuff', stuff)):
            r = pq_from_stats(self.stats, cats, 'vpsnet')
            out[name] = {k: (None if r[k] is None else 100 * r[k])
                         for k in ('pq', 'sq', 'rq')}
            out[name]['n'] = r['n']
            if name == 'All':
                out['per_class'] = r['per_class']
        return out
