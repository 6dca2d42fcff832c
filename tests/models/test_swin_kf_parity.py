"""The release's KITTI-STEP Swin kernel-fusion model, converted, computes
what the release computes.

A tiny model of that kind (tests/data/video_knet_swinb_kf_tiny.py: Swin with
2 blocks per stage and window 7, 64 channels, every update stage with
``previous_type='update'`` and ``previous_link='update_dynamic_cov'``) gets a
random state dict in the release's layout: the key list of the release's
model (tests/data/release_keys: the recorded R50 KITTI-STEP keys, the
``SwinTransformerDIY`` module tree, the 'update' link modules) with the
sizes shrunk. It is converted and loaded strictly into our model, and two
frames (the second linked to the first one's kernels) go through our model
and through a re-implementation of the release's forward written here from
the release's code (read, not copied), which uses the release-layout
weights directly: SwinTransformerDIY (windows, shifts, patch merging in the
release's channel order), mmdet 2.x FPN, the semantic FPN wrapper, the
kernel head, the three VideoKernelUpdateHead stages with kernel fusion and
the 'update' tracking link, the association embedding. Everything runs in
float64, so the two agree to rounding; the Swin window attention is also
checked alone in float32 to 1e-5.
"""
import copy
import importlib
import math
from collections import OrderedDict
from pathlib import Path
from typing import Dict, List, Optional

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor

pytest.importorskip('mmdet')

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / 'tests' / 'data' / 'video_knet_swinb_kf_tiny.py'
C, FF, P, T, S = 64, 256, 20, 2, 17
EMBED, DEPTHS, SWIN_HEADS, WIN = 16, (2, 2, 2, 2), (2, 2, 4, 4), 7
WIDTHS = [EMBED * 2**i for i in range(4)]
HEADS, LINK_HEADS = 4, 8
H, W = 96, 160  # stage sizes 24x40, 12x20, 6x10, 3x5: every window padded
Sd = Dict[str, Tensor]


# ------------------------------------------------ release-layout weights
def _generator_module():
    return importlib.import_module(
        'tests.data.release_keys.make_release_key_lists')


def release_relative_index(w: int) -> Tensor:
    """The release's relative position index of a w x w window: pairs
    (i, j) of the window's row-major cells -> (dy + w - 1) * (2w - 1) +
    (dx + w - 1), dy/dx = cell i's row/col minus cell j's."""
    from tests.models._release_keys import swin_relative_index
    return swin_relative_index(w)


def release_entries() -> List:
    """(key, shape, kind) of the tiny model in the release's layout."""
    gen = _generator_module()
    kitti = gen._kind(gen.read_list(gen.HERE / 'kitti_r50_keys.txt'))
    swin = gen.swin_diy(EMBED, SWIN_HEADS, DEPTHS, WIN)
    entries = gen.derive(kitti, swin, WIDTHS, update_links=True)
    shrink = {256: C, 512: 2 * C, 768: 3 * C, 2048: FF, 100: P}
    out = []
    for key, shape, kind in entries:
        if key.startswith('neck.lateral_convs.') and key.endswith('weight'):
            shape = [C] + shape[1:]  # input: the Swin width
        elif not key.startswith('backbone.'):
            shape = [shrink.get(d, d) for d in shape]
        out.append((key, shape, kind))
    return out


def release_state_dict(seed: int = 0) -> Sd:
    """Random weights in the release's layout: matrices ~ N(0, 1/fan_in),
    norm weights ~ U(0.5, 1.5), biases ~ N(0, 0.1^2), position bias tables
    ~ N(0, 0.5^2), thing kernels ~ N(0, 1) (the release's init std)."""
    g = torch.Generator().manual_seed(seed)
    sd: Sd = OrderedDict()
    for key, shape, kind in release_entries():
        if key.endswith('relative_position_index'):
            value = release_relative_index(WIN)
        elif key.endswith('relative_position_bias_table'):
            value = torch.randn(shape, generator=g) * 0.5
        elif key == 'rpn_head.init_kernels.weight':
            value = torch.randn(shape, generator=g)
        elif key.endswith('bias'):
            value = torch.randn(shape, generator=g) * 0.1
        elif len(shape) == 1:  # LayerNorm / GroupNorm weights
            value = torch.rand(shape, generator=g) + 0.5
        else:
            fan_in = math.prod(shape[1:])
            value = torch.randn(shape, generator=g) / math.sqrt(fan_in)
        sd[key] = value
    return sd


