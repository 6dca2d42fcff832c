"""VIPSeg panoptic masks and the 124 official categories.

A raw ``panomasks/<video>/<frame>.png`` is a single-channel (16-bit) map.
Raw values count categories from 1: 0 is void, a value ``v < 125`` is the
stuff (or unsplit) segment of category ``v - 1`` and any other value is
``(category + 1) * 100 + instance``, i.e. category ``v // 100 - 1`` and
instance ``v % 100``. VIPSeg has no crowd: a thing with instance 0 (e.g.
6100) is an ordinary instance. This is how the official conversion
(``create_panoptic_video_labels.py``) reads the masks; each distinct raw
value of a video is one segment (one tube) over the whole video.

The category list (ids 0..123, 58 things and 66 stuff) is VIPSeg's
``panoVIPSeg_categories.json``; users' trees carry no categories file, so
the project keeps its own copy here.
"""
from typing import Dict, List, Tuple

import numpy as np

__all__ = [
    'VIPSEG_CATEGORIES', 'VIPSEG_THING_IDS', 'VIPSEG_STUFF_IDS',
    'VIPSEG_NUM_CLASSES', 'VIPSEG_IGNORE', 'VIPSEG_THING_THRESHOLD',
    'vipseg_category', 'decode_vipseg', 'encode_vipseg', 'vipseg_segments'
]

