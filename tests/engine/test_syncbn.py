"""SyncBN configs: the runner (not the model) falls back to BN on CPU."""
from pathlib import Path

import pytest
import torch

pytest.importorskip('mmdet')

from knet.engine.syncbn import sync_bn_fallback  # noqa: E402


def _net():
    return torch.nn.Sequential(torch.nn.Conv2d(3, 4, 1),
                               torch.nn.Sequential(torch.nn.SyncBatchNorm(4)))


def _sync_bn_count(net):
    return sum(isinstance(m, torch.nn.SyncBatchNorm) for m in net.modules())


def test_fallback_without_gpu_keeps_the_tensors(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    net = _net()
    weight, mean = net[1][0].weight, net[1][0].running_mean
    with pytest.warns(UserWarning, match='no GPU'):
        net = sync_bn_fallback(net)
    assert _sync_bn_count(net) == 0
    assert isinstance(net[1][0], torch.nn.modules.batchnorm._BatchNorm)
    # an optimizer built before the conversion still points at them
    assert net[1][0].weight is weight and net[1][0].running_mean is mean
    net.train()
    assert net(torch.randn(2, 3, 5, 5)).shape == (2, 4, 5, 5)


def test_no_fallback_with_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    net = _net()
    assert sync_bn_fallback(net) is net and _sync_bn_count(net) == 1


def test_models_keep_their_configured_norm():
    """A SyncBN config builds a SyncBN model: converting is the runner's
    job (KNetRunner.wrap_model), not the detector's."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from mmdet.registry import MODELS
    from knet.utils.setup_env import register_all_modules
    register_all_modules(init_default_scope=False)
    init_default_scope('mmdet')
    cfg = Config.fromfile(
        str(Path(__file__).parents[1] / 'data' / 'video_knet_kitti_tiny.py'))
    cfg.model.backbone.norm_cfg = dict(type='SyncBN', requires_grad=True)
    model = MODELS.build(cfg.model)
    assert _sync_bn_count(model) > 0
