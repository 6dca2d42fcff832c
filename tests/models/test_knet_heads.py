"""Image K-Net modules: shapes, alignment, targets, losses."""
import copy
import math

import numpy as np
import pytest
import torch

pytest.importorskip('mmdet')

from mmdet.registry import MODELS  # noqa: E402
from mmengine.structures import InstanceData  # noqa: E402

from knet.models.layers import KernelTargets  # noqa: E402
from knet.utils.setup_env import register_all_modules  # noqa: E402

register_all_modules(init_default_scope=False)

C, P, T, S = 32, 6, 2, 3
GN = dict(type='GN', num_groups=8, requires_grad=True)
ASSIGNER = dict(
    type='HungarianAssigner',
    match_costs=[
        dict(type='KNetFocalLossCost', weight=2.0),
        dict(type='KNetMaskCost', weight=1.0, pred_act=True),
        dict(type='KNetDiceCost', weight=4.0, pred_act=True)
    ])
SFPN = dict(
    type='SemanticFPNWrapper', in_channels=C, feat_channels=C,
    out_channels=C, start_level=0, end_level=3, upsample_times=2,
    positional_encoding=dict(
        type='SinePositionalEncoding', num_feats=C // 2, normalize=True),
    num_aux_convs=1, norm_cfg=GN)
RPN = dict(
    type='ConvKernelHead', num_proposals=P, in_channels=C, out_channels=C,
    num_thing_classes=T, num_stuff_classes=S, feat_downsample_stride=2,
    norm_cfg=GN, assigner=ASSIGNER)
STAGE = dict(
    type='KernelUpdateHead', num_classes=T + S, num_thing_classes=T,
    num_stuff_classes=S, num_heads=4, feedforward_channels=64,
    in_channels=C, out_channels=C, mask_upsample_stride=2,
    previous_type='ffn', link_num_heads=8,
    kernel_updator_cfg=dict(
        type='KernelUpdator', in_channels=C, feat_channels=C,
        out_channels=C))
ITER = dict(
    type='KernelIterHead', num_stages=2, stage_loss_weights=[1, 1],
    num_proposals=P, num_thing_classes=T, num_stuff_classes=S,
    mask_head=[STAGE, STAGE], assigner=ASSIGNER,
    test_cfg=dict(max_per_img=P, merge_stuff_thing=dict(
        instance_score_thr=0.0, overlap_thr=0.0)))


def _fpn(b=2, h=32, w=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [
        torch.randn(b, C, h // 2**i, w // 2**i, generator=g)
        for i in range(4)
    ]


def _build(cfg, seed=0):
    torch.manual_seed(seed)
    m = MODELS.build(copy.deepcopy(cfg))
    m.init_weights()
    return m


def test_semantic_fpn_shapes_and_positional_encoding():
    neck = _build(SFPN)
    outs = neck(_fpn())
    assert len(outs) == 2
    assert all(o.shape == (2, C, 16, 32) for o in outs)
    # the sine encoding is the normalised DETR one (independent formula)
    pe = neck.positional_encoding(torch.zeros(1, 3, 4, dtype=torch.bool))
    nf = C // 2
    y, x = 1, 2
    ye = (y + 1) / (3 + 1e-6) * 2 * math.pi
    xe = (x + 1) / (4 + 1e-6) * 2 * math.pi
    for i in range(nf):
        dim_t = 10000**(2 * (i // 2) / nf)
        fy = math.sin(ye / dim_t) if i % 2 == 0 else math.cos(ye / dim_t)
        fx = math.sin(xe / dim_t) if i % 2 == 0 else math.cos(xe / dim_t)
        assert abs(pe[0, i, y, x].item() - fy) < 1e-5
        assert abs(pe[0, nf + i, y, x].item() - fx) < 1e-5


def test_kernel_head_outputs():
    neck, rpn = _build(SFPN), _build(RPN)
    out = rpn(neck(_fpn()))
    assert out['proposal_feats'].shape == (2, P + S, C, 1, 1)
    assert out['mask_preds'].shape == (2, P + S, 16, 32)
    assert out['seg_preds'].shape == (2, T + S, 16, 32)
    assert out['x_feats'].shape == (2, C, 16, 32)
    # stuff kernels = stuff rows of conv_seg, stuff masks = their logits
    assert torch.equal(out['proposal_feats'][:, P:, :, 0, 0],
                       rpn.conv_seg.weight[T:, :, 0, 0].expand(2, S, C))
    assert torch.equal(out['mask_preds'][:, P:], out['seg_preds'][:, T:])
    # thing kernels = learned kernels + features summed over hard masks
    hard = (out['thing_mask_preds'].sigmoid() > 0.5).float()
    pooled = (hard[:, :, None] * out['x_feats'][:, None]).sum((-1, -2))
    expect = rpn.init_kernels.weight[None, :, :, 0, 0] + pooled
    torch.testing.assert_close(out['proposal_feats'][:, :P, :, 0, 0],
                               expect, atol=1e-4, rtol=1e-5)


def _targets(b=2, h=32, w=64):
    res = []
    for _ in range(b):
        masks = torch.zeros(2, h, w)
        masks[0, 2:10, 3:20] = 1
        masks[1, 15:30, 30:60] = 1
        masks[1, 16, 31] = 0.5
        things = InstanceData(masks=masks, labels=torch.tensor([1, 0]))
        sm = torch.zeros(2, h, w)
        sm[0, :, :3] = 1
        sm[1, 20:, :30] = 1
        stuff = InstanceData(masks=sm, labels=torch.tensor([T, T + 2]))
        res.append(KernelTargets(things, stuff))
    return res


def test_kernel_head_losses_and_targets():
    neck, rpn = _build(SFPN), _build(RPN)
    out = rpn(neck(_fpn()))
    targets = _targets()
    losses, assign = rpn.loss(out, targets)
    assert set(losses) == {'loss_rpn_mask', 'loss_rpn_dice',
                           'loss_rpn_rank', 'loss_rpn_seg'}
    assert all(torch.isfinite(v) and v > 0 for v in losses.values())
    assert len(assign) == 2 and (assign[0].gt_inds > 0).sum() == 2
    # semantic targets: stuff painted first, matched things over them
    labels, mtg, seg = rpn.get_targets(assign, targets, P, (32, 64))
    assert seg.shape == (2, 32, 64)
    assert (seg[0, 2:10, 3:20] == 1).all()       # thing label 1 wins
    assert (seg[0, 21:, 3:30] == T + 2).all()
    assert (seg[0, 2:10, :3] == T).all()
    assert (seg[0, 0, 40] == T + S)              # unlabelled -> ignored
    # rank loss equals an independent computation
    mask_pred = rpn._upsample(out['thing_mask_preds'])
    rank = torch.full((2, 32, 64), 255, dtype=torch.long)
    for i in range(2):
        for k in (assign[i].gt_inds > 0).nonzero().flatten().tolist():
            rank[i][targets[i].things.masks[assign[i].gt_inds[k] - 1] > 0] = k
    ce = torch.nn.functional.cross_entropy(
        mask_pred, rank, ignore_index=255, reduction='sum') / rank.numel()
    torch.testing.assert_close(losses['loss_rpn_rank'], 0.1 * ce)


def test_update_head_link_only_changes_track_kernels():
    head = _build(STAGE)
    head.eval()
    x = torch.randn(2, C, 8, 16)
    kernels = torch.randn(2, P + S, C, 1, 1)
    masks = torch.randn(2, P + S, 8, 16)
    prev = torch.randn(2, P + S, C, 1, 1)
    a = head(x, kernels, masks)
    b = head(x, kernels, masks, previous_obj_feats=prev)
    assert a['object_feats_track'] is None
    assert b['object_feats_track'].shape == (2, P + S, C, 1, 1)
    for k in ('cls_score', 'mask_preds', 'object_feats', 'masked_pool_feats'):
        assert torch.equal(a[k], b[k])
    assert a['cls_score'].shape == (2, P + S, T + S)
    assert a['mask_preds'].shape == (2, P + S, 8, 16)
    # per-image dynamic conv: image 1 alone gives the same masks
    c = head(x[1:], kernels[1:], masks[1:])
    torch.testing.assert_close(c['mask_preds'][0], a['mask_preds'][1],
                               atol=1e-5, rtol=1e-5)


def test_kernel_fusion_option():
    cfg = dict(STAGE, previous_type=None, previous_link='update_dynamic_cov')
    head = _build(cfg)
    x = torch.randn(1, C, 8, 16)
    kernels = torch.randn(1, P + S, C, 1, 1)
    masks = torch.randn(1, P + S, 8, 16)
    a = head(x, kernels, masks)
    b = head(x, kernels, masks, previous_obj_feats=torch.randn_like(kernels))
    assert not torch.allclose(a['cls_score'], b['cls_score'])
    assert b['object_feats_track'] is None


def test_stages_keep_kernels_masks_and_classes_aligned():
    """Permuting the thing kernels permutes every stage's outputs alike."""
    head = _build(ITER)
    head.eval()
    x = torch.randn(1, C, 8, 16)
    kernels = torch.randn(1, P + S, C, 1, 1)
    masks = torch.randn(1, P + S, 8, 16) * 3
    perm = torch.cat([torch.randperm(P), torch.arange(P, P + S)])
    a = head(x, kernels, masks)
    b = head(x, kernels[:, perm], masks[:, perm])
    for sa, sb in zip(a, b):
        for k in ('cls_score', 'mask_preds', 'object_feats'):
            torch.testing.assert_close(sa[k][:, perm], sb[k], atol=1e-4,
                                       rtol=1e-4)
    res = head.predict_panoptic(a[-1], [dict(
        img_shape=(32, 64), batch_input_shape=(32, 64), ori_shape=(32, 64))])
    r = res[0]
    # every segment's label is its kernel's class: things from their top-k
    # class, stuff kernel j -> class T + j
    scores = a[-1]['cls_score'][0].sigmoid()
    for lab, k, sc in zip(r.labels, r.kernel_inds, r.scores):
        if k >= P:
            assert lab == T + (k - P)
        assert abs(scores[k, lab] - sc) < 1e-6
    assert r.sem_seg.shape == (32, 64)


def test_stage_targets_bind_stuff_kernels_to_their_class():
    head = _build(STAGE)
    targets = _targets(b=1)
    gt_inds = torch.tensor([0, 2, 0, 1, 0, 0])

    class Res:
        pass

    res = Res()
    res.gt_inds = gt_inds
    labels, lw, mtg = head.get_targets([res], targets, P + S, (32, 64))
    assert labels.tolist() == [T + S, 0, T + S, 1, T + S, T + S,
                               T, T + S, T + 2]
    # thing rows weigh thing classes only; stuff row j its own class only
    assert (lw[:P, :T] == 1).all() and (lw[:P, T:] == 0).all()
    assert torch.equal(lw[P:, T:], torch.eye(S))
    assert (lw[P:, :T] == 0).all()
    assert torch.equal(mtg[1], targets[0].things.masks[1])
    assert torch.equal(mtg[P + 2], targets[0].stuff.masks[1])
    assert (mtg[P + 1] == 0).all()


def test_iter_head_losses_reassign_each_stage():
    neck, rpn, head = _build(SFPN), _build(RPN), _build(ITER)
    rpn.train()
    head.train()
    out = rpn(neck(_fpn()))
    stages = head(out['x_feats'], out['proposal_feats'], out['mask_preds'])
    assert all(s['scaled_mask_preds'].shape[-2:] == (32, 64) for s in stages)
    losses, assigns = head.loss(stages, out['mask_preds'], _targets())
    assert set(losses) == {
        f's{i}_{k}'
        for i in range(2)
        for k in ('loss_cls', 'pos_acc', 'loss_mask', 'loss_dice')
    }
    assert len(assigns) == 2 and len(assigns[0]) == 2
    total = sum(v for k, v in losses.items() if 'loss' in k)
    total.backward()
    assert head.mask_head[0].fc_cls.weight.grad is not None
    # the link modules get no gradient without previous kernels
    assert head.mask_head[1].link_ffn_norm.weight.grad is None


def test_prepare_kernel_targets_pads_and_resizes():
    from mmdet.structures import DetDataSample
    from mmdet.structures.mask import BitmapMasks
    from mmengine.structures import PixelData

    from knet.models.layers import last_cover_index, prepare_kernel_targets
    h, w = 6, 8
    masks = np.zeros((1, h, w), np.uint8)
    masks[0, :2, :2] = 1
    masks[0, 2, 0] = 1
    sem = torch.full((1, h, w), 255, dtype=torch.long)
    sem[0, 3:, :] = T + 1
    sem[0, :2, 4:] = T
    sem[0, :2, :2] = 0
    s = DetDataSample(metainfo=dict(img_shape=(h, w)))
    s.gt_instances = InstanceData(labels=torch.tensor([0]),
                                  masks=BitmapMasks(masks, h, w))
    s.gt_sem_seg = PixelData(sem_seg=sem)
    tgt = prepare_kernel_targets([s], (8, 8), 2, T)[0]
    # zero/ignore padding to 8 x 8, then bilinear x0.5 = 2x2 averages
    assert tgt.things.masks.shape == (1, 4, 4)
    assert tgt.things.masks[0, 0, 0] == 1.0
    assert tgt.things.masks[0, 1, 0] == 0.25
    assert tgt.stuff.labels.tolist() == [T, T + 1]
    assert tgt.stuff.masks[0, 0, 2] == 1.0 and tgt.stuff.masks[0, 0, 0] == 0
    assert tgt.stuff.masks[1, 1, 0] == 0.5   # rows 2-3: only row 3 is T+1
    assert (tgt.stuff.masks[1, 3] == 0).all()  # padded rows are void
    cover = torch.tensor([[1, 0, 1], [0, 0, 1]], dtype=torch.bool)
    assert last_cover_index(cover).tolist() == [0, -1, 1]


def test_iter_head_rejects_unknown_keys():
    """A misspelt or removed key fails the build, naming the key."""
    for extra in (dict(do_panoptic=True), dict(num_stage=3)):
        with pytest.raises(TypeError, match=next(iter(extra))):
            _build(dict(ITER, **extra))
    for test_cfg in (dict(prune_candidates=False), dict(max_per_imgs=3)):
        with pytest.raises(TypeError, match=next(iter(test_cfg))):
            _build(dict(ITER, test_cfg=test_cfg))


def test_iter_head_inference_leaves_torch_threads_alone(monkeypatch):
    """Post-processing runs with the caller's thread count: the model never
    sets torch's global thread count (the tool does)."""
    head = _build(dict(ITER, test_cfg=dict(ITER['test_cfg'],
                                           merge_impl='tiled')))
    head.eval()
    with torch.no_grad():
        out = head(torch.randn(1, C, 32, 64), torch.randn(1, P + S, C, 1, 1),
                   torch.randn(1, P + S, 32, 64) * 3)[-1]

    def forbidden(num):
        raise AssertionError('the model changed torch\'s thread count')

    monkeypatch.setattr(torch, 'set_num_threads', forbidden)
    meta = dict(img_shape=(128, 256), batch_input_shape=(128, 256),
                ori_shape=(128, 256))
    pano = head.predict_panoptic(out, [meta])[0]
    assert pano.seg_ids.shape == (128, 256)
    assert head.predict_instances(out, [meta])[0].masks.shape[1:] == (128,
                                                                       256)
