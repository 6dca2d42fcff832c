"""ONNX export of the VIS clip network (tiny VideoKNetVIS) and the ONNX
Runtime backend driven by ``knet.apis.inference_vis``: one export serves
windows of any frame count (a 7-frame video in two windows of 4, a 3-frame
video in one window of 3) with PyTorch's instances."""
import numpy as np
import pytest
import torch

from .conftest import ROOT, torch_threads

from knet.apis import inference_vis, init_model  # noqa: E402
from knet.deployment import (OrtNetwork, OrtVideoKNetVIS,  # noqa: E402
                             build_graph, export_onnx)
from knet.deployment.export import compare_outputs, random_frames  # noqa

VIS_CFG = ROOT / 'configs' / 'video_knet_vis' / \
    'video_knet_vis_r50_1x_youtube-vis-2019.py'


@pytest.fixture(scope='module')
def vis_export(tmp_path_factory):
    """Tiny VIS model (window 4, overlap 1) with random weights whose mask
    logits are scaled up (as confident as trained masks: the hard masks of
    the update stages and the final binarisation then stay far from float
    rounding), exported for 64x96 frames."""
    from mmengine.config import Config

    from knet.apis import network_input_shape
    from tests.models.test_vis_helpers import tiny_vis_model
    out = tmp_path_factory.mktemp('vis_onnx')
    cfg = Config.fromfile(str(VIS_CFG))
    cfg.model = tiny_vis_model(num_proposals=8, window_size=4,
                               window_overlap=1)
    for step in cfg.test_dataloader.dataset.pipeline[0]['transforms']:
        if step['type'] == 'Resize':  # keep the frames small
            step['scale'] = (96, 64)
    config = out / 'vis_tiny.py'
    cfg.dump(str(config))
    with torch_threads(1):
        torch.manual_seed(0)
        model = init_model(config)
        model.init_weights()
        with torch.no_grad():  # every mask-logit layer x30
            model.rpn_head.init_kernels.weight.mul_(30)
            for head in [*model.roi_head.mask_head,
                         *model.tracker.mask_head]:
                head.fc_mask.weight.mul_(30)
        model.eval()
        shape = network_input_shape(model, (64, 96))
        assert shape == (64, 96)
        onnx_file = out / 'vis.onnx'
        report = export_onnx(model, str(onnx_file), shape, num_frames=4,
                             model_cfg=model.cfg.model)
    return dict(config=config, model=model, onnx=onnx_file, report=report,
                shape=shape)


def test_clip_graph_takes_any_frame_count(vis_export):
    report = vis_export['report']
    assert report.kind == 'video-knet-clip'
    assert dict(report.inputs)['frames'][0] == 'frames'  # free
    model = vis_export['model']
    graph = build_graph(model)
    net = OrtNetwork(str(vis_export['onnx']), threads=1)
    with torch_threads(1):
        for num in (1, 3, 6):
            # uniform random pixels, normalised as the preprocessor does
            frames = random_frames(model, num, vis_export['shape'], seed=num)
            with torch.no_grad():
                want = graph(frames)
            got = net.run({'frames': frames})
            cmp = compare_outputs(graph.output_names, want,
                                  [got[n] for n in graph.output_names],
                                  1e-4, 1e-4, graph.kernel_axes)
            assert cmp.ok, (num, cmp.max_abs_diff)


def test_inference_vis_same_instances(vis_export):
    ort = init_model(vis_export['config'], str(vis_export['onnx']))
    assert isinstance(ort, OrtVideoKNetVIS)
    assert sum(p.numel() for p in ort.parameters()) == 0
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 256, (64, 96, 3), dtype=np.uint8)
              for _ in range(7)]
    pt = vis_export['model']
    with torch_threads(1):
        for num in (7, 3):  # two windows of 4; one window of 3
            a = list(inference_vis(pt, iter(frames[:num])))
            b = list(inference_vis(ort, iter(frames[:num])))
            assert len(a) == len(b) == num
            for t, (x, y) in enumerate(zip(a, b)):
                assert np.array_equal(x.instances_id, y.instances_id)
                assert np.array_equal(x.labels, y.labels), (num, t)
                np.testing.assert_allclose(y.scores, x.scores, atol=1e-5)
                assert np.array_equal(x.masks, y.masks), (num, t)
