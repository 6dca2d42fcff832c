"""VideoDataPreprocessor: a batch of two differently sized key/reference
pairs gets its semantic ground truth padded with 255 like the images, and
Video K-Net trains on it."""
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip('mmdet')

from mmengine.config import Config  # noqa: E402
from mmengine.structures import InstanceData, PixelData  # noqa: E402

from mmdet.models.data_preprocessors import TrackDataPreprocessor  # noqa
from mmdet.registry import MODELS  # noqa: E402
from mmdet.structures import DetDataSample, TrackDataSample  # noqa: E402
from mmdet.structures.mask import BitmapMasks  # noqa: E402

from knet.models.detectors.video_data_preprocessor import \
    VideoDataPreprocessor  # noqa: E402
from knet.utils.setup_env import register_all_modules  # noqa: E402

register_all_modules(init_default_scope=True)
CFG = Path(__file__).resolve().parents[1] / 'data' / 'video_knet_kitti_tiny.py'
PRE = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
           bgr_to_rgb=True, pad_size_divisor=32, pad_mask=True)


def _frame(h, w, frame_id, shift):
    """One frame: a car (label 1) moving right on road (2) under sky (12),
    model labels, plus a void strip (255) in the last row."""
    g = torch.Generator().manual_seed(frame_id * 100 + h)
    img = torch.randint(0, 255, (3, h, w), generator=g, dtype=torch.uint8)
    mask = np.zeros((1, h, w), np.uint8)
    mask[0, h // 3:2 * h // 3, 8 + shift:40 + shift] = 1
    sem = torch.full((h, w), 2, dtype=torch.long)
    sem[:h // 4] = 12
    sem[torch.from_numpy(mask[0]).bool()] = 1
    sem[-1] = 255
    det = DetDataSample(metainfo=dict(
        img_shape=(h, w), ori_shape=(h, w), scale_factor=(1., 1.),
        flip=False, flip_direction=None, video_id=0, frame_id=frame_id,
        video_length=2, img_path=None, seq_name='000000'))
    det.gt_instances = InstanceData(
        labels=torch.tensor([1]), masks=BitmapMasks(mask, h, w),
        instances_ids=torch.tensor([13001]),
        bboxes=torch.tensor([[8. + shift, h // 3, 40 + shift, 2 * h // 3]]))
    det.gt_sem_seg = PixelData(sem_seg=sem[None])
    return img, det


def _pair(h, w):
    key_img, key = _frame(h, w, 1, 4)
    ref_img, ref = _frame(h, w, 0, 0)
    ts = TrackDataSample()
    ts.video_data_samples = [key, ref]
    ts.set_metainfo(dict(key_frames_inds=[0], ref_frames_inds=[1]))
    return torch.stack([key_img, ref_img]), ts


def _batch():
    """A 64 x 128 pair and a 40 x 96 pair (padded to 64 x 128)."""
    big, small = _pair(64, 128), _pair(40, 96)
    return dict(inputs=[big[0], small[0]], data_samples=[big[1], small[1]])


def _sem(batch, i, t):
    return batch['data_samples'][i][t].gt_sem_seg.sem_seg


def test_mmdet_track_preprocessor_leaves_sem_seg_unpadded():
    """The gap this preprocessor closes (mmdet 3.3)."""
    out = TrackDataPreprocessor(**PRE)(_batch(), True)
    assert out['inputs'].shape == (2, 2, 3, 64, 128)
    assert _sem(out, 1, 0).shape == (1, 40, 96)
    # instance masks are padded
    assert out['data_samples'][1][0].gt_instances.masks.masks.shape == \
        (1, 64, 128)


def test_sem_seg_padded_with_255_in_training():
    raw = _batch()
    before = [[_sem(raw, i, t).clone() for t in range(2)] for i in range(2)]
    out = VideoDataPreprocessor(**PRE)(raw, True)
    assert out['inputs'].shape == (2, 2, 3, 64, 128)
    for i, (h, w) in enumerate([(64, 128), (40, 96)]):
        for t in range(2):
            sem = _sem(out, i, t)
            assert sem.shape == (1, 64, 128) and sem.dtype == torch.long
            assert torch.equal(sem[:, :h, :w], before[i][t])
            # the padded band: rows >= 40 and columns >= 96 of the small one
            pad = torch.ones(64, 128, dtype=torch.bool)
            pad[:h, :w] = False
            assert int(pad.sum()) == 64 * 128 - h * w
            assert (sem[0][pad] == 255).all()
            det = out['data_samples'][i][t]
            assert tuple(det.batch_input_shape) == (64, 128)
            assert tuple(det.img_shape) == (h, w)  # unchanged
            masks = det.gt_instances.masks.masks
            assert masks.shape == (1, 64, 128) and masks[:, h:].sum() == 0
    # 40 x 96 frame: 64*128 - 40*96 = 4352 padded pixels, plus its own
    # void row of 96 pixels
    assert int((_sem(out, 1, 0) == 255).sum()) == 4352 + 96


def test_not_padded_at_test_time():
    out = VideoDataPreprocessor(**PRE)(_batch(), False)
    assert _sem(out, 1, 0).shape == (1, 40, 96)


def test_video_knet_config_uses_it_and_trains_on_the_batch():
    cfg = Config.fromfile(str(CFG))
    assert cfg.model.data_preprocessor.type == 'VideoDataPreprocessor'
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    assert isinstance(model.data_preprocessor, VideoDataPreprocessor)
    model.train()
    data = model.data_preprocessor(_batch(), True)
    losses = model.loss(data['inputs'], data['data_samples'])
    assert all(torch.isfinite(v).all() for v in losses.values())
    for key in ('loss_rpn_seg', 'loss_rpn_seg_ref_rpn', 's2_loss_dice',
                'loss_track'):
        assert key in losses
    total = sum(v for k, v in losses.items() if 'loss' in k)
    total.backward()
    assert model.backbone.layer4[0].conv1.weight.grad is not None
    # the kernel targets see the padded band as ignore: the small pair's
    # stuff masks are empty there and it holds no thing mask
    from knet.models.layers.kernel_targets import prepare_kernel_targets
    key_frames = [s[0] for s in data['data_samples']]
    targets = prepare_kernel_targets(key_frames, (64, 128), 2, 2, 255)
    small = targets[1]
    assert small.stuff.masks.shape[-2:] == (32, 64)
    assert small.stuff.masks[:, 20:, :].sum() == 0  # rows >= 40 at stride 2
    assert small.stuff.masks[:, :, 48:].sum() == 0  # cols >= 96
    assert sorted(small.stuff.labels.tolist()) == [2, 12]
    model.eval()
