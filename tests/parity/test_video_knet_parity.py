"""The tiny KITTI-STEP Video K-Net against the original release's record.

The public record (shared/parity/README.md beside the repository) holds the original's
weights, a 3-frame clip with every intermediate output of its online
inference, and one training step. The model is built from
``tests/data/video_knet_kitti_tiny.py`` (which inherits the real KITTI-STEP
config), the weights are converted with the checkpoint converter, and:

* every recorded intermediate tensor matches within 1e-4 (absolute; pooled
  features, whose magnitude reaches ~500, also get 1e-6 relative), with the
  image parity tests' comparators,
* the panoptic segment map and segments, the embeddings, the tracker's
  inputs, association scores and outputs match,
* the final semantic (trainId) and track-id maps are IDENTICAL, through
  ``knet.apis.inference_vps`` and through ``model.test_step``,
* every loss term of the training step matches within 1e-4 relative (terms
  below 1e-6 within 1e-9 absolute), with identical Hungarian assignments.
"""
import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip('mmdet')

from mmengine.structures import InstanceData, PixelData  # noqa: E402

from mmdet.structures import DetDataSample, TrackDataSample  # noqa: E402
from mmdet.structures.mask import BitmapMasks  # noqa: E402

from knet.apis import inference_vps, init_model  # noqa: E402
# the image-model parity helpers (comparators, checksums)
from tests.models.parity.test_image_parity import _check_sum  # noqa: E402
from tests.models.parity.test_image_parity import \
    _close as image_close  # noqa: E402

from ._record import load_record  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
CFG = ROOT / 'tests' / 'data' / 'video_knet_kitti_tiny.py'
CONVERTER = ROOT / 'tools' / 'model_converters' / 'knet_to_mmdet3.py'
MEAN = torch.tensor([123.675, 116.28, 103.53]).view(3, 1, 1)
STD = torch.tensor([58.395, 57.12, 57.375]).view(3, 1, 1)
ATOL = 1e-4


