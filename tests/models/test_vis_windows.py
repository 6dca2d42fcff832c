"""Windowed inference of VideoKNetVIS: window planning, kernel association,
and windowed == whole-video results where objects are unambiguous."""
import numpy as np
import pytest

torch = pytest.importorskip('torch')
pytest.importorskip('mmdet')

from tests.models.test_vis_helpers import build_tiny  # noqa: E402


def test_plan_windows_by_hand():
    from knet.models.detectors.vis_windows import plan_windows
    assert plan_windows(10, 4, 1) == [(0, 4), (3, 7), (6, 10)]
    assert plan_windows(10, 4, 2) == [(0, 4), (2, 6), (4, 8), (6, 10)]
    assert plan_windows(11, 4, 1) == [(0, 4), (3, 7), (6, 10), (7, 11)]
    assert plan_windows(5, 0) == [(0, 5)]
    assert plan_windows(5, 5, 2) == [(0, 5)]
    assert plan_windows(5, 9, 2) == [(0, 5)]
    assert plan_windows(0, 4) == []
    with pytest.raises(ValueError):
        plan_windows(10, 4, 4)


@pytest.mark.parametrize('n,w,o', [(10, 4, 1), (10, 4, 2), (11, 4, 1),
                                   (200, 20, 4), (7, 3, 0), (5, 0, 0)])
def test_owned_ranges_partition_the_video(n, w, o):
    from knet.models.detectors.vis_windows import owned_ranges, plan_windows
    windows = plan_windows(n, w, o)
    owned = owned_ranges(windows)
    frames = [t for lo, hi in owned for t in range(lo, hi)]
    assert frames == list(range(n))
    for (s, e), (lo, hi) in zip(windows, owned):
        assert s <= lo <= hi <= e


def test_associate_kernels_recovers_permutation():
    from knet.models.detectors.vis_windows import associate_kernels
    torch.manual_seed(0)
    emb = torch.randn(6, 16)
    perm = torch.tensor([3, 0, 5, 1, 4, 2])
    cur = emb[perm] * 2.5 + 0.01 * torch.randn(6, 16)  # scale-free cosine
    assert associate_kernels(emb, cur, mask_weight=0).tolist() == \
        perm.tolist()
    # masks alone decide when kernels carry no information
    masks = torch.zeros(2, 6, 4, 6)
    for k in range(6):
        masks[:, k].view(2, -1)[:, 4 * k:4 * k + 4] = 1
    got = associate_kernels(torch.ones(6, 3), torch.ones(6, 3), masks,
                            masks[:, perm], kernel_weight=0)
    assert got.tolist() == perm.tolist()


# ---------------------------------------------------------------------------
# windowed == whole with a stub clip predictor (moving objects, kernel slots
# shuffled in every window): tests the association and stitching logic of
# VideoKNetVIS.predict_video with known answers.
H, W = 32, 48
N, D, C = 6, 8, 40


