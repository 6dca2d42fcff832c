#!/usr/bin/env python
"""Build Video K-Net's KITTI-STEP layout from the official download.

Reads (never moves or changes):
    SRC/training/image_02/{seq:04d}/{frame:06d}.png
    SRC/panoptic_maps/{train,val}/{seq:04d}/{frame:06d}.png
    SRC/testing/image_02/{seq:04d}/{frame:06d}.png      (optional)
Writes:
    DST/video_sequence/{train,val,test}/{seq:06d}_{frame:06d}_leftImg8bit.png
    DST/video_sequence/{train,val}/{seq:06d}_{frame:06d}_panoptic.png

Splits are the official ones (train 0,1,3,4,5,9,11,12,15,17,19,20; val
2,6,7,8,10,13,14,16,18; test = every sequence of testing/). Files are linked
(``--mode link``, symlinks to the source) or copied (``--mode copy``), each
through a temporary name and an atomic rename; running again only fills in
what is missing.

Example:
    python scripts/kitti_step_prepare.py --src /datasets/kitti_step --dst data/kitti-step
"""
import argparse
import os.path as osp
import sys
from pathlib import Path
from typing import Dict, List, Optional, Tuple

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from knet.formats.io import DataError, link_or_copy  # noqa: E402
from knet.formats.kitti_step import KITTI_STEP_SPLITS  # noqa: E402
from knet.utils.cli import ArgumentParser, run_cli  # noqa: E402


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = ArgumentParser(
        description='Build data/kitti-step/video_sequence from the official '
        'KITTI-STEP download (the source is only read).')
    parser.add_argument('--src', required=True, path='in-tree',
                        help='official root with training/, panoptic_maps/ '
                        'and optionally testing/')
    parser.add_argument('--dst', default='data/kitti-step', path='out-dir',
                        help='output root (default: data/kitti-step)')
    parser.add_argument('--mode', choices=('link', 'copy'), default='copy',
                        help='symlink or copy the files (default: copy)')
    return parser.parse_args(argv)


def _frames(folder: Path) -> Dict[int, Path]:
    """frame number -> file for the ``{frame:06d}.png`` files of a folder."""
    frames = {}
    for p in folder.iterdir():
        if p.suffix == '.png' and p.stem.isdigit():
            frames[int(p.stem)] = p
    return frames


def plan(src: Path) -> List[Tuple[Path, str, int, int, str]]:
    """(source file, split, sequence, frame, kind) for every output file.

    Raises DataError naming the first missing or unmatched file.
    """
    images = src / 'training' / 'image_02'
    if not images.is_dir():
        raise DataError(f'{images}: missing; --src must be the official '
                        'KITTI-STEP root (training/image_02, panoptic_maps)')
    jobs = []
    seqs = sorted(int(p.name) for p in images.iterdir()
                  if p.is_dir() and p.name.isdigit())
    if not seqs:
        raise DataError(f'{images}: no sequence folders (0000, 0001, ...)')
    for seq in seqs:
        split = next((s for s, ids in KITTI_STEP_SPLITS.items()
                      if seq in ids), None)
        if split is None:
            raise DataError(f'{images / f"{seq:04d}"}: not an official '
                            'KITTI-STEP training sequence (0..20)')
        labels = src / 'panoptic_maps' / split / f'{seq:04d}'
        if not labels.is_dir():
            raise DataError(f'{labels}: missing panoptic maps of the {split} '
                            f'sequence {seq:04d}')
        img_frames, lab_frames = _frames(images / f'{seq:04d}'), \
            _frames(labels)
        for t in sorted(set(img_frames) ^ set(lab_frames)):
            where = labels if t in img_frames else images / f'{seq:04d}'
            raise DataError(f'{where / f"{t:06d}.png"}: missing (frames of '
                            'images and panoptic maps differ)')
        for t in sorted(img_frames):
            jobs.append((img_frames[t], split, seq, t, 'leftImg8bit'))
            jobs.append((lab_frames[t], split, seq, t, 'panoptic'))
    test = src / 'testing' / 'image_02'
    if test.is_dir():
        for seq_dir in sorted(p for p in test.iterdir()
                              if p.is_dir() and p.name.isdigit()):
            for t, path in sorted(_frames(seq_dir).items()):
                jobs.append((path, 'test', int(seq_dir.name), t,
                             'leftImg8bit'))
    else:
        print(f'warning: {test} not found; no test split written',
              file=sys.stderr)
    return jobs


def main(argv: Optional[List[str]] = None) -> int:
    from tqdm import tqdm
    args = parse_args(argv)
    # the parser checked --src (a folder, read only) and --dst (outside it)
    src, dst = Path(args.src).resolve(), Path(args.dst).resolve()
    jobs = plan(src)
    root = dst / 'video_sequence'
    written = 0
    for path, split, seq, t, kind in tqdm(jobs, desc='kitti-step',
                                          unit='file'):
        out = root / split / f'{seq:06d}_{t:06d}_{kind}.png'
        written += link_or_copy(path, out, args.mode)
    counts = {s: sum(1 for j in jobs if j[1] == s and j[4] == 'leftImg8bit')
              for s in ('train', 'val', 'test')}
    print(f'{root}: train {counts["train"]}, val {counts["val"]}, test '
          f'{counts["test"]} frames ({written} files written, '
          f'{len(jobs) - written} already there)')
    return 0


if __name__ == '__main__':
    sys.exit(run_cli(main))
