#!/usr/bin/env python
"""Evaluate video panoptic predictions: KITTI-STEP (STQ + VPQ),
Cityscapes-VPS and VIPSeg (VPQ), with the official metric definitions.

Examples::

    python tools/eval_vps.py kitti-step --gt-root data/kitti-step --split val \\
        --pred-dir work_dirs/step_pred --workers 2 --out step.json
    python tools/eval_vps.py cityscapes-vps --gt-root data/cityscapes_vps \\
        --pred-dir work_dirs/cvps_pred --out cvps.json
    python tools/eval_vps.py vipseg --gt-root data/VIPSeg --split val \\
        --pred-dir work_dirs/vipseg_pred --out vipseg.json

Ground truth and predictions are streamed (a window of frames at most per
worker). See knet/evaluation/functional/{stq,vpq}.py for the exact metric
rules and the official quirks they keep. Bad input (a missing, extra,
corrupt or wrongly sized prediction, an id missing from pred.json, an unknown
category) stops the run with one line naming the file.
"""
import argparse
import json
import math
import multiprocessing as mp
import os
import re
import sys
import warnings
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

if __package__ in (None, ''):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
if __name__ == '__main__':
    # Run as a script: load knet.evaluation.functional (pure NumPy) without
    # executing knet/evaluation/__init__.py, which imports the mmdet-based
    # metrics (seconds of start-up in every worker for nothing).
    import types
    if 'knet.evaluation' not in sys.modules:
        _pkg = types.ModuleType('knet.evaluation')
        _pkg.__path__ = [str(Path(__file__).resolve().parents[1] / 'knet' /
                             'evaluation')]
        sys.modules['knet.evaluation'] = _pkg

from knet.evaluation.functional.frames import (kitti_step_table,  # noqa: E402
                                               panoptic_ids_to_keys,
                                               vipseg_gt_keys)
from knet.evaluation.functional.segments import (  # noqa: E402
    UnknownIdError, pair_table_known)
from knet.evaluation.functional.stq import STQAccumulator  # noqa: E402
from knet.evaluation.functional.vpq import (CONVENTIONS,  # noqa: E402
                                            VPQAccumulator, VPQStats)
from knet.formats.cityscapes import CITYSCAPES_CLASSES  # noqa: E402
from knet.formats.io import DataError, atomic_write_bytes  # noqa: E402
from knet.utils.cli import run_cli  # noqa: E402
from knet.formats.panopticapi import rgb2id  # noqa: E402

KITTI_THINGS = (11, 13)
KITTI_NUM_CLASSES = 19
KITTI_GT_RE = re.compile(r'^(\d{6})_(\d{6})_panoptic\.png$')
KITTI_PRED_RE = re.compile(r'^(\d{6})\.png$')


# --------------------------------------------------------------------------
# image reading
# --------------------------------------------------------------------------
def read_png(path, what: str = 'image') -> np.ndarray:
    """Decode a label PNG unchanged; bad files raise a one-line DataError."""
    from PIL import Image
    try:
        with Image.open(path) as im:
            im.load()
            mode = im.mode
            arr = np.asarray(im)
    except FileNotFoundError:
        raise DataError(f'{path}: {what} not found') from None
    except Exception as e:  # PIL raises many types on broken files
        raise DataError(f'{path}: cannot decode {what} '
                        f'({" ".join(str(e).split())})') from None
    if mode == 'RGBA':
        arr = arr[..., :3]
    return arr


def read_rgb_planes(path, what: str):
    """Decode an RGB PNG into contiguous (R, G, B) uint8 planes. Splitting
    the bands in PIL is faster than ``np.asarray`` on the packed RGB image,
    and the planes are what the KITTI-STEP code needs."""
    from PIL import Image
    try:
        with Image.open(path) as im:
            im.load()
            if im.mode not in ('RGB', 'RGBA'):
                raise DataError(f'{path}: {what} must be an 8-bit RGB PNG, '
                                f'got mode {im.mode}')
            planes = tuple(np.asarray(band) for band in im.split()[:3])
    except FileNotFoundError:
        raise DataError(f'{path}: {what} not found') from None
    except DataError:
        raise
    except Exception as e:  # PIL raises many types on broken files
        raise DataError(f'{path}: cannot decode {what} '
                        f'({" ".join(str(e).split())})') from None
    return planes


