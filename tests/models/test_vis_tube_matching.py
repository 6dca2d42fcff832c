"""Tube-level Hungarian matching and clip kernel fusion of the VIS head."""
import itertools

import numpy as np
import pytest

torch = pytest.importorskip('torch')
pytest.importorskip('mmdet')


def _assigner():
    from knet.utils.setup_env import register_all_modules
    from mmdet.registry import TASK_UTILS
    register_all_modules()
    return TASK_UTILS.build(
        dict(type='HungarianAssigner',
             match_costs=[
                 dict(type='KNetFocalLossCost', weight=2.0),
                 dict(type='KNetMaskCost', weight=1.0, pred_act=True),
                 dict(type='KNetDiceCost', weight=4.0, pred_act=True)
             ]))


def _tube_head(num_proposals=4, num_classes=3, channels=16):
    from knet.utils.setup_env import register_all_modules
    from mmdet.registry import MODELS
    register_all_modules()
    stage = dict(
        type='ClipKernelUpdateHead', num_classes=num_classes,
        num_thing_classes=num_classes, num_stuff_classes=0, num_heads=2,
        feedforward_channels=32, in_channels=channels, out_channels=channels,
        mask_upsample_stride=2,
        kernel_updator_cfg=dict(type='KernelUpdator', in_channels=channels,
                                feat_channels=channels, out_channels=channels,
                                act_cfg=dict(type='ReLU', inplace=True),
                                norm_cfg=dict(type='LN')))
    head = MODELS.build(dict(type='ClipKernelHead', num_stages=3,
                             num_clip_stages=2, num_proposals=num_proposals,
                             num_classes=num_classes, mask_head=stage))
    head.init_weights()
    return head.eval()


def _np_costs(logits, scores, gt_masks, gt_labels):
    """The three K-Net costs of every (kernel, tube) pair written frame by
    frame in NumPy (sums over frames = costs on concatenated frames).

    logits [F, N, H, W], scores [N, C] logits, gt_masks [n, F, H, W]."""
    f, n, h, w = logits.shape
    p = 1 / (1 + np.exp(-logits.astype(np.float64)))
    s = 1 / (1 + np.exp(-scores.astype(np.float64)))
    cost = np.zeros((n, gt_masks.shape[0]))
    for i in range(n):
        for j in range(gt_masks.shape[0]):
            pm = np.clip(p[:, i], 0.01, 1)
            pd = np.clip(p[:, i], 0.001, 1)
            t = gt_masks[j]
            agree = sum((pm[k] * t[k]).sum() + ((1 - pm[k]) * (1 - t[k])).sum()
                        for k in range(f))
            mask_cost = -agree / (f * h * w)
            inter = sum((pd[k] * t[k]).sum() for k in range(f))
            dice_cost = -2 * inter / ((pd**2).sum() + 1e-3 + (t**2).sum() +
                                      1e-3)
            q = s[i, gt_labels[j]]
            focal = -np.log(q + 1e-12) * 0.25 * (1 - q)**2 + \
                np.log(1 - q + 1e-12) * 0.75 * q**2
            cost[i, j] = 2 * focal + mask_cost + 4 * dice_cost
    return cost


def _brute_force(cost):
    """Best injective tube -> kernel map by enumeration."""
    n, m = cost.shape
    best, best_perm = None, None
    for perm in itertools.permutations(range(n), m):
        c = sum(cost[perm[j], j] for j in range(m))
        if best is None or c < best - 1e-12:
            best, best_perm = c, perm
    return best_perm


def test_frames_to_tube_stacks_frames_along_height():
    from knet.models.heads.clip_kernel_head import frames_to_tube
    x = torch.arange(2 * 3 * 4 * 5, dtype=torch.float).reshape(2, 3, 4, 5)
    tube = frames_to_tube(x)  # [3, 8, 5]
    assert tube.shape == (3, 8, 5)
    for k in range(3):
        assert torch.equal(tube[k], torch.cat([x[0, k], x[1, k]], dim=0))


