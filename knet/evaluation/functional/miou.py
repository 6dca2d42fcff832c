"""Semantic segmentation mIoU from a streamed confusion matrix.

Classes whose union is zero (absent from both ground truth and prediction)
are left out of the mean (NaN in mmseg's ``IoUMetric``; None here).
Ignore pixels of the ground truth are skipped; a prediction outside
[0, num_classes) on a valid pixel counts as a miss of the true class.
"""
import numpy as np

__all__ = ['MIoUAccumulator']


class MIoUAccumulator:
    """``update(gt, pred)`` per image, ``result()`` at the end."""

    def __init__(self, num_classes: int, ignore_index: int = 255):
        self.num_classes = int(num_classes)
        self.ignore_index = ignore_index
        n = self.num_classes + 1  # last row/col: anything invalid
        self.confusion = np.zeros((n, n), dtype=np.int64)

    def update(self, gt: np.ndarray, pred: np.ndarray) -> None:
        gt = np.asarray(gt).ravel().astype(np.int64)
        pred = np.asarray(pred).ravel().astype(np.int64)
        if gt.shape != pred.shape:
            raise ValueError('gt and pred differ in size')
        keep = gt != self.ignore_index
        gt, pred = gt[keep], pred[keep]
        if ((gt < 0) | (gt >= self.num_classes)).any():
            raise ValueError('ground-truth class outside [0, num_classes)')
        bad = (pred < 0) | (pred >= self.num_classes)
        pred = np.where(bad, self.num_classes, pred)
        n = self.num_classes + 1
        self.confusion += np.bincount(gt * n + pred, minlength=n * n).reshape(
            n, n)

    def merge(self, other: 'MIoUAccumulator') -> 'MIoUAccumulator':
        self.confusion += other.confusion
        return self

    def result(self) -> dict:
        c = self.confusion[:self.num_classes, :self.num_classes]
        inter = np.diag(c).astype(np.float64)
        union = self.confusion[:self.num_classes].sum(1) + c.sum(0) - inter
        ious = [float(i / u) if u > 0 else None for i, u in zip(inter, union)]
        valid = [v for v in ious if v is not None]
        total = self.confusion[:self.num_classes].sum()
        return dict(mIoU=float(np.mean(valid)) if valid else None,
                    IoU_per_class=ious,
                    aAcc=float(inter.sum() / total) if total else None)
