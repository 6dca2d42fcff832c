"""Video K-Net's semantic filter: where the kernel head's semantic argmax is
a thing class (the tracker's boxes use only those thing pixels)."""
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from .post_processor import resize_to_image
from .pruning import argmax_contenders, window_bounds

__all__ = ['semantic_thing_mask']


def semantic_thing_mask(seg_logits: Tensor,
                        img_meta: dict,
                        num_thing_classes: int,
                        align: bool = True,
                        prune: Optional[bool] = None) -> Tensor:
    """[H, W] bool at ``ori_shape``: the argmax of the resized semantic
    logits is a thing class.

    Args:
        seg_logits: [C, h, w] semantic logits (things first).
        align: resize like the masks (padded input size, crop, original
            size); False: straight to the original size, the release's
            behaviour (docs/release_differences.md).
        prune: resize only the classes that can be the argmax at some pixel
            (exact, :mod:`.pruning`; nothing at all when they are all things
            or all stuff). Pays on CPU; elsewhere the host round trips cost
            more than resizing every class. None: prune on CPU only.
    """
    ori = tuple(img_meta['ori_shape'][:2])
    t = num_thing_classes
    dev = seg_logits.device
    if prune is None:
        prune = dev.type == 'cpu'
    cls = None  # every class
    if prune:
        lower, upper = window_bounds(seg_logits, window=5)
        cls = argmax_contenders(lower, upper).nonzero(as_tuple=False)[:, 0]
        if not bool((cls < t).any()):
            return torch.zeros(ori, dtype=torch.bool, device=dev)
        if bool((cls < t).all()):
            return torch.ones(ori, dtype=torch.bool, device=dev)
    # each class resized as an image of its own: the values do not depend
    # on which classes are resized together (see torch_kernels)
    logits = (seg_logits if cls is None else seg_logits[cls])[:, None]
    if align:
        logits = resize_to_image(logits, img_meta)
    elif tuple(logits.shape[-2:]) != ori:
        logits = F.interpolate(
            logits, ori, mode='bilinear', align_corners=False)
    best = logits[:, 0].max(0).indices  # = argmax(0), faster
    return (best if cls is None else cls[best]) < t
