"""Video Panoptic Quality (VPQ) over sliding windows, streaming.

For a window length n, every run of n consecutive frames of a video (stride
1) is treated as one image whose segments are tubes; segments of the same
category are matched when IoU > 0.5 (strictly: IoU exactly 0.5 is not a
match). TP / FP / FN / summed IoU are added over all windows of all videos,
PQ is computed per category and averaged; the final VPQ is the mean over the
window lengths, x100.

Two conventions of the official scripts are implemented:

``'vpsnet'`` -- VPSNet ``tools/eval_vpq.py`` (Cityscapes-VPS) and VIPSeg's
``eval_vpq_vspw.py`` (both the later versions that deep-copy the segment
dicts; the first VPSNet version mutated the JSON areas in place):

* IoU = I / (A_pred + A_gt - I - |pred on GT void|).
* Crowd ground-truth segments are never matched nor counted as FN.
* An unmatched predicted segment is not a FP when more than half of it lies
  on GT void plus the crowd segment of its category. When a window holds
  several crowd segments of one category, only the one inserted last into
  the window's segment dict counts (the reference keeps one per category):
  the one whose first appearance in the window is latest, ties broken by the
  order of ``segments_info`` in that frame (pass ``order`` to reproduce it).
* Averages run over the categories with TP + FP + FN > 0 only; with none the
  reference divides by zero -- we return None (and the caller warns).

``'vip-deeplab'`` -- Video K-Net's ``tools/eval_dvpq_step.py`` for KITTI-STEP
(from ViP-DeepLab's DVPQ code), which produced the published KITTI-STEP VPQ:

* Same IoU and matching, but there is no crowd: a thing with instance 0 is an
  ordinary ground-truth segment (FN when unmatched).
* An unmatched prediction is ignored when more than half of it is on void.
* PQ = SQ * RQ with a 1e-10 epsilon, averaged over ALL classes, including
  classes absent from both ground truth and prediction (their PQ is 0).

Segment areas are pixel counts of the PNGs (VPSNet reads the ground-truth
areas from the JSON ``area`` fields, which equal them for well-formed
ground truth). A segment is its (category, id) key: the reference keys tubes
by id alone and takes the category of the id's first frame in the window,
which only differs when one id changes category inside a video.

In both, ground-truth void is one pseudo segment (key 0). Predicted void
(key 0, e.g. panopticapi id 0 or KITTI R = 255) is not a segment: it only
lowers the IoU of the ground truth it covers. (Video K-Net's script would
crash on a predicted 255 class; VPSNet treats pan id 0 the same way.)

Implementation: each frame's overlap table is computed once; a window's
table is the sum of its frames' tables (segment keys are stable across a
video), so the pixels are read once per frame, not once per window, and only
the last ``max(windows)`` frame tables of the current video are kept.
"""
import warnings
from collections import deque
from typing import Iterable, Optional, Sequence

import numpy as np

from .segments import (FrameTable, VOID_KEY, key_category, key_crowd,
                       merge_tables)

__all__ = ['VPQStats', 'VPQAccumulator', 'window_stats', 'pq_from_stats',
           'CONVENTIONS']

CONVENTIONS = ('vpsnet', 'vip-deeplab')


