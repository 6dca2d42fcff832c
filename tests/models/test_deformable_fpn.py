"""DeformableFPN neck: level shapes and order, the [loc, sem] stride-8
contract behind SemanticFPNWrapper, the deformable attention path taken on
CPU, and a KNet built from the deformable-FPN config running on a tiny
input (loss + backward, predict)."""
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip('mmdet')

import mmcv.ops.multi_scale_deform_attn as mmcv_msda  # noqa: E402
from mmdet.models.layers import MSDeformAttnPixelDecoder  # noqa: E402
from mmdet.registry import MODELS  # noqa: E402
from mmdet.structures import DetDataSample  # noqa: E402
from mmdet.structures.mask import BitmapMasks  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.structures import InstanceData, PixelData  # noqa: E402

from knet.models.layers.msda_ops import \
    multi_scale_deformable_attention  # noqa: E402
from knet.utils.setup_env import register_all_modules  # noqa: E402

from .test_knet_detector import _sample as _det_sample  # noqa: E402
from .test_knet_detector import _tiny_cfg  # noqa: E402

register_all_modules(init_default_scope=True)
ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / 'configs/knet/knet_s3_r50_deformable-fpn_1x_coco-panoptic.py'
IN_CH = [16, 32, 64, 128]
C = 64


def _tiny_neck_cfg(num_layers=2):
    return dict(
        type='DeformableFPN',
        in_channels=IN_CH,
        feat_channels=C,
        out_channels=C,
        encoder=dict(
            num_layers=num_layers,
            layer_cfg=dict(
                self_attn_cfg=dict(embed_dims=C, num_heads=4, num_levels=3,
                                   num_points=2, dropout=0.0,
                                   batch_first=True),
                ffn_cfg=dict(embed_dims=C, feedforward_channels=128,
                             ffn_drop=0.0))))


