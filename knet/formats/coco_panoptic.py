"""COCO panoptic categories (panopticapi's ``panoptic_coco_categories.json``).

80 things (ids 1..90) and 53 stuff classes (ids 92..200); the names are
those of mmdet's ``CocoPanopticDataset``. Panoptic PNGs use the
panopticapi RGB encoding (:mod:`knet.formats.panopticapi`).
"""
from typing import Any, Dict, List, Optional

__all__ = ['COCO_PANOPTIC_CATEGORIES', 'COCO_THING_IDS', 'COCO_STUFF_IDS',
           'validate_panoptic_json', 'validate_segments_info',
           'validate_video_panoptic_predictions']

_THINGS = (
    (1, 'person'), (2, 'bicycle'), (3, 'car'), (4, 'motorcycle'),
    (5, 'airplane'), (6, 'bus'), (7, 'train'), (8, 'truck'), (9, 'boat'),
    (10, 'traffic light'), (11, 'fire hydrant'), (13, 'stop sign'),
    (14, 'parking meter'), (15, 'bench'), (16, 'bird'), (17, 'cat'),
    (18, 'dog'), (19, 'horse'), (20, 'sheep'), (21, 'cow'),
    (22, 'elephant'), (23, 'bear'), (24, 'zebra'), (25, 'giraffe'),
    (27, 'backpack'), (28, 'umbrella'), (31, 'handbag'), (32, 'tie'),
    (33, 'suitcase'), (34, 'frisbee'), (35, 'skis'), (36, 'snowboard'),
    (37, 'sports ball'), (38, 'kite'), (39, 'baseball bat'),
    (40, 'baseball glove'), (41, 'skateboard'), (42, 'surfboard'),
    (43, 'tennis racket'), (44, 'bottle'), (46, 'wine glass'), (47, 'cup'),
    (48, 'fork'), (49, 'knife'), (50, 'spoon'), (51, 'bowl'),
    (52, 'banana'), (53, 'apple'), (54, 'sandwich'), (55, 'orange'),
    (56, 'broccoli'), (57, 'carrot'), (58, 'hot dog'), (59, 'pizza'),
    (60, 'donut'), (61, 'cake'), (62, 'chair'), (63, 'couch'),
    (64, 'potted plant'), (65, 'bed'), (67, 'dining table'), (70, 'toilet'),
    (72, 'tv'), (73, 'laptop'), (74, 'mouse'), (75, 'remote'),
    (76, 'keyboard'), (77, 'cell phone'), (78, 'microwave'), (79, 'oven'),
    (80, 'toaster'), (81, 'sink'), (82, 'refrigerator'), (84, 'book'),
    (85, 'clock'), (86, 'vase'), (87, 'scissors'), (88, 'teddy bear'),
    (89, 'hair drier'), (90, 'toothbrush'))
_STUFF = (
    (92, 'banner'), (93, 'blanket'), (95, 'bridge'), (100, 'cardboard'),
    (107, 'counter'), (109, 'curtain'), (112, 'door-stuff'),
    (118, 'floor-wood'), (119, 'flower'), (122, 'fruit'), (125, 'gravel'),
    (128, 'house'), (130, 'light'), (133, 'mirror-stuff'), (138, 'net'),
    (141, 'pillow'), (144, 'platform'), (145, 'playingfield'),
    (147, 'railroad'), (148, 'river'), (149, 'road'), (151, 'roof'),
    (154, 'sand'), (155, 'sea'), (156, 'shelf'), (159, 'snow'),
    (161, 'stairs'), (166, 'tent'), (168, 'towel'), (171, 'wall-brick'),
    (175, 'wall-stone'), (176, 'wall-tile'), (177, 'wall-wood'),
    (178, 'water-other'), (180, 'window-blind'), (181, 'window-other'),
    (184, 'tree-merged'), (185, 'fence-merged'), (186, 'ceiling-merged'),
    (187, 'sky-other-merged'), (188, 'cabinet-merged'),
    (189, 'table-merged'), (190, 'floor-other-merged'),
    (191, 'pavement-merged'), (192, 'mountain-merged'),
    (193, 'grass-merged'), (194, 'dirt-merged'), (195, 'paper-merged'),
    (196, 'food-other-merged'), (197, 'building-other-merged'),
    (198, 'rock-merged'), (199, 'wall-other-merged'), (200, 'rug-merged'))

#: dicts with ``id``, ``name``, ``isthing`` in the official order.
COCO_PANOPTIC_CATEGORIES: List[Dict] = \
    [dict(id=i, name=n, isthing=1) for i, n in _THINGS] + \
    [dict(id=i, name=n, isthing=0) for i, n in _STUFF]
COCO_THING_IDS = tuple(i for i, _ in _THINGS)
COCO_STUFF_IDS = tuple(i for i, _ in _STUFF)


# --------------------------------------------------------------------------
# schema checks of panopticapi JSON files (ground truth and predictions)
# --------------------------------------------------------------------------
def _id_kind(v, value, where: str):
    """Image ids are integers (COCO, Cityscapes-VPS) or strings (VIPSeg)."""
    if isinstance(value, str):
        return v.string(value, where)
    return v.integer(value, where)


