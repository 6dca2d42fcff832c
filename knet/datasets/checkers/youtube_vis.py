"""YouTube-VIS layout check (``data/youtube_vis_{2019,2021}``).

Checked: the converted ``annotations/youtube_vis_{version}_{split}.json``
(train required, valid optional) against ``{split}/JPEGImages/``: the
categories are the version's 40 classes, the JSON's schema
(:func:`~knet.formats.youtube_vis.validate_coco_video`: unique ids, frames
of a video numbered 0.. without gaps, annotations on known images with known
categories, masks of the image's size), every image of every video exists;
decoded (a sample, all with ``full``): the frames, and the masks whose size
must match the image.
"""
from pathlib import Path

from knet.formats.coco_mask import rle_to_mask
from knet.formats.io import DataError
from knet.formats.youtube_vis import validate_coco_video, ytvis_classes

from .base import CheckReport, register_checker
from ._util import decode, load_json, pick

__all__ = ['check_youtube_vis_2019', 'check_youtube_vis_2021']


def _fix(root, version) -> str:
    return (f'python tools/dataset/youtubevis2coco.py -i <folder with the '
            f'official train.json/valid.json> -o {root}/annotations '
            f'--version {version}')


def _check(version: str, root, report: CheckReport, full: bool,
           sample: int) -> None:
    root = Path(root)
    classes = list(ytvis_classes(version))
    for split in ('train', 'valid'):
        path = root / 'annotations' / f'youtube_vis_{version}_{split}.json'
        if not path.is_file():
            raw = [p for p in (root / 'annotations' / f'{split}.json',
                               root / split / 'instances.json')
                   if p.is_file()]
            msg = 'missing' + (f' (the official {raw[0]} is there: convert '
                               'it)' if raw else '')
            if split == 'train':
                report.error(path, msg, _fix(root, version))
            else:
                report.warn(path, msg, _fix(root, version))
            continue
        data = load_json(path, report, _fix(root, version))
        if data is None:
            continue
        try:
            validate_coco_video(data, path)
        except DataError as e:
            where, _, message = str(e).partition(': ')
            report.error(where, message, _fix(root, version))
            continue
        cats = sorted(data['categories'], key=lambda c: c['id'])
        names = [c.get('name') for c in cats]
        if names != classes:
            report.error(path, f'categories are not the YouTube-VIS {version}'
                         ' classes (wrong --version?)', _fix(root, version))
        img_dir = root / split / 'JPEGImages'
        if not img_dir.is_dir():
            report.error(img_dir, 'missing (frames of the '
                         f'{split} split)')
            continue
        report.count(split, 'videos', len(data['videos']))
        report.count(split, 'frames', len(data['images']))
        report.count(split, 'annotations', len(data.get('annotations', [])))
        images = {im['id']: im for im in data['images']}
        for im in data['images']:
            if not (img_dir / im['file_name']).is_file():
                report.error(img_dir / im['file_name'], 'missing (listed in '
                             f'{path.name})')
        anns = data.get('annotations') or []
        decoded = set()
        for im in pick(data['images'], sample, full):
            p = img_dir / im['file_name']
            if p.is_file():
                arr = decode(p, report)
                decoded.add(im['id'])
                if arr is not None and arr.shape[:2] != (im['height'],
                                                         im['width']):
                    report.error(p, f'size {arr.shape[1]}x{arr.shape[0]} '
                                 f'differs from the JSON '
                                 f'({im["width"]}x{im["height"]})')
        for a in anns:
            im = images.get(a.get('image_id'))
            if im is None or (not full and a['image_id'] not in decoded):
                continue
            try:
                m = rle_to_mask(a['segmentation'], im['height'], im['width'])
                if m.shape != (im['height'], im['width']):
                    raise ValueError(f'mask size {m.shape}')
            except Exception as e:
                report.error(path, f'annotation {a.get("id")}: undecodable '
                             f'segmentation ({" ".join(str(e).split())})')


@register_checker('youtube_vis_2019')
def check_youtube_vis_2019(root, report, full=False, sample=20):
    _check('2019', root, report, full, sample)


@register_checker('youtube_vis_2021')
def check_youtube_vis_2021(root, report, full=False, sample=20):
    _check('2021', root, report, full, sample)