def _boxes(num_frames):
    """Per frame and object: a box on the stride-4 mask grid (8 x 12)
    moving right by one cell every 2 frames."""
    out = []
    for t in range(num_frames):
        dx = t // 2
        out.append([(1, 1 + dx, 4, 4 + dx), (4, 6 - dx // 2, 7, 9 - dx // 2),
                    (0, 8, 3, 11)])
    return out


class _Stub:
    """Clip predictor in which object o (0..2) lives in kernel slot
    perm[o] of each window; slots 3..5 are background kernels."""

    def __init__(self, num_frames):
        g = torch.Generator().manual_seed(0)
        self.embeds = torch.randn(N, D, generator=g)
        self.scores = torch.full((N, C), 0.01)
        for o, (cls, s) in enumerate([(4, 0.9), (17, 0.8), (30, 0.7)]):
            self.scores[o, cls] = s
        self.scores[3:, 2] = 0.05
        self.boxes = _boxes(num_frames)
        self.calls = 0

    def __call__(self, frames):
        ids = frames[:, 0, 0, 0].round().long().tolist()  # frame indices
        perm = torch.randperm(N, generator=torch.Generator().manual_seed(
            100 + self.calls))
        self.calls += 1
        slot_obj = torch.empty(N, dtype=torch.long)
        slot_obj[perm] = torch.arange(N)  # slot perm[o] holds identity o
        masks = torch.full((len(ids), N, H // 4, W // 4), -10.)
        for i, t in enumerate(ids):
            for o, (y0, x0, y1, x1) in enumerate(self.boxes[t]):
                masks[i, perm[o], y0:y1, x0:x1] = 10.
        return dict(scores=self.scores[slot_obj], embed=self.embeds[slot_obj],
                    masks=masks)


def _metas(num_frames):
    return [dict(ori_shape=(H, W), img_shape=(H, W), batch_input_shape=(H, W),
                 frame_id=t) for t in range(num_frames)]


def _video(num_frames):
    return torch.arange(num_frames, dtype=torch.float).view(-1, 1, 1, 1) \
        .expand(num_frames, 3, H, W).contiguous()


def _run(model, num_frames, window, overlap):
    model.window_size, model.window_overlap = window, overlap
    model._window_forward = _Stub(num_frames)
    with torch.no_grad():
        return model.predict_video(_video(num_frames), _metas(num_frames))


@pytest.fixture(scope='module')
def stub_model():
    model = build_tiny(num_proposals=N).eval()
    model.num_candidates = 4
    model.tracker.test_cfg['max_per_video'] = 5
    return model


@pytest.mark.parametrize('window,overlap', [(4, 1), (3, 2), (5, 0), (2, 1)])
def test_windowed_equals_whole_with_stub(stub_model, window, overlap):
    num_frames = 11
    whole = _run(stub_model, num_frames, 0, 0)
    win = _run(stub_model, num_frames, window, overlap)
    assert len(whole) == len(win) == num_frames
    for a, b in zip(whole, win):
        assert a.labels.tolist() == b.labels.tolist()
        assert torch.allclose(a.scores, b.scores, atol=1e-6)
        assert a.instances_id.tolist() == b.instances_id.tolist()
        assert torch.equal(a.masks, b.masks)
    # independent check: the three objects come first with their classes and
    # their masks cover the painted boxes (x4 at image resolution)
    first = whole[0]
    assert first.labels[:3].tolist() == [4, 17, 30]
    assert np.allclose(first.scores[:3].numpy(), [0.9, 0.8, 0.7])
    boxes = _boxes(num_frames)
    for t, res in enumerate(win):
        for o in range(3):
            y0, x0, y1, x1 = boxes[t][o]
            gt = torch.zeros(H, W, dtype=torch.bool)
            gt[4 * y0:4 * y1, 4 * x0:4 * x1] = True
            m = res.masks[o]
            iou = (m & gt).sum().item() / (m | gt).sum().item()
            assert iou > 0.8, (t, o, iou)


def test_windowed_equals_whole_real_model_static_video():
    """The real (random-init) tiny model on a static video: every window
    sees the same frames, so windows must reproduce the whole-video
    result (same tracks, classes, scores and masks)."""
    torch.manual_seed(0)
    model = build_tiny(num_proposals=6).eval()
    frame = torch.randn(1, 3, 64, 96)
    num_frames = 7
    video = frame.expand(num_frames, -1, -1, -1).contiguous()
    metas = [dict(ori_shape=(60, 90), img_shape=(60, 90),
                  batch_input_shape=(64, 96), frame_id=t)
             for t in range(num_frames)]
    results = {}
    for window, overlap in [(0, 0), (3, 1), (4, 2)]:
        model.window_size, model.window_overlap = window, overlap
        with torch.no_grad():
            results[(window, overlap)] = model.predict_video(video, metas)
    whole = results[(0, 0)]
    assert len(whole[0]) == 10
    for key in [(3, 1), (4, 2)]:
        for a, b in zip(whole, results[key]):
            assert a.labels.tolist() == b.labels.tolist()
            assert a.track_ids.tolist() == b.track_ids.tolist()
            assert torch.allclose(a.scores, b.scores, atol=1e-5)
            assert a.masks.shape == (10, 60, 90)
            assert torch.equal(a.masks, b.masks)


def test_single_window_is_the_release_inference():
    """window >= video length: top-10 (kernel, class) pairs of the clip's
    last classifying stage, masks of the last stage rescaled and thresholded
    per frame, ids = rank (the release's KernelFrameIterHeadVideo), computed
    here through the model's raw ``_forward`` output."""
    import torch.nn.functional as F
    torch.manual_seed(3)
    model = build_tiny(num_proposals=6).eval()
    model.window_size = 9
    video = torch.randn(4, 3, 64, 96)
    meta = dict(ori_shape=(50, 80), img_shape=(60, 96),
                batch_input_shape=(64, 96))
    with torch.no_grad():
        got = model.predict_video(video, [dict(meta, frame_id=t)
                                          for t in range(4)])
        cls, masks = model._forward(video[None])
    scores, top = cls[0].sigmoid().flatten().topk(10)
    kernels, labels = top // 40, top % 40
    for t, res in enumerate(got):
        assert res.instances_id.tolist() == list(range(10))
        assert res.labels.tolist() == labels.tolist()
        assert torch.allclose(res.scores, scores)
        prob = F.interpolate(masks[0, t, kernels][None].sigmoid(), (64, 96),
                             mode='bilinear', align_corners=False)
        prob = F.interpolate(prob[..., :60, :96], (50, 80), mode='bilinear',
                             align_corners=False)[0]
        assert torch.equal(res.masks, prob > 0.5)
