"""YouTube-VIS: class lists of the official JSON.

The official ``train.json`` (2019) / ``train/instances.json`` (2021) holds
``videos`` (``id``, ``file_names``, ``width``, ``height``, ``length``),
``categories`` (ids 1..40) and ``annotations``: one per track, with
per-frame ``segmentations`` (RLE, uncompressed ``counts`` lists in the
release, or polygons; ``null`` where the object is absent), ``bboxes``
([x, y, w, h] or null), ``areas``, ``category_id``, ``iscrowd``.
Class lists follow mmdet's ``YouTubeVISDataset``; ids count from 1. The
mask encodings are in :mod:`knet.formats.coco_mask`.
"""
from typing import Dict, List, Sequence

__all__ = [
    'YTVIS_2019_CLASSES', 'YTVIS_2021_CLASSES', 'ytvis_classes',
    'ytvis_categories'
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
