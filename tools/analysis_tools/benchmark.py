#!/usr/bin/env python
"""Per-frame latency of a K-Net / Video K-Net model, split by component.

Usage::

    python tools/analysis_tools/benchmark.py CONFIG [--checkpoint CKPT] \
        --shape H W [--frames N] [--threads T] [--repeat R] [--out JSON]
    python tools/analysis_tools/benchmark.py CONFIG --data [--workers 2] \
        [--frames N] [--cfg-options test_dataloader.dataset.data_root=...]
    python tools/analysis_tools/benchmark.py CONFIG --backend onnxruntime \
        --shape H W [--threads T] [--onnx FILE]

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

``--backend onnxruntime`` times PyTorch eager and the ONNX Runtime backend
(``knet.deployment``) on the same frames with the same threads in one run:
the model is exported to a temporary file first (``export_s``; or
``--onnx FILE`` is used), then each backend runs its passes; ``network`` is
the per-frame network call (``forward_frame``: backbone to the last stage and
its mask upsampling; the ORT session in the ORT backend), the rest (merge,
tracking, post-processing) is the same code in both. ``ratio_total`` /
``ratio_network`` = ORT / eager; each backend's peak RSS covers its own
build and passes.

``--data`` measures the config's test data pipeline instead: the
``test_dataloader`` with ``--workers`` worker processes is iterated for
``--frames`` samples and the delivered frames/s are reported (compare with
the model's fps from a normal run).
"""
import argparse
import contextlib
import gc
import os
import os.path as osp
import resource
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from typing import Dict, List, Optional, Sequence

import torch

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(
    __file__)))))

from knet.formats.io import dump_json, temporary_dir  # noqa: E402
from knet.utils.cli import (ArgumentParser, UserError,  # noqa: E402
                            add_cfg_options, check_device, device_name,
                            int_range, run_cli)


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
    """Peak resident memory of this process since start or the last
    :func:`_reset_peak_rss` (Linux ``VmHWM``; else ``ru_maxrss``)."""
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _reset_peak_rss() -> Optional[float]:
    """Reset the kernel's peak-RSS mark to the current RSS (Linux
    ``clear_refs``) and return that RSS in MiB; None where that is not
    possible."""
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


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


def _build_model(config: str, checkpoint: Optional[str], seed: int,
                 cfg_options: Optional[dict]):
    """The config's PyTorch model with seeded random weights (or the
    checkpoint's) and the config."""
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
    return model, cfg


def _random_clip(shape: Sequence[int], frames: int, seed: int) -> list:
    """A few distinct random uint8 frames, cycled over the sequence: the
    input memory does not grow with ``frames``, so peak RSS reflects the
    model alone."""
    gen = torch.Generator().manual_seed(seed)
    return [
        torch.randint(0, 256, (3, *shape), dtype=torch.uint8, generator=gen)
        for _ in range(min(frames, 4))
    ]


#: components that make up the network (backbone to the last stage)
_NETWORK_PARTS = ('backbone_fpn', 'semantic_fpn', 'kernel_head')
#: the parts compared between backends (+ ``other``, the rest)
_COMPARED = ('preprocess', 'network', 'panoptic_merge', 'semantic_filter',
             'tracking')


