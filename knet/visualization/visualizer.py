"""MMDetection-style visualiser of video panoptic (and instance) results.

``VideoPanopticVisualizer`` draws a frame's :class:`DetDataSample`:

* prediction: ``pred_panoptic_seg.sem_seg`` (model labels) and
  ``pred_panoptic_seg.track_ids`` (0 = no track), or, for VIS models,
  ``pred_track_instances`` (``masks``, ``labels``, ``scores``,
  ``instances_id``);
* ground truth: ``gt_sem_seg.sem_seg`` plus ``gt_instances`` (``masks`` and
  ``instances_ids``) for the thing tracks.

Both are painted by :func:`knet.visualization.draw.draw_panoptic` (stuff in
class colours, each track in its own id colour) and shown side by side,
ground truth on the left. It is a drop-in for mmdet's ``DetLocalVisualizer``:
the video configs' ``VideoVisualizationHook`` (``tools/test.py --show-dir``,
:mod:`knet.visualization.hook`) uses it through ``add_datasample``. mmdet's
``TrackLocalVisualizer`` is not used: it draws ``pred_track_instances`` only
(no panoptic maps), with boxes.
"""
from typing import Optional, Tuple

import cv2
import numpy as np
from mmdet.registry import VISUALIZERS
from mmdet.visualization import DetLocalVisualizer
from mmengine.dist import master_only

from knet.formats.io import save_image
from .draw import draw_panoptic, hstack_frames, instances_to_maps
from .palette import build_class_palette

__all__ = ['VideoPanopticVisualizer']


def _to_numpy(x) -> np.ndarray:
    if hasattr(x, 'detach'):
        x = x.detach().cpu().numpy()
    elif hasattr(x, 'to_ndarray'):  # mmdet BitmapMasks / PolygonMasks
        x = x.to_ndarray()
    elif hasattr(x, 'masks') and not isinstance(x, np.ndarray):
        x = x.masks
    return np.asarray(x)


def _squeeze_map(x) -> np.ndarray:
    x = _to_numpy(x)
    return x[0] if x.ndim == 3 else x


def _fit(arr: np.ndarray, shape: Tuple[int, int]) -> np.ndarray:
    """Nearest-neighbour resize of a label map to ``shape`` (H, W)."""
    if arr.shape[:2] == tuple(shape):
        return arr
    h, w = shape
    if arr.shape[0] >= h and arr.shape[1] >= w and (
            arr.shape[0] - h < 32 and arr.shape[1] - w < 32):
        return arr[:h, :w]  # padded to a size divisor: crop
    return cv2.resize(arr.astype(np.int32), (w, h),
                      interpolation=cv2.INTER_NEAREST).astype(arr.dtype)


