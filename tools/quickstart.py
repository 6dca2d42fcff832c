#!/usr/bin/env python
"""`make demo`: the whole system on a fresh machine, CPU only, in minutes.

1. generate a small synthetic KITTI-STEP dataset (textured stuff, moving and
   occluding things with persistent ids) in the official layout under
   ``data/quickstart/raw``, convert it with ``scripts/kitti_step_prepare.py``
   into ``data/quickstart/kitti-step`` (kept and reused by later runs);
2. train ``configs/quickstart/video_knet_quickstart.py`` on the CPU;
3. evaluate it on the validation sequences with the project's metrics;
4. write under ``work_dirs/quickstart/``: the checkpoint, ``metrics.json``
   (STQ, AQ, SQ, VPQ), ``gt_vs_pred.mp4`` (H.264) / ``.gif`` (ground truth |
   prediction, colours stable per track id) and ``curves.png``.

The config is the recipe: model, schedule, the synthetic data's settings
(``synthetic_data``) and the video (``GtPredVideoHook``). This tool only
places the data and the outputs and changes sizes; options shrink the run
for a test (``--iters 2 --frames 3 --videos 3``).
"""
import argparse
import importlib
import inspect
import os
import os.path as osp
import subprocess
import sys
import time
from typing import Dict, Optional

import numpy as np

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..'))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from knet.formats import (KITTI_STEP_NUM_CLASSES,  # noqa: E402
                          KITTI_STEP_THING_IDS)
from knet.formats.io import (DataError, dump_json, load_json,  # noqa: E402
                             move_into_place, register_input, temporary_dir)
from knet.utils.cli import (ArgumentParser, UserError,  # noqa: E402
                            float_range, int_range, run_cli)

DEFAULT_CONFIG = osp.join(REPO, 'configs', 'quickstart',
                          'video_knet_quickstart.py')
PREPARE = osp.join(REPO, 'scripts', 'kitti_step_prepare.py')
CURVES_SCRIPT = osp.join(REPO, 'tools', 'analysis_tools', 'analyze_logs.py')
#: metric names reported in metrics.json (matched as ``name`` or ``*/name``)
REPORTED = ('STQ', 'AQ', 'SQ', 'VPQ')
#: the data settings' ranges, for the options and the config's
#: ``synthetic_data`` alike (3 videos: sequence 2 is the first val one; 2
#: frames: a key and a reference frame)
DATA_TYPES = dict(videos=int_range(3, 21), frames=int_range(2, 10000),
                  size=int_range(32, 4096), seed=int_range(0, 2**32 - 1),
                  stuff_classes=int_range(0, KITTI_STEP_NUM_CLASSES - 1))
#: settings of ``synthetic_data`` that have no option: checked when set
CONFIG_DATA_TYPES = dict(train_frames=int_range(2, 10000),
                         train_spawn=float_range(0, 10),
                         thing_outline=int_range(0, 16),
                         test_videos=int_range(0, 100))


def _stuff_problem(classes) -> Optional[str]:
    """What is wrong with a list of stuff trainIds (None: nothing)."""
    seen = set()
    for c in classes:
        if c in KITTI_STEP_THING_IDS:
            return f'{c} is a thing class, not a stuff class'
        if c in seen:
            return f'{c} is given twice'
        seen.add(c)
    return None


