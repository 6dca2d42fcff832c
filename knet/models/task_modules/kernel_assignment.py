"""Hungarian assignment of K-Net's thing kernels for a whole batch.

mmdet's ``HungarianAssigner`` handles one image: it computes the cost
matrix, copies it to the host, runs SciPy's ``linear_sum_assignment`` and
copies the matching back. A K-Net training step assigns every image at every
stage (and the kernel head, and the tracking positives), so per image that
is a device sync and a dozen small kernels each time.

:func:`assign_kernels` does the same assignment for the whole batch, for one
or several prediction sets (e.g. the inputs of all update stages) at once:
the cost matrices of all images are computed together (ground truth padded
to the largest count, the padding columns ignored), copied to the host in
ONE transfer, matched per image with SciPy and the results copied back in
one non-blocking transfer. The result, :class:`KernelAssignment`, is the
list of mmdet ``AssignResult`` s (one per image, as before) and also keeps
the positives on the host, so target building and the losses index with
them instead of synchronising on ``nonzero`` / boolean masks.

The per-image reference path (``batched=False``, or an assigner whose costs
have no batched form) calls the assigner as before; tests compare the two.
"""
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.structures import InstanceData
from torch import Tensor

from mmdet.models.task_modules.assigners import AssignResult
from ..layers.kernel_targets import KernelTargets, target_batch
from ..layers.precision import float32_region, to_float32
from ..layers.transfer import device_to_host, host_to_device

try:
    from scipy.optimize import linear_sum_assignment
except ImportError:  # pragma: no cover - scipy is a requirement
    linear_sum_assignment = None

__all__ = ['KernelAssignment', 'assign_kernels', 'supports_batched_costs']


class KernelAssignment(list):
    """One ``AssignResult`` per image, plus the batch on host and device.

    Attributes:
        host_gt_inds: [B, P] int64 NumPy array, 0 = negative, k = GT k - 1.
        gt_inds: the same on the device.
        pos_img, pos_kernel, pos_gt: [num_pos] long device tensors of the
            positive (image, kernel, 0-based GT index) triples in (image,
            kernel) order - the order of ``nonzero(gt_inds > 0)``.
        num_pos_per_image: host list of positives per image.
    """

    def __init__(self, results: Sequence[AssignResult],
                 host_gt_inds: np.ndarray, device: torch.device) -> None:
        super().__init__(results)
        self.host_gt_inds = host_gt_inds
        b, p = host_gt_inds.shape
        img, ker = np.nonzero(host_gt_inds > 0)
        gt = host_gt_inds[img, ker] - 1
        self.num_pos_per_image = np.bincount(img, minlength=b).tolist()
        # one host -> device copy for the map and the positives
        packed = host_to_device(
            np.concatenate([host_gt_inds.reshape(-1), img, ker, gt]).astype(
                np.int64), device)
        n = img.size
        self.gt_inds = packed[:b * p].view(b, p)
        self.pos_img = packed[b * p:b * p + n]
        self.pos_kernel = packed[b * p + n:b * p + 2 * n]
        self.pos_gt = packed[b * p + 2 * n:]

    @property
    def num_pos(self) -> int:
        return int(sum(self.num_pos_per_image))

    def image_positives(self, i: int) -> Tuple[Tensor, Tensor]:
        """Positive kernels of image ``i`` and their 0-based GT indices
        (device tensors, sliced with host offsets: no sync)."""
        start = sum(self.num_pos_per_image[:i])
        end = start + self.num_pos_per_image[i]
        return self.pos_kernel[start:end], self.pos_gt[start:end]

    @classmethod
    def from_results(cls, results: Sequence, device: torch.device
                     ) -> 'KernelAssignment':
        """Wrap per-image results that carry ``gt_inds`` (one host copy per
        image: the reference path)."""
        if isinstance(results, KernelAssignment):
            return results
        host = np.stack([
            device_to_host(r.gt_inds).astype(np.int64) for r in results
        ]) if len(results) else np.zeros((0, 0), np.int64)
        out = cls([], host, device)
        out.extend(results)
        return out


# ---------------------------------------------------------------- costs --
def _batched_cost_fn(cost):
    return getattr(cost, 'batch_cost', None)


def supports_batched_costs(assigner) -> bool:
    """True for a Hungarian assigner whose every match cost has a
    ``batch_cost`` (the K-Net costs)."""
    costs = getattr(assigner, 'match_costs', None)
    return (type(assigner).__name__ == 'HungarianAssigner' and bool(costs)
            and all(_batched_cost_fn(c) is not None for c in costs))


