"""MMEngine runner whose checkpoint loading is strict and reads release files
(and whose distributed CPU runs accept SyncBN configs).

MMEngine's ``Runner.load_checkpoint`` (used for ``load_from`` and
``resume``) loads non-strictly: a checkpoint of another model only gives a
"do not match exactly" warning and a model with random layers. ``KNetRunner``
loads through :func:`knet.models.utils.load_model_checkpoint` instead:
original-release checkpoints are converted in memory, a mismatch stops the
run with one line naming the keys, and an image K-Net checkpoint may
initialise a video model (a logged partial load). The config key
``load_strict = False`` turns the check off (the matching tensors are
loaded, the rest is listed).

Before wrapping the model for a distributed run without GPUs it turns the
model's SyncBN into BN (:mod:`.syncbn`; MMEngine does that only for
non-distributed runs).

Configs select it with ``runner_type = 'KNetRunner'``
(``configs/_base_/default_runtime.py``); :func:`build_runner` builds the
runner a config asks for.
"""
from typing import Callable, Optional, Union

from mmengine.model import is_model_wrapper
from mmengine.registry import RUNNERS
from mmengine.runner import Runner
from torch import nn

from .syncbn import sync_bn_fallback

__all__ = ['KNetRunner', 'build_runner']


@RUNNERS.register_module()
class KNetRunner(Runner):
    """:class:`mmengine.runner.Runner` with checked checkpoint loading."""

    def wrap_model(self, model_wrapper_cfg: Optional[dict],
                   model: nn.Module) -> nn.Module:
        """MMEngine's wrapping, after the SyncBN fallback of a distributed
        run (see module doc)."""
        if self.distributed:
            model = sync_bn_fallback(model)
        return super().wrap_model(model_wrapper_cfg, model)

    def load_checkpoint(self,
                        filename: str,
                        map_location: Union[str, Callable] = 'cpu',
                        strict: Union[bool, None] = None,
                        revise_keys: list = [(r'^module.', '')]) -> dict:
        """Load ``filename`` into the model (see module doc).

        ``strict`` None (the runner's own calls) takes the config's
        ``load_strict`` (default True). ``revise_keys`` is accepted for
        MMEngine compatibility; the ``module.`` prefix is always stripped.
        """
        from knet.models.utils.checkpoint_loading import (
            load_state_dict_checked, read_checkpoint, to_model_layout)
        if strict is None:
            strict = bool(self.cfg.get('load_strict', True))
        checkpoint = read_checkpoint(filename, map_location)
        # hooks may edit the checkpoint before it is loaded (as MMEngine)
        self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
        model = self.model.module if is_model_wrapper(self.model) \
            else self.model
        state_dict = to_model_layout(checkpoint, filename, self.logger)
        load_state_dict_checked(model, state_dict, strict, filename,
                                self.logger)
        self._has_loaded = True
        self.logger.info(f'Load checkpoint from {filename}')
        return checkpoint


def build_runner(cfg) -> Runner:
    """The runner of ``cfg``: ``RUNNERS.build`` when it names a
    ``runner_type``, else :class:`KNetRunner`."""
    if cfg.get('runner_type'):
        return RUNNERS.build(cfg)
    return KNetRunner.from_cfg(cfg)