def read_rgb(path, what: str) -> np.ndarray:
    arr = read_png(path, what)
    if arr.ndim != 3 or arr.shape[2] != 3 or arr.dtype != np.uint8:
        raise DataError(f'{path}: {what} must be an 8-bit RGB PNG, got '
                        f'shape {arr.shape} and dtype {arr.dtype}')
    return arr


def _size_check(gt: np.ndarray, pred: np.ndarray, gt_path, pred_path):
    if gt.shape[:2] != pred.shape[:2]:
        raise DataError(f'{pred_path}: prediction is {pred.shape[1]}x'
                        f'{pred.shape[0]} but the ground truth {gt_path} is '
                        f'{gt.shape[1]}x{gt.shape[0]}')


# --------------------------------------------------------------------------
# work splitting: chunks of a video, with warm-up frames for the windows
# --------------------------------------------------------------------------
def make_chunks(frames: Sequence, max_window: int,
                chunk: int) -> List[Tuple[List, int]]:
    """Split a video into (frames, first counted index) chunks; each chunk
    starts ``max_window - 1`` frames early so that windows ending in it see
    their frames (those warm-up frames are decoded but not counted)."""
    out = []
    for a in range(0, len(frames), chunk):
        s = max(0, a - max_window + 1)
        out.append((list(frames[s:a + chunk]), a - s))
    return out


def _run_tasks(fn, tasks: List, workers: int, total: int, desc: str):
    """Run ``fn`` over tasks (each returns (..., n_frames)) with a bar."""
    from tqdm import tqdm
    bar = tqdm(total=total, desc=desc, unit='frame', disable=None,
               file=sys.stderr)
    results = []
    try:
        if workers <= 1 or len(tasks) <= 1:
            for t in tasks:
                r = fn(t)
                bar.update(r[-1])
                results.append(r)
        else:
            ctx = mp.get_context('fork' if 'fork' in mp.get_all_start_methods()
                                 else 'spawn')
            with ctx.Pool(min(workers, len(tasks))) as pool:
                for r in pool.imap_unordered(fn, tasks):
                    bar.update(r[-1])
                    results.append(r)
    finally:
        bar.close()
    return results


# --------------------------------------------------------------------------
# KITTI-STEP
# --------------------------------------------------------------------------
def _kitti_task(task):
    seq, frames, start, windows, convention = task
    stq = STQAccumulator(KITTI_NUM_CLASSES, KITTI_THINGS)
    vpq = VPQAccumulator(KITTI_NUM_CLASSES, windows, convention)
    for i, (gt_path, pred_path) in enumerate(frames):
        gt = read_rgb_planes(gt_path, 'ground truth')
        pred = read_rgb_planes(pred_path, 'prediction')
        _size_check(gt[0], pred[0], gt_path, pred_path)
        try:
            table = kitti_step_table(gt, pred, KITTI_NUM_CLASSES,
                                     KITTI_THINGS)
        except ValueError as e:
            where = pred_path if 'prediction' in str(e) else gt_path
            raise DataError(f'{where}: {e}') from None
        counted = i >= start
        if counted:
            stq.update(table, seq)
        vpq.update(table, seq, count=counted)
    return stq.state_dict(), vpq.stats.state_dict(), len(frames) - start


