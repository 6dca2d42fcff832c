"""Offline YouTube-VIS evaluation (AP, AP50, AP75, AR1, AR10) with the
official youtubevos ``YTVOSeval`` maths (the copy in
``mmdet.evaluation.functional``, imported when :func:`evaluate_youtube_vis`
runs).

The ground truth is a raw YouTube-VIS annotation dict (``videos`` with
``length`` / ``file_names``, ``annotations`` with per-frame
``segmentations``); the results the list the server takes. Every result
must have one entry per frame of its video (a shorter list silently
inflates IoU in the official evaluator, so :func:`check_results` rejects
it), a known video and a known category.
"""
import contextlib
import io
import json
import math
import zipfile
from pathlib import Path

from knet.formats.io import DataError, load_json, register_input
from knet.formats.youtube_vis import (validate_ytvis_official,
                                      validate_ytvis_results)

__all__ = ['load_results', 'check_results', 'evaluate_youtube_vis']

#: (output key, index in YTVISeval.stats)
STATS = (('AP', 0), ('AP50', 1), ('AP75', 2), ('AP_small', 3),
         ('AP_medium', 4), ('AP_large', 5), ('AR1', 6), ('AR10', 7),
         ('AR100', 8), ('AR_small', 9), ('AR_medium', 10), ('AR_large', 11))


def load_results(path: Path) -> list:
    """The result list of ``results.json`` or of the ``submission_file.zip``
    holding it."""
    if path.suffix == '.zip':
        register_input(path)
        try:
            with zipfile.ZipFile(path) as z:
                names = [n for n in z.namelist() if n.endswith('.json')]
                if not names:
                    raise DataError(f'{path}: no .json file in the zip')
                data = json.loads(z.read(names[0]))
        except (zipfile.BadZipFile, json.JSONDecodeError,
                UnicodeDecodeError) as e:
            raise DataError(f'{path}: cannot read ({e})') from None
    else:
        data = load_json(path)
    if not isinstance(data, list):
        raise DataError(f'{path}: results must be a JSON list')
    return data


def check_results(gt: dict, results: list, gt_path: Path,
                  res_path: Path) -> None:
    """Reject what the official evaluator would silently mis-score or hang
    on: the ground truth must be a labelled official file
    (:func:`~knet.formats.youtube_vis.validate_ytvis_official`), every result
    one of :func:`~knet.formats.youtube_vis.validate_ytvis_results` (known
    video and category, one valid RLE or null per frame)."""
    sizes = validate_ytvis_official(gt, gt_path)
    if gt.get('annotations') is None:
        raise DataError(f'{gt_path}: has no annotations (a file without '
                        'labels, such as the official valid.json?): nothing '
                        'to evaluate against')
    validate_ytvis_results(results, sizes,
                           [c['id'] for c in gt['categories']], res_path)


def evaluate_youtube_vis(gt: dict, results: list) -> dict:
    """Run YTVIS/YTVISeval quietly; returns the 12 summary numbers."""
    from mmdet.evaluation.functional import YTVIS, YTVISeval

    from knet.evaluation.functional.compat import numpy_float_alias
    log = io.StringIO()
    with contextlib.redirect_stdout(log), numpy_float_alias():
        ytvis = YTVIS(gt)
        if results:
            dt = ytvis.loadRes(results)
            ev = YTVISeval(ytvis, dt, 'segm')
            ev.evaluate()
            ev.accumulate()
            ev.summarize()
            stats = list(ev.stats)
        else:
            stats = [-1.0] * 12
    out, warnings = {}, []
    for key, idx in STATS:
        v = float(stats[idx])
        # -1 is the evaluator's "undefined" (e.g. no GT in an area range)
        out[key] = None if v < 0 or not math.isfinite(v) else v
        if out[key] is None and key in ('AP', 'AP50', 'AP75', 'AR1', 'AR10'):
            warnings.append(f'{key} is undefined (no ground truth or no '
                            f'results)')
    out['warnings'] = warnings
    return out
