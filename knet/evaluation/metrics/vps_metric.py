"""Video panoptic metrics for the test / validation loops.

``VPSMetric`` computes VPQ over sliding windows (VIPSeg, Cityscapes-VPS,
KITTI-STEP); ``KittiSTEPMetric`` adds STQ / AQ / SQ. The maths is the pure
NumPy code of ``knet.evaluation.functional`` (see its docstrings for the
official quirks kept).

Predictions: each frame's ``pred_panoptic_seg.sem_seg`` (model labels, every
pixel) and ``pred_panoptic_seg.track_ids`` (>= 1 on things, 0 elsewhere);
labels are mapped back to the dataset's ids with ``dataset_meta['label_ids']``.

Ground truth reaches the metric in one of two ways (``gt_source``):

* ``'data_sample'``: the frame's ``gt_sem_seg`` (model labels, 255 void) and
  ``gt_instances`` (``masks`` + ``instances_ids``) at the original size, as
  the panoptic loaders pack them; a thing pixel outside every instance mask
  is crowd.
* ``'file'``: the ground-truth PNG named by the metainfo key
  ``seg_map_path`` (packed by ``PackVideoPanopticInputs``), decoded as the
  benchmark stores it (KITTI-STEP RGB, VIPSeg raw panomask, Cityscapes-VPS
  panopticapi RGB + the frame's ``segments_info`` metainfo) by the readers
  that ``tools/eval_vps.py`` uses (:mod:`knet.evaluation.offline.files`).
* ``'auto'`` (default): the data sample when it has ``gt_sem_seg`` at the
  prediction's size, else the file (the test pipelines load no
  annotations). Frames with neither (e.g. the unannotated Cityscapes-VPS
  frames) are skipped, so windows run over annotated frames as in VPSNet's
  evaluation.

Distributed evaluation: frames must arrive in order within a video and each
video on one rank (mmdet's ``TrackImgSampler``). Each rank keeps only the
last ``max(windows)`` frame tables of the current video and, when a video
ends, stores the video's small additive state (VPQ TP/FP/FN/IoU per window
and category, STQ per-sequence tube and confusion counts) in
``self.results``; ranks' states are summed in ``compute_metrics``.
"""
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmdet.evaluation.metrics.base_video_metric import BaseVideoMetric
from mmdet.registry import METRICS
from mmengine.dist import all_gather_object, is_main_process
from mmengine.logging import MMLogger

from knet.evaluation.functional.frames import semantic_instance_keys
from knet.evaluation.functional.stq import STQAccumulator
from knet.evaluation.functional.vpq import VPQAccumulator, VPQStats
from knet.evaluation.offline import benchmarks
from knet.evaluation.offline.files import (LabelFrame, frame_table,
                                           read_ground_truth)
from knet.formats.labels import LabelSpace
from knet.formats.panopticapi import parse_segments_info

__all__ = ['VPSMetric', 'KittiSTEPMetric']


def _get(obj, key, default=None):
    if isinstance(obj, dict):
        return obj.get(key, default)
    return getattr(obj, key, default)


def _numpy(x) -> Optional[np.ndarray]:
    if x is None:
        return None
    if hasattr(x, 'detach'):
        x = x.detach().cpu().numpy()
    elif hasattr(x, 'to_ndarray'):  # BitmapMasks
        x = x.to_ndarray()
    elif hasattr(x, 'masks') and not isinstance(x, np.ndarray):
        x = x.masks
    return np.asarray(x)


