"""Release checkpoint key mapping (knet.models.utils.release_checkpoint)
and its CLI tools/model_converters/knet_to_mmdet3.py."""
from pathlib import Path

import pytest
import torch

from knet.utils.cli import run_cli
from knet.models.utils.release_checkpoint import (convert_key,
                                                  convert_state_dict)
from tools.model_converters.knet_to_mmdet3 import main

KEYS = Path(__file__).resolve().parents[1] / 'data' / 'release_keys'


def _keys(name):
    path = KEYS / f'{name}_r50_keys.txt'
    out = {}
    for line in path.read_text().splitlines():
        if line.startswith('#') or not line.strip():
            continue
        key, shape = line.split('\t')[:2]
        out[key] = shape
    return out


def test_rules():
    assert convert_key('neck.lateral_convs.0.conv.weight') == \
        'neck.0.lateral_convs.0.conv.weight'
    assert convert_key('rpn_head.localization_fpn.conv_pred.gn.weight') == \
        'neck.1.conv_pred.gn.weight'
    assert convert_key('rpn_head.init_kernels.weight') == \
        'rpn_head.init_kernels.weight'
    assert convert_key('module.backbone.conv1.weight') == \
        'backbone.conv1.weight'
    assert convert_key(
        'roi_head.mask_head.2.attention_previous.attn.in_proj_weight') == \
        'roi_head.mask_head.2.attention_previous.attn.in_proj_weight'
    assert convert_key('some_unknown.weight') is None


@pytest.mark.parametrize('name', ['kitti', 'vipseg', 'ytvis'])
def test_release_key_lists_map_completely(name):
    keys = _keys(name)
    sd = {k: torch.zeros(1) for k in keys}
    new_sd, unmapped = convert_state_dict(sd)
    assert unmapped == []
    assert len(new_sd) == len(sd)
    assert not any(k.startswith('rpn_head.localization_fpn') for k in new_sd)
    assert sum(k.startswith('neck.1.') for k in new_sd) == 27


def test_kitti_r50_keys_fit_our_cityscapes_step_model():
    """Every image-model key of the KITTI-STEP R50 release lands on a
    parameter of the same shape in our R50 K-Net (2 + 17 classes)."""
    pytest.importorskip('mmdet')
    from mmdet.registry import MODELS
    from mmengine.config import Config

    from knet.utils.setup_env import register_all_modules
    register_all_modules(init_default_scope=True)
    root = Path(__file__).resolve().parents[2]
    cfg = Config.fromfile(
        str(root / 'configs/_base_/models/knet_s3_r50_fpn_panoptic.py'))
    cfg.model.backbone.init_cfg = None
    for k in ('num_thing_classes', 'num_stuff_classes'):
        cfg.model[k] = cfg.model.rpn_head[k] = cfg.model.roi_head[k] = \
            2 if k == 'num_thing_classes' else 17
    for stage in cfg.model.roi_head.mask_head:
        stage.update(num_classes=19, num_thing_classes=2,
                     num_stuff_classes=17, previous_type='ffn')
    model = MODELS.build(cfg.model)
    ours = {k: list(v.shape) for k, v in model.state_dict().items()}
    keys = _keys('kitti')
    sd = {k: torch.zeros(1) for k in keys}
    new_sd, _ = convert_state_dict(sd)
    video_only = ('track_head.', 'embed_fcs.', 'fc_embed.')
    mapped = {
        new: keys[old]
        for old, new in zip(sd, new_sd) if not new.startswith(video_only)
    }
    assert set(mapped) == set(ours)
    for k, shape in mapped.items():
        assert str(ours[k]).replace(' ', '') == shape.replace(' ', ''), k


def test_cli(tmp_path, capsys):
    src = tmp_path / 'orig.pth'
    torch.save({'state_dict': {'neck.fpn_convs.0.conv.weight': torch.ones(2),
                               'junk.x': torch.zeros(1)},
                'meta': {'epoch': 3}}, src)
    dst = tmp_path / 'out' / 'conv.pth'
    assert run_cli(main, [str(src), str(dst)]) == 0
    ckpt = torch.load(dst, weights_only=False)
    assert list(ckpt['state_dict']) == ['neck.0.fpn_convs.0.conv.weight']
    assert ckpt['meta']['epoch'] == 3
    assert ckpt['meta']['converted_from'] == 'orig.pth'
    out = capsys.readouterr().out
    assert 'unmapped: junk.x' in out and str(dst) in out
    assert dst.stat().st_mode & 0o044  # readable by others (not 0600)
    assert run_cli(main, [str(src), str(dst), '--strict']) == 1
    assert run_cli(main, [str(tmp_path / 'missing.pth'), str(dst)]) == 1
    bad = tmp_path / 'bad.pth'
    bad.write_text('not a checkpoint')
    assert run_cli(main, [str(bad), str(dst)]) == 1
    err = capsys.readouterr().err
    assert 'bad.pth' in err and 'Traceback' not in err
    assert all(len(line) < 300 for line in err.splitlines())


def test_cli_refuses_to_overwrite_its_input_or_reconvert(tmp_path, capsys):
    src = tmp_path / 'orig.pth'
    torch.save({'state_dict': {'neck.fpn_convs.0.conv.weight':
                               torch.ones(2)}}, src)
    before = src.read_bytes()
    assert run_cli(main, [str(src), str(src)]) == 1
    assert src.read_bytes() == before
    assert 'dst' in (err := capsys.readouterr().err) and \
        'is the input file' in err
    dst = tmp_path / 'conv.pth'
    assert run_cli(main, [str(src), str(dst)]) == 0
    # a converted checkpoint is not converted a second time
    assert run_cli(main, [str(dst), str(tmp_path / 'again.pth')]) == 1
    assert 'not a checkpoint of the original release' in \
        capsys.readouterr().err
    assert not (tmp_path / 'again.pth').exists()
    assert not list(tmp_path.glob('.tmp*'))


def test_deformable_fpn_encoder_keys_land_in_the_deformable_config():
    """The release's MSDeformAttn pixel decoder keys (mmdet 2 transformer
    names) map onto the deformable-FPN config's neck.0 parameters."""
    from mmengine.config import Config

    from mmdet.registry import MODELS
    from mmdet.utils import register_all_modules
    register_all_modules()
    import knet.models  # noqa: F401
    cfg = Config.fromfile(
        'configs/knet/knet_s3_r50_deformable-fpn_1x_coco-panoptic.py')
    ours = MODELS.build(cfg.model).state_dict()
    for old in ('neck.encoder.layers.5.attentions.0.sampling_offsets.weight',
                'neck.encoder.layers.0.attentions.0.attention_weights.bias',
                'neck.encoder.layers.2.ffns.0.layers.0.0.weight',
                'neck.encoder.layers.2.ffns.0.layers.1.bias',
                'neck.encoder.layers.1.norms.1.weight',
                'neck.input_convs.0.conv.weight',
                'rpn_head.localization_fpn.conv_pred.conv.weight'):
        assert convert_key(old) in ours, old
