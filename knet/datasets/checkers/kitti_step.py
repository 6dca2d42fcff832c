"""KITTI-STEP layout check (``data/kitti-step/video_sequence/...``).

Checked: the ``train`` / ``val`` (and optional ``test``) folders, file names
``{seq:06d}_{frame:06d}_{leftImg8bit,panoptic}.png``, an image for every
panoptic map and the reverse, frames numbered without gaps, sequences in
their official split; decoded (a sample, all with ``full``): images are RGB,
panoptic maps RGB of the same size with R in 0..18 or 255 and instance ids
only on person (11) and car (13).
"""
import re
from pathlib import Path

import numpy as np

from knet.formats.kitti_step import (KITTI_STEP_IGNORE, KITTI_STEP_NUM_CLASSES,
                                     KITTI_STEP_SPLITS, KITTI_STEP_THING_IDS,
                                     decode_kitti_step)
from .base import CheckReport, register_checker
from ._util import decode, illegal, pick, short

__all__ = ['check_kitti_step']

_NAME = re.compile(r'^(\d{6})_(\d{6})_(leftImg8bit|panoptic)\.png$')
LEGAL_SEMANTIC = list(range(KITTI_STEP_NUM_CLASSES)) + [KITTI_STEP_IGNORE]


def _fix(root) -> str:
    return (f'python scripts/kitti_step_prepare.py --src <official '
            f'KITTI-STEP root> --dst {root}')


@register_checker('kitti-step', 'kitti_step')
def check_kitti_step(root, report: CheckReport, full: bool = False,
                     sample: int = 20) -> None:
    root = Path(root)
    vs = root / 'video_sequence'
    if not vs.is_dir():
        if (root / 'training' / 'image_02').is_dir():
            report.error(root, 'this is the official download layout, not '
                         'the prepared video_sequence/ layout',
                         f'python scripts/kitti_step_prepare.py --src {root} '
                         '--dst data/kitti-step, then check data/kitti-step')
        else:
            report.error(vs, 'missing', _fix(root))
        return
    for split in ('train', 'val', 'test'):
        folder = vs / split
        if not folder.is_dir():
            if split == 'test':
                report.warn(folder, 'missing (no test split; only needed '
                            'for test-server submissions)', _fix(root))
            else:
                report.error(folder, 'missing', _fix(root))
            continue
        files = {}
        for p in sorted(folder.iterdir()):
            m = _NAME.match(p.name)
            if not m:
                report.warn(p, 'unexpected file (expected {seq:06d}_'
                            '{frame:06d}_{leftImg8bit,panoptic}.png)')
                continue
            files.setdefault((int(m[1]), int(m[2])), {})[m[3]] = p
        seqs = sorted({s for s, _ in files})
        report.count(split, 'sequences', len(seqs))
        report.count(split, 'frames', sum(1 for k in files
                                          if 'leftImg8bit' in files[k]))
        if not files:
            report.error(folder, 'no frames', _fix(root))
            continue
        labelled = split != 'test'
        for seq in seqs:
            if labelled and seq not in KITTI_STEP_SPLITS[split]:
                report.warn(folder / f'{seq:06d}_*', f'sequence {seq} is not '
                            f'an official {split} sequence')
            frames = sorted(t for s, t in files if s == seq)
            for t in sorted(set(range(frames[-1] + 1)) - set(frames)):
                report.error(folder / f'{seq:06d}_{t:06d}_leftImg8bit.png',
                             f'missing (sequence {seq} has frames 0..'
                             f'{frames[-1]} with a gap)', _fix(root))
        for (seq, t), kinds in sorted(files.items()):
            want = ('leftImg8bit', 'panoptic') if labelled else \
                ('leftImg8bit', )
            for kind in want:
                if kind not in kinds:
                    other = next(iter(kinds.values())).name
                    report.error(folder / f'{seq:06d}_{t:06d}_{kind}.png',
                                 f'missing (but {other} exists)', _fix(root))
        for key in pick(sorted(files), sample, full):
            _check_frame(files[key], report, labelled)


def _check_frame(kinds, report: CheckReport, labelled: bool) -> None:
    img = None
    if 'leftImg8bit' in kinds:
        img = decode(kinds['leftImg8bit'], report)
        if img is not None and (img.ndim != 3 or img.shape[2] not in (3, 4)):
            report.error(kinds['leftImg8bit'], f'not an RGB image (shape '
                         f'{img.shape})')
    if not labelled or 'panoptic' not in kinds:
        return
    path = kinds['panoptic']
    pan = decode(path, report)
    if pan is None:
        return
    if pan.ndim != 3 or pan.shape[2] != 3 or pan.dtype != np.uint8:
        report.error(path, f'panoptic map must be 8-bit RGB, got shape '
                     f'{pan.shape} {pan.dtype}')
        return
    if img is not None and img.shape[:2] != pan.shape[:2]:
        report.error(path, f'size {pan.shape[1]}x{pan.shape[0]} differs from '
                     f'its image ({img.shape[1]}x{img.shape[0]})')
    sem, inst = decode_kitti_step(pan)
    bad = illegal(sem, LEGAL_SEMANTIC)
    if bad:
        report.error(path, f'illegal semantic label(s) {short(bad)} in the R '
                     'channel (legal: trainIds 0..18, 255 void)')
    stuff = (inst > 0) & ~np.isin(sem, KITTI_STEP_THING_IDS)
    if stuff.any():
        report.error(path, f'instance ids on non-thing pixels (labels '
                     f'{short(np.unique(sem[stuff]).tolist())}); only person '
                     '(11) and car (13) have instances')
