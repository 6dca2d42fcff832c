"""Visualisation hooks of the video configs.

``VideoVisualizationHook``: ``tools/test.py --show-dir`` for video models,
one overlay PNG per frame. ``GtPredVideoHook``: one ground truth |
prediction MP4 (and GIF) of a KITTI-STEP-format validation / test run (the
quickstart's ``gt_vs_pred.mp4``).

mmdet's ``TrackVisualizationHook`` is written for the MOT layout: it saves
``<dir>/<img_path.split('/')[-3]>/<file name>``, which puts every
YouTube-VIS video in one ``JPEGImages`` folder (equal frame names overwrite
each other), and it joins a relative ``test_out_dir`` under
``<work_dir>/<timestamp>`` again at every test iteration.
``VideoVisualizationHook`` keeps mmdet's arguments and drawing (the
runner's visualiser, ``add_datasample``) but names the files by video and
resolves the folder once.
"""
import os.path as osp
from typing import Optional, Sequence

import mmcv
from mmdet.engine.hooks import TrackVisualizationHook
from mmdet.registry import HOOKS
from mmdet.structures import DetDataSample, TrackDataSample
from mmengine.dist import is_main_process
from mmengine.fileio import get
from mmengine.hooks import Hook
from mmengine.utils import mkdir_or_exist

from .gt_pred_video import GtPredVideoWriter

__all__ = ['VideoVisualizationHook', 'GtPredVideoHook', 'frame_out_path']


def frame_out_path(out_dir: str, data_sample: DetDataSample) -> str:
    """``<out_dir>/<video>/<frame>.png`` for one frame's data sample.

    ``<video>`` is the frame's ``seq_name`` (KITTI-STEP, VIPSeg,
    Cityscapes-VPS) or else the name of the folder holding the image
    (YouTube-VIS: the video folder); ``<frame>`` is the image file name
    without its extension.
    """
    img_path = data_sample.img_path
    video = data_sample.metainfo.get('seq_name')
    if video is None:
        video = osp.basename(osp.dirname(img_path))
    frame = osp.splitext(osp.basename(img_path))[0]
    return osp.join(out_dir, str(video), frame + '.png')


@HOOKS.register_module()
class VideoVisualizationHook(TrackVisualizationHook):
    """Draw video predictions frame by frame in val / test.

    In testing it visits every frame of every output ``TrackDataSample``
    (one key frame per sample with ``TrackImgSampler``, a whole video with
    video-level sampling; any batch size) and draws those whose
    ``frame_id`` is a multiple of ``frame_interval`` (default 1: all). With
    ``test_out_dir`` each one is saved as
    ``<test_out_dir>/<video>/<frame>.png`` (:func:`frame_out_path`); a
    relative ``test_out_dir`` lies under ``<work_dir>/<timestamp>`` as in
    mmdet (``tools/test.py --show-dir`` passes an absolute one). Other
    arguments as in mmdet's ``TrackVisualizationHook``.
    """

    def __init__(self,
                 draw: bool = False,
                 frame_interval: int = 1,
                 score_thr: float = 0.3,
                 show: bool = False,
                 wait_time: float = 0.,
                 test_out_dir: Optional[str] = None,
                 backend_args: Optional[dict] = None) -> None:
        super().__init__(
            draw=draw,
            frame_interval=frame_interval,
            score_thr=score_thr,
            show=show,
            wait_time=wait_time,
            test_out_dir=test_out_dir,
            backend_args=backend_args)
        self._out_dir_cfg = test_out_dir

    def before_test(self, runner) -> None:
        """Resolve ``test_out_dir`` once per test run."""
        self.image_idx = 0
        if self.draw and self._out_dir_cfg is not None:
            self.test_out_dir = osp.join(runner.work_dir, runner.timestamp,
                                         self._out_dir_cfg)
            mkdir_or_exist(self.test_out_dir)

    def after_test_iter(self, runner, batch_idx: int, data_batch: dict,
                        outputs: Sequence[TrackDataSample]) -> None:
        """Draw the selected frames of this batch's videos."""
        if not self.draw:
            return
        for track in outputs:
            for t in range(len(track)):
                frame = track[t]
                if frame.metainfo.get('frame_id', t) % \
                        self.frame_interval == 0:
                    self.visualize_single_image(frame, self.image_idx)
                self.image_idx += 1

    def visualize_single_image(self, img_data_sample: DetDataSample,
                               step: int) -> None:
        """Draw one frame on its image file; save, show or log it."""
        img_path = img_data_sample.img_path
        img = mmcv.imfrombytes(
            get(img_path, backend_args=self.backend_args),
            channel_order='rgb')
        out_file = None
        if self.test_out_dir is not None:
            out_file = frame_out_path(self.test_out_dir, img_data_sample)
            mkdir_or_exist(osp.dirname(out_file))
        self._visualizer.add_datasample(
            osp.basename(img_path) if self.show else 'test_img',
            img,
            data_sample=img_data_sample,
            show=self.show,
            wait_time=self.wait_time,
            pred_score_thr=self.score_thr,
            out_file=out_file,
            step=step)


@HOOKS.register_module()
class GtPredVideoHook(Hook):
    """Ground truth | prediction video of every val / test frame.

    Frames go through :class:`~.gt_pred_video.GtPredVideoWriter` in the
    order the loop visits them (sequence by sequence with
    ``TrackImgSampler``); the ground truth is each frame's KITTI-STEP
    panoptic PNG. Relative paths lie under the runner's ``work_dir``. The
    video is finished and verified at the end of the epoch and replaces an
    earlier one only then. With several processes, the main process draws
    the sequences it evaluates.

    Args:
        mp4: output MP4 (H.264).
        gif: optional GIF next to it (``None``: none).
        fps: frame rate.
        min_height: small frames are enlarged to at least this height.
    """
    priority = 'VERY_LOW'

    def __init__(self,
                 mp4: str = 'gt_vs_pred.mp4',
                 gif: Optional[str] = None,
                 fps: float = 4.0,
                 min_height: int = 192) -> None:
        self.mp4, self.gif = mp4, gif
        self.fps, self.min_height = fps, min_height
        self.writer: Optional[GtPredVideoWriter] = None
        self.written: Sequence[str] = ()

    def _open(self, runner, dataloader) -> None:
        if not is_main_process():
            return
        if self.writer is not None:
            self.writer.abort()
        self.writer = GtPredVideoWriter(
            dataloader.dataset.metainfo,
            osp.join(runner.work_dir, self.mp4),
            osp.join(runner.work_dir, self.gif) if self.gif else None,
            fps=self.fps, min_height=self.min_height)

    def _add(self, outputs) -> None:
        if self.writer is None:
            return
        for track in outputs or ():
            for t in range(len(track)):
                self.writer.add(track[t])

    def _close(self) -> None:
        if self.writer is not None:
            writer, self.writer = self.writer, None
            self.written = writer.close()

    def before_val_epoch(self, runner) -> None:
        self._open(runner, runner.val_dataloader)

    def after_val_iter(self, runner, batch_idx: int, data_batch=None,
                       outputs=None) -> None:
        self._add(outputs)

    def after_val_epoch(self, runner, metrics=None) -> None:
        self._close()

    def before_test_epoch(self, runner) -> None:
        self._open(runner, runner.test_dataloader)

    def after_test_iter(self, runner, batch_idx: int, data_batch=None,
                        outputs=None) -> None:
        self._add(outputs)

    def after_test_epoch(self, runner, metrics=None) -> None:
        self._close()
