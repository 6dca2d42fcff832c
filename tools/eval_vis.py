#!/usr/bin/env python
"""YouTube-VIS evaluation (AP, AP50, AP75, AR1, AR10) with the official
youtubevos ``YTVOSeval`` maths (the copy in ``mmdet.evaluation.functional``).

Example::

    python tools/eval_vis.py --gt data/youtube_vis_2019/train.json \\
        --results work_dirs/vis/results.json --out vis.json

``--gt`` is a raw YouTube-VIS annotation file (``videos`` with ``length`` /
``file_names``, ``annotations`` with per-frame ``segmentations``);
``--results`` the list the server takes (``results.json``, or the
``submission_file.zip`` holding it). Every result must have one entry per
frame of its video (a shorter list silently inflates IoU in the official
evaluator, so it is rejected here), a known video and a known category.
"""
import json
import sys
from pathlib import Path

if __package__ in (None, ''):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from knet.evaluation.offline.youtube_vis import (  # noqa: E402
    check_results, evaluate_youtube_vis, load_results)
from knet.formats.io import atomic_write_bytes, load_json  # noqa: E402
from knet.utils.cli import ArgumentParser, run_cli  # noqa: E402


def parse_args(argv=None):
    p = ArgumentParser(description='YouTube-VIS AP with the official '
                       'YTVOSeval maths.')
    p.add_argument('--gt', required=True, path='in-file',
                   help='raw YouTube-VIS annotation JSON')
    p.add_argument('--results', required=True, path='in-file',
                   help='results.json or submission_file.zip')
    p.add_argument('--out', required=True, path='out-file',
                   suffixes=('.json',), help='output JSON')
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    gt_path, res_path = Path(args.gt), Path(args.results)
    gt = load_json(gt_path)
    results = load_results(res_path)
    check_results(gt, results, gt_path, res_path)
    res = evaluate_youtube_vis(gt, results)
    for w in res['warnings']:
        print(f'warning: {w}', file=sys.stderr)
    atomic_write_bytes(args.out, json.dumps(res, indent=1).encode())
    print(' '.join(f'{k} {"n/a" if res[k] is None else f"{res[k]:.3f}"}'
                   for k in ('AP', 'AP50', 'AP75', 'AR1', 'AR10')))
    return 0


if __name__ == '__main__':
    sys.exit(run_cli(main))
