"""What the exact CPU fast paths assume about torch's CPU kernels.

The tiled merge (:mod:`.tiled`) recomputes pieces of the full-resolution
masks and must reproduce them bit for bit. Whether a piece equals the whole
depends on three implementation details of ATen's CPU kernels, named here
and nowhere else. ``tests/models/postprocessing/test_torch_kernels.py``
probes the installed torch for each and fails when one changes (then
revisit this file and :mod:`.tiled`):

* :data:`SMALL_OUTPUT`: ``upsample_bilinear2d`` on CPU
  (``aten/src/ATen/native/cpu/UpSampleKernel.cpp``,
  ``_use_vectorized_kernel_cond_2d``) resizes with its channels-last kernel
  when the output's height + width is at most 128 and with the generic
  separable kernel above; the two round differently, so a crop resized
  small does not equal the same pixels of a large resize. Crops are kept
  above the switch. (The same function also takes the channels-last kernel
  for 3-channel inputs when torch runs one thread: masks are therefore
  resized as ``[M, 1, h, w]``, never as channels of one image.)
* :data:`GRAIN`: ``at::internal::GRAIN_SIZE``. An element-wise op over at
  most this many elements runs as one serial loop; a larger one is split
  into one chunk per thread.
* :data:`VECTOR_BLOCK`: every such loop runs the vectorised formula over
  blocks of two SIMD vectors and computes the last, partial block with the
  scalar formula; for ``sigmoid`` the two differ in the last bit for some
  inputs (Sleef's vector ``exp`` vs ``std::exp``). So an element's sigmoid
  depends on where it sits in the tensor and on the thread count, unless
  every element is in a full block of a serial loop: see
  :func:`sigmoid_exact`. 64 floats is a multiple of two vectors for AVX2
  (16) and AVX-512 (32).
"""
import math
from typing import Optional

import torch
from torch import Tensor

__all__ = ['SMALL_OUTPUT', 'GRAIN', 'VECTOR_BLOCK', 'sigmoid_exact']

SMALL_OUTPUT = 128
GRAIN = 32768
VECTOR_BLOCK = 64


@torch.no_grad()
def sigmoid_exact(x: Tensor, index: Optional[Tensor] = None) -> Tensor:
    """``x.sigmoid()`` (``x.index_select(0, index).sigmoid()`` with
    ``index``) whose value for an element does not depend on the tensor the
    element sits in (see the module doc).

    On CPU every element takes the vectorised path: the values are copied
    into a zero-padded flat buffer, a multiple of :data:`VECTOR_BLOCK`
    elements, sigmoided in serial chunks of at most :data:`GRAIN` elements
    that are themselves multiples of the block; masks sigmoided tile by tile
    then equal masks sigmoided at once. Other devices: plain ``sigmoid``.
    Post-processing only: no gradient.
    """
    if x.device.type != 'cpu':
        return (x if index is None else x.index_select(0, index)).sigmoid()
    shape = x.shape if index is None else (index.numel(), ) + x.shape[1:]
    n = math.prod(shape)
    buf = x.new_empty(-(-n // VECTOR_BLOCK) * VECTOR_BLOCK)
    if index is None:
        buf[:n].view(shape).copy_(x)
    else:
        torch.index_select(x, 0, index, out=buf[:n].view(shape))
    buf[n:].zero_()
    if torch.get_num_threads() == 1:
        buf.sigmoid_()
    else:  # serial chunks (<= GRAIN elements), each a multiple of the block
        step = GRAIN - VECTOR_BLOCK
        for start in range(0, buf.numel(), step):
            buf[start:start + step].sigmoid_()
    return buf[:n].view(shape)
