#!/usr/bin/env python
"""Evaluate video panoptic predictions: KITTI-STEP (STQ + VPQ),
Cityscapes-VPS and VIPSeg (VPQ), with the official metric definitions.

Examples::

    python tools/eval_vps.py kitti-step --gt-root data/kitti-step --split val \\
        --pred-dir work_dirs/step_pred --workers 2 --out step.json
    python tools/eval_vps.py cityscapes-vps --gt-root data/cityscapes_vps \\
        --pred-dir work_dirs/cvps_pred --out cvps.json
    python tools/eval_vps.py vipseg --gt-root data/VIPSeg --split val \\
        --pred-dir work_dirs/vipseg_pred --out vipseg.json

Ground truth and predictions are streamed (a window of frames at most per
worker) by ``knet.evaluation.offline``; see knet/evaluation/functional/
{stq,vpq}.py for the exact metric rules and the official quirks they keep.
Bad input (a missing, extra, corrupt or wrongly sized prediction, an id
missing from pred.json, an unknown category) stops the run with one line
naming the file.
"""
import json
import sys
import warnings
from pathlib import Path

if __package__ in (None, ''):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from knet.evaluation.functional.vpq import CONVENTIONS  # noqa: E402
from knet.evaluation.offline import (evaluate_cityscapes_vps,  # noqa: E402
                                     evaluate_kitti_step, evaluate_vipseg,
                                     to_jsonable)
from knet.formats.io import atomic_write_bytes  # noqa: E402
from knet.utils.cli import (ArgumentParser, int_range,  # noqa: E402
                            run_cli)


def parse_args(argv=None):
    parser = ArgumentParser(
        description='Video panoptic evaluation (STQ, VPQ) identical to the '
        'official scripts, streaming and parallel over sequences.')
    sub = parser.add_subparsers(dest='dataset', required=True)

    def common(p, split=True):
        p.add_argument('--gt-root', required=True, path='in-tree',
                       help='dataset root with the ground truth')
        if split:
            p.add_argument('--split', default='val',
                           help='split to evaluate (default: val)')
        p.add_argument('--pred-dir', required=True, path='in-tree',
                       help='predictions in the official layout')
        p.add_argument('--vpq-windows', type=int_range(1, 1000), nargs='+',
                       help='VPQ window lengths in frames')
        p.add_argument('--workers', type=int_range(1, 1024), default=1,
                       help='processes (default 1)')
        p.add_argument('--chunk', type=int_range(0), default=0,
                       help='frames per work item (default: automatic)')
        p.add_argument('--out', required=True, path='out-file',
                       suffixes=('.json',), help='output JSON file')

    k = sub.add_parser('kitti-step', help='KITTI-STEP: STQ and VPQ. GT '
                       'ROOT/video_sequence/<split>/{seq:06d}_{frame:06d}_'
                       'panoptic.png; PRED/{seq:04d}/{frame:06d}.png')
    common(k)
    k.add_argument('--vpq-convention', choices=CONVENTIONS,
                   default='vpsnet',
                   help='VPQ rules: vpsnet (VPSNet/VIPSeg eval_vpq, crowd '
                   'aware, default) or vip-deeplab (Video K-Net\'s '
                   'eval_dvpq_step.py, which produced its published '
                   'KITTI-STEP VPQ)')
    c = sub.add_parser('cityscapes-vps', help='Cityscapes-VPS val: VPQ '
                       '(k = 0, 5, 10, 15). PRED: pan_pred/<image id>.png + '
                       'pred.json')
    common(c, split=False)
    c.add_argument('--gt-json', default='panoptic_gt_val_city_vps.json',
                   help='GT JSON under --gt-root')
    c.add_argument('--gt-folder', default='val/panoptic_video',
                   help='GT PNG folder under --gt-root')
    v = sub.add_parser('vipseg', help='VIPSeg: VPQ (windows 1 2 4 6 8) on '
                       'the raw panomasks. PRED: pan_pred/<video>/<frame>.png'
                       ' + pred.json')
    common(v)
    v.add_argument('--categories', path='in-file',
                   help='panoVIPSeg_categories.json (default: the categories '
                   'shipped in knet.formats.vipseg)')
    return parser.parse_args(argv)


def evaluate(args) -> dict:
    """Run the evaluation the arguments ask for."""
    common = dict(windows=args.vpq_windows, workers=args.workers,
                  chunk=args.chunk)
    if args.dataset == 'kitti-step':
        return evaluate_kitti_step(args.gt_root, args.split, args.pred_dir,
                                   convention=args.vpq_convention, **common)
    if args.dataset == 'cityscapes-vps':
        return evaluate_cityscapes_vps(args.gt_root, args.pred_dir,
                                       args.gt_json, args.gt_folder, **common)
    return evaluate_vipseg(args.gt_root, args.split, args.pred_dir,
                           args.categories, **common)


def _fmt(x, scale=1.0):
    return '  n/a' if x is None else f'{x * scale:5.1f}'


def print_summary(res: dict, dataset: str) -> None:
    lines = [f'== {dataset} ==']
    if 'STQ' in res:
        lines.append('STQ {}  AQ {}  SQ {}  (x100)'.format(
            _fmt(res['STQ'], 100), _fmt(res['AQ'], 100),
            _fmt(res['SQ'], 100)))
    lines.append(f'{"window":>8} | {"VPQ":>5} {"thing":>5} {"stuff":>5}')
    for label in res['VPQ_per_window']:
        lines.append(f'{label:>8} | {_fmt(res["VPQ_per_window"][label])} '
                     f'{_fmt(res["VPQ_thing_per_window"][label])} '
                     f'{_fmt(res["VPQ_stuff_per_window"][label])}')
    lines.append(f'{"mean":>8} | {_fmt(res["VPQ"])} '
                 f'{_fmt(res["VPQ_thing"])} {_fmt(res["VPQ_stuff"])}')
    print('\n'.join(lines))


def main(argv=None) -> int:
    args = parse_args(argv)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        res = evaluate(args)
    for w in res['warnings']:
        print(f'warning: {w}', file=sys.stderr)
    res = to_jsonable(res)
    atomic_write_bytes(args.out, json.dumps(res, indent=1).encode())
    print_summary(res, args.dataset)
    return 0


if __name__ == '__main__':
    sys.exit(run_cli(main))
