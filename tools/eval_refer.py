#!/usr/bin/env python
"""Evaluate referring-expression predictions against a REFER split.

Predictions: a JSON list (or ``{"predictions": [...]}``) of entries with
``sent_id`` (or ``ref_id`` for the whole file) and ``bbox`` ([x, y, w, h])
and/or ``segmentation`` (COCO RLE or polygons, full image size). Metrics:
box accuracy, mask overall / mean IoU, precision@0.5..0.9; the details are
in knet/evaluation/offline/referring.py (``evaluate_refer``).

Example:
    python tools/eval_refer.py --data-root data --dataset refcoco \
        --split-by unc --split testA --pred preds.json --out metrics.json
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from knet.datasets.refer import REFER, REFER_DATASETS  # noqa: E402
from knet.evaluation.offline.referring import (  # noqa: E402
    evaluate_refer, prediction_entries)
from knet.formats.io import dump_json, load_json  # noqa: E402
from knet.utils.cli import ArgumentParser, float_range, run_cli  # noqa: E402


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = ArgumentParser(
        description='Box accuracy and mask IoU of referring-expression '
        'predictions on one REFER split. Predictions: a JSON list of '
        '{sent_id (or ref_id), bbox [x, y, w, h] and/or segmentation (COCO '
        'RLE or polygons)}.')
    parser.add_argument('--data-root', required=True, path='in-dir',
                        help='REFER data_root (holds <dataset>/)')
    parser.add_argument('--dataset', required=True,
                        choices=sorted(REFER_DATASETS))
    parser.add_argument('--split-by', required=True,
                        help='unc, google, umd or berkeley')
    parser.add_argument('--split', required=True,
                        help="train, val, test, testA, testB or testC "
                        "(REFER's rules: 'test' = every test split)")
    parser.add_argument('--pred', required=True, path='in-file',
                        help='predictions JSON')
    parser.add_argument('--iou-thr', type=float_range(0, 1, lo_open=True),
                        default=0.5,
                        help='box IoU threshold for a hit, in (0, 1]')
    parser.add_argument('--out', path='out-file', suffixes=('.json',),
                        help='write the metrics to this JSON file')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    doc = load_json(args.pred)
    entries = prediction_entries(doc, args.pred)
    refer = REFER(args.data_root, args.dataset, args.split_by)
    result = evaluate_refer(refer, args.split, entries,
                            iou_thr=args.iou_thr, path=args.pred)
    width = max(len(k) for k in result)
    for k, v in result.items():
        text = f'{100 * v:.2f}' if isinstance(v, float) else str(v)
        print(f'{k:<{width}}  {text}')
    if args.out:
        dump_json(result, args.out, indent=1)
    return 0


if __name__ == '__main__':
    sys.exit(run_cli(main))