def parse_args(argv=None) -> argparse.Namespace:
    p = ArgumentParser(
        description='Train and evaluate a small Video K-Net on synthetic '
        'KITTI-STEP data on the CPU; write checkpoint, metrics, video and '
        'curves. The recipe (model, schedule, data generation, video) is '
        'the config\'s; the options below only move the data and outputs '
        'or change the sizes (default: the config\'s value).')
    p.add_argument('--config', default=DEFAULT_CONFIG, path='in-file',
                   help='config file')
    p.add_argument('--data-root', default=osp.join(REPO, 'data', 'quickstart'),
                   path='out-dir',
                   help='where the synthetic data is made (reused while the '
                   'data settings are the same, replaced when they change; '
                   'a folder the quickstart did not make is refused)')
    p.add_argument('--work-dir',
                   default=osp.join(REPO, 'work_dirs', 'quickstart'),
                   path='out-dir',
                   help='output folder (not inside --data-root)')
    p.add_argument('--iters', type=int_range(1, 10**6), default=None,
                   help='training iterations (the LR schedule scales along)')
    p.add_argument('--videos', type=DATA_TYPES['videos'], default=None,
                   help='synthetic sequences 0..N-1, 3 to 21, in the '
                   'official split: val 2, 6, 7, 8, 10, 13, 14, 16, 18, the '
                   'others train')
    p.add_argument('--frames', type=DATA_TYPES['frames'], default=None,
                   help='frames per sequence (at least 2: a key and a '
                   'reference frame; the training sequences have '
                   'synthetic_data.train_frames when the config sets it)')
    p.add_argument('--size', type=DATA_TYPES['size'], nargs=2, default=None,
                   metavar=('H', 'W'), help='frame size (32 to 4096 each)')
    p.add_argument('--seed', type=DATA_TYPES['seed'], default=None,
                   help='data and training seed')
    p.add_argument('--stuff-classes', type=DATA_TYPES['stuff_classes'],
                   nargs='+', default=None, metavar='ID',
                   help='stuff trainIds the videos draw their bands from '
                   f'(not the thing classes {list(KITTI_STEP_THING_IDS)})')
    # 1: the data worker keeps the second core (2 cores, 96 x 192: 300
    # iterations in 84 s with 1 thread; 2 threads were slower, 1.15 it/s,
    # in a run that shared the machine)
    p.add_argument('--threads', type=int_range(1, 1024), default=1,
                   help='torch CPU threads (default: %(default)s)')
    p.add_argument('--no-gif', action='store_true', help='skip the GIF')
    p.add_argument('--fps', type=float_range(0, 1000, lo_open=True),
                   default=None, help='video frame rate')
    p.add_argument('--verbose', action='store_true',
                   help='show the training log instead of progress bars')
    args = p.parse_args(argv)
    problem = _stuff_problem(args.stuff_classes or ())
    if problem:
        p.error(f'argument --stuff-classes: {problem}')
    work, data = osp.realpath(args.work_dir), osp.realpath(args.data_root)
    if work == data or work.startswith(data.rstrip(os.sep) + os.sep):
        where = 'is' if work == data else 'lies inside'
        raise UserError(f'--work-dir {args.work_dir}: {where} --data-root '
                        f'{args.data_root}, which the quickstart replaces '
                        'when the data settings change')
    return args


# ---------------------------------------------------------------- pieces --
def check_pieces() -> None:
    """Fail with one clear line when a part of the project is missing."""
    if not osp.isfile(PREPARE):
        raise UserError(f'the quickstart needs {PREPARE} (file not found)')
    try:
        import knet.datasets.synthetic as synthetic
        synthetic.make_synthetic
    except (ImportError, AttributeError) as e:
        raise UserError('the quickstart needs knet.datasets.synthetic.'
                        f'make_synthetic ({e})')
    try:
        importlib.import_module('mmdet')
        importlib.import_module('mmengine')
    except ImportError as e:
        raise UserError(f'the quickstart needs MMDetection/MMEngine ({e}); '
                        'run `make setup`')


def _check_registered(cfg) -> None:
    """Model, dataset and metric types of the config must be registered."""
    from mmdet.registry import DATASETS, METRICS, MODELS
    wanted = [(MODELS, cfg.model.get('type'), 'model')]
    for loader in ('train_dataloader', 'val_dataloader'):
        ds = cfg.get(loader, {}).get('dataset', {})
        wanted.append((DATASETS, ds.get('type'), 'dataset'))
    evaluators = cfg.get('val_evaluator', {})
    for ev in evaluators if isinstance(evaluators, list) else [evaluators]:
        wanted.append((METRICS, ev.get('type'), 'metric'))
    for registry, name, kind in wanted:
        if name is None or not isinstance(name, str):
            continue
        if registry.get(name) is None:
            raise UserError(f'the quickstart needs the {kind} {name!r} '
                            f'(used by {cfg.filename}), which is not '
                            'registered: that part of the project is missing')


# ------------------------------------------------------------------ data --
def check_data_root(root: str) -> None:
    """Refuse a non-empty folder that the quickstart did not make."""
    if osp.exists(root) and not osp.isfile(osp.join(root, 'quickstart.json')):
        if not osp.isdir(root) or os.listdir(root):
            raise UserError(f'{root}: exists and was not made by the '
                            'quickstart (no quickstart.json); choose another '
                            '--data-root')


def _check_setting(name: str, check, value) -> None:
    """A config value through its option's range check (``check``: an
    ``int_range`` / ``float_range``); a UserError naming ``name``."""
    try:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise argparse.ArgumentTypeError(f'{value!r} is not a number')
        check(str(value))
    except argparse.ArgumentTypeError as e:
        raise UserError(f'{name}: {e}') from None