def _time_model(model, dev: torch.device, shape: Sequence[int], frames: int,
                repeat: int, warmup: int, seed: int,
                amp: bool = False) -> dict:
    """Time ``frames`` random frames through ``model.test_step`` (see the
    module doc; ``amp``: under autocast,
    :func:`knet.engine.amp.amp_autocast`); the timing fields of the
    result."""
    from knet.engine.amp import amp_autocast, amp_dtype
    video = _is_video(model)
    timer = _Timer(dev)
    names = set()
    for name, module in _components(model):
        timer.attach(name, module)
        names.add(name)
    # the per-frame (per-window) network call of video models: the ONNX
    # Runtime session, or in eager the modules timed above (nested, so not
    # subtracted again from the total for ``postprocess``)
    net_timer = _Timer(dev)
    for method in ('forward_frame', '_window_forward'):
        if callable(getattr(model, method, None)):
            net_timer.wrap('network', model, method)
            break
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
    h, w = shape
    clip = _random_clip(shape, frames, seed)
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
                net_timer.reset()
                _sync(dev)
                start = time.perf_counter()
                with amp_autocast(dev, amp):
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
                if 'network' in net_timer.times:
                    rec['network'] = net_timer.times['network'] * 1e3
                    if not any(k in names for k in _NETWORK_PARTS):
                        # no module hooks inside it (ONNX Runtime)
                        rec['postprocess'] = max(
                            0.0, rec['postprocess'] - rec['network'])
                    # after the network, besides merge, filter, tracking
                    rec['other'] = max(0.0, rec['total'] - sum(
                        rec.get(k, 0.0) for k in _COMPARED))
                else:
                    rec['network'] = sum(
                        v for k, v in rec.items()
                        if k in _NETWORK_PARTS or k.startswith('stage'))
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
        device=str(dev),
        shape=[h, w],
        frames=frames,
        repeat=repeat,
        video_model=video,
        amp=str(amp_dtype(dev)).replace('torch.', '') if amp else None,
        threads=torch.get_num_threads(),
        mean_ms=mean,
        median_ms=median,
        per_pass_ms=per_pass,
        per_frame_ms=per_frame if len(per_frame) <= 2000 else [],
        peak_rss_after_first_frame_mb=rss_after_first,
        peak_rss_mb=_peak_rss_mb())
    if dev.type == 'cuda':
        result['peak_cuda_mb'] = torch.cuda.max_memory_allocated(dev) / 2**20
    return result


def run_benchmark(config: str,
                  checkpoint: Optional[str],
                  shape: Sequence[int],
                  frames: int,
                  device: str = 'cpu',
                  repeat: int = 1,
                  warmup: int = 1,
                  seed: int = 0,
                  cfg_options: Optional[dict] = None,
                  flops: bool = False,
                  amp: bool = False) -> dict:
    """Build the model of ``config`` and time ``frames`` random frames
    (``amp``: the model under autocast)."""
    model, _ = _build_model(config, checkpoint, seed, cfg_options)
    dev = torch.device(device)
    model.to(dev).eval()
    result = dict(config=config, checkpoint=checkpoint)
    result.update(_time_model(model, dev, shape, frames, repeat, warmup,
                              seed, amp=amp))
    if flops:
        # a separate, untimed frame that continues the sequence
        clip = _random_clip(shape, frames, seed)
        frame = clip[frames % len(clip)]
        with torch.no_grad():
            result['gflops'] = _flop_counts(
                model, _make_batch(frame, frames, _is_video(model)))
    return result


