"""COCO panoptic PQ / SQ / RQ without the git-only ``panopticapi`` package.

A drop-in for mmdet's ``CocoPanopticMetric`` (same arguments but its
``nproc``, which nothing here would read; same result keys: ``PQ``, ``SQ``,
``RQ``, ``PQ_th`` ... ``RQ_st``, x100) computing what panopticapi's
``pq_compute`` computes, with the project's NumPy code
(:class:`knet.evaluation.functional.pq.PQAccumulator`):

* a predicted and a ground-truth segment of the same category match when
  IoU > 0.5 (exactly 0.5 is no match), the prediction's overlap with GT void
  (id 0) left out of the union;
* crowd GT segments (``iscrowd``) are never matched nor FN; an unmatched
  prediction is not a FP when more than half of it lies on void plus the
  (last listed) crowd segment of its category;
* PQ / SQ / RQ are averaged over the categories with TP + FP + FN > 0
  (all categories of ``ann_file``; things / stuff by its ``isthing``).
  Where the reference divides by zero (no such category) we report NaN.

Predictions: ``pred_panoptic_seg.sem_seg`` ([1, H, W], mmdet encoding
``label + instance_id * INSTANCE_OFFSET``; ``label == num_classes`` or the
map's ``ignore_index`` is void). Every distinct value is one segment, as
in mmdet. Labels are mapped to ``ann_file`` categories by class name.

Ground truth: with ``ann_file`` the image's ``segments_info`` come from the
JSON and the PNG is ``seg_prefix/<annotation file_name>``; without it, from
the data sample's ``seg_map_path`` and ``segments_info`` (mmdet's dataset
fields; categories from ``dataset_meta``). Differences from panopticapi,
only for malformed ground truth: GT areas are counted on the PNG (panopticapi
takes the JSON ``area``), a PNG id missing from ``segments_info`` is an error
(panopticapi ignores it), and a crowd segment listed but absent from the PNG
does not shadow an earlier crowd segment of its category.

Distributed evaluation: each image leaves only its non-zero rows of
per-category TP / FP / FN / summed IoU (the accumulator state), summed in
:meth:`compute_metrics`. With ``outfile_prefix`` (a folder) the predictions
are also written in panopticapi's format, atomically: ``panoptic/*.png``
(RGB ids, 0 = void) during :meth:`process` (each rank its own images; use a
shared folder across nodes) and ``panoptic.json`` in :meth:`compute_metrics`.
``format_only`` writes them and computes nothing (e.g. test-dev).
"""
import io
import os.path as osp
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmdet.evaluation.functional import INSTANCE_OFFSET
from mmdet.registry import METRICS
from mmengine.evaluator import BaseMetric
from mmengine.fileio import get, get_local_path
from mmengine.logging import MMLogger, print_log

from knet.evaluation.functional.pq import PQAccumulator
from knet.evaluation.functional.segments import (UnknownIdError, compact,
                                                 make_keys, pair_table_known)
from knet.formats.coco_panoptic import validate_panoptic_json
from knet.formats.io import DataError, dump_json, load_json, save_image
from knet.formats.panopticapi import id2rgb, rgb2id

__all__ = ['KNetCocoPanopticMetric', 'mmdet_to_segments']

_METRIC_KEYS = (('All', ''), ('Things', '_th'), ('Stuff', '_st'))


def mmdet_to_segments(pan: np.ndarray, num_classes: int,
                      ignore_index: Optional[int] = None):
    """Segments of an mmdet panoptic map.

    Returns (values, index map [H, W] into them, labels, void flags): every
    distinct value of ``pan`` is a segment whose label is
    ``value % INSTANCE_OFFSET``; labels ``num_classes`` / ``ignore_index``
    are void. Raises ValueError for another label outside the classes.
    """
    pan = np.asarray(pan, dtype=np.int64)
    if pan.size and pan.min() < 0:
        raise ValueError('negative value in the predicted panoptic map')
    values, index, _ = compact(pan)
    labels = values % INSTANCE_OFFSET
    void = labels == num_classes
    if ignore_index is not None:
        void |= labels == ignore_index
    bad = (labels >= num_classes) & ~void
    if bad.any():
        raise ValueError(f'predicted label {int(labels[bad][0])} outside the '
                         f'{num_classes} classes')
    return values, index.reshape(pan.shape), labels, void


