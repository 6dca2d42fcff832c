"""Runner set-up of tools/train.py and tools/test.py: load the config and
apply the command-line options to it (see also :mod:`.test_options`)."""
import contextlib
import os
import os.path as osp
import warnings
from typing import Iterator, Optional

import torch

from knet.utils.cli import UserError, check_output_path
from .cpu_distributed import init_cpu_process_group, use_device_aware_ddp

__all__ = ['load_config', 'prepare_train_cfg', 'prepare_test_cfg',
           'adapt_dist_backend', 'config_errors', 'register_data_roots',
           'process_group_teardown', 'set_data_root']


def load_config(path: str, cfg_options: Optional[dict] = None):
    """``Config.fromfile`` with a one-line error for a missing/bad file."""
    from mmengine.config import Config
    if not osp.isfile(path):
        raise UserError(f'{path}: config file not found')
    try:
        cfg = Config.fromfile(path)
    except Exception as e:  # syntax errors, bad _base_ paths, ...
        raise UserError(f'{path}: cannot load config: '
                        f'{type(e).__name__}: {e}') from e
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg


@contextlib.contextmanager
def config_errors(config_path: str) -> Iterator[None]:
    """Report what a config cannot build as one line naming the config.

    MMEngine builds the runner's parts from the config (some of them only
    when ``train()`` / ``test()`` start): an unregistered ``type`` raises a
    KeyError naming the registry, a misspelt or missing argument a
    TypeError naming it. Both become a :class:`UserError`; other exceptions
    pass through unchanged.
    """
    try:
        yield
    except KeyError as e:
        text = str(e.args[0]) if e.args else ''
        if 'registry' not in text:
            raise
        raise UserError(f'{config_path}: {text.split(". ")[0]}') from e
    except TypeError as e:
        text = str(e)
        if 'argument' not in text:
            raise
        raise UserError(f'{config_path}: {text}') from e


def adapt_dist_backend(cfg) -> None:
    """Without CUDA, run multi-process jobs on gloo with CPU-capable DDP.

    Starts the gloo process group itself for ``--launcher pytorch`` (see
    :mod:`.cpu_distributed` for why MMEngine cannot).
    """
    if torch.cuda.is_available():
        return
    dist_cfg = cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})
    if dist_cfg.get('backend', 'nccl') == 'nccl':
        dist_cfg['backend'] = 'gloo'
    if cfg.get('launcher', 'none') != 'none':
        use_device_aware_ddp(cfg)
        init_cpu_process_group(cfg.launcher, dist_cfg['backend'])


def register_data_roots(cfg, *loaders: str) -> None:
    """Declare the ``data_root`` folders of the named dataloaders' datasets
    (nested ones included) as inputs of the current run, so that no output
    of the run lands inside a dataset."""
    from knet.formats.io import register_input

    def visit(node):
        if isinstance(node, dict):
            root = node.get('data_root')
            if isinstance(root, str) and osp.isdir(root):
                register_input(root, tree=True)
            for value in node.values():
                visit(value)
        elif isinstance(node, (list, tuple)):
            for value in node:
                visit(value)

    for name in loaders:
        visit(cfg.get(name))


def set_data_root(node, root: str) -> None:
    """Set every ``data_root`` key inside a (nested) dataloader or dataset
    config to ``root`` (the tools that run on generated data)."""
    if isinstance(node, dict):
        for key in list(node.keys()):
            if key == 'data_root':
                node[key] = root
            else:
                set_data_root(node[key], root)
    elif isinstance(node, (list, tuple)):
        for item in node:
            set_data_root(item, root)


def _work_dir(cfg, work_dir: Optional[str], config_path: str) -> None:
    """Set ``cfg.work_dir`` and check, before any work, that it can be
    written (and is no input of the run)."""
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(config_path))[0])
    check_output_path(cfg.work_dir, 'out-dir', 'work_dir')


def prepare_train_cfg(cfg,
                      launcher: str,
                      work_dir: Optional[str],
                      config_path: str,
                      amp: bool = False,
                      auto_scale_lr: bool = False,
                      resume: Optional[str] = None) -> None:
    """Apply tools/train.py's options to ``cfg`` in place."""
    cfg.launcher = launcher
    register_data_roots(cfg, 'train_dataloader', 'val_dataloader')
    _work_dir(cfg, work_dir, config_path)
    adapt_dist_backend(cfg)
    if amp:
        from knet.engine.amp import amp_optim_wrapper_cfg
        if 'optim_wrapper' not in cfg:
            raise UserError(f'{config_path}: no optim_wrapper to use --amp '
                            'with')
        if cfg.optim_wrapper.get('type') in ('AmpOptimWrapper',
                                             'CpuAmpOptimWrapper'):
            warnings.warn('AMP training is already enabled in the config.')
        device = 'cuda' if torch.cuda.is_available() else 'cpu'
        try:
            cfg.optim_wrapper = amp_optim_wrapper_cfg(
                cfg.optim_wrapper.to_dict(), device)
        except ValueError as e:
            raise UserError(f'{config_path}: {e}') from e
    if auto_scale_lr:
        if 'auto_scale_lr' not in cfg or 'base_batch_size' not in \
                cfg.auto_scale_lr:
            raise UserError(f'{config_path}: --auto-scale-lr needs '
                            '`auto_scale_lr.base_batch_size` in the config')
        cfg.auto_scale_lr.enable = True
    if resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif resume is not None:
        if not osp.isfile(resume):
            raise UserError(f'{resume}: checkpoint to resume from not found')
        cfg.resume = True
        cfg.load_from = resume


def prepare_test_cfg(cfg, launcher: str, work_dir: Optional[str],
                     config_path: str, checkpoint: str,
                     strict: bool = True, amp: bool = False) -> None:
    """Apply tools/test.py's common options to ``cfg`` in place
    (``strict=False``: ``--no-strict``, see :mod:`.runner`; ``amp``: the
    model runs under autocast, :class:`.amp.AmpTestLoop`)."""
    cfg.launcher = launcher
    register_data_roots(cfg, 'test_dataloader')
    _work_dir(cfg, work_dir, config_path)
    adapt_dist_backend(cfg)
    if not osp.isfile(checkpoint):
        raise UserError(f'{checkpoint}: checkpoint not found')
    cfg.load_from = checkpoint
    cfg.load_strict = strict
    if amp:
        from knet.engine.amp import amp_test_cfg
        test_cfg = cfg.get('test_cfg') or {}
        try:
            cfg.test_cfg = amp_test_cfg(
                test_cfg.to_dict() if hasattr(test_cfg, 'to_dict') else
                test_cfg)
        except ValueError as e:
            raise UserError(f'{config_path}: {e}') from e
    os.environ.setdefault('LOCAL_RANK', '0')


@contextlib.contextmanager
def process_group_teardown() -> Iterator[None]:
    """Collect the runner and destroy the distributed process group (if one
    was started) when the block ends, however it ends.

    MMEngine leaves both to interpreter exit. The runner is kept alive by
    reference cycles and its DDP wrapper holds the gloo process group, so
    the group's threads were destroyed during finalisation while still
    joinable and a rank aborted with "terminate called without an active
    exception" after writing all its outputs (tools/dist_test.sh on 2 CPU
    processes: 5 aborts in 26 runs; 0 in 40 with this). The caller drops
    its last reference to the runner (``del runner``) inside the block.
    """
    try:
        yield
    finally:
        import gc

        import torch.distributed as dist
        if dist.is_available() and dist.is_initialized():
            gc.collect()
            dist.destroy_process_group()
