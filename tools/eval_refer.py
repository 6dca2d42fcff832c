#!/usr/bin/env python
"""Evaluate referring-expression predictions against a REFER split.

Prediction file (JSON): a list of entries, or ``{"predictions": [...]}``.
Each entry names what it predicts by ``sent_id`` (one entry per
expression, the usual protocol) or by ``ref_id`` (one per referred object;
then every expression of the object shares it) -- one or the other for the
whole file -- and gives one or both of:

* ``"bbox": [x, y, w, h]`` -- COCO box in pixels (comprehension, REC);
* ``"segmentation"`` -- the predicted mask at the image's full size as COCO
  RLE (``{"size": [h, w], "counts": "..."}``, compressed string or
  uncompressed list) or polygons ``[[x1, y1, x2, y2, ...], ...]``
  (segmentation, RES).

Metrics (knet/evaluation/functional/referring.py): ``box_acc@0.5`` (IoU >=
0.5, or ``--iou-thr``), mask ``overall_iou`` (cumulative sum I / sum U),
``mean_iou`` and ``precision@0.5..0.9``. Every expression (or ref) of the
split counts: one without a prediction counts as a miss (IoU 0; reported as
``missing``); predictions for ids outside the split are ignored (reported
as ``ignored``); duplicates are an error.

Example:
    python tools/eval_refer.py --data-root data --dataset refcoco \
        --split-by unc --split testA --pred preds.json --out metrics.json
"""
import argparse
import os.path as osp
import sys
from typing import Dict, List, Optional

import numpy as np

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from knet.datasets.refer import (REFER, REFER_DATASETS,  # noqa: E402
                                 segmentation_to_rle)
from knet.evaluation.functional.referring import (  # noqa: E402
    box_iou_xywh, mask_iou_metrics)
from knet.formats.io import DataError, dump_json, load_json, run_cli  # noqa


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Box accuracy and mask IoU of referring-expression '
        'predictions on one REFER split (format: see this file\'s '
        'docstring).')
    parser.add_argument('--data-root', required=True,
                        help='REFER data_root (holds <dataset>/)')
    parser.add_argument('--dataset', required=True,
                        choices=sorted(REFER_DATASETS))
    parser.add_argument('--split-by', required=True,
                        help='unc, google, umd or berkeley')
    parser.add_argument('--split', required=True,
                        help="train, val, test, testA, testB or testC "
                        "(REFER's rules: 'test' = every test split)")
    parser.add_argument('--pred', required=True, help='predictions JSON')
    parser.add_argument('--iou-thr', type=float, default=0.5,
                        help='box IoU threshold for a hit')
    parser.add_argument('--out', help='write the metrics to this JSON file')
    return parser.parse_args(argv)


def _entries(doc, path: str) -> List[dict]:
    entries = doc.get('predictions') if isinstance(doc, dict) else doc
    if not isinstance(entries, list) or \
            not all(isinstance(e, dict) for e in entries):
        raise DataError(f'{path}: expected a list of prediction objects (or '
                        '{"predictions": [...]})')
    return entries


def evaluate(refer: REFER, split: str, entries: List[dict],
             iou_thr: float = 0.5, path: str = 'predictions') -> Dict:
    """Metrics of ``entries`` on ``split`` (see module docstring)."""
    keys = {('sent_id' in e, 'ref_id' in e) for e in entries}
    if keys and keys != {(True, False)} and keys != {(False, True)}:
        raise DataError(f'{path}: every entry needs exactly one of sent_id '
                        'or ref_id, the same one for the whole file')
    unit = 'ref' if keys == {(False, True)} else 'sentence'
    ref_ids = refer.getRefIds(split=split)
    if not ref_ids:
        raise DataError(f'{refer.DATA_DIR}: no refs in split {split!r}')
    # evaluation items: (item id, ref)
    if unit == 'sentence':
        items = [(s['sent_id'], refer.Refs[r]) for r in ref_ids
                 for s in refer.Refs[r]['sentences']]
    else:
        items = [(r, refer.Refs[r]) for r in ref_ids]
    key = 'sent_id' if unit == 'sentence' else 'ref_id'
    preds: Dict = {}
    for e in entries:
        if e[key] in preds:
            raise DataError(f'{path}: two predictions for {key} {e[key]}')
        preds[e[key]] = e
    wanted = {i for i, _ in items}
    ignored = sum(1 for k in preds if k not in wanted)
    has_box = any('bbox' in e for e in preds.values())
    has_mask = any('segmentation' in e for e in preds.values())
    if preds and not (has_box or has_mask):
        raise DataError(f'{path}: entries have neither bbox nor '
                        'segmentation')

    pred_boxes, gt_boxes, inters, unions = [], [], [], []
    gt_masks: Dict[int, np.ndarray] = {}  # ref_id -> mask (sentences share)
    missing = 0
    for item_id, ref in items:
        pred = preds.get(item_id)
        missing += pred is None
        if has_box:
            gt_boxes.append(refer.getRefBox(ref['ref_id']))
            box = pred.get('bbox') if pred else None
            if box is not None and (not isinstance(box, list) or
                                    len(box) != 4):
                raise DataError(f'{path}: {key} {item_id}: bbox must be '
                                '[x, y, w, h]')
            pred_boxes.append(box if box is not None else [0, 0, 0, 0])
        if has_mask:
            if ref['ref_id'] not in gt_masks:
                gt_masks[ref['ref_id']] = \
                    refer.getMask(ref)['mask'].astype(bool)
            gt = gt_masks[ref['ref_id']]
            segm = pred.get('segmentation') if pred else None
            if segm is None:
                inters.append(0)
                unions.append(int(gt.sum()))
                continue
            img = refer.Imgs[ref['image_id']]
            try:
                rle = segmentation_to_rle(segm, img['height'], img['width'])
            except (ValueError, TypeError, KeyError) as e:
                raise DataError(f'{path}: {key} {item_id}: bad segmentation '
                                f'({e})') from None
            from pycocotools import mask as mask_api
            m = mask_api.decode(dict(rle, counts=rle['counts'].encode()))
            m = m.astype(bool)
            inters.append(int(np.count_nonzero(m & gt)))
            unions.append(int(np.count_nonzero(m | gt)))

    result = {'dataset': refer.dataset, 'splitBy': refer.splitBy,
              'split': split, 'unit': unit, 'count': len(items),
              'missing': int(missing), 'ignored': int(ignored)}
    if has_box:
        iou = box_iou_xywh(np.array(pred_boxes, dtype=float),
                           np.array(gt_boxes, dtype=float))
        result[f'box_acc@{iou_thr:g}'] = float((iou >= iou_thr).mean())
        result['box_mean_iou'] = float(iou.mean())
    if has_mask:
        m = mask_iou_metrics(inters, unions)
        m.pop('count')
        result.update({f'mask_{k}' if 'iou' in k else k: v
                       for k, v in m.items()})
    return result


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    doc = load_json(args.pred)
    entries = _entries(doc, args.pred)
    refer = REFER(args.data_root, args.dataset, args.split_by)
    result = evaluate(refer, args.split, entries, iou_thr=args.iou_thr,
                      path=args.pred)
    width = max(len(k) for k in result)
    for k, v in result.items():
        text = f'{100 * v:.2f}' if isinstance(v, float) else str(v)
        print(f'{k:<{width}}  {text}')
    if args.out:
        dump_json(result, args.out)
    return 0


if __name__ == '__main__':
    sys.exit(run_cli(main))