def test_build_tube_targets_by_hand():
    from mmengine.structures import InstanceData
    from knet.models.heads.clip_kernel_head import build_tube_targets
    h, w = 2, 3
    m7 = torch.zeros(h, w)
    m7[0, 0] = 1
    m3 = torch.zeros(h, w)
    m3[1, 2] = 1
    frames = [
        InstanceData(masks=m7[None], labels=torch.tensor([5]),
                     instances_ids=torch.tensor([7])),
        InstanceData(masks=torch.zeros(0, h, w),
                     labels=torch.zeros(0, dtype=torch.long),
                     instances_ids=torch.zeros(0, dtype=torch.long)),
        InstanceData(masks=torch.stack([m3, m7]), labels=torch.tensor([1, 5]),
                     instances_ids=torch.tensor([3, 7])),
    ]
    tube = build_tube_targets(frames)
    assert tube.instances_ids.tolist() == [3, 7]
    assert tube.labels.tolist() == [1, 5]
    assert tube.masks.shape == (2, 3, h, w)
    # id 3 only in frame 2, id 7 in frames 0 and 2
    assert tube.masks[0, :2].sum() == 0 and torch.equal(tube.masks[0, 2], m3)
    assert torch.equal(tube.masks[1, 0], m7) and tube.masks[1, 1].sum() == 0
    assert torch.equal(tube.masks[1, 2], m7)


@pytest.mark.parametrize('seed', [0, 1, 2, 3])
def test_tube_assignment_matches_brute_force(seed):
    """ClipKernelHead.assign (mmdet HungarianAssigner on frame-concatenated
    masks) == exhaustive search over NumPy costs computed frame by frame."""
    from knet.models.heads.clip_kernel_head import TubeTargets
    rng = np.random.default_rng(seed)
    f, n, h, w, c = 3, 5, 4, 6, 3
    num_gt = 3
    logits = rng.normal(0, 3, (f, n, h, w)).astype(np.float32)
    scores = rng.normal(0, 2, (n, c)).astype(np.float32)
    gt = (rng.random((num_gt, f, h, w)) > 0.6).astype(np.float32)
    gt[0, 1] = 0  # a tube absent from one frame
    labels = rng.integers(0, c, num_gt)
    head = _tube_head(num_proposals=n, num_classes=c)
    tube = TubeTargets(torch.from_numpy(gt), torch.from_numpy(labels),
                       torch.arange(num_gt))
    res = head.assign(torch.from_numpy(logits), torch.from_numpy(scores),
                      tube)
    perm = _brute_force(_np_costs(logits, scores, gt, labels))
    want = np.zeros(n, dtype=np.int64)
    for j, i in enumerate(perm):
        want[i] = j + 1
    assert res.gt_inds.tolist() == want.tolist()


def test_tube_assignment_differs_from_per_frame():
    """A kernel that fits a tube on one frame but not the other loses the
    tube to the kernel that fits both frames."""
    from knet.models.heads.clip_kernel_head import TubeTargets
    f, h, w = 2, 4, 4
    obj = torch.zeros(f, h, w)
    obj[:, :2, :2] = 1
    logits = torch.full((f, 2, h, w), -8.)
    logits[0, 0] = obj[0] * 16 - 8  # kernel 0: right on frame 0 only
    logits[0, 1] = obj[0] * 16 - 8  # kernel 1: right on both frames
    logits[1, 1] = obj[1] * 16 - 8
    head = _tube_head(num_proposals=2, num_classes=3)
    res = head.assign(logits, None,
                      TubeTargets(obj[None], torch.tensor([0]),
                                  torch.tensor([1])))
    assert res.gt_inds.tolist() == [0, 1]


def test_fuse_kernels_is_frame_mean():
    from knet.models.heads.clip_kernel_head import fuse_kernels
    x = torch.randn(2, 3, 4, 8, 1, 1)
    want = (x[:, 0] + x[:, 1] + x[:, 2]) / 3
    assert torch.allclose(fuse_kernels(x), want, atol=1e-6)
    with pytest.raises(ValueError):
        fuse_kernels(x, 'attention')


