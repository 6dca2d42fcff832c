"""Find each benchmark's ground-truth files and pair them with predictions.

Every function checks that the prediction folder holds exactly the frames
the ground truth asks for (a missing, extra or unlisted file is a one-line
:class:`~knet.formats.io.DataError` naming it) and returns the videos in
frame order, ready for :func:`knet.evaluation.offline.pool.make_chunks`.

Layouts (see docs of ``tools/eval_vps.py``):

* KITTI-STEP: ``GT/video_sequence/<split>/{seq:06d}_{frame:06d}_panoptic.png``
  and ``PRED/{seq:04d}/{frame:06d}.png``.
* Cityscapes-VPS (VPSNet ``eval_vpq.py``): the panoptic GT JSON + PNG
  folder, ``PRED/pan_pred/<image id>.png`` + ``PRED/pred.json``.
* VIPSeg (``eval_vpq_vspw.py``): raw ``GT/panomasks/<video>/*.png`` and
  ``GT/<split>.txt``, ``PRED/pan_pred/<video>/<frame>.png`` + ``pred.json``
  (frames paired by position).
"""
import os
import re
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np

from knet.formats.coco_panoptic import (validate_panoptic_json,
                                        validate_video_panoptic_predictions)
from knet.formats.io import DataError, load_json, read_name_list
from knet.formats.panopticapi import parse_segments_info

__all__ = [
    'kitti_step_pairs', 'cityscapes_vps_videos', 'vipseg_videos',
    'vipseg_categories'
]

KITTI_GT_RE = re.compile(r'^(\d{6})_(\d{6})_panoptic\.png$')
KITTI_PRED_RE = re.compile(r'^(\d{6})\.png$')
KITTI_PRED_SEQ_RE = re.compile(r'^(\d{4})$')


def kitti_step_pairs(gt_root: Path, split: str,
                     pred_dir: Path) -> Dict[int, List[Tuple[Path, Path]]]:
    """{sequence: [(gt png, prediction png), ...]} in frame order."""
    gt_dir = Path(gt_root) / 'video_sequence' / split
    pred_dir = Path(pred_dir)
    if not gt_dir.is_dir():
        raise DataError(f'{gt_dir}: ground-truth folder not found (expected '
                        f'video_sequence/{split}/ under --gt-root)')
    seqs: Dict[int, Dict[int, Path]] = {}
    for entry in os.scandir(gt_dir):
        m = KITTI_GT_RE.match(entry.name)
        if m:
            seqs.setdefault(int(m.group(1)), {})[int(m.group(2))] = \
                Path(entry.path)
    if not seqs:
        raise DataError(f'{gt_dir}: no *_panoptic.png ground truth found')
    if not pred_dir.is_dir():
        raise DataError(f'{pred_dir}: prediction folder not found')
    out = {}
    for seq in sorted(seqs):
        pdir = pred_dir / f'{seq:04d}'
        if not pdir.is_dir():
            raise DataError(f'{pdir}: prediction sequence folder missing')
        have = {}
        for entry in os.scandir(pdir):
            m = KITTI_PRED_RE.match(entry.name)
            if not m:
                raise DataError(f'{entry.path}: unexpected file in the '
                                f'prediction folder')
            have[int(m.group(1))] = Path(entry.path)
        for f in sorted(seqs[seq]):
            if f not in have:
                raise DataError(f'{pdir / f"{f:06d}.png"}: prediction '
                                f'frame missing')
        extra = sorted(set(have) - set(seqs[seq]))
        if extra:
            raise DataError(f'{have[extra[0]]}: extra prediction frame (no '
                            f'ground truth for it)')
        out[seq] = [(seqs[seq][f], have[f]) for f in sorted(seqs[seq])]
    for entry in os.scandir(pred_dir):
        m = KITTI_PRED_SEQ_RE.match(entry.name)
        if entry.is_dir() and m and int(m.group(1)) not in seqs:
            raise DataError(f'{entry.path}: extra prediction sequence (not '
                            f'in the {split} split)')
    return out


def _segments(ann, where) -> Dict[int, Tuple[int, bool]]:
    try:
        return parse_segments_info(ann['segments_info'])
    except (KeyError, TypeError, ValueError):
        raise DataError(f'{where}: malformed segments_info') from None


def _pred_json(pred_dir: Path):
    """(path, content) of ``pred_dir/pred.json``."""
    path = pred_dir / 'pred.json'
    return path, load_json(path)


def _check_extra_pngs(folder: Path, expected: set, what: str) -> None:
    if not folder.is_dir():
        return
    for entry in os.scandir(folder):
        if entry.is_file() and entry.name.endswith('.png') and \
                Path(entry.path) not in expected:
            raise DataError(f'{entry.path}: extra prediction frame ({what})')