#: (name, isthing, colour) of category id 0..123 (official order).
_TABLE = (
    ('wall', 0, (120, 120, 120)),  # 0
    ('ceiling', 0, (180, 120, 120)),  # 1
    ('door', 1, (6, 230, 230)),  # 2
    ('stair', 0, (80, 50, 50)),  # 3
    ('ladder', 1, (4, 200, 3)),  # 4
    ('escalator', 0, (120, 120, 80)),  # 5
    ('Playground_slide', 0, (140, 140, 140)),  # 6
    ('handrail_or_fence', 0, (204, 5, 255)),  # 7
    ('window', 1, (230, 230, 230)),  # 8
    ('rail', 0, (4, 250, 7)),  # 9
    ('goal', 1, (224, 5, 255)),  # 10
    ('pillar', 0, (235, 255, 7)),  # 11
    ('pole', 0, (150, 5, 61)),  # 12
    ('floor', 0, (120, 120, 70)),  # 13
    ('ground', 0, (8, 255, 51)),  # 14
    ('grass', 0, (255, 6, 82)),  # 15
    ('sand', 0, (143, 255, 140)),  # 16
    ('athletic_field', 0, (204, 255, 4)),  # 17
    ('road', 0, (255, 51, 7)),  # 18
    ('path', 0, (204, 70, 3)),  # 19
    ('crosswalk', 0, (0, 102, 200)),  # 20
    ('building', 0, (61, 230, 250)),  # 21
    ('house', 0, (255, 6, 51)),  # 22
    ('bridge', 0, (11, 102, 255)),  # 23
    ('tower', 0, (255, 7, 71)),  # 24
    ('windmill', 0, (255, 9, 224)),  # 25
    ('well_or_well_lid', 0, (9, 7, 230)),  # 26
    ('other_construction', 0, (220, 220, 220)),  # 27
    ('sky', 0, (255, 9, 92)),  # 28
    ('mountain', 0, (112, 9, 255)),  # 29
    ('stone', 0, (8, 255, 214)),  # 30
    ('wood', 0, (7, 255, 224)),  # 31
    ('ice', 0, (255, 184, 6)),  # 32
    ('snowfield', 0, (10, 255, 71)),  # 33
    ('grandstand', 0, (255, 41, 10)),  # 34
    ('sea', 0, (7, 255, 255)),  # 35
    ('river', 0, (224, 255, 8)),  # 36
    ('lake', 0, (102, 8, 255)),  # 37
    ('waterfall', 0, (255, 61, 6)),  # 38
    ('water', 0, (255, 194, 7)),  # 39
    ('billboard_or_Bulletin_Board', 0, (255, 122, 8)),  # 40
    ('sculpture', 1, (0, 255, 20)),  # 41
    ('pipeline', 0, (255, 8, 41)),  # 42
    ('flag', 1, (255, 5, 153)),  # 43
    ('parasol_or_umbrella', 1, (6, 51, 255)),  # 44
    ('cushion_or_carpet', 0, (235, 12, 255)),  # 45
    ('tent', 1, (160, 150, 20)),  # 46
    ('roadblock', 1, (0, 163, 255)),  # 47
    ('car', 1, (140, 140, 140)),  # 48
    ('bus', 1, (250, 10, 15)),  # 49
    ('truck', 1, (20, 255, 0)),  # 50
    ('bicycle', 1, (31, 255, 0)),  # 51
    ('motorcycle', 1, (255, 31, 0)),  # 52
    ('wheeled_machine', 0, (255, 224, 0)),  # 53
    ('ship_or_boat', 1, (153, 255, 0)),  # 54
    ('raft', 1, (0, 0, 255)),  # 55
    ('airplane', 1, (255, 71, 0)),  # 56
    ('tyre', 0, (0, 235, 255)),  # 57
    ('traffic_light', 0, (0, 173, 255)),  # 58
    ('lamp', 0, (31, 0, 255)),  # 59
    ('person', 1, (11, 200, 200)),  # 60
    ('cat', 1, (255, 82, 0)),  # 61
    ('dog', 1, (0, 255, 245)),  # 62
    ('horse', 1, (0, 61, 255)),  # 63
    ('cattle', 1, (0, 255, 112)),  # 64
    ('other_animal', 1, (0, 255, 133)),  # 65
    ('tree', 0, (255, 0, 0)),  # 66
    ('flower', 0, (255, 163, 0)),  # 67
    ('other_plant', 0, (255, 102, 0)),  # 68
    ('toy', 0, (194, 255, 0)),  # 69
    ('ball_net', 0, (0, 143, 255)),  # 70
    ('backboard', 0, (51, 255, 0)),  # 71
    ('skateboard', 1, (0, 82, 255)),  # 72
    ('bat', 0, (0, 255, 41)),  # 73
    ('ball', 1, (0, 255, 173)),  # 74
    ('cupboard_or_showcase_or_storage_rack', 0, (10, 0, 255)),  # 75
    ('box', 1, (173, 255, 0)),  # 76
    ('traveling_case_or_trolley_case', 1, (0, 255, 153)),  # 77
    ('basket', 1, (255, 92, 0)),  # 78
    ('bag_or_package', 1, (255, 0, 255)),  # 79
    ('trash_can', 0, (255, 0, 245)),  # 80
    ('cage', 0, (255, 0, 102)),  # 81
    ('plate', 1, (255, 173, 0)),  # 82
    ('tub_or_bowl_or_pot', 1, (255, 0, 20)),  # 83
    ('bottle_or_cup', 1, (255, 184, 184)),  # 84
    ('barrel', 1, (0, 31, 255)),  # 85
    ('fishbowl', 1, (0, 255, 61)),  # 86
    ('bed', 1, (0, 71, 255)),  # 87
    ('pillow', 1, (255, 0, 204)),  # 88
    ('table_or_desk', 1, (0, 255, 194)),  # 89
    ('chair_or_seat', 1, (0, 255, 82)),  # 90
    ('bench', 1, (0, 10, 255)),  # 91
    ('sofa', 1, (0, 112, 255)),  # 92
    ('shelf', 0, (51, 0, 255)),  # 93
    ('bathtub', 0, (0, 194, 255)),  # 94
    ('gun', 1, (0, 122, 255)),  # 95
    ('commode', 1, (0, 255, 163)),  # 96
    ('roaster', 1, (255, 153, 0)),  # 97
    ('other_machine', 0, (0, 255, 10)),  # 98
    ('refrigerator', 1, (255, 112, 0)),  # 99
    ('washing_machine', 1, (143, 255, 0)),  # 100
    ('Microwave_oven', 1, (82, 0, 255)),  # 101
    ('fan', 1, (163, 255, 0)),  # 102
    ('curtain', 0, (255, 235, 0)),  # 103
    ('textiles', 0, (8, 184, 170)),  # 104
    ('clothes', 0, (133, 0, 255)),  # 105
    ('painting_or_poster', 1, (0, 255, 92)),  # 106
    ('mirror', 1, (184, 0, 255)),  # 107
    ('flower_pot_or_vase', 1, (255, 0, 31)),  # 108
    ('clock', 1, (0, 184, 255)),  # 109
    ('book', 0, (0, 214, 255)),  # 110
    ('tool', 0, (255, 0, 112)),  # 111
    ('blackboard', 0, (92, 255, 0)),  # 112
    ('tissue', 0, (0, 224, 255)),  # 113
    ('screen_or_television', 1, (112, 224, 255)),  # 114
    ('computer', 1, (70, 184, 160)),  # 115
    ('printer', 1, (163, 0, 255)),  # 116
    ('Mobile_phone', 1, (153, 0, 255)),  # 117
    ('keyboard', 1, (71, 255, 0)),  # 118
    ('other_electronic_product', 0, (255, 0, 163)),  # 119
    ('fruit', 0, (255, 204, 0)),  # 120
    ('food', 0, (255, 0, 143)),  # 121
    ('instrument', 1, (0, 255, 235)),  # 122
    ('train', 1, (133, 255, 0)),  # 123
)

