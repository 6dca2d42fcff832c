#!/usr/bin/env python
"""Run a Video K-Net model on a video file or a frame folder.

The model comes from ``knet.apis.init_model`` (an ``.onnx`` file in place
of the checkpoint runs the exported network on ONNX Runtime with the same
post-processing and tracker). A VPS model runs online,
frame by frame (``knet.apis.inference_vps``), so memory stays bounded
whatever the video length; a VIS model (``VideoKNetVIS``) ranks its
instances over the whole video (``knet.apis.inference_vis``). The coloured
overlay (stuff in class colours, every track or video instance in its own
colour, class names and track ids at segment centres; the drawing of
``tools/test.py --show-dir``) goes to an MP4 (H.264, plays in browsers), a
GIF or a folder of PNG frames; ``--save-pred`` also writes the raw VPS predictions in the
KITTI-STEP submission format (``<DIR>/<seq:04d>/<frame:06d>.png``: R = class
id, G * 256 + B = track id).

Example::

    python tools/demo/video_demo.py configs/video_knet_kitti.py ckpt.pth \\
        --input drive.mp4 --out drive_vps.mp4 --device cpu
"""
import argparse
import collections
import importlib.util
import os.path as osp
import sys
from typing import Callable, Iterable, Iterator, Optional

import numpy as np

if importlib.util.find_spec('knet') is None:  # a checkout, not installed
    sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..',
                                            '..')))

from knet.utils.cli import (ArgumentParser, UsageError,  # noqa: E402
                            UserError, check_device, device_name,
                            float_range, int_range, run_cli)

#: --out: a video file with one of these suffixes, or a folder (no suffix)
VIDEO_OUTPUTS = ('.mp4', '.gif')


def parse_args(argv=None) -> argparse.Namespace:
    parser = ArgumentParser(
        description='Video panoptic segmentation demo: video in, video out.')
    parser.add_argument('config', path='in-file', help='model config file')
    parser.add_argument(
        'checkpoint', path='in-file',
        help='checkpoint file, or an .onnx file written by '
        'tools/deployment/export_onnx.py (runs on ONNX Runtime)')
    parser.add_argument(
        '--input', required=True, path='in-path',
        help='a video file (mp4, avi, mov, ...) or a folder of frames')
    parser.add_argument(
        '--out', required=True, path='out-path',
        help='output video (.mp4: H.264; .gif) or a folder (a name without '
        'suffix) for PNG frames')
    parser.add_argument('--device', type=device_name, default='cpu',
                        help='torch device: cpu, cuda or cuda:<index>')
    parser.add_argument(
        '--no-strict', action='store_true',
        help='load the checkpoint even if some of its tensors do not fit '
        'the model (refused by default); checkpoints of the original '
        'release are converted either way')
    parser.add_argument(
        '--save-pred', metavar='DIR', path='out-dir',
        help='also write the predictions in the KITTI-STEP submission '
        'format to DIR/<seq>/<frame>.png')
    parser.add_argument('--seq-id', type=int_range(0, 9999), default=0,
                        help='sequence number used by --save-pred')
    parser.add_argument('--fps', type=float_range(0, 1000, lo_open=True),
                        default=None,
                        help='output frame rate (default: the input\'s, '
                        'or 10)')
    parser.add_argument('--max-frames', type=int_range(1), default=None,
                        help='stop after this many frames')
    parser.add_argument('--alpha', type=float_range(0, 1), default=0.6,
                        help='colour weight over the frame (0..1)')
    parser.add_argument('--show-ids', action=argparse.BooleanOptionalAction,
                        default=True, help='write track ids on things')
    parser.add_argument('--labels', action=argparse.BooleanOptionalAction,
                        default=True, help='write class names')
    parser.add_argument('--contours', action=argparse.BooleanOptionalAction,
                        default=True, help='draw segment borders')
    parser.add_argument('--side-by-side', action='store_true',
                        help='show the input frame left of the overlay')
    parser.add_argument('--score-thr', type=float_range(0, 1), default=0.3,
                        help='VIS models: minimum instance score drawn')
    args = parser.parse_args(argv)
    suffix = osp.splitext(args.out.rstrip('/'))[1].lower()
    if suffix and suffix not in VIDEO_OUTPUTS:
        raise UsageError(f'--out {args.out}: a video must end with '
                         f'{" or ".join(VIDEO_OUTPUTS)}; a frame folder has '
                         'no suffix')
    if not suffix and osp.isfile(args.out):
        raise UsageError(f'--out {args.out}: is a file; a frame folder or a '
                         f'{"/".join(VIDEO_OUTPUTS)} video is expected')
    return args


class _FrameTee:
    """Feeds frames to the model and keeps them until their result is back.

    The model API consumes a frame iterator and yields results in order;
    the frames it has taken but not answered yet wait in a queue (one or
    two frames for an online model).
    """

    def __init__(self, frames: Iterable[np.ndarray],
                 limit: Optional[int]) -> None:
        self._frames = frames
        self._limit = limit
        self.pending: collections.deque = collections.deque()

    def __iter__(self) -> Iterator[np.ndarray]:
        for i, frame in enumerate(self._frames):
            if self._limit is not None and i >= self._limit:
                return
            self.pending.append(frame)
            yield frame


