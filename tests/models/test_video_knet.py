"""VideoKNet: helpers, linking shapes, training losses and online state."""
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip('mmdet')

from mmengine.config import Config  # noqa: E402
from mmengine.structures import InstanceData, PixelData  # noqa: E402

from mmdet.registry import MODELS  # noqa: E402
from mmdet.structures import DetDataSample, TrackDataSample  # noqa: E402
from mmdet.structures.mask import BitmapMasks  # noqa: E402

from knet.models.detectors.video_knet_utils import (  # noqa: E402
    boxes_from_label_map, gt_match_indices, masks_to_boxes, paint_track_ids,
    segment_track_ids)
from knet.models.trackers.kernel_tracker import KernelTracker  # noqa: E402
from knet.utils.setup_env import register_all_modules  # noqa: E402

register_all_modules(init_default_scope=True)
CFG = Path(__file__).resolve().parents[1] / 'data' / 'video_knet_kitti_tiny.py'
H, W = 64, 128


# ------------------------------------------------------------ helpers
def test_masks_to_boxes_inclusive_and_empty():
    m = torch.zeros(3, 8, 10, dtype=torch.bool)
    m[0, 2:5, 3:7] = True  # rows 2..4, cols 3..6
    m[1, 7, 9] = True
    boxes = masks_to_boxes(m)
    assert boxes.tolist() == [[3, 2, 6, 4], [9, 7, 9, 7], [-1, -1, 10, 10]]


def test_boxes_from_label_map_equal_mask_boxes():
    gen = torch.Generator().manual_seed(4)
    for n in (0, 1, 4, 7):
        lab = torch.randint(0, n + 1, (3, 5), generator=gen)
        lab = lab.repeat_interleave(7, 0).repeat_interleave(9, 1)
        lab[torch.rand(lab.shape, generator=gen) < 0.3] = 0
        masks = lab[None] == torch.arange(1, n + 1).view(-1, 1, 1)
        assert torch.equal(boxes_from_label_map(lab, n), masks_to_boxes(masks))
    # an object with no pixel gets the release's placeholder box
    lab = torch.zeros(6, 8, dtype=torch.long)
    lab[2:4, 3:6] = 2
    assert boxes_from_label_map(lab, 2).tolist() == [[-1, -1, 10, 10],
                                                     [3, 2, 5, 3]]


def test_gt_match_indices():
    got = gt_match_indices(torch.tensor([110001, 130002, 130005]),
                           torch.tensor([130002, 110001]))
    assert got.tolist() == [1, 0, -1]
    assert gt_match_indices(torch.tensor([5]),
                            torch.zeros(0, dtype=torch.long)).tolist() == [-1]


def test_paint_track_ids():
    seg = torch.tensor([[0, 1, 2], [3, 3, 2]])
    out = paint_track_ids(seg, torch.tensor([2, 3]), torch.tensor([7, 0]))
    assert out.tolist() == [[0, 0, 7], [0, 0, 7]]


def test_track_id_writeback_fix_vs_release():
    """Segments (score order 0.9, 0.8, 0.7); the second is a duplicate box
    of the first and is dropped by the tracker. 'index' leaves it without
    id; the release ('position') shifts the third segment's id onto it."""
    tr = KernelTracker()
    boxes = torch.tensor([[0., 0, 10, 10, 0.9], [1., 0, 11, 10, 0.8],
                          [50., 0, 60, 10, 0.7]])
    emb = torch.eye(3) * 10
    res = tr.match(boxes, torch.tensor([0, 0, 0]), emb, 0)
    assert res.keep.tolist() == [True, False, True]
    assert segment_track_ids(res.ids, res.sorted_ids,
                             'index').tolist() == [1, 0, 2]
    assert segment_track_ids(res.ids, res.sorted_ids,
                             'position').tolist() == [1, 2, 0]


# ---------------------------------------------------------- the model
@pytest.fixture(scope='module')
def model():
    cfg = Config.fromfile(str(CFG))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model


def _frame(frame_id, video_id, with_gt=True, shift=0):
    """A synthetic frame: two things (a car box moving right, a person box)
    on road/sky stuff, in model labels (0 person, 1 car, 2.. stuff)."""
    g = torch.Generator().manual_seed(frame_id)
    img = torch.randint(0, 255, (3, H, W), generator=g, dtype=torch.uint8)
    det = DetDataSample(metainfo=dict(
        img_shape=(H, W), ori_shape=(H, W), scale_factor=(1., 1.),
        flip=False, flip_direction=None, video_id=video_id,
        frame_id=frame_id, video_length=4, img_path=None, seq_name='x'))
    if with_gt:
        masks = np.zeros((2, H, W), np.uint8)
        masks[0, 20:40, 10 + shift:40 + shift] = 1
        masks[1, 10:50, 80:90] = 1
        sem = torch.full((H, W), 2, dtype=torch.long)
        sem[:20] = 12
        sem[torch.from_numpy(masks[0]).bool()] = 1
        sem[torch.from_numpy(masks[1]).bool()] = 0
        det.gt_instances = InstanceData(
            labels=torch.tensor([1, 0]),
            masks=BitmapMasks(masks, H, W),
            instances_ids=torch.tensor([13001, 11001]),
            bboxes=torch.tensor([[10. + shift, 20, 40 + shift, 40],
                                 [80., 10, 90, 50]]))
        det.gt_sem_seg = PixelData(sem_seg=sem[None])
    return img, det


