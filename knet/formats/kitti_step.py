"""KITTI-STEP panoptic PNG encoding.

An RGB PNG: R = Cityscapes trainId (0..18, 255 = void), instance id =
G * 256 + B. Only person (11) and car (13) are things; a thing pixel with
instance 0 is crowd. The same encoding is used for the ground truth and for
the official submission PNGs.
"""
from typing import Tuple

import numpy as np

KITTI_STEP_THING_IDS = (11, 13)
KITTI_STEP_IGNORE = 255
#: The panoptic id used by STQ is ``semantic * divisor + instance``.
KITTI_STEP_LABEL_DIVISOR = 1000
KITTI_STEP_NUM_CLASSES = 19


def decode_kitti_step(rgb: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Split an H x W x 3 RGB panoptic map into (semantic, instance) maps.

    Returns ``semantic`` as uint8 (trainId, 255 = void) and ``instance`` as
    int32 (0 = no instance, i.e. stuff, void or crowd).
    """
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f'expected an HxWx3 RGB map, got shape {rgb.shape}')
    semantic = rgb[..., 0].astype(np.uint8)
    instance = rgb[..., 1].astype(np.int32) * 256 + rgb[..., 2].astype(np.int32)
    return semantic, instance


def encode_kitti_step(semantic: np.ndarray, instance: np.ndarray) -> np.ndarray:
    """Inverse of :func:`decode_kitti_step`; instance ids must be < 65536."""
    semantic = np.asarray(semantic)
    instance = np.asarray(instance)
    if semantic.shape != instance.shape:
        raise ValueError(f'semantic {semantic.shape} and instance '
                         f'{instance.shape} maps differ in shape')
    if instance.size and (instance.min() < 0 or instance.max() > 65535):
        raise ValueError('KITTI-STEP instance ids must lie in [0, 65535]')
    rgb = np.empty(semantic.shape + (3, ), dtype=np.uint8)
    rgb[..., 0] = semantic
    rgb[..., 1] = instance // 256
    rgb[..., 2] = instance % 256
    return rgb
