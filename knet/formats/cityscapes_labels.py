"""Cityscapes label ids (the ``*_gtFine_labelIds.png`` values).

The table of cityscapesscripts' ``helpers/labels.py``: label id -> name,
trainId (255 = not trained), whether the class has instances and whether
it is ignored in evaluation. ``*_gtFine_instanceIds.png`` holds
``labelId * 1000 + n`` (n from 0) for single instances of classes with
instances and the plain label id elsewhere (for such classes: a crowd or
group region). Kept here so that generators and checkers need no
cityscapesscripts import; the converters still use cityscapesscripts.
"""
from typing import Dict, NamedTuple

import numpy as np

__all__ = ['CityscapesLabel', 'CITYSCAPES_LABELS', 'LABEL_ID_TO_TRAIN_ID',
           'label_ids_to_train_ids']


class CityscapesLabel(NamedTuple):
    id: int
    name: str
    train_id: int
    has_instances: bool
    ignore_in_eval: bool


_ROWS = (
    (0, 'unlabeled', 255, 0, 1), (1, 'ego vehicle', 255, 0, 1),
    (2, 'rectification border', 255, 0, 1), (3, 'out of roi', 255, 0, 1),
    (4, 'static', 255, 0, 1), (5, 'dynamic', 255, 0, 1),
    (6, 'ground', 255, 0, 1), (7, 'road', 0, 0, 0),
    (8, 'sidewalk', 1, 0, 0), (9, 'parking', 255, 0, 1),
    (10, 'rail track', 255, 0, 1), (11, 'building', 2, 0, 0),
    (12, 'wall', 3, 0, 0), (13, 'fence', 4, 0, 0),
    (14, 'guard rail', 255, 0, 1), (15, 'bridge', 255, 0, 1),
    (16, 'tunnel', 255, 0, 1), (17, 'pole', 5, 0, 0),
    (18, 'polegroup', 255, 0, 1), (19, 'traffic light', 6, 0, 0),
    (20, 'traffic sign', 7, 0, 0), (21, 'vegetation', 8, 0, 0),
    (22, 'terrain', 9, 0, 0), (23, 'sky', 10, 0, 0),
    (24, 'person', 11, 1, 0), (25, 'rider', 12, 1, 0),
    (26, 'car', 13, 1, 0), (27, 'truck', 14, 1, 0), (28, 'bus', 15, 1, 0),
    (29, 'caravan', 255, 1, 1), (30, 'trailer', 255, 1, 1),
    (31, 'train', 16, 1, 0), (32, 'motorcycle', 17, 1, 0),
    (33, 'bicycle', 18, 1, 0),
)

#: label id -> CityscapesLabel (ids 0..33; -1 'license plate' is never
#: written in the PNGs).
CITYSCAPES_LABELS: Dict[int, CityscapesLabel] = {
    r[0]: CityscapesLabel(r[0], r[1], r[2], bool(r[3]), bool(r[4]))
    for r in _ROWS
}
LABEL_ID_TO_TRAIN_ID: Dict[int, int] = {
    i: lab.train_id for i, lab in CITYSCAPES_LABELS.items()
}
_LUT = np.full(256, 255, np.uint8)
for _i, _t in LABEL_ID_TO_TRAIN_ID.items():
    _LUT[_i] = _t


def label_ids_to_train_ids(label_ids: np.ndarray) -> np.ndarray:
    """labelIds map -> trainIds map (uint8, 255 on ignored labels)."""
    label_ids = np.asarray(label_ids)
    if label_ids.size and (label_ids.min() < 0 or label_ids.max() > 255):
        raise ValueError('Cityscapes label ids must lie in 0..255')
    return _LUT[label_ids.astype(np.intp)]
