#!/usr/bin/env python
"""Convert official YouTube-VIS annotations to the COCO-video JSON of mmdet.

For each split (train, valid, test) the official file is looked up as
``INPUT/{split}.json`` (2019 release) or ``INPUT/{split}/instances.json``
(2021 release); a missing split is skipped with a warning. Writes
``OUTPUT/youtube_vis_{version}_{split}.json`` with ``videos``, ``images``
(``video_id``, ``frame_id``) and, where the split has labels,
``annotations`` (``instance_id``, ``bbox``, ``segmentation``, ``area``,
``iscrowd``), one per non-empty frame of a track, as mmdet's
``YouTubeVISDataset`` expects.

``--holdout N`` also carves N training videos (seeded choice) into a local
validation split, since the official valid labels are not public:
``youtube_vis_{version}_holdout_train.json`` (train without them),
``youtube_vis_{version}_holdout_val.json`` (them, COCO-video) and
``youtube_vis_{version}_holdout_val_raw.json`` (them, in the official
format, for tools/eval_vis.py). Their frames stay in ``train/JPEGImages``.

Example:
    python tools/dataset/youtubevis2coco.py -i data/youtube_vis_2019/annotations \
        -o data/youtube_vis_2019/annotations --version 2019 --holdout 100
"""
import argparse
import copy
import os.path as osp
import sys
from pathlib import Path
from typing import Dict, List, Optional

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))

from knet.formats.io import DataError, dump_json, load_json  # noqa: E402
from knet.formats.youtube_vis import (validate_ytvis_official,  # noqa: E402
                                      ytvis_classes)
from knet.utils.cli import ArgumentParser, int_range, run_cli  # noqa: E402

SPLITS = ('train', 'valid', 'test')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = ArgumentParser(
        description='YouTube-VIS official JSON -> COCO-video JSON '
        '(youtube_vis_{version}_{split}.json).')
    parser.add_argument('-i', '--input', required=True, path='in-dir',
                        help='folder with {train,valid,test}.json (2019) or '
                        '{train,valid,test}/instances.json (2021)')
    parser.add_argument('-o', '--output', required=True, path='out-dir',
                        help='folder for the converted JSON files (may be '
                        'the input folder: the names differ)')
    parser.add_argument('--version', choices=('2019', '2021'), required=True,
                        help='YouTube-VIS release')
    parser.add_argument('--holdout', type=int_range(0), default=0,
                        metavar='N', help='carve N training videos into a '
                        'local validation split (default: 0, none)')
    parser.add_argument('--seed', type=int_range(0, 2**32 - 1), default=0,
                        help='seed of the hold-out choice (default: 0)')
    return parser.parse_args(argv)


def find_split(root: Path, split: str) -> Optional[Path]:
    for path in (root / f'{split}.json', root / split / 'instances.json'):
        if path.is_file():
            return path
    return None


def convert(data: Dict, path: Path, desc: str = '') -> Dict:
    """Official YouTube-VIS dict -> COCO-video dict (mmdet's layout)."""
    from tqdm import tqdm
    out = dict(categories=copy.deepcopy(data['categories']), videos=[],
               images=[], annotations=[])
    by_video: Dict[int, List[Dict]] = {}
    for a in data.get('annotations') or ():
        by_video.setdefault(a['video_id'], []).append(a)
    img_id = ann_id = instance_id = 1
    for v in tqdm(data['videos'], desc=desc, unit='video'):
        out['videos'].append(dict(id=v['id'],
                                  name=v['file_names'][0].split('/')[0],
                                  width=v['width'], height=v['height']))
        instance_of = {}
        for frame_id, file_name in enumerate(v['file_names']):
            out['images'].append(dict(
                file_name=file_name, height=v['height'], width=v['width'],
                id=img_id, frame_id=frame_id, video_id=v['id']))
            for a in by_video.get(v['id'], ()):
                bbox = a['bboxes'][frame_id]
                if bbox is None:
                    continue
                # validate_ytvis_official: a box comes with a mask and area
                seg, area = a['segmentations'][frame_id], \
                    a['areas'][frame_id]
                if a['id'] not in instance_of:
                    instance_of[a['id']] = instance_id
                    instance_id += 1
                out['annotations'].append(dict(
                    id=ann_id, video_id=v['id'], image_id=img_id,
                    category_id=a['category_id'],
                    instance_id=instance_of[a['id']], bbox=bbox,
                    segmentation=seg, area=area,
                    iscrowd=a.get('iscrowd', 0)))
                ann_id += 1
            img_id += 1
    return out


def subset(data: Dict, video_ids) -> Dict:
    """The official-format dict restricted to some videos."""
    keep = set(video_ids)
    out = {k: v for k, v in data.items()
           if k not in ('videos', 'annotations')}
    out['videos'] = [v for v in data['videos'] if v['id'] in keep]
    if data.get('annotations') is not None:
        out['annotations'] = [a for a in data['annotations']
                              if a['video_id'] in keep]
    return out


def summary(name: str, coco: Dict) -> str:
    return (f'{name}: {len(coco["videos"])} videos, {len(coco["images"])} '
            f'images, {len(coco["annotations"])} annotations')


def main(argv: Optional[List[str]] = None) -> int:
    import numpy as np
    args = parse_args(argv)
    root, out = Path(args.input), Path(args.output)
    found = {s: find_split(root, s) for s in SPLITS}
    if not any(found.values()):
        raise DataError(f'{root}: no train.json / valid.json / test.json '
                        '(or <split>/instances.json) found')
    if args.holdout and found['train'] is None:
        raise DataError(f'--holdout {args.holdout}: no train annotations in '
                        f'{root} to hold videos out of')
    prefix = f'youtube_vis_{args.version}'
    loaded = {}
    for split in SPLITS:  # read and check everything before writing
        path = found[split]
        if path is None:
            print(f'warning: no {split} annotations in {root}; skipped',
                  file=sys.stderr)
            continue
        data = load_json(path)
        validate_ytvis_official(data, path)
        loaded[split] = data
    if args.holdout:
        n = len(loaded['train']['videos'])
        if not 0 < args.holdout < n:
            raise DataError(f'--holdout {args.holdout}: must lie in '
                            f'1..{n - 1} ({found["train"]} has {n} videos)')
    for split, data in loaded.items():
        path = found[split]
        cats = sorted(data['categories'], key=lambda c: c['id'])
        names = [c.get('name') for c in cats]
        if names != list(ytvis_classes(args.version)):
            print(f'warning: {path}: categories are not the YouTube-VIS '
                  f'{args.version} classes (wrong --version?)',
                  file=sys.stderr)
        coco = convert(data, path, desc=split)
        dump_json(coco, out / f'{prefix}_{split}.json')
        print(summary(f'{prefix}_{split}', coco))
        if split == 'train' and args.holdout:
            ids = sorted(v['id'] for v in data['videos'])
            rng = np.random.default_rng(args.seed)
            picked = rng.choice(ids, args.holdout, replace=False)
            held = sorted(int(i) for i in picked)
            rest = [i for i in ids if i not in set(held)]
            raw = subset(data, held)
            parts = dict(holdout_train=convert(subset(data, rest), path),
                         holdout_val=convert(raw, path))
            for name, part in parts.items():
                dump_json(part, out / f'{prefix}_{name}.json')
                print(summary(f'{prefix}_{name}', part))
            dump_json(raw, out / f'{prefix}_holdout_val_raw.json')
    return 0


if __name__ == '__main__':
    sys.exit(run_cli(main))
