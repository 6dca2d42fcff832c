"""ONNX export + ONNX Runtime backend of Video K-Net (VPS).

* the parity case (tiny KITTI-STEP model with the original release's
  weights, its recorded clip): every network output within 1e-4 (absolute)
  of PyTorch, and the semantic / track-id maps of every frame identical to
  PyTorch's and to the record, through ``knet.apis.inference_vps``;
* a random-weights R50 KITTI-STEP model at 192x640 on synthetic frames:
  every network output within 1e-4 (absolute) of PyTorch, identical maps
  and track ids. The margin is small: mask logits reach ~25, and float32
  rounding through the 50 layers leaves up to 9.7e-5 there (measured on
  1 thread, at every ORT graph-optimisation level alike);
* one dynamic-shape export serves two frame sizes with PyTorch's results;
* the export tool's report, and its one-line errors.
"""
import numpy as np
import pytest
import torch

from .conftest import R50_CFG, load_script, torch_threads, EXPORT_TOOL

from knet.apis import inference_vps, init_model  # noqa: E402
from knet.deployment import OrtNetwork, OrtVideoKNet, build_graph  # noqa
from knet.deployment.export import compare_outputs  # noqa: E402


def _network_inputs(model, frame: np.ndarray) -> torch.Tensor:
    """One RGB frame through the model's data preprocessor (as
    ``inference_vps`` feeds it): [1, 3, H, W] normalised, padded."""
    from knet.apis.inference import _prepare_frame, _test_resizes
    pre = model.data_preprocessor
    img, det = _prepare_frame(frame, _test_resizes(model.cfg),
                              bool(getattr(pre, '_channel_conversion',
                                           False)), 0, 0, 1)
    from knet.apis.inference import _track_sample
    data = pre(dict(inputs=[img[None]], data_samples=[_track_sample([det])]),
               False)
    return data['inputs'][:, 0]


def _compare_network(model, onnx_file, frames, atol, rtol):
    """Run the frame graph in PyTorch and ORT on ``frames`` (the previous
    kernels of each frame: PyTorch's of the frame before) and compare every
    output; returns the comparisons and the smallest |logit| the update
    stages thresholded (hard masks) per frame."""
    from knet.deployment.export import _threshold_margins
    graph = build_graph(model)
    net = OrtNetwork(str(onnx_file), threads=1)
    prev, results = None, []
    for frame in frames:
        inputs = graph.example_inputs(_network_inputs(model, frame), prev)
        margins = []
        with torch.no_grad(), _threshold_margins(model, margins):
            want = graph(*inputs)
        got = net.run(dict(zip(graph.input_names, inputs)))
        results.append((compare_outputs(graph.output_names, want,
                                        [got[n] for n in graph.output_names],
                                        atol, rtol, graph.kernel_axes),
                        min(margins)))
        prev = want[graph.output_names.index('object_feats')]
    return results


def _assert_same_maps(pt_model, ort_model, frames):
    a = list(inference_vps(pt_model, iter(frames)))
    b = list(inference_vps(ort_model, iter(frames)))
    assert len(a) == len(b) == len(frames)
    for t, (x, y) in enumerate(zip(a, b)):
        assert np.array_equal(x.semantic, y.semantic), t
        assert np.array_equal(x.track_ids, y.track_ids), t
    return b


# ----------------------------------------------------------------- tool
def test_export_tool_report_and_metadata(tiny_export):
    out = tiny_export['stdout']
    # the tool names its file absolutely (run_cli adds a 'wrote' line)
    assert f'exported {tiny_export["onnx"]}: ' in out
    for name in ('img', 'prev_kernels', 'prev_valid', 'cls_score',
                 'mask_preds', 'scaled_mask_preds', 'seg_preds',
                 'object_feats', 'track_embeds'):
        assert f'  {name}: [' in out, name
    # checked at the traced size and at a second one (dynamic shape)
    assert 'checked against PyTorch at 128x256, 160x288' in out
    import onnx
    model = onnx.load(str(tiny_export['onnx']), load_external_data=False)
    meta = {p.key: p.value for p in model.metadata_props}
    assert meta['knet.graph'] == 'video-knet-frame'
    assert meta['knet.model_type'] == 'VideoKNet'
    assert meta['knet.dynamic_shape'] == '1'
    # H and W are free in the graph, the kernels' shape is not
    img = model.graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_param != '' for d in img] == [False, False, True, True]


