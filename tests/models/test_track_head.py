"""Kernel association embedding head: targets and losses by hand."""
import math

import pytest
import torch

pytest.importorskip('mmdet')

from knet.models.heads.track_head import KernelTrackHead  # noqa: E402
from knet.models.losses.track_losses import track_l2_loss  # noqa: E402
from knet.utils.setup_env import register_all_modules  # noqa: E402

register_all_modules(init_default_scope=False)


def test_targets_positive_iff_same_gt_instance_in_both_frames():
    # key GTs: instance ids [7, 3, 9]; reference GTs: [3, 7] -> match [1, 0, -1]
    key_ids, ref_ids = [7, 3, 9], [3, 7]
    match = torch.tensor(
        [ref_ids.index(i) if i in ref_ids else -1 for i in key_ids])
    # positive key kernels assigned to key GTs 2, 0, 1; reference kernels
    # assigned to reference GTs 0, 1, 1 (two kernels on the same GT)
    tgt, w = KernelTrackHead.get_track_targets(
        [match], [torch.tensor([2, 0, 1])], [torch.tensor([0, 1, 1])])
    assert tgt[0].tolist() == [[0, 0, 0], [0, 1, 1], [1, 0, 0]]
    assert w[0].tolist() == [0., 1., 1.]


def test_forward_shapes_and_layers():
    head = KernelTrackHead(in_channels=16, fc_out_channels=12,
                           embed_channels=8)
    head.init_weights()
    assert [tuple(f.weight.shape) for f in head.fcs] == [(12, 16), (12, 12)]
    x = torch.randn(5, 16, 1, 1)
    out = head(x)
    assert out.shape == (5, 8)
    h = torch.relu(head.fcs[1](torch.relu(head.fcs[0](x.flatten(1)))))
    assert torch.allclose(out, head.fc_embed(h))


def _multipos_by_hand(d, t, w):
    rows = []
    for i in range(len(d)):
        s = sum(math.exp(d[i][n] - d[i][p]) for p in range(len(d[i]))
                for n in range(len(d[i])) if t[i][p] == 1 and t[i][n] == 0)
        rows.append(math.log(1 + s) * w[i])
    return sum(rows) / sum(w)


def test_losses_by_hand():
    g = torch.Generator().manual_seed(3)
    key, ref = torch.randn(3, 6, generator=g), torch.randn(4, 6, generator=g)
    tgt = torch.tensor([[1, 0, 0, 0], [0, 0, 1, 1], [0, 0, 0, 0]],
                       dtype=torch.int32)
    w = torch.tensor([1., 1., 0.])
    head = KernelTrackHead(in_channels=6)
    losses = head.loss([key], [ref], [tgt], [w])
    d = (key @ ref.t()).tolist()
    expect = 0.25 * _multipos_by_hand(d, tgt.tolist(), w.tolist())
    assert losses['loss_track'].item() == pytest.approx(expect, rel=1e-5)
    # L2: 3 positives, 9 negatives: 9 / (3 + 1) < 3 -> every entry is kept
    cos = torch.nn.functional.normalize(key, dim=1) @ \
        torch.nn.functional.normalize(ref, dim=1).t()
    c, tt = cos.flatten().tolist(), tgt.flatten().tolist()
    errs = [(min(max(ci - (0.1 if ti == 0 else 0), 0), 1) - ti)**2
            for ci, ti in zip(c, tt)]
    assert losses['loss_track_aux'].item() == pytest.approx(
        sum(errs) / len(errs), rel=1e-5)


def test_l2_hard_mining_keeps_hardest_negatives():
    # 1 positive, 8 negatives: 8 / 2 > 3 -> keep the 3 hardest negatives
    pred = torch.tensor([[0.9, 0.5, 0.05, 0.6, 0.2, 0.0, 0.95, 0.3, 0.1]])
    tgt = torch.tensor([[1, 0, 0, 0, 0, 0, 0, 0, 0]])
    got = track_l2_loss(pred, tgt, neg_pos_ub=3, neg_margin=0.1)
    # negatives after margin: .4,0,.5,.1,0,.85,.2,0 -> hardest .85,.5,.4
    expect = ((0.9 - 1)**2 + 0.85**2 + 0.5**2 + 0.4**2) / 4
    assert got.item() == pytest.approx(expect, rel=1e-6)
    # inputs untouched
    assert pred[0, 1].item() == pytest.approx(0.5)


def test_l2_release_ratio_rule():
    """4 positives, 13 negatives: 13 / (4 + 1) <= 3 keeps all negatives
    (mmdet 3.x's L2Loss would drop one)."""
    pred = torch.linspace(0.2, 0.8, 17)[None]
    tgt = torch.zeros(1, 17, dtype=torch.long)
    tgt[0, :4] = 1
    got = track_l2_loss(pred, tgt, neg_pos_ub=3, neg_margin=0.1)
    p = pred[0].clone()
    p[4:] -= 0.1
    expect = ((p.clamp(0, 1) - tgt[0].float())**2).mean()
    assert got.item() == pytest.approx(expect.item(), rel=1e-6)
