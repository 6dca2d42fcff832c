"""Synthetic COCO panoptic in Detectron2's layout.

``{train,val}2017/{image_id:012d}.jpg``, ``panoptic_{train,val}2017/*.png``
(panopticapi RGB ids), ``annotations/panoptic_{train,val}2017.json``
(``images``, ``annotations`` with ``segments_info``, the 133 official
``categories``) and ``annotations/instances_{train,val}2017.json`` (things
only, uncompressed RLE). Each "video" becomes ``frames`` consecutive images;
videos alternate train / val.

Segment ids (ours, deterministic; the release used random colours):
``category_id * 1000`` for stuff, ``category_id * 1000 + k`` (k >= 1) for
things, ``category_id * 1000 + 999`` for a crowd region, 0 on void.

Manifest frames: ``semantic`` = category id (255 void), ``instance`` = the
thing's segment id (0 elsewhere, crowd included), ``segment_ids`` = the id
map written, ``crowd``, ``void``.
"""
from pathlib import Path
from typing import Dict, Tuple

import numpy as np

from knet.formats.coco_panoptic import (COCO_PANOPTIC_CATEGORIES,
                                        COCO_STUFF_IDS, COCO_THING_IDS)
from knet.formats.io import dump_json, save_image
from knet.formats.panopticapi import id2rgb
from knet.formats.coco_mask import mask_to_bbox, mask_to_rle

from .scene import paint_video

__all__ = ['make_coco_panoptic']


def make_coco_panoptic(out, videos: int = 2, frames: int = 6,
                       size: Tuple[int, int] = (64, 128), seed: int = 0,
                       **_) -> Dict:
    """Write ``videos * frames`` images; return the manifest."""
    out = Path(out)
    rng = np.random.default_rng(seed)
    H, W = size
    manifest = dict(dataset='coco_panoptic', root=str(out), size=tuple(size),
                    seed=seed, videos=[], splits={'train': [], 'val': []},
                    categories=COCO_PANOPTIC_CATEGORIES)
    pan = {s: dict(info=dict(description='synthetic COCO panoptic'),
                   licenses=[], images=[], annotations=[],
                   categories=COCO_PANOPTIC_CATEGORIES)
           for s in ('train', 'val')}
    ins = {s: dict(info=dict(description='synthetic COCO instances'),
                   licenses=[], images=[], annotations=[],
                   categories=[dict(id=c['id'], name=c['name'])
                               for c in COCO_PANOPTIC_CATEGORIES
                               if c['isthing']])
           for s in ('train', 'val')}
    image_id, ann_id = 1, 1
    for k in range(videos):
        split = ('train', 'val')[k % 2]
        n_things = int(rng.integers(3, 6))
        truth = paint_video(rng, frames, size, COCO_STUFF_IDS,
                            rng.choice(COCO_THING_IDS, 3, replace=False),
                            list(range(1, n_things + 1)), void_id=255,
                            crowd_id=int(rng.choice(COCO_THING_IDS)))
        video = dict(name=f'{split}_{k:03d}', split=split,
                     things=truth.things, frames=[])
        for t in range(frames):
            name = f'{image_id:012d}'
            sem, tid = truth.semantic[t], truth.instance[t]
            seg = np.where(tid > 0, sem.astype(np.int64) * 1000 + tid,
                           sem.astype(np.int64) * 1000)
            seg = np.where(truth.crowd[t], seg + 999, seg)
            seg = np.where(sem == 255, 0, seg)
            img = out / f'{split}2017' / f'{name}.jpg'
            png = out / f'panoptic_{split}2017' / f'{name}.png'
            save_image(img, truth.images[t])
            save_image(png, id2rgb(seg))
            info = dict(id=image_id, file_name=f'{name}.jpg', width=W,
                        height=H)
            pan[split]['images'].append(dict(info))
            ins[split]['images'].append(dict(info))
            segments = []
            for sid in np.unique(seg[seg > 0]):
                m = seg == sid
                cat, crowd = int(sid // 1000), int(sid % 1000 == 999)
                segments.append(dict(id=int(sid), category_id=cat,
                                     iscrowd=crowd, bbox=mask_to_bbox(m),
                                     area=int(m.sum())))
                if cat in COCO_THING_IDS:
                    ins[split]['annotations'].append(dict(
                        id=ann_id, image_id=image_id, category_id=cat,
                        iscrowd=crowd, segmentation=mask_to_rle(m),
                        bbox=mask_to_bbox(m), area=float(m.sum())))
                    ann_id += 1
            pan[split]['annotations'].append(dict(
                image_id=image_id, file_name=f'{name}.png',
                segments_info=segments))
            video['frames'].append(dict(
                frame=t, image_id=image_id, image=str(img), label=str(png),
                semantic=sem.astype(np.int32),
                instance=np.where(tid > 0, seg, 0).astype(np.int32),
                segment_ids=seg.astype(np.int32), crowd=truth.crowd[t],
                void=truth.void[t]))
            image_id += 1
        manifest['videos'].append(video)
        manifest['splits'][split].append(video['name'])
    for split in ('train', 'val'):
        dump_json(pan[split], out / 'annotations' /
                  f'panoptic_{split}2017.json')
        dump_json(ins[split], out / 'annotations' /
                  f'instances_{split}2017.json')
    return manifest