def test_init_model_dispatches_on_onnx(tiny_export):
    model = init_model(tiny_export['config'], str(tiny_export['onnx']))
    assert isinstance(model, OrtVideoKNet)
    # the network's PyTorch modules are gone: no parameters held
    assert sum(p.numel() for p in model.parameters()) == 0
    assert model.backbone is None and len(model.roi_head.mask_head) == 0
    assert model.dataset_meta['label_ids'][:2] == [11, 13]
    explicit = init_model(tiny_export['config'], str(tiny_export['onnx']),
                          backend='onnxruntime')
    assert isinstance(explicit, OrtVideoKNet)


# --------------------------------------------------------------- parity
def test_parity_case_through_onnx_runtime(tiny_export):
    rec = tiny_export['record']
    if rec is None:
        pytest.skip('no parity case (shared/parity/tiny_kitti_public.pt)')
    frames = [f.numpy() for f in rec['frames']]
    with torch_threads(1):
        pt = init_model(tiny_export['config'], str(tiny_export['checkpoint']))
        for t, (cmp, margin) in enumerate(
                _compare_network(pt, tiny_export['onnx'], frames, 1e-4, 0)):
            assert cmp.ok, (t, cmp.max_abs_diff, margin)
        ort = init_model(tiny_export['config'], str(tiny_export['onnx']))
        results = _assert_same_maps(pt, ort, frames)
    for t, (res, want) in enumerate(zip(results, rec['outputs'])):
        assert np.array_equal(res.semantic, want['semantic_map'].numpy()), t
        assert np.array_equal(res.track_ids, want['track_map'].numpy()), t


def test_test_step_drives_both_backends_alike(tiny_export):
    """The runner's path (``test_step`` with video ids) on the ORT model:
    the online state resets at a new video exactly as PyTorch's."""
    from tests.parity.test_video_knet_parity import _frame_inputs
    rng = np.random.default_rng(3)
    frames = [rng.integers(0, 256, (128, 256, 3), dtype=np.uint8)
              for _ in range(3)]
    pt = init_model(tiny_export['config'], str(tiny_export['checkpoint']))
    ort = init_model(tiny_export['config'], str(tiny_export['onnx']))
    order = [(7, 0), (7, 1), (7, 2), (8, 0)]
    with torch_threads(1):
        for video_id, t in order:
            a = pt.test_step(_frame_inputs(frames[t], video_id, t))
            b = ort.test_step(_frame_inputs(frames[t], video_id, t))
            pa, pb = a[0][0].pred_panoptic_seg, b[0][0].pred_panoptic_seg
            assert torch.equal(pa.sem_seg, pb.sem_seg), (video_id, t)
            assert torch.equal(pa.track_ids, pb.track_ids), (video_id, t)


def test_dynamic_shape_serves_two_frame_sizes(tiny_export):
    """One export (traced at 128x256) on frames of 128x256 and 96x320 (and
    an odd size, padded to 32): PyTorch's maps on every frame."""
    pt = init_model(tiny_export['config'], str(tiny_export['checkpoint']))
    ort = init_model(tiny_export['config'], str(tiny_export['onnx']))
    rng = np.random.default_rng(0)
    with torch_threads(1):
        for h, w in ((128, 256), (96, 320), (100, 150)):
            frames = [rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
                      for _ in range(2)]
            for cmp, margin in _compare_network(pt, tiny_export['onnx'],
                                                frames, 1e-4, 1e-5):
                assert cmp.ok, ((h, w), cmp.max_abs_diff, margin)
            results = _assert_same_maps(pt, ort, frames)
            assert results[0].semantic.shape == (h, w)


# ------------------------------------------------------------------ R50
def _synthetic_kitti_frames(num: int, size, seed: int = 0):
    from knet.datasets.synthetic.scene import paint_video
    video = paint_video(np.random.default_rng(seed), num, size,
                        stuff_ids=list(range(2, 19)), thing_ids=[0, 1],
                        instance_ids=[1, 2, 3, 4])
    return list(video.images)


def test_r50_random_weights_192x640(r50_export):
    report = r50_export['report']
    assert report.checked_shapes == [(192, 640)]
    model = r50_export['model']
    frames = _synthetic_kitti_frames(3, (192, 640))
    with torch_threads(1):
        for t, (cmp, margin) in enumerate(_compare_network(
                model, r50_export['onnx'], frames, 1e-4, 0)):
            # a failure with a tiny margin is a hard-mask decision on a
            # logit within rounding of 0 (see README, ONNX section)
            assert cmp.ok, (t, cmp.max_abs_diff, cmp.scale, margin)
        ort = init_model(R50_CFG, str(r50_export['onnx']))
        _assert_same_maps(model, ort, frames)


