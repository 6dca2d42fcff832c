#!/usr/bin/env python
"""Seconds per training iteration of a config, split by phase.

Usage::

    python tools/analysis_tools/benchmark_train.py CONFIG [--device cuda] \
        [--amp] [--iters N] [--warmup W] [--workers K] [--out JSON]

The config's own training data pipeline runs on a small synthetic dataset
made for the occasion (``knet.datasets.synthetic``, in the official layout
of the config's dataset, frames at the config's ``crop_size`` unless
``--data-size`` says otherwise; deleted afterwards); the model starts from
seeded random weights (``load_from`` is ignored). Each iteration is the
MMEngine training step (data preprocessor, loss forward, ``parse_losses``,
backward, optimizer step with the config's gradient clipping) with wrappers
timing its phases:

``data``
    waiting for the dataloader (with the config's ``num_workers``);
``preprocess``
    the data preprocessor (copy to the device, normalisation, padding);
``forward``
    the network forward of the loss step (everything not listed below);
``targets``
    ground truth brought to the assignment grid, per-kernel targets and
    the tracking pair targets;
``assign``
    Hungarian assignment (cost matrices and matching);
``losses``
    loss functions and ``parse_losses``;
``backward``
    ``optim_wrapper.backward``;
``optimizer``
    ``optim_wrapper.step`` (clipping included) and ``zero_grad``;
``other``
    the rest of the step (autocast / optimizer contexts, glue).

On CUDA the device is synchronised at each phase boundary for the split,
which removes the overlap of host and device work; ``--iters`` further
iterations then run without any timing hooks (``free_running``): their
s/iter, samples/s and, with the profiler, the fraction of that time the GPU
was executing kernels or copies (``gpu_busy``: union of the device
activity intervals of ``--profile-iters`` profiled iterations per
iteration, over the free-running s/iter) are the figures to quote;
``host_syncs`` counts the host-device synchronisations of one more
iteration (CUDA's sync debug mode) and names the lines causing most. On
the CPU the split iterations are the measurement.

``--clock thread`` (CPU) times the phases in CPU time of the main thread
instead of wall time: with ``--threads 1`` that is the work of the step
whatever else loads the machine (the data wait then reads ~0, the loader
works in its own processes), so before/after comparisons on a shared
machine stay meaningful.

Peak memory: ``torch.cuda.max_memory_allocated`` on CUDA, the process's
peak resident set (ru_maxrss) on the CPU. ``--amp`` trains with mixed
precision as ``tools/train.py --amp`` does (:mod:`knet.engine.amp`).
"""
import argparse
import contextlib
import importlib.util
import math
import os.path as osp
import resource
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

import torch  # noqa: E402

from knet.formats.io import dump_json, temporary_dir  # noqa: E402
from knet.utils.cli import (ArgumentParser, UserError,  # noqa: E402
                            add_cfg_options, check_device, device_name,
                            int_range, run_cli)

#: phases of an iteration, in order
PHASES = ('data', 'preprocess', 'forward', 'targets', 'assign', 'losses',
          'backward', 'optimizer', 'other')


# ----------------------------------------------------------------- timing --
class PhaseTimer:
    """Exclusive wall time of nested, named phases.

    Entering a phase pauses the enclosing one, so every instant of an
    iteration is booked to exactly one phase (a loss function that calls an
    assigner books the assignment to ``assign``). With ``sync`` the device
    is synchronised at every boundary (CUDA launches are asynchronous).
    """

    def __init__(self, sync: Optional[Callable[[], None]] = None,
                 clock: Callable[[], float] = time.perf_counter) -> None:
        self.sync = sync
        self.clock = clock
        self.times: Dict[str, float] = defaultdict(float)
        self._stack: List[list] = []
        self._patched: List[Tuple[object, str]] = []

    def _now(self) -> float:
        if self.sync is not None:
            self.sync()
        return self.clock()

    def enter(self, name: str) -> None:
        now = self._now()
        if self._stack:
            top = self._stack[-1]
            self.times[top[0]] += now - top[1]
        self._stack.append([name, now])

    def exit(self) -> None:
        now = self._now()
        name, start = self._stack.pop()
        self.times[name] += now - start
        if self._stack:
            self._stack[-1][1] = now

    @contextlib.contextmanager
    def phase(self, name: str):
        self.enter(name)
        try:
            yield
        finally:
            self.exit()

    def wrap(self, obj: object, method: str, name: str) -> bool:
        """Book calls of ``obj.method`` to phase ``name`` (the bound method
        is shadowed on the instance until :meth:`restore`). False if
        ``obj`` has no such method."""
        fn = getattr(obj, method, None) if obj is not None else None
        if not callable(fn):
            return False

        def timed(*args, **kwargs):
            self.enter(name)
            try:
                return fn(*args, **kwargs)
            finally:
                self.exit()

        setattr(obj, method, timed)
        self._patched.append((obj, method))
        return True

    def restore(self) -> None:
        for obj, method in reversed(self._patched):
            try:
                delattr(obj, method)
            except AttributeError:
                pass
        self._patched = []

    def pop_times(self) -> Dict[str, float]:
        times, self.times = dict(self.times), defaultdict(float)
        return times


