"""One definition of each on-disk label encoding (pure NumPy, no framework).

Datasets, writers, evaluators and the synthetic generators all use these
functions and constants, so a value means the same thing everywhere.
"""
from .cityscapes import (CITYSCAPES_CLASSES, CITYSCAPES_PALETTE,
                         CITYSCAPES_THING_IDS)
from .kitti_step import (KITTI_STEP_IGNORE, KITTI_STEP_LABEL_DIVISOR,
                         KITTI_STEP_NUM_CLASSES, KITTI_STEP_SPLITS,
                         KITTI_STEP_THING_IDS, decode_kitti_step,
                         encode_kitti_step, pack_kitti_step,
                         unpack_kitti_step)
from .labels import LabelSpace
from .panopticapi import id2rgb, rgb2id
from .vipseg import (VIPSEG_CATEGORIES, VIPSEG_STUFF_IDS, VIPSEG_THING_IDS,
                     decode_vipseg, encode_vipseg, vipseg_category)

__all__ = [
    'CITYSCAPES_CLASSES', 'CITYSCAPES_PALETTE', 'CITYSCAPES_THING_IDS',
    'KITTI_STEP_IGNORE', 'KITTI_STEP_LABEL_DIVISOR', 'KITTI_STEP_NUM_CLASSES',
    'KITTI_STEP_SPLITS', 'KITTI_STEP_THING_IDS', 'decode_kitti_step',
    'encode_kitti_step', 'pack_kitti_step', 'unpack_kitti_step', 'LabelSpace',
    'id2rgb', 'rgb2id', 'VIPSEG_CATEGORIES', 'VIPSEG_STUFF_IDS',
    'VIPSEG_THING_IDS', 'decode_vipseg', 'encode_vipseg', 'vipseg_category'
]
