"""Offline video panoptic evaluation of prediction files (STQ, VPQ).

:func:`evaluate_kitti_step`, :func:`evaluate_cityscapes_vps` and
:func:`evaluate_vipseg` pair the files (:mod:`.pairing`), stream every video
chunk through the pure-NumPy accumulators in a process pool (:mod:`.pool`)
and return one JSON-ready dict: the headline numbers, per-window,
per-class and per-sequence detail, the settings and ``warnings`` (why a
value is undefined). The metric rules and the official quirks they keep are
documented in :mod:`knet.evaluation.functional.stq` and ``vpq``.
"""
import math
from pathlib import Path
from typing import Dict, Optional, Sequence

import numpy as np

from knet.evaluation.functional.stq import STQAccumulator
from knet.evaluation.functional.vpq import VPQAccumulator, VPQStats
from knet.formats.cityscapes import CITYSCAPES_CLASSES
from knet.formats.io import DataError, read_rgb_planes
from knet.formats.kitti_step import (KITTI_STEP_NUM_CLASSES,
                                     KITTI_STEP_THING_IDS)
from .benchmarks import vpq_windows, window_labels
from .files import (frame_table, read_ground_truth, read_kitti_step,
                    read_panoptic)
from .pairing import (cityscapes_vps_videos, kitti_step_pairs,
                      vipseg_categories, vipseg_videos)
from .pool import chunk_size, make_chunks, run_tasks

__all__ = [
    'evaluate_kitti_step', 'evaluate_cityscapes_vps', 'evaluate_vipseg',
    'to_jsonable'
]


def _kitti_task(task):
    """One chunk of a KITTI-STEP sequence -> (STQ state, VPQ state, n)."""
    seq, frames, start, windows, convention = task
    stq = STQAccumulator(KITTI_STEP_NUM_CLASSES, KITTI_STEP_THING_IDS)
    vpq = VPQAccumulator(KITTI_STEP_NUM_CLASSES, windows, convention)
    for i, (gt_path, pred_path) in enumerate(frames):
        # Decode both files, then pack both: packing the first before the
        # second is decoded makes glibc's malloc return freed pages to the
        # system and fault them in again (~10x the page faults, ~30 % time).
        gt = read_rgb_planes(gt_path, 'ground truth')
        pred = read_rgb_planes(pred_path, 'prediction')
        table = frame_table(
            read_kitti_step(gt_path, 'ground truth', planes=gt),
            read_kitti_step(pred_path, 'prediction', planes=pred))
        counted = i >= start
        if counted:
            stq.update(table, seq)
        vpq.update(table, seq, count=counted)
    return stq.state_dict(), vpq.stats.state_dict(), len(frames) - start


def _panoptic_task(task):
    """One chunk of a Cityscapes-VPS / VIPSeg video -> (VPQ state, n)."""
    (kind, video, frames, start, windows, num_cats, categories, isthing,
     pred_json) = task
    vpq = VPQAccumulator(num_cats, windows, 'vpsnet')
    for i, fr in enumerate(frames):
        gt = read_ground_truth(kind, fr['gt'], isthing=isthing,
                               segments=fr.get('gt_segments'))
        pred = read_panoptic(fr['pred'], fr['pred_segments'], 'prediction',
                             pred_json, categories)
        vpq.update(frame_table(gt, pred), video, order=gt.order,
                   count=i >= start)
    return vpq.stats.state_dict(), len(frames) - start


def _tasks(videos: dict, windows, workers: int, chunk: int, extra,
           first=()):
    """Work items (*first, video, frames, start, windows, *extra)."""
    total = sum(len(v) for v in videos.values())
    size = chunk_size(total, workers, chunk)
    return total, [(*first, video, frames, start, windows, *extra)
                   for video, fr in videos.items()
                   for frames, start in make_chunks(fr, max(windows), size)]


def _vpq_fields(v: dict, names) -> dict:
    """VPQ headline, per-window and per-class (x100) entries of a result."""
    out = dict(VPQ=v['VPQ'], VPQ_thing=v['VPQ_thing'],
               VPQ_stuff=v['VPQ_stuff'], VPQ_per_window=v['VPQ_per_window'],
               VPQ_thing_per_window=v['VPQ_thing_per_window'],
               VPQ_stuff_per_window=v['VPQ_stuff_per_window'])
    # names: a tuple (KITTI-STEP trainIds) or a dict (category id -> name)
    out['VPQ_per_class'] = {
        label: {names[c]: dict(r, pq=100 * r['pq'], sq=100 * r['sq'],
                              rq=100 * r['rq'])
                for c, r in per.items()}
        for label, per in v['per_class'].items()}
    return out


