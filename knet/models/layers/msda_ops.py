"""Multi-scale deformable attention: mmcv's compiled op where it runs, else
pure PyTorch.

mmcv 2.1 ships ``ms_deform_attn`` kernels for CUDA (and MLU/NPU) only; its
``MultiScaleDeformableAttention`` module calls the compiled
``MultiScaleDeformableAttnFunction`` on CUDA tensors and
``multi_scale_deformable_attn_pytorch`` (``F.grid_sample``) elsewhere, so the
deformable-FPN neck already takes the right path per device.
:func:`multi_scale_deformable_attention` exposes the same choice as a
function (probing the compiled op once per device type) so that callers and
tests can force either path (``impl='mmcv' | 'pytorch' | 'auto'``).
"""
from typing import Dict

import torch
from torch import Tensor

__all__ = ['compiled_msda_available', 'multi_scale_deformable_attention']

_AVAILABLE: Dict[str, bool] = {}


def _mmcv_function():
    try:
        from mmcv.ops.multi_scale_deform_attn import \
            MultiScaleDeformableAttnFunction
    except Exception:  # mmcv without compiled ops
        return None
    return MultiScaleDeformableAttnFunction


def _pytorch_function():
    from mmcv.ops.multi_scale_deform_attn import \
        multi_scale_deformable_attn_pytorch
    return multi_scale_deformable_attn_pytorch


def compiled_msda_available(device: torch.device) -> bool:
    """Whether mmcv's compiled deformable attention runs on ``device``."""
    key = torch.device(device).type
    if key not in _AVAILABLE:
        fn = _mmcv_function()
        ok = False
        if fn is not None:
            try:
                value = torch.zeros((1, 4, 1, 2), device=device)
                shapes = torch.tensor([[2, 2]], device=device)
                start = torch.zeros((1, ), dtype=torch.long, device=device)
                loc = torch.full((1, 1, 1, 1, 1, 2), 0.5, device=device)
                attn = torch.ones((1, 1, 1, 1, 1), device=device)
                fn.apply(value, shapes, start, loc, attn, 64)
                ok = True
            except Exception:  # no kernel here (mmcv 2.1: none on CPU)
                ok = False
        _AVAILABLE[key] = ok
    return _AVAILABLE[key]


def multi_scale_deformable_attention(value: Tensor,
                                     spatial_shapes: Tensor,
                                     level_start_index: Tensor,
                                     sampling_locations: Tensor,
                                     attention_weights: Tensor,
                                     im2col_step: int = 64,
                                     impl: str = 'auto') -> Tensor:
    """Deformable attention over ``L`` flattened feature levels.

    Args:
        value: [B, sum(H_l*W_l), heads, C/heads], levels concatenated.
        spatial_shapes: [L, 2] long, (H_l, W_l) of each level.
        level_start_index: [L] long, offset of each level in ``value``.
        sampling_locations: [B, Q, heads, L, points, 2], (x, y) in [0, 1]
            relative to each level (0 and 1 are the outer pixel edges).
        attention_weights: [B, Q, heads, L, points].
        im2col_step: batch chunk of the compiled op.
        impl: ``'auto'`` (compiled op if it runs on ``value.device``),
            ``'mmcv'`` or ``'pytorch'``.

    Returns:
        [B, Q, C] weighted sums of the bilinearly sampled values (zero
        outside the maps).
    """
    if impl not in ('auto', 'mmcv', 'pytorch'):
        raise ValueError(f'unknown impl {impl!r}')
    use_mmcv = impl == 'mmcv' or (impl == 'auto'
                                  and compiled_msda_available(value.device))
    if use_mmcv:
        fn = _mmcv_function()
        if fn is None:
            raise RuntimeError('mmcv compiled ops are not available')
        return fn.apply(value.contiguous(), spatial_shapes,
                        level_start_index, sampling_locations.contiguous(),
                        attention_weights.contiguous(), im2col_step)
    return _pytorch_function()(value, spatial_shapes, sampling_locations,
                               attention_weights)
