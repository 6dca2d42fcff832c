"""Offline evaluation of prediction files (no torch / mmengine / mmdet).

The library behind ``tools/eval_vps.py``: pairing of ground-truth and
prediction files (:mod:`.pairing`), one reader per label file kind
(:mod:`.files`, also used by ``VPSMetric`` when it reads the ground truth
from files), the benchmarks' protocols (:mod:`.benchmarks`), the worker pool
(:mod:`.pool`) and the evaluation entry points: :mod:`.vps` (STQ, VPQ),
:mod:`.youtube_vis` (``tools/eval_vis.py``; the AP maths is mmdet's, imported
when it runs) and :mod:`.referring` (``tools/eval_refer.py``).
"""
from .benchmarks import VPS_BENCHMARKS, vpq_windows, window_labels
from .files import (LabelFrame, frame_table, read_ground_truth,
                    read_kitti_step, read_panoptic, read_vipseg_panomask)
from .pairing import (cityscapes_vps_videos, kitti_step_pairs,
                      vipseg_categories, vipseg_videos)
from .pool import chunk_size, make_chunks, run_tasks
from .referring import evaluate_refer, prediction_entries
from .vps import (evaluate_cityscapes_vps, evaluate_kitti_step,
                  evaluate_vipseg, to_jsonable)
from .youtube_vis import check_results, evaluate_youtube_vis, load_results

__all__ = [
    'VPS_BENCHMARKS', 'vpq_windows', 'window_labels', 'LabelFrame',
    'frame_table', 'read_ground_truth', 'read_kitti_step', 'read_panoptic',
    'read_vipseg_panomask', 'cityscapes_vps_videos', 'kitti_step_pairs',
    'vipseg_categories', 'vipseg_videos', 'chunk_size', 'make_chunks',
    'run_tasks', 'evaluate_cityscapes_vps', 'evaluate_kitti_step',
    'evaluate_vipseg', 'to_jsonable', 'evaluate_refer', 'prediction_entries',
    'check_results', 'evaluate_youtube_vis', 'load_results'
]