@METRICS.register_module()
class VPSMetric(BaseVideoMetric):
    """VPQ over sliding windows for video panoptic segmentation.

    Args:
        dataset_type: 'kitti-step', 'vipseg' or 'cityscapes-vps' (GT file
            decoding and default windows).
        windows: window lengths in frames (default per dataset: KITTI-STEP
            1-4, VIPSeg 1 2 4 6 8, Cityscapes-VPS 1-4 reported as k = 0..15).
        window_labels: names of the windows in the output keys.
        convention: 'vpsnet' (default) or 'vip-deeplab'.
        gt_source: 'auto', 'data_sample' or 'file' (see the module doc).
        ignore_index: void label in gt / predicted semantic maps.
        with_stq: also compute STQ / AQ / SQ.
        ann_file: Cityscapes-VPS panoptic GT JSON
            (``panoptic_gt_val_city_vps.json``) giving each frame's
            ``segments_info`` by ``img_id`` when the metainfo lacks it.
        outfile_prefix: if set, predictions are also written in the
            benchmark's submission layout under this folder.
        format_only: only write the predictions, compute nothing.
    """
    default_prefix: Optional[str] = 'vps'

    def __init__(self,
                 dataset_type: str = 'kitti-step',
                 windows: Optional[Sequence[int]] = None,
                 window_labels: Optional[Sequence[str]] = None,
                 convention: str = 'vpsnet',
                 gt_source: str = 'auto',
                 ignore_index: int = 255,
                 with_stq: bool = False,
                 ann_file: Optional[str] = None,
                 outfile_prefix: Optional[str] = None,
                 format_only: bool = False,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if dataset_type not in benchmarks.VPS_BENCHMARKS:
            raise ValueError(f'unknown dataset_type {dataset_type!r}')
        if gt_source not in ('auto', 'data_sample', 'file'):
            raise ValueError(f'unknown gt_source {gt_source!r}')
        if format_only and not outfile_prefix:
            raise ValueError('format_only needs outfile_prefix')
        self.dataset_type = dataset_type
        self.windows = benchmarks.vpq_windows(dataset_type, windows)
        self.window_labels = [str(x) for x in (
            window_labels or
            benchmarks.window_labels(dataset_type, self.windows))]
        self.convention = convention
        self.gt_source = gt_source
        self.ignore_index = ignore_index
        self.with_stq = with_stq
        self.ann_file = ann_file
        self._segments = None
        self.outfile_prefix = outfile_prefix
        self.format_only = format_only
        self._video = None
        self._vpq: Optional[VPQAccumulator] = None
        self._stq: Optional[STQAccumulator] = None
        self._writer = None

    # -- label spaces ------------------------------------------------------
    def _meta(self) -> LabelSpace:
        return LabelSpace(self.dataset_meta, self.ignore_index)

    # -- ground truth ------------------------------------------------------
    def _gt_frame(self, sample, meta: LabelSpace,
                  shape) -> Optional[LabelFrame]:
        """The frame's ground truth (see the module doc), or None."""
        gt_sem = _get(sample, 'gt_sem_seg')
        sem = None
        if gt_sem is not None:
            sem = _numpy(_get(gt_sem, 'sem_seg'))
            sem = sem.reshape(sem.shape[-2:])
        path = _get(sample, 'seg_map_path') or \
            _get(_get(sample, 'metainfo', {}), 'seg_map_path')
        use_sample = self.gt_source == 'data_sample' or (
            self.gt_source == 'auto' and sem is not None and
            (sem.shape == shape or path is None))
        if use_sample:
            if sem is None:
                return None
            if sem.shape != shape:
                raise ValueError(
                    f'gt_sem_seg is {sem.shape} but the prediction is '
                    f'{shape}: keep the ground truth at the original size '
                    f'(load annotations after Resize) or let the metric '
                    f'read the file named by seg_map_path')
            return LabelFrame(self._sample_keys(sample, sem, meta, shape))
        if path is None:
            return None
        return self._file_frame(sample, str(path), meta)

    def _sample_keys(self, sample, sem, meta: LabelSpace,
                     shape) -> np.ndarray:
        sem = meta.to_dataset(sem)
        inst = np.zeros(shape, dtype=np.int64)
        gi = _get(sample, 'gt_instances')
        if gi is not None and _get(gi, 'masks') is not None:
            masks = _numpy(_get(gi, 'masks')).astype(bool)
            ids = _numpy(_get(gi, 'instances_ids'))
            if ids is None:
                ids = np.arange(1, len(masks) + 1)
            for m, i in zip(masks, np.asarray(ids).ravel()):
                inst[m] = int(i) + 1  # +1: instance 0 means crowd
        return semantic_instance_keys(sem, inst, meta.thing_ids,
                                      self.ignore_index, crowd=True)

    def _file_frame(self, sample, path: str,
                    meta: LabelSpace) -> LabelFrame:
        segments = None
        if self.dataset_type == 'cityscapes-vps':
            info = _get(sample, 'segments_info')
            if info is None and self.ann_file:
                info = self._segments_by_image().get(_get(sample, 'img_id'))
            if info is None:
                raise ValueError(
                    f'{path}: the metric needs the frame\'s segments_info; '
                    f'set the metric\'s ann_file (the panoptic GT JSON), '
                    f'add meta_keys=(\'segments_info\', ) to '
                    f'PackVideoPanopticInputs or pass the ground truth in '
                    f'the data sample')
            try:
                segments = parse_segments_info(info)
            except ValueError as e:
                raise ValueError(f'{path}: {e}') from None
        isthing = np.zeros(meta.num_ids, bool)
        isthing[list(meta.thing_ids)] = True
        return read_ground_truth(self.dataset_type, path,
                                 num_classes=meta.num_ids,
                                 things=meta.thing_ids, isthing=isthing,
                                 segments=segments)

    def _segments_by_image(self) -> dict:
        """image_id -> segments_info of ``ann_file`` (read once)."""
        if self._segments is None:
            from knet.formats.io import load_json
            data = load_json(self.ann_file)
            self._segments = {a['image_id']: a['segments_info']
                              for a in data.get('annotations', [])}
        return self._segments

    # -- per frame -----------------------------------------------------------
    def _flush(self) -> None:
        if self._vpq is not None:
            item = dict(vpq=self._vpq.stats.state_dict())
            if self._stq is not None:
                item['stq'] = self._stq.state_dict()
            self.results.append(item)
        self._video, self._vpq, self._stq = None, None, None

    def _writer_for(self, meta: LabelSpace):
        if self._writer is None:
            if self.dataset_type == 'kitti-step':
                from knet.evaluation.writers.kitti_step import \
                    KittiStepWriter
                self._writer = KittiStepWriter(self.outfile_prefix,
                                               meta.thing_ids)
            else:
                from knet.evaluation.writers.panoptic_video import \
                    PanopticVideoWriter
                self._writer = PanopticVideoWriter(self.outfile_prefix,
                                                   meta.thing_ids,
                                                   self.dataset_type)
        return self._writer

    def _write(self, sample, meta, sem, track) -> None:
        writer = self._writer_for(meta)
        video_id = _get(sample, 'video_id')
        frame_id = int(_get(sample, 'frame_id', 0))
        seq = _get(sample, 'seq_name', None) or video_id
        if self.dataset_type == 'kitti-step':
            writer.write(int(seq), frame_id, sem, track)
        else:
            img_path = str(_get(sample, 'img_path', f'{frame_id:06d}.png'))
            stem = img_path.rsplit('/', 1)[-1].rsplit('.', 1)[0]
            image_id = _get(sample, 'img_id', stem)
            # VIPSeg: the PNG takes the frame's name; Cityscapes-VPS (VPSNet):
            # pan_pred/<image id>.png
            name = str(image_id) if self.dataset_type == 'cityscapes-vps' \
                else stem
            writer.write(str(seq), f'{name}.png', sem, track,
                         image_id=image_id)

    def process_frame(self, sample, meta: LabelSpace) -> None:
        pan = _get(sample, 'pred_panoptic_seg')
        sem = _numpy(_get(pan, 'sem_seg'))
        sem = meta.to_dataset(sem.reshape(sem.shape[-2:]))
        track = _get(pan, 'track_ids')
        track = np.zeros(sem.shape, np.int64) if track is None else \
            _numpy(track).reshape(sem.shape).astype(np.int64)
        if self.outfile_prefix:
            self._write(sample, meta, sem, track)
        if self.format_only:
            return
        video_id = _get(sample, 'video_id')
        if video_id != self._video:
            self._flush()
            self._video = video_id
            self._vpq = VPQAccumulator(meta.num_ids, self.windows,
                                       self.convention)
            if self.with_stq:
                self._stq = STQAccumulator(meta.num_ids, meta.thing_ids)
        gt = self._gt_frame(sample, meta, sem.shape)
        if gt is not None:
            pred = semantic_instance_keys(sem, np.where(np.isin(
                sem, meta.thing_ids), track, 0), meta.thing_ids,
                self.ignore_index, crowd=False)
            where = str(_get(sample, 'img_path', 'the prediction'))
            table = frame_table(gt, LabelFrame(pred, where))
            self._vpq.update(table, video_id, order=gt.order)
            if self._stq is not None:
                self._stq.update(table, video_id)
        # in test mode mmdet's BaseVideoDataset gives each one-frame sample
        # video_length=1 and the real length in ori_video_length
        length = _get(sample, 'ori_video_length')
        if length is None:
            length = _get(sample, 'video_length')
        if length is not None and \
                int(_get(sample, 'frame_id', -1)) == int(length) - 1:
            self._flush()

    def process(self, data_batch: dict, data_samples: Sequence) -> None:
        meta = self._meta()
        for track_sample in data_samples:
            frames = _get(track_sample, 'video_data_samples')
            if frames is None:
                frames = [track_sample]
            for sample in frames:
                self.process_frame(sample, meta)

    def _reduce_results(self) -> None:
        """Sum this rank's per-video states into one small item before they
        are gathered (VPQ stats add; STQ states are keyed by sequence)."""
        items = [r for r in self.results if 'vpq' in r]
        if len(items) <= 1:
            return
        stats = VPQStats.from_state_dict(items[0]['vpq'])
        stq = {}
        for r in items[1:]:
            stats.merge(VPQStats.from_state_dict(r['vpq']))
        for r in items:
            for seq, st in r.get('stq', {}).items():
                if seq in stq:  # a sequence seen twice: add its counts
                    acc = STQAccumulator.from_state_dict(
                        {seq: stq[seq]}, st['confusion'].shape[0] - 1, ())
                    acc.merge(STQAccumulator.from_state_dict(
                        {seq: st}, st['confusion'].shape[0] - 1, ()))
                    st = acc.state_dict()[seq]
                stq[seq] = st
        item = dict(vpq=stats.state_dict())
        if self.with_stq:
            item['stq'] = stq
        self.results[:] = [r for r in self.results if 'vpq' not in r] + \
            [item]

    def _close_writer(self) -> None:
        """Write pred.json once, on rank 0, with every rank's frames (the
        PNGs are already written by each rank). A collective call: every
        rank gets here, with or without frames."""
        if not self.outfile_prefix or self.dataset_type == 'kitti-step':
            self._writer = None
            return
        mine = self._writer.videos if self._writer is not None else {}
        parts = all_gather_object(mine)
        if is_main_process():
            writer = self._writer_for(self._meta())
            writer.videos = {}
            for part in parts:
                writer.merge(part)
            writer.close()
        self._writer = None

    def evaluate(self, size: int = 1) -> dict:
        self._flush()
        self._reduce_results()
        self._close_writer()
        if self.format_only:
            self.results.append(dict(format_only=True))
        return super().evaluate(size)

    # -- results -------------------------------------------------------------
    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        logger = MMLogger.get_current_instance()
        results = [r for r in results if 'vpq' in r]
        if not results:
            if self.outfile_prefix:
                logger.info(f'predictions written to {self.outfile_prefix}')
            return {}
        meta = self._meta()
        stats = VPQStats(self.windows, meta.num_ids)
        for r in results:
            stats.merge(VPQStats.from_state_dict(r['vpq']))
        v = stats.result(meta.thing_ids, meta.stuff_ids, self.convention,
                         self.window_labels)
        for w in v['warnings']:
            logger.warning(w)
        out = {}
        if self.with_stq:
            stq = STQAccumulator(meta.num_ids, meta.thing_ids)
            for r in results:
                stq.merge(STQAccumulator.from_state_dict(
                    r['stq'], meta.num_ids, meta.thing_ids))
            s = stq.result()
            out.update(STQ=s['STQ'], AQ=s['AQ'], SQ=s['SQ'])
        out.update(VPQ=v['VPQ'], VPQ_thing=v['VPQ_thing'],
                   VPQ_stuff=v['VPQ_stuff'])
        for label, val in v['VPQ_per_window'].items():
            out[f'VPQ@{label}'] = val
        # mmengine logs floats; undefined values become -1 with a warning
        return {k: (-1.0 if x is None else float(x)) for k, x in out.items()}


@METRICS.register_module()
class KittiSTEPMetric(VPSMetric):
    """STQ (19 classes, things person/car) + VPQ windows 1-4 on KITTI-STEP."""
    default_prefix: Optional[str] = 'step'

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault('dataset_type', 'kitti-step')
        kwargs.setdefault('with_stq', True)
        super().__init__(**kwargs)