def _pair():
    key_img, key = _frame(1, 0, shift=3)
    ref_img, ref = _frame(0, 0)
    ts = TrackDataSample()
    ts.video_data_samples = [key, ref]
    ts.set_metainfo(dict(key_frames_inds=[0], ref_frames_inds=[1]))
    return dict(inputs=[torch.stack([key_img, ref_img])], data_samples=[ts])


def test_linking_shapes(model):
    model.eval()
    b, n, c = 1, 20 + 17, 64
    x = torch.randn(b, c, 8, 16)
    feats = torch.randn(b, n, c, 1, 1)
    masks = torch.randn(b, n, 8, 16)
    with torch.no_grad():
        unlinked = model.roi_head(x, feats, masks)
        linked = model.roi_head(x, feats, masks,
                                previous_obj_feats=torch.randn(b, n, c, 1, 1))
    assert all(s['object_feats_track'] is None for s in unlinked)
    assert [s['object_feats_track'] is None for s in linked] == \
        [True, True, False]
    assert linked[-1]['object_feats_track'].shape == (b, n, c, 1, 1)
    # the link feeds only the embedding: classes and masks are unchanged
    torch.testing.assert_close(linked[-1]['cls_score'],
                               unlinked[-1]['cls_score'])
    torch.testing.assert_close(linked[-1]['mask_preds'],
                               unlinked[-1]['mask_preds'])
    emb = model.embed_kernels(linked[-1]['object_feats_track'][0, :20])
    assert emb.shape == (20, c)
    assert model.track_head(emb).shape == (20, c)


def test_training_losses_and_link_gradients(model):
    model.train()
    data = model.data_preprocessor(_pair(), True)
    losses = model.loss(data['inputs'], data['data_samples'])
    for key in ('s2_loss_cls', 's2_loss_cls_ref', 'loss_rpn_seg',
                'loss_rpn_seg_ref_rpn', 'loss_track', 'loss_track_aux'):
        assert key in losses and torch.isfinite(losses[key]), key
    total = sum(v for k, v in losses.items() if 'loss' in k)
    model.zero_grad()
    total.backward()
    last = model.roi_head.mask_head[2]
    assert last.attention_previous.attn.in_proj_weight.grad is not None
    assert model.track_head.fc_embed.weight.grad is not None
    assert model.embed_fcs[0].weight.grad is not None
    # only the last stage links: the others' link modules get no gradient
    assert model.roi_head.mask_head[0].attention_previous.attn \
        .in_proj_weight.grad is None
    model.eval()


def test_batch_of_two_pairs(model):
    """The release fails with two samples per GPU; here the association
    loss is the mean over the samples (two equal samples: the same value as
    one)."""
    model.train()
    one = model.data_preprocessor(_pair(), True)
    two = _pair()
    other = _pair()
    two['inputs'] += other['inputs']
    two['data_samples'] += other['data_samples']
    two = model.data_preprocessor(two, True)
    with torch.no_grad():
        l1 = model.loss(one['inputs'], one['data_samples'])
        l2 = model.loss(two['inputs'], two['data_samples'])
    model.eval()
    for key in ('loss_track', 'loss_track_aux', 's2_loss_dice',
                'loss_rpn_seg_ref_rpn'):
        assert l2[key].item() == pytest.approx(l1[key].item(), rel=1e-4), key


def test_pair_without_things(model):
    """Only stuff in both frames: no positive kernel, zero association
    losses that still keep the graph."""
    data = _pair()
    for det in data['data_samples'][0].video_data_samples:
        det.gt_instances = InstanceData(
            labels=torch.zeros(0, dtype=torch.long),
            masks=BitmapMasks(np.zeros((0, H, W), np.uint8), H, W),
            instances_ids=torch.zeros(0, dtype=torch.long),
            bboxes=torch.zeros(0, 4))
        det.gt_sem_seg.sem_seg[det.gt_sem_seg.sem_seg < 2] = 2
    model.train()
    data = model.data_preprocessor(data, True)
    losses = model.loss(data['inputs'], data['data_samples'])
    model.eval()
    assert losses['loss_track'].item() == 0
    assert losses['loss_track_aux'].item() == 0
    assert losses['loss_track'].requires_grad
    assert all(torch.isfinite(v).all() for v in losses.values())