def kitti_frames(gt_root: Path, split: str,
                 pred_dir: Path) -> Dict[int, List[Tuple[Path, Path]]]:
    """{sequence: [(gt png, prediction png), ...]} in frame order; checks
    that the prediction folder has exactly the ground-truth frames."""
    gt_dir = gt_root / 'video_sequence' / split
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
        m = re.match(r'^(\d{4})$', entry.name)
        if entry.is_dir() and m and int(m.group(1)) not in seqs:
            raise DataError(f'{entry.path}: extra prediction sequence (not '
                            f'in the {split} split)')
    return out


def eval_kitti_step(args) -> dict:
    windows = tuple(args.vpq_windows or (1, 2, 3, 4))
    convention = args.vpq_convention or 'vpsnet'
    videos = kitti_frames(Path(args.gt_root), args.split, Path(args.pred_dir))
    total = sum(len(v) for v in videos.values())
    chunk = args.chunk or max(8, math.ceil(total / max(1, args.workers * 4)))
    tasks = [(seq, frames, start, windows, convention)
             for seq, fr in videos.items()
             for frames, start in make_chunks(fr, max(windows), chunk)]
    results = _run_tasks(_kitti_task, tasks, args.workers, total,
                         'kitti-step')
    stq = STQAccumulator(KITTI_NUM_CLASSES, KITTI_THINGS)
    stats = VPQStats(windows, KITTI_NUM_CLASSES)
    for stq_state, vpq_state, _ in results:
        stq.merge(STQAccumulator.from_state_dict(stq_state,
                                                 KITTI_NUM_CLASSES,
                                                 KITTI_THINGS))
        stats.merge(VPQStats.from_state_dict(vpq_state))
    s = stq.result()
    stuff = [c for c in range(KITTI_NUM_CLASSES) if c not in KITTI_THINGS]
    v = stats.result(KITTI_THINGS, stuff, convention)
    out = dict(STQ=s['STQ'], AQ=s['AQ'], SQ=s['SQ'])
    out.update(_vpq_fields(v, CITYSCAPES_CLASSES))
    out['STQ_per_sequence'] = {
        f'{seq:04d}': r for seq, r in sorted(s['per_sequence'].items())}
    out['IoU_per_class'] = {CITYSCAPES_CLASSES[c]: iou
                            for c, iou in s['IoU_per_class'].items()}
    warn = list(v['warnings'])
    if s['SQ'] is None:
        warn.append('SQ: no class has a non-zero union')
    if s['per_sequence'] and all(r['tubes'] == 0
                                 for r in s['per_sequence'].values()):
        warn.append('AQ: the ground truth has no thing tube')
    out['settings'] = dict(split=args.split, vpq_windows=list(windows),
                           vpq_convention=convention, frames=total,
                           sequences=len(videos))
    out['warnings'] = warn
    return out


def _vpq_fields(v: dict, names) -> dict:
    out = dict(VPQ=v['VPQ'], VPQ_thing=v['VPQ_thing'],
               VPQ_stuff=v['VPQ_stuff'], VPQ_per_window=v['VPQ_per_window'],
               VPQ_thing_per_window=v['VPQ_thing_per_window'],
               VPQ_stuff_per_window=v['VPQ_stuff_per_window'])

    # names: a tuple (KITTI-STEP trainIds) or a dict (category id -> name)
    out['VPQ_per_class'] = {
        label: {names[c]: dict(r, pq=100 * r['pq'], sq=100 * r['sq'],
                              rq=100 * r['rq'])
                for c, r in per.items()}
        for label, per in v['per_class'].items()}
    return out


# --------------------------------------------------------------------------
# panopticapi-style predictions (Cityscapes-VPS, VIPSeg)
# --------------------------------------------------------------------------
def _segments(ann: dict, where) -> Dict[int, Tuple[int, bool]]:
    try:
        return {int(s['id']): (int(s['category_id']), bool(s.get('iscrowd',
                                                                  0)))
                for s in ann['segments_info']}
    except (KeyError, TypeError, ValueError):
        raise DataError(f'{where}: malformed segments_info') from None


