#!/usr/bin/env python
"""Per-frame latency of a K-Net / Video K-Net model, split by component.

Usage::

    python tools/analysis_tools/benchmark.py CONFIG [--checkpoint CKPT] \
        --shape H W [--frames N] [--threads T] [--repeat R] [--out JSON]
    python tools/analysis_tools/benchmark.py CONFIG --data [--workers 2] \
        [--frames N] [--cfg-options test_dataloader.dataset.data_root=...]

Each frame (random pixels, one online sequence) goes through the model's own
``test_step``; forward hooks time the components: ``preprocess`` (data
preprocessor), ``backbone_fpn`` (backbone + FPN), ``semantic_fpn``,
``kernel_head``, ``stage{i}`` (each kernel update stage, links included),
``tracking`` (the ``track_head`` / ``tracker`` of video models: module hooks,
or a timing wrapper around a plain tracker's ``match``), ``panoptic_merge``
(``roi_head.predict_panoptic``), ``semantic_filter`` (Video K-Net's thing
filter of the tracker boxes) and ``postprocess`` (the rest: mask upsampling
of the last stage, embeddings, boxes, id maps, packing).

``rest`` = everything after backbone + FPN (total - preprocess -
backbone_fpn); ``ratio`` = rest / backbone_fpn. Per pass over the sequence
the per-frame means are taken; with ``--repeat R`` the report gives the
MEDIAN over the R passes (after ``--warmup`` untimed passes). ``fps`` is
1000 / total ms. ``peak_rss_mb`` is the process's peak resident memory
(ru_maxrss, model build included), so runs with different ``--frames``
show whether memory grows with the sequence length.

``--flops`` also counts the GFLOPs of every component on one extra frame
(convolutions and matmuls; resizing and argmax count zero) and reports
``flop_ratio``: the rest / backbone+FPN ratio that the network's arithmetic
alone imposes, whatever the implementation.

``--data`` measures the config's test data pipeline instead: the
``test_dataloader`` with ``--workers`` worker processes is iterated for
``--frames`` samples and the delivered frames/s are reported (compare with
the model's fps from a normal run).
"""
import os.path as osp
import resource
import statistics
import sys
import time
from collections import defaultdict
from typing import Dict, List, Optional, Sequence

import torch

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(
    __file__)))))

from knet.formats.io import dump_json  # noqa: E402
from knet.utils.cli import (ArgumentParser, UserError,  # noqa: E402
                            add_cfg_options, int_range, run_cli)


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


def _flop_counts(model, batch: dict) -> Dict[str, float]:
    """GFLOPs of one ``test_step`` per component (torch's FlopCounterMode:
    convolutions, matmuls, attention; resizing, argmax and other
    post-processing count zero). ``flop_ratio`` = (total - backbone_fpn) /
    backbone_fpn: the ratio the network arithmetic alone imposes, whatever
    the implementation."""
    from torch.utils.flop_counter import FlopCounterMode
    owner = {}  # module fqn -> component
    named = {id(m): n for n, m in model.named_modules()}
    for comp, module in _components(model):
        if id(module) in named:
            owner[named[id(module)]] = comp
    with FlopCounterMode(display=False) as counter:
        model.test_step(batch)
    flops: Dict[str, float] = defaultdict(float)
    for key, ops in counter.get_flop_counts().items():
        fqn = key.split('.', 1)[1] if '.' in key else ''
        if fqn in owner:
            flops[owner[fqn]] += sum(ops.values()) / 1e9
    flops['total'] = counter.get_total_flops() / 1e9
    base = flops.get('backbone_fpn', 0.0)
    flops['rest'] = flops['total'] - base - flops.get('preprocess', 0.0)
    flops['flop_ratio'] = flops['rest'] / base if base else float('nan')
    return dict(flops)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _with_ratio(stats: dict) -> dict:
    """Add ``ratio`` (rest / backbone_fpn) and ``fps`` (1000 / total)."""
    bf = stats.get('backbone_fpn', 0.0)
    stats['ratio'] = stats['rest'] / bf if bf > 0 else float('nan')
    stats['fps'] = 1e3 / stats['total'] if stats['total'] > 0 else 0.0
    return stats


def _mean(recs: List[dict]) -> dict:
    keys = sorted({k for rec in recs for k in rec})
    return {
        k: sum(rec.get(k, 0.0) for rec in recs) / max(1, len(recs))
        for k in keys
    }


