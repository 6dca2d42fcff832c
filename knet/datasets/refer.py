"""A Python-3 REFER API for RefClef, RefCOCO, RefCOCO+ and RefCOCOg.

Same public methods, attributes and data layout as the original
``lichengunc/refer`` ``refer.py`` (Licheng Yu's REFER API), written anew:

* ``<data_root>/<dataset>/refs(<splitBy>).p`` -- a pickled list of refs
  (``ref_id, ann_id, image_id, category_id, split, sent_ids, sentences``);
* ``<data_root>/<dataset>/instances.json`` -- COCO-style images,
  annotations and categories;
* images under ``<data_root>/images/mscoco/images/train2014`` (refcoco,
  refcoco+, refcocog) or ``<data_root>/images/saiapr_tc-12`` (refclef).

Differences from the original, all deliberate:

* masks go through ``pycocotools.mask`` (no bundled copy of the old COCO C
  code); ``getMask`` returns the *union* of the object's parts (the
  original summed them, so overlapping polygon parts gave pixel value 2)
  and ``area`` is the area of that union;
* ids may be given as numpy integers, tuples, sets, ranges or arrays (the
  original tested ``type(x) == list`` / ``== int`` and silently returned
  nothing or ``None`` for those);
* ``getRefIds(image_ids=...)`` works (the original built a list of lists
  and crashed) and ``getAnnIds(ref_ids=...)`` filters (the original
  computed the intersection and then returned the unfiltered list);
* an unknown dataset, splitBy or split raises ``ValueError`` (a
  :class:`~knet.formats.io.DataError` for the latter two; the original
  called ``sys.exit``);
* the refs pickle loads whether Python 2 (``cPickle``, byte strings) or
  Python 3 wrote it, see :func:`load_refs_pickle`;
* nothing is printed unless ``verbose=True``; matplotlib is imported only
  by ``showRef`` / ``showMask``.
"""
import itertools
import os.path as osp
import pickle
import time
from numbers import Integral
from typing import Any, Dict, Iterable, List, Optional, Union

import numpy as np

from knet.formats.coco_mask import segmentation_to_rle
from knet.formats.io import DataError, register_input
from knet.formats.validation import Validator

__all__ = ['REFER', 'load_refs_pickle', 'validate_refs',
           'validate_refer_instances', 'REFER_DATASETS', 'REFER_SPLITS',
           'REFER_IMAGE_DIRS', 'REF_KEYS', 'SENTENCE_KEYS']

#: dataset -> the splitBy values released for it.
REFER_DATASETS: Dict[str, tuple] = {
    'refclef': ('unc', 'berkeley'),
    'refcoco': ('unc', 'google'),
    'refcoco+': ('unc',),
    'refcocog': ('google', 'umd'),
}

#: (dataset, splitBy) -> the split names found in that refs pickle.
REFER_SPLITS: Dict[tuple, tuple] = {
    ('refclef', 'unc'): ('train', 'val', 'testA', 'testB', 'testC'),
    ('refclef', 'berkeley'): ('train', 'val', 'test'),
    ('refcoco', 'unc'): ('train', 'val', 'testA', 'testB'),
    ('refcoco', 'google'): ('train', 'val', 'test'),
    ('refcoco+', 'unc'): ('train', 'val', 'testA', 'testB'),
    ('refcocog', 'google'): ('train', 'val'),
    ('refcocog', 'umd'): ('train', 'val', 'test'),
}

#: dataset -> image folder relative to data_root (as the original code).
REFER_IMAGE_DIRS: Dict[str, str] = {
    'refclef': 'images/saiapr_tc-12',
    'refcoco': 'images/mscoco/images/train2014',
    'refcoco+': 'images/mscoco/images/train2014',
    'refcocog': 'images/mscoco/images/train2014',
}

#: keys of every ref in a refs pickle, and of each of its sentences.
REF_KEYS = ('ref_id', 'ann_id', 'image_id', 'category_id', 'split',
            'sent_ids', 'sentences')
SENTENCE_KEYS = ('tokens', 'raw', 'sent', 'sent_id')

#: split names accepted by getRefIds.
_QUERY_SPLITS = ('train', 'val', 'test', 'testA', 'testB', 'testC',
                 'testAB', 'testBC', 'testAC')


def _mask_api():
    """pycocotools.mask, imported on first use (keeps imports light)."""
    from pycocotools import mask as mask_api
    return mask_api


