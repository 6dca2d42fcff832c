"""Synthetic REFER-family trees (RefClef, RefCOCO, RefCOCO+, RefCOCOg).

Writes, under ``out`` (the REFER ``data_root``), exactly what the released
zips + image sets give:

* ``<dataset>/instances.json`` -- COCO-style ``info``, ``images``,
  ``licenses``, ``annotations``, ``categories``;
* ``<dataset>/refs(<splitBy>).p`` for every released splitBy, a pickled
  list of refs ``{ref_id, ann_id, image_id, category_id, split, sent_ids,
  sentences: [{tokens, raw, sent, sent_id}], file_name}``. By default the
  pickle is written the way Python 2's ``cPickle`` wrote the released
  files (see :func:`dump_py2_pickle`); ``pickle_style='py3'`` writes a
  plain Python-3 pickle;
* JPEG images: COCO ``images/mscoco/images/train2014/COCO_train2014_<id>.jpg``
  for refcoco*, ``images/saiapr_tc-12/<NN>/images/<id>.jpg`` for refclef.

Segmentations: refcoco* objects are polygons (one object has two
overlapping parts); refclef objects are RLE (a list holding one compressed
RLE, as the real files; one object as a bare RLE dict and one with
uncompressed counts). RefCOCO also gets a crowd annotation (uncompressed
RLE) that no ref points to, as COCO has.

The returned manifest holds the ground truth: per annotation the binary
mask that was painted (RLE objects) or that pycocotools rasterises from the
written polygon (polygon objects), its box, and per splitBy the ref ids,
sentence ids and image ids of every split.

Also :func:`make_dynrefer` builds the DynRefer region-captioning tree
(``vg/``, ``refcoco/``, ``coco2017/`` each with ``images/`` and
``dynrefer/`` annotation files).
"""
import io
import json
import pickle
import struct
from pathlib import Path
from typing import Any, BinaryIO, Dict, Iterable, List, Optional, Tuple

import numpy as np

from knet.formats.io import atomic_output, atomic_write_bytes, save_image

from ..checkers.refer import DYNREFER_ANN_FILES
from ..refer import REFER_DATASETS, REFER_IMAGE_DIRS, REFER_SPLITS

__all__ = ['make_refer', 'make_dynrefer', 'dump_py2_pickle',
           'write_refs_pickle', 'to_py2_strings', 'DYNREFER_ANN_FILES']

_COCO_CATS = [(1, 'person', 'person'), (3, 'car', 'vehicle'),
              (18, 'dog', 'animal'), (62, 'chair', 'furniture')]
_CLEF_CATS = [(1, 'man', 'humans'), (7, 'sky', 'landscape'),
              (21, 'tree', 'vegetation'), (96, 'car', 'vehicles')]
_WORDS = ['left', 'right', 'big', 'small', 'red', 'blue', 'guy', 'thing',
          'front', 'back', 'top', 'bottom']


# ------------------------------------------------------------ Python 2 pickle
def to_py2_strings(obj: Any, text_as_bytes: bool = True) -> Any:
    """Mark strings the way Python 2 held them: dict keys become byte
    ``str`` (``bytes`` here); values too when ``text_as_bytes`` (UTF-8),
    otherwise they stay ``unicode`` (``str`` here)."""
    if isinstance(obj, dict):
        return {(k.encode('utf-8') if isinstance(k, str) else k):
                to_py2_strings(v, text_as_bytes) for k, v in obj.items()}
    if isinstance(obj, list):
        return [to_py2_strings(v, text_as_bytes) for v in obj]
    if isinstance(obj, str) and text_as_bytes:
        return obj.encode('utf-8')
    return obj