def _to_numpy(x) -> np.ndarray:
    if hasattr(x, 'detach'):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


@METRICS.register_module()
class KNetCocoPanopticMetric(BaseMetric):
    """COCO panoptic quality (panopticapi semantics, no panopticapi).

    Args:
        ann_file (str, optional): COCO panoptic JSON (``images``,
            ``annotations`` with ``segments_info``, ``categories``). Without
            it the ground truth comes from the data samples.
        seg_prefix (str, optional): folder of the ground-truth PNGs named by
            the annotations' ``file_name`` (needed with ``ann_file`` unless
            ``format_only``).
        classwise (bool): also log the per-class table.
        format_only (bool): only write the predictions (``outfile_prefix``
            required); return no metric.
        outfile_prefix (str, optional): folder for ``panoptic/*.png`` and
            ``panoptic.json`` (panopticapi prediction format).
        backend_args (dict, optional): mmengine file backend for the inputs.
        collect_device, prefix: see ``BaseMetric``.
    """
    default_prefix: Optional[str] = 'coco_panoptic'

    def __init__(self,
                 ann_file: Optional[str] = None,
                 seg_prefix: Optional[str] = None,
                 classwise: bool = False,
                 format_only: bool = False,
                 outfile_prefix: Optional[str] = None,
                 backend_args: Optional[dict] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if format_only and outfile_prefix is None:
            raise ValueError('format_only=True needs outfile_prefix (the '
                             'folder the predictions are written to)')
        self.classwise = classwise
        self.format_only = format_only
        self.outfile_prefix = outfile_prefix
        self.seg_prefix = seg_prefix
        self.backend_args = backend_args
        self.ann_file = ann_file
        #: JSON categories (ann_file) or None (from dataset_meta).
        self._json_categories: Optional[List[dict]] = None
        #: image id -> annotation (file_name, segments_info) from ann_file.
        self._anns: Dict[int, dict] = {}
        self._image_files: Dict[int, str] = {}
        if ann_file:
            with get_local_path(ann_file,
                                backend_args=backend_args) as local:
                data = load_json(local)
            validate_panoptic_json(data, ann_file)
            self._json_categories = list(data['categories'])
            for img in data.get('images', []):
                self._image_files[int(img['id'])] = \
                    osp.splitext(img['file_name'])[0] + '.png'
            for ann in data.get('annotations', []):
                self._anns[int(ann['image_id'])] = ann
            if not format_only and seg_prefix is None:
                raise ValueError('seg_prefix (the ground-truth PNG folder) '
                                 'is needed with ann_file')
        self._cat_cache = None

    # -- categories -------------------------------------------------------
    def _categories(self):
        """(categories [{id, name, isthing}], label -> category index,
        category id -> index), built once ``dataset_meta`` is known."""
        if self._cat_cache is not None:
            return self._cat_cache
        classes = list(self.dataset_meta['classes'])
        if self._json_categories is None:
            things = set(self.dataset_meta.get('thing_classes', ()))
            cats = [dict(id=i, name=n, isthing=int(n in things))
                    for i, n in enumerate(classes)]
        else:
            cats = self._json_categories
        by_name = {c['name']: i for i, c in enumerate(cats)}
        missing = [n for n in classes if n not in by_name]
        if missing:
            raise ValueError(f'{self.ann_file}: classes {missing[:5]} are not '
                             'among its categories')
        label2idx = np.array([by_name[n] for n in classes], dtype=np.int64)
        id2idx = {int(c['id']): i for i, c in enumerate(cats)}
        self._cat_cache = (cats, label2idx, id2idx)
        return self._cat_cache

    # -- ground truth -----------------------------------------------------
    def _read_ids(self, path: str) -> np.ndarray:
        from PIL import Image
        try:
            with Image.open(io.BytesIO(get(path, self.backend_args))) as im:
                rgb = np.array(im.convert('RGB'))
        except FileNotFoundError:
            raise DataError(f'{path}: file not found') from None
        except Exception as e:  # PIL raises many types for broken files
            raise DataError(f'{path}: cannot decode image ({e})') from None
        return rgb2id(rgb)

    def _ground_truth(self, sample: dict):
        """(PNG path, segment ids, category indices, crowd flags) in
        ``segments_info`` order."""
        cats, label2idx, id2idx = self._categories()
        img_id = int(sample['img_id'])
        if self.ann_file:
            ann = self._anns.get(img_id)
            if ann is None:
                raise DataError(f'{self.ann_file}: no annotation for image '
                                f'{img_id}')
            path = osp.join(self.seg_prefix, ann['file_name'])
            infos = ann['segments_info']
            try:
                cat = [id2idx[int(s['category_id'])] for s in infos]
            except KeyError as e:
                raise DataError(f'{self.ann_file}: image {img_id} has a '
                                f'segment of unknown category {e}') from None
            crowd = [int(s.get('iscrowd', 0)) == 1 for s in infos]
        else:
            infos = sample.get('segments_info')
            path = sample.get('seg_map_path')
            if path is None and self.seg_prefix is not None:
                path = osp.join(self.seg_prefix, osp.splitext(
                    osp.basename(sample['img_path']))[0] + '.png')
            if infos is None or path is None:
                raise ValueError(
                    'KNetCocoPanopticMetric without ann_file needs '
                    '"segments_info" and "seg_map_path" in the data samples '
                    '(add them to PackDetInputs meta_keys) or an ann_file')
            cat = [int(label2idx[int(s['category'])]) for s in infos]
            # mmdet's dataset marks a crowd thing with is_thing = False
            crowd = [bool(cats[c]['isthing']) and not s['is_thing']
                     for c, s in zip(cat, infos)]
        ids = np.array([int(s['id']) for s in infos], dtype=np.int64)
        return path, ids, np.array(cat, np.int64), np.array(crowd, bool)

    # -- processing -------------------------------------------------------
    def _segm_file(self, sample: dict) -> str:
        img_id = int(sample['img_id'])
        if img_id in self._anns:
            return self._anns[img_id]['file_name']
        if img_id in self._image_files:
            return self._image_files[img_id]
        return osp.splitext(osp.basename(sample['img_path']))[0] + '.png'

    def _write_prediction(self, sample: dict, values, index, labels,
                          void) -> dict:
        """Write the panopticapi PNG; return the image's JSON annotation."""
        cats, label2idx, _ = self._categories()
        keep = ~void
        # mmdet's ids where they are valid panopticapi ids (0 is void)
        if (values[keep] > 0).all() and \
                (values.size == 0 or values.max() < 256**3):
            ids = np.where(keep, values, 0)
        else:
            ids = np.where(keep, np.cumsum(keep), 0)
        counts = np.bincount(index.ravel(), minlength=values.size)
        segm_file = self._segm_file(sample)
        save_image(osp.join(self.outfile_prefix, 'panoptic', segm_file),
                   id2rgb(ids[index]))
        segments = []
        for i in np.flatnonzero(keep):
            cat = cats[int(label2idx[labels[i]])]
            segments.append(dict(id=int(ids[i]), category_id=int(cat['id']),
                                 iscrowd=0, isthing=int(cat['isthing']),
                                 area=int(counts[i])))
        return dict(image_id=int(sample['img_id']), file_name=segm_file,
                    segments_info=segments)

    def _image_stats(self, sample: dict, values, index, labels, void):
        """Non-zero rows of the image's TP / FP / FN / IoU per category."""
        cats, label2idx, _ = self._categories()
        path, gt_ids, gt_cat, gt_crowd = self._ground_truth(sample)
        gt = self._read_ids(path)
        if gt.shape != index.shape:
            raise DataError(f'{path}: ground truth is {gt.shape[0]}x'
                            f'{gt.shape[1]} but the prediction is '
                            f'{index.shape[0]}x{index.shape[1]}')
        try:
            g, p, c = pair_table_known(gt, gt_ids, index,
                                       np.arange(values.size))
        except UnknownIdError as e:
            raise DataError(f'{path}: segment id {e.value} is not in its '
                            'segments_info') from None
        # raw ids -> keys (category, crowd); GT id 0 unlisted = void
        gt_keys = make_keys(gt_cat, gt_ids, gt_crowd)
        g_key = np.zeros(g.size, np.int64)  # unlisted (id 0): void
        if gt_ids.size:
            srt = np.argsort(gt_ids, kind='stable')
            pos = np.minimum(np.searchsorted(gt_ids[srt], g), gt_ids.size - 1)
            hit = gt_ids[srt][pos] == g
            g_key[hit] = gt_keys[srt][pos[hit]]
        p_cat = np.where(void, 0, label2idx[np.where(void, 0, labels)])
        p_keys = make_keys(p_cat, np.arange(values.size), void=void)
        acc = PQAccumulator(len(cats))
        acc.update((g_key, p_keys[p], c), order=gt_keys)
        # panopticapi counts a listed, non-crowd GT segment as FN even when
        # the PNG does not hold it
        absent = ~np.isin(gt_ids, g) & ~gt_crowd
        np.add.at(acc.stats[:, 2], gt_cat[absent], 1)
        rows = np.flatnonzero(acc.stats.any(axis=1))
        return rows, acc.stats[rows]

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Keep each image's small PQ state (and write its prediction)."""
        num_classes = len(self.dataset_meta['classes'])
        for sample in data_samples:
            if hasattr(sample, 'to_dict'):
                sample = sample.to_dict()
            pred = sample['pred_panoptic_seg']
            pan = _to_numpy(pred['sem_seg'])
            pan = pan[0] if pan.ndim == 3 else pan
            values, index, labels, void = mmdet_to_segments(
                pan, num_classes, pred.get('ignore_index', num_classes))
            result = dict(img_id=int(sample['img_id']))
            if self.outfile_prefix is not None:
                result['annotation'] = self._write_prediction(
                    sample, values, index, labels, void)
            if not self.format_only:
                result['rows'], result['stats'] = self._image_stats(
                    sample, values, index, labels, void)
            self.results.append(result)

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Sum the images' states; PQ / SQ / RQ x100 (mmdet's keys)."""
        logger: MMLogger = MMLogger.get_current_instance()
        cats, _, _ = self._categories()
        if self.outfile_prefix is not None:
            path = osp.join(self.outfile_prefix, 'panoptic.json')
            dump_json(dict(annotations=[r['annotation'] for r in results],
                           categories=cats), path)
            print_log(f'panoptic predictions written to {path}', logger)
        if self.format_only:
            return dict()
        acc = PQAccumulator(len(cats))
        for r in results:
            acc.stats[np.asarray(r['rows'], np.int64)] += r['stats']
        things = [i for i, c in enumerate(cats) if c['isthing']]
        stuff = [i for i, c in enumerate(cats) if not c['isthing']]
        res = acc.result(things, stuff)
        metrics = {}
        for name, suffix in _METRIC_KEYS:
            if res[name]['pq'] is None:
                print_log(f'PQ {name}: no category has a segment (NaN)',
                          logger, level=30)
            for k in ('pq', 'sq', 'rq'):
                v = res[name][k]
                metrics[k.upper() + suffix] = float('nan') if v is None \
                    else float(v)
        self._log_tables(res, cats, logger)
        return metrics

    def _log_tables(self, res: dict, cats: List[dict], logger) -> None:
        # mmdet's printer takes fractions
        from mmdet.evaluation.metrics.coco_panoptic_metric import \
            print_panoptic_table
        nan = float('nan')
        table = {name: {k: (nan if res[name][k] is None else
                            res[name][k] / 100) for k in ('pq', 'sq', 'rq')}
                 for name, _ in _METRIC_KEYS}
        for name, _ in _METRIC_KEYS:
            table[name]['n'] = res[name]['n']
        classwise = None
        if self.classwise:
            classwise = {cats[i]['name']: res['per_class'][i]
                         for i in sorted(res['per_class'])}
        print_panoptic_table(table, classwise, logger=logger)
