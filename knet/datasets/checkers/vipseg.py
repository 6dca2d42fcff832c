"""VIPSeg layout check (720p layout of ``data/VIPSeg``).

Checked: ``images/``, ``panomasks/``, ``train.txt`` / ``val.txt`` (and
``test.txt``: each lists at least one video, each video once), every listed
video folder, a panomask for every frame of a
train / val video (and no mask without its frame); decoded (a sample, all
with ``full``): images, single-channel integer panomasks of the image's
size whose values decode to a category 0..123 (a warning when a stuff
category carries an instance number). Warns when frames are not 720
pixels high or the VPQ files (panomasksRGB, panoptic JSON) are missing.
"""
from pathlib import Path

import numpy as np

from knet.formats.io import DataError, read_name_list
from knet.formats.vipseg import (VIPSEG_NUM_CLASSES, VIPSEG_THING_IDS,
                                 VIPSEG_THING_THRESHOLD, vipseg_category)

from .base import CheckReport, register_checker
from ._util import decode, pick, short

__all__ = ['check_vipseg']


def _fix(root) -> str:
    return (f'python tools/dataset/vipseg_prepare.py --src <official VIPSeg '
            f'root> --dst {root}')


def illegal_vipseg_values(values: np.ndarray):
    """(illegal, odd) raw values: illegal ones decode to no category
    (category > 123); odd ones give a stuff category an instance number."""
    v = np.unique(np.asarray(values).astype(np.int64))
    high = v >= VIPSEG_THING_THRESHOLD
    cat = vipseg_category(v)
    bad = (v < 0) | (cat >= VIPSEG_NUM_CLASSES)
    odd = ~bad & high & ~np.isin(cat, VIPSEG_THING_IDS)
    return [int(x) for x in v[bad]], [int(x) for x in v[odd]]


@register_checker('vipseg')
def check_vipseg(root, report: CheckReport, full: bool = False,
                 sample: int = 20) -> None:
    root = Path(root)
    images = root / 'images'
    if not images.is_dir():
        if (root / 'imgs').is_dir():
            report.error(root, 'this is the original download (imgs/), not '
                         'the 720p layout',
                         f'python tools/dataset/vipseg_prepare.py --src '
                         f'{root} --dst data/VIPSeg')
        else:
            report.error(images, 'missing', _fix(root))
        return
    if not (root / 'panomasks').is_dir():
        report.error(root / 'panomasks', 'missing', _fix(root))
        return
    for split in ('train', 'val', 'test'):
        path = root / f'{split}.txt'
        if not path.is_file():
            if split == 'test':
                report.warn(path, 'missing (no test split)')
            else:
                report.error(path, 'missing split file', _fix(root))
            continue
        try:
            names = read_name_list(path, 'video')
        except DataError as e:  # a duplicate, a path, not text
            where, _, message = str(e).partition(': ')
            report.error(where, message)
            continue
        if not names:
            report.error(path, 'lists no video', _fix(root))
            continue
        report.count(split, 'videos', len(names))
        labelled = split != 'test'
        frames = []
        for name in names:
            vdir = images / name
            if not vdir.is_dir():
                report.error(vdir, f'missing (listed in {split}.txt)',
                             _fix(root))
                continue
            stems = sorted(p.stem for p in vdir.glob('*.jpg'))
            if not stems:
                report.error(vdir, 'no .jpg frames', _fix(root))
            report.count(split, 'frames', len(stems))
            if not labelled:
                frames += [(vdir / f'{s}.jpg', None) for s in stems]
                continue
            mdir = root / 'panomasks' / name
            masks = {p.stem for p in mdir.glob('*.png')} \
                if mdir.is_dir() else set()
            for s in stems:
                if s not in masks:
                    report.error(mdir / f'{s}.png', 'missing panomask of '
                                 f'{vdir / (s + ".jpg")}', _fix(root))
            for s in sorted(masks - set(stems)):
                report.error(vdir / f'{s}.jpg', f'missing (its panomask '
                             f'{mdir / (s + ".png")} exists)', _fix(root))
            frames += [(vdir / f'{s}.jpg', mdir / f'{s}.png')
                       for s in stems if s in masks]
        not_720 = []
        for img_path, mask_path in pick(frames, sample, full):
            _check_frame(img_path, mask_path, report, not_720)
        if not_720:
            report.warn(not_720[0], f'{len(not_720)} decoded {split} frame(s) '
                        'are not 720 pixels high (not the 720p version; '
                        'fine for tests)', _fix(root))
    if not (root / 'panomasksRGB').is_dir() or \
            not (root / 'panoptic_gt_VIPSeg_val.json').is_file():
        report.warn(root / 'panomasksRGB', 'missing VPQ files (panomasksRGB/,'
                    ' panoptic_gt_VIPSeg_val.json) used by the official VPQ '
                    'script; tools/eval_vps.py does not need them',
                    _fix(root))


def _check_frame(img_path: Path, mask_path, report: CheckReport,
                 not_720: list) -> None:
    img = decode(img_path, report)
    if img is not None:
        if img.ndim != 3:
            report.error(img_path, f'not an RGB image (shape {img.shape})')
        elif img.shape[0] != 720:
            not_720.append(img_path)
    if mask_path is None:
        return
    mask = decode(mask_path, report)
    if mask is None:
        return
    if mask.ndim != 2 or mask.dtype.kind not in 'iu':
        report.error(mask_path, 'a panomask must be a single-channel '
                     f'integer PNG, got shape {mask.shape} {mask.dtype}')
        return
    if img is not None and img.shape[:2] != mask.shape:
        report.error(mask_path, f'size {mask.shape[1]}x{mask.shape[0]} '
                     f'differs from its image ({img.shape[1]}x'
                     f'{img.shape[0]})')
    bad, odd = illegal_vipseg_values(mask)
    if bad:
        report.error(mask_path, f'illegal panomask value(s) {short(bad)} '
                     '(legal: 0 void, 1..124 category + 1, (category + 1) * '
                     '100 + instance, categories 0..123)')
    if odd:
        report.warn(mask_path, f'value(s) {short(odd)} give a stuff category '
                    'an instance number')
