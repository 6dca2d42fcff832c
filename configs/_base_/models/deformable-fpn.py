# The deformable FPN of the K-Net release (its MSDeformAttnPixelDecoder: a
# multi-scale deformable attention encoder over the stride 8/16/32 levels,
# an FPN step to stride 4) as neck[0] for the ResNet-50 widths. No `model`
# key here (a base list cannot repeat a key): a config inherits
# [<K-Net config>, this file] and puts `_base_.deformable_fpn` in place of
# the FPN, e.g.
#   model = dict(neck=[_base_.deformable_fpn, _base_.semantic_fpn])
# DeformableFPN returns the stride 4/8/16/32 levels that SemanticFPNWrapper
# fuses into the stride-8 [loc, sem] features, exactly as behind the FPN.
deformable_fpn = dict(
    type='DeformableFPN',
    in_channels=[256, 512, 1024, 2048],
    strides=[4, 8, 16, 32],
    feat_channels=256,
    out_channels=256,
    norm_cfg=dict(type='GN', num_groups=32),
    act_cfg=dict(type='ReLU'),
    encoder=dict(
        num_layers=6,
        layer_cfg=dict(
            self_attn_cfg=dict(
                embed_dims=256,
                num_heads=8,
                num_levels=3,
                num_points=4,
                im2col_step=64,
                dropout=0.0,
                batch_first=True,
                norm_cfg=None,
                init_cfg=None),
            ffn_cfg=dict(
                embed_dims=256,
                feedforward_channels=1024,
                num_fcs=2,
                ffn_drop=0.0,
                act_cfg=dict(type='ReLU', inplace=True))),
        init_cfg=None),
    positional_encoding=dict(num_feats=128, normalize=True))