def run_data_benchmark(config: str,
                       frames: int,
                       workers: int = 2,
                       cfg_options: Optional[dict] = None) -> dict:
    """Frames/s that the config's ``test_dataloader`` delivers with
    ``workers`` worker processes (the first sample, which pays for the
    worker start-up, is not timed)."""
    from mmengine.config import Config
    from mmengine.runner import Runner

    from knet.utils.setup_env import register_all_modules

    register_all_modules(init_default_scope=True)
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    loader_cfg = cfg.test_dataloader
    loader_cfg.num_workers = workers
    loader_cfg.persistent_workers = workers > 0
    loader = Runner.build_dataloader(loader_cfg)
    count, start = 0, None
    for i, batch in enumerate(loader):
        if i == 0:
            start = time.perf_counter()
            continue
        samples = batch['data_samples']
        count += sum(
            len(getattr(s, 'video_data_samples', [s])) for s in samples)
        if count >= frames:
            break
    elapsed = time.perf_counter() - start if start is not None else 0.0
    if count == 0:
        raise ValueError('the test dataloader gave fewer than 2 batches')
    return dict(
        config=config, workers=workers, frames=count, seconds=elapsed,
        data_fps=count / elapsed if elapsed > 0 else float('inf'),
        threads=torch.get_num_threads())


def run_benchmark(config: str,
                  checkpoint: Optional[str],
                  shape: Sequence[int],
                  frames: int,
                  device: str = 'cpu',
                  repeat: int = 1,
                  warmup: int = 1,
                  seed: int = 0,
                  cfg_options: Optional[dict] = None,
                  flops: bool = False) -> dict:
    """Build the model of ``config`` and time ``frames`` random frames."""
    from mmengine.config import Config

    from knet.models.utils.checkpoint_loading import load_model_checkpoint
    from knet.utils.setup_env import register_all_modules
    from mmdet.registry import MODELS

    register_all_modules(init_default_scope=True)
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    model_cfg = cfg.model
    if model_cfg.get('backbone', {}).get('init_cfg') is not None:
        model_cfg.backbone.init_cfg = None  # no weight download
    # fixed random weights: the masks the merge sees, hence its cost, depend
    # on them, so unseeded runs are not comparable
    torch.manual_seed(seed)
    model = MODELS.build(model_cfg)
    if checkpoint:
        load_model_checkpoint(model, checkpoint)  # strict; release files ok
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
    roi = getattr(model, 'roi_head', None)
    if roi is not None and callable(getattr(roi, 'predict_panoptic', None)):
        timer.wrap('panoptic_merge', roi, 'predict_panoptic')
        names.add('panoptic_merge')
    if callable(getattr(model, '_semantic_thing_mask', None)):
        timer.wrap('semantic_filter', model, '_semantic_thing_mask')
        names.add('semantic_filter')
    gen = torch.Generator().manual_seed(seed)
    h, w = shape
    # a few distinct frames cycled over the sequence: the input memory does
    # not grow with --frames, so peak RSS reflects the model alone
    clip = [
        torch.randint(0, 256, (3, h, w), dtype=torch.uint8, generator=gen)
        for _ in range(min(frames, 4))
    ]
    if dev.type == 'cuda':
        torch.cuda.reset_peak_memory_stats(dev)

    per_frame, per_pass = [], []
    rss_after_first = None
    with torch.no_grad():
        for r in range(warmup + repeat):
            for reset in ('reset_video_state', 'reset', 'init_memory'):
                fn = getattr(model, reset, None)
                if callable(fn):
                    fn()
            pass_recs = []
            for t in range(frames):
                frame = clip[t % len(clip)]
                timer.reset()
                _sync(dev)
                start = time.perf_counter()
                model.test_step(_make_batch(frame, t, video))
                _sync(dev)
                total = time.perf_counter() - start
                if rss_after_first is None:
                    rss_after_first = _peak_rss_mb()
                if r < warmup:
                    continue
                rec = {k: timer.times.get(k, 0.0) * 1e3 for k in names}
                rec['postprocess'] = max(0.0, total * 1e3 - sum(rec.values()))
                rec['total'] = total * 1e3
                rec['rest'] = total * 1e3 - rec.get(
                    'preprocess', 0.0) - rec.get('backbone_fpn', 0.0)
                pass_recs.append(rec)
            if pass_recs:
                per_frame.extend(pass_recs)
                per_pass.append(_with_ratio(_mean(pass_recs)))
    keys = sorted({k for rec in per_pass for k in rec})
    mean = _mean(per_frame)
    median = {
        k: statistics.median(p.get(k, 0.0) for p in per_pass) for k in keys
    }
    mean = _with_ratio(mean)  # ratio / fps of the mean frame
    # median keys are medians over the passes, ratio and fps included
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
        median_ms=median,
        per_pass_ms=per_pass,
        per_frame_ms=per_frame if len(per_frame) <= 2000 else [],
        peak_rss_after_first_frame_mb=rss_after_first,
        peak_rss_mb=_peak_rss_mb())
    if dev.type == 'cuda':
        result['peak_cuda_mb'] = torch.cuda.max_memory_allocated(dev) / 2**20
    if flops:
        # a separate, untimed frame that continues the sequence
        with torch.no_grad():
            result['gflops'] = _flop_counts(
                model, _make_batch(clip[frames % len(clip)], frames, video))
    return result


