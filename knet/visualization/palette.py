"""Colours for video panoptic results (pure NumPy, no framework imports).

Two palettes:

* class colours come from ``dataset_meta['palette']`` (one RGB triple per
  model label), looked up either by model label or by the dataset's own id
  (``dataset_meta['label_ids']``), whichever space a semantic map is in;
* track-id colours come from a deterministic hash of the id (Fibonacci
  hashing: the hue is ``id * 0.618... mod 1``), so one id has the same
  colour in every frame, every run and every process, and consecutive ids
  (what a tracker hands out) land far apart on the colour wheel.
"""
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

__all__ = [
    'IGNORE_COLOR', 'ClassPalette', 'build_class_palette', 'hsv_to_rgb',
    'track_id_colors', 'random_free_palette'
]

#: Colour of void / ignored pixels (black).
IGNORE_COLOR = (0, 0, 0)

_GOLDEN = 0.6180339887498949
# Saturation / value levels, chosen by ``id mod 2`` and ``id mod 3``: ids
# whose golden-ratio hues nearly coincide (differences 13, 21, 34, 55, ...
# Fibonacci numbers) then differ in saturation or brightness.
_SATURATIONS = np.array([0.95, 0.6], dtype=np.float64)
_VALUES = np.array([1.0, 0.8, 0.62], dtype=np.float64)


