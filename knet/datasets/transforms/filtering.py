"""Drop thing instances left without pixels by crop/resize."""
import numpy as np
from mmcv.transforms import BaseTransform

from mmdet.registry import TRANSFORMS

__all__ = ['FilterEmptyInstances']

_KEYS = ('gt_bboxes', 'gt_bboxes_labels', 'gt_masks', 'gt_ignore_flags',
         'gt_instances_ids')


@TRANSFORMS.register_module()
class FilterEmptyInstances(BaseTransform):
    """Keep instances whose mask has at least ``min_area`` pixels.

    Unlike mmdet's ``FilterAnnotations`` it also filters
    ``gt_instances_ids`` and never drops the frame (a frame without things
    still trains the stuff classes).
    """

    def __init__(self, min_area: int = 1) -> None:
        self.min_area = min_area

    def transform(self, results: dict) -> dict:
        masks = results.get('gt_masks')
        if masks is None or len(masks) == 0:
            return results
        keep = np.asarray(masks.areas) >= self.min_area
        if keep.all():
            return results
        for key in _KEYS:
            if results.get(key) is not None:
                results[key] = results[key][keep if key != 'gt_masks'
                                            else np.flatnonzero(keep)]
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(min_area={self.min_area})'
