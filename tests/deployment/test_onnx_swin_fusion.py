"""The Swin-B KITTI-STEP config with kernel fusion (KF) exports and runs in
ONNX Runtime: a shrunk Swin (same structure: window attention, patch
merging, padding) with the release's heads, dynamic shape, a first frame and
a fused second frame checked against PyTorch by the exporter, then the maps
of a 3-frame synthetic clip identical through ``inference_vps`` (random
weights with confident masks; slow: the export takes minutes on 2 cores)."""
import numpy as np
import pytest
import torch

from .conftest import ROOT, torch_threads

from knet.apis import inference_vps, init_model  # noqa: E402
from knet.deployment import export_onnx  # noqa: E402
from .test_onnx_vps import _synthetic_kitti_frames  # noqa: E402

SWIN_KF = ROOT / 'configs' / 'video_knet_vps' / \
    'video_knet_s3_swinb_kf_kitti_step.py'
SMALL_SWIN = {
    'model.backbone.embed_dims': 32,
    'model.backbone.depths': [1, 1, 1, 1],
    'model.backbone.num_heads': [1, 2, 4, 8],
    'model.neck.0.in_channels': [32, 64, 128, 256],
}


@pytest.mark.slow
def test_swin_kernel_fusion_export(tmp_path):
    with torch_threads(1):
        torch.manual_seed(0)
        model = init_model(SWIN_KF, cfg_options=SMALL_SWIN)
        assert model.roi_head.mask_head[-1].previous_link == \
            'update_dynamic_cov'
        model.init_weights()
        with torch.no_grad():  # confident masks (as trained ones): the
            # hard masks and the merge's argmax stay far from rounding
            model.rpn_head.init_kernels.weight.mul_(30)
            for head in model.roi_head.mask_head:
                head.fc_mask.weight.mul_(30)
        model.eval()
        onnx_file = tmp_path / 'swin_kf.onnx'
        report = export_onnx(model, str(onnx_file), (96, 320),
                             dynamic_shape=True, model_cfg=model.cfg.model)
        assert report.checked_shapes == [(96, 320), (128, 352)]
        ort = init_model(SWIN_KF, str(onnx_file), cfg_options=SMALL_SWIN)
        frames = _synthetic_kitti_frames(3, (96, 320))
        a = list(inference_vps(model, iter(frames)))
        b = list(inference_vps(ort, iter(frames)))
    for t, (x, y) in enumerate(zip(a, b)):
        assert np.array_equal(x.semantic, y.semantic), t
        assert np.array_equal(x.track_ids, y.track_ids), t
