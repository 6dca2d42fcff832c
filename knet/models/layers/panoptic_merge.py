"""Panoptic merge of K-Net's thing and stuff candidates (pure torch).

Two strategies of the release:

* :func:`merge_joint` (``merge_joint=True``, MaskFormer-style): every pixel
  goes to the candidate with the highest ``score x mask probability``; a
  candidate becomes a segment if it wins at least one pixel, has a pixel with
  probability >= 0.5, keeps at least ``overlap_thr`` of that area, and (things
  only) scores at least ``instance_score_thr``. The keep decisions are
  independent of each other, so this is fully vectorised; segments are
  numbered 1.. in descending score order, as the release does.
* :func:`merge_thing_first`: paste thresholded thing masks by score (skipping
  those overlapping earlier ones by more than ``iou_thr``), then fill the
  remaining pixels with stuff classes whose free area is at least
  ``stuff_max_area``. Sequential by nature (each paste depends on the
  previous ones): one loop over the (at most ``max_per_img``) candidates.

Pixels that no segment claims: the release leaves segment 0 and writes a
fixed class there (Video K-Net: dataset id 0, i.e. road on KITTI-STEP; K-Net:
VOID). ``uncovered='best_kept'`` (default) labels them with the best *kept*
segment's class at that pixel (segment id stays 0); ``uncovered='fixed'``
writes ``fill_label`` (the release behaviour with the right label).

Exact candidate pruning (:func:`window_bounds`, :func:`argmax_contenders`):
bilinear resizing (no antialias) writes every output pixel as a convex
combination of a small neighbourhood of its input, so a candidate whose
upper bound (max over a window of the low-resolution logits, through the
monotonic sigmoid, times its score) stays below another candidate's lower
bound everywhere can never win a pixel. Dropping such candidates BEFORE the
full-resolution resize leaves the argmax, the kept segments and every map
bit-identical (channels are resized independently) while only the few
contenders are resized to full resolution.
"""
from dataclasses import dataclass
from typing import Callable, Optional, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    'PanopticOutput', 'merge_joint', 'merge_thing_first', 'window_bounds',
    'argmax_contenders'
]


@dataclass
class PanopticOutput:
    """Result of a panoptic merge for one image.

    Attributes:
        seg_ids: [H, W] long, 0 = no segment, 1..S = segment index + 1.
        sem_seg: [H, W] long, model label per pixel (see ``uncovered``).
        labels: [S] long model labels of the segments.
        scores: [S] float scores of the segments.
        is_thing: [S] bool.
        cand_inds: [S] long index of each segment in the candidate list.
        areas: [S] long pixel counts of the segments.
        kernel_inds: [S] long kernel index (filled by the caller) or None.
        fill_ids: [H, W] long, for pixels without segment: the segment
            (1..S) whose class ``sem_seg`` took there (``'best_kept'``),
            0 elsewhere; lets a consumer attach them to that segment.
    """
    seg_ids: Tensor
    sem_seg: Tensor
    labels: Tensor
    scores: Tensor
    is_thing: Tensor
    cand_inds: Tensor
    areas: Tensor
    kernel_inds: Optional[Tensor] = None
    fill_ids: Optional[Tensor] = None

    @property
    def num_segments(self) -> int:
        return int(self.labels.numel())


def window_bounds(logits: Tensor, window: int = 5,
                  cell: int = 1) -> Tuple[Tensor, Tensor]:
    """Per-cell (lower, upper) bounds of ``logits`` [M, h, w] over a
    ``window`` x ``window`` neighbourhood of cells of ``cell`` x ``cell``
    input pixels. Any value that a bilinear resize chain (each step reading a
    2 x 2 input neighbourhood) writes at an output pixel lies between the
    bounds of the cell under that pixel's centre, for ``window`` >= 5 cells
    of at most one stride-8 pixel (see the module doc)."""
    x = logits[None].float()
    upper = F.max_pool2d(x, cell, cell, ceil_mode=True) if cell > 1 else x
    lower = -F.max_pool2d(-x, cell, cell, ceil_mode=True) if cell > 1 \
        else x
    pad = window // 2

    def window_max(t: Tensor) -> Tensor:  # separable: rows, then columns
        t = F.max_pool2d(t, (window, 1), 1, (pad, 0))
        return F.max_pool2d(t, (1, window), 1, (0, pad))

    return -window_max(-lower)[0], window_max(upper)[0]


