"""Import every checker module so that they register themselves.

Each dataset family adds its module here (one import line each).
"""
import importlib

for _name in ('kitti_step', 'vipseg', 'youtube_vis', 'cityscapes',
              'cityscapes_vps', 'coco', 'refer'):
    try:
        importlib.import_module(f'{__package__}.{_name}')
    except ModuleNotFoundError as e:  # a family not written yet
        if e.name != f'{__package__}.{_name}':
            raise