def data_recipe(cfg, args) -> dict:
    """The config's ``synthetic_data`` with the command line's sizes."""
    recipe = dict(cfg.get('synthetic_data') or {})
    if recipe.get('dataset', 'kitti-step') != 'kitti-step':
        raise UserError(f'{args.config}: synthetic_data.dataset must be '
                        'kitti-step')
    recipe['dataset'] = 'kitti-step'
    from knet.datasets.synthetic.kitti_step import make_kitti_step
    params = inspect.signature(make_kitti_step).parameters
    known = {name for name, p in params.items()
             if p.kind is p.POSITIONAL_OR_KEYWORD and name != 'out'}
    unknown = sorted(set(recipe) - known - {'dataset'})
    if unknown:
        raise UserError(f'{args.config}: synthetic_data.{unknown[0]} is not '
                        'an argument of make_kitti_step (known: '
                        f'{", ".join(sorted(known))})')
    for key, check in DATA_TYPES.items():
        value = getattr(args, key)
        if value is not None:
            recipe[key] = value
            continue
        value = recipe.get(key)
        name = f'{args.config}: synthetic_data.{key}'
        if value is None:
            raise UserError(f'{name} is not set (and no '
                            f'--{key.replace("_", "-")} given)')
        # the config's value: the option's range applies
        many = key in ('size', 'stuff_classes')
        if many and (not isinstance(value, (list, tuple)) or not value or
                     key == 'size' and len(value) != 2):
            raise UserError(f'{name}: expected a list'
                            + (' [H, W]' if key == 'size' else ''))
        for item in value if many else [value]:
            _check_setting(name, check, item)
        problem = _stuff_problem(value) if key == 'stuff_classes' else None
        if problem:
            raise UserError(f'{name}: {problem}')
    for key, check in CONFIG_DATA_TYPES.items():
        if recipe.get(key) is not None:
            _check_setting(f'{args.config}: synthetic_data.{key}', check,
                           recipe[key])
    recipe['size'] = [int(v) for v in recipe['size']]
    recipe['stuff_classes'] = sorted(int(c) for c in recipe['stuff_classes'])
    return recipe


def make_data(root: str, recipe: dict) -> str:
    """Synthetic raw KITTI-STEP + converted layout; reused when unchanged.

    Built in a temporary folder beside ``root`` and moved into place
    (:func:`knet.formats.io.move_into_place`, replacing an older data set
    of the quickstart), so an interrupted run never leaves a half dataset
    behind.
    """
    from knet.datasets.synthetic import make_synthetic
    stamp = dict(recipe, version=2)
    stamp_file = osp.join(root, 'quickstart.json')
    if osp.isfile(stamp_file):
        try:
            same = load_json(stamp_file) == stamp
        except DataError:
            same = False  # a broken stamp: made again
        if same:
            print(f'[1/5] data: reusing {osp.abspath(root)}')
            return osp.join(root, 'kitti-step')
    check_data_root(root)
    size = recipe['size']
    frames = f'{recipe["frames"]} frames'
    if recipe.get('train_frames') not in (None, recipe['frames']):
        frames = f'{recipe["train_frames"]} (train) / {frames} (val)'
    print(f'[1/5] data: {recipe["videos"]} synthetic KITTI-STEP sequences of '
          f'{frames} ({size[0]}x{size[1]}) -> '
          f'{osp.abspath(root)}')
    kwargs = {k: v for k, v in recipe.items() if k != 'dataset'}
    kwargs['size'] = tuple(size)
    with temporary_dir(osp.dirname(osp.abspath(root))) as tmp:
        try:
            make_synthetic('kitti-step', str(tmp / 'raw'), **kwargs)
        except (TypeError, ValueError) as e:
            raise UserError(f'synthetic data: {e}') from e
        # copies, not links: the raw folder moves with the rest
        proc = subprocess.run(
            [sys.executable, PREPARE, '--src', str(tmp / 'raw'), '--dst',
             str(tmp / 'kitti-step'), '--mode', 'copy'],
            capture_output=True, text=True)
        if proc.returncode != 0:
            lines = (proc.stderr.strip() or proc.stdout.strip()).splitlines()
            raise UserError(f'{PREPARE} failed: '
                            f'{lines[-1] if lines else proc.returncode}')
        dump_json(stamp, tmp / 'quickstart.json')
        move_into_place(tmp, root)
    return osp.join(root, 'kitti-step')


