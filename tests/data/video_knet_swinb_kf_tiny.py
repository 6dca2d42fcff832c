# A tiny model of the release's KITTI-STEP Swin-B kernel-fusion kind
# (tests/models/test_swin_kf_parity.py): the Swin-B KF config with its
# sizes shrunk as video_knet_kitti_tiny.py shrinks the R50 one: Swin with
# embed_dims 16 (stage widths 16/32/64/128, the tiny R50's), 2 blocks per
# stage, window 7; 64 channels, 20 thing kernels; the release's behaviours.
_base_ = '../../configs/video_knet_vps/video_knet_s3_swinb_kf_kitti_step.py'

ch = 64
load_from = None

model = dict(
    backbone=dict(
        embed_dims=16, depths=[2, 2, 2, 2], num_heads=[2, 2, 4, 4]),
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
        test_cfg=dict(max_per_img=20, uncovered='fixed', fill_label=2)),
    embed_channels=ch,
    track_head=dict(in_channels=ch, fc_out_channels=ch, embed_channels=ch),
    semantic_filter_align=False,
    track_id_writeback='position')