def _panoptic_task(task):
    """One video chunk: frames are dicts with gt/pred paths and segments."""
    (kind, video, frames, start, windows, num_cats, categories, isthing,
     pred_json) = task
    vpq = VPQAccumulator(num_cats, windows, 'vpsnet')
    for i, fr in enumerate(frames):
        pred_rgb = read_rgb(fr['pred'], 'prediction')
        if kind == 'vipseg':
            gt = read_png(fr['gt'], 'ground truth')
            if gt.ndim != 2 or gt.dtype.kind not in 'ui':
                raise DataError(f'{fr["gt"]}: panomask must be a single-'
                                f'channel PNG, got shape {gt.shape}')
            gt_known = None
        else:
            gt = rgb2id(read_rgb(fr['gt'], 'ground truth'))
            gt_known = np.array(sorted(fr['gt_segments']), np.int64)
        _size_check(gt, pred_rgb, fr['gt'], fr['pred'])
        pred = rgb2id(pred_rgb)
        pred_known = np.array(sorted(fr['pred_segments']), np.int64)
        try:
            g, p, c = pair_table_known(gt, gt_known, pred, pred_known)
        except UnknownIdError as e:
            if e.side == 'predicted':
                raise DataError(f'{fr["pred"]}: segment id {e.value} is in '
                                f'the PNG but not in {pred_json}') from None
            raise DataError(f'{fr["gt"]}: segment id {e.value} is in the '
                            f'PNG but not in the ground-truth JSON') from None
        missing = set(fr['pred_segments']) - set(int(x) for x in p)
        if missing:
            raise DataError(f'{pred_json}: segment ids {sorted(missing)} of '
                            f'{Path(fr["pred"]).name} are not in the PNG')
        try:
            if kind == 'vipseg':
                gk = vipseg_gt_keys(g, isthing)
                order = None
            else:
                gk = panoptic_ids_to_keys(g, fr['gt_segments'], None,
                                          'ground truth')
                order = panoptic_ids_to_keys(
                    np.array(list(fr['gt_segments'])), fr['gt_segments'])
        except ValueError as e:
            raise DataError(f'{fr["gt"]}: {e}') from None
        try:
            pk = panoptic_ids_to_keys(p, fr['pred_segments'], categories,
                                      'prediction')
        except ValueError as e:
            raise DataError(f'{pred_json} ({Path(fr["pred"]).name}): {e}') \
                from None
        vpq.update((gk, pk, c), video, order=order, count=i >= start)
    return vpq.stats.state_dict(), len(frames) - start


def _pred_annotations(pred_dir: Path):
    path = pred_dir / 'pred.json'
    from knet.formats.io import load_json
    data = load_json(path)
    if not isinstance(data, dict) or 'annotations' not in data:
        raise DataError(f'{path}: no "annotations" list')
    return path, data['annotations']


def _check_extra_pngs(folder: Path, expected: set, what: str):
    if not folder.is_dir():
        return
    for entry in os.scandir(folder):
        if entry.is_file() and entry.name.endswith('.png') and \
                Path(entry.path) not in expected:
            raise DataError(f'{entry.path}: extra prediction frame ({what})')


def cityscapes_vps_videos(gt_root: Path, pred_dir: Path, gt_json: str,
                          gt_folder: str):
    """Videos of Cityscapes-VPS val as VPSNet's eval_vpq.py reads them."""
    from knet.formats.io import load_json
    gpath = gt_root / gt_json
    gt = load_json(gpath)
    try:
        categories = {int(c['id']): c for c in gt['categories']}
        images = list(gt['images'])
        anns = list(gt['annotations'])
    except (KeyError, TypeError):
        raise DataError(f'{gpath}: not a panoptic video JSON (needs '
                        f'images, annotations, categories)') from None
    ann_by_id = {a.get('image_id'): a for a in anns}
    ppath, pred_anns = _pred_annotations(pred_dir)
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
    for pos, im in enumerate(images):
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


