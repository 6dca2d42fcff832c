"""Load a checkpoint into a model: strict by default, release files converted.

Every place where a user hands over a checkpoint (``tools/test.py``, the
video demo, :func:`knet.apis.init_model`, a config's ``load_from`` and
``--resume`` through :class:`knet.engine.KNetRunner`) goes through
:func:`load_model_checkpoint`:

* a checkpoint of the original release (mmdet 2.x names, detected from its
  keys or ``meta``) is converted in memory
  (:mod:`knet.models.utils.release_checkpoint`) and the conversion logged;
* strict (default): the checkpoint's tensors must match the model's state
  dict exactly (names and shapes); otherwise a :class:`CheckpointMismatch`
  names the first missing, unexpected and mis-shaped keys in one line;
* one documented partial load passes the strict check: an image K-Net
  checkpoint initialising a video model (the video configs' ``load_from``).
  It must hold every key of the model except the video-only ones
  (``model.video_only_state_keys()``: association embedding, track head,
  link / fusion modules, VIS clip head), none of those, nothing else, and
  may differ in shape only in the class-count layers
  (``model.class_state_keys()``, re-initialised when the image model was
  trained on another label set). What stays newly initialised is logged;
* ``strict=False``: every tensor that fits is loaded, the rest is listed
  in a warning.
"""
import os.path as osp
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Mapping, Optional, Tuple, Union

import torch
from torch import Tensor, nn

from knet.utils.cli import UserError
from .checkpoint_compat import register_checkpoint_safe_globals
from .release_checkpoint import convert_state_dict, is_release_layout

__all__ = [
    'CheckpointMismatch', 'KeyReport', 'compare_state_dict',
    'load_model_checkpoint', 'load_state_dict_checked', 'read_checkpoint',
    'to_model_layout'
]


class CheckpointMismatch(UserError):
    """A checkpoint whose tensors do not fit the model (strict loading)."""


@dataclass
class KeyReport:
    """How a state dict fits a model: key lists in the model's order."""
    missing: List[str] = field(default_factory=list)
    unexpected: List[str] = field(default_factory=list)
    # (key, checkpoint shape, model shape)
    mismatched: List[Tuple[str, Tuple[int, ...], Tuple[int, ...]]] = field(
        default_factory=list)

    @property
    def exact(self) -> bool:
        return not (self.missing or self.unexpected or self.mismatched)

    def summary(self, limit: int = 3) -> str:
        """One line naming the first ``limit`` keys of each kind."""
        parts = []

        def names(keys):
            more = f', ... (+{len(keys) - limit})' if len(keys) > limit \
                else ''
            return ', '.join(keys[:limit]) + more

        if self.missing:
            parts.append(f'{len(self.missing)} missing '
                         f'({names(self.missing)})')
        if self.unexpected:
            parts.append(f'{len(self.unexpected)} unexpected '
                         f'({names(self.unexpected)})')
        if self.mismatched:
            shown = [f'{k}: checkpoint {list(a)} vs model {list(b)}'
                     for k, a, b in self.mismatched]
            parts.append(f'{len(self.mismatched)} with another shape '
                         f'({names(shown)})')
        return '; '.join(parts) if parts else 'exact match'


def compare_state_dict(model_sd: Mapping[str, Tensor],
                       ckpt_sd: Mapping[str, Tensor]) -> KeyReport:
    """Missing / unexpected / mis-shaped keys of ``ckpt_sd`` for a model
    whose state dict is ``model_sd``."""
    report = KeyReport()
    for key, value in model_sd.items():
        if key not in ckpt_sd:
            report.missing.append(key)
        elif tuple(ckpt_sd[key].shape) != tuple(value.shape):
            report.mismatched.append(
                (key, tuple(ckpt_sd[key].shape), tuple(value.shape)))
    report.unexpected = [k for k in ckpt_sd if k not in model_sd]
    return report


def _module_of(key: str) -> str:
    """The module a key belongs to, for messages: the update heads'
    submodules with the stage folded to '*', the kernel head's and neck's
    submodules, else the top-level module."""
    parts = key.split('.')
    if parts[:2] == ['roi_head', 'mask_head'] and len(parts) > 4:
        return f'roi_head.mask_head.*.{parts[3]}'
    if parts[0] in ('rpn_head', 'neck') and len(parts) > 2:
        return '.'.join(parts[:2])
    return parts[0]


def _group_keys(keys: List[str]) -> str:
    """'module (n tensors), ...' of ``keys`` in their order."""
    groups: 'OrderedDict[str, int]' = OrderedDict()
    for key in keys:
        module = _module_of(key)
        groups[module] = groups.get(module, 0) + 1
    return ', '.join(f'{m} ({n})' for m, n in groups.items())


def _model_keys(model: nn.Module, name: str) -> List[str]:
    fn: Optional[Callable[[], List[str]]] = getattr(model, name, None)
    return list(fn()) if callable(fn) else []


