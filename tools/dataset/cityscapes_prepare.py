#!/usr/bin/env python
"""Prepare Cityscapes for K-Net pre-training (trainIds, COCO and panoptic).

Reads (never changes) the official ``leftImg8bit/`` and ``gtFine/`` trees of
SRC and builds DST (default data/cityscapes)::

    leftImg8bit/{split}/{city}/*_leftImg8bit.png      linked or copied
    gtFine/{split}/{city}/*_gtFine_{labelIds,instanceIds}.png   linked/copied
    gtFine/{split}/{city}/*_gtFine_labelTrainIds.png       trainId maps
    gtFine/{split}/{city}/*_gtFine_instanceTrainIds.png    instance trainIds
    gtFine/cityscapes_panoptic_{split}/                    panoptic PNGs
    gtFine/cityscapes_panoptic_{split}_trainId/            (train ids)
    annotations/cityscapes_panoptic_{split}[_trainId].json
    annotations/instancesonly_filtered_gtFine_{split}.json   COCO instances

The label tables come from cityscapesscripts (``helpers.labels``); the
trainId maps are computed from the ``labelIds`` / ``instanceIds`` PNGs with
them (identical to what ``csCreateTrainIdLabelImgs`` /
``csCreateTrainIdInstanceImgs`` draw from the polygons), the panoptic files
are made by cityscapesscripts' ``convert2panoptic`` called on the source,
and the instance JSON follows mmdet's ``cityscapes.py`` converter (label ids
as category ids, compressed RLE). Outputs are written atomically; existing
ones are kept unless ``--force``.

Example:
    python tools/dataset/cityscapes_prepare.py --src /datasets/cityscapes --dst data/cityscapes
"""
import argparse
import contextlib
import io
import os.path as osp
import sys
from pathlib import Path
from typing import Dict, List, Optional, Tuple

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))

import numpy as np  # noqa: E402

from knet.formats.io import (DataError, dump_json, link_or_copy,  # noqa: E402
                             move_into_place, read_image, save_image,
                             temporary_dir)
from knet.utils.cli import ArgumentParser, run_cli  # noqa: E402


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = ArgumentParser(
        description='Cityscapes: trainId / instance-trainId maps, COCO '
        'instance JSON and panoptic JSON + PNGs (cityscapesscripts).')
    parser.add_argument('--src', required=True, path='in-tree',
                        help='official root with leftImg8bit/ and gtFine/')
    parser.add_argument('--dst', default='data/cityscapes', path='out-dir',
                        help='output root (default: data/cityscapes)')
    parser.add_argument('--splits', nargs='+', default=['train', 'val'],
                        help='splits to prepare (default: train val)')
    parser.add_argument('--mode', choices=('link', 'copy'), default='copy',
                        help='how the original files are brought into '
                        '--dst (default: copy)')
    parser.add_argument('--force', action='store_true',
                        help='rewrite outputs that already exist')
    return parser.parse_args(argv)


def label_tables() -> Tuple[np.ndarray, Dict[int, object]]:
    """(labelId -> trainId LUT, id2label) from cityscapesscripts."""
    from cityscapesscripts.helpers.labels import id2label
    lut = np.full(256, 255, np.int64)
    for i, label in id2label.items():
        if 0 <= i < 256:
            lut[i] = label.trainId if label.trainId >= 0 else 255
    return lut, id2label


def collect(src: Path, split: str) -> List[Tuple[Path, Path, Path]]:
    """(image, labelIds, instanceIds) of one split; DataError if missing."""
    img_dir = src / 'leftImg8bit' / split
    if not img_dir.is_dir():
        raise DataError(f'{img_dir}: missing; --src must be the official '
                        'Cityscapes root (leftImg8bit/, gtFine/)')
    out = []
    for img in sorted(img_dir.glob('*/*_leftImg8bit.png')):
        rel = img.relative_to(img_dir)
        stem = str(rel)[:-len('_leftImg8bit.png')]
        lab = src / 'gtFine' / split / f'{stem}_gtFine_labelIds.png'
        ins = src / 'gtFine' / split / f'{stem}_gtFine_instanceIds.png'
        for p in (lab, ins):
            if not p.is_file():
                raise DataError(f'{p}: missing (annotation of {img})')
        out.append((img, lab, ins))
    if not out:
        raise DataError(f'{img_dir}: no *_leftImg8bit.png files')
    return out


