"""Tracker and association losses against the original release's record."""
import pytest
import torch

pytest.importorskip('mmdet')

from knet.models.heads.track_head import KernelTrackHead  # noqa: E402
from knet.models.trackers.kernel_tracker import KernelTracker  # noqa: E402
from knet.utils.setup_env import register_all_modules  # noqa: E402

from ._record import load_record  # noqa: E402

register_all_modules(init_default_scope=False)

RELEASE_TRACKER = dict(
    init_score_thr=0.35, obj_score_thr=0.3, match_score_thr=0.5,
    memo_tracklet_frames=5, memo_backdrop_frames=1, memo_momentum=0.8,
    nms_conf_thr=0.5, nms_backdrop_iou_thr=0.3, nms_class_iou_thr=0.7,
    with_cats=True, match_metric='bisoftmax')


def test_tracker_replays_recorded_frames():
    rec = load_record()
    tracker = KernelTracker(**RELEASE_TRACKER)
    for t, out in enumerate(rec['outputs']):
        tin = out['tracker_in']
        res = tracker.match(tin['bboxes'], tin['labels'], out['track_feats'],
                            tin['frame_id'])
        # the release returns score-sorted kept detections
        kept_sorted = res.order[res.keep[res.order]]
        tout = out['tracker_out']
        assert torch.equal(tin['bboxes'][kept_sorted], tout['bboxes'])
        assert torch.equal(tin['labels'][kept_sorted], tout['labels'])
        assert res.sorted_ids.tolist() == tout['ids'].tolist()
        if 'tracker_assoc' in out:
            assoc = out['tracker_assoc']
            assert res.memo_ids.tolist() == assoc['memo_ids'].tolist()
            assert kept_sorted.tolist() == assoc['det_order'].tolist()
            torch.testing.assert_close(
                res.assoc_scores, assoc['scores_sorted_dets_x_memo'],
                atol=1e-5, rtol=0)
        else:
            assert res.assoc_scores is None
        # ids in input (segment) order: here nothing is dropped, so the
        # release's write-back by position gives the same maps
        assert res.ids[res.order].tolist() == tout['ids'].tolist()


def test_track_loss_fixture():
    rec = load_record()
    fx = rec['train_step']['track_loss_fixture']
    tr = rec['train_step']['track']
    head = KernelTrackHead(in_channels=64, fc_out_channels=64,
                           embed_channels=64)
    dist, cos = head.similarities(fx['key_embeds'], fx['ref_embeds'])
    torch.testing.assert_close(dist, fx['dot_product'][0], atol=1e-4,
                               rtol=1e-5)
    torch.testing.assert_close(cos, fx['cosine'][0], atol=1e-5, rtol=1e-5)
    losses = head.loss([fx['key_embeds']], [fx['ref_embeds']], tr['targets'],
                       tr['weights'])
    for k, v in fx['losses'].items():
        assert losses[k].item() == pytest.approx(v, rel=1e-5), k


def test_track_targets_of_training_step():
    tr = load_record()['train_step']['track']
    tgt, w = KernelTrackHead.get_track_targets(
        tr['gt_match_indices'], tr['key_pos_assigned_gt_inds'],
        tr['ref_pos_assigned_gt_inds'])
    assert torch.equal(tgt[0], tr['targets'][0])
    assert torch.equal(w[0], tr['weights'][0])
