"""Panoptic annotation loaders, one per on-disk encoding.

Each loader only *decodes* its file into (dataset category ids, segment
keys, crowd mask); :func:`panoptic_targets` turns that into the model's
targets. Used per frame inside mmcv's ``TransformBroadcaster``.

A frame's ``results`` must hold ``seg_map_path`` (None: no labels, nothing
is loaded), ``label_ids`` (model label -> dataset id) and ``num_things``,
which the dataset classes put into every frame's data info.

Outputs (mmdet 3.x names): ``gt_seg_map`` (H x W uint8, model labels, 255
void), ``gt_masks`` (BitmapMasks of non-crowd things), ``gt_bboxes``
(float32 N x 4 array from the masks, x2/y2 exclusive as mmdet 3.x; NumPy
like mmdet's ``LoadTrackAnnotations``, as ``PackTrackInputs`` needs),
``gt_bboxes_labels``, ``gt_instances_ids`` (int64) and ``gt_ignore_flags``.
"""
from typing import Optional, Tuple

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.fileio import get

from mmdet.registry import TRANSFORMS
from mmdet.structures.bbox import HorizontalBoxes
from mmdet.structures.mask import BitmapMasks

from knet.formats.kitti_step import decode_kitti_step
from .panoptic_targets import label_lut, panoptic_targets

__all__ = [
    'LoadPanopticTargets', 'LoadKittiStepPanoptic', 'LoadVIPSegPanoptic',
    'LoadCityscapesPanoptic', 'LoadCityscapesVPSPanoptic',
    'LoadCocoPanopticAnnotations'
]

Decoded = Tuple[np.ndarray, np.ndarray, np.ndarray]


class LoadPanopticTargets(BaseTransform):
    """Base class: read ``seg_map_path``, decode, build the targets.

    Frames without things are kept (the original release dropped them); a
    label map whose size differs from the image's ``ori_shape`` is an
    error naming the file.

    Args:
        backend_args (dict, optional): mmengine file backend arguments.
    """

    #: dataset ids must be smaller than this (uint16 label files)
    lut_size = 65536

    def __init__(self, backend_args: Optional[dict] = None) -> None:
        self.backend_args = backend_args
        self._luts = {}

    def read(self, path: str, flag: str = 'unchanged',
             channel_order: str = 'rgb') -> np.ndarray:
        """Read an image file unchanged (RGB order for colour files)."""
        data = get(path, backend_args=self.backend_args)
        try:
            img = mmcv.imfrombytes(data, flag=flag,
                                   channel_order=channel_order,
                                   backend='cv2')
        except Exception:  # cv2 fails on the colour conversion of None
            img = None
        if img is None:
            raise ValueError(f'{path}: cannot decode image')
        return img

    def decode(self, results: dict) -> Decoded:
        """Return (category ids, segment keys, crowd mask) of one frame."""
        raise NotImplementedError

    def _lut(self, label_ids) -> np.ndarray:
        key = tuple(int(i) for i in label_ids)
        if key not in self._luts:
            self._luts[key] = label_lut(key, size=self.lut_size)
        return self._luts[key]

    def transform(self, results: dict) -> Optional[dict]:
        if results.get('seg_map_path') is None:
            return results
        category, segment, crowd = self.decode(results)
        targets = panoptic_targets(
            category, segment, crowd, self._lut(results['label_ids']),
            int(results['num_things']),
            int(results.get('ignore_index', 255)))
        height, width = category.shape
        shape = results.get('ori_shape')
        if shape is not None and tuple(shape[:2]) != (height, width):
            raise ValueError(f"{results['seg_map_path']}: label size "
                             f'{height}x{width} differs from the image '
                             f'({shape[0]}x{shape[1]})')
        masks = BitmapMasks(targets['masks'], height, width)
        results['gt_seg_map'] = targets['gt_seg_map']
        results['gt_masks'] = masks
        results['gt_bboxes'] = masks.get_bboxes(HorizontalBoxes).numpy()
        results['gt_bboxes_labels'] = targets['labels']
        results['gt_instances_ids'] = targets['instances_ids']
        results['gt_ignore_flags'] = np.zeros(len(targets['labels']), bool)
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}()'


@TRANSFORMS.register_module()
class LoadKittiStepPanoptic(LoadPanopticTargets):
    """KITTI-STEP / Cityscapes-STEP RGB panoptic PNG.

    R = trainId (255 void), instance = G * 256 + B; a thing pixel with
    instance 0 is crowd. Segment key = ``trainId * 10000 + instance`` as in
    the original release (unique while instance ids stay below 10000; the
    real data use < 1000).
    """
    divisor = 10000

    def decode(self, results: dict) -> Decoded:
        rgb = self.read(results['seg_map_path'], flag='color')
        semantic, instance = decode_kitti_step(rgb)
        semantic = semantic.astype(np.int64)
        lut = self._lut(results['label_ids'])
        is_thing = lut[semantic] < int(results['num_things'])
        crowd = is_thing & (instance == 0)
        return semantic, semantic * self.divisor + instance, crowd


@TRANSFORMS.register_module()
class LoadVIPSegPanoptic(LoadPanopticTargets):
    """VIPSeg ``panomasks`` (single channel, read unchanged).

    Decoded with :func:`knet.formats.vipseg.decode_vipseg` (0 void, v < 125
    category v - 1, else category v // 100 - 1). VIPSeg has no crowd; each
    raw value is one segment of the whole video, so the raw value is the
    segment key (a thing with instance 0 is an ordinary instance).
    """

    def decode(self, results: dict) -> Decoded:
        from knet.formats.vipseg import decode_vipseg
        raw = self.read(results['seg_map_path'], flag='unchanged')
        if raw.ndim == 3:
            raw = raw[..., 0]
        category, _ = decode_vipseg(raw)
        category = np.asarray(category).astype(np.int64)
        segment = raw.astype(np.int64)
        return category, segment, np.zeros(raw.shape, dtype=bool)


