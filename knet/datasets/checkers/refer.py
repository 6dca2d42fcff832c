"""Layout checks for the REFER family and the DynRefer region-caption tree.

REFER (``refcoco``, ``refcoco+``, ``refcocog``, ``refclef``): ``root`` is
either the REFER ``data_root`` (holding ``<dataset>/`` and ``images/``) or
the ``<dataset>/`` folder itself. Checked: every released
``refs(<splitBy>).p`` loads and its refs are well formed with known split
names, ``instances.json`` is valid and holds every referred annotation and
image, and the images exist (a sample, all with ``full=True``, which also
compares each image's size with ``instances.json``). Counts per
``<splitBy>/<split>``: refs, sentences, images.

DynRefer (``dynrefer``): ``root`` is DynRefer's ``data/`` folder with
``vg/``, ``refcoco/`` and ``coco2017/``, each holding ``images/`` and the
converted annotations under ``dynrefer/`` (file names from DynRefer's
configs). Checked: the folders and at least one annotation file per
source; image names follow the source's naming; with ``full=True`` every
annotation file is parsed and the images it names must exist.
"""
import json
import re
from pathlib import Path
from typing import Dict, List, Optional, Set, Tuple

from .base import CheckReport, register_checker

__all__ = ['DYNREFER_ANN_FILES', 'check_dynrefer']

_REFER_URL = 'https://github.com/lichengunc/refer (data/README: {ds}.zip)'
_IMAGE_FIX = {
    'refclef': 'unzip the ImageCLEF subset saiapr_tc-12.zip into '
               '{root}/images/saiapr_tc-12',
    'coco': 'ln -s /path/to/coco/train2014 {root}/images/mscoco/images/'
            'train2014',
}


def _sample(items: list, n: int) -> list:
    """At most ``n`` evenly spaced items (deterministic)."""
    if n <= 0 or len(items) <= n:
        return list(items)
    step = len(items) / n
    return [items[int(i * step)] for i in range(n)]


def _refer_roots(root: Path, dataset: str):
    """(data_root, dataset folder) for a root given either way."""
    if (root / dataset).is_dir():
        return root, root / dataset
    if root.name == dataset or (root / 'instances.json').exists() or \
            list(root.glob('refs(*).p')):
        return root.parent, root
    return root, root / dataset