@VISUALIZERS.register_module()
class VideoPanopticVisualizer(DetLocalVisualizer):
    """Panoptic overlay with stable track colours, class names and ids.

    Args:
        name: instance name (mmengine ``ManagerMixin``).
        alpha: weight of the colours over the frame.
        contours: draw segment borders.
        show_labels: write class names at segment centres.
        show_ids: write track ids at the centres of tracked things.
        Other arguments as in ``DetLocalVisualizer``.
    """

    def __init__(self,
                 name: str = 'visualizer',
                 image: Optional[np.ndarray] = None,
                 vis_backends: Optional[list] = None,
                 save_dir: Optional[str] = None,
                 alpha: float = 0.6,
                 contours: bool = True,
                 show_labels: bool = True,
                 show_ids: bool = True,
                 **kwargs) -> None:
        super().__init__(
            name=name,
            image=image,
            vis_backends=vis_backends,
            save_dir=save_dir,
            alpha=alpha,
            **kwargs)
        self.contours = contours
        self.show_labels = show_labels
        self.show_ids = show_ids

    # -- extraction of maps from data samples ------------------------------
    def _ignore_index(self) -> int:
        return int((self.dataset_meta or {}).get('ignore_index', 255))

    def gt_maps(self, data_sample, shape: Tuple[int, int]
                ) -> Optional[Tuple[np.ndarray, np.ndarray]]:
        """(semantic, track) ground-truth maps at ``shape``, or ``None``."""
        if 'gt_sem_seg' not in data_sample:
            return None
        semantic = _fit(_squeeze_map(data_sample.gt_sem_seg.sem_seg), shape)
        semantic = semantic.astype(np.int64)
        track = np.zeros_like(semantic)
        inst = data_sample.get('gt_instances')
        if inst is not None and 'masks' in inst and len(inst) > 0:
            masks = _to_numpy(inst.masks).astype(np.uint8)
            if masks.shape[1:] != tuple(shape):
                masks = np.stack([_fit(m, shape) for m in masks])
            masks = masks.astype(bool)
            ids = (_to_numpy(inst.instances_ids).astype(np.int64)
                   if 'instances_ids' in inst else np.arange(
                       1, len(masks) + 1))
            covered = masks.any(axis=0)
            owner = masks.argmax(axis=0)
            track[covered] = np.maximum(ids[owner[covered]], 1)
        return semantic, track

    def pred_maps(self, data_sample, shape: Tuple[int, int],
                  score_thr: float = 0.3
                  ) -> Optional[Tuple[np.ndarray, np.ndarray, int]]:
        """(semantic, track, id_offset) predicted maps at ``shape``."""
        if 'pred_panoptic_seg' in data_sample:
            pan = data_sample.pred_panoptic_seg
            if 'sem_seg' in pan:
                semantic = _fit(_squeeze_map(pan.sem_seg), shape)
                track = (_fit(_squeeze_map(pan.track_ids), shape)
                         if 'track_ids' in pan else np.zeros_like(semantic))
                return semantic.astype(np.int64), track.astype(np.int64), 0
        if 'pred_track_instances' in data_sample:
            inst = data_sample.pred_track_instances
            return self._instances_maps(inst, shape, score_thr)
        if 'pred_instances' in data_sample and \
                'masks' in data_sample.pred_instances:
            return self._instances_maps(data_sample.pred_instances, shape,
                                        score_thr)
        return None

    def _instances_maps(self, inst, shape, score_thr):
        """VIS branch: instance masks with ids -> maps (ids shown as is)."""
        masks = _to_numpy(inst.masks).astype(np.uint8)
        if masks.shape[1:] != tuple(shape):
            masks = np.stack([_fit(m, shape) for m in masks]) if len(
                masks) else np.zeros((0, ) + tuple(shape), np.uint8)
        ids = (_to_numpy(inst.instances_id) if 'instances_id' in inst else
               np.arange(len(masks)))
        scores = _to_numpy(inst.scores) if 'scores' in inst else None
        semantic, track = instances_to_maps(
            masks, _to_numpy(inst.labels), ids, scores, self._ignore_index(),
            score_thr=score_thr)
        return semantic, track, 1

    # -- drawing ----------------------------------------------------------
    def draw_frame(self, image: np.ndarray, semantic: np.ndarray,
                   track: np.ndarray, id_offset: int = 0) -> np.ndarray:
        """Overlay one result (model-label maps) on an RGB frame."""
        palette = build_class_palette(self.dataset_meta, space='label')
        return draw_panoptic(
            image,
            semantic,
            track,
            palette,
            alpha=self.alpha,
            contours=self.contours,
            show_labels=self.show_labels,
            show_ids=self.show_ids,
            id_offset=id_offset)

    @master_only
    def add_datasample(self,
                       name: str,
                       image: np.ndarray,
                       data_sample=None,
                       draw_gt: bool = True,
                       draw_pred: bool = True,
                       show: bool = False,
                       wait_time: float = 0,
                       out_file: Optional[str] = None,
                       pred_score_thr: float = 0.3,
                       step: int = 0) -> None:
        """Draw ground truth | prediction of one frame; show, save or log.

        ``image`` is the RGB frame; ``data_sample`` a DetDataSample (one
        frame of a TrackDataSample). Without ``out_file`` and ``show`` the
        image goes to the visualiser's backends (``add_image``).
        """
        image = np.ascontiguousarray(image, dtype=np.uint8)
        shape = image.shape[:2]
        panels, titles = [], []
        if data_sample is not None:
            if draw_gt:
                gt = self.gt_maps(data_sample, shape)
                if gt is not None:
                    panels.append(self.draw_frame(image, *gt))
                    titles.append('ground truth')
            if draw_pred:
                pred = self.pred_maps(data_sample, shape, pred_score_thr)
                if pred is not None:
                    panels.append(self.draw_frame(image, *pred))
                    titles.append('prediction')
        if not panels:
            drawn = image
        elif len(panels) == 1:
            drawn = panels[0]
        else:
            drawn = hstack_frames(panels, titles)
        self.set_image(drawn)
        if show:
            self.show(drawn, win_name=name, wait_time=wait_time)
        if out_file is not None:
            save_image(out_file, drawn)
        else:
            self.add_image(name, drawn, step)