def _vipseg_categories(path: Optional[str]):
    """(names by id, isthing array) of the 124 VIPSeg categories."""
    if path:
        from knet.formats.io import load_json
        cats = load_json(path)
    else:
        try:
            from knet.formats.vipseg import VIPSEG_CATEGORIES as cats
        except ImportError:
            raise DataError('knet.formats.vipseg (VIPSEG_CATEGORIES) is not '
                            'available; pass --categories '
                            'panoVIPSeg_categories.json') from None
    names, isthing = {}, {}
    for i, c in enumerate(cats):
        if isinstance(c, dict):
            cid = int(c.get('id', i))
            names[cid] = c.get('name', str(cid))
            isthing[cid] = bool(c.get('isthing', 0))
        else:  # (name, isthing) pairs
            names[i], isthing[i] = str(c[0]), bool(c[1])
    n = max(names) + 1
    flags = np.zeros(n, bool)
    for cid, t in isthing.items():
        flags[cid] = t
    return names, flags


def vipseg_videos(gt_root: Path, split: str, pred_dir: Path):
    split_file = gt_root / f'{split}.txt'
    if not split_file.is_file():
        raise DataError(f'{split_file}: split file not found')
    names = [line.strip() for line in split_file.read_text().splitlines()
             if line.strip()]
    ppath, pred_anns = _pred_annotations(pred_dir)
    try:
        pred_by_video = {str(a['video_id']): a['annotations']
                         for a in pred_anns}
    except (KeyError, TypeError):
        raise DataError(f'{ppath}: each annotation needs video_id and '
                        f'annotations') from None
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


def eval_panoptic(args, kind: str) -> dict:
    gt_root, pred_dir = Path(args.gt_root), Path(args.pred_dir)
    if not pred_dir.is_dir():
        raise DataError(f'{pred_dir}: prediction folder not found')
    if kind == 'cityscapes-vps':
        windows = tuple(args.vpq_windows or (1, 2, 3, 4))
        labels = [str((n - 1) * 5) for n in windows]
        videos, things, stuff, names, ppath = cityscapes_vps_videos(
            gt_root, pred_dir, args.gt_json, args.gt_folder)
        isthing = None
        categories = set(things) | set(stuff)
    else:
        windows = tuple(args.vpq_windows or (1, 2, 4, 6, 8))
        labels = [str(n) for n in windows]
        names, isthing = _vipseg_categories(args.categories)
        things = [c for c in names if isthing[c]]
        stuff = [c for c in names if not isthing[c]]
        categories = set(names)
        videos, ppath = vipseg_videos(gt_root, args.split, pred_dir)
    num_cats = max(categories) + 1
    total = sum(len(v) for v in videos.values())
    chunk = args.chunk or max(8, math.ceil(total / max(1, args.workers * 4)))
    tasks = [(kind, video, frames, start, windows, num_cats, categories,
              isthing, str(ppath))
             for video, fr in videos.items()
             for frames, start in make_chunks(fr, max(windows), chunk)]
    results = _run_tasks(_panoptic_task, tasks, args.workers, total, kind)
    stats = VPQStats(windows, num_cats)
    for state, _ in results:
        stats.merge(VPQStats.from_state_dict(state))
    v = stats.result(things, stuff, 'vpsnet', labels)
    out = _vpq_fields(v, names)
    out['settings'] = dict(vpq_windows=list(windows), window_labels=labels,
                           vpq_convention='vpsnet', frames=total,
                           videos=len(videos))
    out['warnings'] = list(v['warnings'])
    return out


