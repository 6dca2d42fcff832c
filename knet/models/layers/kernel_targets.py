"""Ground truth of one image brought to K-Net's assignment grid.

K-Net assigns and supervises masks at ``mask_assign_stride`` (4 in the image
configs, 2 in the video configs): thing masks and per-class stuff masks are
padded to the batch input shape and bilinearly resized (soft values, not
thresholded), exactly as the release's ``preprocess_gt_masks``.
"""
from typing import List, NamedTuple, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.structures import InstanceData
from torch import Tensor

__all__ = [
    'KernelTargets', 'masks_to_tensor', 'resize_gt_masks',
    'semantic_to_stuff_masks', 'prepare_kernel_targets', 'last_cover_index'
]


class KernelTargets(NamedTuple):
    """Targets of one image.

    ``things``: InstanceData with ``masks`` (float [n, h, w], soft),
    ``labels`` (long [n], 0..T-1) and ``instances_ids`` when known.
    ``stuff``: InstanceData with ``masks`` (float [k, h, w]) and ``labels``
    (long [k], T..T+S-1, ascending), or None without semantic GT.
    """
    things: InstanceData
    stuff: Optional[InstanceData]


def masks_to_tensor(masks, height: int, width: int,
                    device: torch.device) -> Tensor:
    """BitmapMasks / ndarray / Tensor [n, H, W] -> float Tensor on device."""
    if masks is None:
        return torch.zeros((0, height, width), device=device)
    if hasattr(masks, 'to_tensor'):
        return masks.to_tensor(torch.float, device)
    if isinstance(masks, np.ndarray):
        masks = torch.from_numpy(masks)
    return masks.to(device=device, dtype=torch.float)


def resize_gt_masks(masks: Tensor, pad_shape: Tuple[int, int],
                    out_shape: Tuple[int, int]) -> Tensor:
    """Zero-pad [n, H, W] masks to pad_shape, bilinear resize to out_shape."""
    pad_h, pad_w = pad_shape
    if masks.shape[0] == 0:
        return masks.new_zeros((0, *out_shape))
    h, w = masks.shape[-2:]
    if (h, w) != (pad_h, pad_w):
        masks = F.pad(masks, (0, pad_w - w, 0, pad_h - h), value=0)
    if tuple(masks.shape[-2:]) == tuple(out_shape):
        return masks
    return F.interpolate(
        masks[None], out_shape, mode='bilinear', align_corners=False)[0]


def semantic_to_stuff_masks(sem_seg: Tensor, num_thing_classes: int,
                            ignore_index: int = 255
                            ) -> Tuple[Tensor, Tensor]:
    """One binary mask per stuff label present in a [H, W] label map.

    Returns ``(labels [k] long ascending, masks [k, H, W] float)``; thing
    labels (< num_thing_classes) and ``ignore_index`` are skipped.
    """
    classes = torch.unique(sem_seg)
    classes = classes[(classes != ignore_index)
                      & (classes >= num_thing_classes)]
    masks = (sem_seg[None] == classes[:, None, None]).float()
    return classes.long(), masks


def prepare_kernel_targets(batch_data_samples: Sequence,
                           pad_shape: Tuple[int, int],
                           mask_assign_stride: int,
                           num_thing_classes: int,
                           ignore_index: int = 255,
                           with_stuff: bool = True) -> List[KernelTargets]:
    """Build :class:`KernelTargets` for every DetDataSample of a batch.

    Args:
        batch_data_samples: DetDataSamples with ``gt_instances.masks``,
            ``gt_instances.labels`` (optionally ``instances_ids``) and, for
            panoptic training, ``gt_sem_seg.sem_seg`` ([1, H, W], model labels,
            ``ignore_index`` = void).
        pad_shape: (H, W) batch input shape.
        mask_assign_stride: output stride of the targets.
        num_thing_classes: labels below it are things.
        ignore_index: void label of ``gt_sem_seg``.
        with_stuff: build stuff targets from ``gt_sem_seg`` when present.
    """
    pad_h, pad_w = pad_shape
    out_shape = (pad_h // mask_assign_stride, pad_w // mask_assign_stride)
    targets = []
    for sample in batch_data_samples:
        gt = sample.gt_instances
        device = gt.labels.device
        masks = masks_to_tensor(gt.get('masks', None), pad_h, pad_w, device)
        things = InstanceData(
            masks=resize_gt_masks(masks, pad_shape, out_shape),
            labels=gt.labels.long())
        if 'instances_ids' in gt:
            things.instances_ids = gt.instances_ids
        stuff = None
        if with_stuff and 'gt_sem_seg' in sample:
            sem = sample.gt_sem_seg.sem_seg[0].to(device).long()
            h, w = sem.shape
            if (h, w) != (pad_h, pad_w):
                sem = F.pad(sem, (0, pad_w - w, 0, pad_h - h),
                            value=ignore_index)
            img_h, img_w = sample.metainfo.get('img_shape', (pad_h, pad_w))[:2]
            sem[img_h:, :] = ignore_index
            sem[:, img_w:] = ignore_index
            labels, sem_masks = semantic_to_stuff_masks(
                sem, num_thing_classes, ignore_index)
            stuff = InstanceData(
                masks=resize_gt_masks(sem_masks, pad_shape, out_shape),
                labels=labels)
        targets.append(KernelTargets(things, stuff))
    return targets


def last_cover_index(cover: Tensor) -> Tensor:
    """For [M, ...] bool ``cover``: index of the last True along dim 0, -1
    where none (= "paint masks in order, later ones overwrite")."""
    idx = torch.arange(cover.shape[0], device=cover.device).view(
        -1, *([1] * (cover.dim() - 1)))
    return torch.where(cover, idx, idx.new_full((), -1)).amax(0) \
        if cover.shape[0] > 0 else cover.new_full(cover.shape[1:], -1,
                                                  dtype=torch.long)
