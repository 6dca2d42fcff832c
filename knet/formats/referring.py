"""Referring-expression prediction files (``tools/eval_refer.py``).

A JSON list of entries, or ``{"predictions": [...]}``. Each entry names what
it predicts by ``sent_id`` (one per expression) or by ``ref_id`` (one per
referred object) -- one or the other for the whole file -- and gives a
``bbox`` ([x, y, w, h], COCO, pixels) and/or a ``segmentation`` (COCO RLE of
the image's size, or polygons).
"""
from typing import Any, Dict, List, Tuple

from .validation import Validator

__all__ = ['validate_referring_predictions']


def validate_referring_predictions(doc: Any, path) -> Tuple[
        List[Dict], str]:
    """Check a prediction file; return (entries, id key).

    Every entry is an object with an integer ``sent_id`` or ``ref_id`` (the
    same key throughout, each id once) and at least one of a valid ``bbox``
    and ``segmentation``; RLE counts are checked against the RLE's size (its
    agreement with the image is checked where the image is known).
    """
    v = Validator(path)
    entries = doc.get('predictions') if isinstance(doc, dict) else doc
    if isinstance(doc, dict) and entries is None:
        raise v.fail('', 'expected a list of predictions or '
                     '{"predictions": [...]}')
    v.array(entries, 'predictions' if isinstance(doc, dict) else '')
    key = None
    seen: Dict[int, int] = {}
    rles = []
    for i, e in enumerate(entries):
        at = f'prediction {i}'
        v.mapping(e, at)
        keys = [k for k in ('sent_id', 'ref_id') if k in e]
        if len(keys) != 1:
            raise v.fail(at, 'needs exactly one of sent_id or ref_id')
        if key is None:
            key = keys[0]
        elif keys[0] != key:
            raise v.fail(at, f'has {keys[0]} but the entries before it use '
                         f'{key} (one or the other for the whole file)')
        item = v.integer(e[key], f'{at}.{key}')
        if item in seen:
            raise v.fail(f'{at}.{key}', f'two predictions for {key} {item} '
                         f'(also prediction {seen[item]})')
        seen[item] = i
        if e.get('bbox') is None and e.get('segmentation') is None:
            raise v.fail(at, 'has neither bbox nor segmentation')
        if e.get('bbox') is not None:
            v.bbox(e['bbox'], f'{at}.bbox')
        seg = e.get('segmentation')
        if isinstance(seg, dict):
            v.rle(seg, f'{at}.segmentation', check_counts=False)
            rles.append((f'{at}.segmentation', seg))
        elif seg is not None:
            v.polygons(seg, f'{at}.segmentation')
    v.rles(rles)
    return entries, key or 'sent_id'
