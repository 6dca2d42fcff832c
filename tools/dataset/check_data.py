#!/usr/bin/env python
"""Check a dataset tree before training: layout, counts, decodable labels.

Compares the tree under ``--root`` with the layout the dataset classes
read, counts sequences / videos / frames per split, decodes a sample of the
files (every file with ``--full``) and checks that label values are legal
for the dataset. Prints what is missing or wrong, each with the file and
the command that fixes it. Exit status 0 only when the tree is usable.

Examples:
    python tools/dataset/check_data.py kitti-step --root data/kitti-step
    python tools/dataset/check_data.py vipseg --root data/VIPSeg --full
"""
import argparse
import os.path as osp
import sys
from pathlib import Path
from typing import List, Optional

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))

from knet.formats.io import DataError  # noqa: E402
from knet.utils.cli import ArgumentParser, int_range, run_cli  # noqa: E402

_DEFAULT_ROOTS = {
    'kitti-step': 'data/kitti-step', 'kitti_step': 'data/kitti-step',
    'vipseg': 'data/VIPSeg', 'youtube_vis_2019': 'data/youtube_vis_2019',
    'youtube_vis_2021': 'data/youtube_vis_2021',
    'cityscapes': 'data/cityscapes', 'cityscapes_vps': 'data/cityscapes_vps',
    'cityscapes-vps': 'data/cityscapes_vps', 'coco': 'data/coco',
    'coco_panoptic': 'data/coco',
}


def _checkers():
    """Load every checker module (a broken one must not hide the others)."""
    from knet.datasets.checkers import base
    from knet.datasets.checkers import load_all  # noqa: F401
    return base.CHECKERS


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = ArgumentParser(
        description='Check a dataset tree: layout, counts per split, '
        'decodable files and legal label values. Exit 0 only when usable.')
    parser.add_argument('dataset', help='kitti-step, vipseg, '
                        'youtube_vis_2019, youtube_vis_2021, cityscapes, '
                        'cityscapes_vps, coco, refcoco, refcoco+, refcocog, '
                        'refclef, ...')
    parser.add_argument('--root', path='in-tree',
                        help='dataset root (default: the usual '
                        'data/<dataset> folder)')
    parser.add_argument('--full', action='store_true',
                        help='decode every file, not a sample')
    parser.add_argument('--sample', type=int_range(1), default=20,
                        help='files decoded per split without --full '
                        '(default: 20)')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    from knet.datasets.checkers.base import CheckReport
    args = parse_args(argv)
    checkers = _checkers()
    if args.dataset not in checkers:
        raise DataError(f'unknown dataset {args.dataset!r}; known: '
                        f'{", ".join(sorted(checkers))}')
    root = Path(args.root or _DEFAULT_ROOTS.get(args.dataset,
                                                f'data/{args.dataset}'))
    report = CheckReport(args.dataset, root)
    if not root.is_dir():
        report.error(root, 'dataset root not found (see data/README.md)')
    else:
        try:
            checkers[args.dataset](root, report, full=args.full,
                                   sample=args.sample)
        except DataError as e:  # a file the checker could not go past
            report.error(root, str(e))
    print(f'{args.dataset} at {root}' + (' (every file decoded)' if args.full
                                         else f' (sample of {args.sample} '
                                         'files per split decoded)'))
    for (split, what), n in sorted(report.counts.items()):
        print(f'  {split:>10s} {what}: {n}')
    for w in report.warnings:
        print(f'warning: {w}')
    for e in report.errors:
        print(f'ERROR: {e}')
    if report.ok:
        print('OK: the tree is usable')
        return 0
    print(f'NOT USABLE: {len(report.errors)} error(s)')
    return 1


if __name__ == '__main__':
    sys.exit(run_cli(main))
