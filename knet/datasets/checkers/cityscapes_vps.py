"""Cityscapes-VPS layout check (VPSNet's ``data/cityscapes_vps``).

Checked: ``train/img`` with a ``train/labelmap`` map per frame
(``*_leftImg8bit.png`` -> ``*_gtFine_color.png``), ``val/img``,
``val/img_all``, ``val/panoptic_video``, the JSON files
(``instances_train_city_vps_rle.json``, ``panoptic_im_train_city_vps.json``,
``panoptic_gt_val_city_vps.json``; ``im_all_info_val_city_vps.json``
optional), the val JSON's schema, one panoptic PNG per entry of it;
decoded (a sample, all with ``full``): label maps of the image's size,
trainIds 0..18 / 255, panoptic PNG ids all listed in ``segments_info``
with categories 0..18.
Counts videos (the first 4 characters of a name) and frames per split.
"""
from pathlib import Path

import numpy as np

from knet.formats.coco_panoptic import validate_panoptic_json
from knet.formats.io import DataError
from knet.formats.panopticapi import rgb2id

from .base import CheckReport, register_checker
from ._util import decode, illegal, load_json, pick, short

__all__ = ['check_cityscapes_vps']

LEGAL = list(range(19)) + [255]
_FIX = ('download Cityscapes-VPS and run its preparation (see '
        'data/README.md, "Cityscapes-VPS")')


@register_checker('cityscapes_vps', 'cityscapes-vps')
def check_cityscapes_vps(root, report: CheckReport, full: bool = False,
                         sample: int = 20) -> None:
    root = Path(root)
    for name in ('instances_train_city_vps_rle.json',
                 'panoptic_im_train_city_vps.json',
                 'panoptic_gt_val_city_vps.json'):
        if not (root / name).is_file():
            report.error(root / name, 'missing', _FIX)
    if not (root / 'im_all_info_val_city_vps.json').is_file():
        report.warn(root / 'im_all_info_val_city_vps.json',
                    'missing (needed to infer on all val frames)', _FIX)
    # train: frames and semantic label maps
    img_dir, lab_dir = root / 'train' / 'img', root / 'train' / 'labelmap'
    frames = []
    if not img_dir.is_dir() or not lab_dir.is_dir():
        for d in (img_dir, lab_dir):
            if not d.is_dir():
                report.error(d, 'missing', _FIX)
    else:
        images = sorted(img_dir.glob('*_leftImg8bit.png'))
        report.count('train', 'videos', len({p.name[:4] for p in images}))
        report.count('train', 'frames', len(images))
        labels = {p.name for p in lab_dir.glob('*.png')}
        for p in images:
            lab = p.name.replace('leftImg8bit', 'gtFine_color')
            if lab not in labels:
                report.error(lab_dir / lab, f'missing label map of {p.name}',
                             _FIX)
            else:
                frames.append((p, lab_dir / lab, None))
        for lab in sorted(labels):
            img = lab.replace('gtFine_color', 'leftImg8bit')
            if not (img_dir / img).is_file():
                report.error(img_dir / img, f'missing (its label map {lab} '
                             'exists)', _FIX)
    # val: annotated frames + panoptic PNGs listed in the JSON
    val = load_json(root / 'panoptic_gt_val_city_vps.json', report, _FIX) \
        if (root / 'panoptic_gt_val_city_vps.json').is_file() else None
    vimg, vpan = root / 'val' / 'img', root / 'val' / 'panoptic_video'
    for d in (vimg, vpan, root / 'val' / 'img_all'):
        if not d.is_dir():
            report.error(d, 'missing', _FIX)
    if val is not None:
        try:
            validate_panoptic_json(val, root / 'panoptic_gt_val_city_vps.json')
        except DataError as e:
            where, _, message = str(e).partition(': ')
            report.error(where, message, _FIX)
            val = None
    if val is not None and vimg.is_dir() and vpan.is_dir():
        anns = val.get('annotations') or []
        report.count('val', 'videos', len({a['file_name'][:4]
                                           for a in anns}))
        report.count('val', 'frames', len(anns))
        for a in anns:
            pan = vpan / a['file_name']
            img = vimg / a['file_name'].replace('gtFine_color',
                                                'leftImg8bit')
            missing = [p for p in (pan, img) if not p.is_file()]
            for p in missing:
                report.error(p, 'missing (listed in '
                             'panoptic_gt_val_city_vps.json)', _FIX)
            if not missing:
                frames.append((img, pan, a))
    if (root / 'val' / 'img_all').is_dir():
        report.count('val', 'all frames',
                     len(list((root / 'val' / 'img_all').glob('*.png'))))
    for img, lab, ann in pick(frames, sample, full):
        _check_frame(img, lab, ann, report)


def _check_frame(img_path, lab_path, ann, report: CheckReport) -> None:
    img = decode(img_path, report)
    lab = decode(lab_path, report)
    if lab is None:
        return
    if img is not None and lab.shape[:2] != img.shape[:2]:
        report.error(lab_path, f'size {lab.shape[1]}x{lab.shape[0]} differs '
                     f'from its image ({img.shape[1]}x{img.shape[0]})')
    if ann is None:
        if lab.ndim != 2:
            report.error(lab_path, f'a label map must be single-channel, got '
                         f'shape {lab.shape}')
            return
        bad = illegal(lab, LEGAL)
        if bad:
            report.error(lab_path, f'illegal trainId value(s) {short(bad)} '
                         '(legal: 0..18, 255)')
        return
    if lab.ndim != 3 or lab.shape[2] != 3:
        report.error(lab_path, f'a panoptic PNG must be RGB, got shape '
                     f'{lab.shape}')
        return
    ids = np.unique(rgb2id(lab))
    segs = {s['id']: s for s in ann.get('segments_info', [])}
    unknown = [int(i) for i in ids if i != 0 and int(i) not in segs]
    if unknown:
        report.error(lab_path, f'segment id(s) {short(unknown)} not in '
                     'segments_info')
    cats = [s['category_id'] for s in segs.values()
            if s['category_id'] not in LEGAL[:-1]]
    if cats:
        report.error(lab_path, f'illegal category id(s) {short(cats)} '
                     '(legal: 0..18)')
