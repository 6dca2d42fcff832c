"""VIPSeg video panoptic dataset (720p layout).

``{data_root}/images/<video>/<frame>.jpg``, ``panomasks/<video>/<frame>.png``
(16-bit, official value encoding) and split files ``train.txt`` /
``val.txt`` / ``test.txt`` (one video folder a line; ``ann_file``). 124
official categories: the 58 things in category-id order, then the 66 stuff.
"""
import os
import os.path as osp

from mmdet.registry import DATASETS

from knet.formats.io import read_name_list
from knet.formats.vipseg import VIPSEG_CATEGORIES, VIPSEG_THING_IDS

from .video_panoptic import VideoPanopticDataset, things_first_metainfo

__all__ = ['VIPSegDataset', 'VIPSEG_METAINFO']

VIPSEG_METAINFO = things_first_metainfo(
    [c['name'] for c in VIPSEG_CATEGORIES],
    [c['id'] for c in VIPSEG_CATEGORIES], VIPSEG_THING_IDS,
    [c['color'] for c in VIPSEG_CATEGORIES])

_IMG_EXT = ('.jpg', '.jpeg', '.png')


@DATASETS.register_module()
class VIPSegDataset(VideoPanopticDataset):
    """VIPSeg; ``ann_file`` = split file, ``data_prefix`` = dict(
    img_path='images', seg_map_path='panomasks').

    Videos keep the split file's order, frames are sorted by name. Without a
    panomask (test videos) ``seg_map_path`` is None, allowed in test mode
    only.
    """

    METAINFO = VIPSEG_METAINFO

    def index_videos(self):
        if not osp.isfile(self.ann_file):
            raise FileNotFoundError(f'{self.ann_file}: VIPSeg split file not '
                                    'found')
        # one video a line, each once (a duplicate would be trained twice)
        names = read_name_list(self.ann_file, 'video')
        img_root = self.data_prefix.get('img_path', '')
        seg_root = self.data_prefix.get('seg_map_path', '')
        videos = []
        for name in names:
            folder = osp.join(img_root, name)
            if not osp.isdir(folder):
                raise FileNotFoundError(f'{folder}: video listed in '
                                        f'{self.ann_file} has no frames')
            frames = []
            for fname in sorted(os.listdir(folder)):
                stem, ext = osp.splitext(fname)
                if ext.lower() not in _IMG_EXT:
                    continue
                seg = osp.join(seg_root, name, stem + '.png')
                if not osp.exists(seg):
                    if not self.test_mode:
                        raise FileNotFoundError(f'{seg}: panomask missing')
                    seg = None
                frames.append((osp.join(folder, fname), seg, {}))
            videos.append((name, frames))
        return videos
