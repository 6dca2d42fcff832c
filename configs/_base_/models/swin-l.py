# Swin-L (ImageNet-22k, 224 x 224, window 7) of the K-Net release: Swin-B
# with wider stages and stochastic depth 0.2 (every Swin-L config of the K-Net
# and Video K-Net releases); used as swin-b.py (see there).
_base_ = './swin-b.py'
swin = dict(
    backbone=dict(
        embed_dims=192,
        num_heads=[6, 12, 24, 48],
        drop_path_rate=0.2,
        init_cfg=dict(
            checkpoint='https://github.com/SwinTransformer/storage/releases/download/v1.0.0/swin_large_patch4_window7_224_22k.pth')),
    channels=[192, 384, 768, 1536])
