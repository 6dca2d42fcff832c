"""Every config under configs/ loads with Config.fromfile and builds its model
on the CPU; configs with datasets also build them on generated data
(tests/test_config_datasets.py)."""
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = sorted(
    str(p.relative_to(ROOT)) for p in (ROOT / 'configs').rglob('*.py')
    if '_base_' not in p.parts)


def load(path):
    from mmengine.config import Config
    return Config.fromfile(str(ROOT / path))


def test_there_are_configs():
    assert 'configs/video_knet_kitti.py' in CONFIGS
    assert len(CONFIGS) >= 10


@pytest.mark.parametrize('path', CONFIGS)
def test_config_builds_model(path):
    from mmengine.registry import init_default_scope
    from mmengine.utils import import_modules_from_strings

    from mmdet.registry import MODELS
    cfg = load(path)
    assert cfg.get('default_scope') == 'mmdet'
    # The config alone must be enough to find every module: only its
    # custom_imports are imported here (no knet import beforehand).
    imports = cfg.get('custom_imports')
    assert imports is not None, f'{path} has no custom_imports'
    import_modules_from_strings(**imports)
    init_default_scope('mmdet')
    model_cfg = cfg.model
    # No download during tests: building a model never loads pretrained
    # weights (that happens in init_weights), but be explicit about it.
    model = MODELS.build(model_cfg)
    assert isinstance(model, torch.nn.Module)
    assert sum(p.numel() for p in model.parameters()) > 0

