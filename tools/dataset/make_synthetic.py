#!/usr/bin/env python
"""Write a small synthetic dataset in a benchmark's raw official layout.

The frames show textured stuff regions, moving and occluding things whose
instance ids persist over time, crowd and void areas. The layout is the one
of the official download (before any conversion), so the preparation
scripts, the dataset classes and the checkers can all be tried on it.

Examples:
    python tools/dataset/make_synthetic.py kitti-step --out data/synthetic/kitti-step-raw
    python tools/dataset/make_synthetic.py vipseg --out /tmp/vipseg --videos 3 --frames 8
    python tools/dataset/make_synthetic.py youtube_vis_2019 --out /tmp/ytvis --size 96 160

A ``manifest.json`` (the written files, class ids, splits; no arrays) is
saved next to the data.
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))

from knet.datasets.synthetic import (SYNTHETIC_DATASETS,  # noqa: E402
                                     make_synthetic, manifest_to_jsonable)
from knet.formats.io import DataError, dump_json  # noqa: E402
from knet.utils.cli import (ArgumentParser, UsageError,  # noqa: E402
                            int_range, run_cli)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = ArgumentParser(
        description='Write a small synthetic dataset in the raw official '
        'layout of a benchmark.',
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('dataset', choices=sorted(SYNTHETIC_DATASETS),
                        help='which benchmark layout to write')
    parser.add_argument('--out', required=True, path='out-dir',
                        help='output folder')
    parser.add_argument('--videos', type=int_range(1, 10000), default=2,
                        help='number of videos (images for image datasets '
                        'are videos x frames)')
    parser.add_argument('--frames', type=int_range(1, 10000), default=6,
                        help='frames per video')
    parser.add_argument('--size', type=int_range(8, 8192), nargs=2,
                        default=(64, 128), metavar=('H', 'W'),
                        help='frame size (8..8192 each)')
    parser.add_argument('--seed', type=int_range(0, 2**32 - 1), default=0,
                        help='random seed')
    parser.add_argument('--test-videos', type=int_range(0, 10000),
                        default=0,
                        help='kitti-step and vipseg: also write this many '
                        'unlabelled test videos')
    parser.add_argument('--layout', choices=('720p', 'original'),
                        default=None, help='vipseg only: 720p layout '
                        '(default) or the original download (imgs/)')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    extra = {}
    if args.test_videos:
        if args.dataset not in ('kitti-step', 'vipseg'):
            raise UsageError('--test-videos is only for kitti-step and '
                             'vipseg')
        extra['test_videos'] = args.test_videos
    if args.layout:
        if args.dataset != 'vipseg':
            raise UsageError('--layout is only for vipseg')
        extra['layout'] = args.layout
    try:
        manifest = make_synthetic(args.dataset, args.out,
                                  videos=args.videos, frames=args.frames,
                                  size=tuple(args.size), seed=args.seed,
                                  **extra)
    except DataError:
        raise
    except ValueError as e:  # a count or size the benchmark cannot have
        raise UsageError(f'{args.dataset}: {e}') from None
    dump_json(manifest_to_jsonable(manifest),
              osp.join(args.out, 'manifest.json'))
    n = sum(len(v.get('frames', ())) for v in manifest.get('videos', ()))
    print(f'wrote synthetic {args.dataset} to {args.out} '
          f'({len(manifest.get("videos", ()))} videos, {n} frames)')
    return 0


if __name__ == '__main__':
    sys.exit(run_cli(main))