def cityscapes_vps_videos(gt_root: Path, pred_dir: Path, gt_json: str,
                          gt_folder: str):
    """Videos of Cityscapes-VPS val as VPSNet's eval_vpq.py reads them.

    Returns (videos, things, stuff, names, pred.json path); a video is a
    list of frame dicts (``gt``, ``pred``, ``gt_segments``,
    ``pred_segments``).
    """
    gt_root, pred_dir = Path(gt_root), Path(pred_dir)
    gpath = gt_root / gt_json
    gt = load_json(gpath)
    categories = validate_panoptic_json(gt, gpath)
    images = list(gt['images'])
    anns = list(gt['annotations'])
    ann_by_id = {a.get('image_id'): a for a in anns}
    ppath, pred = _pred_json(pred_dir)
    validate_panoptic_json(pred, ppath, predictions=True,
                           categories=categories)
    pred_anns = pred['annotations']
    if pred_anns and all(isinstance(a, dict) and 'image_id' not in a
                         for a in pred_anns):
        # no image ids: paired by position with the GT annotations, as
        # VPSNet's eval_vpq.py zips the two lists
        if len(pred_anns) != len(anns):
            raise DataError(f'{ppath}: {len(pred_anns)} annotations for '
                            f'{len(anns)} ground-truth frames')
        pred_by_id = {a.get('image_id'): p for a, p in zip(anns, pred_anns)}
    else:
        pred_by_id = {a.get('image_id'): a for a in pred_anns
                      if isinstance(a, dict)}
    # VPSNet pairs the sorted GT file names with the predictions; videos
    # are runs of frames sharing the leading video number of the name.
    images.sort(key=lambda im: im['file_name'])
    videos: Dict[str, List[dict]] = {}
    expected = set()
    for im in images:
        name = im['file_name']
        gt_png = gt_root / gt_folder / name.replace(
            '_newImg8bit.png', '_final_mask.png').replace(
                '_leftImg8bit.png', '_gtFine_color.png')
        ann = ann_by_id.get(im['id'])
        if ann is None:
            raise DataError(f'{gpath}: image {im["id"]} has no annotation')
        pann = pred_by_id.get(im['id'])
        if pann is None:
            raise DataError(f'{ppath}: no annotation for image_id '
                            f'{im["id"]}')
        pred_png = pred_dir / 'pan_pred' / f'{im["id"]}.png'
        if not pred_png.is_file():
            raise DataError(f'{pred_png}: prediction frame missing')
        expected.add(pred_png)
        videos.setdefault(name.split('_')[0], []).append(dict(
            gt=str(gt_png), pred=str(pred_png),
            gt_segments=_segments(ann, gpath),
            pred_segments=_segments(pann, ppath)))
    _check_extra_pngs(pred_dir / 'pan_pred', expected, 'not in the GT JSON')
    things = sorted(c for c, v in categories.items() if v.get('isthing'))
    stuff = sorted(c for c, v in categories.items() if not v.get('isthing'))
    names = {c: v.get('name', str(c)) for c, v in categories.items()}
    return videos, things, stuff, names, ppath


def vipseg_categories(path: Optional[str] = None):
    """(names by id, isthing array) of the 124 VIPSeg categories, from a
    ``panoVIPSeg_categories.json`` or the copy in knet.formats.vipseg."""
    if path:
        cats = load_json(path)
    else:
        from knet.formats.vipseg import VIPSEG_CATEGORIES as cats
    names, isthing = {}, {}
    try:
        for i, c in enumerate(cats):
            if isinstance(c, dict):
                cid = int(c.get('id', i))
                names[cid] = c.get('name', str(cid))
                isthing[cid] = bool(c.get('isthing', 0))
            else:  # (name, isthing) pairs
                names[i], isthing[i] = str(c[0]), bool(c[1])
    except (TypeError, ValueError, IndexError, KeyError):
        raise DataError(f'{path}: not a list of categories') from None
    if not names or min(names) < 0:
        raise DataError(f'{path}: no categories with ids >= 0')
    flags = np.zeros(max(names) + 1, bool)
    for cid, t in isthing.items():
        flags[cid] = t
    return names, flags


def vipseg_videos(gt_root: Path, split: str, pred_dir: Path):
    """Videos of a VIPSeg split as eval_vpq_vspw.py pairs them: returns
    (videos, pred.json path); a video is a list of frame dicts (``gt``,
    ``pred``, ``pred_segments``)."""
    gt_root, pred_dir = Path(gt_root), Path(pred_dir)
    split_file = gt_root / f'{split}.txt'
    if not split_file.is_file():
        raise DataError(f'{split_file}: split file not found')
    names = read_name_list(split_file, 'video')
    if not names:
        raise DataError(f'{split_file}: lists no video: nothing to evaluate')
    ppath, pred = _pred_json(pred_dir)
    pred_by_video = validate_video_panoptic_predictions(pred, ppath)
    videos = {}
    for video in names:
        gdir = gt_root / 'panomasks' / video
        if not gdir.is_dir():
            raise DataError(f'{gdir}: ground-truth video folder missing')
        gts = sorted(e.name for e in os.scandir(gdir)
                     if e.name.endswith('.png'))
        panns = pred_by_video.get(video)
        if panns is None:
            raise DataError(f'{ppath}: no predictions for video {video}')
        if len(panns) != len(gts):
            raise DataError(f'{ppath}: video {video} has {len(panns)} '
                            f'predicted frames but {len(gts)} ground-truth '
                            f'frames')
        pdir = pred_dir / 'pan_pred' / video
        frames, expected = [], set()
        # Frames are paired by position, like eval_vpq_vspw.py; the PNG
        # carries the ground-truth frame's file name.
        for name, pann in zip(gts, panns):
            pred_png = pdir / name
            if not pred_png.is_file():
                raise DataError(f'{pred_png}: prediction frame missing')
            expected.add(pred_png)
            frames.append(dict(gt=str(gdir / name), pred=str(pred_png),
                               pred_segments=_segments(pann, ppath)))
        _check_extra_pngs(pdir, expected, 'no ground truth for it')
        videos[video] = frames
    return videos, ppath
