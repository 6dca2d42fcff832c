#!/usr/bin/env python
"""Run a Video K-Net model on a video file or a frame folder.

The model comes from ``knet.apis.init_model``. A VPS model runs online,
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

from knet.utils.cli import UserError, run_cli  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Video panoptic segmentation demo: video in, video out.')
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--input', required=True,
        help='a video file (mp4, avi, mov, ...) or a folder of frames')
    parser.add_argument(
        '--out', required=True,
        help='output video (.mp4: H.264; .gif) or a folder for PNG frames')
    parser.add_argument('--device', default='cpu',
                        help='torch device, e.g. cpu, cuda, cuda:1')
    parser.add_argument(
        '--save-pred', metavar='DIR',
        help='also write the predictions in the KITTI-STEP submission '
        'format to DIR/<seq>/<frame>.png')
    parser.add_argument('--seq-id', type=int, default=0,
                        help='sequence number used by --save-pred')
    parser.add_argument('--fps', type=float, default=None,
                        help='output frame rate (default: the input\'s, '
                        'or 10)')
    parser.add_argument('--max-frames', type=int, default=None,
                        help='stop after this many frames')
    parser.add_argument('--alpha', type=float, default=0.6,
                        help='colour weight over the frame (0..1)')
    parser.add_argument('--show-ids', action=argparse.BooleanOptionalAction,
                        default=True, help='write track ids on things')
    parser.add_argument('--labels', action=argparse.BooleanOptionalAction,
                        default=True, help='write class names')
    parser.add_argument('--contours', action=argparse.BooleanOptionalAction,
                        default=True, help='draw segment borders')
    parser.add_argument('--side-by-side', action='store_true',
                        help='show the input frame left of the overlay')
    parser.add_argument('--score-thr', type=float, default=0.3,
                        help='VIS models: minimum instance score drawn')
    return parser.parse_args(argv)


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


def _load_model(config: str, checkpoint: str, device: str):
    if not osp.isfile(config):
        raise UserError(f'{config}: config file not found')
    if not osp.isfile(checkpoint):
        raise UserError(f'{checkpoint}: checkpoint not found')
    if device.startswith('cuda'):
        import torch
        if not torch.cuda.is_available():
            raise UserError(f'--device {device}: CUDA is not available on '
                            'this machine (use --device cpu)')
    try:
        from knet import apis
        init_model = apis.init_model
    except (ImportError, AttributeError) as e:
        raise UserError(f'knet.apis.init_model is not available: {e}')
    try:
        return init_model(config, checkpoint, device=device)
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


class _PredWriter:
    """KITTI-STEP submission PNGs ``<root>/<seq:04d>/<frame:06d>.png``.

    Uses the evaluation package's writer (the one ``tools/test.py`` uses);
    falls back to :func:`knet.formats.encode_kitti_step` without it.
    """

    def __init__(self, root: str, seq_id: int, thing_ids) -> None:
        self.root = root
        self.seq_id = seq_id
        self.thing_ids = tuple(int(t) for t in thing_ids)
        try:
            from knet.evaluation.writers.kitti_step import KittiStepWriter
            self._writer = KittiStepWriter(root, self.thing_ids)
        except ImportError:
            self._writer = None

    def write(self, frame_id: int, semantic: np.ndarray,
              track: np.ndarray) -> None:
        if self._writer is not None:
            self._writer.write(self.seq_id, frame_id, semantic, track)
            return
        from knet.formats import encode_kitti_step
        from knet.visualization.video_io import save_image
        inst = np.where(np.isin(semantic, self.thing_ids), track, 0)
        save_image(
            osp.join(self.root, f'{self.seq_id:04d}', f'{frame_id:06d}.png'),
            encode_kitti_step(semantic.astype(np.uint8), inst))


def _thing_ids(meta: dict):
    """Dataset ids of the thing classes (KITTI-STEP: 11, 13)."""
    classes = list(meta.get('classes') or ())
    things = set(meta.get('thing_classes') or ())
    label_ids = meta.get('label_ids') or range(len(classes))
    ids = [int(i) for c, i in zip(classes, label_ids) if c in things]
    return ids or [11, 13]


def main(argv=None) -> None:
    args = parse_args(argv)
    from knet.visualization.video_io import FrameSource, open_writer
    source = FrameSource(args.input)  # fails early on an unreadable input
    if not 0.0 <= args.alpha <= 1.0:
        raise UserError(f'--alpha must lie in [0, 1], got {args.alpha}')
    model = _load_model(args.config, args.checkpoint, args.device)
    infer = _inference_fn(model)
    is_vis = _is_vis_model(model)

    from tqdm import tqdm

    from knet.visualization.draw import draw_panoptic, hstack_frames
    from knet.visualization.palette import build_class_palette
    meta = getattr(model, 'dataset_meta', None) or {}
    # VPS results are in dataset ids (e.g. trainIds); VIS in model labels
    palette = build_class_palette(meta, 'label' if is_vis else 'dataset')
    pred_writer = (_PredWriter(args.save_pred, args.seq_id, _thing_ids(meta))
                   if args.save_pred and not is_vis else None)
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
                pred_writer.write(done, semantic, track)
            done += 1
    except BaseException:
        if hasattr(writer, 'abort'):
            writer.abort()
        raise
    if done == 0:
        raise UserError(f'{args.input}: the model produced no result')
    writer.close()
    print(f'{done} frames -> {args.out}'
          + (f'; predictions -> {args.save_pred}' if pred_writer else ''))


if __name__ == '__main__':
    run_cli(main)
