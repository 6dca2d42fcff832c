"""Batched assignment and target building == the per-image reference.

The batched path (one cost computation and one host copy per call, targets
gathered with host-known positives) must give the same assignments and the
same targets and losses as mmdet's per-image ``HungarianAssigner`` and the
per-image target building it replaced.
"""
import numpy as np
import pytest
import torch

pytest.importorskip('mmdet')

from mmdet.registry import MODELS, TASK_UTILS  # noqa: E402
from mmengine.structures import InstanceData  # noqa: E402

from knet.models.layers import KernelTargets  # noqa: E402
from knet.models.layers import kernel_targets as kt  # noqa: E402
from knet.models.layers import transfer  # noqa: E402
from knet.models.task_modules import kernel_assignment as ka  # noqa: E402
from knet.utils.setup_env import register_all_modules  # noqa: E402

register_all_modules(init_default_scope=False)

ASSIGNER = dict(
    type='HungarianAssigner',
    match_costs=[
        dict(type='KNetFocalLossCost', weight=2.0),
        dict(type='KNetMaskCost', weight=1.0, pred_act=True),
        dict(type='KNetDiceCost', weight=4.0, pred_act=True)
    ])
P, T, S, H, W = 7, 3, 4, 12, 10
#: the batched path also runs on the GPU where there is one
DEVICES = ['cpu'] + (['cuda'] if torch.cuda.is_available() else [])


def _to(targets, device):
    return [
        KernelTargets(
            t.things.to(device),
            None if t.stuff is None else t.stuff.to(device))
        for t in targets
    ]


def _targets(seed, counts=(3, 0, 5, 1), stuff=((0, 2), None, (), (1, 2, 3))):
    g = torch.Generator().manual_seed(seed)
    out = []
    for n, st in zip(counts, stuff):
        masks = (torch.rand(n, H, W, generator=g) > 0.6).float() * \
            torch.tensor([1.0, 0.5])[torch.randint(0, 2, (n, 1, 1),
                                                   generator=g)]
        things = InstanceData(masks=masks,
                              labels=torch.randint(0, T, (n, ), generator=g))
        stuff_data = None
        if st is not None:
            sm = (torch.rand(len(st), H, W, generator=g) > 0.5).float()
            stuff_data = InstanceData(
                masks=sm, labels=torch.tensor(st, dtype=torch.long) + T)
        out.append(KernelTargets(things, stuff_data))
    return out


def _preds(seed, b=4, with_scores=True):
    g = torch.Generator().manual_seed(seed + 100)
    masks = torch.randn(b, P, H, W, generator=g) * 3
    scores = torch.randn(b, P, T, generator=g) if with_scores else None
    return masks, scores


@pytest.mark.parametrize('device', DEVICES)
@pytest.mark.parametrize('seed', range(4))
@pytest.mark.parametrize('with_scores', [True, False])
def test_batched_costs_and_assignment_equal_per_image(seed, with_scores,
                                                      device):
    assigner = TASK_UTILS.build(ASSIGNER)
    targets = _to(_targets(seed), device)
    masks, scores = _preds(seed, with_scores=with_scores)
    masks = masks.to(device)
    scores = None if scores is None else scores.to(device)
    assert ka.supports_batched_costs(assigner)
    batch = kt.target_batch(targets)
    gm, gl, counts = batch.padded_things()
    for cost in assigner.match_costs:
        got = cost.batch_cost(masks, scores, gm, gl)
        for i, tgt in enumerate(targets):
            if not counts[i]:  # the assigner never asks for these
                continue
            pred = InstanceData(masks=masks[i])
            if scores is not None:
                pred.scores = scores[i]
            want = cost(pred, tgt.things)
            torch.testing.assert_close(got[i, :, :counts[i]], want,
                                       rtol=1e-6, atol=1e-6)
    fast = ka.assign_kernels([assigner], [(masks, scores)], targets)[0]
    ref = ka.assign_kernels([assigner], [(masks, scores)], targets,
                            batched=False)[0]
    assert len(fast) == len(ref) == 4
    for a, b in zip(fast, ref):
        assert torch.equal(a.gt_inds, b.gt_inds)
        assert torch.equal(a.labels, b.labels)
        assert a.num_gts == b.num_gts
    assert np.array_equal(fast.host_gt_inds, ref.host_gt_inds)
    # the positives, as nonzero() would list them
    img, ker = torch.nonzero(fast.gt_inds > 0, as_tuple=True)
    assert torch.equal(fast.pos_img, img) and torch.equal(
        fast.pos_kernel, ker)
    assert torch.equal(fast.pos_gt, fast.gt_inds[img, ker] - 1)
    assert fast.num_pos_per_image == [
        int((r.gt_inds > 0).sum()) for r in ref
    ]


