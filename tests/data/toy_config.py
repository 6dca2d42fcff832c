# A toy config for runner-level tests (see tests/data/toy_modules.py).
_base_ = ['../../configs/_base_/default_runtime.py']
custom_imports = dict(
    imports=['knet.engine', 'tests.data.toy_modules'],
    allow_failed_imports=False)

model = dict(type='ToyRegressor')
train_dataloader = dict(
    batch_size=4,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='ToyRegressionDataset', length=32),
    collate_fn=dict(type='default_collate'))
train_cfg = dict(type='IterBasedTrainLoop', max_iters=6, val_interval=1000)
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=0.01, weight_decay=0.05),
    clip_grad=dict(max_norm=1, norm_type=2))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=4)
]
default_hooks = dict(
    _delete_=True,
    timer=dict(type='IterTimerHook'),
    logger=dict(type='AtomicLoggerHook', interval=1),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=3, by_epoch=False),
    sampler_seed=dict(type='DistSamplerSeedHook'))
log_processor = dict(by_epoch=False)
randomness = dict(seed=0)
