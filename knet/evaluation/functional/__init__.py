"""Pure-NumPy metric maths (no torch / mmengine / mmdet): STQ, VPQ, PQ, mIoU.

All accumulators stream: ``update(...)`` per frame, ``merge(other)`` to add
another (e.g. another rank's) state, ``result()`` at the end.
"""
from .compat import numpy_float_alias
from .frames import (keyed_table, kitti_step_keys, kitti_step_table,
                     panoptic_ids_to_keys, segments_info_order,
                     semantic_instance_keys, vipseg_gt_keys)
from .miou import MIoUAccumulator
from .pq import PQAccumulator
from .segments import (VOID_KEY, UnknownIdError, compact, key_category,
                       key_crowd, make_keys, merge_tables, pair_table,
                       pair_table_known)
from .stq import STQAccumulator
from .vpq import (CONVENTIONS, VPQAccumulator, VPQStats, pq_from_stats,
                  window_stats)

__all__ = [
    'MIoUAccumulator', 'PQAccumulator', 'STQAccumulator', 'VPQAccumulator',
    'VPQStats', 'CONVENTIONS', 'VOID_KEY', 'compact', 'key_category',
    'key_crowd', 'make_keys', 'merge_tables', 'pair_table', 'pq_from_stats',
    'window_stats', 'keyed_table', 'kitti_step_keys', 'kitti_step_table',
    'panoptic_ids_to_keys', 'segments_info_order', 'semantic_instance_keys',
    'vipseg_gt_keys', 'pair_table_known', 'UnknownIdError',
    'numpy_float_alias'
]
