"""init_weights reaches every kernel update stage (release initialisation)."""
import math

import torch
from mmengine.config import Config

from mmdet.registry import MODELS
from mmdet.utils import register_all_modules


def test_init_weights_reaches_update_stages():
    register_all_modules()
    import knet.models  # noqa: F401
    cfg = Config.fromfile('tests/data/video_knet_kitti_tiny.py')
    model = MODELS.build(cfg.model)
    for head in model.roi_head.mask_head:
        torch.nn.init.zeros_(head.fc_cls.bias)
    model.init_weights()
    prior = -math.log((1 - 0.01) / 0.01)  # focal prior, p = 0.01
    for head in model.roi_head.mask_head:
        assert torch.allclose(head.fc_cls.bias,
                              torch.full_like(head.fc_cls.bias, prior))
