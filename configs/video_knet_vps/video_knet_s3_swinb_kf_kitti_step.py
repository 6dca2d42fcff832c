# Video K-Net Swin-B on KITTI-STEP with kernel fusion (KF): release
# video_knet_s3_swinb_rpn_1x_kitti_step_sigmoid_stride2_mask_embed_link_ffn_
# joint_update.py (same schedule as the R50 one).
_base_ = '../video_knet_kitti.py'

# Initialise from image K-Net Swin-B trained on Cityscapes-STEP: train
# configs/knet/knet_s3_swin-b_fpn_8e_cityscapes-step.py and copy its last
# checkpoint here, or convert the release's checkpoint with
# tools/model_converters/knet_to_mmdet3.py.
load_from = 'checkpoints/knet_s3_swin-b_fpn_8e_cityscapes-step.pth'

model = dict(
    backbone=dict(
        _delete_=True,
        type='SwinTransformer',
        embed_dims=128,
        depths=[2, 2, 18, 2],
        num_heads=[4, 8, 16, 32],
        window_size=7,
        mlp_ratio=4,
        qkv_bias=True,
        qk_scale=None,
        drop_rate=0.,
        attn_drop_rate=0.,
        drop_path_rate=0.3,
        patch_norm=True,
        out_indices=(0, 1, 2, 3),
        with_cp=False,
        convert_weights=True,
        init_cfg=None),  # weights come from load_from
    neck=[
        dict(
            type='FPN',
            in_channels=[128, 256, 512, 1024],
            out_channels=256,
            start_level=0,
            add_extra_convs='on_input',
            num_outs=4),
        dict(
            type='SemanticFPNWrapper',
            in_channels=256,
            feat_channels=256,
            out_channels=256,
            start_level=0,
            end_level=3,
            upsample_times=2,
            positional_encoding=dict(
                type='SinePositionalEncoding', num_feats=128,
                normalize=True),
            cat_coors=False,
            cat_coors_level=3,
            fuse_by_cat=False,
            return_list=False,
            num_aux_convs=1,
            norm_cfg=dict(type='GN', num_groups=32, requires_grad=True)),
    ],
    # kernel fusion: the previous kernels, updated with the current frame's
    # group features, are attended to before the last update. (The release
    # also sets previous_type='update' for the tracking link; this code base
    # links with 'ffn', see docs.)
    roi_head=dict(mask_head=dict(previous_link='update_dynamic_cov')))