def test_one_host_copy_for_all_stages(monkeypatch):
    assigner = TASK_UTILS.build(ASSIGNER)
    targets = _targets(0)
    calls = []
    original = transfer.device_to_host
    monkeypatch.setattr(ka, 'device_to_host',
                        lambda t: calls.append(t.shape) or original(t))
    preds = [_preds(s) for s in range(3)]
    results = ka.assign_kernels([assigner] * 3, preds, targets)
    assert len(results) == 3 and len(calls) == 1
    assert calls[0] == (3, 4, P, 5)  # sets x images x kernels x max GT
    for res, (m, s) in zip(results, preds):
        ref = ka.assign_kernels([assigner], [(m, s)], targets,
                                batched=False)[0]
        assert np.array_equal(res.host_gt_inds, ref.host_gt_inds)


def _ref_update_targets(head, assign, targets, num_preds):
    """The per-image target building the batched one replaced."""
    labels, weights, masks = [], [], []
    nc = head.num_classes
    dev = targets[0].things.labels.device
    for res, tgt in zip(assign, targets):
        gt = tgt.things
        lab = torch.full((P, ), nc, dtype=torch.long, device=dev)
        lw = torch.ones((P, nc), device=dev)
        mtg = torch.zeros((P, H, W), device=dev)
        pos = (res.gt_inds > 0).nonzero().squeeze(1)
        lab[pos] = gt.labels[res.gt_inds[pos] - 1]
        mtg[pos] = gt.masks[res.gt_inds[pos] - 1]
        s_lab = torch.full((S, ), nc, dtype=torch.long, device=dev)
        s_mtg = torch.zeros((S, H, W), device=dev)
        s_lw = torch.cat([torch.zeros(S, T), torch.eye(S)], dim=1).to(dev)
        if tgt.stuff is not None and len(tgt.stuff):
            idx = tgt.stuff.labels - T
            s_lab[idx] = tgt.stuff.labels
            s_mtg[idx] = tgt.stuff.masks
        lw[:, T:] = 0
        labels.append(torch.cat([lab, s_lab]))
        weights.append(torch.cat([lw, s_lw]))
        masks.append(torch.cat([mtg, s_mtg]))
    return torch.cat(labels), torch.cat(weights), torch.cat(masks)


def _update_head():
    c = 16
    return MODELS.build(dict(
        type='KernelUpdateHead', num_classes=T + S, num_thing_classes=T,
        num_stuff_classes=S, num_heads=2, feedforward_channels=32,
        in_channels=c, out_channels=c,
        kernel_updator_cfg=dict(type='KernelUpdator', in_channels=c,
                                feat_channels=c, out_channels=c)))


@pytest.mark.parametrize('device', DEVICES)
@pytest.mark.parametrize('seed', range(3))
def test_stage_targets_and_losses_equal_reference(seed, device):
    head = _update_head().to(device)
    assigner = TASK_UTILS.build(ASSIGNER)
    targets = _to(_targets(seed), device)
    masks, scores = (x.to(device) for x in _preds(seed))
    assign = ka.assign_kernels([assigner], [(masks, scores)], targets)[0]
    got = head.stage_targets(assign, targets, P + S, (H, W))
    want = _ref_update_targets(head, assign, targets, P + S)
    for a, b in zip(got[:3], want):
        assert torch.equal(a, b)
    pos = (want[0] < head.num_classes).nonzero().squeeze(1)
    assert torch.equal(got.pos_inds, pos) and got.num_pos == pos.numel()
    # the same losses with host-known positives as with the boolean mask
    g = torch.Generator().manual_seed(seed)
    cls = torch.randn(4, P + S, T + S, generator=g).to(device)
    pred = torch.randn(4, P + S, H, W, generator=g).to(device)
    fast = head.loss(cls, pred, *got[:3], pos_inds=got.pos_inds,
                     num_pos=got.num_pos)
    ref = head.loss(cls, pred, *want)
    assert fast.keys() == ref.keys()
    for k in fast:
        assert torch.equal(fast[k], ref[k]), k
    # a plain list of targets and per-image results take the same path
    plain = head.stage_targets(list(assign), list(targets), P + S, (H, W))
    for a, b in zip(plain[:3], want):
        assert torch.equal(a, b)


