"""The mask terms of K-Net's kernel losses, shared by the kernel head (stage
0) and every kernel update stage: sigmoid cross-entropy and dice on the
positive kernels' masks, and the optional rank loss (which kernel covers
each pixel last)."""
from typing import Dict, Optional

import torch
from torch import Tensor, nn

from ..layers.kernel_targets import last_cover_index

__all__ = ['kernel_mask_losses']


def kernel_mask_losses(mask_pred: Tensor, mask_targets: Tensor, pos: Tensor,
                       pos_inds: Tensor, num_pos: int, loss_mask: nn.Module,
                       loss_dice: nn.Module, loss_rank: Optional[nn.Module],
                       ignore_index: int) -> Dict[str, Tensor]:
    """``mask``, ``dice`` (and ``rank`` with ``loss_rank``) loss terms.

    Args:
        mask_pred: [B, N, H, W] mask logits at the target resolution.
        mask_targets: [B * N, H, W] targets (rows of the negatives unused).
        pos: [B * N] bool, the positive kernels.
        pos_inds: [num_pos] their rows in ascending order; ``num_pos`` a
            host int, so no device sync is needed.
        ignore_index: rank target of pixels no positive kernel covers.

    Without positives every term is a zero that keeps the graph.
    """
    b, n, h, w = mask_pred.shape
    losses = dict()
    if num_pos > 0:
        pos_pred = mask_pred.reshape(b * n, h, w)[pos_inds]
        pos_target = mask_targets[pos_inds]
        losses['mask'] = loss_mask(pos_pred, pos_target)
        losses['dice'] = loss_dice(pos_pred, pos_target)
        if loss_rank is not None:
            cover = (mask_targets.view(b, n, h, w) > 0) & pos.view(
                b, n, 1, 1)
            idx = last_cover_index(cover.transpose(0, 1))
            rank_target = torch.where(idx >= 0, idx,
                                      idx.new_full((), ignore_index))
            losses['rank'] = loss_rank(
                mask_pred, rank_target, ignore_index=ignore_index)
    else:
        zero = mask_pred.sum() * 0
        losses['mask'] = losses['dice'] = zero
        if loss_rank is not None:
            losses['rank'] = zero
    return losses