def test_static_shape_mismatch_is_one_line(r50_export):
    from knet.deployment import OnnxModelError
    ort = init_model(R50_CFG, str(r50_export['onnx']))
    frame = np.zeros((96, 320, 3), np.uint8)
    with pytest.raises(OnnxModelError) as err:
        next(inference_vps(ort, iter([frame])))
    msg = str(err.value)
    assert str(r50_export['onnx']) in msg and '\n' not in msg
    assert '[1, 3, 192, 640]' in msg and '[1, 3, 96, 320]' in msg


# --------------------------------------------------------------- errors
def test_mismatched_or_broken_files(tiny_export, r50_export, tmp_path):
    from knet.deployment import OnnxModelError
    cases = []
    # a truncated file
    broken = tmp_path / 'truncated.onnx'
    broken.write_bytes(tiny_export['onnx'].read_bytes()[:5000])
    cases.append((tiny_export['config'], broken, 'not a loadable ONNX'))
    # the tiny model's file with the R50 config
    cases.append((R50_CFG, tiny_export['onnx'], 'exported from another '
                  'model than'))
    # a VIS config with a VPS file
    vis_cfg = (R50_CFG.parent / 'video_knet_vis' /
               'video_knet_vis_r50_1x_youtube-vis-2019.py')
    cases.append((vis_cfg, tiny_export['onnx'], 'video-knet-clip graph'))
    # an ONNX file without the exporter's metadata
    import onnx
    plain = onnx.load(str(tiny_export['onnx']))
    del plain.metadata_props[:]
    bare = tmp_path / 'bare.onnx'
    onnx.save(plain, str(bare))
    cases.append((tiny_export['config'], bare, 'no Video K-Net metadata'))
    for config, path, words in cases:
        with pytest.raises(OnnxModelError) as err:
            init_model(config, str(path))
        msg = str(err.value)
        assert msg.startswith(str(path)) and words in msg, msg
        assert '\n' not in msg, msg


def test_mismatch_names_the_differing_key(tiny_export):
    from knet.deployment import OnnxModelError
    with pytest.raises(OnnxModelError) as err:
        init_model(tiny_export['config'], str(tiny_export['onnx']),
                   cfg_options={'model.roi_head.num_proposals': 30})
    assert 'model.roi_head.num_proposals is 20 in the file, 30 in the ' \
        'config' in str(err.value)
    # post-processing settings are free to differ from the export's
    model = init_model(
        tiny_export['config'], str(tiny_export['onnx']),
        cfg_options={'model.roi_head.test_cfg.max_per_img': 10,
                     'model.tracker.init_score_thr': 0.5})
    assert model.roi_head.postprocessor.max_per_img == 10


def test_export_tool_errors(tmp_path, capsys):
    tool = load_script(EXPORT_TOOL)
    from knet.utils.cli import run_cli
    assert run_cli(tool.main, [str(tmp_path / 'none.py'), '--out',
                               str(tmp_path / 'x.onnx')]) == 1
    err = capsys.readouterr().err
    assert f'config {tmp_path / "none.py"}: no such file' in err
    assert 'Traceback' not in err and err.count('\n') == 1
    bad_ckpt = tmp_path / 'bad.pth'
    bad_ckpt.write_bytes(b'not a checkpoint')
    assert run_cli(tool.main, [str(R50_CFG), str(bad_ckpt), '--out',
                               str(tmp_path / 'x.onnx')]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f'error: {bad_ckpt}: cannot be read as a checkpoint')
    assert err.count('\n') == 1
    assert not (tmp_path / 'x.onnx').exists()


def test_export_keeps_a_file_that_fails_its_check(tmp_path):
    """A check that fails keeps the file at the destination for inspection
    (``ExportError.kept``) and leaves no temporary file (an interrupted
    export leaves nothing: tests/tools/test_bad_inputs.py)."""
    from knet.deployment import ExportError, export_onnx
    from .conftest import TINY_CFG
    with torch_threads(1):
        torch.manual_seed(0)
        model = init_model(TINY_CFG)
        path = tmp_path / 'm.onnx'
        # a negative tolerance: no output can pass the comparison
        with pytest.raises(ExportError) as err:
            export_onnx(model, str(path), (64, 128), atol=-1.0, rtol=0.0)
    assert err.value.kept == str(path) and str(path) in str(err.value)
    assert 'differs from PyTorch' in str(err.value)
    assert [p.name for p in tmp_path.iterdir()] == ['m.onnx']