def argmax_contenders(lower: Tensor, upper: Tensor,
                      rtol: float = 1e-4, atol: float = 1e-5) -> Tensor:
    """[M] bool: candidates that can be the per-pixel argmax somewhere.

    Args:
        lower, upper: [M, h, w] per-cell bounds of each candidate's value at
            every pixel of the cell's area.

    A candidate is dropped when in every cell its upper bound is below the
    best lower bound (minus a margin far above float rounding), so it can
    neither win nor tie. Never empty for M > 0.
    """
    if lower.shape[0] == 0:
        return torch.zeros(0, dtype=torch.bool, device=lower.device)
    best = lower.max(0).values
    thr = best - (rtol * best.abs() + atol)
    return (upper >= thr[None]).flatten(1).any(1)


def _weighted_argmax(masks: Tensor, scores: Tensor,
                     chunk_rows: int = 64) -> Tensor:
    """argmax over candidates of ``scores x masks`` per pixel, computed in
    row chunks so that no second [M, H, W] tensor is materialised."""
    h = masks.shape[1]
    ids = torch.empty(masks.shape[1:], dtype=torch.long, device=masks.device)
    weights = scores.view(-1, 1, 1)
    for r in range(0, h, chunk_rows):
        rows = slice(r, r + chunk_rows)
        # max(0).indices: the first maximum, as argmax(0), but several times
        # faster on CPU for a reduction over the leading dimension
        ids[rows] = (weights * masks[:, rows]).max(0).indices
    return ids


class _Rows:
    """``masks[cands]`` for winner candidates, from the winners' masks."""

    def __init__(self, win_masks: Tensor, pos: Tensor) -> None:
        self.win_masks, self.pos = win_masks, pos

    def __getitem__(self, cands: Tensor) -> Tensor:
        return self.win_masks[self.pos[cands]]


def _fill_uncovered(sem: Tensor, seg_ids: Tensor, masks: Tensor,
                    scores: Tensor, labels: Tensor, seg_of_cand: Tensor,
                    uncovered: str, fill_label: int) -> Tuple[Tensor, Tensor]:
    """Label pixels without segment; returns ``(sem, fill_ids)``."""
    fill_ids = torch.zeros_like(seg_ids)
    free = seg_ids == 0
    if not bool(free.any()):
        return sem, fill_ids
    if uncovered == 'fixed':
        sem[free] = fill_label
    elif uncovered == 'best_kept':
        kept = (seg_of_cand > 0).nonzero(as_tuple=False).squeeze(1)
        if kept.numel() > 0:
            prob = scores[kept].view(-1, 1) * masks[kept][:, free]
            best = kept[prob.max(0).indices]
            sem[free] = labels[best]
            fill_ids[free] = seg_of_cand[best]
        # nothing kept: keep the label of the overall best candidate
    else:
        raise ValueError(f'unknown uncovered mode {uncovered!r}')
    return sem, fill_ids


def merge_joint(masks: Union[Tensor, Callable[[Tensor], Tensor]],
                scores: Tensor,
                labels: Tensor,
                num_thing_classes: int,
                overlap_thr: float = 0.6,
                instance_score_thr: float = 0.25,
                uncovered: str = 'best_kept',
                fill_label: int = 0,
                ids: Optional[Tensor] = None) -> PanopticOutput:
    """Joint argmax merge (see module doc).

    Args:
        masks: [M, H, W] mask probabilities of the candidates, or a function
            giving them for a [k] index tensor of candidates (only called
            for the candidates that win pixels; needs ``ids``).
        scores: [M] candidate scores.
        labels: [M] model labels (things < num_thing_classes).
        ids: [H, W] precomputed per-pixel argmax of ``scores x masks``
            (e.g. computed band by band without the [M, H, W] masks).
    """
    num_cands = scores.shape[0]
    if ids is None:
        ids = _weighted_argmax(masks, scores)
    area = torch.bincount(ids.flatten(), minlength=num_cands)
    # the >= 0.5 area only matters for candidates that win pixels (the
    # others are dropped by area > 0): count it for those alone
    winners = (area > 0).nonzero(as_tuple=False).squeeze(1)
    win_masks = masks(winners) if callable(masks) else masks[winners]
    orig_area = torch.zeros_like(area)
    orig_area[winners] = (win_masks >= 0.5).flatten(1).sum(
        1, dtype=torch.int32).long()
    # full masks of the winners (kept segments are winners) for the fill
    pos = torch.zeros(num_cands, dtype=torch.long, device=ids.device)
    pos[winners] = torch.arange(winners.numel(), device=ids.device)
    masks = _Rows(win_masks, pos)
    is_thing = labels < num_thing_classes
    low_thing = is_thing & (scores < instance_score_thr)
    ratio = area.double() / orig_area.clamp(min=1).double()
    keep = (area > 0) & (orig_area > 0) & ~low_thing & (ratio >= overlap_thr)

    order = torch.argsort(-scores, stable=True)
    kept = order[keep[order]]
    seg_of_cand = torch.zeros(num_cands, dtype=torch.long, device=ids.device)
    seg_of_cand[kept] = torch.arange(
        1, kept.numel() + 1, device=ids.device)
    seg_ids = seg_of_cand[ids]
    sem = labels[ids].clone()
    sem, fill_ids = _fill_uncovered(sem, seg_ids, masks, scores, labels,
                                    seg_of_cand, uncovered, fill_label)
    return PanopticOutput(
        seg_ids=seg_ids,
        sem_seg=sem,
        labels=labels[kept],
        scores=scores[kept],
        is_thing=is_thing[kept],
        cand_inds=kept,
        areas=area[kept],
        fill_ids=fill_ids)