def test_clip_stage_uses_frame_averaged_pooled_features():
    """A clip stage updates ONE kernel per slot from the mean over frames of
    the per-frame pooled features, and applies its mask kernel to every
    frame."""
    torch.manual_seed(0)
    head = _tube_head(num_proposals=4, channels=16)
    stage = head.mask_head[0]
    b, f, n, c, h, w = 1, 3, 4, 16, 5, 6
    x = torch.randn(b, f, c, h, w)
    kernels = torch.randn(b, n, c, 1, 1)
    masks = torch.randn(b, f, n, h, w) * 3
    with torch.no_grad():
        out = stage.forward_clip(x, kernels, masks)
        # by hand: transform, hard masks, per-frame pooling, frame mean
        xt = stage.feat_transform(x[0])
        hard = (masks[0].sigmoid() > 0.5).float()
        pooled = torch.stack([
            torch.stack([(hard[t, k][None] * xt[t]).sum((1, 2))
                         for k in range(n)]) for t in range(f)])
        obj = stage._update(pooled.mean(0)[None], kernels)
        mfeat = obj
        for layer in stage.mask_fcs:
            mfeat = layer(mfeat)
        mk = stage.fc_mask(mfeat)[0, :, 0]  # [N, C]
        want_masks = torch.einsum('nc,tchw->tnhw', mk, xt)
    assert out['cls_score'].shape == (b, n, 3)
    assert out['object_feats'].shape == (b, n, c, 1, 1)
    assert torch.allclose(out['masked_pool_feats'][0], pooled, atol=1e-4)
    assert torch.allclose(out['mask_preds'][0], want_masks, atol=1e-4)
    # frame order does not change the clip classification
    perm = torch.tensor([2, 0, 1])
    with torch.no_grad():
        out2 = stage.forward_clip(x[:, perm], kernels, masks[:, perm])
    assert torch.allclose(out2['cls_score'], out['cls_score'], atol=1e-5)
    assert torch.allclose(out2['mask_preds'], out['mask_preds'][:, perm],
                          atol=1e-5)


def test_clip_head_on_repeated_frame_equals_single_frame():
    """Kernels fused over F copies of a frame = that frame's kernels."""
    torch.manual_seed(1)
    head = _tube_head(num_proposals=4, channels=16)
    x = torch.randn(1, 1, 16, 5, 6)
    obj = torch.randn(1, 1, 4, 16, 1, 1)
    masks = torch.randn(1, 1, 4, 5, 6)
    with torch.no_grad():
        one = head(x, obj, masks)
        many = head(x.expand(1, 4, -1, -1, -1), obj.expand(1, 4, -1, -1, -1,
                                                          -1),
                    masks.expand(1, 4, -1, -1, -1))
    assert torch.allclose(head.last_cls_score(one), head.last_cls_score(many),
                          atol=1e-5)
    for t in range(4):
        assert torch.allclose(many[-1]['scaled_mask_preds'][:, t],
                              one[-1]['scaled_mask_preds'][:, 0], atol=1e-4)
    assert one[-1]['cls_score'] is None  # the per-frame stage


def test_tube_loss_keys_and_gradients():
    from knet.models.heads.clip_kernel_head import TubeTargets
    torch.manual_seed(2)
    head = _tube_head(num_proposals=4, channels=16).train()
    x = torch.randn(2, 3, 16, 5, 6, requires_grad=True)
    obj = torch.randn(2, 3, 4, 16, 1, 1)
    masks = torch.randn(2, 3, 4, 5, 6)
    outs = head(x, obj, masks)
    gt = torch.zeros(1, 3, 10, 12)
    gt[0, :, :4, :4] = 1
    tubes = [TubeTargets(gt, torch.tensor([2]), torch.tensor([9])),
             TubeTargets(torch.zeros(0, 3, 10, 12),
                         torch.zeros(0, dtype=torch.long),
                         torch.zeros(0, dtype=torch.long))]
    losses = head.loss(outs, tubes)
    assert set(losses) == {
        'tracker_s0_loss_cls', 'tracker_s0_pos_acc', 'tracker_s0_loss_mask',
        'tracker_s0_loss_dice', 'tracker_s1_loss_cls', 'tracker_s1_pos_acc',
        'tracker_s1_loss_mask', 'tracker_s1_loss_dice',
        'tracker_s2_loss_mask', 'tracker_s2_loss_dice'}
    total = sum(v for k, v in losses.items() if 'loss' in k)
    total.backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
    assert x.grad.abs().sum() > 0
