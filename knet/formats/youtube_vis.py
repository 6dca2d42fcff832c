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
from typing import Dict, List, Optional, Sequence

__all__ = [
    'YTVIS_2019_CLASSES', 'YTVIS_2021_CLASSES', 'ytvis_classes',
    'ytvis_categories', 'validate_ytvis_official', 'validate_ytvis_results',
    'validate_coco_video'
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


# --------------------------------------------------------------------------
# schema checks (the boundary of every reader of these files)
# --------------------------------------------------------------------------
def _categories(v, data: dict) -> Dict[int, int]:
    cats = v.array(data['categories'], 'categories')
    ids = v.unique(cats, 'id', 'categories', lo=0)
    for i, c in enumerate(cats):
        v.string(c.get('name'), f'categories[{i}].name')
    return ids


def _first_duplicate(names: Sequence) -> Optional[int]:
    seen = set()
    for i, n in enumerate(names):
        if n in seen:
            return i
        seen.add(n)
    return None


def validate_ytvis_official(data, path) -> Dict[int, tuple]:
    """Check an official YouTube-VIS JSON (``train.json`` / ``valid.json``)
    and return {video id: (height, width, frames)}.

    Videos: unique integer ids, positive sizes, a non-empty list of distinct
    frame names (``length``, when given, equal to its length). Annotations
    (optional: ``null`` or missing in valid/test files): unique ids, a known
    video and category, one ``segmentations`` entry per frame (null, or an
    RLE of the video's size whose counts cover the frame, or polygons) and,
    when present, as many ``bboxes`` ([x, y, w, h] or null) and ``areas``;
    a frame with a box has a mask and an area.
    """
    from .validation import Validator
    v = Validator(path)
    v.mapping(data, '', ('videos', 'categories'))
    cat_ids = _categories(v, data)
    videos = v.array(data['videos'], 'videos')
    v.unique(videos, 'id', 'videos')
    sizes: Dict[int, tuple] = {}
    for i, video in enumerate(videos):
        at = f'videos[{i}]'
        v.mapping(video, at, ('file_names', 'height', 'width'))
        h = v.integer(video['height'], f'{at}.height', lo=1)
        w = v.integer(video['width'], f'{at}.width', lo=1)
        names = v.array(video['file_names'], f'{at}.file_names', min_len=1)
        for j, name in enumerate(names):
            v.string(name, f'{at}.file_names[{j}]')
        dup = _first_duplicate(names)
        if dup is not None:
            raise v.fail(f'{at}.file_names[{dup}]', f'frame {names[dup]!r} '
                         'is listed twice')
        if video.get('length') is not None and \
                v.integer(video['length'], f'{at}.length') != len(names):
            raise v.fail(f'{at}.length', f'is {video["length"]} but the '
                         f'video lists {len(names)} file_names')
        sizes[video['id']] = (h, w, len(names))
    anns = data.get('annotations')
    if anns is None:
        return sizes
    v.array(anns, 'annotations')
    v.unique(anns, 'id', 'annotations')
    rles = []
    for i, a in enumerate(anns):
        at = f'annotations[{i}]'
        v.mapping(a, at, ('video_id', 'category_id', 'segmentations'))
        vid = v.known(a['video_id'], sizes, f'{at}.video_id', 'video id')
        v.known(v.integer(a['category_id'], f'{at}.category_id'), cat_ids,
                f'{at}.category_id', 'category id')
        if a.get('iscrowd') is not None:
            v.one_of(a['iscrowd'], f'{at}.iscrowd', (0, 1))
        h, w, n = sizes[vid]
        segs = v.array(a['segmentations'], f'{at}.segmentations', length=n)
        boxes = v.array(a['bboxes'], f'{at}.bboxes', length=n) \
            if a.get('bboxes') is not None else [None] * n
        areas = v.array(a['areas'], f'{at}.areas', length=n) \
            if a.get('areas') is not None else [None] * n
        for t, (seg, box, area) in enumerate(zip(segs, boxes, areas)):
            if seg is not None:
                where = f'{at}.segmentations[{t}]'
                v.segmentation(seg, where, h, w, check_counts=False)
                if isinstance(seg, dict):
                    rles.append((where, seg))
            if box is not None:
                v.bbox(box, f'{at}.bboxes[{t}]')
                if seg is None or (a.get('areas') is not None and
                                   area is None):
                    raise v.fail(f'{at}', f'frame {t} has a box but no '
                                 'mask or area')
            if area is not None:
                v.number(area, f'{at}.areas[{t}]', lo=0)
    v.rles(rles)
    return sizes


def validate_ytvis_results(results, sizes: Dict[int, tuple],
                           category_ids, path) -> None:
    """Check a YouTube-VIS result list (``results.json``) against the
    videos of the ground truth (``sizes`` as returned by
    :func:`validate_ytvis_official`): every entry has a known ``video_id``
    and ``category_id``, a finite ``score`` and exactly one
    ``segmentations`` entry per frame (a shorter list silently inflates IoU
    in the official evaluator), each null or an RLE of the video's size
    whose counts cover the frame (invalid counts make the evaluator loop
    for minutes)."""
    from .validation import Validator
    v = Validator(path)
    v.array(results, '')
    category_ids = set(category_ids)
    rles = []
    for i, r in enumerate(results):
        at = f'result {i}'
        v.mapping(r, at, ('video_id', 'category_id', 'score',
                          'segmentations'))
        vid = v.known(r['video_id'], sizes, f'{at}.video_id', 'video id')
        v.known(v.integer(r['category_id'], f'{at}.category_id'),
                category_ids, f'{at}.category_id', 'category id')
        v.number(r['score'], f'{at}.score')
        h, w, n = sizes[vid]
        segs = r['segmentations']
        if isinstance(segs, list) and len(segs) != n:
            raise v.fail(f'{at}.segmentations', f'has {len(segs)} entries '
                         f'for the {n} frames of video {vid}')
        v.array(segs, f'{at}.segmentations', length=n)
        for t, seg in enumerate(segs):
            if seg is not None:
                where = f'{at}.segmentations[{t}]'
                v.rle(seg, where, h, w, check_counts=False)
                rles.append((where, seg))
    v.rles(rles)


def validate_coco_video(data, path) -> None:
    """Check a COCO-video JSON (``youtube_vis_{version}_{split}.json``):
    unique video, image and annotation ids; every image in a known video
    with an integer ``frame_id``, a file name and a positive size; frame
    ids of a video numbered 0..n-1; every annotation on a known image of its
    video, with a known category, an integer ``instance_id``, a box and a
    mask of the image's size."""
    from .validation import Validator
    v = Validator(path)
    v.mapping(data, '', ('videos', 'images', 'categories'))
    cat_ids = _categories(v, data)
    videos = v.unique(v.array(data['videos'], 'videos'), 'id', 'videos')
    images = v.array(data['images'], 'images')
    image_ids = v.unique(images, 'id', 'images')
    frames: Dict[int, List[int]] = {}
    for i, im in enumerate(images):
        at = f'images[{i}]'
        v.mapping(im, at, ('video_id', 'frame_id', 'file_name', 'height',
                           'width'))
        vid = v.known(im['video_id'], videos, f'{at}.video_id', 'video id')
        frames.setdefault(vid, []).append(
            v.integer(im['frame_id'], f'{at}.frame_id', lo=0))
        v.string(im['file_name'], f'{at}.file_name')
        v.integer(im['height'], f'{at}.height', lo=1)
        v.integer(im['width'], f'{at}.width', lo=1)
    for vid, ids in frames.items():
        if sorted(ids) != list(range(len(ids))):
            raise v.fail(f'videos[{videos[vid]}]', f'video {vid}: frame_id '
                         'values are not 0..n-1')
    anns = data.get('annotations')
    if anns is None:
        return
    v.array(anns, 'annotations')
    v.unique(anns, 'id', 'annotations')
    rles = []
    for i, a in enumerate(anns):
        at = f'annotations[{i}]'
        v.mapping(a, at, ('image_id', 'category_id', 'bbox',
                          'segmentation'))
        v.known(a['image_id'], image_ids, f'{at}.image_id', 'image id')
        im = images[image_ids[a['image_id']]]
        if a.get('video_id') is not None and a['video_id'] != im['video_id']:
            raise v.fail(f'{at}.video_id', f'is {a["video_id"]}, its image '
                         f'belongs to video {im["video_id"]}')
        v.known(v.integer(a['category_id'], f'{at}.category_id'), cat_ids,
                f'{at}.category_id', 'category id')
        if a.get('instance_id') is not None:
            v.integer(a['instance_id'], f'{at}.instance_id')
        if a.get('iscrowd') is not None:
            v.one_of(a['iscrowd'], f'{at}.iscrowd', (0, 1))
        v.bbox(a['bbox'], f'{at}.bbox')
        seg = v.segmentation(a['segmentation'], f'{at}.segmentation',
                             im['height'], im['width'], check_counts=False)
        if isinstance(seg, dict):
            rles.append((f'{at}.segmentation', seg))
    v.rles(rles)
