"""MergedParamGroupsConstructor: the same training with a few plain groups."""
import copy

import pytest
import torch
from torch import nn

pytest.importorskip('mmdet')

from mmengine.optim import build_optim_wrapper  # noqa: E402

from knet.engine.optim_constructor import merge_param_groups  # noqa: E402
from knet.utils.setup_env import register_all_modules  # noqa: E402


class _Net(nn.Module):

    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(4, 8), nn.LayerNorm(8),
                                      nn.Linear(8, 8))
        self.head = nn.Sequential(nn.Linear(8, 8), nn.ReLU(),
                                  nn.Linear(8, 3))

    def forward(self, x):
        return self.head(self.backbone(x))


def _cfg(constructor=None):
    cfg = dict(
        type='OptimWrapper',
        optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05),
        clip_grad=dict(max_norm=1, norm_type=2),
        paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=0.25)}))
    if constructor:
        cfg['constructor'] = constructor
    return cfg


def test_merge_keeps_settings_and_order():
    a, b, c, d = (torch.zeros(1) for _ in range(4))
    groups = [dict(params=[a], lr=1.0), dict(params=[b], lr=1.0),
              dict(params=[c], lr=0.5), dict(params=[d], lr=1.0)]
    merged = merge_param_groups(groups)
    # only consecutive runs merge: the parameter order is unchanged
    assert [g['lr'] for g in merged] == [1.0, 0.5, 1.0]
    assert [p for g in merged for p in g['params']] == [a, b, c, d]
    assert all(type(g) is dict for g in merged)


def test_merged_groups_train_identically():
    register_all_modules(init_default_scope=True)
    torch.manual_seed(0)
    net = _Net()
    ref_net = copy.deepcopy(net)
    ref = build_optim_wrapper(ref_net, _cfg())
    new = build_optim_wrapper(net, _cfg('MergedParamGroupsConstructor'))
    assert len(ref.optimizer.param_groups) == len(list(net.parameters()))
    groups = new.optimizer.param_groups
    assert len(groups) == 2 and all(type(g) is dict for g in groups)
    lrs = {id(p): g['lr'] for g in groups for p in g['params']}
    for (name, p), q in zip(ref_net.named_parameters(), net.parameters()):
        want = 1e-3 * (0.25 if name.startswith('backbone') else 1.0)
        assert lrs[id(q)] == pytest.approx(want)
    gen = torch.Generator().manual_seed(1)
    for _ in range(3):
        x = torch.randn(5, 4, generator=gen)
        for model, wrapper in ((ref_net, ref), (net, new)):
            wrapper.update_params(model(x).square().sum())
    for p, q in zip(ref_net.parameters(), net.parameters()):
        assert torch.equal(p, q)