def test_online_state_resets_at_new_video(model):
    model.eval()
    model.reset_video_state()
    seen = []
    with torch.no_grad():
        for video_id, frame_id in [(3, 0), (3, 1), (3, 2), (4, 0), (4, 1)]:
            img, det = _frame(frame_id, video_id, with_gt=False)
            ts = TrackDataSample()
            ts.video_data_samples = [det]
            out = model.test_step(dict(inputs=[img[None]],
                                       data_samples=[ts]))
            pred = out[0][0].pred_panoptic_seg
            assert pred.sem_seg.shape == (1, H, W)
            assert pred.track_ids.shape == (1, H, W)
            assert pred.sem_seg.dtype == torch.long
            assert int(pred.sem_seg.min()) >= 0 and \
                int(pred.sem_seg.max()) < 19
            seen.append((model._video_id, model._frame_index,
                         model._prev_obj_feats is not None))
    assert [s[1] for s in seen] == [1, 2, 3, 1, 2]
    assert [s[0] for s in seen] == [3, 3, 3, 4, 4]
    assert model.tracker.memory_size() <= 2 * 20


def test_semantic_filter_alignment_with_padding(model):
    """Padded input (24 -> 32 rows): the semantic logits of the padding must
    not land on the image. The release (align=False) stretched the padded
    map over the image."""
    seg = torch.zeros(19, 4, 8)
    seg[2] = 5.0  # stuff everywhere ...
    seg[0, 3] = 10.0  # ... except the last row, which is padding only
    meta = dict(img_shape=(24, 64), ori_shape=(24, 64),
                batch_input_shape=(32, 64))
    original = model.semantic_filter_align
    try:
        model.semantic_filter_align = True
        aligned = model._semantic_thing_mask(seg, meta)
        model.semantic_filter_align = False
        release = model._semantic_thing_mask(seg, meta)
    finally:
        model.semantic_filter_align = original
    assert aligned.shape == release.shape == (24, 64)
    assert not aligned.any()
    assert release[-1].all()


def test_kernel_fusion_option_trains_and_predicts():
    """KF (Swin configs): previous_link='update_dynamic_cov' in the stages;
    the fusion modules of the last stage learn, inference links online."""
    cfg = Config.fromfile(str(CFG))
    cfg.model.roi_head.mask_head.previous_link = 'update_dynamic_cov'
    torch.manual_seed(0)
    kf = MODELS.build(cfg.model)
    kf.init_weights()
    kf.train()
    data = kf.data_preprocessor(_pair(), True)
    losses = kf.loss(data['inputs'], data['data_samples'])
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    last = kf.roi_head.mask_head[2]
    assert last.attention_previous_link.attn.in_proj_weight.grad is not None
    assert last.attention_previous_update_link.dynamic_layer.weight.grad \
        is not None
    kf.eval()
    with torch.no_grad():
        for t in range(2):
            img, det = _frame(t, 0, with_gt=False)
            ts = TrackDataSample()
            ts.video_data_samples = [det]
            out = kf.test_step(dict(inputs=[img[None]], data_samples=[ts]))
            assert out[0][0].pred_panoptic_seg.sem_seg.shape == (1, H, W)


def test_unclaimed_pixels_join_their_segments_track(model, monkeypatch):
    """uncovered='best_kept': a pixel no segment claims takes the class of
    the best kept segment there (``fill_ids``); when that is a thing, the
    pixel carries its instance mask and track id too, never a thing class
    with track id 0. Without fill ids (the release's 'fixed') it stays 0."""
    from knet.models.postprocessing import PanopticOutput
    model.eval()
    model.reset_video_state()
    img, det = _frame(0, 9, with_gt=False)
    seg_ids = torch.zeros(H, W, dtype=torch.long)
    seg_ids[20:40, 10:40] = 1  # the car segment
    seg_ids[:20] = 2  # sky
    fill_ids = torch.zeros(H, W, dtype=torch.long)
    fill_ids[20:40, 40:44] = 1  # unclaimed, took the car's class
    fill_ids[40:] = 2
    sem = torch.full((H, W), 2, dtype=torch.long)
    sem[:20] = 12
    sem[20:40, 10:44] = 1

    def panoptic(fill):
        return PanopticOutput(
            seg_ids=seg_ids, sem_seg=sem, labels=torch.tensor([1, 12]),
            scores=torch.tensor([0.9, 0.8]),
            is_thing=torch.tensor([True, False]),
            cand_inds=torch.tensor([0, 1]), areas=torch.tensor([600, 2560]),
            kernel_inds=torch.tensor([0, 25]), fill_ids=fill)

    monkeypatch.setattr(model, 'semantic_filter', False)
    maps = {}
    for name, fill in (('best_kept', fill_ids), ('fixed', None)):
        model.reset_video_state()
        monkeypatch.setattr(model.roi_head, 'predict_panoptic',
                            lambda last, metas: [panoptic(fill)])
        with torch.no_grad():
            last = model.forward_frame(img.float()[None] / 255)
        model._postprocess_frame(last, det)
        maps[name] = (det.pred_panoptic_seg.track_ids[0],
                      det.pred_instances.masks[0])
    track, mask = maps['best_kept']
    car = int(track[30, 20])
    assert car > 0
    assert (track[20:40, 10:44] == car).all()
    assert (track[sem != 1] == 0).all()
    assert mask[20:40, 10:44].all() and int(mask.sum()) == 20 * 34
    track, mask = maps['fixed']
    assert (track[20:40, 10:40] == car).all()
    assert (track[20:40, 40:44] == 0).all() and int(mask.sum()) == 20 * 30
