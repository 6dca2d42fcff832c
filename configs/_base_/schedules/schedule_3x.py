# 36 epochs (steps 27, 33): the K-Net "ms-3x" schedule.
_base_ = './schedule_1x.py'
max_epochs = 36
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
# the warm-up of schedule_1x, its step decay at other epochs
param_scheduler = [
    _base_.param_scheduler[0],
    dict(_base_.param_scheduler[1], end=max_epochs, milestones=[27, 33])
]
