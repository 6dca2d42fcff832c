"""Segmentation and Tracking Quality (STQ), streaming.

Same numbers as deeplab2's NumPy ``STQuality``
(``evaluation/numpy/segmentation_and_tracking_quality.py``); the quirks of
that reference kept here on purpose:

* SQ is the mean IoU of ONE confusion matrix summed over all sequences, taken
  over the classes whose union is non-zero. Ground-truth ignore pixels are
  dropped (their row is zeroed), but a *predicted* ignore label on a valid
  pixel is counted as an extra class (index ``num_classes``) whose IoU is 0,
  so predicting void lowers SQ.
* AQ is class agnostic and per sequence: for every ground-truth tube g,
  ``sum_p TPA(p, g) * IoU(p, g) / |g|``; the sum over all tubes of all
  sequences is divided by the number of tubes (so long sequences with many
  tubes weigh more). Tubes are full panoptic ids, so a prediction that changes
  class keeps the track id but starts a new tube.
* Crowd pixels (a thing class with instance 0) are removed from both the
  ground truth and the predicted tubes; predicted thing pixels that fall on
  ground-truth void are NOT removed and count as false positive association.
* A sequence with no ground-truth tube has AQ 0 (the reference divides by
  ``max(n, 1e-15)``); where the reference divides 0 by 0 for SQ (no class
  with a non-zero union) we return None instead of NaN.

Unlike the reference, panoptic ids are never packed as
``semantic * divisor + instance``: segment keys (see ``segments.py``) carry
the class, so instance ids >= the label divisor (1000 for KITTI-STEP) cannot
leak into the class. For valid inputs the results are identical.

The state of a sequence is additive, so per-rank states merge exactly.
"""
import math
from typing import Dict, Hashable, Iterable

import numpy as np

from .segments import (FrameTable, VOID_KEY, key_category, key_crowd,
                       merge_tables)

__all__ = ['STQAccumulator']

_EPSILON = 1e-15


class _SequenceState:
    """Additive per-sequence statistics."""

    def __init__(self, size: int):
        self.confusion = np.zeros((size, size), dtype=np.int64)
        self.length = 0
        self.pending = []  # frame tables restricted to thing pixels
        self.table = None

    def compact(self) -> FrameTable:
        if self.pending:
            tables = self.pending + ([self.table] if self.table else [])
            self.table = merge_tables(tables)
            self.pending = []
        if self.table is None:
            z = np.zeros(0, np.int64)
            self.table = (z, z, z)
        return self.table


