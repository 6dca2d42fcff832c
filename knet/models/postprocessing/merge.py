"""Panoptic merge of K-Net's thing and stuff candidates: the reference.

Two strategies of the release, on candidate mask probabilities [M, H, W]:

* :func:`merge_joint` (``merge_joint=True``, MaskFormer-style): every pixel
  goes to the candidate with the highest ``score x mask probability`` (the
  first one on ties); a candidate becomes a segment if it wins at least one
  pixel, has a pixel with probability >= 0.5, keeps at least
  ``overlap_thr`` of that area, and (things only) scores at least
  ``instance_score_thr``. The keep decisions are independent of each other,
  so this is fully vectorised; segments are numbered 1.. in descending
  score order, as the release does.
* :func:`merge_thing_first`: paste thresholded thing masks by score
  (skipping those overlapping earlier ones by more than ``iou_thr``), then
  fill the remaining pixels with stuff classes whose free area is at least
  ``stuff_max_area``. Sequential by nature (each paste depends on the
  previous ones): one loop over the (at most ``max_per_img``) candidates.

Pixels that no segment claims keep segment 0. ``uncovered='best_kept'``
(default) labels them with the best *kept* segment's class at that pixel;
``uncovered='fixed'`` writes ``fill_label``, the release's behaviour
(docs/release_differences.md).

:func:`merge_joint` is written for any device: batched ops only and a single
host synchronisation at the end (the number of segments); it is the GPU path
and the reference that the CPU fast path (:mod:`.tiled`) is tested against.
The pieces the two share are :func:`joint_keep` and :func:`assemble_joint`.
"""
from dataclasses import dataclass
from typing import Callable, Optional, Tuple

import torch
from torch import Tensor

__all__ = [
    'PanopticOutput', 'merge_joint', 'merge_thing_first', 'joint_keep',
    'assemble_joint', 'count_ids', 'weighted_argmax', 'UNCOVERED_MODES'
]

UNCOVERED_MODES = ('best_kept', 'fixed')

# (keep [M] bool, free [H, W] bool) -> [H, W] index of the kept candidate
# with the highest score x mask, read at the free pixels only
BestKept = Callable[[Tensor, Tensor], Tensor]


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

    def segment_map(self) -> Tensor:
        """[H, W] segment id per pixel, the pixels without segment joined to
        the segment whose class they took (``fill_ids``): what instance and
        track maps are painted from, so that a thing class never appears
        without its instance."""
        if self.fill_ids is None:
            return self.seg_ids
        return torch.where(self.seg_ids > 0, self.seg_ids, self.fill_ids)


def count_ids(ids: Tensor, n: int) -> Tensor:
    """[n] long: occurrences of 0..n-1 in ``ids`` (``bincount`` without its
    host synchronisation on CUDA, where it reads the maximum first)."""
    flat = ids.reshape(-1)
    return torch.zeros(n, dtype=torch.long, device=flat.device).scatter_add_(
        0, flat, torch.ones_like(flat))


def weighted_argmax(masks: Tensor,
                    scores: Tensor,
                    valid: Optional[Tensor] = None,
                    chunk_rows: int = 64) -> Tensor:
    """[H, W] first maximum over candidates of ``scores x masks``.

    Args:
        masks: [M, H, W] probabilities; scores: [M] (>= 0).
        valid: [M] bool; other candidates never win (index 0 where none is
            valid).

    Row chunks: no second [M, H, W] tensor is materialised.
    """
    h = masks.shape[1]
    ids = torch.empty(masks.shape[1:], dtype=torch.long, device=masks.device)
    weights = scores.view(-1, 1, 1)
    for r in range(0, h, chunk_rows):
        rows = slice(r, r + chunk_rows)
        prod = weights * masks[:, rows]
        if valid is not None:  # products are >= 0
            prod.masked_fill_(~valid.view(-1, 1, 1), -1.0)
        # max(0).indices: the first maximum, as argmax(0), but several times
        # faster on CPU for a reduction over the leading dimension
        ids[rows] = prod.max(0).indices
    return ids


