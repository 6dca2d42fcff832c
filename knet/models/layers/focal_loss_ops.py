"""Sigmoid focal loss: mmcv's compiled op where it runs, else pure PyTorch.

mmcv 2.1 ships ``sigmoid_focal_loss`` kernels for CUDA (and NPU/MLU) only;
mmdet's ``FocalLoss`` takes the compiled op on CUDA tensors and the
PyTorch formula elsewhere. :func:`sigmoid_focal_loss` does the same choice
per device (probing the compiled op once per device type) so that callers
and tests can force either path (``impl='mmcv' | 'pytorch' | 'auto'``).
"""
from typing import Dict, Optional

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    'compiled_focal_loss_available', 'py_sigmoid_focal_loss',
    'sigmoid_focal_loss'
]

_AVAILABLE: Dict[str, bool] = {}


def _mmcv_op():
    try:
        from mmcv.ops import sigmoid_focal_loss as op
    except Exception:  # mmcv without compiled ops
        return None
    return op


def compiled_focal_loss_available(device: torch.device) -> bool:
    """Whether mmcv's compiled sigmoid focal loss runs on ``device``."""
    key = torch.device(device).type
    if key not in _AVAILABLE:
        op = _mmcv_op()
        ok = False
        if op is not None:
            try:
                x = torch.zeros((1, 2), device=device)
                t = torch.zeros((1, ), dtype=torch.long, device=device)
                op(x, t, 2.0, 0.25, None, 'none')
                ok = True
            except Exception:  # no kernel for this device
                ok = False
        _AVAILABLE[key] = ok
    return _AVAILABLE[key]


def py_sigmoid_focal_loss(pred: Tensor, target: Tensor, gamma: float = 2.0,
                          alpha: float = 0.25) -> Tensor:
    """Element-wise focal loss; ``target`` are labels in [0, C] (C = none)."""
    num_classes = pred.size(1)
    onehot = F.one_hot(target, num_classes + 1)[:, :num_classes].type_as(pred)
    prob = pred.sigmoid()
    pt = (1 - prob) * onehot + prob * (1 - onehot)
    focal_weight = (alpha * onehot + (1 - alpha) *
                    (1 - onehot)) * pt.pow(gamma)
    return F.binary_cross_entropy_with_logits(
        pred, onehot, reduction='none') * focal_weight


def sigmoid_focal_loss(pred: Tensor,
                       target: Tensor,
                       weight: Optional[Tensor] = None,
                       gamma: float = 2.0,
                       alpha: float = 0.25,
                       reduction: str = 'mean',
                       avg_factor: Optional[float] = None,
                       impl: str = 'auto') -> Tensor:
    """Sigmoid focal loss of logits [N, C] against labels [N] (C = background).

    ``weight`` is per sample [N] or per element [N, C]. Reduction as mmdet's
    ``weight_reduce_loss`` (``mean`` divides by ``avg_factor`` if given).
    """
    use_mmcv = impl == 'mmcv' or (impl == 'auto'
                                  and compiled_focal_loss_available(
                                      pred.device))
    if use_mmcv:
        op = _mmcv_op()
        loss = op(pred.contiguous(), target.contiguous(), gamma, alpha, None,
                  'none')
    else:
        loss = py_sigmoid_focal_loss(pred, target, gamma, alpha)
    if weight is not None:
        if weight.dim() == 1:
            weight = weight.view(-1, 1)
        loss = loss * weight
    if reduction == 'none':
        return loss
    if reduction == 'sum':
        return loss.sum()
    if avg_factor is None:
        return loss.mean()
    return loss.sum() / (avg_factor + torch.finfo(torch.float32).eps)
