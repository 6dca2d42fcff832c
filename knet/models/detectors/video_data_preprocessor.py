"""Track data preprocessor that also pads the semantic ground truth.

mmdet 3.3's ``TrackDataPreprocessor`` pads the images of a batch to a common
(32-divisible) size and, with ``pad_mask=True``, the instance masks, but
leaves ``gt_sem_seg`` at each sample's own size. With more than one sample per
batch the semantic maps then no longer line up with the padded input (and
cannot be stacked). :class:`VideoDataPreprocessor` pads every frame's
``gt_sem_seg`` to ``batch_input_shape`` with ``seg_pad_value`` (255, ignore),
in training only, as mmdet's ``DetDataPreprocessor`` does with ``pad_seg``.
"""
from typing import Dict, Sequence

import torch.nn.functional as F
from mmengine.structures import PixelData

from mmdet.models.data_preprocessors import TrackDataPreprocessor
from mmdet.registry import MODELS

__all__ = ['VideoDataPreprocessor']


@MODELS.register_module()
class VideoDataPreprocessor(TrackDataPreprocessor):
    """``TrackDataPreprocessor`` + ``gt_sem_seg`` padding (bottom/right).

    Args:
        pad_seg: pad each frame's ``gt_sem_seg.sem_seg`` to the batch input
            shape in training.
        seg_pad_value: value of the padded semantic pixels (ignore label).
        **kwargs: ``TrackDataPreprocessor`` arguments.
    """

    def __init__(self, pad_seg: bool = True, seg_pad_value: int = 255,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.pad_seg = pad_seg
        self.seg_pad_value = seg_pad_value

    def forward(self, data: dict, training: bool = False) -> Dict:
        data = super().forward(data, training)
        if training and self.pad_seg and data['data_samples'] is not None:
            self.pad_track_gt_sem_seg(data['data_samples'])
        return data

    def pad_track_gt_sem_seg(self, data_samples: Sequence) -> None:
        """Pad ``gt_sem_seg`` of every frame to its ``batch_input_shape``."""
        for track_sample in data_samples:
            frames = getattr(track_sample, 'video_data_samples',
                             [track_sample])
            for sample in frames:
                if 'gt_sem_seg' not in sample:
                    continue
                sem = sample.gt_sem_seg.sem_seg
                pad_h, pad_w = sample.metainfo['batch_input_shape'][:2]
                h, w = sem.shape[-2:]
                if (h, w) == (pad_h, pad_w):
                    continue
                if h > pad_h or w > pad_w:
                    raise ValueError(
                        f'gt_sem_seg {tuple(sem.shape)} is larger than the '
                        f'batch input {(pad_h, pad_w)}')
                # a new PixelData: its fields must all share one size
                sample.gt_sem_seg = PixelData(
                    metainfo=sample.gt_sem_seg.metainfo,
                    sem_seg=F.pad(sem, (0, pad_w - w, 0, pad_h - h),
                                  value=self.seg_pad_value))
