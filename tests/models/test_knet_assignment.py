"""K-Net match costs (hand formulas) and Hungarian assignment (brute force)."""
import itertools

import pytest
import torch

pytest.importorskip('mmdet')

from mmdet.registry import TASK_UTILS  # noqa: E402
from mmengine.structures import InstanceData  # noqa: E402

from knet.utils.setup_env import register_all_modules  # noqa: E402

register_all_modules(init_default_scope=False)

ASSIGNER = dict(
    type='HungarianAssigner',
    match_costs=[
        dict(type='KNetFocalLossCost', weight=2.0),
        dict(type='KNetMaskCost', weight=1.0, pred_act=True),
        dict(type='KNetDiceCost', weight=4.0, pred_act=True)
    ])


def _rand_case(seed, num_preds=5, num_gts=3, h=6, w=7, num_classes=4):
    g = torch.Generator().manual_seed(seed)
    pred = InstanceData(
        masks=torch.randn(num_preds, h, w, generator=g) * 3,
        scores=torch.randn(num_preds, num_classes, generator=g))
    gt = InstanceData(
        masks=(torch.rand(num_gts, h, w, generator=g) > 0.6).float() *
        torch.tensor([1.0, 0.75, 0.5])[torch.randint(
            0, 3, (num_gts, 1, 1), generator=g)],
        labels=torch.randint(0, num_classes, (num_gts, ), generator=g))
    return pred, gt


def test_costs_follow_release_formulas():
    pred, gt = _rand_case(0)
    dice = TASK_UTILS.build(dict(type='KNetDiceCost', weight=4.0))
    mask = TASK_UTILS.build(dict(type='KNetMaskCost', weight=1.0))
    focal = TASK_UTILS.build(dict(type='KNetFocalLossCost', weight=2.0))
    p = pred.masks.sigmoid().double()
    t = gt.masks.double()
    for i in range(len(pred)):
        for j in range(len(gt)):
            pd = p[i].clamp(0.001, 1)
            expect = -2 * (pd * t[j]).sum() / (
                (pd**2).sum() + 1e-3 + (t[j]**2).sum() + 1e-3)
            assert abs(dice(pred, gt)[i, j].item() - 4 * expect.item()) < 1e-5
            pm = p[i].clamp(0.01, 1)
            expect = -((pm * t[j]).sum() +
                       ((1 - pm) * (1 - t[j])).sum()) / pm.numel()
            assert abs(mask(pred, gt)[i, j].item() - expect.item()) < 1e-6
            s = pred.scores[i, gt.labels[j]].sigmoid().double()
            expect = 0.25 * (1 - s)**2 * -torch.log(s + 1e-12) - \
                0.75 * s**2 * -torch.log(1 - s + 1e-12)
            assert abs(focal(pred, gt)[i, j].item() -
                       2 * expect.item()) < 1e-5


def test_focal_cost_without_scores_is_zero():
    pred, gt = _rand_case(1)
    del pred.scores
    focal = TASK_UTILS.build(dict(type='KNetFocalLossCost', weight=2.0))
    assert torch.equal(focal(pred, gt), torch.zeros(len(pred), len(gt)))


@pytest.mark.parametrize('seed', range(6))
@pytest.mark.parametrize('with_scores', [True, False])
def test_assignment_is_brute_force_optimum(seed, with_scores):
    pred, gt = _rand_case(seed, num_preds=5, num_gts=3)
    if not with_scores:
        del pred.scores
    assigner = TASK_UTILS.build(ASSIGNER)
    res = assigner.assign(pred, gt)
    cost = sum(c(pred, gt) for c in assigner.match_costs)
    best, best_rows = None, None
    for rows in itertools.permutations(range(len(pred)), len(gt)):
        total = sum(cost[r, j].item() for j, r in enumerate(rows))
        if best is None or total < best - 1e-9:
            best, best_rows = total, rows
    expect = torch.zeros(len(pred), dtype=torch.long)
    for j, r in enumerate(best_rows):
        expect[r] = j + 1
    assert res.gt_inds.tolist() == expect.tolist()
    matched = res.gt_inds > 0
    assert torch.equal(res.labels[matched], gt.labels[res.gt_inds[matched] -
                                                      1])


def test_mmdet_losses_use_the_release_formulas():
    """mmdet's DiceLoss / CrossEntropyLoss compute what the release uses."""
    from mmdet.registry import MODELS
    g = torch.Generator().manual_seed(0)
    pred = torch.randn(3, 5, 6, generator=g)
    tgt = (torch.rand(3, 5, 6, generator=g) > 0.5).float() * 0.75
    dice = MODELS.build(dict(type='DiceLoss', loss_weight=4.0))
    p = pred.sigmoid().flatten(1).double()
    t = tgt.flatten(1).double()
    expect = 1 - 2 * (p * t).sum(1) / ((p * p).sum(1) + 1e-3 +
                                       (t * t).sum(1) + 1e-3)
    assert abs(dice(pred, tgt).item() - 4 * expect.mean().item()) < 1e-6
    # softmax CE with ignore: mean over ALL pixels, ignored ones included
    ce = MODELS.build(
        dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0))
    logits = torch.randn(10, 4, generator=g)
    labels = torch.tensor([0, 1, 4, 4, 2, 3, 4, 0, 1, 4])
    per = torch.nn.functional.cross_entropy(
        logits[labels < 4], labels[labels < 4], reduction='sum')
    out = ce(logits, labels, ignore_index=4)
    assert abs(out.item() - per.item() / 10) < 1e-6