def _print_table(result: dict) -> None:
    med = result['median_ms']
    order = ['preprocess', 'backbone_fpn', 'semantic_fpn', 'kernel_head']
    order += sorted(k for k in med if k.startswith('stage'))
    order += ['panoptic_merge', 'semantic_filter', 'tracking', 'postprocess']
    label = 'median' if result['repeat'] > 1 else 'mean'
    print(f'per frame ({label} of {result["repeat"]} pass(es) x '
          f'{result["frames"]} frames, {result["threads"]} threads)')
    for k in order:
        if k in med:
            print(f'{k:>16s}: {med[k]:9.2f} ms')
    print(f'{"rest":>16s}: {med["rest"]:9.2f} ms  (all after backbone+FPN)')
    print(f'{"total":>16s}: {med["total"]:9.2f} ms')
    print(f'{"ratio":>16s}: {med["ratio"]:9.3f}  (rest / backbone_fpn)')
    print(f'{"fps":>16s}: {med["fps"]:9.3f}')
    print(f'{"peak RSS":>16s}: {result["peak_rss_mb"]:9.1f} MiB')
    gf = result.get('gflops')
    if gf:
        parts = ', '.join(f'{k} {gf[k]:.1f}' for k in order if k in gf)
        print(f'{"GFLOPs":>16s}: {parts}; rest {gf["rest"]:.1f}, total '
              f'{gf["total"]:.1f}')
        print(f'{"FLOP ratio":>16s}: {gf["flop_ratio"]:9.3f}  (rest / '
              'backbone_fpn in FLOPs: the floor of the time ratio at equal '
              'FLOP/s)')


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = ArgumentParser(
        description='Per-frame latency of a K-Net / Video K-Net config, '
        'split into backbone+FPN, semantic FPN, kernel head, each update '
        'stage, tracking and post-processing; peak memory.')
    parser.add_argument('config', path='in-file', help='model config file')
    parser.add_argument('--checkpoint', path='in-file',
                        help='optional checkpoint')
    parser.add_argument('--shape', type=int_range(1, 16384), nargs=2,
                        metavar=('H', 'W'),
                        default=(384, 1248),
                        help='frame size (default: 384 1248)')
    parser.add_argument('--frames', type=int_range(1), default=5,
                        help='frames of the synthetic sequence')
    parser.add_argument('--device', default='cpu', help='cpu or cuda[:i]')
    parser.add_argument('--repeat', type=int_range(1), default=1,
                        help='timed passes over the sequence')
    parser.add_argument('--warmup', type=int_range(0), default=1,
                        help='untimed passes first')
    parser.add_argument('--threads', type=int_range(1, 1024),
                        help='torch intra-op threads (default: torch\'s)')
    parser.add_argument('--data', action='store_true',
                        help='time the test data pipeline instead of the '
                        'model (frames/s delivered)')
    parser.add_argument('--workers', type=int_range(0, 256), default=2,
                        help='dataloader workers of --data')
    parser.add_argument('--seed', type=int_range(0, 2**32 - 1), default=0,
                        help='seed of the random weights and frames')
    parser.add_argument('--flops', action='store_true',
                        help='also count the GFLOPs of each component on '
                        'one extra frame (FlopCounterMode)')
    parser.add_argument('--out', path='out-file', suffixes=('.json',),
                        help='write the result as JSON here')
    add_cfg_options(parser, 'model.roi_head.test_cfg.merge_resolution=mask')
    args = parser.parse_args(argv)

    if args.device.startswith('cuda') and not torch.cuda.is_available():
        raise UserError(f'--device {args.device}: CUDA is not available')
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    try:
        if args.data:
            result = run_data_benchmark(args.config, args.frames,
                                        args.workers, args.cfg_options)
        else:
            result = run_benchmark(args.config, args.checkpoint, args.shape,
                                   args.frames, args.device, args.repeat,
                                   args.warmup, seed=args.seed,
                                   cfg_options=args.cfg_options,
                                   flops=args.flops)
    except (UserError, OSError, MemoryError, KeyboardInterrupt):
        raise
    except Exception as exc:  # a config the model cannot be built from
        raise UserError(f'{args.config}: {type(exc).__name__}: {exc}') \
            from exc
    if args.data:
        print(f'data pipeline ({result["workers"]} workers): '
              f'{result["data_fps"]:.2f} frames/s over {result["frames"]} '
              'frames')
    else:
        _print_table(result)
    if args.out:
        dump_json(result, args.out, indent=2)
    return 0


if __name__ == '__main__':
    sys.exit(run_cli(main))
