"""Frame sampling for video training samples.

Reference frames for VPS use mmdet's ``UniformRefFrameSample``
(``frame_range=2`` gives offsets {-2, -1, +1, +2}, clipped at the video
ends; it draws again at every ``__getitem__``). VIS trains on contiguous
clips, which mmdet lacks: :class:`ContiguousClipSample`.
"""
import random
from typing import Dict, List, Optional

from mmdet.datasets.transforms import BaseFrameSample
from mmdet.registry import TRANSFORMS

__all__ = ['ContiguousClipSample']


@TRANSFORMS.register_module()
class ContiguousClipSample(BaseFrameSample):
    """Sample ``num_frames`` consecutive frames containing the key frame.

    The clip start is drawn uniformly among the windows that contain the key
    frame (``key_frame_id`` from ``TrackImgSampler``, else a random frame).
    Videos shorter than the clip repeat their last frame. Marks the key
    frame in ``key_frame_flags``.
    """

    def __init__(self, num_frames: int = 5,
                 collect_video_keys: List[str] = ['video_id', 'video_length']):
        if num_frames < 1:
            raise ValueError('num_frames must be >= 1')
        self.num_frames = num_frames
        super().__init__(collect_video_keys=collect_video_keys)

    def sampling_frames(self, video_length: int, key_frame_id: int):
        n = self.num_frames
        if video_length <= n:
            ids = list(range(video_length))
            ids += [video_length - 1] * (n - video_length)
        else:
            low = max(0, key_frame_id - n + 1)
            high = min(key_frame_id, video_length - n)
            start = random.randint(low, high)
            ids = list(range(start, start + n))
        flags = [False] * n
        flags[ids.index(key_frame_id)] = True
        return ids, flags

    def transform(self, video_infos: dict) -> Optional[Dict[str, List]]:
        key = video_infos.get('key_frame_id')
        if key is None:
            key = random.randrange(video_infos['video_length'])
        ids, flags = self.sampling_frames(video_infos['video_length'], key)
        results = self.prepare_data(video_infos, ids)
        results['key_frame_flags'] = flags
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(num_frames={self.num_frames})'
