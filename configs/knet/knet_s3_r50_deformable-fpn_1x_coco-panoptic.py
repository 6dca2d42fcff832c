# K-Net R50 with the deformable FPN (multi-scale deformable attention pixel
# decoder, as the release's `knet_s3_r50_deformable_fpn` model base), COCO
# panoptic, 1x. Only neck[0] changes (see _base_/models/deformable-fpn.py).
_base_ = [
    './knet_s3_r50_fpn_1x_coco-panoptic.py',
    '../_base_/models/deformable-fpn.py'
]
model = dict(neck=[
    _base_.deformable_fpn,
    _base_.semantic_fpn,  # the semantic FPN of the base, unchanged
])
