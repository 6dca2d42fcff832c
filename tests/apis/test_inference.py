"""knet.apis: init_model + inference_vps on the tiny KITTI-STEP config."""
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip('mmdet')

from knet.apis import VPSFrameResult, inference_vps, init_model  # noqa: E402

CFG = Path(__file__).resolve().parents[1] / 'data' / 'video_knet_kitti_tiny.py'


@pytest.fixture(scope='module')
def model():
    torch.manual_seed(0)
    return init_model(CFG, device='cpu')


def _frames(n, h=64, w=128):
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for _ in range(n)]


def test_init_model_sets_dataset_meta_and_eval(model):
    assert not model.training
    meta = model.dataset_meta
    assert meta['label_ids'][:2] == (11, 13)  # things first: person, car
    assert len(meta['label_ids']) == 19


def test_inference_vps_yields_one_result_per_frame(model):
    results = inference_vps(model, iter(_frames(4)))
    assert not isinstance(results, list)  # a generator: bounded memory
    results = list(results)
    assert len(results) == 4
    valid = set(model.dataset_meta['label_ids'])
    for res in results:
        assert isinstance(res, VPSFrameResult)
        assert res.semantic.shape == (64, 128)
        assert res.track_ids.shape == (64, 128)
        assert set(np.unique(res.semantic)) <= valid
        assert res.track_ids.min() >= 0
        # labels and dataset ids agree through label_ids
        lut = np.asarray(model.dataset_meta['label_ids'])
        assert np.array_equal(lut[res.labels], res.semantic)
    assert model.tracker.memory_size() <= 20 * 2


def test_checkpoint_round_trip(model, tmp_path):
    ckpt = tmp_path / 'tiny.pth'
    meta = dict(model.dataset_meta)
    torch.save(dict(state_dict=model.state_dict(),
                    meta=dict(dataset_meta=meta)), ckpt)
    again = init_model(CFG, str(ckpt))
    frames = _frames(2)
    a = list(inference_vps(model, iter(frames)))
    b = list(inference_vps(again, iter(frames)))
    for x, y in zip(a, b):
        assert np.array_equal(x.semantic, y.semantic)
        assert np.array_equal(x.track_ids, y.track_ids)


def test_frames_that_need_padding(model):
    # 50 x 90 is padded to 64 x 96 inside; outputs come back at 50 x 90
    res = list(inference_vps(model, _frames(2, h=50, w=90)))
    assert [r.semantic.shape for r in res] == [(50, 90)] * 2
    assert [r.track_ids.shape for r in res] == [(50, 90)] * 2


def test_bad_frame_is_rejected(model):
    with pytest.raises(ValueError, match='uint8'):
        list(inference_vps(model, [np.zeros((8, 8), np.float32)]))


def test_test_pipeline_resize_is_applied():
    from mmengine.config import Config
    cfg = Config.fromfile(str(CFG))
    cfg.test_dataloader.dataset.pipeline[0].transforms.append(
        dict(type='Resize', scale_factor=0.5, keep_ratio=True))
    torch.manual_seed(0)
    small = init_model(cfg)
    seen = []
    small.backbone.register_forward_hook(
        lambda m, a, o: seen.append(tuple(a[0].shape[-2:])))
    res = list(inference_vps(small, _frames(1, h=64, w=128)))
    assert seen == [(32, 64)]  # the network ran at half size
    assert res[0].semantic.shape == (64, 128)  # results at the frame size


def test_inference_vis_with_a_clip_model():
    from mmengine.config import Config

    from tests.models.test_vis_helpers import ROOT, tiny_vis_model
    cfg = Config.fromfile(
        f'{ROOT}/configs/video_knet_vis/video_knet_vis_r50_1x_youtube-vis-'
        '2019.py')
    cfg.model = tiny_vis_model(num_proposals=8)
    torch.manual_seed(0)
    vis = init_model(cfg)
    frames = _frames(3, h=48, w=80)
    from knet.apis import inference_vis
    res = list(inference_vis(vis, iter(frames)))
    assert len(res) == 3
    k = res[0].masks.shape[0]
    for r in res:
        assert r.masks.shape == (k, 48, 80) and r.masks.dtype == bool
        assert r.labels.shape == r.scores.shape == r.instances_id.shape == (
            k, )
        # video-level instances: the same ids and classes in every frame
        assert np.array_equal(r.instances_id, res[0].instances_id)
        assert np.array_equal(r.labels, res[0].labels)
    assert list(inference_vis(vis, iter([]))) == []
