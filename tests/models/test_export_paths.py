"""The model code paths that the ONNX export relies on (plain PyTorch, no
onnx needed): the batch-free dynamic mask kernels against the grouped
convolution, and ``previous_valid`` (the first frame selected inside the
graph) against the PyTorch model's ``previous_obj_feats=None``."""
import pytest
import torch

pytest.importorskip('mmdet')

from mmdet.registry import MODELS  # noqa: E402

from knet.models.layers.dynamic_conv import apply_dynamic_kernels  # noqa
from knet.utils.setup_env import register_all_modules  # noqa: E402

register_all_modules(init_default_scope=False)
C, N = 32, 7


@pytest.mark.parametrize('k', [1, 3])
def test_dynamic_kernels_export_path_equals_grouped_conv(monkeypatch, k):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(3, C, 10, 12, generator=g)
    kernels = torch.randn(3, N, C, k, k, generator=g)
    ref = apply_dynamic_kernels(x, kernels)
    # per image: an ordinary convolution with that image's kernels
    for i in range(3):
        one = torch.nn.functional.conv2d(x[i:i + 1], kernels[i],
                                         padding=k // 2)
        torch.testing.assert_close(ref[i:i + 1], one, rtol=1e-5, atol=1e-5)
    monkeypatch.setattr(torch.onnx, 'is_in_onnx_export', lambda: True)
    exported = apply_dynamic_kernels(x, kernels)
    assert exported.shape == (3, N, 10, 12)
    torch.testing.assert_close(exported, ref, rtol=1e-5, atol=1e-5)


def _stage(previous_type=None, previous_link=None):
    head = MODELS.build(
        dict(type='KernelUpdateHead', num_classes=5, num_thing_classes=2,
             num_stuff_classes=3, num_heads=4, feedforward_channels=64,
             in_channels=C, out_channels=C, previous_type=previous_type,
             previous_link=previous_link, link_num_heads=8,
             kernel_updator_cfg=dict(type='KernelUpdator', in_channels=C,
                                     feat_channels=C, out_channels=C)))
    head.init_weights()
    return head.eval()


@pytest.mark.parametrize('link', ['ffn', 'fusion'])
def test_previous_valid_selects_per_image(link):
    torch.manual_seed(0)
    head = _stage(previous_type='ffn',
                  previous_link='update_dynamic_cov' if link == 'fusion'
                  else None)
    g = torch.Generator().manual_seed(1)
    x = torch.randn(2, C, 8, 16, generator=g)
    kernels = torch.randn(2, N, C, 1, 1, generator=g)
    masks = torch.randn(2, N, 8, 16, generator=g)
    prev = torch.randn(2, N, C, 1, 1, generator=g)
    with torch.no_grad():
        linked = head(x, kernels, masks, previous_obj_feats=prev)
        unlinked = head(x, kernels, masks)
        mixed = head(x, kernels, masks, previous_obj_feats=prev,
                     previous_valid=torch.tensor([False, True]))
    # image 0: as without previous kernels (the unlinked kernels stand in
    # for the linked ones); image 1: as with them
    for key in ('cls_score', 'mask_preds', 'object_feats'):
        torch.testing.assert_close(mixed[key][0], unlinked[key][0],
                                   rtol=0, atol=0)
        torch.testing.assert_close(mixed[key][1], linked[key][1],
                                   rtol=0, atol=0)
    torch.testing.assert_close(mixed['object_feats_track'][0],
                               unlinked['object_feats'][0], rtol=0, atol=0)
    torch.testing.assert_close(mixed['object_feats_track'][1],
                               linked['object_feats_track'][1], rtol=0,
                               atol=0)
    if link == 'fusion':  # the fused input changes the stage's outputs
        assert not torch.allclose(linked['cls_score'][0],
                                  unlinked['cls_score'][0])