def _load_model(config: str, checkpoint: str, device: str,
                strict: bool = True):
    check_device(device)
    try:
        from knet import apis
        init_model = apis.init_model
    except (ImportError, AttributeError) as e:
        raise UserError(f'knet.apis.init_model is not available: {e}')
    try:
        return init_model(config, checkpoint, device=device, strict=strict)
    except (UserError, FileNotFoundError):
        raise
    except Exception as e:  # a corrupt file, a config/weights mismatch
        raise UserError(f'{checkpoint}: cannot load the model with '
                        f'{config}: {type(e).__name__}: {e}') from e


def _is_vis_model(model) -> bool:
    return 'vis' in type(model).__name__.lower()


def _inference_fn(model) -> Callable:
    """The knet.apis frame-iterator inference for this kind of model."""
    from knet import apis
    return apis.inference_vis if _is_vis_model(model) else apis.inference_vps


def _result_maps(result, score_thr: float, ignore_index: int):
    """(semantic, track, id_offset) maps of one frame's result.

    VPS results carry ``semantic`` and ``track_ids`` maps; VIS results carry
    instance ``masks``, ``labels``, ``scores`` and ``instances_id``.
    """
    from knet.visualization.draw import instances_to_maps
    if hasattr(result, 'semantic'):
        semantic = np.asarray(_np(result.semantic))
        track = getattr(result, 'track_ids', None)
        track = np.zeros_like(semantic) if track is None else _np(track)
        return semantic, track, 0
    # VIS branch (knet.apis.VISFrameResult: NumPy arrays, [K, H, W] masks
    # even for K = 1): instance overlays as VideoPanopticVisualizer draws them
    semantic, track = instances_to_maps(
        result.masks, result.labels, result.instances_id, result.scores,
        ignore_index, score_thr=score_thr)
    return semantic, track, 1


def _np(x) -> np.ndarray:
    if hasattr(x, 'detach'):
        x = x.detach().cpu().numpy()
    x = np.asarray(x)
    return x[0] if x.ndim == 3 and x.shape[0] == 1 else x


def main(argv=None) -> None:
    args = parse_args(argv)
    from knet.visualization.video_io import FrameSource, open_writer
    source = FrameSource(args.input)  # fails early on an unreadable input
    model = _load_model(args.config, args.checkpoint, args.device,
                        strict=not args.no_strict)
    infer = _inference_fn(model)
    is_vis = _is_vis_model(model)

    from tqdm import tqdm

    from knet.visualization.draw import draw_panoptic, hstack_frames
    from knet.visualization.palette import build_class_palette
    meta = getattr(model, 'dataset_meta', None) or {}
    # VPS results are in dataset ids (e.g. trainIds); VIS in model labels
    palette = build_class_palette(meta, 'label' if is_vis else 'dataset')
    pred_writer = None
    if args.save_pred and not is_vis:
        from knet.evaluation.writers.kitti_step import KittiStepWriter
        from knet.formats import KITTI_STEP_THING_IDS, LabelSpace
        pred_writer = KittiStepWriter(
            args.save_pred, LabelSpace(meta).thing_ids or KITTI_STEP_THING_IDS)
    if args.save_pred and is_vis:
        raise UserError('--save-pred writes KITTI-STEP PNGs: not available '
                        'for VIS models')
    fps = args.fps or source.fps or 10.0
    total = len(source) if args.max_frames is None else min(
        len(source), args.max_frames)
    tee = _FrameTee(source, args.max_frames)
    writer = open_writer(args.out, fps)
    done = 0
    try:
        for result in tqdm(infer(model, iter(tee)), total=total,
                           desc='video demo', unit='frame'):
            if not tee.pending:
                raise RuntimeError('the model returned more results than '
                                   'frames')
            frame = tee.pending.popleft()
            semantic, track, offset = _result_maps(result, args.score_thr,
                                                   palette.ignore_index)
            drawn = draw_panoptic(
                frame, semantic, track, palette, alpha=args.alpha,
                contours=args.contours, show_labels=args.labels,
                show_ids=args.show_ids, id_offset=offset)
            if args.side_by_side:
                drawn = hstack_frames([frame, drawn])
            if hasattr(writer, 'kind'):
                writer.write(drawn)
            else:
                writer.write(drawn, source.names[done])
            if pred_writer is not None:
                pred_writer.write(args.seq_id, done, semantic, track)
            done += 1
    except BaseException:
        if hasattr(writer, 'abort'):
            writer.abort()
        raise
    if done == 0:
        raise UserError(f'{args.input}: the model produced no result')
    writer.close()
    print(f'{done} frames -> {osp.abspath(args.out)}'
          + (f'; predictions -> {osp.abspath(args.save_pred)}'
             if pred_writer else ''))


if __name__ == '__main__':
    sys.exit(run_cli(main))