# ------------------------------------------------ the release's forward
def _ln(x: Tensor, sd: Sd, p: str) -> Tensor:
    return F.layer_norm(x, x.shape[-1:], sd[p + '.weight'], sd[p + '.bias'])


def _linear(x: Tensor, sd: Sd, p: str) -> Tensor:
    return F.linear(x, sd[p + '.weight'], sd.get(p + '.bias'))


def _windows(x: Tensor, w: int) -> Tensor:
    """[B, Hp, Wp, C] -> [B * nW, w * w, C], windows in row-major order."""
    b, hp, wp, c = x.shape
    x = x.reshape(b, hp // w, w, wp // w, w, c).transpose(2, 3)
    return x.reshape(-1, w * w, c)


def _unwindows(x: Tensor, w: int, b: int, hp: int, wp: int) -> Tensor:
    x = x.reshape(b, hp // w, wp // w, w, w, -1).transpose(2, 3)
    return x.reshape(b, hp, wp, -1)


def _shift_mask(hp: int, wp: int, w: int, s: int) -> Tensor:
    """[nW, w*w, w*w]: -100 between cells of different regions after the
    cyclic shift (bands [0, -w), [-w, -s), [-s, end) per axis), 0 else."""
    def bands(n):
        lab = torch.zeros(n, dtype=torch.long)
        lab[n - w:n - s] = 1
        lab[n - s:] = 2
        return lab

    region = bands(hp)[:, None] * 3 + bands(wp)[None, :]
    region = _windows(region[None, :, :, None].double(), w)[..., 0]
    differ = region[:, :, None] != region[:, None, :]
    return torch.where(differ, -100.0, 0.0).double()


def ref_window_attention(x: Tensor, sd: Sd, p: str, heads: int,
                         mask: Optional[Tensor]) -> Tensor:
    """Release WindowAttention on windows [B * nW, n, C] (weights under
    ``p``: qkv, proj, relative position bias table and index)."""
    bw, n, c = x.shape
    d = c // heads
    q, k, v = _linear(x, sd, p + '.qkv').reshape(bw, n, 3, heads,
                                                 d).unbind(2)
    logits = torch.einsum('bihd,bjhd->bhij', q * d**-0.5, k)
    index = sd[p + '.relative_position_index'].reshape(-1)
    bias = sd[p + '.relative_position_bias_table'][index].reshape(n, n, -1)
    logits = logits + bias.permute(2, 0, 1)[None]
    if mask is not None:
        nw = mask.shape[0]
        logits = (logits.reshape(bw // nw, nw, heads, n, n) +
                  mask[None, :, None]).reshape(bw, heads, n, n)
    out = torch.einsum('bhij,bjhd->bihd', logits.softmax(-1), v)
    return _linear(out.reshape(bw, n, c), sd, p + '.proj')


def ref_shifted_window_msa(x: Tensor, hw, sd: Sd, p: str, heads: int,
                           shift: int) -> Tensor:
    """The attention part of a release Swin block on [B, H*W, C] (after
    norm1): pad to whole windows, shift, windowed attention, back."""
    b, _, c = x.shape
    h, w_ = hw
    x = x.reshape(b, h, w_, c)
    hp, wp = math.ceil(h / WIN) * WIN, math.ceil(w_ / WIN) * WIN
    x = F.pad(x, (0, 0, 0, wp - w_, 0, hp - h))
    mask = None
    if shift:
        x = torch.roll(x, (-shift, -shift), (1, 2))
        mask = _shift_mask(hp, wp, WIN, shift).to(x.dtype)
    out = ref_window_attention(_windows(x, WIN), sd, p, heads, mask)
    out = _unwindows(out, WIN, b, hp, wp)
    if shift:
        out = torch.roll(out, (shift, shift), (1, 2))
    return out[:, :h, :w_].reshape(b, h * w_, c)


def ref_swin(img: Tensor, sd: Sd) -> List[Tensor]:
    """SwinTransformerDIY forward: the 4 normalised stage outputs."""
    p = 'backbone.'
    pad_w, pad_h = (-img.shape[-1]) % 4, (-img.shape[-2]) % 4
    x = F.conv2d(F.pad(img, (0, pad_w, 0, pad_h)),
                 sd[p + 'patch_embed.proj.weight'],
                 sd[p + 'patch_embed.proj.bias'], stride=4)
    b, _, h, w = x.shape
    x = _ln(x.flatten(2).transpose(1, 2), sd, p + 'patch_embed.norm')
    outs = []
    for i, heads in enumerate(SWIN_HEADS):
        for j in range(DEPTHS[i]):
            q = f'{p}layers.{i}.blocks.{j}.'
            shift = WIN // 2 if j % 2 else 0
            x = x + ref_shifted_window_msa(_ln(x, sd, q + 'norm1'), (h, w),
                                           sd, q + 'attn', heads, shift)
            hidden = F.gelu(_linear(_ln(x, sd, q + 'norm2'), sd,
                                    q + 'mlp.fc1'))
            x = x + _linear(hidden, sd, q + 'mlp.fc2')
        out = _ln(x, sd, f'{p}norm{i}')
        outs.append(out.transpose(1, 2).reshape(b, -1, h, w))
        if i < len(DEPTHS) - 1:  # patch merging, release channel order
            m = f'{p}layers.{i}.downsample.'
            g = F.pad(x.reshape(b, h, w, -1), (0, 0, 0, w % 2, 0, h % 2))
            g = torch.cat([g[:, 0::2, 0::2], g[:, 1::2, 0::2],
                           g[:, 0::2, 1::2], g[:, 1::2, 1::2]], -1)
            h, w = g.shape[1:3]
            x = F.linear(_ln(g.reshape(b, h * w, -1), sd, m + 'norm'),
                         sd[m + 'reduction.weight'])
    return outs


def ref_fpn(feats: List[Tensor], sd: Sd) -> List[Tensor]:
    """mmdet 2.x FPN (4 in, 4 out): 1x1 laterals, nearest top-down sums,
    3x3 output convs."""
    lat = [F.conv2d(f, sd[f'neck.lateral_convs.{i}.conv.weight'],
                    sd[f'neck.lateral_convs.{i}.conv.bias'])
           for i, f in enumerate(feats)]
    for i in range(3, 0, -1):
        lat[i - 1] = lat[i - 1] + F.interpolate(
            lat[i], size=lat[i - 1].shape[-2:], mode='nearest')
    return [F.conv2d(x, sd[f'neck.fpn_convs.{i}.conv.weight'],
                     sd[f'neck.fpn_convs.{i}.conv.bias'], padding=1)
            for i, x in enumerate(lat)]


def _conv_gn_relu(x: Tensor, sd: Sd, p: str, stride: int = 1) -> Tensor:
    weight = sd[p + '.conv.weight']
    x = F.conv2d(x, weight, stride=stride, padding=weight.shape[-1] // 2)
    x = F.group_norm(x, 32, sd[p + '.gn.weight'], sd[p + '.gn.bias'])
    return F.relu(x)


def _sine_encoding(b: int, h: int, w: int, num_feats: int) -> Tensor:
    """mmdet 2.x SinePositionalEncoding (normalize, scale 2 pi, eps 1e-6,
    temperature 10000) of an all-valid mask, computed in float32 as there:
    [B, 2 * num_feats, h, w], y features then x features."""
    f32 = torch.float32
    y = torch.ones(h, w, dtype=f32).cumsum(0)
    x = torch.ones(h, w, dtype=f32).cumsum(1)
    y = y / (y[-1:, :] + 1e-6) * (2 * math.pi)
    x = x / (x[:, -1:] + 1e-6) * (2 * math.pi)
    k = torch.arange(num_feats, dtype=f32)
    dim_t = 10000**(2 * torch.div(k, 2, rounding_mode='floor') / num_feats)

    def enc(pos):
        v = pos[..., None] / dim_t
        return torch.stack([v[..., 0::2].sin(), v[..., 1::2].cos()],
                           -1).flatten(-2)

    pos = torch.cat([enc(y), enc(x)], -1).permute(2, 0, 1)
    return pos[None].expand(b, -1, -1, -1)


def ref_semantic_fpn(feats: List[Tensor], sd: Sd) -> List[Tensor]:
    """SemanticFPNWrapper (start 0, end 3, 2 upsamplings, positional
    encoding on level 3, conv_pred + 1 aux conv)."""
    p = 'rpn_head.localization_fpn.'
    up = dict(scale_factor=2, mode='bilinear', align_corners=False)
    total = _conv_gn_relu(feats[0], sd, p + 'convs_all_levels.0.conv0', 2)
    for lvl in (1, 2, 3):
        x = feats[lvl]
        if lvl == 3:
            x = x + _sine_encoding(x.shape[0], *x.shape[-2:],
                                   C // 2).to(x.dtype)
        for j in range(lvl):
            x = _conv_gn_relu(x, sd, f'{p}convs_all_levels.{lvl}.conv{j}')
            if j < lvl - 1:
                x = F.interpolate(x, **up)
        total = total + x
    return [_conv_gn_relu(total, sd, p + 'conv_pred'),
            _conv_gn_relu(total, sd, p + 'aux_convs.0')]


def ref_kernel_head(feats: List[Tensor], sd: Sd) -> Dict[str, Tensor]:
    """ConvKernelHead at test time (stuff kernels appended)."""
    loc = _conv_gn_relu(feats[0], sd, 'rpn_head.loc_convs.0')
    sem = _conv_gn_relu(feats[1], sd, 'rpn_head.seg_convs.0')
    kernels = sd['rpn_head.init_kernels.weight']
    masks = F.conv2d(loc, kernels)
    seg = F.conv2d(sem, sd['rpn_head.conv_seg.weight'],
                   sd['rpn_head.conv_seg.bias'])
    x_feats = sem + loc
    hard = (masks.sigmoid() > 0.5).to(x_feats.dtype)
    pooled = torch.einsum('bnhw,bchw->bnc', hard, x_feats)
    b = loc.shape[0]
    props = kernels[None].expand(b, -1, -1, -1, -1) + pooled[..., None,
                                                             None]
    stuff = sd['rpn_head.conv_seg.weight'][T:][None].expand(b, -1, -1, -1,
                                                           -1)
    return dict(x_feats=x_feats,
                mask_preds=torch.cat([masks, seg[:, T:]], 1),
                proposal_feats=torch.cat([props, stuff], 1))


def ref_updator(sd: Sd, p: str, pooled: Tensor, kernels: Tensor) -> Tensor:
    """KernelUpdator: pooled [M, C], kernels [M, K*K, C] -> [M, K*K, C]."""
    params = _linear(pooled, sd, p + '.dynamic_layer')
    p_in, p_out = params[:, :C], params[:, C:]
    inp = _linear(kernels, sd, p + '.input_layer')
    i_in, i_out = inp[..., :C], inp[..., C:]
    gate = i_in * p_in[:, None]
    input_gate = _ln(_linear(gate, sd, p + '.input_gate'), sd,
                     p + '.input_norm_in').sigmoid()
    update_gate = _ln(_linear(gate, sd, p + '.update_gate'), sd,
                      p + '.norm_in').sigmoid()
    out = update_gate * _ln(p_out, sd, p + '.norm_out')[:, None] + \
        input_gate * _ln(i_out, sd, p + '.input_norm_out')
    return F.relu(_ln(_linear(out, sd, p + '.fc_layer'), sd,
                      p + '.fc_norm'))


def ref_attention(sd: Sd, p: str, heads: int, query: Tensor,
                  key: Tensor) -> Tensor:
    """mmcv MultiheadAttention (nn.MultiheadAttention + identity) on
    [B, N, E] sequences: query + out_proj(softmax(q k^T / sqrt(d)) v)."""
    w, bias = sd[p + '.attn.in_proj_weight'], sd[p + '.attn.in_proj_bias']
    e = query.shape[-1]
    q = F.linear(query, w[:e], bias[:e])
    k = F.linear(key, w[e:2 * e], bias[e:2 * e])
    v = F.linear(key, w[2 * e:], bias[2 * e:])
    b, n, m, d = q.shape[0], q.shape[1], k.shape[1], e // heads
    q, k, v = (t.reshape(b, -1, heads, d) for t in (q, k, v))
    att = torch.einsum('bnhd,bmhd->bhnm', q, k) / math.sqrt(d)
    out = torch.einsum('bhnm,bmhd->bnhd', att.softmax(-1), v)
    assert out.shape[1] == n and k.shape[1] == m
    return query + _linear(out.reshape(b, n, e), sd, p + '.attn.out_proj')


def ref_ffn(sd: Sd, p: str, x: Tensor) -> Tensor:
    """mmcv FFN with identity: x + fc2(relu(fc1(x)))."""
    hidden = F.relu(_linear(x, sd, p + '.layers.0.0'))
    return x + _linear(hidden, sd, p + '.layers.1')


def ref_stage(sd: Sd, i: int, x: Tensor, kernels: Tensor, masks: Tensor,
              prev: Optional[Tensor]) -> Dict[str, Optional[Tensor]]:
    """VideoKernelUpdateHead with previous_link='update_dynamic_cov' and
    previous_type='update' (K = 1). kernels/prev [B, N, C, 1, 1]."""
    p = f'roi_head.mask_head.{i}.'
    x = F.conv2d(x, sd[p + 'feat_transform.conv.weight'],
                 sd[p + 'feat_transform.conv.bias'])
    b, n = kernels.shape[:2]
    hard = (masks.sigmoid() > 0.5).to(x.dtype)
    pooled = torch.einsum('bnhw,bchw->bnc', hard, x)
    k = kernels.reshape(b, n, C)
    if prev is not None:  # kernel fusion: replaces the input kernels
        prev_k = ref_updator(sd, p + 'attention_previous_update_link',
                             pooled.reshape(-1, C), prev.reshape(-1, 1, C))
        fused = _ln(ref_attention(sd, p + 'attention_previous_link',
                                  LINK_HEADS, k, prev_k.reshape(b, n, C)),
                    sd, p + 'attention_previous_norm_link')
        k = _ln(ref_ffn(sd, p + 'link_ffn_link', fused), sd,
                p + 'link_ffn_norm_link')
    k = ref_updator(sd, p + 'kernel_update_conv', pooled.reshape(-1, C),
                    k.reshape(-1, 1, C)).reshape(b, n, C)
    k = _ln(ref_attention(sd, p + 'attention', HEADS, k, k), sd,
            p + 'attention_norm')
    k = _ln(ref_ffn(sd, p + 'ffn', k), sd, p + 'ffn_norm')
    track = None
    if prev is not None:  # tracking link ('update'): embedding only
        prev_t = ref_updator(sd, p + 'attention_previous_update_track',
                             pooled.reshape(-1, C), prev.reshape(-1, 1, C))
        linked = _ln(ref_attention(sd, p + 'attention_previous_track',
                                   LINK_HEADS, k, prev_t.reshape(b, n, C)),
                     sd, p + 'attention_previous_norm_track')
        track = _ln(ref_ffn(sd, p + 'link_ffn_track', linked), sd,
                    p + 'link_ffn_norm_track').reshape(b, n, C, 1, 1)
    cls = F.relu(_ln(_linear(k, sd, p + 'cls_fcs.0'), sd, p + 'cls_fcs.1'))
    cls = _linear(cls, sd, p + 'fc_cls')
    dyn = F.relu(_ln(_linear(k, sd, p + 'mask_fcs.0'), sd, p + 'mask_fcs.1'))
    dyn = _linear(dyn, sd, p + 'fc_mask')
    new_masks = torch.einsum('bnc,bchw->bnhw', dyn, x)
    return dict(cls_score=cls, mask_preds=new_masks,
                object_feats=k.reshape(b, n, C, 1, 1),
                object_feats_track=track)


def ref_embedding(sd: Sd, kernels: Tensor) -> Tensor:
    """embed_fcs + fc_embed, then the track head (2 FC + ReLU, fc_embed);
    kernels [N, C, 1, 1] of one image."""
    x = kernels.flatten(-3)
    x = F.relu(_ln(_linear(x, sd, 'embed_fcs.0'), sd, 'embed_fcs.1'))
    x = _linear(x, sd, 'fc_embed')
    for i in range(2):
        x = F.relu(_linear(x, sd, f'track_head.fcs.{i}'))
    return _linear(x, sd, 'track_head.fc_embed')


def ref_frame(sd: Sd, img: Tensor, prev: Optional[Tensor]) -> dict:
    feats = ref_swin(img, sd)
    rpn = ref_kernel_head(ref_semantic_fpn(ref_fpn(feats, sd), sd), sd)
    stages, kernels, masks = [], rpn['proposal_feats'], rpn['mask_preds']
    for i in range(3):
        out = ref_stage(sd, i, rpn['x_feats'], kernels, masks,
                        prev if i == 2 else None)
        stages.append(out)
        kernels, masks = out['object_feats'], out['mask_preds']
    track = stages[-1]['object_feats_track']
    emb = ref_embedding(sd, (track if track is not None else kernels)[0])
    return dict(backbone=feats, rpn=rpn, stages=stages, embedding=emb)


# ------------------------------------------------------------ our model
def build_model(release_sd: Sd):
    from mmengine.config import Config

    from mmdet.registry import MODELS
    from knet.models.utils import (convert_state_dict,
                                   load_state_dict_checked)
    from knet.utils.setup_env import register_all_modules
    register_all_modules(init_default_scope=True)
    cfg = Config.fromfile(str(CONFIG))
    model = MODELS.build(copy.deepcopy(cfg.model))
    new_sd, unmapped = convert_state_dict(release_sd)
    assert unmapped == []
    report = load_state_dict_checked(model, new_sd, strict=True)
    assert report.exact, report.summary()
    return model.double().eval()


@pytest.fixture(scope='module')
def case():
    torch.manual_seed(0)
    sd = release_state_dict()
    model = build_model(sd)
    g = torch.Generator().manual_seed(1)
    imgs = [torch.randn(1, 3, H, W, generator=g, dtype=torch.float64)
            for _ in range(2)]
    sd64 = {k: v.double() if v.is_floating_point() else v
            for k, v in sd.items()}
    ours, ref = [], []
    prev_ours = prev_ref = None
    with torch.no_grad():
        for img in imgs:
            feats = model.backbone(img)
            rpn = model.rpn_head(model.neck(feats))
            stages = model.roi_head(rpn['x_feats'], rpn['proposal_feats'],
                                    rpn['mask_preds'],
                                    previous_obj_feats=prev_ours)
            track = stages[-1]['object_feats_track']
            kernels = track if track is not None else \
                stages[-1]['object_feats']
            emb = model.track_head(model.embed_kernels(kernels[0]))
            ours.append(dict(backbone=feats, rpn=rpn, stages=stages,
                             embedding=emb))
            prev_ours = stages[-1]['object_feats']
            r = ref_frame(sd64, img, prev_ref)
            ref.append(r)
            prev_ref = r['stages'][-1]['object_feats']
    return model, ours, ref


def _close(a: Tensor, b: Tensor, what: str) -> None:
    assert a.shape == b.shape, (what, a.shape, b.shape)
    scale = b.abs().max().clamp(min=1.0)
    err = (a - b).abs().max() / scale
    assert err < 1e-9, f'{what}: max error {float(err):.3g} (scale ' \
        f'{float(scale):.3g})'


def test_backbone_and_kernel_head_match_the_release(case):
    _, ours, ref = case
    for t in range(2):
        for lvl, (a, b) in enumerate(zip(ours[t]['backbone'],
                                         ref[t]['backbone'])):
            _close(a, b, f'frame {t} Swin stage {lvl}')
        for key in ('x_feats', 'mask_preds', 'proposal_feats'):
            _close(ours[t]['rpn'][key], ref[t]['rpn'][key],
                   f'frame {t} kernel head {key}')


def test_stages_with_fusion_and_update_link_match_the_release(case):
    _, ours, ref = case
    for t in range(2):
        for s in range(3):
            for key in ('cls_score', 'mask_preds', 'object_feats'):
                _close(ours[t]['stages'][s][key], ref[t]['stages'][s][key],
                       f'frame {t} stage {s} {key}')
    # the first frame has no previous kernels, the second links its last
    # stage to them (fusion changes the classes and masks, the 'update'
    # link gives the tracking kernels)
    assert ours[0]['stages'][2]['object_feats_track'] is None
    _close(ours[1]['stages'][2]['object_feats_track'],
           ref[1]['stages'][2]['object_feats_track'],
           'frame 1 tracking kernels')
    for t in range(2):
        _close(ours[t]['embedding'], ref[t]['embedding'],
               f'frame {t} association embedding')


def test_the_case_exercises_fusion_masks_and_shifts(case):
    """Guard against a vacuous comparison: the hard masks pool a real
    subset of pixels, the fusion changes the last stage, and the shifted
    windows' mask matters at these sizes."""
    model, ours, ref = case
    pooling = [ours[1]['rpn']['mask_preds']] + [
        st['mask_preds'] for st in ours[1]['stages'][:2]]
    for logits in pooling:  # the masks the three stages pool with
        hard = (logits.sigmoid() > 0.5).flatten(2)
        assert 0 < hard.double().mean() < 1
        assert hard.any(-1).sum() > hard.shape[1] // 2
    with torch.no_grad():
        unlinked = model.roi_head(
            ours[1]['rpn']['x_feats'], ours[1]['rpn']['proposal_feats'],
            ours[1]['rpn']['mask_preds'])[-1]['cls_score']
    assert (unlinked - ours[1]['stages'][2]['cls_score']).abs().max() > 1e-3
    assert _shift_mask(28, 42, WIN, WIN // 2).min() == -100.0


def test_swin_window_attention_float32(case):
    """Our converted (shifted) window attention equals the release's
    computed from the release-layout weights, float32, to 1e-5."""
    model, _, _ = case
    sd = release_state_dict()
    g = torch.Generator().manual_seed(2)
    for stage, block in ((0, 0), (0, 1), (1, 1), (3, 1)):
        layer = copy.deepcopy(
            model.backbone.stages[stage].blocks[block].attn).float()
        dim, heads = WIDTHS[stage], SWIN_HEADS[stage]
        hw = (H // 4 // 2**stage, W // 4 // 2**stage)
        x = torch.randn(2, hw[0] * hw[1], dim, generator=g)
        with torch.no_grad():
            ours = layer(x, hw)
        ref = ref_shifted_window_msa(
            x, hw, sd, f'backbone.layers.{stage}.blocks.{block}.attn', heads,
            WIN // 2 if block % 2 else 0)
        assert torch.allclose(ours, ref, atol=1e-5, rtol=0), \
            (stage, block, float((ours - ref).abs().max()))


def test_relative_position_index_is_the_release_one(case):
    model, _, _ = case
    ours = model.backbone.stages[0].blocks[0].attn.w_msa
    assert torch.equal(ours.relative_position_index,
                       release_relative_index(WIN))


def test_training_step_reaches_fusion_and_update_link():
    """One training step of the tiny KF model on a key/reference pair: the
    losses are finite and both link paths of the last stage get gradient
    (fusion through the key frame's classes and masks, the 'update' link
    through the association embedding)."""
    from mmengine.config import Config

    from mmdet.registry import MODELS
    from tests.models.test_video_knet import _pair
    torch.manual_seed(0)
    model = MODELS.build(copy.deepcopy(Config.fromfile(str(CONFIG)).model))
    model.init_weights()
    model.train()
    data = model.data_preprocessor(_pair(), True)
    losses = model.loss(data['inputs'], data['data_samples'])
    assert all(torch.isfinite(v).all() for v in losses.values())
    total = sum(v for k, v in losses.items() if 'loss' in k)
    total.backward()
    last = model.roi_head.mask_head[2]
    for name in ('attention_previous_update_link', 'attention_previous_link',
                 'attention_previous_update_track',
                 'attention_previous_track'):
        grads = [p.grad for p in getattr(last, name).parameters()]
        assert all(g is not None for g in grads), name
        assert sum(float(g.abs().sum()) for g in grads) > 0, name
    first = model.roi_head.mask_head[0]
    assert all(p.grad is None
               for p in first.attention_previous_track.parameters())