def attach_phases(timer: PhaseTimer, model) -> None:
    """Book the model's target, assignment and loss methods to phases
    (whatever of them the model has)."""
    timer.wrap(model, '_targets', 'targets')
    timer.wrap(model, 'parse_losses', 'losses')
    rpn = getattr(model, 'rpn_head', None)
    roi = getattr(model, 'roi_head', None)
    track = getattr(model, 'track_head', None)
    for head in (rpn, roi):
        timer.wrap(head, 'assign', 'assign')
        timer.wrap(head, '_assign_sets', 'assign')  # all stages at once
        timer.wrap(head, 'get_targets', 'targets')
        timer.wrap(head, 'loss', 'losses')
    for stage in getattr(roi, 'mask_head', None) or []:
        timer.wrap(stage, 'get_targets', 'targets')
        timer.wrap(stage, 'stage_targets', 'targets')
        timer.wrap(stage, 'loss', 'losses')
    timer.wrap(track, 'get_track_targets', 'targets')
    timer.wrap(track, 'loss', 'losses')


def device_busy_us(events: Iterable) -> float:
    """Microseconds covered by the union of the device-side intervals of
    profiler events (kernels, copies, memsets; overlapping streams count
    once)."""
    from torch.autograd import DeviceType
    spans = sorted(
        (e.time_range.start, e.time_range.end) for e in events
        if getattr(e, 'device_type', None) == DeviceType.CUDA
        and e.time_range.end > e.time_range.start)
    busy, cur_start, cur_end = 0.0, None, None
    for start, end in spans:
        if cur_end is None or start > cur_end:
            if cur_end is not None:
                busy += cur_end - cur_start
            cur_start, cur_end = start, end
        else:
            cur_end = max(cur_end, end)
    if cur_end is not None:
        busy += cur_end - cur_start
    return busy


