"""Losses of the kernel association embedding (quasi-dense tracking).

The multi-positive cross-entropy is mmdet's ``MultiPosCrossEntropyLoss``
(same formula as the release: ``log(1 + sum_{pos,neg} exp(d_neg - d_pos))``
per row, in the numerically stable log-sum-exp form); it is reused as is.

:class:`TrackL2Loss` is the release's L2 loss on cosine similarities. mmdet
3.x ships an ``L2Loss`` for QDTrack too, but it decides whether to subsample
negatives with ``num_neg / (num_pos + 1e-6) > neg_pos_ub`` where the release
uses ``num_neg / (num_pos + 1)``; the two keep different negatives when
``neg_pos_ub * num_pos < num_neg <= neg_pos_ub * (num_pos + 1)``. This class
follows the release, and does not modify its inputs in place (the release
wrote the margins into the caller's similarity matrix).
"""
from typing import Optional

import torch
from torch import Tensor, nn

from mmdet.registry import MODELS

__all__ = ['TrackL2Loss', 'track_l2_loss']


def track_l2_loss(pred: Tensor,
                  target: Tensor,
                  neg_pos_ub: int = 3,
                  pos_margin: float = 0.0,
                  neg_margin: float = 0.1,
                  hard_mining: bool = True,
                  generator: Optional[torch.Generator] = None) -> Tensor:
    """Mean squared error of similarities vs 0/1 targets with margins.

    Positives (target 1) lose ``pos_margin``, negatives (target 0) lose
    ``neg_margin``; the result is clamped to [0, 1]. When there are more than
    ``neg_pos_ub * (num_pos + 1)`` negatives, only ``neg_pos_ub * num_pos``
    of them are kept: the hardest (largest error) with ``hard_mining``, else
    a random subset. The mean is over the kept entries.
    """
    assert pred.shape == target.shape and target.numel() > 0
    pos = target == 1
    neg = target == 0
    margin = torch.zeros_like(pred)
    if pos_margin > 0:
        margin = margin + pos.to(pred.dtype) * pos_margin
    if neg_margin > 0:
        margin = margin + neg.to(pred.dtype) * neg_margin
    pred = (pred - margin).clamp(min=0, max=1)
    tgt = target.to(pred.dtype)
    err = (pred - tgt)**2

    weight = torch.ones_like(pred)
    num_pos = int(pos.sum())
    num_neg = int(neg.sum())
    if neg_pos_ub > 0 and num_neg / (num_pos + 1) > neg_pos_ub:
        keep_neg = num_pos * neg_pos_ub
        neg_idx = torch.nonzero(neg.flatten()).flatten()
        if hard_mining:
            costs = err.detach().flatten()[neg_idx]
            chosen = neg_idx[costs.topk(keep_neg)[1]]
        else:
            perm = torch.randperm(neg_idx.numel(), generator=generator)
            chosen = neg_idx[perm[:keep_neg].to(neg_idx.device)]
        dropped = neg.flatten().clone()
        dropped[chosen] = False
        weight = weight.flatten().masked_fill(dropped, 0).view_as(pred)
    avg = (weight > 0).sum().clamp(min=1)
    return (err * weight).sum() / avg


@MODELS.register_module()
class TrackL2Loss(nn.Module):
    """Registered wrapper of :func:`track_l2_loss` (release ``L2Loss``)."""

    def __init__(self,
                 neg_pos_ub: int = 3,
                 pos_margin: float = 0.0,
                 neg_margin: float = 0.1,
                 hard_mining: bool = True,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        self.neg_pos_ub = neg_pos_ub
        self.pos_margin = pos_margin
        self.neg_margin = neg_margin
        self.hard_mining = hard_mining
        self.loss_weight = loss_weight

    def forward(self, pred: Tensor, target: Tensor) -> Tensor:
        return self.loss_weight * track_l2_loss(
            pred, target, self.neg_pos_ub, self.pos_margin, self.neg_margin,
            self.hard_mining)