def warn_unseen_classes(data_root: str) -> None:
    """Warn when val sequences hold classes that no train sequence has."""
    from knet.formats import KITTI_STEP_IGNORE, decode_kitti_step
    from knet.formats.io import read_image
    seen = {}
    for split in ('train', 'val'):
        folder = osp.join(data_root, 'video_sequence', split)
        ids = set()
        for name in sorted(os.listdir(folder)):
            if name.endswith('_panoptic.png'):
                sem, _ = decode_kitti_step(read_image(osp.join(folder, name)))
                ids.update(np.unique(sem).tolist())
        seen[split] = ids - {KITTI_STEP_IGNORE}
    unseen = sorted(seen['val'] - seen['train'])
    if unseen:
        print(f'warning: val classes {unseen} never occur in train; the '
              'metrics will suffer (try another --seed or more --videos)',
              file=sys.stderr)


# ---------------------------------------------------------------- config --
def _fit_pipeline_to_size(cfg, size) -> None:
    """Training resize / crop at the synthetic frame size (h, w)."""
    h, w = int(size[0]), int(size[1])

    def visit(node):
        if isinstance(node, dict):
            if node.get('type') == 'RandomResize':
                node['scale'] = (w, h)
            elif node.get('type') == 'RandomCrop':
                node['crop_size'] = (w, h)  # mmdet: (width, height)
            for value in node.values():
                visit(value)
        elif isinstance(node, (list, tuple)):
            for item in node:
                visit(item)

    visit(cfg.train_dataloader.dataset.get('pipeline', []))


