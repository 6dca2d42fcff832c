"""Synthetic Cityscapes (fine) in the official download layout.

``leftImg8bit/{split}/{city}/{city}_{seq:06d}_{frame:06d}_leftImg8bit.png``
and ``gtFine/{split}/{city}/..._gtFine_labelIds.png`` (uint8 label ids) and
``..._gtFine_instanceIds.png`` (16-bit: ``labelId * 1000 + n`` for single
instances, n from 0; the plain label id for stuff and crowd groups). Each
"video" is one city sequence; videos alternate train / val. The derived
files (trainIds, panoptic, COCO JSON) come from
``tools/dataset/cityscapes_prepare.py``; the ``_color.png`` and
``_polygons.json`` files of the release are not written.

Manifest frames: ``label_id`` (labelIds), ``instance_ids`` (raw
instanceIds), ``semantic`` (trainId, 255 void), ``instance`` (the raw
instance id on single instances, 0 elsewhere), ``crowd``, ``void``.
"""
from pathlib import Path
from typing import Dict, Tuple

import numpy as np

from knet.formats.cityscapes_labels import label_ids_to_train_ids
from knet.formats.io import save_image

from .scene import paint_video

__all__ = ['make_cityscapes']

STUFF = (7, 8, 11, 12, 13, 17, 19, 20, 21, 22, 23, 9)  # 9: parking (ignored)
THINGS = (24, 25, 26, 27, 28, 31, 32, 33)
CITIES = {'train': ('aachen', 'bochum'), 'val': ('frankfurt', 'lindau')}


def make_cityscapes(out, videos: int = 2, frames: int = 6,
                    size: Tuple[int, int] = (64, 128), seed: int = 0,
                    **_) -> Dict:
    """Write ``videos`` sequences of ``frames`` images; return the
    manifest."""
    out = Path(out)
    rng = np.random.default_rng(seed)
    manifest = dict(dataset='cityscapes', root=str(out), size=tuple(size),
                    seed=seed, videos=[], splits={'train': [], 'val': []})
    for k in range(videos):
        split = ('train', 'val')[k % 2]
        city = CITIES[split][(k // 2) % 2]
        seq = k
        n_things = int(rng.integers(3, 6))
        truth = paint_video(rng, frames, size, STUFF, THINGS,
                            list(range(1, n_things + 1)), void_id=1,
                            crowd_id=int(rng.choice((24, 26))))
        # Cityscapes numbers the instances of each class from 0.
        number, per_class = {}, {}
        for tid, cls in sorted(truth.things.items()):
            number[tid] = per_class.get(cls, 0)
            per_class[cls] = number[tid] + 1
        raw_of = np.zeros(n_things + 1, np.int64)
        for tid, cls in truth.things.items():
            raw_of[tid] = cls * 1000 + number[tid]
        video = dict(name=f'{city}_{seq:06d}', split=split, city=city,
                     things={int(raw_of[t]): c
                             for t, c in truth.things.items()}, frames=[])
        for t in range(frames):
            stem = f'{city}_{seq:06d}_{19 + t:06d}'
            img = out / 'leftImg8bit' / split / city / \
                f'{stem}_leftImg8bit.png'
            gt = out / 'gtFine' / split / city
            label_id = truth.semantic[t].astype(np.uint8)
            inst = raw_of[truth.instance[t]]
            instance_ids = np.where(inst > 0, inst, label_id).astype(np.uint16)
            save_image(img, truth.images[t])
            save_image(gt / f'{stem}_gtFine_labelIds.png', label_id)
            save_image(gt / f'{stem}_gtFine_instanceIds.png', instance_ids)
            video['frames'].append(dict(
                frame=19 + t, image=str(img),
                label=str(gt / f'{stem}_gtFine_labelIds.png'),
                instance_label=str(gt / f'{stem}_gtFine_instanceIds.png'),
                label_id=label_id, instance_ids=instance_ids,
                semantic=label_ids_to_train_ids(label_id),
                instance=inst.astype(np.int32), crowd=truth.crowd[t],
                void=label_ids_to_train_ids(label_id) == 255))
        manifest['videos'].append(video)
        manifest['splits'][split].append(video['name'])
    return manifest
