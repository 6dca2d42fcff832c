"""Synthetic datasets in each benchmark's raw official layout.

The only source of test data in the project: ``make_synthetic`` paints
small videos (textured stuff, moving and occluding things with persistent
instance ids, crowd and void areas) and writes them exactly as the official
download would have them, then returns a manifest with the painted ground
truth so that tests can compare decoded labels pixel for pixel.
"""
import importlib
from pathlib import Path
from typing import Any, Dict, Tuple, Union

import numpy as np

__all__ = ['make_synthetic', 'SYNTHETIC_DATASETS', 'manifest_to_jsonable']

#: dataset name -> (module, function); modules are imported on demand.
SYNTHETIC_DATASETS = {
    'kitti-step': ('kitti_step', 'make_kitti_step'),
    'vipseg': ('vipseg', 'make_vipseg'),
    'cityscapes-vps': ('cityscapes_vps', 'make_cityscapes_vps'),
    'youtube_vis_2019': ('youtube_vis', 'make_youtube_vis_2019'),
    'youtube_vis_2021': ('youtube_vis', 'make_youtube_vis_2021'),
    'cityscapes': ('cityscapes', 'make_cityscapes'),
    'coco_panoptic': ('coco', 'make_coco_panoptic'),
    'refcoco': ('refer', 'make_refer'),
    'refcoco+': ('refer', 'make_refer'),
    'refcocog': ('refer', 'make_refer'),
    'refclef': ('refer', 'make_refer'),
}
_ALIASES = {'kitti_step': 'kitti-step', 'cityscapes_vps': 'cityscapes-vps',
            'coco': 'coco_panoptic', 'youtube_vis': 'youtube_vis_2019'}
_REFER = ('refcoco', 'refcoco+', 'refcocog', 'refclef')


def make_synthetic(dataset: str, out: Union[str, Path], videos: int = 2,
                   frames: int = 6, size: Tuple[int, int] = (64, 128),
                   seed: int = 0, **kwargs: Any) -> Dict:
    """Write a small synthetic ``dataset`` under ``out``; return its manifest.

    The manifest holds ``dataset``, ``root``, ``splits`` (split -> video
    names) and ``videos``: per video its ``name``, ``split``, ``things``
    (instance id -> class id) and ``frames``, each with the file paths it
    wrote and the painted truth: ``semantic`` (the dataset's own class ids,
    255 on void), ``instance``, ``crowd`` and ``void`` maps. Extra keyword
    arguments go to the benchmark's generator (e.g. ``test_videos``).
    """
    name = _ALIASES.get(dataset, dataset)
    if name not in SYNTHETIC_DATASETS:
        raise ValueError(f'unknown dataset {dataset!r}; known: '
                         f'{", ".join(SYNTHETIC_DATASETS)}')
    if videos < 1 or frames < 1:
        raise ValueError('videos and frames must be >= 1')
    size = (int(size[0]), int(size[1]))
    module_name, fn_name = SYNTHETIC_DATASETS[name]
    module = importlib.import_module(f'{__name__}.{module_name}')
    fn = getattr(module, fn_name)
    Path(out).mkdir(parents=True, exist_ok=True)
    if name in _REFER:
        # The REFER generator is image based; pass what it accepts.
        import inspect
        params = inspect.signature(fn).parameters
        given = dict(videos=videos, frames=frames, size=size, seed=seed,
                     **kwargs)
        if not any(p.kind == p.VAR_KEYWORD for p in params.values()):
            given = {k: v for k, v in given.items() if k in params}
        return fn(name, out, **given)
    return fn(out, videos=videos, frames=frames, size=size, seed=seed,
              **kwargs)


def manifest_to_jsonable(obj: Any) -> Any:
    """The manifest without its arrays (for ``manifest.json``)."""
    if isinstance(obj, dict):
        return {str(k): manifest_to_jsonable(v) for k, v in obj.items()
                if not isinstance(v, np.ndarray)}
    if isinstance(obj, (list, tuple)):
        return [manifest_to_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    return obj
