# Video K-Net Swin-B for YouTube-VIS 2019 (release
# knet_track_swinb_1x_youtubevis_8e.py backbone; the 12-epoch schedule of
# the R50 config, 1 clip per GPU as the release's Swin-B run).
_base_ = [
    './video_knet_vis_r50_1x_youtube-vis-2019.py',
    '../_base_/models/swin-b.py'
]

# Initialise from a COCO-instance K-Net Swin-B with an FPN. The release's
# COCO Swin-B has the deformable FPN
# (configs/knet/knet_s3_swin-b_deformable-fpn_ms-3x_coco.py), so it does not
# fit this model; loading it non-strictly (the release's loader always was)
# takes its backbone and heads and leaves the FPN as initialised:
# load_strict = False
# load_from = 'checkpoints/knet_s3_swin-b_deformable-fpn_ms-3x_coco.pth'

model = dict(
    backbone=dict(_base_.swin.backbone, _delete_=True),
    # the neck list of _base_/models/r50_fpn.py, the FPN with the Swin widths
    neck=[
        dict(_base_.fpn, in_channels=_base_.swin.channels),
        _base_.semantic_fpn
    ])
train_dataloader = dict(batch_size=1)
optim_wrapper = dict(paramwise_cfg=_base_.swin.paramwise_cfg)
