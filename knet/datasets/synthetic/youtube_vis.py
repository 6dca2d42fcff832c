"""Synthetic YouTube-VIS 2019 / 2021 in the official layout.

Frames: ``{train,valid}/JPEGImages/<video>/<frame:05d>.jpg``. Annotations in
the official JSON format (see :mod:`knet.formats.youtube_vis`): 2019 writes
``annotations/train.json`` and ``annotations/valid.json``; 2021 writes the
release's ``train/instances.json`` and ``valid/instances.json``. As in the
release, valid has no annotations (the manifest still holds the truth of
every frame). Pass the manifest's ``ann_dir`` to youtubevis2coco.py.

Manifest frames: ``instance`` = track id (the annotation id, 0 on
background), ``semantic`` = category id 1..40 (0 on background); ``crowd``
and ``void`` are empty (YouTube-VIS has neither).
"""
from pathlib import Path
from typing import Dict, Tuple

import numpy as np

from knet.formats.io import dump_json, save_image
from knet.formats.coco_mask import mask_to_bbox, mask_to_rle
from knet.formats.youtube_vis import ytvis_categories

from .scene import paint_video

__all__ = ['make_youtube_vis', 'make_youtube_vis_2019',
           'make_youtube_vis_2021']

BACKGROUND = (1001, 1002, 1003, 1004)  # painter-only background classes


def make_youtube_vis(out, version: str = '2019', videos: int = 2,
                     frames: int = 6, size: Tuple[int, int] = (64, 128),
                     seed: int = 0, valid_videos: int = 1, **_) -> Dict:
    """Write ``videos`` annotated train videos and ``valid_videos``
    unannotated valid videos; return the manifest."""
    out = Path(out)
    rng = np.random.default_rng(seed)
    categories = ytvis_categories(version)
    cat_ids = [c['id'] for c in categories]
    H, W = size
    ann_dir = out / 'annotations' if version == '2019' else out
    manifest = dict(dataset=f'youtube_vis_{version}', root=str(out),
                    size=tuple(size), seed=seed, ann_dir=str(ann_dir),
                    categories=categories, videos=[],
                    splits={'train': [], 'valid': []})
    jsons = {s: dict(info=dict(description=f'synthetic YouTube-VIS '
                               f'{version}', version='1.0'),
                     licenses=[], videos=[], categories=categories)
             for s in ('train', 'valid')}
    jsons['train']['annotations'] = []
    ann_id = 1
    for k in range(videos + valid_videos):
        split = 'train' if k < videos else 'valid'
        vid = len(jsons[split]['videos']) + 1
        name = ''.join(rng.choice(list('0123456789abcdef'), 10))
        n_things = int(rng.integers(2, 5))
        track_ids = list(range(ann_id, ann_id + n_things))
        ann_id += n_things
        truth = paint_video(rng, frames, size, BACKGROUND,
                            rng.choice(cat_ids, 3, replace=False),
                            track_ids, void_id=0, crowd_id=None,
                            void_area=False)
        file_names = []
        video = dict(name=name, id=vid, split=split, things=truth.things,
                     frames=[])
        for t in range(frames):
            rel = f'{name}/{5 * t:05d}.jpg'
            img = out / split / 'JPEGImages' / rel
            save_image(img, truth.images[t])
            file_names.append(rel)
            ins = truth.instance[t]
            sem = np.zeros_like(ins)
            for tid, cls in truth.things.items():
                sem[ins == tid] = cls
            video['frames'].append(dict(frame=t, image=str(img),
                                        label=None, instance=ins,
                                        semantic=sem,
                                        crowd=np.zeros(ins.shape, bool),
                                        void=np.zeros(ins.shape, bool)))
        jsons[split]['videos'].append(dict(
            license=1, coco_url='', flickr_url='', date_captured='',
            height=H, width=W, length=frames, file_names=file_names,
            id=vid))
        if split == 'train':
            for tid in track_ids:
                masks = [truth.instance[t] == tid for t in range(frames)]
                jsons['train']['annotations'].append(dict(
                    id=tid, video_id=vid, category_id=truth.things[tid],
                    iscrowd=0, height=H, width=W, length=1,
                    segmentations=[mask_to_rle(m) if m.any() else None
                                   for m in masks],
                    bboxes=[mask_to_bbox(m) for m in masks],
                    areas=[float(m.sum()) if m.any() else None
                           for m in masks]))
        manifest['videos'].append(video)
        manifest['splits'][split].append(name)
    for split, data in jsons.items():
        path = ann_dir / f'{split}.json' if version == '2019' else \
            out / split / 'instances.json'
        dump_json(data, path)
        manifest[f'{split}_json'] = str(path)
    return manifest


def make_youtube_vis_2019(out, **kwargs) -> Dict:
    return make_youtube_vis(out, version='2019', **kwargs)


def make_youtube_vis_2021(out, **kwargs) -> Dict:
    return make_youtube_vis(out, version='2021', **kwargs)
