"""Dynamic mask kernels: every image's N kernels applied to its features.

K-Net predicts, per image, N convolution kernels (``[N, C, k, k]``) and
applies them to that image's feature map. The reference path, the release's,
is one grouped convolution over the batch (``groups = B``). ONNX stores a
convolution's group count as a constant attribute, so an exported grouped
convolution would fix the batch size (the number of frames of a VIS clip
window); while exporting, 1x1 kernels are applied as a batched matrix product
instead, which leaves the batch size free. Both give the same values up to
float rounding (tests compare them).
"""
import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ['apply_dynamic_kernels']


def apply_dynamic_kernels(x: Tensor, kernels: Tensor) -> Tensor:
    """``[B, C, h, w]`` features, ``[B, N, C, k, k]`` kernels (odd k, zero
    padding ``k // 2``) -> ``[B, N, h, w]``.

    Eager PyTorch: one grouped convolution (the reference). While exporting
    to ONNX with k = 1: a batched matmul (a batch-size-free graph)."""
    b, n, c, k = kernels.shape[:4]
    h, w = x.shape[-2:]
    if k == 1 and torch.onnx.is_in_onnx_export():
        return torch.matmul(kernels.reshape(b, n, c),
                            x.reshape(b, c, h * w)).reshape(b, n, h, w)
    return F.conv2d(
        x.reshape(1, b * c, h, w), kernels.reshape(b * n, c, k, k),
        padding=k // 2, groups=b).reshape(b, n, h, w)