def _as_str(value: bytes) -> str:
    """Decode a Python-2 byte string: UTF-8 if valid, else Latin-1."""
    try:
        return value.decode('utf-8')
    except UnicodeDecodeError:
        return value.decode('latin1')


def _decode_bytes(obj: Any) -> Any:
    """Recursively turn bytes (keys and values) into str."""
    if isinstance(obj, bytes):
        return _as_str(obj)
    if isinstance(obj, dict):
        return {_decode_bytes(k): _decode_bytes(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_decode_bytes(v) for v in obj]
    if isinstance(obj, tuple):
        return tuple(_decode_bytes(v) for v in obj)
    return obj


def load_refs_pickle(path: str) -> list:
    """Load a ``refs(<splitBy>).p`` file written by Python 2 or Python 3.

    The released files were written by Python 2's ``cPickle`` where text is
    either ``unicode`` (reads back as ``str``) or a byte ``str`` (opcodes
    STRING/BINSTRING). Loading with ``encoding='bytes'`` keeps those as
    bytes, which are then decoded as UTF-8 (Latin-1 if not valid UTF-8).
    This is a superset of ``encoding='latin1'``: identical for Latin-1
    text, but UTF-8 encoded expressions come back intact instead of as
    mojibake. Bytes written by Python 3 are decoded the same way. (Pickles
    holding objects that need ``encoding='latin1'``, e.g. numpy arrays, are
    retried with it.)
    """
    register_input(path)
    with open(path, 'rb') as f:
        raw = f.read()
    try:
        data = pickle.loads(raw, encoding='bytes')
    except Exception as e:  # truncated / not a pickle / wrong format
        try:  # objects such as numpy arrays need 'latin1' (never in refs)
            data = pickle.loads(raw, encoding='latin1')
        except Exception:
            raise DataError(f'{path}: cannot unpickle refs '
                            f'({type(e).__name__}: {e})') from None
    data = _decode_bytes(data)
    if not isinstance(data, list):
        raise DataError(f'{path}: expected a pickled list of refs, '
                        f'got {type(data).__name__}')
    return data


def validate_refs(refs: Any, path: str) -> None:
    """Check a refs list: unique integer ``ref_id``, every key of
    :data:`REF_KEYS` with its type (``ann_id`` an integer or a list of them,
    ``split`` a string), sentences with the keys of :data:`SENTENCE_KEYS`
    and a ``sent_id`` unique over the whole file."""
    v = Validator(path)
    v.array(refs, '')
    v.unique(refs, 'ref_id', 'refs')
    sentence_at: Dict[int, str] = {}
    for i, ref in enumerate(refs):
        at = f'refs[{i}]'
        v.mapping(ref, at, REF_KEYS)
        ann_ids = ref['ann_id']
        for j, a in enumerate(ann_ids if isinstance(ann_ids, list)
                              else [ann_ids]):
            v.integer(a, f'{at}.ann_id' + (f'[{j}]' if isinstance(
                ann_ids, list) else ''))
        v.integer(ref['image_id'], f'{at}.image_id')
        v.integer(ref['category_id'], f'{at}.category_id')
        v.string(ref['split'], f'{at}.split')
        for j, sid in enumerate(v.array(ref['sent_ids'], f'{at}.sent_ids')):
            v.integer(sid, f'{at}.sent_ids[{j}]')
        for j, sent in enumerate(v.array(ref['sentences'],
                                         f'{at}.sentences')):
            st = f'{at}.sentences[{j}]'
            v.mapping(sent, st, SENTENCE_KEYS)
            sid = v.integer(sent['sent_id'], f'{st}.sent_id')
            if sid in sentence_at:
                raise v.fail(f'{st}.sent_id', f'duplicate sent_id {sid} '
                             f'(also {sentence_at[sid]})')
            sentence_at[sid] = st
            v.string(sent['raw'], f'{st}.raw', nonempty=False)
            v.string(sent['sent'], f'{st}.sent', nonempty=False)
            for k, tok in enumerate(v.array(sent['tokens'],
                                            f'{st}.tokens')):
                v.string(tok, f'{st}.tokens[{k}]', nonempty=False)


def validate_refer_instances(data: Any, path: str) -> None:
    """Check a REFER ``instances.json``: unique image / annotation /
    category ids, images with a file name and a positive size, annotations
    on a known image with a known category, an [x, y, w, h] box and a
    segmentation (polygons, or RLEs of the image's size)."""
    v = Validator(path)
    v.mapping(data, '', ('images', 'annotations', 'categories'))
    images = v.array(data['images'], 'images')
    image_at = v.unique(images, 'id', 'images')
    for i, im in enumerate(images):
        v.mapping(im, f'images[{i}]', ('file_name', 'height', 'width'))
        v.string(im['file_name'], f'images[{i}].file_name')
        v.integer(im['height'], f'images[{i}].height', lo=1)
        v.integer(im['width'], f'images[{i}].width', lo=1)
    cats = v.array(data['categories'], 'categories')
    cat_ids = v.unique(cats, 'id', 'categories')
    for i, c in enumerate(cats):
        v.string(c.get('name'), f'categories[{i}].name')
    anns = v.array(data['annotations'], 'annotations')
    v.unique(anns, 'id', 'annotations')
    for i, a in enumerate(anns):
        at = f'annotations[{i}]'
        v.mapping(a, at, ('image_id', 'category_id', 'bbox', 'segmentation'))
        v.known(a['image_id'], image_at, f'{at}.image_id', 'image id')
        v.known(v.integer(a['category_id'], f'{at}.category_id'), cat_ids,
                f'{at}.category_id', 'category id')
        v.bbox(a['bbox'], f'{at}.bbox')
        im = images[image_at[a['image_id']]]
        seg = a['segmentation']
        if isinstance(seg, list) and seg and \
                all(isinstance(p, dict) for p in seg):
            for k, part in enumerate(seg):  # a list of RLE parts
                v.rle(part, f'{at}.segmentation[{k}]', im['height'],
                      im['width'])
        else:
            v.segmentation(seg, f'{at}.segmentation', im['height'],
                           im['width'])


def _id_list(ids: Any) -> list:
    """Normalise an id argument to a list of plain Python ids.

    ``None`` and empty containers mean "no filter" (``[]``); a scalar
    (int, numpy integer, str) becomes a one-element list; lists, tuples,
    sets, ranges and numpy arrays become lists of Python ints / strs.
    """
    if ids is None:
        return []
    if isinstance(ids, np.ndarray):
        ids = ids.ravel().tolist()
    elif isinstance(ids, (Integral, str, bytes)):
        ids = [ids]
    elif isinstance(ids, Iterable):  # list, tuple, set, range, ...
        ids = list(ids)
    else:
        raise TypeError(f'ids must be an int, a str or a sequence of them, '
                        f'got {type(ids).__name__}')
    out = []
    for i in ids:
        if isinstance(i, Integral) and not isinstance(i, bool):
            out.append(int(i))
        elif isinstance(i, (str, bytes)):
            out.append(i)
        else:
            raise TypeError(f'bad id {i!r} ({type(i).__name__})')
    return out


def _ann_ids_of(ref: dict) -> list:
    """The annotation id(s) of a ref (an int, or a list in gRefCOCO)."""
    ann_id = ref['ann_id']
    return list(ann_id) if isinstance(ann_id, (list, tuple)) else [ann_id]


class REFER:
    """Load one referring-expression dataset with one split.

    Args:
        data_root: folder holding ``refclef/``, ``refcoco/``, ``refcoco+/``,
            ``refcocog/`` and ``images/``.
        dataset: ``'refclef'``, ``'refcoco'``, ``'refcoco+'`` or
            ``'refcocog'``.
        splitBy: ``'unc'``, ``'google'``, ``'umd'`` or ``'berkeley'``
            (see :data:`REFER_DATASETS` for the released pairs; another
            value is accepted only when its ``refs(<splitBy>).p`` exists).
        verbose: print progress as the original did.

    Index attributes are those of the original: ``Refs``, ``Anns``,
    ``Imgs``, ``Cats`` (id -> name), ``Sents``, ``imgToRefs``,
    ``imgToAnns``, ``refToAnn``, ``annToRef``, ``catToRefs``,
    ``sentToRef``, ``sentToTokens``.
    """

    def __init__(self, data_root: str, dataset: str = 'refcoco',
                 splitBy: str = 'unc', verbose: bool = False) -> None:
        if dataset not in REFER_DATASETS:
            raise ValueError(f'no referring dataset called {dataset!r}; '
                             f'known: {", ".join(REFER_DATASETS)}')
        self.verbose = verbose
        self._log(f'loading dataset {dataset} into memory...')
        self.ROOT_DIR = osp.abspath(osp.dirname(__file__))
        self.DATA_DIR = osp.join(data_root, dataset)
        self.IMAGE_DIR = osp.join(data_root, REFER_IMAGE_DIRS[dataset])
        self.dataset = dataset
        self.splitBy = splitBy

        tic = time.time()
        ref_file = osp.join(self.DATA_DIR, f'refs({splitBy}).p')
        if not osp.isfile(ref_file):
            if splitBy not in REFER_DATASETS[dataset]:
                raise DataError(
                    f'{ref_file}: not found: no splitBy {splitBy!r} for '
                    f'{dataset}; known: {", ".join(REFER_DATASETS[dataset])}')
            raise FileNotFoundError(f'{ref_file}: refs pickle not found')
        instances_file = osp.join(self.DATA_DIR, 'instances.json')
        if not osp.isfile(instances_file):
            raise FileNotFoundError(f'{instances_file}: not found')
        self.data: Dict[str, Any] = {'dataset': dataset}
        self.data['refs'] = load_refs_pickle(ref_file)
        validate_refs(self.data['refs'], ref_file)
        from knet.formats.io import load_json
        instances = load_json(instances_file)
        validate_refer_instances(instances, instances_file)
        for key in ('images', 'annotations', 'categories'):
            self.data[key] = instances[key]
        self._ref_file = ref_file
        self.createIndex()
        self._log(f'DONE (t={time.time() - tic:.2f}s)')

    def _log(self, msg: str) -> None:
        if self.verbose:
            print(msg)

    # ------------------------------------------------------------------ index
    def createIndex(self) -> None:
        """Build the id -> object and cross-reference dictionaries."""
        self._log('creating index...')
        Anns, Imgs, Cats, imgToAnns = {}, {}, {}, {}
        for ann in self.data['annotations']:
            Anns[ann['id']] = ann
            imgToAnns.setdefault(ann['image_id'], []).append(ann)
        for img in self.data['images']:
            Imgs[img['id']] = img
        for cat in self.data['categories']:
            Cats[cat['id']] = cat['name']

        Refs, imgToRefs, refToAnn, annToRef, catToRefs = {}, {}, {}, {}, {}
        Sents, sentToRef, sentToTokens = {}, {}, {}
        for ref in self.data['refs']:
            ref_id = ref['ref_id']
            Refs[ref_id] = ref
            imgToRefs.setdefault(ref['image_id'], []).append(ref)
            catToRefs.setdefault(ref['category_id'], []).append(ref)
            ann_ids = [a for a in _ann_ids_of(ref) if a != -1]
            where = getattr(self, '_ref_file', 'refs')
            for ann_id in ann_ids:
                if ann_id not in Anns:
                    raise DataError(f'{where}: ref {ref_id} points to '
                                    f'annotation {ann_id} missing from '
                                    'instances.json')
                annToRef[ann_id] = ref
            if ref['image_id'] not in Imgs:
                raise DataError(f'{where}: ref {ref_id} points to image '
                                f'{ref["image_id"]} missing from '
                                'instances.json')
            if ann_ids:
                refToAnn[ref_id] = Anns[ann_ids[0]]
            for sent in ref['sentences']:
                Sents[sent['sent_id']] = sent
                sentToRef[sent['sent_id']] = ref
                sentToTokens[sent['sent_id']] = sent['tokens']

        self.Refs, self.Anns, self.Imgs, self.Cats = Refs, Anns, Imgs, Cats
        self.Sents = Sents
        self.imgToRefs, self.imgToAnns = imgToRefs, imgToAnns
        self.refToAnn, self.annToRef = refToAnn, annToRef
        self.catToRefs = catToRefs
        self.sentToRef, self.sentToTokens = sentToRef, sentToTokens
        self._log('index created.')

    # ---------------------------------------------------------------- queries
    @staticmethod
    def _split_filter(refs: List[dict], split: str) -> List[dict]:
        """The original's split rule: testA/B/C match any test split whose
        name contains that letter (testAB counts for testA and testB);
        'test' matches every split containing 'test'."""
        if split in ('testA', 'testB', 'testC'):
            return [r for r in refs if split[-1] in r['split']]
        if split == 'test':
            return [r for r in refs if 'test' in r['split']]
        if split in _QUERY_SPLITS:  # train, val, testAB, testBC, testAC
            return [r for r in refs if r['split'] == split]
        raise DataError(f'no such split {split!r}; known: '
                        f'{", ".join(_QUERY_SPLITS)}')

    def getRefIds(self, image_ids: Any = [], cat_ids: Any = [],
                  ref_ids: Any = [], split: str = '') -> list:
        """Ref ids passing every given filter (all refs when none given).

        Ids may be scalars or sequences of any integer type; unknown image
        ids match nothing (the original raised KeyError). ``split`` follows
        the original's rules (see ``_split_filter``)."""
        image_ids = _id_list(image_ids)
        cat_ids = set(_id_list(cat_ids))
        ref_ids = set(_id_list(ref_ids))
        split = split or ''
        if image_ids:
            refs = list(itertools.chain.from_iterable(
                self.imgToRefs.get(i, []) for i in image_ids))
        else:
            refs = self.data['refs']
        if cat_ids:
            refs = [r for r in refs if r['category_id'] in cat_ids]
        if ref_ids:
            refs = [r for r in refs if r['ref_id'] in ref_ids]
        if split:
            refs = self._split_filter(refs, split)
        return [r['ref_id'] for r in refs]

    def getAnnIds(self, image_ids: Any = [], cat_ids: Any = [],
                  ref_ids: Any = []) -> list:
        """Annotation ids passing every given filter (in instances order
        within each image)."""
        image_ids = _id_list(image_ids)
        cat_ids = set(_id_list(cat_ids))
        ref_ids = _id_list(ref_ids)
        if image_ids:
            anns = list(itertools.chain.from_iterable(
                self.imgToAnns.get(i, []) for i in image_ids))
        else:
            anns = self.data['annotations']
        if cat_ids:
            anns = [a for a in anns if a['category_id'] in cat_ids]
        ann_ids = [a['id'] for a in anns]
        if ref_ids:
            wanted = set(itertools.chain.from_iterable(
                _ann_ids_of(self.Refs[r]) for r in ref_ids))
            ann_ids = [a for a in ann_ids if a in wanted]
        return ann_ids

    def getImgIds(self, ref_ids: Any = []) -> list:
        """Image ids of the given refs (first-seen order), or all images."""
        ref_ids = _id_list(ref_ids)
        if ref_ids:
            return list(dict.fromkeys(self.Refs[r]['image_id']
                                      for r in ref_ids))
        return list(self.Imgs.keys())

    def getCatIds(self) -> list:
        """All category ids."""
        return list(self.Cats.keys())

    def loadRefs(self, ref_ids: Any = []) -> List[dict]:
        """Refs for one id or a sequence of ids."""
        return [self.Refs[i] for i in _id_list(ref_ids)]

    def loadAnns(self, ann_ids: Any = []) -> List[dict]:
        """Annotations for one id or a sequence of ids."""
        return [self.Anns[i] for i in _id_list(ann_ids)]

    def loadImgs(self, image_ids: Any = []) -> List[dict]:
        """Image records for one id or a sequence of ids."""
        return [self.Imgs[i] for i in _id_list(image_ids)]

    def loadCats(self, cat_ids: Any = []) -> List[str]:
        """Category *names* for one id or a sequence of ids."""
        return [self.Cats[i] for i in _id_list(cat_ids)]

    def getRefBox(self, ref_id: Any) -> list:
        """The referred object's box, COCO ``[x, y, w, h]``."""
        ref_id = _id_list(ref_id)[0]
        return self.refToAnn[ref_id]['bbox']

    # ------------------------------------------------------------------ masks
    def annToRLE(self, ann: dict) -> dict:
        """One compressed RLE (union of parts) for an annotation."""
        img = self.Imgs[ann['image_id']]
        return segmentation_to_rle(ann['segmentation'], img['height'],
                                   img['width'])

    def getMask(self, ref: dict) -> Dict[str, Any]:
        """``{'mask': HxW uint8 0/1, 'area': int}`` of the referred object.

        Also accepts an annotation dict (as gRefCOCO's ``getMask(ann)``).
        """
        if 'ref_id' in ref:
            ann = self.refToAnn[ref['ref_id']]
        elif 'segmentation' in ref:
            ann = ref
        else:
            raise ValueError('getMask expects a ref or an annotation dict')
        rle = self.annToRLE(ann)
        mask_api = _mask_api()
        m = mask_api.decode(dict(rle, counts=rle['counts'].encode('ascii')))
        return {'mask': np.ascontiguousarray(m, dtype=np.uint8),
                'area': int(m.sum())}

    def getMaskByRef(self, ref: Optional[dict] = None, ref_id: Any = None,
                     merge: bool = False
                     ) -> Union[Dict[str, Any], List[Dict[str, Any]]]:
        """Mask(s) of a ref given the ref or its id (gRefCOCO's API).

        ``merge=True``: ``{'mask': union of all its objects, 'empty': bool}``.
        ``merge=False``: a list of :meth:`getMask` dicts, one per non-crowd
        object. A ref with no target (ann id -1) gives an empty mask
        ``{'mask': zeros, 'empty': True}`` either way.
        """
        if ref is None:
            if ref_id is None:
                raise ValueError('give ref or ref_id')
            ref = self.Refs[_id_list(ref_id)[0]]
        ann_ids = _ann_ids_of(ref)
        img = self.Imgs[ref['image_id']]
        if ann_ids == [-1]:
            return {'mask': np.zeros((img['height'], img['width']),
                                     dtype=np.uint8), 'empty': True}
        masks = [self.getMask(a) for a in self.loadAnns(ann_ids)
                 if not a.get('iscrowd', 0)]
        if not merge:
            return masks
        merged = np.zeros((img['height'], img['width']), dtype=np.uint8)
        for m in masks:
            merged |= m['mask']
        return {'mask': merged, 'empty': not merged.any()}

    # ---------------------------------------------------------------- display
    def showRef(self, ref: dict, seg_box: str = 'seg', ax=None):
        """Draw the image with the referred object's outline (``'seg'``) or
        box (``'box'``) on ``ax`` (default: the current axes); prints the
        expressions as the original did. Returns the axes."""
        if seg_box not in ('seg', 'box'):
            raise ValueError(f"seg_box must be 'seg' or 'box', got "
                             f'{seg_box!r}')
        import matplotlib.pyplot as plt
        from matplotlib.collections import PatchCollection
        from matplotlib.patches import Polygon, Rectangle
        from PIL import Image

        ax = ax if ax is not None else plt.gca()
        image = self.Imgs[ref['image_id']]
        with Image.open(osp.join(self.IMAGE_DIR, image['file_name'])) as im:
            ax.imshow(np.asarray(im.convert('RGB')))
        for sid, sent in enumerate(ref['sentences']):
            print(f'{sid + 1}. {sent["sent"]}')
        ann = self.refToAnn[ref['ref_id']]
        segm = ann['segmentation']
        if seg_box == 'seg':
            if isinstance(segm, list) and segm and \
                    isinstance(segm[0], (list, tuple)):  # polygons
                polygons = [Polygon(np.asarray(p, dtype=float).reshape(-1, 2),
                                    closed=True) for p in segm]
                ax.add_collection(PatchCollection(
                    polygons, facecolors='none', edgecolors=(1, 1, 0, 1),
                    linewidths=3))  # thick yellow outline
                ax.add_collection(PatchCollection(
                    polygons, facecolors='none', edgecolors=(1, 0, 0, 1),
                    linewidths=1))  # thin red outline
            else:  # RLE (refclef): translucent green overlay
                m = self.getMask(ann)['mask'].astype(float)
                overlay = np.empty(m.shape + (4,))
                overlay[..., :3] = np.array([2.0, 166.0, 101.0]) / 255
                overlay[..., 3] = m * 0.5
                ax.imshow(overlay)
        else:
            x, y, w, h = self.getRefBox(ref['ref_id'])
            ax.add_patch(Rectangle((x, y), w, h, fill=False,
                                   edgecolor='green', linewidth=3))
        return ax

    def showMask(self, ref: dict, ax=None):
        """Show the referred object's binary mask; returns the axes."""
        import matplotlib.pyplot as plt
        ax = ax if ax is not None else plt.gca()
        ax.imshow(self.getMask(ref)['mask'])
        return ax

    def __repr__(self) -> str:
        return (f'REFER({self.dataset}, splitBy={self.splitBy}: '
                f'{len(self.Refs)} refs, {len(self.Sents)} sentences, '
                f'{len(self.Imgs)} images)')
