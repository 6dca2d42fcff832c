#!/usr/bin/env python
"""Convert REFER splits (RefClef/RefCOCO/RefCOCO+/RefCOCOg) to COCO JSON.

One file per split, ``<out>/<dataset>_<splitBy>_<split>.json``, holding:

* ``info``: dataset, splitBy, split, ``per``, the box convention
  (``bbox_format: 'xywh'`` = COCO ``[x, y, width, height]`` in pixels,
  top-left origin) and the image folder relative to the REFER data_root;
* ``images``: the split's images (``id``, ``file_name``, ``height``,
  ``width``) as in ``instances.json``;
* ``annotations``: one per expression (``--per sentence``, the default:
  the usual unit of referring benchmarks) or one per referred object
  (``--per ref``) with ``id`` (1-based, unique in the file), ``image_id``,
  ``category_id``, ``bbox`` (xywh), ``area``, ``iscrowd``,
  ``segmentation`` (polygons kept as they are; any RLE form becomes one
  compressed RLE with ``counts`` as a string, so ``pycocotools.coco.COCO``
  reads it), and the expressions: ``ref_id``, ``ann_id`` (the object in
  ``instances.json``), ``sent_id`` + ``sentence`` {sent, raw, tokens,
  sent_id} (per sentence) or ``sent_ids`` + ``sentences`` (per ref);
* ``categories`` of ``instances.json``.

A ref belongs to the split named by its ``split`` field exactly (so a ref in
``testAB`` is written to ``..._testAB.json`` once, not to testA and testB).

Example:
    python tools/dataset/refer2coco.py --data-root data --dataset refcocog \
        --split-by umd --out data/refcocog/coco
"""
import argparse
import os.path as osp
import sys
from typing import Dict, List, Optional

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from knet.datasets.refer import (REFER, REFER_DATASETS,  # noqa: E402
                                 REFER_IMAGE_DIRS, REFER_SPLITS)
from knet.formats.coco_mask import segmentation_to_rle  # noqa: E402
from knet.formats.io import DataError, dump_json  # noqa: E402
from knet.utils.cli import ArgumentParser, run_cli  # noqa: E402


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = ArgumentParser(
        description='Convert a REFER dataset (refs pickle + instances.json) '
        'to one COCO-format JSON per split, with the referring expressions '
        'attached to the annotations.')
    parser.add_argument('--data-root', required=True, path='in-dir',
                        help='REFER data_root (holds <dataset>/ and images/)')
    parser.add_argument('--dataset', required=True,
                        choices=sorted(REFER_DATASETS))
    parser.add_argument('--split-by', required=True,
                        help='unc, google, umd or berkeley (as released for '
                        'the dataset)')
    parser.add_argument('--out', required=True, path='out-dir',
                        help='output folder')
    parser.add_argument('--per', choices=('sentence', 'ref'),
                        default='sentence',
                        help='one annotation per expression or per object')
    parser.add_argument('--splits', nargs='+',
                        help='only these splits (default: all present)')
    return parser.parse_args(argv)


def _coco_segmentation(refer: REFER, ann: dict):
    """Polygons unchanged; every RLE form as one compressed RLE."""
    segm = ann['segmentation']
    if isinstance(segm, list) and segm and \
            all(isinstance(p, (list, tuple)) for p in segm):
        return segm
    img = refer.Imgs[ann['image_id']]
    return segmentation_to_rle(segm, img['height'], img['width'])


def convert_split(refer: REFER, split: str, per: str = 'sentence',
                  progress: bool = False) -> Dict:
    """The COCO dict of one split (see module docstring)."""
    from tqdm import tqdm
    refs = [r for r in refer.data['refs'] if r['split'] == split]
    image_ids = list(dict.fromkeys(r['image_id'] for r in refs))
    images = []
    for i in image_ids:
        im = refer.Imgs[i]
        images.append({k: im[k] for k in ('id', 'file_name', 'height',
                                          'width') if k in im})
    annotations = []
    for ref in tqdm(refs, desc=f'{refer.dataset}({refer.splitBy}) {split}',
                    disable=not progress, unit='ref'):
        ann = refer.refToAnn[ref['ref_id']]
        base = {'image_id': ref['image_id'],
                'category_id': ref['category_id'],
                'bbox': [float(v) for v in ann['bbox']],
                'area': float(ann.get('area', 0.0)),
                'iscrowd': int(ann.get('iscrowd', 0)),
                'segmentation': _coco_segmentation(refer, ann),
                'ref_id': ref['ref_id'], 'ann_id': ref['ann_id']}
        sentences = [{'sent_id': s['sent_id'], 'sent': s['sent'],
                      'raw': s['raw'], 'tokens': list(s['tokens'])}
                     for s in ref['sentences']]
        if per == 'ref':
            annotations.append(dict(base, id=len(annotations) + 1,
                                    sent_ids=[s['sent_id']
                                              for s in sentences],
                                    sentences=sentences))
        else:
            for s in sentences:
                annotations.append(dict(base, id=len(annotations) + 1,
                                        sent_id=s['sent_id'], sentence=s))
    categories = [{'id': c['id'], 'name': c['name'],
                   'supercategory': c.get('supercategory', '')}
                  for c in refer.data['categories']]
    info = {
        'description': f'{refer.dataset} ({refer.splitBy} split) {split}, '
                       'converted from the REFER refs pickle and '
                       'instances.json',
        'dataset': refer.dataset, 'splitBy': refer.splitBy, 'split': split,
        'per': per,
        'bbox_format': 'xywh',
        'bbox_convention': 'COCO [x, y, width, height] in pixels, (x, y) = '
                           'top-left corner, origin at the image top-left',
        'image_dir': REFER_IMAGE_DIRS[refer.dataset],
        'num_refs': len(refs), 'num_sentences': sum(
            len(r['sentences']) for r in refs),
    }
    return {'info': info, 'images': images, 'annotations': annotations,
            'categories': categories}


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    refer = REFER(args.data_root, args.dataset, args.split_by)
    present = list(dict.fromkeys(r['split'] for r in refer.data['refs']))
    order = REFER_SPLITS.get((args.dataset, args.split_by), ())
    present.sort(key=lambda s: (order.index(s) if s in order else len(order),
                                s))
    splits = args.splits or present
    for split in splits:
        if split not in present:
            raise DataError(f'{refer.DATA_DIR}/refs({args.split_by}).p: no '
                            f'refs in split {split!r} (present: '
                            f'{", ".join(present)})')
    for split in splits:
        coco = convert_split(refer, split, per=args.per, progress=True)
        path = osp.join(args.out, f'{args.dataset}_{args.split_by}_'
                        f'{split}.json')
        dump_json(coco, path)
        print(f'{path}: {len(coco["images"])} images, '
              f'{len(coco["annotations"])} annotations ({args.per})')
    return 0


if __name__ == '__main__':
    sys.exit(run_cli(main))