def _set_iters(cfg, iters: int) -> None:
    """Run length ``iters``: the schedule's milestones, the checkpoint and
    the (single, final) validation scale along."""
    loop = cfg.train_cfg
    old = int(loop.max_iters)
    loop.max_iters = iters
    loop.val_interval = iters
    scale = iters / old
    for sched in cfg.get('param_scheduler') or ():
        begin = max(0, int(round(sched.get('begin', 0) * scale)))
        sched['begin'] = begin
        if sched.get('end') is not None:
            sched['end'] = max(begin + 1, int(round(sched.end * scale)))
        if 'milestones' in sched:
            sched['milestones'] = [
                max(1, int(round(m * scale))) for m in sched.milestones
            ]
    hooks = cfg.default_hooks
    hooks.checkpoint.interval = iters
    # at least ~20 points on the loss curve, even for a short run
    hooks.logger.interval = max(1, min(int(hooks.logger.interval),
                                       iters // 20))


def _video_hook(cfg) -> Optional[dict]:
    for hook in cfg.get('custom_hooks') or ():
        if hook.get('type') == 'GtPredVideoHook':
            return hook
    return None


def build_cfg(cfg, args, data_root: str, recipe: dict):
    """The config with the data paths, frame size and run length set."""
    if (cfg.get('train_cfg') or {}).get('type') != 'IterBasedTrainLoop':
        raise UserError(f'{args.config}: the quickstart expects an '
                        'IterBasedTrainLoop')
    cfg.work_dir = args.work_dir
    from knet.engine.runner_setup import set_data_root
    root = data_root.rstrip('/') + '/'
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if loader in cfg:
            set_data_root(cfg[loader], root)
    _fit_pipeline_to_size(cfg, recipe['size'])
    if args.iters is not None and args.iters != cfg.train_cfg.max_iters:
        _set_iters(cfg, int(args.iters))
    video = _video_hook(cfg)
    if video is not None:
        if args.no_gif:
            video['gif'] = None
        if args.fps is not None:
            video['fps'] = args.fps
    if not args.verbose:
        cfg.log_level = 'WARNING'
    cfg.randomness = dict(cfg.get('randomness') or {}, seed=recipe['seed'])
    return cfg


# ---------------------------------------------------------------- hooks --
def _progress_hook(total_iters: int):
    from mmengine.hooks import Hook
    from tqdm import tqdm

    class QuickstartProgressHook(Hook):
        """Progress bars; keeps the validation metrics."""
        priority = 'VERY_LOW'

        def __init__(self):
            self.metrics: Dict[str, float] = {}
            self.bar = None
            self.val_bar = None

        def before_train(self, runner):
            self.bar = tqdm(total=total_iters, desc='[2/5] train',
                            unit='iter', initial=runner.iter)

        def after_train_iter(self, runner, batch_idx, data_batch=None,
                             outputs=None):
            self.bar.update(1)
            loss = (outputs or {}).get('loss')
            if loss is not None:
                self.bar.set_postfix(loss=f'{float(loss.detach()):.3f}')

        def after_train(self, runner):
            if self.bar is not None:
                self.bar.close()

        def before_val_epoch(self, runner):
            if self.bar is not None:
                self.bar.close()
            self.val_bar = tqdm(total=len(runner.val_dataloader),
                                desc='[3/5] evaluate', unit='frame')

        def after_val_iter(self, runner, batch_idx, data_batch=None,
                           outputs=None):
            self.val_bar.update(1)

        def after_val_epoch(self, runner, metrics=None):
            self.val_bar.close()
            self.metrics = dict(metrics or {})

    return QuickstartProgressHook()


# ------------------------------------------------------------------ main --
def _metric(metrics: Dict[str, float], name: str) -> Optional[float]:
    for key, value in metrics.items():
        if key == name or key.endswith('/' + name):
            return float(value)
    return None


def main(argv=None) -> Dict:
    args = parse_args(argv)
    start = time.time()
    check_data_root(args.data_root)
    check_pieces()
    import torch
    torch.set_num_threads(args.threads)

    from knet.engine.runner_setup import config_errors, load_config
    from knet.utils.setup_env import register_all_modules
    register_all_modules()

    # everything the config can get wrong is found before the data is made
    cfg = load_config(args.config)
    recipe = data_recipe(cfg, args)
    cfg = build_cfg(cfg, args, osp.join(args.data_root, 'kitti-step'),
                    recipe)
    _check_registered(cfg)
    data_root = make_data(args.data_root, recipe)
    register_input(args.data_root, tree=True)  # read from here on
    warn_unseen_classes(data_root)
    os.makedirs(args.work_dir, exist_ok=True)

    from mmengine.runner import Runner
    progress = _progress_hook(cfg.train_cfg.max_iters)
    with config_errors(args.config):
        runner = Runner.from_cfg(cfg)
        runner.register_hook(progress)
        runner.train()
    if not progress.metrics:
        raise UserError('training finished without a validation result '
                        '(check val_dataloader / val_evaluator)')

    ckpt = osp.join(args.work_dir, f'iter_{cfg.train_cfg.max_iters}.pth')
    if not osp.isfile(ckpt):
        raise UserError(f'{ckpt}: the checkpoint was not written')
    print('[4/5] training curves')
    log = osp.join(args.work_dir, runner.timestamp, 'vis_data',
                   'scalars.json')
    curves = osp.join(args.work_dir, 'curves.png')
    keys = ['loss'] + [k for k in REPORTED
                       if _metric(progress.metrics, k) is not None][:1]
    proc = subprocess.run([
        sys.executable, CURVES_SCRIPT, 'plot_curve', log, '--keys', *keys,
        '--out', curves, '--title', 'Video K-Net quickstart'
    ], capture_output=True, text=True)
    if proc.returncode != 0:
        raise UserError(f'analyze_logs failed: {proc.stderr.strip()}')

    video = _video_hook(cfg) or {}
    mp4 = osp.join(args.work_dir, video['mp4']) if video.get('mp4') else None
    gif = osp.join(args.work_dir, video['gif']) if video.get('gif') else None
    elapsed = time.time() - start
    summary = {k: _metric(progress.metrics, k) for k in REPORTED}
    result = dict(
        summary,
        all_metrics={k: float(v) for k, v in progress.metrics.items()
                     if isinstance(v, (int, float))},
        iters=cfg.train_cfg.max_iters,
        data={k: v for k, v in recipe.items() if k != 'dataset'},
        seconds=round(elapsed, 1),
        threads=args.threads,
        checkpoint=ckpt, video_mp4=mp4, video_gif=gif, curves=curves)
    metrics_path = osp.join(args.work_dir, 'metrics.json')
    dump_json(result, metrics_path, indent=2)
    print('[5/5] done in {:.0f} s'.format(elapsed))
    print('  ' + '  '.join(
        f'{k} {v:.3f}' if v is not None else f'{k} n/a'
        for k, v in summary.items()))
    for name, path in (('checkpoint', ckpt), ('metrics', metrics_path),
                       ('video', mp4), ('gif', gif), ('curves', curves)):
        if path:
            print(f'  {name:<10} {osp.abspath(path)}')
    return result


if __name__ == '__main__':
    sys.exit(run_cli(main))