def evaluate_kitti_step(gt_root, split: str, pred_dir,
                        windows: Optional[Sequence[int]] = None,
                        convention: str = 'vpsnet', workers: int = 1,
                        chunk: int = 0) -> dict:
    """STQ / AQ / SQ and VPQ of KITTI-STEP submission PNGs."""
    windows = vpq_windows('kitti-step', windows)
    convention = convention or 'vpsnet'
    videos = kitti_step_pairs(Path(gt_root), split, Path(pred_dir))
    total, tasks = _tasks(videos, windows, workers, chunk, (convention, ))
    results = run_tasks(_kitti_task, tasks, workers, total, 'kitti-step')
    num, things = KITTI_STEP_NUM_CLASSES, KITTI_STEP_THING_IDS
    stq = STQAccumulator(num, things)
    stats = VPQStats(windows, num)
    for stq_state, vpq_state, _ in results:
        stq.merge(STQAccumulator.from_state_dict(stq_state, num, things))
        stats.merge(VPQStats.from_state_dict(vpq_state))
    s = stq.result()
    stuff = [c for c in range(num) if c not in things]
    v = stats.result(things, stuff, convention)
    out = dict(STQ=s['STQ'], AQ=s['AQ'], SQ=s['SQ'])
    out.update(_vpq_fields(v, CITYSCAPES_CLASSES))
    out['STQ_per_sequence'] = {
        f'{seq:04d}': r for seq, r in sorted(s['per_sequence'].items())}
    out['IoU_per_class'] = {CITYSCAPES_CLASSES[c]: iou
                            for c, iou in s['IoU_per_class'].items()}
    warn = list(v['warnings'])
    if s['SQ'] is None:
        warn.append('SQ: no class has a non-zero union')
    if s['per_sequence'] and all(r['tubes'] == 0
                                 for r in s['per_sequence'].values()):
        warn.append('AQ: the ground truth has no thing tube')
    out['settings'] = dict(split=split, vpq_windows=list(windows),
                           vpq_convention=convention, frames=total,
                           sequences=len(videos))
    out['warnings'] = warn
    return out


def _evaluate_panoptic(kind: str, videos: dict, ppath: Path, things, stuff,
                       names: Dict[int, str], isthing, windows, workers: int,
                       chunk: int) -> dict:
    labels = window_labels(kind, windows)
    categories = set(things) | set(stuff)
    num_cats = max(categories) + 1
    total, tasks = _tasks(videos, windows, workers, chunk,
                          (num_cats, categories, isthing, str(ppath)),
                          (kind, ))
    results = run_tasks(_panoptic_task, tasks, workers, total, kind)
    stats = VPQStats(windows, num_cats)
    for state, _ in results:
        stats.merge(VPQStats.from_state_dict(state))
    v = stats.result(things, stuff, 'vpsnet', labels)
    out = _vpq_fields(v, names)
    out['settings'] = dict(vpq_windows=list(windows), window_labels=labels,
                           vpq_convention='vpsnet', frames=total,
                           videos=len(videos))
    out['warnings'] = list(v['warnings'])
    return out


def _pred_dir(pred_dir) -> Path:
    pred_dir = Path(pred_dir)
    if not pred_dir.is_dir():
        raise DataError(f'{pred_dir}: prediction folder not found')
    return pred_dir


def evaluate_cityscapes_vps(gt_root, pred_dir,
                            gt_json: str = 'panoptic_gt_val_city_vps.json',
                            gt_folder: str = 'val/panoptic_video',
                            windows: Optional[Sequence[int]] = None,
                            workers: int = 1, chunk: int = 0) -> dict:
    """VPQ of Cityscapes-VPS ``pan_pred/`` + ``pred.json`` predictions
    (windows reported as k = 0, 5, 10, 15)."""
    pred_dir = _pred_dir(pred_dir)
    windows = vpq_windows('cityscapes-vps', windows)
    videos, things, stuff, names, ppath = cityscapes_vps_videos(
        Path(gt_root), pred_dir, gt_json, gt_folder)
    return _evaluate_panoptic('cityscapes-vps', videos, ppath, things, stuff,
                              names, None, windows, workers, chunk)


def evaluate_vipseg(gt_root, split: str, pred_dir,
                    categories: Optional[str] = None,
                    windows: Optional[Sequence[int]] = None,
                    workers: int = 1, chunk: int = 0) -> dict:
    """VPQ of VIPSeg ``pan_pred/`` + ``pred.json`` predictions against the
    raw panomasks; ``categories``: a panoVIPSeg_categories.json (default:
    the copy in knet.formats.vipseg)."""
    pred_dir = _pred_dir(pred_dir)
    windows = vpq_windows('vipseg', windows)
    names, isthing = vipseg_categories(categories)
    things = [c for c in names if isthing[c]]
    stuff = [c for c in names if not isthing[c]]
    videos, ppath = vipseg_videos(Path(gt_root), split, pred_dir)
    return _evaluate_panoptic('vipseg', videos, ppath, things, stuff, names,
                              isthing, windows, workers, chunk)


def to_jsonable(obj):
    """Plain JSON types: string keys, lists, Python numbers, NaN/inf ->
    None."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj
