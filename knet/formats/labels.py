"""Model labels <-> dataset ids, from a dataset's metainfo.

The datasets order their classes things first and publish in their metainfo
``classes``, ``thing_classes`` and ``label_ids``: ``label_ids[i]`` is the
dataset id (the value stored in the label files, e.g. a Cityscapes trainId or
a VIPSeg category id) of model label ``i``. Metrics, writers, the inference
API and the tools map model outputs back with one :class:`LabelSpace`.
"""
from typing import Dict, Mapping, Optional, Tuple

import numpy as np

__all__ = ['LabelSpace']


class LabelSpace:
    """The label space of one dataset's metainfo.

    Args:
        meta: ``classes``, optional ``thing_classes`` and ``label_ids``
            (default: model label = dataset id).
        ignore_index: the void value of both label spaces.
    """

    def __init__(self, meta: Optional[Mapping], ignore_index: int = 255):
        meta = meta or {}
        self.classes: Tuple[str, ...] = tuple(meta.get('classes') or ())
        label_ids = meta.get('label_ids')
        if label_ids is None or len(label_ids) == 0:
            label_ids = range(len(self.classes))
        #: dataset id of each model label
        self.label_ids: Tuple[int, ...] = tuple(int(i) for i in label_ids)
        self.ignore_index = int(ignore_index)
        things = set(meta.get('thing_classes') or ())
        #: dataset ids of the thing / stuff classes, in model label order
        self.thing_ids: Tuple[int, ...] = tuple(
            self.label_ids[i] for i, c in enumerate(self.classes)
            if c in things)
        self.stuff_ids: Tuple[int, ...] = tuple(
            self.label_ids[i] for i, c in enumerate(self.classes)
            if c not in things)
        #: dataset id -> class name
        self.names: Dict[int, str] = {
            self.label_ids[i]: c for i, c in enumerate(self.classes)}
        #: dataset ids lie in [0, num_ids)
        self.num_ids = max(self.label_ids) + 1 if self.label_ids else 0
        self._lut = np.full(256, self.ignore_index, dtype=np.int64)
        self._lut[:len(self.label_ids)] = self.label_ids

    def to_dataset(self, labels: np.ndarray) -> np.ndarray:
        """Model labels -> dataset ids (int64); the ignore index and values
        outside 0..255 give the ignore index."""
        labels = np.asarray(labels).astype(np.int64)
        out = self._lut[np.clip(labels, 0, 255)]
        return np.where((labels < 0) | (labels > 255) |
                        (labels == self.ignore_index), self.ignore_index, out)