# ------------------------------------------------------------------- data --
def _load_script(path: str):
    spec = importlib.util.spec_from_file_location(
        osp.splitext(osp.basename(path))[0], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _make_kitti_step(root: str, size: Tuple[int, int], frames: int,
                     seed: int) -> str:
    from knet.datasets.synthetic import make_synthetic
    raw, dst = osp.join(root, 'raw'), osp.join(root, 'kitti-step')
    # sequences 0 and 1 are in the official train split
    make_synthetic('kitti-step', raw, videos=2, frames=frames, size=size,
                   seed=seed)
    prepare = _load_script(osp.join(REPO, 'scripts', 'kitti_step_prepare.py'))
    if prepare.main(['--src', raw, '--dst', dst, '--mode', 'link']):
        raise UserError('scripts/kitti_step_prepare.py failed on the '
                        'synthetic data')
    return dst


def _make_vipseg(root: str, size: Tuple[int, int], frames: int,
                 seed: int) -> str:
    from knet.datasets.synthetic import make_synthetic
    dst = osp.join(root, 'VIPSeg')
    # the 720p layout is what the dataset reads; videos alternate
    # train / val, so 3 videos give 2 training videos
    make_synthetic('vipseg', dst, videos=3, frames=frames, size=size,
                   seed=seed, layout='720p')
    return dst


#: dataset type of the train dataloader -> maker of a synthetic root
SYNTHETIC_TRAIN_DATA = {
    'KittiStepDataset': _make_kitti_step,
    'VIPSegDataset': _make_vipseg,
}


def _crop_size(cfg) -> Optional[Tuple[int, int]]:
    """(h, w) of the config's ``crop_size`` or its training RandomCrop."""
    if cfg.get('crop_size') is not None:
        return tuple(int(v) for v in cfg.crop_size)
    found = []

    def visit(node):
        if isinstance(node, dict):
            if node.get('type') == 'RandomCrop' and 'crop_size' in node:
                w, h = node['crop_size']  # mmdet: (width, height)
                found.append((int(h), int(w)))
            for value in node.values():
                visit(value)
        elif isinstance(node, (list, tuple)):
            for item in node:
                visit(item)

    visit(cfg.train_dataloader.dataset.get('pipeline', []))
    return found[0] if found else None


# ------------------------------------------------------------------ model --
def _build(cfg, device: torch.device, amp: bool, seed: int):
    from mmengine.optim import build_optim_wrapper

    from mmdet.registry import MODELS
    model_cfg = cfg.model
    if model_cfg.get('backbone', {}).get('init_cfg') is not None:
        model_cfg.backbone.init_cfg = None  # no weight download
    torch.manual_seed(seed)
    model = MODELS.build(model_cfg)
    model.init_weights()
    model.to(device)
    model.train()
    optim_cfg = cfg.optim_wrapper.to_dict() if hasattr(
        cfg.optim_wrapper, 'to_dict') else dict(cfg.optim_wrapper)
    if amp:
        from knet.engine.amp import amp_optim_wrapper_cfg
        try:
            optim_cfg = amp_optim_wrapper_cfg(optim_cfg, device)
        except ValueError as e:
            raise UserError(str(e)) from e
    optim_wrapper = build_optim_wrapper(model, optim_cfg)
    return model, optim_wrapper


def _samples_in(batch) -> int:
    return len(batch['data_samples']) if isinstance(batch, dict) else 1


def _frames_in(batch) -> int:
    total = 0
    for s in batch.get('data_samples', []):
        total += len(getattr(s, 'video_data_samples', None) or [s])
    return total


def _train_step(model, optim_wrapper, batch, timer: Optional[PhaseTimer]):
    """MMEngine's ``BaseModel.train_step`` with its phases booked."""
    phase = timer.phase if timer is not None else (
        lambda name: contextlib.nullcontext())
    with optim_wrapper.optim_context(model):
        with phase('preprocess'):
            data = model.data_preprocessor(batch, True)
        with phase('forward'):
            losses = model._run_forward(data, mode='loss')
    parsed, log_vars = model.parse_losses(losses)
    with phase('backward'):
        optim_wrapper.backward(parsed)
    with phase('optimizer'):
        optim_wrapper.step()
        optim_wrapper.zero_grad()
    return log_vars, tuple(data['inputs'].shape[-2:])


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _summary(records: List[Dict[str, float]]) -> Dict[str, Dict[str, float]]:
    keys = list(PHASES) + ['total']
    mean = {k: statistics.fmean(r.get(k, 0.0) for r in records) for k in keys}
    median = {k: statistics.median(r.get(k, 0.0) for r in records)
              for k in keys}
    frac = {k: (mean[k] / mean['total'] if mean['total'] > 0 else 0.0)
            for k in PHASES}
    return dict(mean_s=mean, median_s=median, fraction=frac)


def run_train_benchmark(config: str,
                        iters: int = 20,
                        warmup: int = 3,
                        device: str = 'cpu',
                        amp: bool = False,
                        workers: Optional[int] = None,
                        data_size: Optional[Sequence[int]] = None,
                        data_frames: int = 6,
                        seed: int = 0,
                        profile_iters: int = 5,
                        cfg_options: Optional[dict] = None,
                        progress: bool = True,
                        clock: str = 'wall') -> dict:
    """Build the config's model, optimizer and training dataloader on
    synthetic data and time ``iters`` training iterations (see module
    doc)."""
    from mmengine.runner import Runner

    from knet.engine.runner_setup import load_config, set_data_root
    from knet.utils.setup_env import register_all_modules

    register_all_modules(init_default_scope=True)
    from mmengine.logging import MMLogger
    # a new 'current' logger: no per-parameter INFO lines of the optimizer
    MMLogger.get_instance(f'benchmark_train_{time.time_ns()}',
                          log_level='WARNING')
    cfg = load_config(config, cfg_options)
    dev = torch.device(device)
    loader_cfg = cfg.get('train_dataloader')
    if not loader_cfg or 'dataset' not in loader_cfg:
        raise UserError(f'{config}: no train_dataloader.dataset')
    ds_type = loader_cfg.dataset.get('type')
    maker = SYNTHETIC_TRAIN_DATA.get(ds_type)
    if maker is None:
        raise UserError(
            f'{config}: no synthetic training data for dataset type '
            f'{ds_type!r} (supported: {", ".join(SYNTHETIC_TRAIN_DATA)})')
    size = tuple(data_size) if data_size else _crop_size(cfg)
    if size is None:
        raise UserError(f'{config}: no crop_size in the config; pass '
                        '--data-size H W')
    sync = (lambda: torch.cuda.synchronize(dev)) if dev.type == 'cuda' \
        else None

    bar = None
    # the synthetic data: a scratch folder removed whatever happens (the
    # runner's clean-up covers an interruption too)
    with contextlib.ExitStack() as stack:
        tmp = str(stack.enter_context(temporary_dir(tempfile.gettempdir())))
        stack.callback(lambda: bar.close() if bar is not None else None)
        root = maker(tmp, size, data_frames, seed)
        set_data_root(loader_cfg, root.rstrip('/') + '/')
        loader_cfg.sampler = dict(type='InfiniteTrackImgSampler', seed=seed) \
            if 'Track' in loader_cfg.get('sampler', {}).get('type', '') \
            else dict(type='InfiniteSampler', seed=seed)
        if workers is not None:
            loader_cfg.num_workers = workers
            loader_cfg.persistent_workers = workers > 0
        loader = Runner.build_dataloader(loader_cfg, seed=seed)
        model, optim_wrapper = _build(cfg, dev, amp, seed)
        if dev.type == 'cuda':
            torch.cuda.reset_peak_memory_stats(dev)

        free = iters if dev.type == 'cuda' else 0
        prof_n = profile_iters if dev.type == 'cuda' else 0
        total_steps = warmup + iters + free + prof_n
        if progress:
            try:
                from tqdm import tqdm
                bar = tqdm(total=total_steps, desc='train iterations',
                           unit='it', file=sys.stderr)
            except ImportError:  # progress is optional
                bar = None
        batches = iter(loader)
        # 'thread': CPU time of this thread - with one intra-op thread, the
        # work of the step, insensitive to other load on a shared machine
        timer = PhaseTimer(sync, time.thread_time if clock == 'thread'
                           else time.perf_counter)
        attach_phases(timer, model)
        records, samples, frames, shapes = [], 0, 0, set()
        log_vars = None
        try:
            for i in range(warmup + iters):
                timer.pop_times()
                start = timer._now()
                # 'other': whatever no phase claims (the step's glue)
                with timer.phase('other'):
                    with timer.phase('data'):
                        batch = next(batches)
                    log_vars, shape = _train_step(model, optim_wrapper,
                                                  batch, timer)
                total = timer._now() - start
                times = timer.pop_times()
                if i >= warmup:
                    times['total'] = total
                    records.append(times)
                    samples += _samples_in(batch)
                    frames += _frames_in(batch)
                    shapes.add(shape)
                if bar is not None:
                    bar.update(1)
        finally:
            timer.restore()
        losses = {k: float(torch.as_tensor(v).detach())
                  for k, v in (log_vars or {}).items()}

        if amp:
            from knet.engine.amp import amp_dtype
        result = dict(
            config=config,
            device=str(dev),
            amp=amp,
            amp_dtype=str(amp_dtype(dev)).replace('torch.', '') if amp
            else None,
            iters=iters,
            warmup=warmup,
            batch_size=int(loader_cfg.batch_size),
            frames_per_sample=frames / max(1, samples),
            input_shapes=sorted(list(s) for s in shapes),
            data_size=list(size),
            num_workers=int(loader_cfg.num_workers),
            threads=torch.get_num_threads(),
            torch=torch.__version__,
            synced_phases=dev.type == 'cuda',
            clock=clock,
            last_losses=losses,
            losses_finite=all(math.isfinite(v) for v in losses.values()),
        )
        split = _summary(records)
        result['split'] = split
        s_iter = split['mean_s']['total']
        result['s_per_iter'] = s_iter
        result['samples_per_s'] = samples / sum(r['total'] for r in records)

        if dev.type == 'cuda':
            result['gpu'] = torch.cuda.get_device_name(dev)
            torch.cuda.synchronize(dev)
            start = time.perf_counter()
            n_samples = 0
            for _ in range(free):
                batch = next(batches)
                _train_step(model, optim_wrapper, batch, None)
                n_samples += _samples_in(batch)
                if bar is not None:
                    bar.update(1)
            torch.cuda.synchronize(dev)
            wall = time.perf_counter() - start
            result['free_running'] = dict(
                iters=free, s_per_iter=wall / free,
                samples_per_s=n_samples / wall)
            result['s_per_iter'] = wall / free
            result['samples_per_s'] = n_samples / wall
            if prof_n:
                result['gpu_busy'] = _profile_busy(
                    model, optim_wrapper, batches, prof_n, dev, bar,
                    wall / free)
            result['host_syncs'] = _count_syncs(model, optim_wrapper,
                                                batches, dev)
            result['peak_memory_mb'] = \
                torch.cuda.max_memory_allocated(dev) / 2**20
            result['peak_memory_kind'] = 'cuda_max_memory_allocated'
        else:
            result['peak_memory_mb'] = _peak_rss_mb()
            result['peak_memory_kind'] = 'process_peak_rss'
        return result


def _profile_busy(model, optim_wrapper, batches, n: int, dev, bar,
                  free_s_per_iter: float) -> dict:
    """GPU activity of ``n`` profiled iterations (see module doc)."""
    from torch.profiler import ProfilerActivity, profile
    # the batches first: data wait is part of an iteration, but the
    # profiler's own host overhead should not delay the loader
    torch.cuda.synchronize(dev)
    with profile(activities=[ProfilerActivity.CPU,
                             ProfilerActivity.CUDA]) as prof:
        start = time.perf_counter()
        for _ in range(n):
            _train_step(model, optim_wrapper, next(batches), None)
            if bar is not None:
                bar.update(1)
        torch.cuda.synchronize(dev)
        wall = time.perf_counter() - start
    busy_s = device_busy_us(prof.events()) / 1e6
    if busy_s == 0:  # no device events listed: the per-op device totals
        busy_s = sum(
            getattr(e, 'self_device_time_total',
                    getattr(e, 'self_cuda_time_total', 0))
            for e in prof.key_averages()) / 1e6
    per_iter = busy_s / n
    return dict(
        iters=n,
        device_active_s_per_iter=per_iter,
        fraction=min(1.0, per_iter / free_s_per_iter)
        if free_s_per_iter > 0 else None,
        fraction_in_profiled_window=busy_s / wall if wall > 0 else None,
        profiled_s_per_iter=wall / n)


def _count_syncs(model, optim_wrapper, batches, dev) -> dict:
    """Host-device synchronisations of one training iteration (CUDA's
    sync debug mode warns at each), with the source lines that cause the
    most."""
    import warnings
    from collections import Counter
    batch = next(batches)
    torch.cuda.synchronize(dev)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        torch.cuda.set_sync_debug_mode('warn')
        try:
            _train_step(model, optim_wrapper, batch, None)
        finally:
            torch.cuda.set_sync_debug_mode('default')
    syncs = [w for w in caught if 'synchroniz' in str(w.message).lower()]
    where = Counter(f'{osp.relpath(w.filename, REPO)}:{w.lineno}'
                    if w.filename.startswith(REPO) else
                    f'{w.filename.split("site-packages/")[-1]}:{w.lineno}'
                    for w in syncs)
    return dict(per_iter=len(syncs), top=where.most_common(15))


def _print(result: dict) -> None:
    split = result['split']
    mean = split['mean_s']
    amp = f', AMP {result["amp_dtype"]}' if result['amp'] else ''
    print(f'{result["config"]} on {result["device"]}{amp}: '
          f'{result["iters"]} iterations after {result["warmup"]} warm-up, '
          f'batch {result["batch_size"]} x '
          f'{result["frames_per_sample"]:.0f} frames, inputs '
          f'{result["input_shapes"]}, {result["threads"]} threads')
    synced = ' (device synchronised at each phase)' \
        if result['synced_phases'] else ''
    if result.get('clock') == 'thread':
        synced += ' (CPU time of the main thread)'
    print(f'per iteration, mean{synced}:')
    for k in PHASES:
        print(f'{k:>12s}: {mean[k]:9.4f} s  {100 * split["fraction"][k]:5.1f} %')
    print(f'{"total":>12s}: {mean["total"]:9.4f} s')
    free = result.get('free_running')
    if free:
        print(f'free running: {free["s_per_iter"]:.4f} s/iter, '
              f'{free["samples_per_s"]:.2f} samples/s')
    else:
        print(f'samples/s: {result["samples_per_s"]:.3f}')
    busy = result.get('gpu_busy')
    if busy and busy.get('fraction') is not None:
        print(f'GPU busy: {100 * busy["fraction"]:.1f} % of the iteration '
              f'({1e3 * busy["device_active_s_per_iter"]:.1f} ms device '
              'activity per iteration)')
    syncs = result.get('host_syncs')
    if syncs:
        print(f'host syncs per iteration: {syncs["per_iter"]}')
    print(f'peak memory: {result["peak_memory_mb"]:.1f} MiB '
          f'({result["peak_memory_kind"]})')
    print('losses finite' if result['losses_finite'] else
          'WARNING: non-finite losses')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = ArgumentParser(
        description='Seconds per training iteration of a config on '
        'synthetic data, split into data wait, preprocessing, forward, '
        'targets, assignment, losses, backward and optimizer step; '
        'samples/s, peak memory and (CUDA) the GPU-busy fraction.')
    parser.add_argument('config', path='in-file',
                        help='training config file')
    parser.add_argument('--device', type=device_name, default='cpu',
                        help='cpu, cuda or cuda:<index> (default: cpu)')
    parser.add_argument('--amp', action='store_true',
                        help='mixed precision (bfloat16 where supported, '
                        'else float16 with loss scaling)')
    parser.add_argument('--iters', type=int_range(1, 100000), default=20,
                        help='timed iterations (default: 20)')
    parser.add_argument('--warmup', type=int_range(0, 100000), default=3,
                        help='untimed iterations first (default: 3)')
    parser.add_argument('--profile-iters', type=int_range(0, 1000),
                        default=5,
                        help='CUDA: profiled iterations for the GPU-busy '
                        'fraction (0: skip; default: 5)')
    parser.add_argument('--workers', type=int_range(0, 256),
                        help="dataloader workers (default: the config's)")
    parser.add_argument('--data-size', type=int_range(1, 16384), nargs=2,
                        metavar=('H', 'W'),
                        help="synthetic frame size (default: the config's "
                        'crop_size)')
    parser.add_argument('--data-frames', type=int_range(3, 1000), default=6,
                        help='frames per synthetic video, at least 3 (key '
                        '+ reference frames; default: 6)')
    parser.add_argument('--threads', type=int_range(1, 1024),
                        help="torch intra-op threads (default: torch's)")
    parser.add_argument('--clock', choices=('wall', 'thread'),
                        default='wall',
                        help="'thread': time the phases in CPU time of the "
                        'main thread (CPU, with --threads 1: the work of the '
                        'step, robust on a shared machine; data wait then '
                        "reads ~0); default 'wall'")
    parser.add_argument('--seed', type=int_range(0, 2**32 - 1), default=0,
                        help='seed of the data, weights and sampling')
    parser.add_argument('--no-progress', action='store_true',
                        help='no progress bar')
    parser.add_argument('--out', path='out-file', suffixes=('.json',),
                        help='write the result as JSON here')
    add_cfg_options(parser, 'train_dataloader.batch_size=2')
    args = parser.parse_args(argv)
    if args.clock == 'thread' and args.device != 'cpu':
        parser.error('--clock thread measures CPU work; use it with '
                     '--device cpu')
    return args


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    check_device(args.device)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    result = run_train_benchmark(
        args.config, iters=args.iters, warmup=args.warmup,
        device=args.device, amp=args.amp, workers=args.workers,
        data_size=args.data_size, data_frames=args.data_frames,
        seed=args.seed, profile_iters=args.profile_iters,
        cfg_options=args.cfg_options, progress=not args.no_progress,
        clock=args.clock)
    _print(result)
    if args.out:
        dump_json(result, args.out, indent=2)
    return 0


if __name__ == '__main__':
    sys.exit(run_cli(main))
