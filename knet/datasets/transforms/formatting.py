"""Packing of video panoptic samples (mmdet's PackTrackInputs + semantic)."""
import numpy as np
import torch
from mmengine.structures import PixelData

from mmdet.datasets.transforms import PackTrackInputs
from mmdet.registry import TRANSFORMS

__all__ = ['PackVideoPanopticInputs']


@TRANSFORMS.register_module()
class PackVideoPanopticInputs(PackTrackInputs):
    """``PackTrackInputs`` that also packs ``gt_seg_map`` of every frame.

    mmdet 3.3's ``PackTrackInputs`` drops semantic maps; here each frame's
    ``DetDataSample.gt_sem_seg.sem_seg`` becomes an int64 [1, H, W] tensor
    (model labels, 255 = ignore). ``seq_name`` and ``seg_map_path`` are
    added to the default meta keys.
    """

    def __init__(self, meta_keys=None,
                 default_meta_keys: tuple = (
                     'img_id', 'img_path', 'ori_shape', 'img_shape',
                     'scale_factor', 'flip', 'flip_direction', 'frame_id',
                     'video_id', 'video_length', 'ori_video_length',
                     'seq_name', 'seg_map_path')) -> None:
        super().__init__(meta_keys=meta_keys,
                         default_meta_keys=default_meta_keys)

    def transform(self, results: dict) -> dict:
        packed = super().transform(results)
        seg_maps = results.get('gt_seg_map')
        if seg_maps is not None:
            samples = packed['data_samples'].video_data_samples
            for sample, seg in zip(samples, seg_maps):
                if seg is None:
                    continue
                sem = torch.from_numpy(
                    np.ascontiguousarray(seg, dtype=np.int64)[None])
                sample.gt_sem_seg = PixelData(sem_seg=sem)
        return packed
