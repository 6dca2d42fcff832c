"""Ground truth of one image brought to K-Net's assignment grid.

K-Net assigns and supervises masks at ``mask_assign_stride`` (4 in the image
configs, 2 in the video configs): thing masks and per-class stuff masks are
padded to the batch input shape and bilinearly resized (soft values, not
thresholded), exactly as the release's ``preprocess_gt_masks``.

:func:`prepare_kernel_targets` returns a :class:`KernelTargetList`: the
per-image :class:`KernelTargets` plus what the batched assignment and target
building need, computed once per frame: the stuff classes of each image on
the host (one device -> host copy for the batch instead of a ``unique`` per
image) and, on demand, the ground truth padded into batch tensors
(:class:`TargetBatch`).
"""
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.structures import InstanceData
from torch import Tensor

from .transfer import device_to_host, host_to_device

__all__ = [
    'KernelTargets', 'KernelTargetList', 'TargetBatch', 'target_batch',
    'masks_to_tensor', 'resize_gt_masks', 'semantic_to_stuff_masks',
    'prepare_kernel_targets', 'last_cover_index'
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
    if isinstance(getattr(masks, 'masks', None), np.ndarray):
        masks = masks.masks  # BitmapMasks
    if isinstance(masks, np.ndarray):
        if masks.size == 0:
            return torch.zeros(masks.shape, device=device)
        # the 0/1 bytes cross to the device, without blocking it
        return host_to_device(masks, device).float()
    if hasattr(masks, 'to_tensor'):
        return masks.to_tensor(torch.float, device)
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
    things_list, sems = [], []
    for sample in batch_data_samples:
        gt = sample.gt_instances
        device = gt.labels.device
        masks = masks_to_tensor(gt.get('masks', None), pad_h, pad_w, device)
        things = InstanceData(
            masks=resize_gt_masks(masks, pad_shape, out_shape),
            labels=gt.labels.long())
        if 'instances_ids' in gt:
            things.instances_ids = gt.instances_ids
        things_list.append(things)
        sem = None
        if with_stuff and 'gt_sem_seg' in sample:
            sem = sample.gt_sem_seg.sem_seg[0].to(device).long()
            h, w = sem.shape
            if (h, w) != (pad_h, pad_w):
                sem = F.pad(sem, (0, pad_w - w, 0, pad_h - h),
                            value=ignore_index)
            img_h, img_w = sample.metainfo.get('img_shape', (pad_h, pad_w))[:2]
            sem[img_h:, :] = ignore_index
            sem[:, img_w:] = ignore_index
        sems.append(sem)
    classes = _stuff_classes(sems, num_thing_classes, ignore_index)
    targets = KernelTargetList()
    for things, sem, cls in zip(things_list, sems, classes):
        stuff = None
        if sem is not None:
            labels = host_to_device(np.asarray(cls, np.int64), sem.device)
            sem_masks = (sem[None] == labels[:, None, None]).float()
            stuff = InstanceData(
                masks=resize_gt_masks(sem_masks, pad_shape, out_shape),
                labels=labels)
        targets.append(KernelTargets(things, stuff))
    targets.stuff_classes = classes
    return targets


def _stuff_classes(sems: Sequence[Optional[Tensor]], num_thing_classes: int,
                   ignore_index: int) -> List[Optional[List[int]]]:
    """Ascending stuff labels present in each [H, W] label map (None for
    None): what ``semantic_to_stuff_masks`` keeps, found with one histogram
    of all maps and ONE device -> host copy."""
    present = [s for s in sems if s is not None]
    if not present:
        return [None] * len(sems)
    size = max(256, ignore_index + 1)
    flat = torch.stack([s.flatten() for s in present]).clamp(0, size - 1)
    hist = torch.zeros((len(present), size), dtype=torch.int32,
                       device=flat.device)
    hist.scatter_add_(1, flat, torch.ones_like(flat, dtype=torch.int32))
    hist = device_to_host(hist)
    out, k = [], 0
    for s in sems:
        if s is None:
            out.append(None)
            continue
        found = np.nonzero(hist[k])[0]
        out.append([
            int(c) for c in found
            if c >= num_thing_classes and c != ignore_index
        ])
        k += 1
    return out


class TargetBatch:
    """The ground truth of a batch as padded tensors (built once per frame,
    see :func:`target_batch`).

    Attributes:
        thing_masks: [B, G, h, w] float (zero beyond each image's count),
        thing_labels: [B, G] long (0 beyond the count),
        num_things: host list of counts (G = their maximum),
        stuff_classes: host list per image of its ascending stuff labels
            (None without semantic ground truth).
    """

    def __init__(self, targets: Sequence[KernelTargets],
                 stuff_classes: Optional[List] = None) -> None:
        self.targets = targets
        things = [t.things for t in targets]
        device = things[0].labels.device
        shape = tuple(things[0].masks.shape[-2:])
        self.num_things = [len(t.labels) for t in things]
        g = max(self.num_things, default=0)
        self.thing_masks = torch.zeros((len(things), g, *shape),
                                       device=device)
        self.thing_labels = torch.zeros((len(things), g), dtype=torch.long,
                                        device=device)
        for i, t in enumerate(things):
            n = self.num_things[i]
            if n:
                self.thing_masks[i, :n] = t.masks.to(self.thing_masks.dtype)
                self.thing_labels[i, :n] = t.labels
        self._stuff_classes = stuff_classes
        self.mask_shape = shape
        self.cache: Dict = {}

    @property
    def device(self) -> torch.device:
        return self.thing_masks.device

    @property
    def stuff_classes(self) -> List[Optional[List[int]]]:
        if self._stuff_classes is None:  # a plain list: ask the device
            self._stuff_classes = [
                None if t.stuff is None else
                [int(v) for v in device_to_host(t.stuff.labels)]
                for t in self.targets
            ]
        return self._stuff_classes

    def padded_things(self) -> Tuple[Tensor, Tensor, List[int]]:
        """``(thing_masks, thing_labels, num_things)``."""
        return self.thing_masks, self.thing_labels, self.num_things

    def assigned_things(self, assign, background: int
                        ) -> Tuple[Tensor, Tensor]:
        """Thing-kernel targets of an assignment: labels [B, P] (the
        matched GT's label, ``background`` elsewhere) and mask targets
        [B, P, h, w] (the matched GT's mask, zeros elsewhere).

        ``assign`` is a :class:`~knet.models.task_modules.KernelAssignment`
        (its positives index the padded ground truth: no sync)."""
        b, p = assign.host_gt_inds.shape
        labels = torch.full((b, p), background, dtype=torch.long,
                            device=self.device)
        masks = self.thing_masks.new_zeros((b, p, *self.mask_shape))
        if assign.num_pos:
            img, ker, gt = assign.pos_img, assign.pos_kernel, assign.pos_gt
            labels[img, ker] = self.thing_labels[img, gt]
            masks[img, ker] = self.thing_masks[img, gt]
        return labels, masks

    def stuff_rows(self, num_thing_classes: int
                   ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Host arrays (image, stuff kernel j = label - T, position in
        ``targets[image].stuff``) of every present stuff class, in (image,
        j) order."""
        img, row, pos = [], [], []
        for i, cls in enumerate(self.stuff_classes):
            for k, c in enumerate(cls or ()):
                img.append(i)
                row.append(c - num_thing_classes)
                pos.append(k)
        return (np.asarray(img, np.int64), np.asarray(row, np.int64),
                np.asarray(pos, np.int64))

    def stuff_masks(self) -> Optional[Tensor]:
        """[sum of stuff counts, h, w]: the present stuff masks of all
        images, concatenated in (image, label) order (None if none)."""
        if 'stuff_masks' not in self.cache:
            masks = [
                t.stuff.masks for t, cls in zip(self.targets,
                                                self.stuff_classes) if cls
            ]
            self.cache['stuff_masks'] = torch.cat(masks) if masks else None
        return self.cache['stuff_masks']


class KernelTargetList(list):
    """:class:`KernelTargets` of a batch (a list) with the stuff classes
    known on the host and a cached :class:`TargetBatch`."""

    stuff_classes: Optional[List] = None
    _batch: Optional[TargetBatch] = None


def target_batch(targets: Sequence[KernelTargets]) -> TargetBatch:
    """The :class:`TargetBatch` of ``targets`` (cached on a
    :class:`KernelTargetList`; built afresh for a plain list)."""
    if isinstance(targets, KernelTargetList):
        if targets._batch is None:
            targets._batch = TargetBatch(targets, targets.stuff_classes)
        return targets._batch
    return TargetBatch(targets)


def last_cover_index(cover: Tensor) -> Tensor:
    """For [M, ...] bool ``cover``: index of the last True along dim 0, -1
    where none (= "paint masks in order, later ones overwrite")."""
    idx = torch.arange(cover.shape[0], device=cover.device).view(
        -1, *([1] * (cover.dim() - 1)))
    return torch.where(cover, idx, idx.new_full((), -1)).amax(0) \
        if cover.shape[0] > 0 else cover.new_full(cover.shape[1:], -1,
                                                  dtype=torch.long)
