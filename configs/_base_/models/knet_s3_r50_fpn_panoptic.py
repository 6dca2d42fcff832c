# K-Net (3 stages, R50-FPN) for COCO panoptic: 100 thing kernels + 53 stuff
# kernels (the stuff rows of the semantic classifier), as the release. The
# instance model base with the stuff classes, the rank loss, padded semantic
# maps and the panoptic merge at test.
_base_ = './knet_s3_r50_fpn.py'
num_stuff_classes = 53
num_classes = _base_.num_thing_classes + num_stuff_classes

stage_cfg = dict(
    _base_.stage_cfg,
    num_classes=num_classes,
    num_stuff_classes=num_stuff_classes,
    loss_rank=dict(
        type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.1))

model = dict(
    num_stuff_classes=num_stuff_classes,
    panoptic=True,
    data_preprocessor=dict(pad_seg=True),
    rpn_head=dict(
        num_stuff_classes=num_stuff_classes,
        cat_stuff_mask=True,
        loss_rank=dict(
            _delete_=True,  # None in the instance base
            type='CrossEntropyLoss',
            use_sigmoid=False,
            loss_weight=0.1)),
    roi_head=dict(
        num_stuff_classes=num_stuff_classes,
        mask_head=[stage_cfg for _ in range(_base_.num_stages)],
        test_cfg=dict(
            merge_joint=True,
            merge_stuff_thing=dict(
                overlap_thr=0.6,
                iou_thr=0.5,
                stuff_max_area=4096,
                instance_score_thr=0.3),
            # release: uncovered pixels are VOID (fill_label=num_classes with
            # uncovered='fixed'); we give them the best kept class
            uncovered='best_kept',
            fill_label=num_classes,
            merge_resolution='image',
            # the K-Net image release: one thing candidate per kernel (its
            # best class); Video K-Net: 'topk' (kernel, class) pairs
            thing_candidates='per_kernel')))
