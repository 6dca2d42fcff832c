"""COCO panoptic layout check (Detectron2 / mmdet layout of ``data/coco``).

Checked per split (train2017, val2017): ``annotations/panoptic_{split}.json``
(and ``instances_{split}.json``, a warning when missing), the image folder
``{split}/`` and the panoptic PNG folder (``panoptic_{split}/`` as in
Detectron2, or ``annotations/panoptic_{split}/`` as in mmdet's configs),
an image and a PNG for every annotation, the JSON's schema
(:func:`~knet.formats.coco_panoptic.validate_panoptic_json`); decoded (a
sample, all with ``full``): PNGs of the image's size whose segment ids are
all listed in ``segments_info``, with categories from the JSON's category
list.
"""
from pathlib import Path

import numpy as np

from knet.formats.coco_panoptic import validate_panoptic_json
from knet.formats.io import DataError
from knet.formats.panopticapi import rgb2id

from .base import CheckReport, register_checker
from ._util import decode, load_json, pick, short

__all__ = ['check_coco']

_FIX = ('download COCO 2017 images and panoptic annotations '
        '(panoptic_annotations_trainval2017.zip) and unzip them into {root}')


@register_checker('coco', 'coco_panoptic')
def check_coco(root, report: CheckReport, full: bool = False,
               sample: int = 20) -> None:
    root = Path(root)
    fix = _FIX.format(root=root)
    for split in ('train2017', 'val2017'):
        data = load_json(root / 'annotations' / f'panoptic_{split}.json',
                         report, fix)
        if not (root / 'annotations' / f'instances_{split}.json').is_file():
            report.warn(root / 'annotations' / f'instances_{split}.json',
                        'missing (needed for instance pre-training only)')
        img_dir = root / split
        if not img_dir.is_dir():
            report.error(img_dir, 'missing', fix)
        pan_dir = next((d for d in (root / f'panoptic_{split}',
                                    root / 'annotations' / f'panoptic_{split}')
                        if d.is_dir()), None)
        if pan_dir is None:
            report.error(root / f'panoptic_{split}', 'missing panoptic PNG '
                         'folder (also looked in annotations/)', fix)
        if data is None or pan_dir is None or not img_dir.is_dir():
            continue
        try:
            validate_panoptic_json(data, root / 'annotations' /
                                   f'panoptic_{split}.json')
        except DataError as e:
            where, _, message = str(e).partition(': ')
            report.error(where, message, fix)
            continue
        images = {im['id']: im for im in data.get('images', [])}
        cats = {c['id'] for c in data.get('categories', [])}
        anns = data.get('annotations', [])
        report.count(split, 'images', len(images))
        report.count(split, 'annotations', len(anns))
        usable = []
        for a in anns:
            im = images.get(a.get('image_id'))
            if im is None:
                report.error(root / 'annotations' / f'panoptic_{split}.json',
                             'annotation of unknown image '
                             f'{a.get("image_id")}')
                continue
            missing = [p for p in (img_dir / im['file_name'],
                                   pan_dir / a['file_name'])
                       if not p.is_file()]
            for p in missing:
                report.error(p, f'missing (listed in panoptic_{split}.json)',
                             fix)
            if not missing:
                usable.append((im, a))
        for im, a in pick(usable, sample, full):
            _check(img_dir / im['file_name'], pan_dir / a['file_name'], im, a,
                   cats, report)


def _check(img_path, png_path, im, ann, cats, report: CheckReport) -> None:
    img = decode(img_path, report)
    png = decode(png_path, report)
    if png is None:
        return
    if png.ndim != 3 or png.shape[2] != 3:
        report.error(png_path, f'a panoptic PNG must be RGB, got shape '
                     f'{png.shape}')
        return
    if png.shape[:2] != (im['height'], im['width']) or \
            (img is not None and img.shape[:2] != png.shape[:2]):
        report.error(png_path, f'size {png.shape[1]}x{png.shape[0]} differs '
                     f'from its image ({im["width"]}x{im["height"]})')
    ids = np.unique(rgb2id(png))
    segs = {s['id']: s for s in ann.get('segments_info', [])}
    unknown = [int(i) for i in ids if i != 0 and int(i) not in segs]
    if unknown:
        report.error(png_path, f'segment id(s) {short(unknown)} not in '
                     'segments_info')
    bad = sorted({s['category_id'] for s in segs.values()} - cats)
    if bad:
        report.error(png_path, f'illegal category id(s) {short(bad)}')
