"""Helpers of the release-checkpoint tests: the key lists of the original
models (tests/data/release_keys) and models built without weight memory."""
import contextlib
import copy
import re
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

import torch
from torch import nn

KEYS_DIR = Path(__file__).resolve().parents[1] / 'data' / 'release_keys'
ROOT = Path(__file__).resolve().parents[2]


def read_key_list(name: str) -> List[Tuple[str, Tuple[int, ...], str]]:
    """``(key, shape, kind)`` of ``tests/data/release_keys/<name>_keys.txt``
    in the file's (the release model's state_dict) order."""
    out = []
    path = KEYS_DIR / f'{name}_keys.txt'
    for line in path.read_text().splitlines():
        if not line.strip() or line.startswith('#'):
            continue
        key, shape, kind = line.split('\t')
        out.append(
            (key, tuple(int(s) for s in re.findall(r'\d+', shape)), kind))
    return out


def release_state_dict(name: str,
                       real: re.Pattern = re.compile(r'downsample'),
                       seed: int = 0) -> Dict[str, torch.Tensor]:
    """A state dict with exactly the release model's keys and shapes.

    Keys matching ``real`` get random values (checked after conversion),
    Swin's position index its value, the others are meta tensors (shapes
    only, no memory): a Swin-L model has 200 M parameters.
    """
    g = torch.Generator().manual_seed(seed)
    sd = {}
    for key, shape, kind in read_key_list(name):
        if real.search(key):
            sd[key] = torch.randn(shape, generator=g)
        elif key.endswith('relative_position_index'):
            sd[key] = swin_relative_index(int(shape[0]**0.5))
        else:
            sd[key] = torch.empty(shape, device='meta')
    return sd


def swin_relative_index(w: int) -> torch.Tensor:
    """Relative position index of a w x w Swin window (the buffer both the
    release and mmdet compute): cell pair (i, j) -> (dy + w - 1) * (2w - 1)
    + dx + w - 1 with dy, dx = cell i's row, column minus cell j's."""
    rows, cols = torch.meshgrid(torch.arange(w), torch.arange(w),
                                indexing='ij')
    rows, cols = rows.flatten(), cols.flatten()
    dy = rows[:, None] - rows[None, :] + w - 1
    dx = cols[:, None] - cols[None, :] + w - 1
    return dy * (2 * w - 1) + dx


@contextlib.contextmanager
def meta_parameters() -> Iterator[None]:
    """Modules built inside get their parameters on the meta device (shapes
    only); buffers stay real. Construction of a Swin-L K-Net takes well
    under a second this way."""
    register = nn.Module.register_parameter

    def to_meta(self, name, param):
        register(self, name, param)
        if param is not None:
            self._parameters[name] = nn.Parameter(
                param.detach().to('meta'), requires_grad=param.requires_grad)

    nn.Module.register_parameter = to_meta
    try:
        yield
    finally:
        nn.Module.register_parameter = register


def build_config_model(config: str, **model_overrides) -> nn.Module:
    """The model of ``configs/<config>`` with meta parameters (no
    pretrained weights fetched)."""
    from mmengine.config import Config

    from mmdet.registry import MODELS
    from knet.utils.setup_env import register_all_modules
    register_all_modules(init_default_scope=True)
    cfg = Config.fromfile(str(ROOT / 'configs' / config))
    model_cfg = copy.deepcopy(cfg.model)
    if model_cfg.get('backbone', {}).get('init_cfg') is not None:
        model_cfg.backbone.init_cfg = None
    model_cfg.update(model_overrides)
    with meta_parameters():
        return MODELS.build(model_cfg)