#: The official categories: dicts with ``id``, ``name``, ``isthing``,
#: ``color`` (RGB), as in ``panoVIPSeg_categories.json``.
VIPSEG_CATEGORIES: List[Dict] = [
    dict(id=i, name=name, isthing=isthing, color=list(color))
    for i, (name, isthing, color) in enumerate(_TABLE)
]
VIPSEG_NUM_CLASSES = 124
VIPSEG_THING_IDS: Tuple[int, ...] = tuple(
    c['id'] for c in VIPSEG_CATEGORIES if c['isthing'])
VIPSEG_STUFF_IDS: Tuple[int, ...] = tuple(
    c['id'] for c in VIPSEG_CATEGORIES if not c['isthing'])
#: Category value used for void pixels in decoded maps.
VIPSEG_IGNORE = 255
#: Raw values at or above this are ``(category + 1) * 100 + instance``.
VIPSEG_THING_THRESHOLD = 125


def vipseg_category(values: np.ndarray) -> np.ndarray:
    """Category id (int64) of raw panomask values: ``v - 1`` below
    :data:`VIPSEG_THING_THRESHOLD`, else ``v // 100 - 1``; void (0) gives -1.
    The one place the official value rule is written down."""
    v = np.asarray(values).astype(np.int64)
    return np.where(v >= VIPSEG_THING_THRESHOLD, v // 100, v) - 1


def decode_vipseg(panomask: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Raw panomask -> (category, instance), as the official conversion does.

    ``category`` is int32 with category ids 0..123 and ``VIPSEG_IGNORE``
    (255) on void; ``instance`` is int32, ``v % 100`` for values >= 125 and
    -1 elsewhere (stuff, unsplit things and void have no instance number;
    note that 0 is a valid instance number in VIPSeg).
    """
    v = np.asarray(panomask)
    if v.ndim != 2:
        raise ValueError(f'expected a single-channel panomask, got shape '
                         f'{v.shape}')
    v = v.astype(np.int64)
    if v.size and v.min() < 0:
        raise ValueError('VIPSeg panomask values must be >= 0')
    category = np.where(v == 0, VIPSEG_IGNORE,
                        vipseg_category(v)).astype(np.int32)
    instance = np.where(v >= VIPSEG_THING_THRESHOLD, v % 100,
                        -1).astype(np.int32)
    return category, instance


def encode_vipseg(category: np.ndarray, instance: np.ndarray) -> np.ndarray:
    """Inverse of :func:`decode_vipseg`: -> uint16 raw panomask.

    ``category`` 255 is void (0); an ``instance`` of -1 writes the category
    value ``category + 1`` (stuff); ``instance`` 0..99 writes
    ``(category + 1) * 100 + instance`` (only for categories >= 1 so that
    the value is >= 125).
    """
    category = np.asarray(category).astype(np.int64)
    instance = np.asarray(instance).astype(np.int64)
    if category.shape != instance.shape:
        raise ValueError(f'category {category.shape} and instance '
                         f'{instance.shape} maps differ in shape')
    void = category == VIPSEG_IGNORE
    if ((category[~void] < 0) | (category[~void] >= VIPSEG_NUM_CLASSES)).any():
        raise ValueError('VIPSeg category ids must lie in 0..123 or be 255')
    inst = ~void & (instance >= 0)
    if (instance[inst] > 99).any():
        raise ValueError('VIPSeg instance numbers must lie in 0..99')
    if (category[inst] < 1).any():
        raise ValueError('category 0 cannot carry an instance number')
    raw = np.where(inst, (category + 1) * 100 + instance, category + 1)
    return np.where(void, 0, raw).astype(np.uint16)


def vipseg_segments(panomask: np.ndarray) -> Dict[int, int]:
    """raw value -> category id for every non-void segment of a frame."""
    values = np.unique(np.asarray(panomask))
    values = values[values > 0].astype(np.int64)
    return {int(v): int(c) for v, c in zip(values, vipseg_category(values))}
