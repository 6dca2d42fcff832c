"""Post-processing of the kernel predictions: panoptic merge, instances,
Video K-Net's semantic filter (see :mod:`.post_processor`)."""
from .merge import PanopticOutput, merge_joint, merge_thing_first
from .post_processor import (MERGE_IMPLS, KNetPostProcessor,
                             build_postprocessor, crop_masks, mask_boxes,
                             rescale_masks)
from .pruning import argmax_contenders, window_bounds
from .semantic_filter import semantic_thing_mask
from .torch_kernels import sigmoid_exact

__all__ = [
    'PanopticOutput', 'merge_joint', 'merge_thing_first', 'MERGE_IMPLS',
    'KNetPostProcessor', 'build_postprocessor', 'crop_masks', 'mask_boxes',
    'rescale_masks', 'argmax_contenders', 'window_bounds',
    'semantic_thing_mask', 'sigmoid_exact'
]