def _check_refer(dataset: str, root, report: CheckReport, full: bool = False,
                 sample: int = 20) -> None:
    from knet.formats.io import DataError, load_json

    from ..refer import (REFER_DATASETS, REFER_IMAGE_DIRS, REFER_SPLITS,
                         load_refs_pickle, validate_refer_instances,
                         validate_refs)
    data_root, ddir = _refer_roots(Path(root), dataset)
    fix_ann = f'download {dataset}.zip from {_REFER_URL.format(ds=dataset)} ' \
              f'and unzip it into {data_root}'
    if not ddir.is_dir():
        report.error(ddir, f'{dataset} folder not found', fix_ann)
        return

    # instances.json
    inst_path = ddir / 'instances.json'
    images: Dict = {}
    anns: Dict = {}
    if not inst_path.is_file():
        report.error(inst_path, 'missing', fix_ann)
    else:
        try:
            inst = load_json(inst_path)
            validate_refer_instances(inst, inst_path)
            images = {im['id']: im for im in inst['images']}
            anns = {a['id']: a for a in inst['annotations']}
        except DataError as e:
            report.error(inst_path, 'invalid instances.json: '
                         f'{str(e).partition(": ")[2]}', fix_ann)
            images, anns = {}, {}
        else:
            report.count('all', 'images', len(images))
            report.count('all', 'annotations', len(anns))

    # refs pickles
    used_images: Set = set()
    for sb in REFER_DATASETS[dataset]:
        path = ddir / f'refs({sb}).p'
        if not path.is_file():
            report.error(path, f'refs pickle for splitBy {sb!r} missing',
                         fix_ann)
            continue
        try:
            refs = load_refs_pickle(str(path))
            validate_refs(refs, str(path))
        except DataError as e:  # not a pickle, or malformed refs
            report.error(path, str(e).partition(': ')[2], fix_ann)
            continue
        known = set(REFER_SPLITS[(dataset, sb)])
        per_split: Dict[str, list] = {}
        bad: Optional[str] = None
        for ref in refs:
            if ref['split'] not in known:
                report.warn(path, f'ref {ref["ref_id"]} has split '
                            f'{ref["split"]!r}, expected one of '
                            f'{sorted(known)}')
            ann_ids = ref['ann_id'] if isinstance(ref['ann_id'], list) \
                else [ref['ann_id']]  # a list in gRefCOCO, -1: no target
            lost = [a for a in ann_ids if a != -1 and a not in anns]
            if anns and lost:
                bad = f'ref {ref["ref_id"]} points to annotation ' \
                      f'{lost[0]} missing from instances.json'
                break
            if images and ref['image_id'] not in images:
                bad = f'ref {ref["ref_id"]} points to image ' \
                      f'{ref["image_id"]} missing from instances.json'
                break
            per_split.setdefault(ref['split'], []).append(ref)
        if bad:
            report.error(path, bad, fix_ann)
            continue
        for split in sorted(known - set(per_split)):
            report.warn(path, f'no refs in split {split!r}')
        for split, rs in per_split.items():
            key = f'{sb}/{split}'
            report.count(key, 'refs', len(rs))
            report.count(key, 'sentences', sum(len(r['sentences'])
                                               for r in rs))
            ids = {r['image_id'] for r in rs}
            report.count(key, 'images', len(ids))
            used_images |= ids

    # images
    image_dir = data_root / REFER_IMAGE_DIRS[dataset]
    fix_img = _IMAGE_FIX['refclef' if dataset == 'refclef' else 'coco'] \
        .format(root=data_root)
    if not image_dir.is_dir():
        report.error(image_dir, 'image folder not found', fix_img)
        return
    if not images:
        return
    wanted = sorted(used_images & set(images)) or sorted(images)
    to_check = wanted if full else _sample(wanted, sample)
    missing = [images[i]['file_name'] for i in to_check
               if not (image_dir / images[i]['file_name']).is_file()]
    if missing:
        report.error(image_dir / missing[0],
                     f'image missing ({len(missing)} of {len(to_check)} '
                     f'checked are missing)', fix_img)
    if full:
        from PIL import Image
        for i in to_check:
            im = images[i]
            p = image_dir / im['file_name']
            if not p.is_file():
                continue
            try:
                with Image.open(p) as pil:
                    w, h = pil.size
            except OSError as e:
                report.error(p, f'unreadable image: {e}')
                continue
            if (h, w) != (im['height'], im['width']):
                report.error(p, f'size {h}x{w} differs from instances.json '
                             f'({im["height"]}x{im["width"]})')
    report.count('all', 'images checked', len(to_check))


def _make_refer_checker(dataset: str):
    def check(root, report: CheckReport, full: bool = False,
              sample: int = 20) -> None:
        _check_refer(dataset, root, report, full=full, sample=sample)

    check.__name__ = f'check_{dataset.replace("+", "_plus")}'
    check.__doc__ = f'Check a {dataset} REFER tree (see module docstring).'
    return check


for _ds in ('refcoco', 'refcoco+', 'refcocog', 'refclef'):
    register_checker(_ds)(_make_refer_checker(_ds))