def _feats(b=2, h=64, w=96, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(b, c, h // s, w // s, generator=g)
            for c, s in zip(IN_CH, (4, 8, 16, 32))]


def test_levels_fine_to_coarse_and_stride8_contract():
    torch.manual_seed(0)
    neck = MODELS.build(_tiny_neck_cfg())
    neck.init_weights()
    feats = _feats()
    levels = neck(feats)
    assert [tuple(x.shape) for x in levels] == [
        (2, C, 16, 24), (2, C, 8, 12), (2, C, 4, 6), (2, C, 2, 3)]
    # same maps as mmdet's decoder output (mask_feature, coarse-to-fine)
    mask_feature, coarse_to_fine = MSDeformAttnPixelDecoder.forward(
        neck, feats)
    torch.testing.assert_close(levels[0], mask_feature, atol=0, rtol=0)
    for ours, theirs in zip(levels[1:], coarse_to_fine[::-1]):
        torch.testing.assert_close(ours, theirs, atol=0, rtol=0)
    # behind it the semantic FPN gives [loc, sem] at stride 8
    sem_fpn = MODELS.build(dict(
        type='SemanticFPNWrapper', in_channels=C, feat_channels=C,
        out_channels=C, start_level=0, end_level=3, upsample_times=2,
        positional_encoding=dict(type='SinePositionalEncoding',
                                 num_feats=C // 2, normalize=True),
        num_aux_convs=1, norm_cfg=dict(type='GN', num_groups=32)))
    loc, sem = sem_fpn(levels)
    assert loc.shape == sem.shape == (2, C, 8, 12)  # 64x96 / 8


def test_attention_takes_the_auto_selected_path_on_cpu(monkeypatch):
    """mmcv's MultiScaleDeformableAttention picks the PyTorch function on
    CPU, once per encoder layer, with inputs on which the auto-selected
    op of msda_ops gives the same result; the offsets get gradients."""
    calls = []
    original = mmcv_msda.multi_scale_deformable_attn_pytorch

    def spy(value, shapes, loc, attn):
        out = original(value, shapes, loc, attn)
        calls.append((value.detach(), shapes, loc.detach(), attn.detach(),
                      out.detach()))
        return out

    monkeypatch.setattr(mmcv_msda, 'multi_scale_deformable_attn_pytorch',
                        spy)
    torch.manual_seed(0)
    neck = MODELS.build(_tiny_neck_cfg(num_layers=2))
    neck.init_weights()
    levels = neck(_feats(b=1))
    assert len(calls) == 2
    value, shapes, loc, attn, out = calls[0]
    assert shapes.tolist() == [[2, 3], [4, 6], [8, 12]]  # s32, s16, s8
    start = torch.cat([shapes.new_zeros(1), shapes.prod(1).cumsum(0)[:-1]])
    monkeypatch.setattr(mmcv_msda, 'multi_scale_deformable_attn_pytorch',
                        original)
    ours = multi_scale_deformable_attention(value, shapes, start, loc, attn)
    torch.testing.assert_close(ours, out, atol=0, rtol=0)
    sum(x.square().mean() for x in levels).backward()
    offsets = neck.encoder.layers[0].self_attn.sampling_offsets.weight
    assert offsets.grad is not None and offsets.grad.abs().sum() > 0


def test_default_encoder_is_the_release_one():
    neck = MODELS.build(dict(type='DeformableFPN'))
    layers = neck.encoder.layers
    attn = layers[0].self_attn
    assert len(layers) == 6
    assert (attn.num_heads, attn.num_levels, attn.num_points,
            attn.embed_dims) == (8, 3, 4, 256)
    assert layers[0].ffn.layers[0][0].out_features == 1024
    assert neck.level_encoding.weight.shape == (3, 256)


def test_all_levels_in_the_encoder():
    cfg = _tiny_neck_cfg(num_layers=1)
    cfg['encoder']['layer_cfg']['self_attn_cfg']['num_levels'] = 4
    neck = MODELS.build(cfg)
    assert len(neck.lateral_convs) == 0
    assert [tuple(x.shape) for x in neck(_feats(b=1))] == [
        (1, C, 16, 24), (1, C, 8, 12), (1, C, 4, 6), (1, C, 2, 3)]


def test_rejects_bad_configs():
    cfg = _tiny_neck_cfg()
    cfg['out_channels'] = 32
    with pytest.raises(ValueError, match='out_channels'):
        MODELS.build(cfg)
    cfg = _tiny_neck_cfg()
    cfg['encoder']['layer_cfg']['self_attn_cfg']['num_levels'] = 2
    with pytest.raises(ValueError, match='num_levels=2'):
        MODELS.build(cfg)


def _coco_sample(h=64, w=64):
    masks = np.zeros((1, h, w), np.uint8)
    masks[0, 8:40, 8:40] = 1
    sem = np.full((h, w), 85, np.int64)  # a stuff class (80..132)
    sem[masks[0] > 0] = 3
    s = DetDataSample(metainfo=dict(img_shape=(h, w), ori_shape=(h, w),
                                    scale_factor=(1.0, 1.0)))
    s.gt_instances = InstanceData(
        labels=torch.tensor([3]), masks=BitmapMasks(masks, h, w),
        bboxes=torch.tensor([[8., 8, 40, 40]]))
    s.gt_sem_seg = PixelData(sem_seg=torch.from_numpy(sem)[None])
    return s


def test_knet_from_deformable_fpn_config_predicts_on_cpu():
    cfg = Config.fromfile(str(CONFIG))
    assert [n['type'] for n in cfg.model.neck] == [
        'DeformableFPN', 'SemanticFPNWrapper']
    cfg.model.backbone.init_cfg = None
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.neck[0].init_weights()  # (the whole model's init takes seconds)
    assert len(model.neck[0].encoder.layers) == 6
    model.eval()
    data = dict(inputs=[torch.randint(0, 255, (3, 64, 64),
                                      dtype=torch.uint8)],
                data_samples=[_coco_sample()])
    batch = model.data_preprocessor(data, False)
    with torch.no_grad():
        feats = model.extract_feat(batch['inputs'])
        out = model(**batch, mode='predict')
    assert [tuple(f.shape) for f in feats] == [(1, 256, 8, 8)] * 2
    pan = out[0].pred_panoptic_seg.sem_seg
    assert pan.shape == (1, 64, 64)
    assert ((pan % 1000) < 133).all()  # every pixel gets a class


def test_tiny_knet_with_deformable_fpn_trains_on_cpu():
    """The tiny K-Net of the detector test with neck[0] swapped: all
    losses finite, gradients reach the deformable offsets."""
    cfg = _tiny_cfg(panoptic=True)
    cfg['neck'][0] = _tiny_neck_cfg()
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    model.init_weights()
    model.train()
    data = dict(inputs=[torch.randint(0, 255, (3, 64, 128),
                                      dtype=torch.uint8)],
                data_samples=[_det_sample()])
    batch = model.data_preprocessor(data, True)
    losses = model(**batch, mode='loss')
    assert {'loss_rpn_mask', 's2_loss_cls', 's2_loss_dice'} <= set(losses)
    total = sum(v for k, v in losses.items() if 'loss' in k)
    assert torch.isfinite(total)
    total.backward()
    offsets = model.neck[0].encoder.layers[0].self_attn.sampling_offsets
    assert offsets.weight.grad is not None
    assert offsets.weight.grad.abs().sum() > 0