class _Py2Pickler:
    """Emit the opcode stream of Python 2's cPickle for plain data.

    ``bytes`` stand for Python-2 ``str`` (STRING / SHORT_BINSTRING /
    BINSTRING), ``str`` for ``unicode`` (UNICODE / BINUNICODE). Equal
    strings share one memo entry (Python 2 interned the literal keys), so
    repeated keys are written as GET / BINGET like cPickle did.
    """

    def __init__(self, protocol: int) -> None:
        if protocol not in (0, 2):
            raise ValueError('Python-2 pickles are emulated for protocols '
                             '0 (cPickle default) and 2')
        self.protocol = protocol
        self.out = io.BytesIO()
        self.memo: Dict[Any, int] = {}

    def _put(self) -> int:
        idx = len(self.memo)
        if self.protocol == 0:
            self.out.write(b'p%d\n' % idx)
        elif idx < 256:
            self.out.write(b'q' + bytes([idx]))
        else:
            self.out.write(b'r' + struct.pack('<I', idx))
        return idx

    def _get(self, idx: int) -> None:
        if self.protocol == 0:
            self.out.write(b'g%d\n' % idx)
        elif idx < 256:
            self.out.write(b'h' + bytes([idx]))
        else:
            self.out.write(b'j' + struct.pack('<I', idx))

    def _memo_string(self, key) -> bool:
        if key in self.memo:
            self._get(self.memo[key])
            return True
        return False

    def dump(self, obj: Any) -> bytes:
        if self.protocol == 2:
            self.out.write(b'\x80\x02')
        self._save(obj)
        self.out.write(b'.')
        return self.out.getvalue()

    def _save(self, obj: Any) -> None:  # noqa: C901  (one branch per type)
        w = self.out.write
        p2 = self.protocol == 2
        if obj is None:
            w(b'N')
        elif obj is True or obj is False:
            if p2:
                w(b'\x88' if obj else b'\x89')
            else:
                w(b'I01\n' if obj else b'I00\n')
        elif isinstance(obj, int):
            if not p2:
                w(b'I%d\n' % obj)
            elif 0 <= obj < 256:
                w(b'K' + bytes([obj]))
            elif 0 <= obj < 65536:
                w(b'M' + struct.pack('<H', obj))
            elif -2**31 <= obj < 2**31:
                w(b'J' + struct.pack('<i', obj))
            else:  # a 64-bit Python-2 int: cPickle falls back to text INT
                w(b'I%d\n' % obj)
        elif isinstance(obj, float):
            if p2:
                w(b'G' + struct.pack('>d', obj))
            else:
                w(b'F' + repr(obj).encode('ascii') + b'\n')
        elif isinstance(obj, bytes):  # Python-2 str
            key = ('s', obj)
            if self._memo_string(key):
                return
            if not p2:  # STRING with Python 2's repr of a str
                w(b'S' + repr(obj)[1:].encode('ascii') + b'\n')
            elif len(obj) < 256:
                w(b'U' + bytes([len(obj)]) + obj)
            else:
                w(b'T' + struct.pack('<i', len(obj)) + obj)
            self.memo[key] = self._put()
        elif isinstance(obj, str):  # Python-2 unicode
            key = ('u', obj)
            if self._memo_string(key):
                return
            if p2:
                data = obj.encode('utf-8', 'surrogatepass')
                w(b'X' + struct.pack('<I', len(data)) + data)
            else:  # raw-unicode-escape with \ and \n escaped, as cPickle
                text = obj.replace('\\', '\\u005c').replace('\n', '\\u000a')
                w(b'V' + text.encode('raw-unicode-escape') + b'\n')
            self.memo[key] = self._put()
        elif isinstance(obj, list):
            if p2:
                w(b']')
            else:
                w(b'(l')
            self.memo[('id', id(obj))] = self._put()
            self._batch(obj, lambda x: self._save(x), b'a', b'e')
        elif isinstance(obj, dict):
            if p2:
                w(b'}')
            else:
                w(b'(d')
            self.memo[('id', id(obj))] = self._put()
            self._batch(list(obj.items()),
                        lambda kv: (self._save(kv[0]), self._save(kv[1])),
                        b's', b'u')
        elif isinstance(obj, tuple):
            w(b'(')
            for x in obj:
                self._save(x)
            w(b't')
            self.memo[('id', id(obj))] = self._put()
        else:
            raise TypeError(f'cannot emulate Python 2 pickling of '
                            f'{type(obj).__name__}')

    def _batch(self, items: list, save_one, single: bytes,
               many: bytes) -> None:
        """Protocol 0 appends one by one; protocol 2 in MARK batches of
        1000 (a lone item uses the single-item opcode), as cPickle."""
        if self.protocol == 0:
            for it in items:
                save_one(it)
                self.out.write(single)
            return
        for start in range(0, len(items), 1000):
            chunk = items[start:start + 1000]
            if len(chunk) == 1:
                save_one(chunk[0])
                self.out.write(single)
            else:
                self.out.write(b'(')
                for it in chunk:
                    save_one(it)
                self.out.write(many)


