"""Synthetic Cityscapes-VPS in VPSNet's layout (mcahny/vps).

Videos of ``5 * frames`` frames, every 5th annotated (frame numbers 5, 10,
...). File names ``{video:04d}_{frame:04d}_{city}_{seq:06d}_{n:06d}_`` +
``leftImg8bit.png`` (images) / ``gtFine_color.png`` (labels). Videos
alternate train / val. Written::

    train/img/             annotated frames
    train/labelmap/        uint8 trainId (255 void) of annotated frames
    val/img/, val/img_all/ annotated / all frames
    val/panoptic_video/    RGB panopticapi PNGs (id = R + 256 G + 256^2 B)
    instances_{train,val}_city_vps_rle.json   COCO instances (RLE), with
                           ``inst_id`` = trainId * 1000 + object id
    panoptic_im_{train,val}_city_vps.json     image lists
    im_all_info_val_city_vps.json             all val frames
    panoptic_gt_val_city_vps.json             panopticapi video ground truth

Segment ids of the panoptic PNGs (ours, deterministic; the release drew
random colours): stuff and crowd = trainId + 1, things = trainId * 1000 +
object id (object ids >= 1). Image ids are ``video * 10000 + frame``.

Manifest frames (annotated only): ``semantic`` trainId (255 void),
``instance`` object id (0 on stuff, crowd and void), ``crowd``, ``void``.
"""
from pathlib import Path
from typing import Dict, Tuple

import numpy as np

from knet.formats.cityscapes import CITYSCAPES_CLASSES, CITYSCAPES_THING_IDS
from knet.formats.io import dump_json, save_image
from knet.formats.panopticapi import id2rgb
from knet.formats.coco_mask import mask_to_bbox, mask_to_rle

from .scene import paint_video

__all__ = ['make_cityscapes_vps', 'CITY_VPS_CATEGORIES', 'vps_segment_ids']

THINGS = CITYSCAPES_THING_IDS
STUFF = tuple(range(11))
CITY_VPS_CATEGORIES = [
    dict(id=i, name=name, isthing=int(i in THINGS),
         supercategory='thing' if i in THINGS else 'stuff')
    for i, name in enumerate(CITYSCAPES_CLASSES)
]
CITIES = ('frankfurt', 'lindau', 'munster')


def vps_segment_ids(semantic: np.ndarray, instance: np.ndarray) -> np.ndarray:
    """Our panoptic segment ids: trainId + 1 for stuff / crowd, trainId *
    1000 + object id for things, 0 on void."""
    sem = semantic.astype(np.int64)
    ids = np.where(instance > 0, sem * 1000 + instance, sem + 1)
    return np.where(sem == 255, 0, ids)


def make_cityscapes_vps(out, videos: int = 2, frames: int = 6,
                        size: Tuple[int, int] = (64, 128), seed: int = 0,
                        **_) -> Dict:
    """Write ``videos`` videos (alternately train / val) with ``frames``
    annotated frames each; return the manifest."""
    out = Path(out)
    rng = np.random.default_rng(seed)
    H, W = size
    manifest = dict(dataset='cityscapes-vps', root=str(out), size=tuple(size),
                    seed=seed, videos=[], splits={'train': [], 'val': []},
                    categories=CITY_VPS_CATEGORIES)
    inst_json = {s: dict(images=[], annotations=[],
                         categories=[c for c in CITY_VPS_CATEGORIES
                                     if c['isthing']])
                 for s in ('train', 'val')}
    im_json = {s: dict(images=[], categories=CITY_VPS_CATEGORIES)
               for s in ('train', 'val')}
    all_json = dict(images=[], categories=CITY_VPS_CATEGORIES)
    pan_json = dict(images=[], annotations=[], categories=CITY_VPS_CATEGORIES)
    ann_id = 1
    for k in range(videos):
        split = ('train', 'val')[k % 2]
        vid = k + 1
        city, seq = CITIES[k % len(CITIES)], int(rng.integers(0, 300))
        n_total = 5 * frames
        truth = paint_video(rng, n_total, size, STUFF, THINGS,
                            list(range(1, int(rng.integers(3, 6)) + 1)),
                            void_id=255, crowd_id=int(rng.choice(THINGS)),
                            speed=0.2)
        first = int(rng.integers(0, 30000))
        video = dict(name=f'{vid:04d}', id=vid, split=split, city=city,
                     things=truth.things, frames=[], img_all=[])
        for f in range(1, n_total + 1):
            t = f - 1
            stem = f'{vid:04d}_{f:04d}_{city}_{seq:06d}_{first + f:06d}'
            img_name = f'{stem}_leftImg8bit.png'
            image_id = vid * 10000 + f
            info = dict(id=image_id, file_name=img_name, width=W, height=H)
            if split == 'val':
                save_image(out / 'val' / 'img_all' / img_name,
                           truth.images[t])
                video['img_all'].append(str(out / 'val' / 'img_all' /
                                            img_name))
                all_json['images'].append(dict(info))
            if f % 5:
                continue
            save_image(out / split / 'img' / img_name, truth.images[t])
            im_json[split]['images'].append(dict(info))
            inst_json[split]['images'].append(dict(info))
            sem, ins = truth.semantic[t], truth.instance[t]
            lab_name = f'{stem}_gtFine_color.png'
            for tid in np.unique(ins[ins > 0]):
                m = ins == tid
                cls = int(sem[m][0])
                inst_json[split]['annotations'].append(dict(
                    id=ann_id, image_id=image_id, category_id=cls,
                    inst_id=cls * 1000 + int(tid), iscrowd=0,
                    segmentation=mask_to_rle(m), bbox=mask_to_bbox(m),
                    area=float(m.sum())))
                ann_id += 1
            if split == 'train':
                label = out / 'train' / 'labelmap' / lab_name
                save_image(label, sem.astype(np.uint8))
            else:
                label = out / 'val' / 'panoptic_video' / lab_name
                ids = vps_segment_ids(sem, ins)
                save_image(label, id2rgb(ids))
                segs = []
                for sid in np.unique(ids[ids > 0]):
                    m = ids == sid
                    cls = int(sem[m][0])
                    segs.append(dict(id=int(sid), category_id=cls,
                                     iscrowd=int(cls in THINGS and
                                                 sid < 1000),
                                     area=int(m.sum())))
                pan_json['images'].append(dict(info))
                pan_json['annotations'].append(dict(
                    image_id=image_id, file_name=lab_name,
                    segments_info=segs))
            video['frames'].append(dict(
                frame=f, image=str(out / split / 'img' / img_name),
                label=str(label), semantic=sem.astype(np.uint8),
                instance=ins, crowd=truth.crowd[t], void=truth.void[t]))
        manifest['videos'].append(video)
        manifest['splits'][split].append(video['name'])
    for split in ('train', 'val'):
        dump_json(inst_json[split],
                  out / f'instances_{split}_city_vps_rle.json')
        dump_json(im_json[split], out / f'panoptic_im_{split}_city_vps.json')
    dump_json(all_json, out / 'im_all_info_val_city_vps.json')
    dump_json(pan_json, out / 'panoptic_gt_val_city_vps.json')
    return manifest