def _batch_costs(assigner, masks: Tensor, scores: Optional[Tensor],
                 gt_masks: Tensor, gt_labels: Tensor) -> Tensor:
    """[B, P, G] total cost, summed like ``HungarianAssigner`` does."""
    costs = [
        c.batch_cost(masks, scores, gt_masks, gt_labels)
        for c in assigner.match_costs
    ]
    return torch.stack(costs).sum(dim=0)


def _match(cost: np.ndarray, counts: Sequence[int]) -> np.ndarray:
    """[B, P] gt_inds from [B, P, G] host costs (first ``counts[b]``
    columns valid), as ``HungarianAssigner.assign``."""
    if linear_sum_assignment is None:
        raise ImportError('Please run "pip install scipy" to install scipy '
                          'first.')
    b, p = cost.shape[:2]
    gt_inds = np.zeros((b, p), np.int64)
    for i, n in enumerate(counts):
        if n == 0 or p == 0:
            continue
        rows, cols = linear_sum_assignment(cost[i, :, :n])
        gt_inds[i, rows] = cols + 1
    return gt_inds


def _results(gt_inds_host: np.ndarray, counts: Sequence[int],
             gt_labels: Tensor, device: torch.device) -> KernelAssignment:
    out = KernelAssignment([], gt_inds_host, device)
    gt_inds = out.gt_inds
    labels = torch.where(
        gt_inds > 0,
        gt_labels.gather(1, (gt_inds - 1).clamp(min=0))
        if gt_labels.shape[1] else torch.zeros_like(gt_inds),
        torch.full_like(gt_inds, -1))
    for i, n in enumerate(counts):
        out.append(AssignResult(
            num_gts=n, gt_inds=gt_inds[i], max_overlaps=None,
            labels=labels[i]))
    return out


def assign_kernels(assigners: Sequence,
                   predictions: Sequence[Tuple[Tensor, Optional[Tensor]]],
                   targets: Sequence[KernelTargets],
                   batch_img_metas: Optional[Sequence[dict]] = None,
                   batched: bool = True) -> List[KernelAssignment]:
    """Assign the thing kernels of every image for each prediction set.

    Args:
        assigners: one assigner per prediction set.
        predictions: ``(mask_logits [B, P, H, W], class logits [B, P, C] or
            None)`` per set (detached inside).
        targets: per image :class:`KernelTargets` (``things.masks`` [n, H,
            W], ``things.labels`` [n]).
        batched: batched costs and one host copy for all sets (when every
            assigner supports it); False: the per-image reference path.

    Returns:
        One :class:`KernelAssignment` per prediction set.
    """
    assert len(assigners) == len(predictions)
    if not predictions:
        return []
    device = predictions[0][0].device
    if not (batched and all(supports_batched_costs(a) for a in assigners)):
        things = [t.things for t in targets]
        return [
            _assign_per_image(a, m, s, things, batch_img_metas)
            for a, (m, s) in zip(assigners, predictions)
        ]
    with torch.no_grad(), float32_region(device):
        gt_masks, gt_labels, counts = target_batch(targets).padded_things()
        costs = [
            _batch_costs(a, to_float32(m.detach()),
                         None if s is None else to_float32(s.detach()),
                         gt_masks, gt_labels)
            for a, (m, s) in zip(assigners, predictions)
        ]
        host = device_to_host(torch.stack(costs)) if costs[0].numel() else \
            np.zeros((len(costs), *costs[0].shape), np.float32)
        return [
            _results(_match(host[k], counts), counts, gt_labels, device)
            for k in range(len(costs))
        ]


def _assign_per_image(assigner, masks: Tensor, scores: Optional[Tensor],
                      things: Sequence[InstanceData],
                      batch_img_metas: Optional[Sequence[dict]]
                      ) -> KernelAssignment:
    results = []
    with torch.no_grad(), float32_region(masks.device):
        for i, gt in enumerate(things):
            pred = InstanceData(masks=to_float32(masks[i].detach()))
            if scores is not None:
                pred.scores = to_float32(scores[i].detach())
            meta = batch_img_metas[i] if batch_img_metas else None
            results.append(assigner.assign(pred, gt, meta))
    return KernelAssignment.from_results(results, masks.device)
