# The K-Net / Video K-Net release recipe: AdamW lr 1e-4, weight decay 0.05,
# backbone lr x0.25, grad-norm clip 1.0, 1000-iteration linear warm-up,
# step decay x0.1 (12 epochs, steps at 8 and 11).
max_epochs = 12
train_cfg = dict(
    type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=max_epochs)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

param_scheduler = [
    dict(
        type='LinearLR', start_factor=0.001, by_epoch=False, begin=0,
        end=1000),
    dict(
        type='MultiStepLR',
        begin=0,
        end=max_epochs,
        by_epoch=True,
        milestones=[8, 11],
        gamma=0.1)
]

optim_wrapper = dict(
    type='OptimWrapper',
    # same training, ~300 per-parameter groups merged into a few plain-dict
    # groups (knet/engine/optim_constructor.py): less per-step overhead
    constructor='MergedParamGroupsConstructor',
    optimizer=dict(type='AdamW', lr=0.0001, weight_decay=0.05),
    clip_grad=dict(max_norm=1, norm_type=2),
    paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=0.25)}))

# The release trained on 8 GPUs x 2 images (K-Net) / 8 x 1 clip (Video K-Net).
auto_scale_lr = dict(enable=False, base_batch_size=16)
