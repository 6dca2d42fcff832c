# Video K-Net Swin-B for YouTube-VIS 2019 (release
# knet_track_swinb_1x_youtubevis_8e.py backbone; the 12-epoch schedule of
# the R50 config, 1 clip per GPU as the release's Swin-B run).
_base_ = './video_knet_vis_r50_1x_youtube-vis-2019.py'

# Initialise from a COCO-instance K-Net Swin-B (converted release weights):
# load_from = 'checkpoints/knet_coco_instance_swin-b_mmdet3.pth'

channels = 256
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
        init_cfg=dict(
            type='Pretrained',
            checkpoint='https://github.com/SwinTransformer/storage/releases/download/v1.0.0/swin_base_patch4_window7_224_22k.pth')),
    # the neck is a list: restate both items with the Swin widths
    neck=[
        dict(
            type='FPN',
            in_channels=[128, 256, 512, 1024],
            out_channels=channels,
            start_level=0,
            add_extra_convs='on_input',
            num_outs=4),
        dict(
            type='SemanticFPNWrapper',
            in_channels=channels,
            feat_channels=channels,
            out_channels=channels,
            start_level=0,
            end_level=3,
            upsample_times=2,
            positional_encoding=dict(
                type='SinePositionalEncoding', num_feats=channels // 2,
                normalize=True),
            cat_coors=False,
            cat_coors_level=3,
            fuse_by_cat=False,
            return_list=False,
            num_aux_convs=1,
            norm_cfg=dict(type='GN', num_groups=32, requires_grad=True)),
    ])
train_dataloader = dict(batch_size=1)
optim_wrapper = dict(
    paramwise_cfg=dict(
        custom_keys={
            'backbone': dict(lr_mult=0.25),
            'absolute_pos_embed': dict(decay_mult=0.),
            'relative_position_bias_table': dict(decay_mult=0.),
            'norm': dict(decay_mult=0.)
        }))