def _image_init_allowed(model: nn.Module, report: KeyReport,
                        ckpt_keys) -> Optional[List[str]]:
    """The keys that stay newly initialised when ``report`` is the
    documented image K-Net -> video model partial load; None if it is not
    that case."""
    video_only = _model_keys(model, 'video_only_state_keys')
    if not video_only or report.unexpected:
        return None
    if any(k in ckpt_keys for k in video_only):
        return None  # a (broken) video checkpoint, not an image one
    if set(report.missing) != set(video_only):
        return None
    class_keys = set(_model_keys(model, 'class_state_keys'))
    if any(k not in class_keys for k, _, _ in report.mismatched):
        return None
    return report.missing + [k for k, _, _ in report.mismatched]


def load_state_dict_checked(model: nn.Module,
                            state_dict: Mapping[str, Tensor],
                            strict: bool = True,
                            source: str = 'checkpoint',
                            logger=None) -> KeyReport:
    """Load ``state_dict`` (already in our layout) into ``model``.

    Strict: an exact match or the image -> video partial load (module doc),
    anything else raises :class:`CheckpointMismatch`. Not strict: load the
    fitting tensors, warn about the rest. Returns the key report.
    """
    log = _logger(logger)
    report = compare_state_dict(model.state_dict(), state_dict)
    left_out = set(report.unexpected) | {k for k, _, _ in report.mismatched}
    fitting = OrderedDict(
        (k, v) for k, v in state_dict.items() if k not in left_out)
    if not report.exact:
        fresh = _image_init_allowed(model, report, state_dict)
        if fresh is not None:
            log('info', f'{source}: image K-Net weights initialise this '
                f'video model; {len(fitting)} tensors loaded, newly '
                f'initialised: {_group_keys(fresh)}')
        elif strict:
            raise CheckpointMismatch(
                f'{source}: does not fit the model: {report.summary()} '
                '(a checkpoint of another model or config? use --no-strict '
                '/ strict=False / load_strict=False in the config to load '
                'the matching tensors only)')
        else:
            log('warning', f'{source}: loaded the matching tensors only '
                f'(not strict): {report.summary()}')
    model.load_state_dict(fitting, strict=False)
    return report


def read_checkpoint(filename: str,
                    map_location: Union[str, Callable, None] = 'cpu'
                    ) -> dict:
    """Read a checkpoint file (a dict with ``state_dict`` or a bare state
    dict) with one-line errors; nothing is downloaded."""
    if not osp.isfile(filename):
        raise UserError(f'{filename}: checkpoint not found')
    register_checkpoint_safe_globals()
    try:
        ckpt = torch.load(filename, map_location=map_location,
                          weights_only=True)
    except Exception as e:  # not a torch file, truncated, unsafe types
        msg = ' '.join(str(e).split())
        if len(msg) > 160:
            msg = msg[:157] + '...'
        raise UserError(f'{filename}: cannot be read as a checkpoint '
                        f'({type(e).__name__}: {msg})') from e
    if not isinstance(ckpt, dict):
        raise UserError(f'{filename}: not a checkpoint (a '
                        f'{type(ckpt).__name__}, expected a dict)')
    state_dict = ckpt.get('state_dict', ckpt)
    if not isinstance(state_dict, dict) or not all(
            isinstance(v, Tensor) for v in state_dict.values()):
        raise UserError(f'{filename}: its state_dict holds values that are '
                        'not tensors')
    return ckpt


def to_model_layout(checkpoint: dict,
                    source: str = 'checkpoint',
                    logger=None) -> Dict[str, Tensor]:
    """The state dict of ``checkpoint`` in our layout: a release checkpoint
    is converted (and that logged), ``module.`` prefixes are stripped."""
    state_dict = checkpoint.get('state_dict', checkpoint)
    meta = checkpoint.get('meta') if 'state_dict' in checkpoint else None
    if is_release_layout(state_dict, meta if isinstance(meta, dict) else
                         None):
        new_sd, unmapped = convert_state_dict(state_dict)
        msg = (f'{source}: checkpoint of the original release (mmdet 2.x '
               f'names): converted {len(new_sd)} tensors in memory')
        if unmapped:
            msg += f', {len(unmapped)} without counterpart left out ' \
                f'({", ".join(unmapped[:3])})'
        _logger(logger)('info', msg)
        return new_sd
    return OrderedDict((k[7:] if k.startswith('module.') else k, v)
                       for k, v in state_dict.items())


def load_model_checkpoint(model: nn.Module,
                          filename: str,
                          strict: bool = True,
                          map_location: Union[str, Callable, None] = 'cpu',
                          logger=None) -> dict:
    """Read ``filename``, convert a release checkpoint, load it into
    ``model`` (strict by default, see the module doc). Returns the
    checkpoint dict (its ``meta`` untouched)."""
    checkpoint = read_checkpoint(filename, map_location)
    state_dict = to_model_layout(checkpoint, filename, logger)
    load_state_dict_checked(model, state_dict, strict, filename, logger)
    return checkpoint


def _logger(logger=None) -> Callable[[str, str], None]:
    """``log(level, message)`` through ``logger`` or MMEngine's current
    logger."""
    from mmengine.logging import print_log

    def log(level: str, message: str) -> None:
        import logging
        print_log(message, logger=logger or 'current',
                  level=getattr(logging, level.upper()))

    return log