def validate_segments_info(v, segments: Any, where: str,
                           categories: Optional[Dict] = None) -> None:
    """Check one frame's ``segments_info`` with the :class:`Validator`
    ``v``: a list of objects with a unique integer ``id`` >= 1 (the RGB id
    of the PNG; 0 is void) and an integer ``category_id`` (one of
    ``categories`` when given); optional ``iscrowd`` 0/1, ``area`` >= 0 and
    ``bbox``."""
    v.array(segments, where)
    v.unique(segments, 'id', where, lo=1)
    for k, seg in enumerate(segments):
        at = f'{where}[{k}]'
        v.mapping(seg, at, ('category_id',))
        cat = v.integer(seg['category_id'], f'{at}.category_id')
        if categories is not None:
            v.known(cat, categories, f'{at}.category_id', 'category id')
        if seg.get('iscrowd') is not None:
            v.one_of(seg['iscrowd'], f'{at}.iscrowd', (0, 1))
        if seg.get('area') is not None:
            v.number(seg['area'], f'{at}.area', lo=0)
        if seg.get('bbox') is not None:
            v.bbox(seg['bbox'], f'{at}.bbox')


def validate_panoptic_json(data: Any, path, predictions: bool = False,
                           categories: Optional[Dict] = None) -> Dict:
    """Check a panopticapi JSON and return {category id: category}.

    Ground truth (``predictions=False``): ``categories`` (unique integer
    ids, a name, ``isthing`` 0/1), ``images`` (unique ids, a file name) and
    ``annotations``, one per image id at most, each naming a known image, a
    PNG ``file_name`` and a valid ``segments_info``. Predictions
    (``pred.json``): only ``annotations`` is required; their categories are
    checked against ``categories`` when given (else the file's own).
    """
    from .validation import Validator
    v = Validator(path)
    v.mapping(data, '', ('annotations',) if predictions else
              ('images', 'annotations', 'categories'))
    if data.get('categories') is not None:
        cats = v.array(data['categories'], 'categories')
        v.unique(cats, 'id', 'categories')
        for i, c in enumerate(cats):
            v.string(c.get('name'), f'categories[{i}].name')
            if c.get('isthing') is not None:
                v.one_of(c['isthing'], f'categories[{i}].isthing', (0, 1))
        own = {c['id']: c for c in cats}
        categories = categories if categories is not None else own
    images = None
    if data.get('images') is not None:
        images = {}
        for i, im in enumerate(v.array(data['images'], 'images')):
            v.mapping(im, f'images[{i}]', ('id', 'file_name'))
            key = _id_kind(v, im['id'], f'images[{i}].id')
            if key in images:
                raise v.fail(f'images[{i}].id', f'duplicate id {key!r} '
                             f'(also images[{images[key]}])')
            images[key] = i
            v.string(im['file_name'], f'images[{i}].file_name')
    seen: Dict[Any, int] = {}
    for i, ann in enumerate(v.array(data['annotations'], 'annotations')):
        at = f'annotations[{i}]'
        v.mapping(ann, at, ('segments_info',) if predictions else
                  ('image_id', 'file_name', 'segments_info'))
        if 'image_id' in ann:
            key = _id_kind(v, ann['image_id'], f'{at}.image_id')
            if key in seen:
                raise v.fail(f'{at}.image_id', f'image {key!r} has two '
                             f'annotations (also annotations[{seen[key]}])')
            seen[key] = i
            if images is not None and not predictions:
                v.known(key, images, f'{at}.image_id', 'image id')
        if 'file_name' in ann:
            v.string(ann['file_name'], f'{at}.file_name')
        validate_segments_info(v, ann['segments_info'], f'{at}.segments_info',
                               categories)
    return categories or {}


def validate_video_panoptic_predictions(data: Any, path,
                                        categories: Optional[Dict] = None
                                        ) -> Dict[str, list]:
    """Check a video panoptic ``pred.json`` (VIPSeg's official layout:
    ``annotations`` = one entry per video with ``video_id`` and its frames'
    ``annotations``, each with ``segments_info``) and return {video id:
    frame annotations}; each video once."""
    from .validation import Validator
    v = Validator(path)
    v.mapping(data, '', ('annotations',))
    videos: Dict[str, list] = {}
    for i, entry in enumerate(v.array(data['annotations'], 'annotations')):
        at = f'annotations[{i}]'
        v.mapping(entry, at, ('video_id', 'annotations'))
        vid = str(_id_kind(v, entry['video_id'], f'{at}.video_id'))
        if vid in videos:
            raise v.fail(f'{at}.video_id', f'video {vid!r} is listed twice')
        frames = v.array(entry['annotations'], f'{at}.annotations')
        for j, frame in enumerate(frames):
            fat = f'{at}.annotations[{j}]'
            v.mapping(frame, fat, ('segments_info',))
            validate_segments_info(v, frame['segments_info'],
                                   f'{fat}.segments_info', categories)
        videos[vid] = frames
    return videos