def instance_annotations(inst: np.ndarray, id2label) -> List[Dict]:
    """COCO annotations of one instanceIds map, as mmdet's converter."""
    from pycocotools import mask as mask_utils
    anns = []
    for v in np.unique(inst[inst >= 24]):
        label_id = int(v // 1000 if v >= 1000 else v)
        label = id2label.get(label_id)
        if label is None or not label.hasInstances or label.ignoreInEval:
            continue
        m = np.asfortranarray((inst == v).astype(np.uint8))
        rle = mask_utils.encode(m[:, :, None])[0]
        anns.append(dict(iscrowd=int(v < 1000), category_id=label.id,
                         bbox=mask_utils.toBbox(rle).tolist(),
                         area=float(mask_utils.area(rle)),
                         segmentation=dict(size=rle['size'],
                                           counts=rle['counts'].decode())))
    return anns


def panoptic(src: Path, dst: Path, split: str, train_id: bool,
             force: bool) -> None:
    """cityscapesscripts' convert2panoptic into a temporary folder of dst,
    then moved into place."""
    from cityscapesscripts.preparation.createPanopticImgs import \
        convert2panoptic
    suffix = '_trainId' if train_id else ''
    base = f'cityscapes_panoptic_{split}{suffix}'
    json_out = dst / 'annotations' / f'{base}.json'
    png_out = dst / 'gtFine' / base
    if json_out.exists() and png_out.is_dir() and not force:
        return
    with temporary_dir(dst) as tmp:
        with contextlib.redirect_stdout(io.StringIO()):
            try:
                convert2panoptic(str(src / 'gtFine'), str(tmp), train_id,
                                 [split])
            except SystemExit:
                raise DataError(f'{src / "gtFine" / split}: cityscapesscripts '
                                'found no *_instanceIds.png') from None
        png_out.parent.mkdir(parents=True, exist_ok=True)
        move_into_place(tmp / base, png_out)
        json_out.parent.mkdir(parents=True, exist_ok=True)
        move_into_place(tmp / f'{base}.json', json_out)


def main(argv: Optional[List[str]] = None) -> int:
    from tqdm import tqdm
    args = parse_args(argv)
    # the parser checked --src (a folder, read only) and --dst (outside it)
    src, dst = Path(args.src).resolve(), Path(args.dst).resolve()
    lut, id2label = label_tables()
    files = {split: collect(src, split) for split in args.splits}
    dst.mkdir(parents=True, exist_ok=True)
    for split, items in files.items():
        images, anns = [], []
        for img_id, (img, lab, ins) in enumerate(
                tqdm(items, desc=f'cityscapes {split}', unit='image')):
            # the labels are checked before anything of the image is written
            label_ids, inst = read_image(lab), read_image(ins)
            if label_ids.ndim != 2 or inst.ndim != 2 or \
                    label_ids.shape != inst.shape:
                raise DataError(f'{ins}: shape {inst.shape} does not match '
                                f'{lab} {label_ids.shape}')
            bad = np.setdiff1d(np.unique(label_ids), list(id2label))
            if bad.size:
                raise DataError(f'{lab}: illegal label id {int(bad[0])}')
            rel_img = img.relative_to(src)
            link_or_copy(img, dst / rel_img, args.mode)
            for p in (lab, ins):
                link_or_copy(p, dst / p.relative_to(src), args.mode)
            stem = str(lab.relative_to(src))[:-len('_labelIds.png')]
            train = dst / f'{stem}_labelTrainIds.png'
            if args.force or not train.exists():
                save_image(train, lut[label_ids].astype(np.uint8))
            inst_train = dst / f'{stem}_instanceTrainIds.png'
            if args.force or not inst_train.exists():
                v = inst.astype(np.int64)
                tid = lut[np.where(v >= 1000, v // 1000, v)]
                single = (v >= 1000) & (tid != 255)
                out = np.where(single, tid * 1000 + v % 1000, tid)
                save_image(inst_train, out.astype(np.uint16))
            city = img.parent.name
            images.append(dict(id=img_id, file_name=f'{city}/{img.name}',
                               height=int(inst.shape[0]),
                               width=int(inst.shape[1]),
                               segm_file=f'{city}/{lab.name}'))
            for a in instance_annotations(inst, id2label):
                anns.append(dict(a, image_id=img_id, id=len(anns)))
        categories = [dict(id=lab.id, name=lab.name)
                      for lab in sorted(id2label.values(), key=lambda x: x.id)
                      if lab.hasInstances and not lab.ignoreInEval]
        dump_json(dict(images=images, annotations=anns,
                       categories=categories),
                  dst / 'annotations' /
                  f'instancesonly_filtered_gtFine_{split}.json')
        for train_id in (False, True):
            panoptic(src, dst, split, train_id, args.force)
        print(f'{split}: {len(images)} images, {len(anns)} instances')
    return 0


if __name__ == '__main__':
    sys.exit(run_cli(main))