# --------------------------------------------------------------------------
# command line
# --------------------------------------------------------------------------
def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Video panoptic evaluation (STQ, VPQ) identical to the '
        'official scripts, streaming and parallel over sequences.')
    sub = parser.add_subparsers(dest='dataset', required=True)

    def common(p, split=True):
        p.add_argument('--gt-root', required=True,
                       help='dataset root with the ground truth')
        if split:
            p.add_argument('--split', default='val',
                           help='split to evaluate (default: val)')
        p.add_argument('--pred-dir', required=True,
                       help='predictions in the official layout')
        p.add_argument('--vpq-windows', type=int, nargs='+',
                       help='VPQ window lengths in frames')
        p.add_argument('--workers', type=int, default=1,
                       help='processes (default 1)')
        p.add_argument('--chunk', type=int, default=0,
                       help='frames per work item (default: automatic)')
        p.add_argument('--out', required=True, help='output JSON file')

    k = sub.add_parser('kitti-step', help='KITTI-STEP: STQ and VPQ. GT '
                       'ROOT/video_sequence/<split>/{seq:06d}_{frame:06d}_'
                       'panoptic.png; PRED/{seq:04d}/{frame:06d}.png')
    common(k)
    k.add_argument('--vpq-convention', choices=CONVENTIONS,
                   default='vpsnet',
                   help='VPQ rules: vpsnet (VPSNet/VIPSeg eval_vpq, crowd '
                   'aware, default) or vip-deeplab (Video K-Net\'s '
                   'eval_dvpq_step.py, which produced its published '
                   'KITTI-STEP VPQ)')
    c = sub.add_parser('cityscapes-vps', help='Cityscapes-VPS val: VPQ '
                       '(k = 0, 5, 10, 15). PRED: pan_pred/<image id>.png + '
                       'pred.json')
    common(c, split=False)
    c.add_argument('--gt-json', default='panoptic_gt_val_city_vps.json',
                   help='GT JSON under --gt-root')
    c.add_argument('--gt-folder', default='val/panoptic_video',
                   help='GT PNG folder under --gt-root')
    v = sub.add_parser('vipseg', help='VIPSeg: VPQ (windows 1 2 4 6 8) on '
                       'the raw panomasks. PRED: pan_pred/<video>/<frame>.png'
                       ' + pred.json')
    common(v)
    v.add_argument('--categories', help='panoVIPSeg_categories.json '
                   '(default: the categories shipped in knet.formats.vipseg)')
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error('--workers must be >= 1')
    if args.vpq_windows and min(args.vpq_windows) < 1:
        parser.error('--vpq-windows must be >= 1')
    return args


def _fmt(x, scale=1.0):
    return '  n/a' if x is None else f'{x * scale:5.1f}' if scale != 1.0 \
        else f'{x:5.1f}'


def print_summary(res: dict, dataset: str) -> None:
    lines = [f'== {dataset} ==']
    if 'STQ' in res:
        lines.append('STQ {}  AQ {}  SQ {}  (x100)'.format(
            _fmt(res['STQ'], 100), _fmt(res['AQ'], 100),
            _fmt(res['SQ'], 100)))
    lines.append(f'{"window":>8} | {"VPQ":>5} {"thing":>5} {"stuff":>5}')
    for label in res['VPQ_per_window']:
        lines.append(f'{label:>8} | {_fmt(res["VPQ_per_window"][label])} '
                     f'{_fmt(res["VPQ_thing_per_window"][label])} '
                     f'{_fmt(res["VPQ_stuff_per_window"][label])}')
    lines.append(f'{"mean":>8} | {_fmt(res["VPQ"])} '
                 f'{_fmt(res["VPQ_thing"])} {_fmt(res["VPQ_stuff"])}')
    print('\n'.join(lines))


def main(argv=None) -> int:
    args = parse_args(argv)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        if args.dataset == 'kitti-step':
            res = eval_kitti_step(args)
        else:
            res = eval_panoptic(args, args.dataset)
    for w in res['warnings']:
        print(f'warning: {w}', file=sys.stderr)
    res = _jsonable(res)
    atomic_write_bytes(args.out, json.dumps(res, indent=1).encode())
    print_summary(res, args.dataset)
    return 0


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


if __name__ == '__main__':
    sys.exit(run_cli(main))
