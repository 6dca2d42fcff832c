#!/usr/bin/env python
"""Per-frame latency of a K-Net / Video K-Net model, split by component.

Usage::

    python tools/analysis_tools/benchmark.py CONFIG [--checkpoint CKPT] \
        --shape H W --frames N [--device cpu|cuda] [--repeat R] [--out JSON]

Each frame (random pixels, one sequence) goes through the model's own
``test_step``; forward hooks time the components: ``preprocess`` (data
preprocessor), ``backbone_fpn`` (backbone + FPN), ``semantic_fpn``,
``kernel_head``, ``stage{i}`` (each kernel update stage, links included),
``tracking`` (the ``track_head`` / ``tracker`` of video models: module hooks,
or a timing wrapper around a plain tracker's ``match``) and ``postprocess`` (the rest: panoptic merge, the
embedding/tracker logic that is not a module, packing). Reports the mean
over frames and repeats, and the peak resident memory (and CUDA memory).
"""
import argparse
import json
import os
import resource
import sys
import tempfile
import time
from collections import defaultdict
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.config import DictAction


def _sync(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


class _Timer:
    """Accumulates wall time of modules through forward (pre-)hooks."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.times: Dict[str, float] = defaultdict(float)
        self._start: Dict[str, float] = {}
        self._handles = []

    def attach(self, name: str, module: torch.nn.Module) -> None:
        def pre(_m, _a):
            _sync(self.device)
            self._start[name] = time.perf_counter()

        def post(_m, _a, _o):
            _sync(self.device)
            self.times[name] += time.perf_counter() - self._start.pop(name)

        self._handles.append(module.register_forward_pre_hook(pre))
        self._handles.append(module.register_forward_hook(post))

    def wrap(self, name: str, obj, method: str) -> None:
        """Time calls of ``obj.method`` (for non-module parts such as a
        tracker) by shadowing it with a timing wrapper on the instance."""
        fn = getattr(obj, method)

        def timed(*args, **kwargs):
            _sync(self.device)
            start = time.perf_counter()
            out = fn(*args, **kwargs)
            _sync(self.device)
            self.times[name] += time.perf_counter() - start
            return out

        setattr(obj, method, timed)

    def reset(self) -> None:
        self.times = defaultdict(float)


def _components(model) -> List:
    comps = []
    backbone = getattr(model, 'backbone', None)
    neck = getattr(model, 'neck', None)
    if backbone is not None:
        comps.append(('backbone_fpn', backbone))
    if isinstance(neck, torch.nn.Sequential) and len(neck) == 2:
        comps.append(('backbone_fpn', neck[0]))
        comps.append(('semantic_fpn', neck[1]))
    elif neck is not None:
        comps.append(('backbone_fpn', neck))
    if getattr(model, 'rpn_head', None) is not None:
        comps.append(('kernel_head', model.rpn_head))
    roi = getattr(model, 'roi_head', None)
    for i, head in enumerate(getattr(roi, 'mask_head', [])):
        comps.append((f'stage{i}', head))
    for name in ('tracker', 'track_head'):
        mod = getattr(model, name, None)
        if isinstance(mod, torch.nn.Module):
            comps.append(('tracking', mod))
    pre = getattr(model, 'data_preprocessor', None)
    if isinstance(pre, torch.nn.Module):
        comps.append(('preprocess', pre))
    return comps


def _is_video(model) -> bool:
    return any(
        hasattr(model, n) for n in ('tracker', 'track_head', 'embed_fcs'))


def _make_batch(frame: torch.Tensor, index: int, video: bool) -> dict:
    from mmdet.structures import DetDataSample, TrackDataSample
    h, w = frame.shape[-2:]
    meta = dict(
        img_shape=(h, w), ori_shape=(h, w), scale_factor=(1.0, 1.0),
        img_id=index, frame_id=index, video_id=0, video_length=10**6,
        img_path=f'frame_{index:06d}.png', seq_name='benchmark')
    sample = DetDataSample(metainfo=meta)
    if not video:
        return dict(inputs=[frame], data_samples=[sample])
    track = TrackDataSample(video_data_samples=[sample])
    track.set_metainfo(dict(key_frames_inds=[0]))
    return dict(inputs=[frame[None]], data_samples=[track])


def run_benchmark(config: str,
                  checkpoint: Optional[str],
                  shape: Sequence[int],
                  frames: int,
                  device: str = 'cpu',
                  repeat: int = 1,
                  warmup: int = 1,
                  seed: int = 0,
                  cfg_options: Optional[dict] = None) -> dict:
    """Build the model of ``config`` and time ``frames`` random frames."""
    from mmengine.config import Config
    from mmengine.runner import load_checkpoint

    from knet.utils.setup_env import register_all_modules
    from mmdet.registry import MODELS

    register_all_modules(init_default_scope=True)
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    model_cfg = cfg.model
    if model_cfg.get('backbone', {}).get('init_cfg') is not None:
        model_cfg.backbone.init_cfg = None  # no weight download
    model = MODELS.build(model_cfg)
    if checkpoint:
        load_checkpoint(model, checkpoint, map_location='cpu')
    dev = torch.device(device)
    model.to(dev).eval()
    video = _is_video(model)

    timer = _Timer(dev)
    names = set()
    for name, module in _components(model):
        timer.attach(name, module)
        names.add(name)
    tracker = getattr(model, 'tracker', None)
    if tracker is not None and not isinstance(tracker, torch.nn.Module) \
            and callable(getattr(tracker, 'match', None)):
        timer.wrap('tracking', tracker, 'match')
        names.add('tracking')
    gen = torch.Generator().manual_seed(seed)
    h, w = shape
    clip = [
        torch.randint(0, 256, (3, h, w), dtype=torch.uint8, generator=gen)
        for _ in range(frames)
    ]
    if dev.type == 'cuda':
        torch.cuda.reset_peak_memory_stats(dev)

    per_frame = []
    with torch.no_grad():
        for r in range(warmup + repeat):
            for reset in ('reset_video_state', 'reset', 'init_memory'):
                fn = getattr(model, reset, None)
                if callable(fn):
                    fn()
            for t, frame in enumerate(clip):
                timer.reset()
                _sync(dev)
                start = time.perf_counter()
                model.test_step(_make_batch(frame, t, video))
                _sync(dev)
                total = time.perf_counter() - start
                if r < warmup:
                    continue
                rec = {k: timer.times.get(k, 0.0) * 1e3 for k in names}
                rec['postprocess'] = max(0.0, total * 1e3 - sum(rec.values()))
                rec['total'] = total * 1e3
                per_frame.append(rec)
    keys = sorted({k for rec in per_frame for k in rec})
    mean = {
        k: sum(rec.get(k, 0.0) for rec in per_frame) / max(1, len(per_frame))
        for k in keys
    }
    result = dict(
        config=config,
        checkpoint=checkpoint,
        device=str(dev),
        shape=[h, w],
        frames=frames,
        repeat=repeat,
        video_model=video,
        threads=torch.get_num_threads(),
        mean_ms=mean,
        per_frame_ms=per_frame,
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss /
        1024.0)
    if dev.type == 'cuda':
        result['peak_cuda_mb'] = torch.cuda.max_memory_allocated(dev) / 2**20
    return result


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        description='Per-frame latency of a K-Net / Video K-Net config, '
        'split into backbone+FPN, semantic FPN, kernel head, each update '
        'stage, tracking and post-processing; peak memory.')
    parser.add_argument('config', help='model config file')
    parser.add_argument('--checkpoint', help='optional checkpoint')
    parser.add_argument('--shape', type=int, nargs=2, metavar=('H', 'W'),
                        required=True, help='frame size')
    parser.add_argument('--frames', type=int, default=5,
                        help='frames of the synthetic sequence')
    parser.add_argument('--device', default='cpu', help='cpu or cuda[:i]')
    parser.add_argument('--repeat', type=int, default=1,
                        help='timed passes over the sequence')
    parser.add_argument('--warmup', type=int, default=1,
                        help='untimed passes first')
    parser.add_argument('--out', help='write the result as JSON here')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config entries, e.g. '
        'model.roi_head.test_cfg.merge_resolution=mask')
    args = parser.parse_args(argv)

    if not os.path.isfile(args.config):
        print(f'error: {args.config}: no such config file', file=sys.stderr)
        return 1
    if args.checkpoint and not os.path.isfile(args.checkpoint):
        print(f'error: {args.checkpoint}: no such checkpoint',
              file=sys.stderr)
        return 1
    if args.device.startswith('cuda') and not torch.cuda.is_available():
        print('error: --device cuda requested but CUDA is not available',
              file=sys.stderr)
        return 1
    if min(args.shape) <= 0 or args.frames <= 0 or args.repeat <= 0:
        print('error: --shape, --frames and --repeat must be positive',
              file=sys.stderr)
        return 1
    try:
        result = run_benchmark(args.config, args.checkpoint, args.shape,
                               args.frames, args.device, args.repeat,
                               args.warmup, cfg_options=args.cfg_options)
    except Exception as exc:  # report, no traceback
        print(f'error: {args.config}: {type(exc).__name__}: {exc}',
              file=sys.stderr)
        return 1
    for k, v in result['mean_ms'].items():
        print(f'{k:>14s}: {v:9.2f} ms')
    print(f'{"peak RSS":>14s}: {result["peak_rss_mb"]:9.1f} MiB')
    if args.out:
        out_dir = os.path.dirname(os.path.abspath(args.out))
        os.makedirs(out_dir, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=out_dir, suffix='.tmp')
        with os.fdopen(fd, 'w') as f:
            json.dump(result, f, indent=2)
        os.replace(tmp, args.out)
    return 0


if __name__ == '__main__':
    sys.exit(main())
