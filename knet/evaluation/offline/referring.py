"""Offline evaluation of referring-expression predictions (REFER splits).

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

Metrics (:mod:`knet.evaluation.functional.referring`): ``box_acc@0.5``
(IoU >= 0.5, or ``iou_thr``), mask ``overall_iou`` (cumulative sum I / sum
U), ``mean_iou`` and ``precision@0.5..0.9``. Every expression (or ref) of
the split counts: one without a prediction counts as a miss (IoU 0;
reported as ``missing``); predictions for ids outside the split are ignored
(reported as ``ignored``); duplicates are an error.
"""
from typing import Dict, List

import numpy as np

from knet.evaluation.functional.referring import (box_accuracy,
                                                  box_iou_xywh,
                                                  mask_intersection_union,
                                                  mask_iou_metrics)
from knet.formats.coco_mask import segmentation_to_rle
from knet.formats.io import DataError
from knet.formats.referring import validate_referring_predictions

__all__ = ['prediction_entries', 'evaluate_refer']


def prediction_entries(doc, path: str) -> List[dict]:
    """The prediction list of a loaded prediction JSON (a list, or
    ``{"predictions": [...]}``), checked by
    :func:`knet.formats.referring.validate_referring_predictions`."""
    return validate_referring_predictions(doc, path)[0]


def evaluate_refer(refer, split: str, entries: List[dict],
                   iou_thr: float = 0.5, path: str = 'predictions') -> Dict:
    """Metrics of ``entries`` on ``split`` of ``refer`` (a
    :class:`knet.datasets.refer.REFER`); ``path`` names the predictions in
    errors. The entries are checked first
    (:func:`~knet.formats.referring.validate_referring_predictions`); a file
    that would evaluate nothing is an error."""
    entries, key = validate_referring_predictions(entries, path)
    if not entries:
        raise DataError(f'{path}: no predictions: nothing to evaluate')
    unit = 'ref' if key == 'ref_id' else 'sentence'
    ref_ids = refer.getRefIds(split=split)
    if not ref_ids:
        raise DataError(f'{refer.DATA_DIR}: no refs in split {split!r}')
    # evaluation items: (item id, ref)
    if unit == 'sentence':
        items = [(s['sent_id'], refer.Refs[r]) for r in ref_ids
                 for s in refer.Refs[r]['sentences']]
    else:
        items = [(r, refer.Refs[r]) for r in ref_ids]
    preds: Dict = {e[key]: e for e in entries}
    wanted = {i for i, _ in items}
    ignored = sum(1 for k in preds if k not in wanted)
    if ignored == len(preds):
        raise DataError(f'{path}: none of the {len(preds)} predictions is '
                        f'for a {key} of split {split!r}: nothing to '
                        'evaluate')
    has_box = any(e.get('bbox') is not None for e in preds.values())
    has_mask = any(e.get('segmentation') is not None
                   for e in preds.values())

    pred_boxes, gt_boxes, inters, unions = [], [], [], []
    gt_masks: Dict[int, np.ndarray] = {}  # ref_id -> mask (sentences share)
    missing = 0
    for item_id, ref in items:
        pred = preds.get(item_id)
        missing += pred is None
        if has_box:
            gt_boxes.append(refer.getRefBox(ref['ref_id']))
            box = pred.get('bbox') if pred else None
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
            inter, union = mask_intersection_union(m, gt)
            inters.append(inter)
            unions.append(union)

    result = {'dataset': refer.dataset, 'splitBy': refer.splitBy,
              'split': split, 'unit': unit, 'count': len(items),
              'missing': int(missing), 'ignored': int(ignored)}
    if has_box:
        pred_boxes = np.array(pred_boxes, dtype=float)
        gt_boxes = np.array(gt_boxes, dtype=float)
        iou = box_iou_xywh(pred_boxes, gt_boxes)
        result[f'box_acc@{iou_thr:g}'] = box_accuracy(pred_boxes, gt_boxes,
                                                      iou_thr)
        result['box_mean_iou'] = float(iou.mean())
    if has_mask:
        m = mask_iou_metrics(inters, unions)
        m.pop('count')
        result.update({f'mask_{k}' if 'iou' in k else k: v
                       for k, v in m.items()})
    return result
