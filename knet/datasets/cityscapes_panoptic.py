"""Cityscapes panoptic and Cityscapes-STEP image datasets (pre-training).

Reads ``leftImg8bit/{split}/{city}/*_leftImg8bit.png`` with the
cityscapesscripts ``gtFine/{split}/{city}/*_gtFine_labelTrainIds.png`` and
``*_gtFine_instanceTrainIds.png`` (made by
tools/dataset/cityscapes_prepare.py); labels are decoded by
``LoadCityscapesPanoptic``. Samples are images (mmdet ``PackDetInputs``).

* ``CityscapesPanopticDataset``: 8 things (trainIds 11..18) -> labels 0..7,
  11 stuff -> 8..18.
* ``CityscapesSTEPDataset``: the KITTI-STEP label space (things person,
  car -> 0, 1; the other 17 classes stuff), for pre-training Video K-Net on
  KITTI-STEP.
"""
import os
import os.path as osp
from typing import List

from mmdet.datasets import BaseDetDataset
from mmdet.registry import DATASETS

from knet.formats.cityscapes import (CITYSCAPES_CLASSES, CITYSCAPES_PALETTE,
                                     CITYSCAPES_THING_IDS)
from knet.formats.kitti_step import KITTI_STEP_THING_IDS
from .video_panoptic import things_first_metainfo

__all__ = ['CityscapesPanopticDataset', 'CityscapesSTEPDataset']

_SUFFIX = '_leftImg8bit.png'


@DATASETS.register_module()
class CityscapesPanopticDataset(BaseDetDataset):
    """Cityscapes fine; ``data_prefix=dict(img='leftImg8bit/train',
    seg='gtFine/train')``. Without label files (test split) the frame has
    ``seg_map_path=None``, allowed in test mode only."""

    METAINFO = things_first_metainfo(CITYSCAPES_CLASSES, range(19),
                                     CITYSCAPES_THING_IDS, CITYSCAPES_PALETTE)

    def load_data_list(self) -> List[dict]:
        img_root = self.data_prefix.get('img', '')
        seg_root = self.data_prefix.get('seg')
        if not osp.isdir(img_root):
            raise FileNotFoundError(f'{img_root}: Cityscapes image folder '
                                    'not found')
        data_list = []
        for city in sorted(os.listdir(img_root)):
            folder = osp.join(img_root, city)
            if not osp.isdir(folder):
                continue
            for name in sorted(os.listdir(folder)):
                if not name.endswith(_SUFFIX):
                    continue
                stem = name[:-len(_SUFFIX)]
                seg = inst = None
                if seg_root:
                    seg = osp.join(seg_root, city,
                                   f'{stem}_gtFine_labelTrainIds.png')
                    inst = osp.join(seg_root, city,
                                    f'{stem}_gtFine_instanceTrainIds.png')
                    if not osp.exists(seg) or not osp.exists(inst):
                        if not self.test_mode:
                            missing = seg if not osp.exists(seg) else inst
                            raise FileNotFoundError(
                                f'{missing}: label missing (run '
                                'tools/dataset/cityscapes_prepare.py)')
                        seg = inst = None
                img = osp.join(folder, name)
                data_list.append(dict(img_path=img, seg_map_path=seg,
                                      inst_map_path=inst,
                                      img_id=len(data_list), instances=[]))
        return data_list

    def filter_data(self) -> List[dict]:
        return self.data_list

    def get_data_info(self, idx: int) -> dict:
        info = super().get_data_info(idx)
        info.update(label_ids=tuple(self.metainfo['label_ids']),
                    num_things=len(self.metainfo['thing_classes']),
                    ignore_index=int(self.metainfo.get('ignore_index', 255)))
        return info

    def get_cat_ids(self, idx: int) -> List[int]:
        return []


@DATASETS.register_module()
class CityscapesSTEPDataset(CityscapesPanopticDataset):
    """Cityscapes in the KITTI-STEP label space (2 things + 17 stuff)."""

    METAINFO = things_first_metainfo(CITYSCAPES_CLASSES, range(19),
                                     KITTI_STEP_THING_IDS, CITYSCAPES_PALETTE)