@TRANSFORMS.register_module()
class LoadCityscapesPanoptic(LoadPanopticTargets):
    """Cityscapes trainId + instanceTrainIds PNG pair (Cityscapes-VPS too).

    ``seg_map_path`` is the ``*_labelTrainIds.png`` (255 void); the frame's
    ``inst_map_path`` the cityscapesscripts ``*_instanceTrainIds.png``,
    where a thing instance is ``trainId * 1000 + k`` and a value < 1000 on a
    thing class is crowd. The segment key is the instanceTrainIds value.
    Without ``inst_map_path`` every thing pixel is crowd (semantic only).
    """

    def decode(self, results: dict) -> Decoded:
        semantic = self.read(results['seg_map_path']).astype(np.int64)
        if semantic.ndim == 3:
            semantic = semantic[..., 0]
        lut = self._lut(results['label_ids'])
        is_thing = lut[np.clip(semantic, 0, self.lut_size - 1)] < int(
            results['num_things'])
        if results.get('inst_map_path') is None:
            return semantic, np.zeros_like(semantic), is_thing
        inst = self.read(results['inst_map_path']).astype(np.int64)
        if inst.ndim == 3:
            inst = inst[..., 0]
        crowd = is_thing & (inst < 1000)
        return semantic, inst, crowd


@TRANSFORMS.register_module()
class LoadCityscapesVPSPanoptic(LoadPanopticTargets):
    """Cityscapes-VPS labels in VPSNet's two encodings.

    * With ``segments_info`` (val): RGB panopticapi PNG, id = R + 256 G +
      256^2 B; each listed segment gives its ``category_id`` (trainId) and
      ``iscrowd``; unlisted ids (0) are void. Segment key = the segment id.
    * With ``vps_instances`` (train): uint8 trainId map (255 void) plus the
      COCO RLE instances with ``inst_id``; thing pixels covered by no
      non-crowd instance are crowd. Segment key = ``inst_id``.
    """

    def decode(self, results: dict) -> Decoded:
        from knet.formats.panopticapi import rgb2id
        if 'segments_info' in results:
            ids = rgb2id(self.read(results['seg_map_path'], flag='color'))
            infos = results['segments_info']
            seg_ids = np.array([s['id'] for s in infos] + [0], np.int64)
            cats = np.array([s['category_id'] for s in infos] + [255],
                            np.int64)
            crowds = np.array([bool(s.get('iscrowd', 0)) for s in infos] +
                              [False])
            order = np.argsort(seg_ids)
            pos = np.searchsorted(seg_ids[order], ids)
            pos = np.clip(pos, 0, len(order) - 1)
            known = seg_ids[order][pos] == ids
            idx = order[pos]
            category = np.where(known, cats[idx], 255)
            crowd = known & crowds[idx]
            return category, ids, crowd
        from knet.formats.coco_mask import rle_to_mask
        semantic = self.read(results['seg_map_path']).astype(np.int64)
        if semantic.ndim == 3:
            semantic = semantic[..., 0]
        lut = self._lut(results['label_ids'])
        is_thing = lut[np.clip(semantic, 0, self.lut_size - 1)] < int(
            results['num_things'])
        segment = np.zeros(semantic.shape, np.int64)
        covered = np.zeros(semantic.shape, bool)
        h, w = semantic.shape
        for inst in results.get('vps_instances', []):
            if inst['iscrowd']:
                continue
            mask = rle_to_mask(inst['mask'], h, w)
            segment[mask] = inst['inst_id']
            covered |= mask
        return semantic, segment, is_thing & ~covered


@TRANSFORMS.register_module()
class LoadCocoPanopticAnnotations(LoadPanopticTargets):
    """COCO panoptic PNG + mmdet ``CocoPanopticDataset`` ``segments_info``.

    Replaces mmdet's ``LoadPanopticAnnotations``, which needs the git-only
    ``panopticapi`` package. mmdet's ``segments_info`` already holds model
    labels (``category``: things first) and marks crowd things with
    ``is_thing=False``; ids not listed are void. Segment key = segment id.
    """

    def __init__(self, num_things: int = 80, **kwargs) -> None:
        super().__init__(**kwargs)
        self.num_things = num_things

    def decode(self, results: dict) -> Decoded:
        from knet.formats.panopticapi import rgb2id
        ids = rgb2id(self.read(results['seg_map_path'], flag='color'))
        infos = results.get('segments_info', [])
        seg_ids = np.array([s['id'] for s in infos] + [-1], np.int64)
        labels = np.array([s['category'] for s in infos] + [255], np.int64)
        crowd = np.array([not s['is_thing'] for s in infos] + [False])
        order = np.argsort(seg_ids)
        pos = np.clip(np.searchsorted(seg_ids[order], ids), 0,
                      len(order) - 1)
        idx = order[pos]
        known = seg_ids[idx] == ids
        category = np.where(known, labels[idx], 255)
        is_crowd = known & crowd[idx] & (category < self.num_things)
        return category, ids, is_crowd

    def transform(self, results: dict) -> Optional[dict]:
        results.setdefault('num_things', self.num_things)
        results.setdefault('label_ids', tuple(range(256 - 1)))
        return super().transform(results)
