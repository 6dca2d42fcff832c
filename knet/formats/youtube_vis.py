"""YouTube-VIS: class lists and the mask encodings of the official JSON.

The official ``train.json`` (2019) / ``train/instances.json`` (2021) holds
``videos`` (``id``, ``file_names``, ``width``, ``height``, ``length``),
``categories`` (ids 1..40) and ``annotations``: one per track, with
per-frame ``segmentations`` (RLE, uncompressed ``counts`` lists in the
release, or polygons; ``null`` where the object is absent), ``bboxes``
([x, y, w, h] or null), ``areas``, ``category_id``, ``iscrowd``.
Class lists follow mmdet's ``YouTubeVISDataset``; ids count from 1.
"""
from typing import Dict, List, Optional, Sequence

import numpy as np

__all__ = [
    'YTVIS_2019_CLASSES', 'YTVIS_2021_CLASSES', 'ytvis_classes',
    'ytvis_categories', 'mask_to_rle', 'rle_to_mask', 'mask_to_bbox'
]

YTVIS_2019_CLASSES = (
    'person', 'giant_panda', 'lizard', 'parrot', 'skateboard', 'sedan',
    'ape', 'dog', 'snake', 'monkey', 'hand', 'rabbit', 'duck', 'cat', 'cow',
    'fish', 'train', 'horse', 'turtle', 'bear', 'motorbike', 'giraffe',
    'leopard', 'fox', 'deer', 'owl', 'surfboard', 'airplane', 'truck',
    'zebra', 'tiger', 'elephant', 'snowboard', 'boat', 'shark', 'mouse',
    'frog', 'eagle', 'earless_seal', 'tennis_racket')

YTVIS_2021_CLASSES = (
    'airplane', 'bear', 'bird', 'boat', 'car', 'cat', 'cow', 'deer', 'dog',
    'duck', 'earless_seal', 'elephant', 'fish', 'flying_disc', 'fox', 'frog',
    'giant_panda', 'giraffe', 'horse', 'leopard', 'lizard', 'monkey',
    'motorbike', 'mouse', 'parrot', 'person', 'rabbit', 'shark',
    'skateboard', 'snake', 'snowboard', 'squirrel', 'surfboard',
    'tennis_racket', 'tiger', 'train', 'truck', 'turtle', 'whale', 'zebra')


def ytvis_classes(version: str) -> Sequence[str]:
    """The 40 class names of YouTube-VIS ``version`` ('2019' or '2021')."""
    version = str(version)
    if version == '2019':
        return YTVIS_2019_CLASSES
    if version == '2021':
        return YTVIS_2021_CLASSES
    raise ValueError(f'unknown YouTube-VIS version {version!r} '
                     '(2019 or 2021)')


def ytvis_categories(version: str) -> List[Dict]:
    """The ``categories`` entry of the official JSON (ids from 1)."""
    return [dict(supercategory='object', id=i + 1, name=name)
            for i, name in enumerate(ytvis_classes(version))]


def mask_to_rle(mask: np.ndarray) -> Optional[Dict]:
    """Binary H x W mask -> uncompressed COCO RLE (column-major runs that
    start with background), as in the official JSON."""
    mask = np.asarray(mask, dtype=bool)
    h, w = mask.shape
    flat = mask.T.reshape(-1).astype(np.int8)
    changes = np.flatnonzero(np.diff(flat)) + 1
    bounds = np.concatenate([[0], changes, [flat.size]])
    runs = np.diff(bounds).tolist()
    if flat.size and flat[0]:
        runs = [0] + runs
    return dict(size=[int(h), int(w)], counts=[int(r) for r in runs])


def rle_to_mask(segmentation, height: int, width: int) -> np.ndarray:
    """Decode an RLE (compressed or not) or polygon list to a bool mask."""
    if isinstance(segmentation, dict) and \
            isinstance(segmentation.get('counts'), list):
        counts = np.asarray(segmentation['counts'], dtype=np.int64)
        h, w = segmentation['size']
        values = np.arange(len(counts)) % 2 == 1
        flat = np.repeat(values, counts)
        if flat.size != h * w:
            raise ValueError(f'RLE covers {flat.size} pixels, not {h * w}')
        return flat.reshape(w, h).T.copy()
    from pycocotools import mask as mask_utils
    if isinstance(segmentation, list):  # polygons
        rles = mask_utils.frPyObjects(segmentation, height, width)
        rle = mask_utils.merge(rles)
    else:
        rle = segmentation
    return mask_utils.decode(rle).astype(bool)


def mask_to_bbox(mask: np.ndarray) -> Optional[List[float]]:
    """Tight [x, y, w, h] of a mask (None when empty), like COCO's toBbox."""
    mask = np.asarray(mask, dtype=bool)
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    if not rows.size:
        return None
    return [float(cols[0]), float(rows[0]), float(cols[-1] - cols[0] + 1),
            float(rows[-1] - rows[0] + 1)]
