"""Match costs of K-Net's mask assignment (for mmdet's HungarianAssigner).

mmdet 3.x has ``FocalLossCost``, ``DiceCost`` and ``CrossEntropyLossCost``,
but two of them compute a different formula than the K-Net release, so the
assignment (and the recorded cost matrices) would differ:

* ``DiceCost`` (``naive_dice=False``) is ``1 - (2 sum(pt) + eps) /
  (sum p^2 + sum t^2 + eps)`` on ``sigmoid(p)``; K-Net uses
  ``-2 sum(pt) / (sum p^2 + eps + sum t^2 + eps)`` on ``sigmoid(p)``
  clamped to [0.001, 1]  -> :class:`KNetDiceCost`.
* ``CrossEntropyLossCost`` is a BCE cost; K-Net's "mask cost" is the negative
  mean soft pixel agreement ``-(sum p t + sum (1-p)(1-t)) / (H W)`` with
  ``sigmoid(p)`` clamped to [0.01, 1]  -> :class:`KNetMaskCost`.
* ``FocalLossCost`` is the same formula; :class:`KNetFocalLossCost` only adds
  that predictions without ``scores`` (the kernel head and the first update
  stage have no classifier output) cost nothing, as in the release.

Each cost also has ``batch_cost(masks [B, P, H, W], scores [B, P, C] | None,
gt_masks [B, G, H, W], gt_labels [B, G]) -> [B, P, G]``: the same formula
for a whole batch at once (ground truth zero padded to the largest count G;
the padded columns are meaningless and ignored), used by
:func:`~knet.models.task_modules.kernel_assignment.assign_kernels`.
"""
from typing import Optional, Union

import torch
from mmengine.structures import InstanceData
from torch import Tensor

from mmdet.models.task_modules.assigners.match_cost import (BaseMatchCost,
                                                            FocalLossCost)
from mmdet.registry import TASK_UTILS

__all__ = ['KNetDiceCost', 'KNetMaskCost', 'KNetFocalLossCost']


def _flat(masks: Tensor) -> Tensor:
    return masks.reshape(masks.shape[0], -1).float()


@TASK_UTILS.register_module()
class KNetDiceCost(BaseMatchCost):
    """Squared-denominator dice cost of the K-Net release (see module doc).

    Args:
        weight (float): cost weight.
        pred_act (bool): apply sigmoid (then clamp to [clamp_min, 1]).
        eps (float): added to each squared sum of the denominator.
        clamp_min (float): lower clamp of the activated prediction.
    """

    def __init__(self,
                 weight: Union[float, int] = 1.,
                 pred_act: bool = True,
                 eps: float = 1e-3,
                 clamp_min: float = 1e-3) -> None:
        super().__init__(weight=weight)
        self.pred_act = pred_act
        self.eps = eps
        self.clamp_min = clamp_min

    def __call__(self,
                 pred_instances: InstanceData,
                 gt_instances: InstanceData,
                 img_meta: Optional[dict] = None) -> Tensor:
        pred = pred_instances.masks
        if self.pred_act:
            pred = pred.sigmoid().clamp(min=self.clamp_min, max=1.0)
        pred = _flat(pred)
        gt = _flat(gt_instances.masks).to(pred.dtype)
        inter = torch.einsum('nh,mh->nm', pred, gt)
        p2 = (pred * pred).sum(1) + self.eps
        t2 = (gt * gt).sum(1) + self.eps
        return -(2 * inter) / (p2[:, None] + t2[None, :]) * self.weight

    def batch_cost(self, masks: Tensor, scores: Optional[Tensor],
                   gt_masks: Tensor, gt_labels: Tensor) -> Tensor:
        """[B, P, G] costs of a batch (see module doc)."""
        pred = masks
        if self.pred_act:
            pred = pred.sigmoid().clamp(min=self.clamp_min, max=1.0)
        pred = pred.flatten(2).float()
        gt = gt_masks.flatten(2).to(pred.dtype)
        inter = torch.einsum('bnh,bmh->bnm', pred, gt)
        p2 = (pred * pred).sum(2) + self.eps
        t2 = (gt * gt).sum(2) + self.eps
        return -(2 * inter) / (p2[:, :, None] + t2[:, None, :]) * self.weight


@TASK_UTILS.register_module()
class KNetMaskCost(BaseMatchCost):
    """Soft pixel-agreement cost of the K-Net release (see module doc).

    Args:
        weight (float): cost weight.
        pred_act (bool): apply sigmoid (then clamp to [clamp_min, 1]).
        clamp_min (float): lower clamp of the activated prediction.
    """

    def __init__(self,
                 weight: Union[float, int] = 1.,
                 pred_act: bool = True,
                 clamp_min: float = 0.01) -> None:
        super().__init__(weight=weight)
        self.pred_act = pred_act
        self.clamp_min = clamp_min

    def __call__(self,
                 pred_instances: InstanceData,
                 gt_instances: InstanceData,
                 img_meta: Optional[dict] = None) -> Tensor:
        pred = pred_instances.masks
        if self.pred_act:
            pred = pred.sigmoid().clamp(min=self.clamp_min, max=1.0)
        gt = gt_instances.masks.to(pred.dtype)
        num_pix = pred.shape[-2] * pred.shape[-1]
        pos = torch.einsum('nhw,mhw->nm', pred, gt)
        neg = torch.einsum('nhw,mhw->nm', 1 - pred, 1 - gt)
        return -(pos + neg) / num_pix * self.weight

    def batch_cost(self, masks: Tensor, scores: Optional[Tensor],
                   gt_masks: Tensor, gt_labels: Tensor) -> Tensor:
        """[B, P, G] costs of a batch (see module doc)."""
        pred = masks
        if self.pred_act:
            pred = pred.sigmoid().clamp(min=self.clamp_min, max=1.0)
        gt = gt_masks.to(pred.dtype)
        num_pix = pred.shape[-2] * pred.shape[-1]
        pos = torch.einsum('bnhw,bmhw->bnm', pred, gt)
        neg = torch.einsum('bnhw,bmhw->bnm', 1 - pred, 1 - gt)
        return -(pos + neg) / num_pix * self.weight


@TASK_UTILS.register_module()
class KNetFocalLossCost(FocalLossCost):
    """mmdet ``FocalLossCost`` that is zero when predictions have no scores."""

    def __call__(self,
                 pred_instances: InstanceData,
                 gt_instances: InstanceData,
                 img_meta: Optional[dict] = None) -> Tensor:
        if not self.binary_input and 'scores' not in pred_instances:
            ref = pred_instances.masks
            return ref.new_zeros((len(pred_instances), len(gt_instances)))
        return super().__call__(pred_instances, gt_instances, img_meta)

    def batch_cost(self, masks: Tensor, scores: Optional[Tensor],
                   gt_masks: Tensor, gt_labels: Tensor) -> Tensor:
        """[B, P, G] class costs of a batch (zero without ``scores``)."""
        b, p = masks.shape[:2]
        g = gt_labels.shape[1]
        if scores is None:
            return masks.new_zeros((b, p, g))
        if self.binary_input:
            raise NotImplementedError('batched focal cost of masks')
        # mmdet's FocalLossCost._focal_loss_cost, with a batch axis
        prob = scores.sigmoid()
        neg = -(1 - prob + self.eps).log() * (1 - self.alpha) * prob.pow(
            self.gamma)
        pos = -(prob + self.eps).log() * self.alpha * (1 - prob).pow(
            self.gamma)
        index = gt_labels[:, None, :].expand(b, p, g)
        return (pos.gather(2, index) - neg.gather(2, index)) * self.weight
