"""KITTI-STEP video panoptic dataset (Video K-Net ``video_sequence`` layout).

``{data_root}/video_sequence/{split}/{seq:06d}_{frame:06d}_leftImg8bit.png``
with ``..._panoptic.png`` beside it (made by scripts/kitti_step_prepare.py).
The test split has no panoptic files. Labels: 19 Cityscapes trainIds,
things person (11) and car (13) -> model labels 0, 1; stuff follows.
"""
import os
import os.path as osp
import re
from collections import defaultdict

from mmdet.registry import DATASETS

from knet.formats.cityscapes import CITYSCAPES_CLASSES, CITYSCAPES_PALETTE
from knet.formats.kitti_step import KITTI_STEP_THING_IDS
from .video_panoptic import VideoPanopticDataset, things_first_metainfo

__all__ = ['KittiStepDataset', 'KITTI_STEP_METAINFO']

KITTI_STEP_METAINFO = things_first_metainfo(
    CITYSCAPES_CLASSES, range(19), KITTI_STEP_THING_IDS, CITYSCAPES_PALETTE)

_NAME = re.compile(r'^(\d+)_(\d+)_leftImg8bit\.png$')


@DATASETS.register_module()
class KittiStepDataset(VideoPanopticDataset):
    """KITTI-STEP; ``data_prefix=dict(img_path='video_sequence/train')``.

    Frames are grouped by sequence and sorted by frame number. A labelled
    split (``test_mode=False``) requires every ``_panoptic.png``; in test
    mode a missing one gives ``seg_map_path=None`` (the test split).
    ``video_id`` is the sequence number.
    """

    METAINFO = KITTI_STEP_METAINFO

    def index_videos(self):
        folder = self.data_prefix.get('img_path', '')
        if not osp.isdir(folder):
            raise FileNotFoundError(
                f'{folder}: KITTI-STEP split folder not found (run '
                'scripts/kitti_step_prepare.py)')
        seqs = defaultdict(list)
        for name in os.listdir(folder):
            match = _NAME.match(name)
            if match:
                seqs[match.group(1)].append((int(match.group(2)), name))
        videos = []
        for seq in sorted(seqs, key=int):
            frames = []
            for _, name in sorted(seqs[seq]):
                img = osp.join(folder, name)
                seg = img[:-len('leftImg8bit.png')] + 'panoptic.png'
                if not osp.exists(seg):
                    if not self.test_mode:
                        raise FileNotFoundError(
                            f'{seg}: panoptic label missing')
                    seg = None
                frames.append((img, seg, {}))
            videos.append((seq, frames))
        return videos

    def video_id_of(self, index: int, seq_name: str) -> int:
        return int(seq_name)
