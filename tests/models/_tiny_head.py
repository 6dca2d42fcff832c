"""A one-stage KernelIterHead with tiny channels, for post-processing tests
(panoptic merge, pruning, tiled merge): only its test-time paths are used."""
import copy

from mmdet.registry import MODELS

from knet.utils.setup_env import register_all_modules

register_all_modules(init_default_scope=False)

C, P, T, S = 16, 12, 2, 5  # channels, proposals, thing / stuff classes
STAGE = dict(
    type='KernelUpdateHead', num_classes=T + S, num_thing_classes=T,
    num_stuff_classes=S, num_heads=2, feedforward_channels=32,
    in_channels=C, out_channels=C, mask_upsample_stride=4,
    kernel_updator_cfg=dict(
        type='KernelUpdator', in_channels=C, feat_channels=C,
        out_channels=C))


def tiny_iter_head(**test_cfg):
    """The head with ``test_cfg`` overriding the merge defaults below."""
    test_cfg = dict(dict(max_per_img=10, merge_stuff_thing=dict(
        instance_score_thr=0.25, overlap_thr=0.6)), **test_cfg)
    cfg = dict(
        type='KernelIterHead', num_stages=1, stage_loss_weights=[1],
        num_proposals=P, num_thing_classes=T, num_stuff_classes=S,
        mask_head=STAGE, assigner=None, test_cfg=test_cfg)
    return MODELS.build(copy.deepcopy(cfg))