def joint_keep(area: Tensor, orig_area: Tensor, scores: Tensor,
               is_thing: Tensor, overlap_thr: float,
               instance_score_thr: float) -> Tensor:
    """[M] bool keep decision of the joint merge from the won ``area`` and
    the >= 0.5 ``orig_area`` (read only where ``area`` > 0)."""
    low_thing = is_thing & (scores < instance_score_thr)
    ratio = area.double() / orig_area.clamp(min=1).double()
    return (area > 0) & (orig_area > 0) & ~low_thing & (ratio >= overlap_thr)


def fill_uncovered(sem: Tensor, seg_ids: Tensor, seg_of_cand: Tensor,
                   labels: Tensor, best_kept: Optional[BestKept],
                   uncovered: str, fill_label: int) -> Tuple[Tensor, Tensor]:
    """Label the pixels without segment; returns ``(sem, fill_ids)``.

    ``seg_of_cand``: [M] segment id of each candidate (0: not kept). With
    ``'best_kept'`` and nothing kept, ``sem`` is left as it is."""
    free = seg_ids == 0
    fill_ids = torch.zeros_like(seg_ids)
    if uncovered == 'fixed':
        return sem.masked_fill(free, fill_label), fill_ids
    if uncovered != 'best_kept':
        raise ValueError(f'unknown uncovered mode {uncovered!r}')
    keep = seg_of_cand > 0
    best = best_kept(keep, free)
    fill = free & keep.any()
    return (torch.where(fill, labels[best], sem),
            torch.where(fill, seg_of_cand[best], fill_ids))


def assemble_joint(ids: Tensor, keep: Tensor, scores: Tensor,
                   labels: Tensor, is_thing: Tensor, area: Tensor,
                   best_kept: Optional[BestKept], uncovered: str,
                   fill_label: int) -> PanopticOutput:
    """:class:`PanopticOutput` of the joint merge from the per-pixel argmax
    ``ids`` [H, W] and the keep decisions ``keep`` [M]: kept candidates are
    numbered 1.. in descending score order (stable)."""
    order = torch.argsort(-scores, stable=True)
    kept_in_order = keep[order]
    seg_of_cand = torch.zeros_like(order)
    seg_of_cand[order] = kept_in_order.cumsum(0) * kept_in_order
    seg_ids = seg_of_cand[ids]
    sem, fill_ids = fill_uncovered(labels[ids], seg_ids, seg_of_cand, labels,
                                   best_kept, uncovered, fill_label)
    kept = order[kept_in_order]  # the one host synchronisation: S
    return PanopticOutput(
        seg_ids=seg_ids,
        sem_seg=sem,
        labels=labels[kept],
        scores=scores[kept],
        is_thing=is_thing[kept],
        cand_inds=kept,
        areas=area[kept],
        fill_ids=fill_ids)


def merge_joint(masks: Tensor,
                scores: Tensor,
                labels: Tensor,
                num_thing_classes: int,
                overlap_thr: float = 0.6,
                instance_score_thr: float = 0.25,
                uncovered: str = 'best_kept',
                fill_label: int = 0) -> PanopticOutput:
    """Joint argmax merge (see module doc).

    Args:
        masks: [M, H, W] mask probabilities of the candidates.
        scores: [M] candidate scores.
        labels: [M] model labels (things < ``num_thing_classes``).
    """
    ids = weighted_argmax(masks, scores)
    area = count_ids(ids, scores.numel())
    orig_area = (masks >= 0.5).flatten(1).sum(1)
    is_thing = labels < num_thing_classes
    keep = joint_keep(area, orig_area, scores, is_thing, overlap_thr,
                      instance_score_thr)

    def best_kept(keep: Tensor, free: Tensor) -> Tensor:
        return weighted_argmax(masks, scores, valid=keep)

    return assemble_joint(ids, keep, scores, labels, is_thing, area,
                          best_kept, uncovered, fill_label)


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
        sem = all_labels[weighted_argmax(all_masks, all_scores)]

    def best_kept(keep: Tensor, free: Tensor) -> Tensor:
        return weighted_argmax(all_masks, all_scores, valid=keep)

    sem, fill_ids = fill_uncovered(sem, seg_ids, seg_of_cand, all_labels,
                                   best_kept, uncovered, fill_label)
    return PanopticOutput(
        seg_ids=seg_ids,
        sem_seg=sem,
        labels=all_labels[cand],
        scores=all_scores[cand],
        is_thing=cand < num_things,
        cand_inds=cand,
        areas=torch.tensor(seg_areas, dtype=torch.long, device=device),
        fill_ids=fill_ids)
