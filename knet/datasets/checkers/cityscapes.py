"""Cityscapes layout check (``data/cityscapes`` after cityscapes_prepare).

Checked per split (train, val): ``leftImg8bit/{split}/{city}/`` images, for
each the ``gtFine`` ``labelIds``, ``instanceIds`` and derived
``labelTrainIds`` / ``instanceTrainIds`` maps, and the derived
``annotations/instancesonly_filtered_gtFine_{split}.json``,
``annotations/cityscapes_panoptic_{split}.json`` with
``gtFine/cityscapes_panoptic_{split}/``; decoded (a sample, all with
``full``): label maps of the image's size with legal values (label ids
0..33, trainIds 0..18 / 255, instance ids ``labelId * 1000 + n`` only for
classes with instances).
"""
from pathlib import Path

import numpy as np

from knet.formats.cityscapes import CITYSCAPES_THING_IDS
from knet.formats.cityscapes_labels import CITYSCAPES_LABELS

from .base import CheckReport, register_checker
from ._util import decode, illegal, load_json, pick, short

__all__ = ['check_cityscapes']

LEGAL_LABEL_IDS = sorted(CITYSCAPES_LABELS)
LEGAL_TRAIN_IDS = list(range(19)) + [255]
INSTANCE_LABELS = [i for i, lab in CITYSCAPES_LABELS.items()
                   if lab.has_instances]


def _fix(root) -> str:
    if not (Path(root) / 'annotations').is_dir():  # looks like the download
        return (f'python tools/dataset/cityscapes_prepare.py --src {root} '
                '--dst data/cityscapes, then check data/cityscapes')
    return (f'python tools/dataset/cityscapes_prepare.py --src <official '
            f'Cityscapes root> --dst {root}')


@register_checker('cityscapes')
def check_cityscapes(root, report: CheckReport, full: bool = False,
                     sample: int = 20) -> None:
    root = Path(root)
    for split in ('train', 'val'):
        img_dir = root / 'leftImg8bit' / split
        if not img_dir.is_dir():
            report.error(img_dir, 'missing', _fix(root))
            continue
        images = sorted(img_dir.glob('*/*_leftImg8bit.png'))
        report.count(split, 'images', len(images))
        report.count(split, 'cities', len({p.parent.name for p in images}))
        if not images:
            report.error(img_dir, 'no *_leftImg8bit.png images', _fix(root))
            continue
        complete, derived_missing = [], []
        for img in images:
            stem = root / 'gtFine' / split / img.parent.name / \
                img.name[:-len('_leftImg8bit.png')]
            files = {k: Path(f'{stem}_gtFine_{k}.png') for k in
                     ('labelIds', 'instanceIds', 'labelTrainIds',
                      'instanceTrainIds')}
            ok = True
            for kind, p in files.items():
                if p.is_file():
                    continue
                ok = False
                if 'Train' in kind:
                    derived_missing.append(p)
                else:
                    report.error(p, f'missing (label of {img})')
            if ok:
                complete.append((img, files))
        if len(derived_missing) == 2 * len(images):
            report.error(root / 'gtFine' / split, 'no labelTrainIds / '
                         'instanceTrainIds maps (not prepared yet)',
                         _fix(root))
        else:
            for p in derived_missing:
                report.error(p, 'missing (derived file)', _fix(root))
        for name in (f'instancesonly_filtered_gtFine_{split}.json',
                     f'cityscapes_panoptic_{split}.json'):
            if load_json(root / 'annotations' / name, report,
                         _fix(root)) is None:
                continue
        pan_dir = root / 'gtFine' / f'cityscapes_panoptic_{split}'
        if not pan_dir.is_dir():
            report.error(pan_dir, 'missing panoptic PNGs', _fix(root))
        for img, files in pick(complete, sample, full):
            _check_image(img, files, report)


def _check_image(img_path, files, report: CheckReport) -> None:
    img = decode(img_path, report)
    maps = {k: decode(p, report) for k, p in files.items()}
    for kind, arr in maps.items():
        if arr is None:
            continue
        path = files[kind]
        if arr.ndim != 2:
            report.error(path, f'must be single-channel, got shape '
                         f'{arr.shape}')
            continue
        if img is not None and arr.shape != img.shape[:2]:
            report.error(path, f'size {arr.shape[1]}x{arr.shape[0]} differs '
                         f'from its image ({img.shape[1]}x{img.shape[0]})')
        v = arr.astype(np.int64)
        if kind == 'labelIds':
            bad = illegal(v, LEGAL_LABEL_IDS)
        elif kind == 'labelTrainIds':
            bad = illegal(v, LEGAL_TRAIN_IDS)
        elif kind == 'instanceIds':
            bad = illegal(v[v < 1000], LEGAL_LABEL_IDS) + \
                illegal(v[v >= 1000] // 1000, INSTANCE_LABELS)
        else:
            bad = illegal(v[v < 1000], LEGAL_TRAIN_IDS) + \
                illegal(v[v >= 1000] // 1000, list(CITYSCAPES_THING_IDS))
        if bad:
            report.error(path, f'illegal value(s) {short(bad)} for a '
                         f'{kind} map')
