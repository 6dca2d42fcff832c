"""One definition of each on-disk label encoding (pure NumPy, no framework).

Datasets, writers, evaluators and the synthetic generators all use these
functions, so a value means the same thing everywhere.
"""
from .cityscapes import CITYSCAPES_CLASSES, CITYSCAPES_PALETTE
from .kitti_step import (KITTI_STEP_IGNORE, KITTI_STEP_LABEL_DIVISOR,
                         KITTI_STEP_THING_IDS, decode_kitti_step,
                         encode_kitti_step)
from .panopticapi import id2rgb, rgb2id
from .vipseg import (VIPSEG_CATEGORIES, VIPSEG_STUFF_IDS, VIPSEG_THING_IDS,
                     decode_vipseg, encode_vipseg)

__all__ = [
    'CITYSCAPES_CLASSES', 'CITYSCAPES_PALETTE', 'KITTI_STEP_IGNORE',
    'KITTI_STEP_LABEL_DIVISOR', 'KITTI_STEP_THING_IDS', 'decode_kitti_step',
    'encode_kitti_step', 'id2rgb', 'rgb2id', 'VIPSEG_CATEGORIES',
    'VIPSEG_STUFF_IDS', 'VIPSEG_THING_IDS', 'decode_vipseg', 'encode_vipseg'
]