class STQAccumulator:
    """Streaming STQ / AQ / SQ over frames of several sequences.

    Args:
        num_classes: number of evaluated classes (19 for KITTI-STEP); class
            ids are 0..num_classes-1.
        thing_classes: class ids of things ({11, 13} for KITTI-STEP).

    Feed it with :meth:`update` (a frame's overlap table in segment keys,
    see :func:`knet.evaluation.functional.segments.pair_table`); ground-truth
    void has key 0 and a predicted ignore label also has key 0.
    """

    def __init__(self, num_classes: int, thing_classes: Iterable[int]):
        self.num_classes = int(num_classes)
        self.thing_classes = np.array(sorted(set(int(c) for c in
                                                 thing_classes)), np.int64)
        self.sequences: Dict[Hashable, _SequenceState] = {}

    # -- accumulation -----------------------------------------------------
    def _state(self, sequence_id: Hashable) -> _SequenceState:
        if sequence_id not in self.sequences:
            self.sequences[sequence_id] = _SequenceState(self.num_classes + 1)
        return self.sequences[sequence_id]

    def update(self, table: FrameTable, sequence_id: Hashable = 0) -> None:
        """Add one frame given as its (gt key, pred key, count) table."""
        g, p, c = (np.asarray(a, dtype=np.int64) for a in table)
        state = self._state(sequence_id)
        state.length += 1
        # Void (key 0) maps to the extra index num_classes, like the
        # reference maps ignore_label 255 to num_classes.
        gs = key_category(g)
        ps = key_category(p)
        gs = np.where(g == VOID_KEY, self.num_classes, gs)
        ps = np.where(p == VOID_KEY, self.num_classes, ps)
        if (gs > self.num_classes).any() or (ps > self.num_classes).any() or \
                (gs < 0).any() or (ps < 0).any():
            raise ValueError('class id outside [0, num_classes)')
        np.add.at(state.confusion, (gs, ps), c)
        g_thing = np.isin(gs, self.thing_classes)
        p_thing = np.isin(ps, self.thing_classes)
        crowd = g_thing & key_crowd(g)
        # Tubes: non-crowd GT thing pixels; predicted thing pixels that are
        # not on GT crowd (but may be on GT void). Non-tube sides get key -1.
        g_tube = np.where(g_thing & ~crowd, g, -1)
        p_tube = np.where(p_thing & ~crowd, p, -1)
        keep = (g_tube >= 0) | (p_tube >= 0)
        if keep.any():
            state.pending.append((g_tube[keep], p_tube[keep], c[keep]))
            if len(state.pending) >= 64:
                state.compact()

    def merge(self, other: 'STQAccumulator') -> 'STQAccumulator':
        """Add another accumulator's state (sequences are summed by id)."""
        for seq, st in other.sequences.items():
            mine = self._state(seq)
            mine.confusion += st.confusion
            mine.length += st.length
            mine.pending.append(st.compact())
            mine.compact()
        return self

    # -- (de)serialisation for distributed gathering -----------------------
    def state_dict(self) -> dict:
        return {
            seq: dict(confusion=st.confusion, length=st.length,
                      table=st.compact())
            for seq, st in self.sequences.items()
        }

    @classmethod
    def from_state_dict(cls, state: dict, num_classes: int,
                        thing_classes: Iterable[int]) -> 'STQAccumulator':
        acc = cls(num_classes, thing_classes)
        for seq, st in state.items():
            s = acc._state(seq)
            s.confusion += st['confusion']
            s.length += st['length']
            s.table = tuple(np.asarray(a) for a in st['table'])
        return acc

    # -- results --------------------------------------------------------
    @staticmethod
    def _aq_terms(table: FrameTable):
        """(sum over GT tubes of the weighted IoU / |g|, number of tubes)."""
        g, p, c = table
        gt_rows = g >= 0
        gv, gi = np.unique(g[gt_rows], return_inverse=True)
        gt_size = np.bincount(gi.ravel(), weights=c[gt_rows],
                              minlength=gv.size)
        pr_rows = p >= 0
        pv, pi = np.unique(p[pr_rows], return_inverse=True)
        pr_size = np.bincount(pi.ravel(), weights=c[pr_rows],
                              minlength=pv.size)
        both = gt_rows & pr_rows
        if gv.size == 0:
            return 0.0, 0
        tpa = c[both].astype(np.float64)
        g_idx = np.searchsorted(gv, g[both])
        p_idx = np.searchsorted(pv, p[both])
        union = pr_size[p_idx] + gt_size[g_idx] - tpa
        inner = np.bincount(g_idx, weights=tpa * (tpa / union),
                            minlength=gv.size)
        return float(np.sum(inner / gt_size)), int(gv.size)

    def _mean_iou(self, confusion: np.ndarray):
        conf = confusion.copy()
        conf[self.num_classes, :] = 0  # drop ground-truth ignore
        inter = np.diag(conf).astype(np.float64)
        union = conf.sum(0) + conf.sum(1) - np.diag(conf)
        valid = union > 0
        ious = np.where(valid, inter / np.maximum(union, _EPSILON), 0.0)
        if not valid.any():
            return None, ious, valid
        return float(ious.sum() / valid.sum()), ious, valid

    def result(self) -> dict:
        """STQ, AQ, SQ overall and per sequence (None where undefined).

        Also ``IoU_per_class`` (class id -> IoU or None when the class has no
        union) from the summed confusion matrix.
        """
        total = np.zeros((self.num_classes + 1, ) * 2, dtype=np.int64)
        aq_sum, tubes = 0.0, 0
        per_seq = {}
        for seq, st in self.sequences.items():
            s_aq, s_n = self._aq_terms(st.compact())
            aq_sum += s_aq
            tubes += s_n
            total += st.confusion
            s_iou = self._mean_iou(st.confusion)[0]
            s_aq = s_aq / max(s_n, _EPSILON)
            per_seq[seq] = dict(
                STQ=None if s_iou is None else math.sqrt(s_aq * s_iou),
                AQ=s_aq, SQ=s_iou, length=st.length, tubes=s_n)
        aq = aq_sum / max(tubes, _EPSILON)
        sq, ious, valid = self._mean_iou(total)
        return dict(
            STQ=None if sq is None else math.sqrt(aq * sq),
            AQ=aq, SQ=sq, per_sequence=per_seq,
            IoU_per_class={c: (float(ious[c]) if valid[c] else None)
                           for c in range(self.num_classes)},
            predicted_void_union=int(total[:self.num_classes,
                                           self.num_classes].sum()))

