"""Referring-expression metrics (comprehension boxes and segmentation masks).

* Box accuracy (REC, "Acc@0.5"): the fraction of expressions whose
  predicted box has IoU >= 0.5 with the referred object's box. Boxes are
  COCO ``[x, y, w, h]`` in continuous pixel coordinates (area = w * h, no
  +1), like the REFER annotations.
* Mask IoU (RES): per expression I = |P & G| and U = |P | G|;
  ``overall_iou`` (a.k.a. oIoU, cumulative IoU) = sum(I) / sum(U) over
  the set; ``mean_iou`` (mIoU) = mean of the per-expression I / U;
  ``precision@t`` = fraction of expressions with I / U >= t (t = 0.5 ...
  0.9 as in the RES literature). An expression with U = 0 (empty
  prediction and empty ground truth) has IoU ``empty_iou`` (1 by default:
  a correct "no target" answer; the classic REFER sets never have empty
  ground truth).

Pure NumPy; no mmengine/mmdet imports.
"""
from typing import Dict, Iterable, Sequence, Tuple

import numpy as np

__all__ = ['box_iou_xywh', 'box_accuracy', 'mask_intersection_union',
           'mask_iou_metrics', 'PRECISION_THRESHOLDS']

PRECISION_THRESHOLDS: Tuple[float, ...] = (0.5, 0.6, 0.7, 0.8, 0.9)


def box_iou_xywh(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """IoU of aligned box pairs: ``pred[i]`` vs ``gt[i]``, both [N, 4]
    ``[x, y, w, h]``. Returns [N] float64 (0 where the union is empty)."""
    pred = np.asarray(pred, dtype=np.float64).reshape(-1, 4)
    gt = np.asarray(gt, dtype=np.float64).reshape(-1, 4)
    if pred.shape != gt.shape:
        raise ValueError(f'{len(pred)} predicted boxes for {len(gt)} '
                         'ground-truth boxes')
    p0, g0 = pred[:, :2], gt[:, :2]
    p1, g1 = p0 + pred[:, 2:], g0 + gt[:, 2:]
    wh = np.clip(np.minimum(p1, g1) - np.maximum(p0, g0), 0, None)
    inter = wh[:, 0] * wh[:, 1]
    area_p = np.clip(pred[:, 2], 0, None) * np.clip(pred[:, 3], 0, None)
    area_g = np.clip(gt[:, 2], 0, None) * np.clip(gt[:, 3], 0, None)
    union = area_p + area_g - inter
    return np.divide(inter, union, out=np.zeros_like(inter),
                     where=union > 0)


def box_accuracy(pred: np.ndarray, gt: np.ndarray,
                 iou_thr: float = 0.5) -> float:
    """Fraction of pairs with IoU >= ``iou_thr`` (0.0 for no pairs)."""
    iou = box_iou_xywh(pred, gt)
    return float((iou >= iou_thr).mean()) if len(iou) else 0.0


def mask_intersection_union(pred: np.ndarray, gt: np.ndarray
                            ) -> Tuple[int, int]:
    """|P & G| and |P | G| of two binary masks of the same shape."""
    pred = np.asarray(pred).astype(bool)
    gt = np.asarray(gt).astype(bool)
    if pred.shape != gt.shape:
        raise ValueError(f'mask shapes differ: {pred.shape} vs {gt.shape}')
    return (int(np.count_nonzero(pred & gt)),
            int(np.count_nonzero(pred | gt)))


def mask_iou_metrics(intersections: Iterable[int], unions: Iterable[int],
                     thresholds: Sequence[float] = PRECISION_THRESHOLDS,
                     empty_iou: float = 1.0) -> Dict[str, float]:
    """oIoU, mIoU and precision@t from per-expression I and U counts.

    Returns ``{'overall_iou', 'mean_iou', 'precision@0.5', ...,
    'count'}`` (IoUs as fractions in [0, 1]).
    """
    inter = np.asarray(list(intersections), dtype=np.float64)
    union = np.asarray(list(unions), dtype=np.float64)
    if inter.shape != union.shape:
        raise ValueError('intersections and unions differ in length')
    if np.any(inter > union) or np.any(inter < 0):
        raise ValueError('need 0 <= intersection <= union')
    out: Dict[str, float] = {'count': int(inter.size)}
    if inter.size == 0:
        out.update(overall_iou=0.0, mean_iou=0.0)
        out.update({f'precision@{t:g}': 0.0 for t in thresholds})
        return out
    iou = np.full(inter.shape, float(empty_iou))
    np.divide(inter, union, out=iou, where=union > 0)
    total_u = union.sum()
    out['overall_iou'] = float(inter.sum() / total_u) if total_u > 0 \
        else float(empty_iou)
    out['mean_iou'] = float(iou.mean())
    for t in thresholds:
        out[f'precision@{t:g}'] = float((iou >= t).mean())
    return out
