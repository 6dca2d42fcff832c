"""Exact pruning: which candidates can be the per-pixel argmax at all.

Bilinear resizing (no antialias) writes every output pixel as a convex
combination of a small neighbourhood of its input, and sigmoid is
monotonic, so a candidate whose upper bound (max over a window of its
low-resolution logits, through the sigmoid, times its score) stays below
another candidate's lower bound everywhere can never win a pixel, nor tie.
Dropping such candidates BEFORE the full-resolution resize leaves the
argmax, the kept segments and every map bit-identical (channels are resized
independently) while only the few contenders are resized. Used by the CPU
merge (:mod:`.tiled`) and by Video K-Net's semantic filter.
"""
import math
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    'window_bounds', 'argmax_contenders', 'cell_contenders',
    'unique_kernels', 'candidate_contenders'
]


def _window_max(t: Tensor, window: int, dim: int) -> Tensor:
    """Max over a centred ``window`` along ``dim``, clipped at the borders
    (= a stride-1 max-pool padded with -inf, several times faster on CPU)."""
    out = t.clone()
    n = t.shape[dim]
    for d in range(1, min(window // 2, n - 1) + 1):
        head, tail = out.narrow(dim, 0, n - d), out.narrow(dim, d, n - d)
        torch.maximum(head, t.narrow(dim, d, n - d), out=head)
        torch.maximum(tail, t.narrow(dim, 0, n - d), out=tail)
    return out


def _cell_max(t: Tensor, cell: int) -> Tensor:
    """Max over non-overlapping ``cell`` x ``cell`` cells of [M, h, w] (the
    last ones partial, as a ceil-mode max-pool)."""
    m, h, w = t.shape
    gh, gw = -(-h // cell), -(-w // cell)
    if gh * cell != h or gw * cell != w:
        t = F.pad(t, (0, gw * cell - w, 0, gh * cell - h),
                  value=-math.inf)
    return t.reshape(m, gh, cell, gw, cell).amax((2, 4))


def window_bounds(logits: Tensor, window: int = 5,
                  cell: int = 1) -> Tuple[Tensor, Tensor]:
    """Per-cell (lower, upper) bounds of ``logits`` [M, h, w] over a
    ``window`` x ``window`` neighbourhood of cells of ``cell`` x ``cell``
    input pixels. Any value that a bilinear resize chain (each step reading a
    2 x 2 input neighbourhood) writes at an output pixel lies between the
    bounds of the cell under that pixel's centre, for ``window`` >= 5 cells
    of at most one stride-8 pixel; ``window`` = 3 suffices for integer
    upsampling factors (see :class:`~.tiled.TiledMasks`)."""
    x = logits.detach().float()
    upper = _cell_max(x, cell) if cell > 1 else x
    lower = -_cell_max(-x, cell) if cell > 1 else x

    def window_max(t: Tensor) -> Tensor:  # separable: rows, then columns
        return _window_max(_window_max(t, window, 1), window, 2)

    return -window_max(-lower), window_max(upper)


def cell_contenders(lower: Tensor, upper: Tensor, rtol: float,
                    atol: float) -> Tensor:
    """[M, h, w] bool: the candidates that can win or tie in each cell (their
    upper bound reaches the best lower bound minus a margin far above float
    rounding)."""
    best = lower.amax(0)
    thr = best - (rtol * best.abs() + atol)
    return upper >= thr[None]


def argmax_contenders(lower: Tensor, upper: Tensor,
                      rtol: float = 1e-4, atol: float = 1e-5) -> Tensor:
    """[M] bool: candidates that can be the per-pixel argmax somewhere.

    Args:
        lower, upper: [M, h, w] per-cell bounds of each candidate's value at
            every pixel of the cell's area.

    Never empty for M > 0.
    """
    if lower.shape[0] == 0:
        return torch.zeros(0, dtype=torch.bool, device=lower.device)
    return cell_contenders(lower, upper, rtol, atol).flatten(1).any(1)


def unique_kernels(kernel_inds: Tensor, scores: Tensor) -> Tensor:
    """Indices of the candidates whose kernel (hence mask) no earlier
    candidate with a score at least as high has: the others never win a
    pixel (they lose or tie with a lower index everywhere)."""
    same = kernel_inds.view(-1, 1) == kernel_inds.view(1, -1)
    earlier = torch.ones_like(same).tril(-1)
    at_least = scores.view(1, -1) >= scores.view(-1, 1)
    keep = ~(same & earlier & at_least).any(1)
    return keep.nonzero(as_tuple=False).squeeze(1)


def candidate_contenders(logits: Tensor, kernel_inds: Tensor,
                         scores: Tensor,
                         low_res_logits: Optional[Tensor] = None) -> Tensor:
    """Indices of the candidates that can win a pixel of the joint merge at
    any resolution the masks are resized to.

    Args:
        logits: [N, h, w] mask logits (merge input) of every kernel.
        kernel_inds: [M] kernel of each candidate; duplicates are dropped
            first (see :func:`unique_kernels`).
        scores: [M] candidate scores.
        low_res_logits: [N, h', w'] logits that ``logits`` were bilinearly
            upsampled from (bounds are cheaper there), or None (bounds from
            ``logits`` in cells of 4 x 4 pixels).
    """
    idx = unique_kernels(kernel_inds, scores)
    if low_res_logits is not None:
        lower, upper = window_bounds(
            low_res_logits[kernel_inds[idx]], window=5)
    else:
        lower, upper = window_bounds(
            logits[kernel_inds[idx]], window=5, cell=4)
    w = scores[idx].float().view(-1, 1, 1)
    # atol: far below any probability that matters, far above subnormal
    # rounding
    win = argmax_contenders(w * lower.sigmoid(), w * upper.sigmoid(),
                            atol=1e-30)
    return idx[win]