def hsv_to_rgb(h: np.ndarray, s: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Vectorised HSV (each in [0, 1]) -> RGB uint8, ``h.shape + (3,)``."""
    h = np.asarray(h, dtype=np.float64) % 1.0
    s = np.broadcast_to(np.asarray(s, dtype=np.float64), h.shape)
    v = np.broadcast_to(np.asarray(v, dtype=np.float64), h.shape)
    i = np.floor(h * 6.0).astype(np.int64) % 6
    f = h * 6.0 - np.floor(h * 6.0)
    p = v * (1.0 - s)
    q = v * (1.0 - f * s)
    t = v * (1.0 - (1.0 - f) * s)
    # rows: sector 0..5, columns: (r, g, b) taken from (v, q, p, t)
    choices = np.stack([v, q, p, t], axis=-1)
    table = np.array([[0, 3, 2], [1, 0, 2], [2, 0, 3], [2, 1, 0], [3, 2, 0],
                      [0, 2, 1]])
    idx = table[i]
    rgb = np.take_along_axis(choices, idx, axis=-1)
    return np.clip(np.round(rgb * 255.0), 0, 255).astype(np.uint8)


def track_id_colors(ids: np.ndarray) -> np.ndarray:
    """Deterministic colour per track id, shape ``ids.shape + (3,)`` uint8.

    The hue is ``id * golden ratio mod 1`` (ids 1, 2, 3 ... spread evenly
    around the wheel); saturation and value come from ``id mod 2`` and
    ``id mod 3``, so ids that land on close hues still differ in
    brightness or saturation. Id 0 ("no track") maps to grey.
    """
    ids = np.asarray(ids).astype(np.int64)
    hue = (ids % 1_000_003 * _GOLDEN) % 1.0
    s = _SATURATIONS[ids % 2]
    v = _VALUES[ids % 3]
    rgb = hsv_to_rgb(hue, s, v)
    rgb[ids == 0] = (128, 128, 128)
    return rgb


def random_free_palette(num: int) -> List[Tuple[int, int, int]]:
    """``num`` deterministic class colours when a dataset has no palette."""
    return [tuple(int(c) for c in col)
            for col in track_id_colors(np.arange(1, num + 1) * 7919)]


class ClassPalette:
    """Look-up tables from a semantic id to a colour and a class name.

    Args:
        colors: ``(K, 3)`` uint8, colour of id ``k`` (ids >= K: ignore colour).
        names: name of id ``k`` or ``None`` where the id has no class.
        thing_mask: ``(K,)`` bool, True where id ``k`` is a thing class.
        ignore_index: id drawn in :data:`IGNORE_COLOR` without a label.
    """

    def __init__(self,
                 colors: np.ndarray,
                 names: Sequence[Optional[str]],
                 thing_mask: Optional[np.ndarray] = None,
                 ignore_index: int = 255) -> None:
        colors = np.asarray(colors, dtype=np.uint8).reshape(-1, 3)
        # one extra row, used for every id outside the table (ignore included)
        self.colors = np.concatenate(
            [colors, np.array([IGNORE_COLOR], dtype=np.uint8)], axis=0)
        self.names = list(names) + [None] * (len(colors) - len(names))
        self.thing_mask = (np.zeros(len(colors), dtype=bool)
                           if thing_mask is None else
                           np.asarray(thing_mask, dtype=bool))
        self.ignore_index = ignore_index
        if 0 <= ignore_index < len(colors):
            self.colors[ignore_index] = IGNORE_COLOR
            self.names[ignore_index] = None

    def __len__(self) -> int:
        return len(self.colors) - 1

    def lookup(self, semantic: np.ndarray) -> np.ndarray:
        """Colour map ``semantic.shape + (3,)`` of a semantic id map."""
        semantic = np.asarray(semantic).astype(np.int64)
        idx = np.where((semantic >= 0) & (semantic < len(self)), semantic,
                       len(self))
        return self.colors[idx]

    def name(self, sem_id: int) -> Optional[str]:
        """Class name of ``sem_id`` (``None`` for ignore / unknown ids)."""
        if 0 <= sem_id < len(self.names):
            return self.names[sem_id]
        return None

    def is_thing(self, sem_id: int) -> bool:
        return bool(0 <= sem_id < len(self.thing_mask)
                    and self.thing_mask[sem_id])


def build_class_palette(dataset_meta: Optional[Dict],
                        space: str = 'label',
                        num_classes: Optional[int] = None) -> ClassPalette:
    """Class palette from an mmdet ``dataset_meta``.

    Args:
        dataset_meta: with ``classes`` (model label order), optional
            ``palette`` (per model label), ``thing_classes``, ``label_ids``
            (model label -> dataset id) and ``ignore_index``.
        space: ``'label'`` when the maps hold model labels (what the model
            predicts), ``'dataset'`` when they hold dataset ids (e.g.
            KITTI-STEP trainIds, what ``knet.apis.inference_vps`` yields).
        num_classes: used when ``dataset_meta`` has no ``classes``.
    """
    if space not in ('label', 'dataset'):
        raise ValueError(f"space must be 'label' or 'dataset', got {space!r}")
    meta = dict(dataset_meta or {})
    classes = list(meta.get('classes') or [])
    n = len(classes) if classes else int(num_classes or 0)
    if not classes:
        classes = [f'class {i}' for i in range(n)]
    palette = meta.get('palette')
    if palette is None or len(palette) < n:
        palette = random_free_palette(n)
    colors = np.asarray([tuple(c)[:3] for c in palette[:n]],
                        dtype=np.uint8).reshape(-1, 3)
    things = set(meta.get('thing_classes') or ())
    thing = np.array([c in things for c in classes], dtype=bool)
    ignore_index = int(meta.get('ignore_index', 255))
    if space == 'label':
        return ClassPalette(colors, classes, thing, ignore_index)
    label_ids = meta.get('label_ids')
    if label_ids is None:
        label_ids = list(range(n))
    label_ids = np.asarray(label_ids, dtype=np.int64)[:n]
    size = int(label_ids.max()) + 1 if label_ids.size else 0
    lut = np.zeros((size, 3), dtype=np.uint8)
    lut[label_ids] = colors
    names: List[Optional[str]] = [None] * size
    thing_lut = np.zeros(size, dtype=bool)
    for label, dataset_id in enumerate(label_ids.tolist()):
        names[dataset_id] = classes[label]
        thing_lut[dataset_id] = thing[label]
    return ClassPalette(lut, names, thing_lut, ignore_index)
