#!/usr/bin/env python
"""Prepare VIPSeg: the official 720p resize, split files, panoptic JSON.

Reads (never changes) the official download::

    SRC/imgs/<video>/<frame>.jpg       (or SRC/images/ if already resized)
    SRC/panomasks/<video>/<frame>.png  (16-bit; none for test videos)
    SRC/train.txt, val.txt, test.txt   (video names)

and writes::

    DST/images/<video>/<frame>.jpg      height SHORT_SIDE, bilinear
    DST/panomasks/<video>/<frame>.png   same size, nearest
    DST/panomasksRGB/<video>/<frame>.png  panopticapi RGB ids
    DST/panoptic_gt_VIPSeg{,_train,_val}.json  video panoptic JSON
    DST/{train,val,test}.txt

Like the official ``change2_720p.py`` every frame is resized to a height of
``--short-side`` (720) keeping the aspect ratio (``int(720 * w / h)`` wide);
frames that already have that height are copied (or linked) unchanged. As in
the official ``create_panoptic_video_labels.py`` each distinct raw value of
a video is one segment over the whole video, decoded with
:func:`knet.formats.vipseg.decode_vipseg` (``iscrowd`` 0); our segment id is
the raw value itself (the official script drew random colours), so
``rgb2id(panomasksRGB) == panomask``. Existing outputs are kept (``--force``
rewrites them); every file is written atomically.

Example:
    python tools/dataset/vipseg_prepare.py --src /datasets/VIPSeg --dst data/VIPSeg
"""
import argparse
import os.path as osp
import sys
from pathlib import Path
from typing import Dict, List, Optional, Tuple

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))

import numpy as np  # noqa: E402

from knet.formats.io import (DataError, atomic_write_bytes,  # noqa: E402
                             dump_json, link_or_copy, read_name_list,
                             register_input, save_image)
from knet.formats.panopticapi import id2rgb  # noqa: E402
from knet.formats.vipseg import (VIPSEG_CATEGORIES,  # noqa: E402
                                 VIPSEG_NUM_CLASSES, vipseg_segments)
from knet.utils.cli import ArgumentParser, int_range, run_cli  # noqa: E402

SPLITS = ('train', 'val', 'test')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = ArgumentParser(
        description='VIPSeg: official 720p resize, split files and the '
        'panoptic video JSON + RGB PNGs used by VPQ evaluation.')
    parser.add_argument('--src', required=True, path='in-tree',
                        help='official VIPSeg root (imgs/ or images/, '
                        'panomasks/, train.txt, val.txt, test.txt)')
    parser.add_argument('--dst', default='data/VIPSeg', path='out-dir',
                        help='output root (default: data/VIPSeg)')
    parser.add_argument('--short-side', type=int_range(16, 4320),
                        default=720,
                        help='output frame height (default: 720)')
    parser.add_argument('--mode', choices=('link', 'copy'), default='copy',
                        help='how frames that need no resize are written '
                        '(default: copy)')
    parser.add_argument('--force', action='store_true',
                        help='rewrite outputs that already exist')
    return parser.parse_args(argv)


def open_image(path: Path, load: bool = True):
    """The image (decoded, or only its header without ``load``)."""
    from PIL import Image
    register_input(path)
    try:
        image = Image.open(path)
        if load:
            image.load()
        return image
    except FileNotFoundError:
        raise DataError(f'{path}: file not found') from None
    except Exception as e:
        raise DataError(f'{path}: cannot decode image ({e})') from None


def target_size(w: int, h: int, short_side: int):
    """The official rule: height = short_side, width = int(S * w / h)."""
    return int(short_side * w / h), short_side


def process_frame(img_path: Path, mask_path: Optional[Path], out_img: Path,
                  out_mask: Optional[Path],
                  args) -> Tuple[Optional[np.ndarray], int]:
    """Resize one frame (and its mask); return (output mask or None, number
    of files written)."""
    from PIL import Image
    written = 0
    need_img = args.force or not out_img.exists()
    need_mask = out_mask is not None and (args.force or not out_mask.exists())
    image = open_image(img_path, load=need_img or need_mask)
    size = target_size(*image.size, args.short_side)
    for out in (out_img, out_mask):
        if out is not None and not args.force and out.exists():
            check_size(out, size, args.short_side)
    array = None
    if need_mask:  # checked before anything of the frame is written
        mask = open_image(mask_path)
        if mask.size != image.size:
            raise DataError(f'{mask_path}: size {mask.size} differs from its '
                            f'image {img_path} {image.size}')
        array = np.array(mask.resize(size, Image.NEAREST))
        check_mask(array, mask_path)
    if need_img:
        if image.size == size:
            link_or_copy(img_path, out_img, args.mode)
        else:
            import io
            buf = io.BytesIO()
            image.convert('RGB').resize(size, Image.BILINEAR).save(
                buf, format='JPEG')
            atomic_write_bytes(out_img, buf.getvalue())
        written += 1
    if out_mask is None:
        return None, written
    if need_mask:
        save_image(out_mask, array.astype(np.uint16))
        written += 1
    else:
        array = np.array(open_image(out_mask))
        check_mask(array, out_mask)
    return array, written


