"""Cityscapes train ids (used by Cityscapes, Cityscapes-VPS and KITTI-STEP)."""

#: The 19 evaluated classes, indexed by trainId 0..18.
CITYSCAPES_CLASSES = ('road', 'sidewalk', 'building', 'wall', 'fence', 'pole',
                      'traffic light', 'traffic sign', 'vegetation',
                      'terrain', 'sky', 'person', 'rider', 'car', 'truck',
                      'bus', 'train', 'motorcycle', 'bicycle')

#: trainIds 11..18 are things in Cityscapes and Cityscapes-VPS.
CITYSCAPES_THING_IDS = tuple(range(11, 19))

#: The official Cityscapes colours, indexed by trainId.
CITYSCAPES_PALETTE = ((128, 64, 128), (244, 35, 232), (70, 70, 70),
                      (102, 102, 156), (190, 153, 153), (153, 153, 153),
                      (250, 170, 30), (220, 220, 0), (107, 142, 35),
                      (152, 251, 152), (70, 130, 180), (220, 20, 60),
                      (255, 0, 0), (0, 0, 142), (0, 0, 70), (0, 60, 100),
                      (0, 80, 100), (0, 0, 230), (119, 11, 32))