# ------------------------------------------------------------------ DynRefer
#: DynRefer annotation files per source (relative to ``data/<source>/``),
#: as named by DynRefer's dataset configs.
DYNREFER_ANN_FILES: Dict[str, Tuple[str, ...]] = {
    'vg': ('dynrefer/vg1.0/train.json', 'dynrefer/vg1.0/test.json',
           'dynrefer/vg1.2/train.json', 'dynrefer/vg1.2/test.json',
           'dynrefer/vgcoco/train.json', 'dynrefer/vgcoco/test.json',
           'dynrefer/vg_reg/test.json'),
    'refcoco': ('dynrefer/refcocog_train.json',
                'dynrefer/refcocog_val.json'),
    'coco2017': ('dynrefer/train.json', 'dynrefer/val.json',
                 'dynrefer/test_ovad.json'),
}
_DYN_IMAGE_NAME = {
    'vg': re.compile(r'^\d+\.jpg$'),
    'refcoco': re.compile(r'^COCO_train2014_\d{12}\.jpg$'),
    'coco2017': re.compile(r'^\d{12}\.jpg$'),
}
_DYN_IMAGE_FIX = {
    'vg': 'ln -s VG/images {root}/vg/images',
    'refcoco': 'ln -s coco2014/train2014 {root}/refcoco/images',
    'coco2017': 'ln -s coco2017/val2017 {root}/coco2017/images',
}
_DYN_ANN_FIX = 'unzip DynRefer\'s converted annotations (data.zip) into {root}'


@register_checker('dynrefer')
def check_dynrefer(root, report: CheckReport, full: bool = False,
                   sample: int = 20) -> None:
    """Check DynRefer's ``data/`` tree (Visual Genome, RefCOCOg images from
    COCO train2014, COCO 2017 val) and its region-caption annotations."""
    root = Path(root)
    if not (root / 'vg').exists() and (root / 'data').is_dir():
        root = root / 'data'  # given the DynRefer checkout itself
    for source, known_files in DYNREFER_ANN_FILES.items():
        sdir = root / source
        img_dir = sdir / 'images'
        fix_img = _DYN_IMAGE_FIX[source].format(root=root)
        if not img_dir.is_dir():
            report.error(img_dir, 'image folder not found', fix_img)
            names: List[str] = []
        else:
            names = sorted(p.name for p in img_dir.iterdir())
            report.count(source, 'images', len(names))
            bad = [n for n in names if not _DYN_IMAGE_NAME[source].match(n)]
            if not names:
                report.error(img_dir, 'no images', fix_img)
            elif bad:
                report.warn(img_dir / bad[0], f'{len(bad)} file(s) not named '
                            f'like {_DYN_IMAGE_NAME[source].pattern}')
        present = [rel for rel in known_files if (sdir / rel).is_file()]
        if not (sdir / 'dynrefer').is_dir() or not present:
            report.error(sdir / 'dynrefer', 'no DynRefer annotation file '
                         f'(expected one of {", ".join(known_files)})',
                         _DYN_ANN_FIX.format(root=root))
            continue
        report.count(source, 'annotation files', len(present))
        if not full:
            continue
        for rel in present:
            path = sdir / rel
            try:
                with open(path, encoding='utf-8') as f:
                    doc = json.load(f)
                imgs, objs = doc['images'], doc['annotations']
                ids = {im['id'] for im in imgs}
                for o in objs:
                    if o['image_id'] not in ids:
                        raise ValueError(f'annotation {o.get("id")} names '
                                         f'unknown image {o["image_id"]}')
                    if 'caption' not in o or not ('bbox' in o or
                                                  'segmentation' in o):
                        raise ValueError(f'annotation {o.get("id")} lacks '
                                         'caption or region')
            except (OSError, ValueError, KeyError, TypeError) as e:
                report.error(path, f'invalid annotation file: {e}',
                             _DYN_ANN_FIX.format(root=root))
                continue
            split = f'{source}/{rel.split("/", 1)[1]}'
            report.count(split, 'images', len(imgs))
            report.count(split, 'regions', len(objs))
            missing = [im['file_name'] for im in imgs
                       if not (img_dir / im['file_name']).is_file()]
            if missing:
                report.error(img_dir / missing[0],
                             f'image named by {rel} missing '
                             f'({len(missing)} of {len(imgs)})', fix_img)
