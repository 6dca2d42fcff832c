# Runtime settings shared by every config (MMDetection 3.x conventions).
default_scope = 'mmdet'
# Registers knet's datasets, transforms, models, metrics, visualisers and
# engine parts into mmdet's registries: a config alone builds a model.
custom_imports = dict(
    imports=[
        'knet.datasets', 'knet.models', 'knet.evaluation.metrics',
        'knet.visualization', 'knet.engine'
    ],
    allow_failed_imports=False)

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    # writes the test-metrics JSON once, atomically (multi-process safe)
    logger=dict(type='AtomicLoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='DetVisualizationHook'))

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # tools/train.py and tools/test.py switch to gloo when CUDA is absent.
    dist_cfg=dict(backend='nccl'))

vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(
    type='DetLocalVisualizer', vis_backends=vis_backends, name='visualizer')
log_processor = dict(type='LogProcessor', window_size=50, by_epoch=True)

log_level = 'INFO'
# knet.engine.KNetRunner: `load_from` / `resume` checkpoints must fit the
# model exactly (an image K-Net may initialise a video model: a logged
# partial load); checkpoints of the original release are converted in
# memory. load_strict = False loads the matching tensors only.
runner_type = 'KNetRunner'
load_from = None
load_strict = True
resume = False
