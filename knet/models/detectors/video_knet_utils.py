"""Small tensor helpers of Video K-Net's tracking (pure torch)."""
from typing import Optional

import torch
from torch import Tensor

__all__ = [
    'masks_to_boxes', 'boxes_from_label_map', 'gt_match_indices',
    'paint_track_ids', 'segment_track_ids'
]


def masks_to_boxes(masks: Tensor) -> Tensor:
    """[n, H, W] masks -> [n, 4] (x1, y1, x2, y2) INCLUSIVE pixel bounds.

    An empty mask gives (-1, -1, 10, 10), the release's placeholder.
    """
    n, h, w = masks.shape
    if n == 0:
        return masks.new_zeros((0, 4), dtype=torch.float)
    masks = masks > 0
    return _boxes_from_projections(masks.any(dim=1), masks.any(dim=2))


def boxes_from_label_map(label_map: Tensor, num: int) -> Tensor:
    """[H, W] integer map (0 = none, k = object k in 1..num) -> [num, 4]
    boxes, equal to ``masks_to_boxes(label_map == k for k in 1..num)``
    without materialising the [num, H, W] masks (one pass over the map)."""
    h, w = label_map.shape
    if num == 0:
        return torch.zeros((0, 4), dtype=torch.float,
                           device=label_map.device)
    lab = label_map.long().clamp(0, num)
    dev = lab.device
    cols = torch.zeros((num + 1) * w, dtype=torch.bool, device=dev)
    rows = torch.zeros((num + 1) * h, dtype=torch.bool, device=dev)
    xs = torch.arange(w, device=dev).view(1, w)
    ys = torch.arange(h, device=dev).view(h, 1)
    true = torch.ones((), dtype=torch.bool, device=dev)
    cols.index_put_(((lab * w + xs).flatten(), ), true)
    rows.index_put_(((lab * h + ys).flatten(), ), true)
    cols = cols.view(num + 1, w)[1:]
    rows = rows.view(num + 1, h)[1:]
    return _boxes_from_projections(cols, rows)


def _boxes_from_projections(cols: Tensor, rows: Tensor) -> Tensor:
    """Inclusive boxes from per-object column [n, W] and row [n, H]
    occupancy; empty objects get the release's (-1, -1, 10, 10)."""
    w, h = cols.shape[1], rows.shape[1]
    x1 = cols.int().argmax(dim=1)
    x2 = w - 1 - cols.flip(1).int().argmax(dim=1)
    y1 = rows.int().argmax(dim=1)
    y2 = h - 1 - rows.flip(1).int().argmax(dim=1)
    boxes = torch.stack([x1, y1, x2, y2], dim=1).float()
    empty = ~cols.any(dim=1, keepdim=True)
    return torch.where(empty, boxes.new_tensor([-1., -1., 10., 10.]), boxes)


def gt_match_indices(key_ids: Tensor, ref_ids: Tensor) -> Tensor:
    """For each key GT instance id, the index of the reference GT with the
    same id, -1 if the instance is absent from the reference frame.
    (With duplicated ids the first reference index wins, as ``list.index``.)
    """
    if key_ids.numel() == 0:
        return key_ids.new_zeros((0, ), dtype=torch.long)
    if ref_ids.numel() == 0:
        return torch.full_like(key_ids, -1, dtype=torch.long)
    same = key_ids.view(-1, 1) == ref_ids.view(1, -1)
    first = same.int().argmax(dim=1)
    return torch.where(same.any(dim=1), first, torch.full_like(first, -1))


def paint_track_ids(seg_ids: Tensor,
                    thing_segments: Tensor,
                    track_ids: Tensor,
                    num_segments: Optional[int] = None) -> Tensor:
    """Track-id map from a panoptic segment-id map.

    Args:
        seg_ids: [H, W] long, 0 = no segment, k = segment k.
        thing_segments: [n] segment ids (>= 1) of the tracked things.
        track_ids: [n] track id of each (<= 0: none).
        num_segments: the largest segment id if known (else read from the
            tensors, a host synchronisation on a GPU).

    Returns:
        [H, W] long, the track id on each thing segment's pixels, 0 elsewhere.
    """
    if num_segments is None:
        num_segments = max(
            int(seg_ids.max()) if seg_ids.numel() else 0,
            int(thing_segments.max()) if thing_segments.numel() else 0)
    size = num_segments + 1
    lut = torch.zeros(size, dtype=torch.long, device=seg_ids.device)
    lut[thing_segments.long().to(seg_ids.device)] = track_ids.long().clamp(
        min=0).to(seg_ids.device)
    return lut[seg_ids]


def segment_track_ids(ids: Tensor, sorted_ids: Tensor,
                      mode: str = 'index') -> Tensor:
    """Track id (>= 1, 0 = none) of each detection, in detection order.

    Args:
        ids: [n] tracker ids per detection in INPUT order (-1 = none).
        sorted_ids: the tracker's kept detections' ids in score order
            (-1 unmatched, -2 suppressed), as the release returned them.
        mode: 'index' uses ``ids`` (each id lands on its own detection);
            'position' writes ``sorted_ids`` onto the detections by
            position, the release's behaviour (docs/release_differences.md).
    """
    if mode == 'index':
        return (ids + 1).clamp(min=0)
    if mode != 'position':
        raise ValueError(f'unknown track id write-back {mode!r}')
    out = torch.zeros_like(ids)
    by_pos = (sorted_ids + 1).clamp(min=0).to(out)
    out[:by_pos.numel()] = by_pos
    return out
