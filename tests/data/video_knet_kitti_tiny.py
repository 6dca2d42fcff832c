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
    # a list in the base config: restated whole, only sizes differ
    neck=[
        dict(
            type='FPN',
            in_channels=[16, 32, 64, 128],
            out_channels=ch,
            start_level=0,
            add_extra_convs='on_input',
            num_outs=4),
        dict(
            type='SemanticFPNWrapper',
            in_channels=ch,
            feat_channels=ch,
            out_channels=ch,
            start_level=0,
            end_level=3,
            upsample_times=2,
            positional_encoding=dict(
                type='SinePositionalEncoding', num_feats=ch // 2,
                normalize=True),
            cat_coors=False,
            cat_coors_level=3,
            fuse_by_cat=False,
            return_list=False,
            num_aux_convs=1,
            norm_cfg=dict(type='GN', num_groups=32, requires_grad=True)),
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
