# Swin-B (ImageNet-22k, 224 x 224, window 7) of the K-Net release, for an R50
# config to swap its ResNet for. No `model` key here (a base list cannot
# repeat a key); the config inherits [<R50 config>, this file] and applies
# `swin` itself:
#   model = dict(
#       backbone=dict(_base_.swin.backbone, _delete_=True),
#       neck=[dict(_base_.fpn, in_channels=_base_.swin.channels),
#             _base_.semantic_fpn])
#   optim_wrapper = dict(paramwise_cfg=_base_.swin.paramwise_cfg)
swin = dict(
    backbone=dict(
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
    # the widths of the 4 stages (embed_dims x 1, 2, 4, 8): the FPN inputs
    channels=[128, 256, 512, 1024],
    # backbone lr x0.25; no weight decay on position tables and norms
    paramwise_cfg=dict(
        custom_keys={
            'backbone': dict(lr_mult=0.25),
            'absolute_pos_embed': dict(decay_mult=0.),
            'relative_position_bias_table': dict(decay_mult=0.),
            'norm': dict(decay_mult=0.)
        }))
