# K-Net R50 with the deformable FPN (multi-scale deformable attention pixel
# decoder, as the release's `knet_s3_r50_deformable_fpn` model base), COCO
# panoptic, 1x. Only neck[0] changes: DeformableFPN returns the stride
# 4/8/16/32 levels that SemanticFPNWrapper fuses into the stride-8 [loc, sem]
# features of the kernel heads, exactly as behind the FPN.
_base_ = './knet_s3_r50_fpn_1x_coco-panoptic.py'
model = dict(neck=[
    dict(
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
        positional_encoding=dict(num_feats=128, normalize=True)),
    _base_.model.neck[1],  # the semantic FPN of the base, unchanged
])