def test_kernel_head_targets_equal_reference():
    rpn = MODELS.build(dict(
        type='ConvKernelHead', num_proposals=P, in_channels=16,
        out_channels=16, num_thing_classes=T, num_stuff_classes=S,
        norm_cfg=dict(type='GN', num_groups=4), assigner=ASSIGNER))
    targets = _targets(5)
    masks, _ = _preds(5)
    assign = rpn.assign(masks, targets)
    labels, mtg, seg = rpn.get_targets(assign, targets, P, (H, W))
    nc = rpn.num_classes
    for i, (res, tgt) in enumerate(zip(assign, targets)):
        pos = (res.gt_inds > 0).nonzero().squeeze(1)
        lab = torch.full((P, ), nc, dtype=torch.long)
        m = torch.zeros(P, H, W)
        lab[pos] = tgt.things.labels[res.gt_inds[pos] - 1]
        m[pos] = tgt.things.masks[res.gt_inds[pos] - 1]
        assert torch.equal(labels[i * P:(i + 1) * P], lab)
        assert torch.equal(mtg[i * P:(i + 1) * P], m)
        # paint stuff (label order), then matched things (kernel order)
        ref = torch.full((H, W), nc, dtype=torch.long)
        if tgt.stuff is not None:
            for sm, sl in zip(tgt.stuff.masks, tgt.stuff.labels):
                ref[sm > 0] = sl
        for k in pos.tolist():
            ref[m[k] > 0] = lab[k]
        assert torch.equal(seg[i], ref)


def test_prepare_targets_find_stuff_classes_with_one_copy(monkeypatch):
    from mmdet.structures import DetDataSample
    from mmengine.structures import PixelData
    calls = []
    original = transfer.device_to_host
    monkeypatch.setattr(kt, 'device_to_host',
                        lambda t: calls.append(1) or original(t))
    g = torch.Generator().manual_seed(0)
    samples = []
    for present in ([T, T + 2], [], [0, T + 1, T + 3, 255]):
        sem = torch.full((1, 8, 8), 255, dtype=torch.long)
        for k, c in enumerate(present):
            sem[0, k] = c
        s = DetDataSample(metainfo=dict(img_shape=(8, 8)))
        s.gt_instances = InstanceData(
            labels=torch.tensor([0]),
            masks=(torch.rand(1, 8, 8, generator=g) > 0.5).numpy().astype(
                np.uint8))
        s.gt_sem_seg = PixelData(sem_seg=sem)
        samples.append(s)
    targets = kt.prepare_kernel_targets(samples, (8, 8), 2, T)
    assert len(calls) == 1
    assert targets.stuff_classes == [[T, T + 2], [], [T + 1, T + 3]]
    for t, s in zip(targets, samples):
        labels, masks = kt.semantic_to_stuff_masks(
            s.gt_sem_seg.sem_seg[0], T, 255)
        assert torch.equal(t.stuff.labels, labels)
        assert torch.equal(
            t.stuff.masks, kt.resize_gt_masks(masks, (8, 8), (4, 4)))


def test_video_knet_losses_equal_with_per_image_reference(monkeypatch):
    """A whole Video K-Net training loss (batch of two clips): the batched
    path and the per-image reference give the same values, bit for bit."""
    import functools
    from pathlib import Path

    from mmengine.config import Config

    from knet.models.heads import conv_kernel_head, kernel_iter_head
    from tests.models.test_video_knet import _pair
    cfg = Config.fromfile(
        Path(__file__).resolve().parents[1] / 'data' /
        'video_knet_kitti_tiny.py')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.train()
    data = _pair()
    other = _pair()
    data['inputs'] += other['inputs']
    data['data_samples'] += other['data_samples']
    data = model.data_preprocessor(data, True)
    with torch.no_grad():
        fast = model.loss(data['inputs'], data['data_samples'])
        reference = functools.partial(ka.assign_kernels, batched=False)
        for module in (conv_kernel_head, kernel_iter_head):
            monkeypatch.setattr(module, 'assign_kernels', reference)
        ref = model.loss(data['inputs'], data['data_samples'])
    assert list(fast) == list(ref)
    for key in fast:
        assert torch.equal(fast[key], ref[key]), key