def check_size(path: Path, size, short_side: int) -> None:
    """An output kept from an earlier run must have this run's size."""
    from PIL import Image
    try:
        with Image.open(path) as im:
            have = im.size
    except Exception as e:
        raise DataError(f'{path}: cannot read the existing output ({e}); '
                        'rerun with --force') from None
    if have != size:
        raise DataError(f'{path}: exists at {have[0]}x{have[1]}, not the '
                        f'{size[0]}x{size[1]} of --short-side {short_side} '
                        '(an earlier run with another size?); rerun with '
                        '--force to rewrite')


def check_mask(array: np.ndarray, path: Path) -> None:
    if array.ndim != 2 or array.dtype.kind not in 'iu':
        raise DataError(f'{path}: a panomask must be a single-channel integer '
                        f'PNG, got shape {array.shape} {array.dtype}')
    top = int(array.max()) if array.size else 0
    if top >= (VIPSEG_NUM_CLASSES + 1) * 100:
        raise DataError(f'{path}: illegal value {top} (category '
                        f'{top // 100 - 1} > 123)')


def main(argv: Optional[List[str]] = None) -> int:
    from tqdm import tqdm
    args = parse_args(argv)
    # the parser checked --src (a folder, read only) and --dst (outside it)
    src, dst = Path(args.src).resolve(), Path(args.dst).resolve()
    images = src / 'imgs' if (src / 'imgs').is_dir() else src / 'images'
    if not images.is_dir():
        raise DataError(f'{src}: neither imgs/ nor images/ found; --src must '
                        'be the official VIPSeg root')
    splits: Dict[str, List[str]] = {}
    listed: Dict[str, str] = {}
    for split in SPLITS:
        path = src / f'{split}.txt'
        if path.is_file():
            splits[split] = read_name_list(path, 'video')
        elif split != 'test':
            raise DataError(f'{path}: missing split file')
        else:
            continue
        if not splits[split] and split != 'test':
            raise DataError(f'{path}: lists no video')
        for name in splits[split]:
            if name in listed:
                raise DataError(f'{path}: video {name!r} is also listed in '
                                f'{listed[name]}.txt')
            listed[name] = split
    jobs = []
    for split, names in splits.items():
        for name in names:
            vdir = images / name
            if not vdir.is_dir():
                raise DataError(f'{vdir}: video of {split}.txt missing')
            frames = sorted(p for p in vdir.iterdir()
                            if p.suffix.lower() in ('.jpg', '.jpeg', '.png'))
            if not frames:
                raise DataError(f'{vdir}: no frames')
            for p in frames:
                mask = src / 'panomasks' / name / f'{p.stem}.png'
                if split != 'test' and not mask.is_file():
                    raise DataError(f'{mask}: missing panomask of {p}')
                jobs.append((split, name, p, mask if split != 'test'
                             else None))
    videos: Dict[str, Dict] = {}
    written = 0
    for split, name, img, mask in tqdm(jobs, desc='vipseg', unit='frame'):
        out_img = dst / 'images' / name / f'{img.stem}.jpg'
        out_mask = dst / 'panomasks' / name / f'{img.stem}.png' \
            if mask is not None else None
        array, n = process_frame(img, mask, out_img, out_mask, args)
        written += n
        if array is None:
            continue
        rgb = dst / 'panomasksRGB' / name / f'{img.stem}.png'
        if args.force or not rgb.exists():
            save_image(rgb, id2rgb(array))
            written += 1
        video = videos.setdefault(name, dict(split=split, images=[],
                                             annotations=[]))
        values, areas = np.unique(array, return_counts=True)
        cats = vipseg_segments(array)
        segments = [dict(id=int(v), category_id=cats[int(v)], iscrowd=0,
                         area=int(a)) for v, a in zip(values, areas) if v > 0]
        video['images'].append(dict(id=img.stem, width=int(array.shape[1]),
                                    height=int(array.shape[0]),
                                    file_name=f'{img.stem}.png'))
        video['annotations'].append(dict(image_id=img.stem,
                                         file_name=f'{img.stem}.png',
                                         segments_info=segments))

    def panoptic_json(names):
        return dict(
            videos=[dict(video_id=n, images=videos[n]['images'])
                    for n in names],
            annotations=[dict(video_id=n,
                              annotations=videos[n]['annotations'])
                         for n in names],
            categories=VIPSEG_CATEGORIES)

    labelled = [n for s in ('train', 'val') for n in splits.get(s, ())]
    dump_json(panoptic_json(labelled), dst / 'panoptic_gt_VIPSeg.json')
    for split in ('train', 'val'):
        dump_json(panoptic_json(splits[split]),
                  dst / f'panoptic_gt_VIPSeg_{split}.json')
    for split, names in splits.items():
        atomic_write_bytes(dst / f'{split}.txt',
                           ''.join(f'{n}\n' for n in names).encode())
    counts = ', '.join(f'{s} {len(n)} videos' for s, n in splits.items())
    print(f'{dst}: {counts}; {len(jobs)} frames ({written} files written)')
    return 0


if __name__ == '__main__':
    sys.exit(run_cli(main))
