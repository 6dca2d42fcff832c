"""Cityscapes-VPS video panoptic dataset (VPSNet layout).

``ann_file`` is one of VPSNet's JSON files; its ``images`` list (file names
``{video:04d}_{frame:04d}_{city}_{seq}_{n}_leftImg8bit.png``) gives the
videos, grouped by the 4-digit video prefix and sorted by frame number:

* train: ``panoptic_im_train_city_vps.json`` + ``ins_ann_file`` =
  ``instances_train_city_vps_rle.json`` (RLE instances with ``inst_id``)
  + ``data_prefix.seg_map_path`` = ``train/labelmap`` (uint8 trainIds,
  ``*_gtFine_color.png``);
* val: ``panoptic_gt_val_city_vps.json`` (``annotations`` with
  ``segments_info``) + ``seg_map_path`` = ``val/panoptic_video`` (RGB
  panopticapi PNGs);
* all frames, no labels: ``im_all_info_val_city_vps.json`` with
  ``img_path`` = ``val/img_all``.

19 classes, things trainIds 11..18 -> model labels 0..7, stuff 0..10 ->
8..18. Only every 5th frame is annotated (6 per video).
"""
import json
import os.path as osp
import re
from collections import defaultdict
from typing import Optional

from mmdet.registry import DATASETS

from knet.formats.cityscapes import (CITYSCAPES_CLASSES, CITYSCAPES_PALETTE,
                                     CITYSCAPES_THING_IDS)
from .video_panoptic import VideoPanopticDataset, things_first_metainfo

__all__ = ['CityscapesVPSDataset', 'CITYSCAPES_VPS_METAINFO']

CITYSCAPES_VPS_METAINFO = things_first_metainfo(
    CITYSCAPES_CLASSES, range(19), CITYSCAPES_THING_IDS, CITYSCAPES_PALETTE)

_NAME = re.compile(r'^(\d+)_(\d+)_')


def _load_json(path: str) -> dict:
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        raise FileNotFoundError(f'{path}: annotation file not found') from None
    except json.JSONDecodeError as e:
        raise ValueError(f'{path}: not valid JSON ({e})') from None


@DATASETS.register_module()
class CityscapesVPSDataset(VideoPanopticDataset):
    """Cityscapes-VPS; see the module docstring for the three modes."""

    METAINFO = CITYSCAPES_VPS_METAINFO

    def __init__(self, *args, ins_ann_file: Optional[str] = None,
                 **kwargs) -> None:
        self.ins_ann_file = ins_ann_file
        super().__init__(*args, **kwargs)

    def _join_prefix(self):
        super()._join_prefix()
        if self.ins_ann_file and not osp.isabs(self.ins_ann_file) \
                and self.data_root:
            self.ins_ann_file = osp.join(self.data_root, self.ins_ann_file)

    def index_videos(self):
        data = _load_json(self.ann_file)
        img_root = self.data_prefix.get('img_path', '')
        seg_root = self.data_prefix.get('seg_map_path')
        panoptic = {a['image_id']: a for a in data.get('annotations', [])
                    if 'segments_info' in a}
        instances = defaultdict(list)
        if self.ins_ann_file:
            for ann in _load_json(self.ins_ann_file).get('annotations', []):
                instances[ann['image_id']].append(dict(
                    mask=ann['segmentation'], inst_id=int(ann['inst_id']),
                    iscrowd=int(ann.get('iscrowd', 0)),
                    category_id=int(ann['category_id'])))
        videos = defaultdict(list)
        for img in data['images']:
            match = _NAME.match(img['file_name'])
            if match is None:
                raise ValueError(f"{self.ann_file}: unexpected file name "
                                 f"{img['file_name']!r}")
            extra, seg = {}, None
            if img['id'] in panoptic:
                ann = panoptic[img['id']]
                seg = osp.join(seg_root, ann['file_name'])
                extra['segments_info'] = ann['segments_info']
            elif self.ins_ann_file and seg_root:
                seg = osp.join(seg_root, img['file_name'].replace(
                    'leftImg8bit.png', 'gtFine_color.png'))
                extra['vps_instances'] = instances.get(img['id'], [])
            if seg is not None and not osp.exists(seg):
                raise FileNotFoundError(f'{seg}: label missing')
            if seg is None and not self.test_mode:
                raise ValueError(f'{self.ann_file}: no labels for '
                                 f"{img['file_name']} in a training split")
            videos[match.group(1)].append(
                (int(match.group(2)), osp.join(img_root, img['file_name']),
                 seg, extra))
        return [(name, [f[1:] for f in sorted(videos[name],
                                              key=lambda f: f[0])])
                for name in sorted(videos, key=int)]

    def video_id_of(self, index: int, seq_name: str) -> int:
        return int(seq_name)
