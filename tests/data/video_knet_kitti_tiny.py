# The tiny KITTI-STEP Video K-Net of the parity record (tests/parity_cases.py:
# the recorded cases): the R50 entry point with sizes shrunk, plain BN, no
# pretrained weights, and the switches that restore the release's behaviour
# where this code base fixes a defect (docs/release_differences.md).
_base_ = '../../configs/video_knet_kitti.py'

ch = 64
load_from = None

model = dict(
    backbone=dict(
        depth=18,  # BasicBlock
        base_channels=16,  # stage widths 16/32/64/128
        norm_cfg=dict(type='BN', requires_grad=True),
        init_cfg=None),
    # the neck list of configs/_base_/models/r50_fpn.py, only sizes differ
    neck=[
        dict(_base_.fpn, in_channels=[16, 32, 64, 128], out_channels=ch),
        dict(
            _base_.semantic_fpn,
            in_channels=ch,
            feat_channels=ch,
            out_channels=ch,
            positional_encoding=dict(
                _base_.semantic_fpn.positional_encoding, num_feats=ch // 2)),
    ],
    rpn_head=dict(num_proposals=20, in_channels=ch, out_channels=ch),
    roi_head=dict(
        num_proposals=20,
        mask_head=dict(
            in_channels=ch,
            out_channels=ch,
            feedforward_channels=256,
            num_heads=4,
            link_num_heads=8,  # hard-coded 8 in the release
            kernel_updator_cfg=dict(
                in_channels=ch, feat_channels=ch, out_channels=ch)),
        test_cfg=dict(
            max_per_img=20,
            # release: uncovered pixels get dataset id 0 (trainId 0 = road =
            # model label 2)
            uncovered='fixed',
            fill_label=2)),
    embed_channels=ch,
    track_head=dict(in_channels=ch, fc_out_channels=ch, embed_channels=ch),
    # release behaviours
    semantic_filter_align=False,
    track_id_writeback='position')
