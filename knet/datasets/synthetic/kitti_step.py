"""Synthetic KITTI-STEP in the official download layout.

``training/image_02/{seq:04d}/{frame:06d}.png`` (RGB frames),
``panoptic_maps/{train,val}/{seq:04d}/{frame:06d}.png`` (R = trainId,
instance = G * 256 + B) with the official split membership, and optionally
``testing/image_02/{seq:04d}/`` (no labels). Instance ids go above 255 so the
G channel matters.
"""
from pathlib import Path
from typing import Dict, Optional, Sequence, Tuple

import numpy as np

from knet.formats.io import save_image
from knet.formats.kitti_step import (KITTI_STEP_NUM_CLASSES,
                                     KITTI_STEP_SPLITS, KITTI_STEP_THING_IDS,
                                     encode_kitti_step)

from .scene import paint_video

__all__ = ['make_kitti_step', 'KITTI_STEP_SPLITS']

THINGS = KITTI_STEP_THING_IDS
STUFF = tuple(i for i in range(KITTI_STEP_NUM_CLASSES) if i not in THINGS)


def kitti_split(seq: int) -> str:
    for split, seqs in KITTI_STEP_SPLITS.items():
        if seq in seqs:
            return split
    raise ValueError(f'KITTI-STEP has no training sequence {seq} (0..20)')


def _instance_ids(rng: np.random.Generator, n: int) -> list:
    """n unique ids in 1..2000, at least one above 255 (G channel used)."""
    ids = rng.choice(np.arange(1, 2000), n, replace=False)
    if ids.max() <= 255:
        ids[0] = int(rng.integers(256, 2000))
    return [int(i) for i in ids]


def _spawn_ids(rng: np.random.Generator, n: int, taken: list) -> list:
    """n unique ids in 1..65535 that are not in ``taken``."""
    free = np.setdiff1d(np.arange(1, 65536), np.asarray(taken, int))
    return [int(i) for i in rng.choice(free, n, replace=False)]


def make_kitti_step(out, videos: int = 2, frames: int = 6,
                    size: Tuple[int, int] = (64, 128), seed: int = 0,
                    test_videos: int = 0,
                    stuff_classes: Optional[Sequence[int]] = None,
                    thing_outline: int = 0,
                    train_frames: Optional[int] = None,
                    train_spawn: float = 0.0,
                    **_) -> Dict:
    """Write ``videos`` training sequences (0..videos-1) and optionally
    ``test_videos`` unlabelled ``testing/`` sequences; return the manifest.

    ``stuff_classes`` restricts the stuff trainIds the videos draw their
    three stuff bands from (default: all 17); fewer classes means each is
    seen in more training videos (the quickstart uses a KITTI-like six).
    ``thing_outline`` > 0 draws a dark border of that width around every
    thing (see :func:`~.scene.paint_video`).

    The training sequences can be longer and busier than the val ones
    (a small model then has to learn to separate instances instead of
    remembering the few it saw): ``train_frames`` frames (default
    ``frames``), and ``train_spawn`` new things per frame on average that
    enter at random frames and leave after a while. Both are drawn from a
    generator of their own per sequence, so the val sequences are the same
    whatever these two are.
    """
    out = Path(out)
    if not 1 <= videos <= 21:
        raise ValueError('KITTI-STEP has 21 training sequences: videos in '
                         '1..21')
    stuff = STUFF if stuff_classes is None else tuple(
        int(c) for c in stuff_classes)
    bad = [c for c in stuff if c not in STUFF]
    if bad or not stuff:
        raise ValueError(f'stuff classes must be non-empty trainIds from '
                         f'{STUFF}; got {list(stuff_classes)}')
    if train_spawn < 0:
        raise ValueError(f'train_spawn must be >= 0, got {train_spawn}')
    if train_frames is not None and train_frames < 1:
        raise ValueError(f'train_frames must be >= 1, got {train_frames}')
    rng = np.random.default_rng(seed)
    manifest = dict(dataset='kitti-step', root=str(out), size=tuple(size),
                    seed=seed, videos=[], splits={'train': [], 'val': [],
                                                  'test': []})
    for seq in range(videos):
        split = kitti_split(seq)
        ids = _instance_ids(rng, int(rng.integers(3, 6)))
        n_frames, spawn, spawn_rng = frames, [], None
        if split == 'train':
            n_frames = frames if train_frames is None else int(train_frames)
            spawn_rng = np.random.default_rng([seed, seq])
            spawn = _spawn_ids(spawn_rng, int(round(train_spawn * n_frames)),
                               ids)
        truth = paint_video(rng, n_frames, size, stuff, THINGS, ids,
                            void_id=255, crowd_id=13, outline=thing_outline,
                            spawn_ids=spawn, spawn_rng=spawn_rng)
        video = dict(name=f'{seq:04d}', sequence=seq, split=split,
                     things=truth.things, frames=[])
        for t in range(n_frames):
            img = out / 'training' / 'image_02' / f'{seq:04d}' / f'{t:06d}.png'
            lab = out / 'panoptic_maps' / split / f'{seq:04d}' / f'{t:06d}.png'
            save_image(img, truth.images[t])
            save_image(lab, encode_kitti_step(truth.semantic[t],
                                              truth.instance[t]))
            video['frames'].append(dict(
                frame=t, image=str(img), label=str(lab),
                semantic=truth.semantic[t].astype(np.uint8),
                instance=truth.instance[t], crowd=truth.crowd[t],
                void=truth.void[t]))
        manifest['videos'].append(video)
        manifest['splits'][split].append(video['name'])
    for seq in range(test_videos):
        truth = paint_video(rng, frames, size, stuff, THINGS,
                            _instance_ids(rng, 3), crowd_id=13,
                            outline=thing_outline)
        video = dict(name=f'{seq:04d}', sequence=seq, split='test',
                     things={}, frames=[])
        for t in range(frames):
            img = out / 'testing' / 'image_02' / f'{seq:04d}' / f'{t:06d}.png'
            save_image(img, truth.images[t])
            video['frames'].append(dict(frame=t, image=str(img), label=None))
        manifest['videos'].append(video)
        manifest['splits']['test'].append(video['name'])
    return manifest
