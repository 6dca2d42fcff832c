"""The shipped Video K-Net VPS configs build, and the release's KITTI-STEP /
VIPSeg R50 checkpoints (key lists in shared/parity) fit them exactly
after conversion (strict loading)."""
import importlib.util
from pathlib import Path

import pytest
import torch

pytest.importorskip('mmdet')

from mmengine.config import Config  # noqa: E402

from mmdet.registry import MODELS  # noqa: E402

from knet.utils.setup_env import register_all_modules  # noqa: E402

from tests.parity_cases import PARITY_DIR  # noqa: E402

register_all_modules(init_default_scope=True)
ROOT = Path(__file__).resolve().parents[2]
KEYS = PARITY_DIR
VPS = sorted((ROOT / 'configs' / 'video_knet_vps').glob('*.py'))


def _converter():
    path = ROOT / 'tools' / 'model_converters' / 'knet_to_mmdet3.py'
    spec = importlib.util.spec_from_file_location('knet_to_mmdet3', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _release_keys(name):
    path = KEYS / f'{name}_r50_keys.txt'
    if not path.is_file():
        pytest.skip(f'{path} not available')
    keys = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith('#'):
            key, shape = line.split('\t')[:2]
            keys[key] = shape.replace(' ', '')
    return keys


def _build(path):
    cfg = Config.fromfile(str(path))
    cfg.model.backbone.init_cfg = None
    return cfg, MODELS.build(cfg.model)


@pytest.mark.parametrize('config, keys', [
    ('configs/video_knet_kitti.py', 'kitti'),
    ('configs/video_knet_vps/video_knet_s3_r50_vipseg.py', 'vipseg'),
])
def test_release_checkpoint_fits_strictly(config, keys):
    release = _release_keys(keys)
    _, model = _build(ROOT / config)
    sd = {k: torch.zeros(1) for k in release}
    new_sd, unmapped = _converter().convert_state_dict(sd)
    assert unmapped == []
    shapes = {new: release[old] for old, new in zip(sd, new_sd)}
    ours = {k: str(list(v.shape)).replace(' ', '')
            for k, v in model.state_dict().items()}
    assert set(shapes) == set(ours)
    assert {k for k in ours if shapes[k] != ours[k]} == set()


def test_kitti_entry_point_settings():
    cfg = Config.fromfile(str(ROOT / 'configs/video_knet_kitti.py'))
    m = cfg.model
    assert m.type == 'VideoKNet' and m.mask_assign_stride == 2
    assert m.tracker.init_score_thr == 0.35 and m.tracker.obj_score_thr == 0.3
    assert m.tracker.match_score_thr == 0.5
    assert m.tracker.memo_tracklet_frames == 5 and m.tracker.memo_momentum == 0.8
    assert m.track_head.loss_track.loss_weight == 0.25
    assert m.track_head.loss_track_aux.neg_margin == 0.1
    assert m.track_head.loss_track_aux.neg_pos_ub == 3
    assert m.roi_head.test_cfg.uncovered == 'best_kept'
    assert m.track_id_writeback == 'index'
    assert m.backbone.norm_cfg.type == 'SyncBN'
    assert cfg.load_from and cfg.train_dataloader.batch_size == 1


@pytest.mark.parametrize('path', VPS, ids=[p.stem for p in VPS])
def test_vps_configs_parse(path):
    cfg = Config.fromfile(str(path))
    m = cfg.model
    assert m.type == 'VideoKNet'
    assert cfg.load_from
    nt, ns = m.num_thing_classes, m.num_stuff_classes
    assert m.rpn_head.num_thing_classes == nt == m.roi_head.num_thing_classes
    assert m.roi_head.mask_head.num_classes == nt + ns
    if 'kf' in path.stem:
        assert m.roi_head.mask_head.previous_link == 'update_dynamic_cov'
        assert m.roi_head.mask_head.previous_type == 'update'