def dump_py2_pickle(obj: Any, f: BinaryIO, protocol: int = 2) -> None:
    """Write ``obj`` as Python 2's cPickle would (protocol 0 or 2).

    Use :func:`to_py2_strings` first to choose which strings were byte
    ``str`` in Python 2 (``bytes``) and which were ``unicode`` (``str``).
    """
    f.write(_Py2Pickler(protocol).dump(obj))


def write_refs_pickle(path, refs: List[dict], style: str = 'py2',
                      protocol: int = 2, text_as_bytes: bool = True) -> None:
    """Write a refs list as ``refs(<splitBy>).p`` (atomic replace).

    ``style='py2'``: Python-2 cPickle stream, keys as byte str and text as
    byte str (``text_as_bytes``) or unicode; ``style='py3'``: ``pickle``.
    """
    if style not in ('py2', 'py3'):
        raise ValueError(f"style must be 'py2' or 'py3', got {style!r}")
    with atomic_output(path) as tmp, open(tmp, 'xb') as f:
        if style == 'py2':
            dump_py2_pickle(to_py2_strings(refs, text_as_bytes), f, protocol)
        else:
            pickle.dump(refs, f, protocol=protocol)


# --------------------------------------------------------------- generation
def _rle_encode(mask: np.ndarray) -> dict:
    from pycocotools import mask as mask_api
    rle = mask_api.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {'size': [int(s) for s in rle['size']],
            'counts': rle['counts'].decode('ascii')}


def _uncompressed_rle(mask: np.ndarray) -> dict:
    """COCO's uncompressed RLE: run lengths in column-major order,
    starting with a run of zeros."""
    flat = mask.astype(np.uint8).ravel(order='F')
    change = np.flatnonzero(np.diff(flat)) + 1
    bounds = np.concatenate([[0], change, [flat.size]])
    runs = np.diff(bounds).tolist()
    if flat.size and flat[0] == 1:
        runs = [0] + runs
    return {'size': list(mask.shape), 'counts': [int(r) for r in runs]}


def _decode_polygons(polys: List[List[float]], h: int, w: int) -> np.ndarray:
    from pycocotools import mask as mask_api
    rles = mask_api.frPyObjects(polys, h, w)
    return mask_api.decode(mask_api.merge(rles, 0)).astype(np.uint8)


