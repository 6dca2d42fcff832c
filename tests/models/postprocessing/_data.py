"""Shared inputs of the post-processing tests: a small KNetPostProcessor,
random stage outputs, result comparison."""
import torch
import torch.nn.functional as F

from knet.models.postprocessing import KNetPostProcessor

P, T, S = 12, 2, 5  # thing kernels, thing classes, stuff classes
IMPLS = ('vectorised', 'tiled')


def postprocessor(**test_cfg) -> KNetPostProcessor:
    """The post-processor with ``test_cfg`` over these merge defaults."""
    cfg = dict(max_per_img=10, merge_stuff_thing=dict(
        instance_score_thr=0.25, overlap_thr=0.6))
    cfg.update(test_cfg)
    return KNetPostProcessor(P, T, S, **cfg)


def predict(pp: KNetPostProcessor, out: dict, meta: dict):
    """Panoptic result of one image from a stage output dict."""
    return pp.predict_panoptic(out['cls_score'], out['scaled_mask_preds'],
                               [meta], out['mask_preds'])[0]


def stage_output(low: torch.Tensor, gen: torch.Generator) -> dict:
    """Stage output from low-resolution logits [P + S, h8, w8] (x4)."""
    low = low[None]
    return dict(
        cls_score=torch.randn(1, P + S, T + S, generator=gen) * 2,
        mask_preds=low,
        scaled_mask_preds=F.interpolate(
            low, scale_factor=4, mode='bilinear', align_corners=False))


def same(a, b) -> None:
    """Two panoptic results are identical, field by field."""
    for field in ('seg_ids', 'sem_seg', 'labels', 'is_thing', 'cand_inds',
                  'areas', 'kernel_inds', 'fill_ids'):
        x, y = getattr(a, field), getattr(b, field)
        assert (x is None and y is None) or torch.equal(x, y), field
    assert torch.equal(a.scores, b.scores)