def window_stats(table: FrameTable, num_categories: int,
                 convention: str = 'vpsnet',
                 order: Optional[np.ndarray] = None) -> np.ndarray:
    """TP, FP, FN and summed IoU per category for one window (or image).

    Args:
        table: the window's (gt key, pred key, count) table.
        num_categories: categories are 0..num_categories-1.
        convention: 'vpsnet' or 'vip-deeplab' (see the module docstring).
        order: GT keys in the reference's dict insertion order (first
            appearance); only used to choose among several crowd segments of
            one category. Default: ascending key order.

    Returns:
        float64 array [num_categories, 4]: tp, fp, fn, iou.
    """
    if convention not in CONVENTIONS:
        raise ValueError(f'unknown VPQ convention {convention!r}')
    out = np.zeros((num_categories, 4), dtype=np.float64)
    g, p, c = table
    if g.size == 0:
        return out
    gv, gi = np.unique(g, return_inverse=True)
    pv, pi = np.unique(p, return_inverse=True)
    gi, pi = gi.ravel(), pi.ravel()
    cf = c.astype(np.float64)
    g_area = np.bincount(gi, weights=cf, minlength=gv.size)
    p_area = np.bincount(pi, weights=cf, minlength=pv.size)
    g_void = gv == VOID_KEY
    p_void = pv == VOID_KEY
    void_overlap = np.bincount(pi, weights=np.where(g_void[gi], cf, 0.0),
                               minlength=pv.size)
    g_cat = key_category(gv)
    p_cat = key_category(pv)
    if (g_cat >= num_categories).any() or (p_cat >= num_categories).any():
        raise ValueError('category id outside [0, num_categories)')
    crowd_aware = convention == 'vpsnet'
    g_crowd = key_crowd(gv) & ~g_void if crowd_aware else \
        np.zeros(gv.size, bool)

    # Matching: same category, non-void, non-crowd GT, IoU strictly > 0.5.
    cand = (~g_void[gi]) & (~p_void[pi]) & (~g_crowd[gi]) & \
        (g_cat[gi] == p_cat[pi])
    union = p_area[pi] + g_area[gi] - cf - void_overlap[pi]
    with np.errstate(divide='ignore', invalid='ignore'):
        iou = np.where(cand, cf / np.where(cand, union, 1.0), 0.0)
    match = cand & (iou > 0.5)
    np.add.at(out[:, 0], g_cat[gi[match]], 1)
    np.add.at(out[:, 3], g_cat[gi[match]], iou[match])
    g_matched = np.zeros(gv.size, bool)
    g_matched[gi[match]] = True
    p_matched = np.zeros(pv.size, bool)
    p_matched[pi[match]] = True

    # False negatives: unmatched, non-void, non-crowd GT segments.
    fn = ~g_matched & ~g_void & ~g_crowd
    np.add.at(out[:, 2], g_cat[fn], 1)

    # False positives: unmatched predictions not mostly on void (+ crowd).
    ignored = void_overlap.copy()
    if crowd_aware and g_crowd.any():
        crowd_keys = gv[g_crowd]
        if order is None:
            rank = np.arange(crowd_keys.size)
        else:
            order = np.asarray(order, dtype=np.int64)
            pos = {int(k): i for i, k in enumerate(order)}
            rank = np.array([pos.get(int(k), -1) for k in crowd_keys])
        chosen = {}
        for k, r, cat in zip(crowd_keys, rank, key_category(crowd_keys)):
            if cat not in chosen or r >= chosen[cat][1]:
                chosen[int(cat)] = (int(k), int(r))
        chosen_keys = np.array([v[0] for v in chosen.values()], np.int64)
        on_chosen = np.isin(gv[gi], chosen_keys) & \
            (g_cat[gi] == p_cat[pi])
        ignored += np.bincount(pi, weights=np.where(on_chosen, cf, 0.0),
                               minlength=pv.size)
    fp = ~p_matched & ~p_void & ~(ignored / np.maximum(p_area, 1) > 0.5)
    np.add.at(out[:, 1], p_cat[fp], 1)
    return out


def pq_from_stats(stats: np.ndarray, categories: Sequence[int],
                  convention: str = 'vpsnet') -> dict:
    """PQ/SQ/RQ per category and their mean over ``categories``.

    ``stats`` is [num_categories, 4] (tp, fp, fn, iou). Returns ``pq``, ``sq``,
    ``rq`` (None where the reference divides by zero), ``n`` and
    ``per_class`` {category: {pq, sq, rq, iou, tp, fp, fn}}.
    """
    per_class = {}
    pqs, sqs, rqs = [], [], []
    for cat in categories:
        tp, fp, fn, iou = (float(v) for v in stats[cat])
        if convention == 'vip-deeplab':
            eps = 1e-10
            sq = iou / (tp + eps)
            rq = tp / (tp + 0.5 * fn + 0.5 * fp + eps)
            pq = sq * rq
        else:
            if tp + fp + fn == 0:
                per_class[cat] = dict(pq=0.0, sq=0.0, rq=0.0, iou=0.0, tp=0,
                                      fp=0, fn=0)
                continue
            pq = iou / (tp + 0.5 * fp + 0.5 * fn)
            sq = iou / tp if tp != 0 else 0.0
            rq = tp / (tp + 0.5 * fp + 0.5 * fn)
        per_class[cat] = dict(pq=pq, sq=sq, rq=rq, iou=iou, tp=int(tp),
                              fp=int(fp), fn=int(fn))
        pqs.append(pq)
        sqs.append(sq)
        rqs.append(rq)
    n = len(pqs)
    mean = (lambda v: float(np.mean(v)) if v else None)
    return dict(pq=mean(pqs), sq=mean(sqs), rq=mean(rqs), n=n,
                per_class=per_class)