def run_backend_comparison(config: str,
                           checkpoint: Optional[str],
                           shape: Sequence[int],
                           frames: int,
                           repeat: int = 1,
                           warmup: int = 1,
                           seed: int = 0,
                           cfg_options: Optional[dict] = None,
                           onnx_file: Optional[str] = None,
                           dynamic_shape: bool = False,
                           ort_options=None) -> dict:
    """PyTorch eager and ONNX Runtime on the same frames with the same
    threads, one after the other in this process.

    The model is exported to a temporary file (timed as ``export_s``) unless
    ``onnx_file`` is given. Each backend's ``peak_rss_mb`` covers its own
    model build and timed passes (the kernel's high-water mark is reset
    before each, where Linux allows it; else the process peak is reported)
    and ``rss_base_mb`` is the RSS at that reset, so ``peak - base`` is what
    the backend's model and its passes added.
    """
    from knet.deployment import (OrtNetwork, OrtOptions, build_ort_model,
                                 export_onnx)
    from knet.deployment.metadata import weights_digest

    dev = torch.device('cpu')
    model, cfg = _build_model(config, checkpoint, seed, cfg_options)
    model.eval()
    h, w = shape
    div = int(getattr(model.data_preprocessor, 'pad_size_divisor', 1) or 1)
    padded = (-(-h // div) * div, -(-w // div) * div)
    export_s = None
    given = onnx_file
    options = ort_options or OrtOptions()
    options.threads = options.threads or torch.get_num_threads()
    if onnx_file is not None:
        stored = OrtNetwork(onnx_file, options).metadata.get('weights')
        if stored != weights_digest(model):
            raise UserError(f'--onnx {onnx_file}: holds other weights than '
                            'the benchmarked model (export it from the same '
                            'config, checkpoint and --seed)')
    # the export goes to a scratch folder, removed whatever happens
    with contextlib.ExitStack() as scratch:
        if onnx_file is None:
            folder = scratch.enter_context(
                temporary_dir(tempfile.gettempdir()))
            onnx_file = os.path.join(folder, 'model.onnx')
            export_s = export_onnx(
                model, onnx_file, padded, dynamic_shape=dynamic_shape,
                model_cfg=cfg.model, check=False).export_s
        # each backend's memory from its own build on: the exporter's model
        # goes first, the eager model is built again (same seed / checkpoint)
        del model
        gc.collect()
        base = _reset_peak_rss()
        model, _ = _build_model(config, checkpoint, seed, cfg_options)
        eager = _time_model(model.eval(), dev, shape, frames, repeat, warmup,
                            seed)
        eager['rss_base_mb'] = base
        del model
        gc.collect()
        base = _reset_peak_rss()
        ort_model = build_ort_model(cfg.model, onnx_file, options,
                                    config_name=config)
        ort = _time_model(ort_model, dev, shape, frames, repeat, warmup,
                          seed)
        ort['rss_base_mb'] = base
    med_e, med_o = eager['median_ms'], ort['median_ms']
    return dict(
        config=config,
        checkpoint=checkpoint,
        onnx_file=given,
        shape=[h, w],
        frames=frames,
        repeat=repeat,
        threads=torch.get_num_threads(),
        export_s=export_s,
        dynamic_shape=dynamic_shape,
        ort_options=dict(vars(options)),
        pytorch=eager,
        onnxruntime=ort,
        ratio_total=med_o['total'] / med_e['total'],
        ratio_network=med_o['network'] / med_e['network']
        if med_e.get('network') else float('nan'))


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


def _print_comparison(result: dict) -> None:
    eager, ort = result['pytorch'], result['onnxruntime']
    med_e, med_o = eager['median_ms'], ort['median_ms']
    label = 'median' if result['repeat'] > 1 else 'mean'
    print(f'PyTorch eager vs ONNX Runtime, per frame ({label} of '
          f'{result["repeat"]} pass(es) x {result["frames"]} frames, '
          f'{result["threads"]} threads, {result["shape"][0]}x'
          f'{result["shape"][1]})')
    print(f'{"":>16s}  {"eager":>9s}  {"ORT":>9s}')
    for k in _COMPARED + ('other', 'total'):
        if k in med_e or k in med_o:
            print(f'{k:>16s}: {med_e.get(k, 0.0):9.2f}  '
                  f'{med_o.get(k, 0.0):9.2f} ms')
    print(f'{"ORT / eager":>16s}: total {result["ratio_total"]:.3f}, '
          f'network {result["ratio_network"]:.3f}')
    print(f'{"peak RSS":>16s}: {eager["peak_rss_mb"]:9.1f}  '
          f'{ort["peak_rss_mb"]:9.1f} MiB')
    if eager.get('rss_base_mb') is not None and \
            ort.get('rss_base_mb') is not None:
        grow_e = eager['peak_rss_mb'] - eager['rss_base_mb']
        grow_o = ort['peak_rss_mb'] - ort['rss_base_mb']
        print(f'{"model + run":>16s}: {grow_e:9.1f}  {grow_o:9.1f} MiB  '
              '(peak RSS above the RSS before the model was built)')
    if result.get('export_s') is not None:
        print(f'{"export":>16s}: {result["export_s"]:.1f} s')
    opts = result['ort_options']
    print(f'{"ORT options":>16s}: '
          + ', '.join(f'{k}={v}' for k, v in opts.items()))


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
    parser.add_argument('--device', type=device_name, default='cpu',
                        help='cpu, cuda or cuda:<index> (default: cpu)')
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
    parser.add_argument('--amp', action='store_true',
                        help='run the model under autocast (bfloat16 where '
                        'the device supports it, else float16)')
    parser.add_argument(
        '--backend', choices=('pytorch', 'onnxruntime'), default='pytorch',
        help='onnxruntime: time PyTorch eager and ONNX Runtime on the same '
        'frames with the same threads in one run (the model is exported '
        'first unless --onnx is given)')
    parser.add_argument('--onnx', metavar='FILE', path='in-file',
                        suffixes=('.onnx',),
                        help='with --backend onnxruntime: an exported file '
                        'of this config and weights (skips the export)')
    parser.add_argument('--dynamic-shape', action='store_true',
                        help='with --backend onnxruntime: export with a '
                        'dynamic input size')
    parser.add_argument('--ort-opt-level', default='all',
                        choices=('disable', 'basic', 'extended', 'layout',
                                 'all'),
                        help='ONNX Runtime graph optimisation level')
    parser.add_argument('--ort-spinning',
                        action=argparse.BooleanOptionalAction, default=True,
                        help='ONNX Runtime worker threads spin while idle')
    parser.add_argument('--ort-mem-pattern',
                        action=argparse.BooleanOptionalAction, default=True,
                        help='ONNX Runtime memory pattern planning')
    parser.add_argument('--out', path='out-file', suffixes=('.json',),
                        help='write the result as JSON here')
    add_cfg_options(parser, 'model.roi_head.test_cfg.merge_resolution=mask')
    args = parser.parse_args(argv)

    if args.backend == 'onnxruntime' and (args.data or args.flops or args.amp
                                          or args.device != 'cpu'):
        parser.error('--backend onnxruntime times the model on the CPU '
                     '(no --data, --flops, --amp or --device)')
    ort_only = [option for option, value in (
        ('--onnx', args.onnx is not None),
        ('--dynamic-shape', args.dynamic_shape),
        ('--ort-opt-level', args.ort_opt_level != 'all'),
        ('--no-ort-spinning', not args.ort_spinning),
        ('--no-ort-mem-pattern', not args.ort_mem_pattern)) if value]
    if ort_only and args.backend != 'onnxruntime':
        parser.error(f'{ort_only[0]} needs --backend onnxruntime')
    check_device(args.device)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    try:
        if args.data:
            result = run_data_benchmark(args.config, args.frames,
                                        args.workers, args.cfg_options)
        elif args.backend == 'onnxruntime':
            from knet.deployment import OrtOptions
            result = run_backend_comparison(
                args.config, args.checkpoint, args.shape, args.frames,
                args.repeat, args.warmup, seed=args.seed,
                cfg_options=args.cfg_options, onnx_file=args.onnx,
                dynamic_shape=args.dynamic_shape,
                ort_options=OrtOptions(
                    graph_optimization=args.ort_opt_level,
                    spinning=args.ort_spinning,
                    memory_pattern=args.ort_mem_pattern))
        else:
            result = run_benchmark(args.config, args.checkpoint, args.shape,
                                   args.frames, args.device, args.repeat,
                                   args.warmup, seed=args.seed,
                                   cfg_options=args.cfg_options,
                                   flops=args.flops, amp=args.amp)
    except (UserError, OSError, MemoryError, KeyboardInterrupt):
        raise
    except Exception as exc:  # a config the model cannot be built from
        raise UserError(f'{args.config}: {type(exc).__name__}: {exc}') \
            from exc
    if args.data:
        print(f'data pipeline ({result["workers"]} workers): '
              f'{result["data_fps"]:.2f} frames/s over {result["frames"]} '
              'frames')
    elif args.backend == 'onnxruntime':
        _print_comparison(result)
    else:
        _print_table(result)
    if args.out:
        dump_json(result, args.out, indent=2)
    return 0


if __name__ == '__main__':
    sys.exit(run_cli(main))