def merge_thing_first(thing_masks: Tensor,
                      thing_scores: Tensor,
                      thing_labels: Tensor,
                      stuff_masks: Tensor,
                      stuff_scores: Tensor,
                      stuff_labels: Tensor,
                      mask_thr: float = 0.5,
                      iou_thr: float = 0.5,
                      stuff_max_area: int = 4096,
                      instance_score_thr: float = 0.3,
                      uncovered: str = 'best_kept',
                      fill_label: int = 0) -> PanopticOutput:
    """Paste things by score, then stuff (see module doc).

    Masks are probabilities ([T, H, W] / [S, H, W]); candidates are indexed
    things first, then stuff, in ``cand_inds``.
    """
    num_things = thing_masks.shape[0]
    h, w = thing_masks.shape[-2:]
    device = thing_masks.device
    seg_ids = torch.zeros((h, w), dtype=torch.long, device=device)
    tm = thing_masks > mask_thr
    sm = stuff_masks > mask_thr
    seg_cands, seg_areas = [], []
    order = torch.argsort(-thing_scores, stable=True)
    order = order[thing_scores[order] >= instance_score_thr]
    areas = tm.flatten(1).sum(1)
    for k in order.tolist():
        if int(areas[k]) == 0:
            continue
        mask = tm[k]
        free = seg_ids == 0
        inter = int((mask & ~free).sum())
        if inter / int(areas[k]) > iou_thr:
            continue
        mask = mask & free
        area = int(mask.sum())
        if area == 0:
            continue
        seg_cands.append(k)
        seg_areas.append(area)
        seg_ids[mask] = len(seg_cands)
    sorder = torch.argsort(-stuff_scores, stable=True)
    seen = set()
    for k in sorder.tolist():
        label = int(stuff_labels[k])
        if label in seen:
            continue
        seen.add(label)
        mask = sm[stuff_labels == label].any(0) & (seg_ids == 0)
        area = int(mask.sum())
        if area < stuff_max_area:
            continue
        seg_cands.append(num_things + k)
        seg_areas.append(area)
        seg_ids[mask] = len(seg_cands)

    cand = torch.tensor(seg_cands, dtype=torch.long, device=device)
    all_scores = torch.cat([thing_scores, stuff_scores])
    all_labels = torch.cat([thing_labels, stuff_labels])
    all_masks = torch.cat([thing_masks, stuff_masks])
    lut = torch.cat([all_labels.new_zeros(1), all_labels[cand]])
    sem = lut[seg_ids]
    seg_of_cand = torch.zeros(all_scores.numel(), dtype=torch.long,
                              device=device)
    seg_of_cand[cand] = torch.arange(1, cand.numel() + 1, device=device)
    if uncovered == 'best_kept' and cand.numel() == 0:
        sem = all_labels[_weighted_argmax(all_masks, all_scores)]
    sem, fill_ids = _fill_uncovered(sem, seg_ids, all_masks, all_scores,
                                    all_labels, seg_of_cand, uncovered,
                                    fill_label)
    return PanopticOutput(
        seg_ids=seg_ids,
        sem_seg=sem,
        labels=all_labels[cand],
        scores=all_scores[cand],
        is_thing=cand < num_things,
        cand_inds=cand,
        areas=torch.tensor(seg_areas, dtype=torch.long, device=device),
        fill_ids=fill_ids)
