"""Shared pieces of the VIS tests: a tiny VideoKNetVIS config (ResNet-18
with 16 base channels, 32-channel FPN) and synthetic data preparation."""
import copy
import os.path as osp
import subprocess
import sys

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
C = 32
NUM_CLASSES = 40


def tiny_vis_model(num_proposals: int = 8, window_size: int = 0,
                   window_overlap: int = 0) -> dict:
    """The R50 base model shrunk for CPU tests (same structure)."""
    from mmengine.config import Config
    cfg = Config.fromfile(
        osp.join(ROOT, 'configs/_base_/models/video_knet_vis_r50.py'))
    model = copy.deepcopy(cfg.model.to_dict())
    model['backbone'] = dict(
        type='ResNet', depth=18, base_channels=16, num_stages=4,
        out_indices=(0, 1, 2, 3), frozen_stages=-1,
        norm_cfg=dict(type='BN', requires_grad=True), norm_eval=False,
        style='pytorch')
    model['neck'][0].update(in_channels=[16, 32, 64, 128], out_channels=C)
    model['neck'][1].update(
        in_channels=C, feat_channels=C, out_channels=C,
        positional_encoding=dict(type='SinePositionalEncoding',
                                 num_feats=C // 2, normalize=True))
    model['rpn_head'].update(num_proposals=num_proposals, in_channels=C,
                             out_channels=C)

    def shrink(stage):
        stage.update(in_channels=C, out_channels=C, num_heads=4,
                     feedforward_channels=4 * C)
        stage['kernel_updator_cfg'].update(
            in_channels=C, feat_channels=C, out_channels=C)
        return stage

    model['roi_head']['num_proposals'] = num_proposals
    model['roi_head']['mask_head'] = [
        shrink(s) for s in model['roi_head']['mask_head']]
    model['tracker']['num_proposals'] = num_proposals
    model['tracker']['mask_head'] = shrink(model['tracker']['mask_head'])
    model.update(window_size=window_size, window_overlap=window_overlap,
                 num_candidates=num_proposals)
    return model


def build_tiny(seed: int = 0, **kwargs):
    import torch
    from knet.utils.setup_env import register_all_modules
    from mmdet.registry import MODELS
    register_all_modules()
    torch.manual_seed(seed)
    import logging

    from mmengine.logging import MMLogger
    model = MODELS.build(tiny_vis_model(**kwargs))
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)  # no per-parameter init report
    try:
        model.init_weights()
    finally:
        logger.setLevel(level)
    return model


def prepare_synthetic(root, videos=2, frames=6, size=(64, 96), seed=0,
                      holdout=0):
    """Synthetic raw YouTube-VIS 2019 + conversion; returns the manifest."""
    from knet.datasets.synthetic import make_synthetic
    manifest = make_synthetic('youtube_vis_2019', root, videos=videos,
                              frames=frames, size=size, seed=seed)
    cmd = [sys.executable, osp.join(ROOT, 'tools/dataset/youtubevis2coco.py'),
           '-i', manifest['ann_dir'], '-o', osp.join(root, 'annotations'),
           '--version', '2019']
    if holdout:
        cmd += ['--holdout', str(holdout)]
    subprocess.run(cmd, check=True, capture_output=True)
    return manifest


def test_tiny_model_builds():
    pytest.importorskip('mmdet')
    model = build_tiny()
    assert type(model).__name__ == 'VideoKNetVIS'
    assert len(model.tracker.mask_head) == 3
    # clip stages classify, the last (per-frame) stage does not
    assert [h.with_cls for h in model.tracker.mask_head] == \
        [True, True, False]
    assert not hasattr(model.tracker.mask_head[2], 'fc_cls')