def _ellipse(h: int, w: int, cy: float, cx: float, ry: float,
             rx: float) -> np.ndarray:
    yy, xx = np.mgrid[:h, :w]
    return (((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1).astype(
        np.uint8)


def _sentence(rng: np.random.Generator, sent_id: int,
              non_ascii: bool) -> dict:
    tokens = [str(t) for t in rng.choice(_WORDS, size=int(rng.integers(1, 4)),
                                         replace=False)]
    if non_ascii:
        tokens = tokens + ['caf\u00e9']
    sent = ' '.join(tokens)
    raw = sent.upper() if sent_id % 3 == 0 else sent.capitalize()
    return {'tokens': tokens, 'raw': raw, 'sent_id': sent_id, 'sent': sent}


def make_refer(dataset: str, out, videos: int = 2, frames: int = 6,
               size: Tuple[int, int] = (64, 128), seed: int = 0, *,
               split_bys: Optional[Iterable[str]] = None,
               pickle_style: str = 'py2', pickle_protocol: int = 2
               ) -> Dict[str, Any]:
    """Write a tiny ``dataset`` tree (REFER layout) under ``out``.

    ``videos * frames`` images (at least one per split of every splitBy) of
    about ``size`` (H, W); ``make_synthetic``'s signature, so ``videos`` and
    ``frames`` only set the image count. Returns the manifest (see module
    docstring).
    """
    if dataset not in REFER_DATASETS:
        raise ValueError(f'unknown REFER dataset {dataset!r}; known: '
                         f'{", ".join(REFER_DATASETS)}')
    split_bys = list(split_bys or REFER_DATASETS[dataset])
    for sb in split_bys:
        if (dataset, sb) not in REFER_SPLITS:
            raise ValueError(f'no splitBy {sb!r} for {dataset}')

    rng = np.random.default_rng(seed)
    out = Path(out)
    data_dir = out / dataset
    image_dir = out / REFER_IMAGE_DIRS[dataset]
    data_dir.mkdir(parents=True, exist_ok=True)
    n_images = max(videos * frames,
                   max(len(REFER_SPLITS[(dataset, sb)]) for sb in split_bys))
    H, W = size
    clef = dataset == 'refclef'
    cats = _CLEF_CATS if clef else _COCO_CATS

    # image ids as the real sets: COCO ids (< 581930), ImageCLEF ids < 41000
    pool = np.arange(1, 40999 if clef else 581929)
    image_ids = sorted(int(i) for i in rng.choice(pool, n_images,
                                                  replace=False))
    images, annotations, gt_anns, manifest_images = [], [], {}, {}
    next_ann = int(rng.integers(1000, 5000))
    for k, image_id in enumerate(image_ids):
        h, w = (H, W) if k % 2 == 0 else (H + 8, W - 16)
        if clef:
            file_name = f'{image_id // 1000:02d}/images/{image_id}.jpg'
        else:
            file_name = f'COCO_train2014_{image_id:012d}.jpg'
        path = image_dir / file_name
        pixels = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        save_image(path, pixels, quality=90)
        img = {'license': 1, 'file_name': file_name, 'height': h, 'width': w,
               'id': image_id, 'date_captured': '2013-11-14 11:18:45'}
        if not clef:
            img['coco_url'] = f'http://mscoco.org/images/{image_id}'
            img['flickr_url'] = 'http://farm4.staticflickr.com/synthetic.jpg'
        images.append(img)
        manifest_images[image_id] = dict(img, path=str(path))

        n_obj = 2 + (k % 2)
        for j in range(n_obj):
            ann_id = next_ann
            next_ann += int(rng.integers(1, 50))
            cat_id = cats[(k + j) % len(cats)][0]
            x0 = 4 + 30 * j + int(rng.integers(0, 6))
            y0 = 3 + int(rng.integers(0, 10))
            bw, bh = 18 + int(rng.integers(0, 8)), 20 + int(rng.integers(0, 20))
            if clef:
                m = _ellipse(h, w, y0 + bh / 2, x0 + bw / 2, bh / 2, bw / 2)
                if j == 0 and k == 1:
                    segm, kind = _rle_encode(m), 'rle_dict'
                elif j == 1 and k == 2:
                    segm, kind = [_uncompressed_rle(m)], 'rle_uncompressed'
                else:
                    segm, kind = [_rle_encode(m)], 'rle'
                ys, xs = np.nonzero(m)
                bbox = [float(xs.min()), float(ys.min()),
                        float(xs.max() - xs.min() + 1),
                        float(ys.max() - ys.min() + 1)]
            else:
                x1, y1 = x0 + bw, y0 + bh
                if j == 1:  # two overlapping parts: a box and a triangle
                    polys = [[x0, y0, x1, y0, x1, y1, x0, y1],
                             [x0 + 5.5, y0 + 4.0, x1 + 6.0, y1 - 2.0,
                              x0 + 5.5, y1 - 1.5]]
                else:
                    polys = [[x0 + 0.5, y0, x1, y0 + 2.25, x1 - 1.0, y1,
                              x0, y1 - 3.0]]
                polys = [[round(float(v), 2) for v in p] for p in polys]
                segm, kind = polys, 'polygon'
                m = _decode_polygons(polys, h, w)
                xs = np.concatenate([p[0::2] for p in polys])
                ys = np.concatenate([p[1::2] for p in polys])
                bbox = [float(xs.min()), float(ys.min()),
                        float(xs.max() - xs.min()),
                        float(ys.max() - ys.min())]
            ann = {'segmentation': segm, 'area': float(m.sum()),
                   'iscrowd': 0, 'image_id': image_id, 'bbox': bbox,
                   'category_id': cat_id, 'id': ann_id}
            annotations.append(ann)
            gt_anns[ann_id] = {'image_id': image_id, 'category_id': cat_id,
                               'mask': m, 'bbox': bbox, 'kind': kind,
                               'iscrowd': 0}
        if dataset == 'refcoco' and k == 0:  # a crowd region nobody refers to
            m = np.zeros((h, w), np.uint8)
            m[h - 12:h - 2, w - 30:w - 4] = 1
            ann_id = next_ann
            next_ann += 7
            annotations.append({
                'segmentation': _uncompressed_rle(m), 'area': float(m.sum()),
                'iscrowd': 1, 'image_id': image_id,
                'bbox': [float(w - 30), float(h - 12), 26.0, 10.0],
                'category_id': cats[0][0], 'id': ann_id})
            gt_anns[ann_id] = {'image_id': image_id,
                               'category_id': cats[0][0], 'mask': m,
                               'bbox': [float(w - 30), float(h - 12), 26.0,
                                        10.0], 'kind': 'crowd', 'iscrowd': 1}

    categories = [{'supercategory': sup, 'id': cid, 'name': name}
                  for cid, name, sup in cats]
    instances = {'info': {'description': f'synthetic {dataset}'},
                 'images': images, 'licenses': [{'id': 1, 'name': 'none'}],
                 'annotations': annotations, 'categories': categories}
    inst_path = data_dir / 'instances.json'
    atomic_write_bytes(inst_path, json.dumps(instances).encode())

    referable = [a for a in annotations if not a['iscrowd']]
    by_image: Dict[int, List[dict]] = {}
    for a in referable:
        by_image.setdefault(a['image_id'], []).append(a)
    split_info = {}
    for sb_index, sb in enumerate(split_bys):
        splits = REFER_SPLITS[(dataset, sb)]
        refs, ref_id, sent_id = [], 0, 0
        info = {'splits': {s: [] for s in splits},
                'sentences': {s: [] for s in splits},
                'images': {s: [] for s in splits}}
        for k, image_id in enumerate(image_ids):
            split = splits[(k + sb_index) % len(splits)]
            info['images'][split].append(image_id)
            stem = images[k]['file_name'].rsplit('/', 1)[-1][:-4]
            for j, a in enumerate(by_image[image_id]):
                n_sent = 1 + (ref_id % 3)
                sents = [_sentence(rng, sent_id + i,
                                   non_ascii=(ref_id == 1 and i == 0))
                         for i in range(n_sent)]
                refs.append({'sent_ids': [s['sent_id'] for s in sents],
                             'file_name': f'{stem}_{a["id"]}.jpg',
                             'ann_id': a['id'], 'ref_id': ref_id,
                             'image_id': image_id, 'split': split,
                             'sentences': sents,
                             'category_id': a['category_id']})
                info['splits'][split].append(ref_id)
                info['sentences'][split].extend(s['sent_id'] for s in sents)
                ref_id += 1
                sent_id += n_sent
        refs_path = data_dir / f'refs({sb}).p'
        write_refs_pickle(refs_path, refs, style=pickle_style,
                          protocol=pickle_protocol)
        info['refs_file'] = str(refs_path)
        info['refs'] = refs
        split_info[sb] = info

    return {'dataset': dataset, 'root': str(out), 'data_root': str(out),
            'data_dir': str(data_dir), 'image_dir': str(image_dir),
            'instances_file': str(inst_path), 'images': manifest_images,
            'anns': gt_anns, 'categories': {c['id']: c['name']
                                            for c in categories},
            'split_bys': split_info}


# ----------------------------------------------------------------- DynRefer
def _dynrefer_file_name(source: str, image_id: int) -> str:
    if source == 'vg':
        return f'{image_id}.jpg'
    if source == 'refcoco':
        return f'COCO_train2014_{image_id:012d}.jpg'
    return f'{image_id:012d}.jpg'


def make_dynrefer(out, images: int = 2, size: Tuple[int, int] = (32, 48),
                  seed: int = 0,
                  ann_files: Optional[Dict[str, Iterable[str]]] = None
                  ) -> Dict[str, Any]:
    """Write the DynRefer ``data/`` tree under ``out``: for each of ``vg``,
    ``refcoco``, ``coco2017`` an ``images/`` folder and COCO-style
    region-caption files (``dataset``, ``images``, ``annotations`` with
    ``bbox``, ``segmentation``, ``caption``) under ``dynrefer/``.

    ``ann_files`` picks the files per source (default: vg1.2 train/test,
    refcocog train/val, coco2017 val). Returns ``{source: {'images':
    [paths], 'ann_files': [paths]}}``.
    """
    rng = np.random.default_rng(seed)
    out = Path(out)
    ann_files = ann_files or {
        'vg': ('dynrefer/vg1.2/train.json', 'dynrefer/vg1.2/test.json'),
        'refcoco': ('dynrefer/refcocog_train.json',
                    'dynrefer/refcocog_val.json'),
        'coco2017': ('dynrefer/val.json',)}
    manifest = {}
    h, w = size
    for source, files in ann_files.items():
        img_dir = out / source / 'images'
        img_dir.mkdir(parents=True, exist_ok=True)
        ids = sorted(int(i) for i in rng.choice(np.arange(1, 600000), images,
                                                replace=False))
        paths, recs = [], []
        for image_id in ids:
            name = _dynrefer_file_name(source, image_id)
            save_image(img_dir / name, rng.integers(0, 256, (h, w, 3),
                                                    dtype=np.uint8),
                       quality=90)
            paths.append(str(img_dir / name))
            recs.append({'id': image_id, 'file_name': name, 'height': h,
                         'width': w})
        written = []
        for rel in files:
            anns = []
            for i, rec in enumerate(recs):
                x, y = 2 + i, 3
                anns.append({'id': len(anns) + 1, 'image_id': rec['id'],
                             'bbox': [x, y, 10, 12], 'area': 120,
                             'iscrowd': 0, 'category_id': 1,
                             'segmentation': [[x, y, x + 10, y, x + 10,
                                               y + 12, x, y + 12]],
                             'caption': 'a small thing', 'extra_info': {}})
            doc = {'dataset': {'image_root': f'data/{source}/images'},
                   'images': recs, 'annotations': anns,
                   'categories': [{'id': 1, 'name': 'object'}]}
            path = out / source / rel
            atomic_write_bytes(path, json.dumps(doc).encode())
            written.append(str(path))
        manifest[source] = {'images': paths, 'ann_files': written}
    return manifest


def _main(argv=None) -> int:
    """``python -m knet.datasets.synthetic.refer``: also writes the DynRefer
    tree, which ``tools/dataset/make_synthetic.py`` does not."""
    from knet.utils.cli import ArgumentParser, int_range
    parser = ArgumentParser(
        description='Write a synthetic REFER-family tree (RefClef, RefCOCO, '
        'RefCOCO+, RefCOCOg) or the DynRefer data tree.')
    parser.add_argument('dataset', choices=sorted(REFER_DATASETS) +
                        ['dynrefer'])
    parser.add_argument('--out', required=True, path='out-dir',
                        help='data_root to write')
    parser.add_argument('--images', type=int_range(1, 10000), default=12,
                        help='number of images (default 12)')
    parser.add_argument('--size', type=int_range(16, 8192), nargs=2,
                        default=(64, 128), metavar=('H', 'W'))
    parser.add_argument('--seed', type=int_range(0, 2**32 - 1), default=0)
    parser.add_argument('--pickle-style', choices=('py2', 'py3'),
                        default='py2')
    args = parser.parse_args(argv)
    if args.dataset == 'dynrefer':
        make_dynrefer(args.out, images=args.images, size=tuple(args.size),
                      seed=args.seed)
    else:
        make_refer(args.dataset, args.out, videos=1, frames=args.images,
                   size=tuple(args.size), seed=args.seed,
                   pickle_style=args.pickle_style)
    print(f'wrote {args.dataset} under {args.out}')
    return 0


if __name__ == '__main__':
    from knet.utils.cli import run_cli
    raise SystemExit(run_cli(_main))