class VPQStats:
    """Additive TP/FP/FN/IoU per window length and category."""

    def __init__(self, windows: Sequence[int], num_categories: int):
        self.windows = tuple(int(w) for w in windows)
        self.num_categories = int(num_categories)
        self.stats = np.zeros((len(self.windows), num_categories, 4))
        #: number of windows evaluated per window length.
        self.count = np.zeros(len(self.windows), dtype=np.int64)

    def merge(self, other: 'VPQStats') -> 'VPQStats':
        if other.windows != self.windows or \
                other.num_categories != self.num_categories:
            raise ValueError('cannot merge VPQ stats of different shape')
        self.stats += other.stats
        self.count += other.count
        return self

    def state_dict(self) -> dict:
        return dict(windows=self.windows, stats=self.stats, count=self.count)

    @classmethod
    def from_state_dict(cls, state: dict) -> 'VPQStats':
        obj = cls(state['windows'], np.asarray(state['stats']).shape[1])
        obj.stats = np.array(state['stats'], dtype=np.float64)
        obj.count = np.array(state['count'], dtype=np.int64)
        return obj

    def result(self, thing_categories: Iterable[int],
               stuff_categories: Iterable[int],
               convention: str = 'vpsnet',
               labels: Optional[Sequence[str]] = None) -> dict:
        """VPQ (x100) overall / things / stuff, per window and per class.

        ``labels`` name the windows in the output (default: the lengths).
        Undefined values are None; ``warnings`` lists why.
        """
        things = sorted(int(c) for c in thing_categories)
        stuff = sorted(int(c) for c in stuff_categories)
        labels = [str(w) for w in self.windows] if labels is None else \
            [str(x) for x in labels]
        out = dict(VPQ_per_window={}, VPQ_thing_per_window={},
                   VPQ_stuff_per_window={}, per_class={}, warnings=[])
        for i, label in enumerate(labels):
            if self.count[i] == 0:
                out['warnings'].append(
                    f'window {label}: no video is long enough')
                for k in ('VPQ_per_window', 'VPQ_thing_per_window',
                          'VPQ_stuff_per_window'):
                    out[k][label] = None
                out['per_class'][label] = {}
                continue
            res = {}
            for name, cats in (('all', things + stuff), ('thing', things),
                               ('stuff', stuff)):
                res[name] = pq_from_stats(self.stats[i], cats, convention)
                if res[name]['pq'] is None and cats:
                    out['warnings'].append(
                        f'window {label}: no {name} category has a segment')
            scale = (lambda v: None if v is None else 100.0 * v)
            out['VPQ_per_window'][label] = scale(res['all']['pq'])
            out['VPQ_thing_per_window'][label] = scale(res['thing']['pq'])
            out['VPQ_stuff_per_window'][label] = scale(res['stuff']['pq'])
            out['per_class'][label] = res['all']['per_class']
        for key, src in (('VPQ', 'VPQ_per_window'),
                         ('VPQ_thing', 'VPQ_thing_per_window'),
                         ('VPQ_stuff', 'VPQ_stuff_per_window')):
            vals = [v for v in out[src].values() if v is not None]
            out[key] = float(np.mean(vals)) if vals else None
        return out


class VPQAccumulator:
    """Streams frames video by video and fills a :class:`VPQStats`.

    Call :meth:`update` for every frame in order; a new ``video_id`` (or
    :meth:`end_video`) closes the previous video. Only the last
    ``max(windows)`` frame tables are kept.
    """

    def __init__(self, num_categories: int, windows: Sequence[int] = (1, 2, 3,
                                                                        4),
                 convention: str = 'vpsnet'):
        if convention not in CONVENTIONS:
            raise ValueError(f'unknown VPQ convention {convention!r}')
        self.convention = convention
        self.stats = VPQStats(windows, num_categories)
        self._video = None
        self._frames: deque = deque(maxlen=max(self.stats.windows))

    def end_video(self) -> None:
        self._video = None
        self._frames.clear()

    def update(self, table: FrameTable, video_id=0,
               order: Optional[np.ndarray] = None,
               count: bool = True) -> None:
        """Add the next frame of ``video_id``.

        ``order``: the frame's GT keys in ``segments_info`` order (only to pick
        the reference's crowd segment when a category has several).
        ``count=False`` only remembers the frame (a warm-up frame of a chunk
        of a video: windows ending on it belong to the previous chunk).
        """
        if video_id != self._video:
            self.end_video()
            self._video = video_id
        table = tuple(np.asarray(a, dtype=np.int64) for a in table)
        self._frames.append((table, order))
        if not count:
            return
        frames = list(self._frames)
        # Window tables ending at this frame, grown one frame at a time
        # backwards (each step merges two small tables).
        merged, length = None, 0
        for i, n in sorted(enumerate(self.stats.windows), key=lambda x: x[1]):
            if len(frames) < n:
                break
            while length < n:
                length += 1
                table = frames[-length][0]
                merged = table if merged is None else merge_tables(
                    [merged, table])
            win = frames[-n:]
            win_order = None
            if any(f[1] is not None for f in win):
                parts = [f[1] if f[1] is not None else np.unique(f[0][0])
                         for f in win]
                cat = np.concatenate(parts).astype(np.int64)
                _, first = np.unique(cat, return_index=True)
                win_order = cat[np.sort(first)]
            self.stats.stats[i] += window_stats(
                merged, self.stats.num_categories, self.convention, win_order)
            self.stats.count[i] += 1

    def merge(self, other: 'VPQAccumulator') -> 'VPQAccumulator':
        self.stats.merge(other.stats)
        return self

    def result(self, thing_categories: Iterable[int],
               stuff_categories: Iterable[int],
               labels: Optional[Sequence[str]] = None,
               warn: bool = True) -> dict:
        res = self.stats.result(thing_categories, stuff_categories,
                                self.convention, labels)
        if warn:
            for w in res['warnings']:
                warnings.warn(w)
        return res