def _converter():
    spec = importlib.util.spec_from_file_location('knet_to_mmdet3',
                                                  CONVERTER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def model(parity_case):
    rec = load_record()
    torch.manual_seed(0)
    model = init_model(CFG)
    state, unmapped = _converter().convert_state_dict(rec['state_dict'])
    assert unmapped == []
    model.load_state_dict(state, strict=True)
    model.eval()
    return model


def _close(got, want, name, atol=ATOL, rtol=0.0):
    """The image parity tests' comparator (records the max difference)."""
    assert got is not None, name
    image_close(name, got.reshape(want.shape), want, atol=atol, rtol=rtol)


class Recorder:
    """Forward hooks on the modules whose outputs the record holds."""

    def __init__(self, model):
        self.data = {}
        self.handles = []
        hook = self._hook
        self.handles.append(model.backbone.register_forward_hook(
            hook('backbone')))
        self.handles.append(model.neck[0].register_forward_hook(hook('fpn')))
        self.handles.append(model.neck[1].register_forward_hook(
            hook('semantic_fpn')))
        self.handles.append(model.rpn_head.register_forward_hook(
            hook('rpn')))
        for i, head in enumerate(model.roi_head.mask_head):
            self.handles.append(head.register_forward_hook(
                hook(f'stage{i}')))
            self.handles.append(head.kernel_update_conv.register_forward_hook(
                hook(f'updator{i}', with_inputs=True)))
        self.handles.append(model.track_head.register_forward_hook(
            hook('track_head', with_inputs=True)))
        self.tracker_calls = []
        tracker = model.tracker
        original = tracker.match

        def match(bboxes, labels, embeds, frame_id):
            res = original(bboxes, labels, embeds, frame_id)
            self.tracker_calls.append((bboxes.clone(), labels.clone(),
                                       frame_id, res))
            return res

        tracker.match = match
        self.panoptic, self.embed_inputs = [], []
        roi_head = model.roi_head
        predict_panoptic = roi_head.predict_panoptic
        embed_kernels = model.embed_kernels

        def panoptic(*args, **kwargs):
            out = predict_panoptic(*args, **kwargs)
            self.panoptic.append(out[0])
            return out

        def embed(kernels):
            self.embed_inputs.append(kernels.detach())
            return embed_kernels(kernels)

        roi_head.predict_panoptic = panoptic
        model.embed_kernels = embed

        def restore():
            tracker.match = original
            del roi_head.predict_panoptic
            del model.embed_kernels

        self._restore = restore

    def _hook(self, name, with_inputs=False):

        def fn(module, args, output):
            self.data[name] = (args, output) if with_inputs else output

        return fn

    def close(self):
        for h in self.handles:
            h.remove()
        self._restore()


def _frame_inputs(frame: np.ndarray, video_id: int, frame_id: int):
    """One test frame as the data preprocessor expects it (BGR uint8, as
    LoadImageFromFile gives; the preprocessor flips it back to RGB)."""
    bgr = torch.from_numpy(np.ascontiguousarray(frame[..., ::-1])).permute(
        2, 0, 1)
    h, w = frame.shape[:2]
    det = DetDataSample(metainfo=dict(
        img_shape=(h, w), ori_shape=(h, w), scale_factor=(1.0, 1.0),
        flip=False, flip_direction=None, video_id=video_id,
        frame_id=frame_id, video_length=3, img_path=None, seq_name='0'))
    ts = TrackDataSample()
    ts.video_data_samples = [det]
    ts.set_metainfo(dict(key_frames_inds=[0], ref_frames_inds=[]))
    return dict(inputs=[bgr[None]], data_samples=[ts])


def _check_segments(pano, segments_info, t):
    """Our segments vs the release's ``segments_info`` (things: category =
    label, score, instance_id = top-k rank; stuff: category = label - 1)."""
    assert len(segments_info) == pano.num_segments, t
    for k, seg in enumerate(segments_info):
        assert seg['id'] == k + 1
        assert seg['isthing'] == bool(pano.is_thing[k]), (t, k)
        label = int(pano.labels[k])
        if seg['isthing']:
            assert seg['category_id'] == label, (t, k)
            assert seg['instance_id'] == int(pano.cand_inds[k]), (t, k)
            assert seg['score'] == pytest.approx(float(pano.scores[k]),
                                                 abs=1e-5), (t, k)
        else:
            assert seg['category_id'] == label - 1, (t, k)
            assert seg['area'] == int(pano.areas[k]), (t, k)


def _check_tracker(calls, want, t):
    assert len(calls) == 1
    bboxes, labels, frame_id, res = calls[0]
    tin = want['tracker_in']
    assert torch.equal(bboxes[:, :4], tin['bboxes'][:, :4]), t
    _close(bboxes[:, 4], tin['bboxes'][:, 4], f'{t}.box_scores', atol=1e-5)
    assert labels.tolist() == tin['labels'].tolist()
    assert frame_id == tin['frame_id']
    tout = want['tracker_out']
    kept = res.order[res.keep[res.order]]
    assert torch.equal(bboxes[kept][:, :4], tout['bboxes'][:, :4])
    assert res.sorted_ids.tolist() == tout['ids'].tolist()
    if want.get('tracker_assoc') is not None:
        assoc = want['tracker_assoc']
        assert res.memo_ids.tolist() == assoc['memo_ids'].tolist()
        _close(res.assoc_scores, assoc['scores_sorted_dets_x_memo'],
               f'{t}.assoc', atol=1e-5)


def _to_train_ids(labels: np.ndarray, model) -> np.ndarray:
    return np.asarray(model.dataset_meta['label_ids'])[labels]


def test_inference_intermediates_and_maps(model):
    rec = load_record()
    rec_outputs = rec['outputs']
    model.reset_video_state()
    recorder = Recorder(model)
    try:
        for t, want in enumerate(rec_outputs):
            recorder.data.clear()
            recorder.tracker_calls.clear()
            data = _frame_inputs(rec['frames'][t].numpy(), 1000, t)
            pre = model.data_preprocessor(data, False)
            _close(pre['inputs'][0], want['input_img'], 'input_img', atol=0)
            with torch.no_grad():
                out = model.predict(pre['inputs'], pre['data_samples'])
            d = recorder.data
            # backbone / necks (checksums, P2 in full)
            for i, feat in enumerate(d['backbone']):
                _check_sum(f'{t}.backbone{i}', feat,
                           want['backbone_checksums'][i])
            assert [list(f.shape) for f in d['fpn']] == want['neck_shapes']
            for i, feat in enumerate(d['fpn']):
                _check_sum(f'{t}.fpn{i}', feat, want['neck_checksums'][i])
            _close(d['fpn'][0], want['neck_p2'], f'{t}.neck_p2')
            for i, feat in enumerate(d['semantic_fpn']):
                _check_sum(f'{t}.semantic_fpn{i}', feat,
                           want['semantic_fpn_checksums'][i])
            rpn = d['rpn']
            _close(rpn['x_feats'], want['x_feats'], f'{t}.x_feats')
            _close(rpn['proposal_feats'], want['rpn']['proposal_feats'],
                   f'{t}.rpn.proposal_feats', rtol=1e-6)
            _close(rpn['mask_preds'], want['rpn']['mask_preds'],
                   f'{t}.rpn.mask_preds')
            _close(rpn['seg_preds'], want['rpn']['seg_preds'],
                   f'{t}.rpn.seg_preds')
            # stages and kernel updators
            for i in range(3):
                got, exp = d[f'stage{i}'], want['stages'][i]
                for key in ('cls_score', 'mask_preds', 'object_feats'):
                    _close(got[key], exp[key], f'{t}.stage{i}.{key}')
                _close(got['masked_pool_feats'], exp['masked_pool_feats'],
                       f'{t}.stage{i}.masked_pool_feats', rtol=1e-6)
                if exp['object_feats_track'] is None:
                    assert got['object_feats_track'] is None
                else:
                    _close(got['object_feats_track'],
                           exp['object_feats_track'],
                           f'{t}.stage{i}.object_feats_track')
                (upd_feat, in_feat), upd_out = d[f'updator{i}']
                exp_u = want['kernel_updator'][i]
                _close(upd_feat, exp_u['update_feature'],
                       f'{t}.updator{i}.update_feature', rtol=1e-6)
                _close(in_feat, exp_u['input_feature'],
                       f'{t}.updator{i}.input_feature')
                _close(upd_out, exp_u['output'], f'{t}.updator{i}.output')
            _close(d['stage2']['cls_score'].sigmoid(),
                   want['final_cls_score_sigmoid'], f'{t}.final_scores')
            # panoptic merge: segment map and segments (the release's order)
            pano = recorder.panoptic[-1]
            assert np.array_equal(pano.seg_ids.numpy(),
                                  want['panoptic_seg'].numpy()), t
            _check_segments(pano, want['segments_info'], t)
            if want.get('track_feats') is None:  # no thing kept
                assert 'track_head' not in d and not recorder.tracker_calls
            else:
                # embeddings of the kept things (segment order)
                _close(recorder.embed_inputs[-1], want['thing_query_output'],
                       f'{t}.thing_query_output')
                (emb_in, ), emb_out = d['track_head']
                _close(emb_in, want['track_head_input'],
                       f'{t}.track_head_in')
                _close(emb_out, want['track_feats'], f'{t}.track_feats')
                _check_tracker(recorder.tracker_calls, want, t)
            # final maps
            pred = out[0][0].pred_panoptic_seg
            sem = _to_train_ids(pred.sem_seg[0].numpy(), model)
            assert np.array_equal(sem, want['semantic_map'].numpy()), t
            assert np.array_equal(pred.track_ids[0].numpy(),
                                  want['track_map'].numpy()), t
    finally:
        recorder.close()


def test_inference_vps_api_gives_identical_maps(model):
    rec = load_record()
    frames = [f.numpy() for f in rec['frames']]
    results = list(inference_vps(model, iter(frames)))
    assert len(results) == 3
    for t, (res, want) in enumerate(zip(results, rec['outputs'])):
        assert res.semantic.shape == (128, 256)
        assert np.array_equal(res.semantic, want['semantic_map'].numpy()), t
        assert np.array_equal(res.track_ids, want['track_map'].numpy()), t
    # a second call is a new sequence: the same ids again
    again = list(inference_vps(model, iter(frames[:1])))
    assert np.array_equal(again[0].track_ids,
                          rec['outputs'][0]['track_map'].numpy())


def test_test_step_resets_at_new_video(model):
    """Through model.test_step (the runner's path); frame 0 of a new video
    after the clip gives the first frame's maps again."""
    rec = load_record()
    model.reset_video_state()
    order = [(7, 0), (7, 1), (7, 2), (8, 0)]
    for video_id, t in order:
        out = model.test_step(
            _frame_inputs(rec['frames'][t].numpy(), video_id, t))
        pred = out[0][0].pred_panoptic_seg
        want = rec['outputs'][t]
        assert np.array_equal(
            _to_train_ids(pred.sem_seg[0].numpy(), model),
            want['semantic_map'].numpy())
        assert np.array_equal(pred.track_ids[0].numpy(),
                              want['track_map'].numpy())


# --------------------------------------------------------------- training
def _label_map(model) -> torch.Tensor:
    lut = torch.full((256, ), 255, dtype=torch.long)
    for label, dataset_id in enumerate(model.dataset_meta['label_ids']):
        lut[dataset_id] = label
    return lut


def _train_inputs(model):
    """forward_train_inputs of the record -> our packed training sample."""
    fi = load_record()['train_step']['forward_train_inputs']
    lut = _label_map(model)

    def to_uint8(img):
        return torch.round(img * STD + MEAN).clamp(0, 255).to(torch.uint8)

    key_img = to_uint8(fi['img'][0])
    ref_img = to_uint8(fi['ref_img'][0, 0])

    def det_sample(masks, labels, ids, bboxes, sem, frame_id):
        h, w = masks.shape[-2:]
        det = DetDataSample(metainfo=dict(
            img_shape=(h, w), ori_shape=(h, w), scale_factor=(1.0, 1.0),
            flip=False, flip_direction=None, video_id=0, frame_id=frame_id,
            video_length=6, img_path=None, seq_name='0'))
        det.gt_instances = InstanceData(
            labels=labels.long(),
            masks=BitmapMasks(masks.numpy().astype(np.uint8), h, w),
            instances_ids=ids.long(),
            bboxes=bboxes.float())
        det.gt_sem_seg = PixelData(sem_seg=lut[sem.long()][None])
        return det

    key = det_sample(fi['gt_masks'][0], fi['gt_labels'][0],
                     fi['gt_instance_ids'][0], fi['gt_bboxes'][0],
                     fi['gt_semantic_seg'][0, 0], 4)
    ref = det_sample(fi['ref_gt_masks'][0][0], fi['ref_gt_labels'][0][:, 1],
                     fi['ref_gt_instance_ids'][0][:, 1],
                     fi['ref_gt_bboxes'][0][:, 1:],
                     fi['ref_gt_semantic_seg'][0, 0, 0], 3)
    ts = TrackDataSample()
    ts.video_data_samples = [key, ref]
    ts.set_metainfo(dict(key_frames_inds=[0], ref_frames_inds=[1]))
    bgr = torch.stack([key_img, ref_img])[:, [2, 1, 0]]
    return dict(inputs=[bgr], data_samples=[ts])


def test_training_step_losses_and_assignments(model):
    rec = load_record()['train_step']
    model.train()
    calls = []
    original = model._frame_losses

    def frame_losses(*args, **kwargs):
        out = original(*args, **kwargs)
        calls.append(out)
        return out

    embeds = []
    handle = model.track_head.register_forward_hook(
        lambda m, a, o: embeds.append((a[0].detach(), o.detach())))
    model._frame_losses = frame_losses
    try:
        data = model.data_preprocessor(_train_inputs(model), True)
        fi = rec['forward_train_inputs']
        _close(data['inputs'][0, 0], fi['img'][0], 'key_img', atol=0)
        _close(data['inputs'][0, 1], fi['ref_img'][0, 0], 'ref_img', atol=0)
        model.zero_grad()
        losses = model.loss(data['inputs'], data['data_samples'])
        # the grad norm (before clipping) of the total loss
        total = sum(v for k, v in losses.items() if 'loss' in k)
        total.backward()
    finally:
        del model._frame_losses
        handle.remove()
        model.eval()

    assert list(losses.keys()) == rec['loss_keys_in_order']
    for key, want in rec['losses'].items():
        got = float(losses[key].detach())
        if abs(want) < 1e-6:
            assert got == pytest.approx(want, abs=1e-9), key
        else:
            assert got == pytest.approx(want, rel=1e-4), key
    assert total.item() == pytest.approx(
        rec['parse_losses']['total_loss'], rel=1e-5)
    # as clip_grad_norm_: the norm of the per-parameter norms
    norms = torch.stack([p.grad.detach().double().norm()
                         for p in model.parameters() if p.grad is not None])
    assert norms.norm().item() == pytest.approx(
        rec['grad']['total_norm_before_clip'], rel=1e-5)
    # link modules of stages 0/1 and frozen parameters get no gradient
    conv = _converter()
    params = dict(model.named_parameters())
    for key, want in rec['grad']['per_param_norm'].items():
        p = params[conv.convert_key(key)]
        if want is None:
            assert p.grad is None or not p.grad.any(), key
        else:
            assert p.grad.norm().item() == pytest.approx(
                want, rel=1e-4, abs=1e-9), key

    # assignments: [ref, key] frame calls
    ref_out, key_out = calls
    want = {a['call']: a['assigned_gt_inds'] for a in rec['assign']}
    for name, out in (('key', key_out), ('ref', ref_out)):
        assert out['assign']['rpn'][0].gt_inds.tolist() == \
            want[f'{name}_rpn'].tolist(), name
        for s in range(3):
            assert out['assign']['stages'][s][0].gt_inds.tolist() == \
                want[f'{name}_stage{s}'].tolist(), (name, s)
        assert out['assign']['track'][0].gt_inds.tolist() == \
            want[f'track_{name}'].tolist(), name

    # tracking embeddings of the positive kernels (key first, then ref)
    tr = rec['track']
    (key_in, key_out_emb), (ref_in, ref_out_emb) = embeds
    _close(key_in, tr['key_embed_in'], 'key_embed_in')
    _close(key_out_emb, tr['key_embed_out'], 'key_embed_out')
    _close(ref_in, tr['ref_embed_in'], 'ref_embed_in')
    _close(ref_out_emb, tr['ref_embed_out'], 'ref_embed_out')
    # the linked key kernels of the last stage
    _close(key_out['stages'][2]['object_feats_track'],
           rec['stages']['key'][2]['object_feats_track'],
           'key.stage2.object_feats_track')
    _close(ref_out['stages'][2]['object_feats'],
           rec['key_link_inputs']['previous_obj_feats'],
           'key_link_inputs.previous_obj_feats')


def test_trained_model_keeps_ids_over_five_frames(model):
    """The recorded (fitted) weights on generator frames 0-4 (frames 3 and 4
    are the training step's reference and key frames): the four moving
    objects keep their ids, and on frames 3 and 4 each ground-truth instance
    is covered by one id, the same in both frames."""
    rec = load_record()
    fi = rec['train_step']['forward_train_inputs']

    def to_rgb(img):
        return torch.round(img * STD + MEAN).clamp(0, 255).to(
            torch.uint8).permute(1, 2, 0).numpy()

    frames = [f.numpy() for f in rec['frames']]
    frames += [to_rgb(fi['ref_img'][0, 0]), to_rgb(fi['img'][0])]
    results = list(inference_vps(model, frames))
    first = rec['outputs'][0]['track_map'].numpy()
    assert set(np.unique(first)) - {0} == {1, 2, 3, 4}
    for res in results:
        assert set(np.unique(res.track_ids)) - {0} == {1, 2, 3, 4}
    gts = {3: (fi['ref_gt_masks'][0][0].numpy(),
               fi['ref_gt_instance_ids'][0][:, 1].long().tolist()),
           4: (fi['gt_masks'][0].numpy(), fi['gt_instance_ids'][0].tolist())}
    owner = {}
    for t, (masks, ids) in gts.items():
        for mask, inst in zip(masks.astype(bool), ids):
            track = results[t].track_ids[mask]
            values, counts = np.unique(track[track > 0], return_counts=True)
            best = int(values[counts.argmax()])
            assert counts.max() >= 0.8 * mask.sum(), (t, inst)
            assert owner.setdefault(inst, best) == best, (t, inst)
    assert len(set(owner.values())) == 4
