"""KITTI-STEP panoptic PNG encoding.

An RGB PNG: R = Cityscapes trainId (0..18, 255 = void), instance id =
G * 256 + B. Only person (11) and car (13) are things; a thing pixel with
instance 0 is crowd. The same encoding is used for the ground truth and for
the official submission PNGs.

:func:`decode_kitti_step` / :func:`encode_kitti_step` convert to and from
(semantic, instance) maps. :func:`pack_kitti_step` / :func:`unpack_kitti_step`
are the evaluator's fast path: one small non-negative integer code per
pixel, built with shifts and ORs from the (R, G, B) planes, so that a frame
can be paired with another before anything is decoded per pixel.
"""
from typing import Sequence, Tuple, Union

import numpy as np

__all__ = [
    'KITTI_STEP_NUM_CLASSES', 'KITTI_STEP_THING_IDS', 'KITTI_STEP_IGNORE',
    'KITTI_STEP_LABEL_DIVISOR', 'KITTI_STEP_SPLITS', 'kitti_step_planes',
    'decode_kitti_step', 'encode_kitti_step', 'pack_kitti_step',
    'unpack_kitti_step'
]

KITTI_STEP_NUM_CLASSES = 19
KITTI_STEP_THING_IDS = (11, 13)
KITTI_STEP_IGNORE = 255
#: The panoptic id used by STQ is ``semantic * divisor + instance``.
KITTI_STEP_LABEL_DIVISOR = 1000
#: Official split membership of the 21 sequences of ``training/`` (the 29
#: sequences of ``testing/`` are the test split).
KITTI_STEP_SPLITS = {
    'train': (0, 1, 3, 4, 5, 9, 11, 12, 15, 17, 19, 20),
    'val': (2, 6, 7, 8, 10, 13, 14, 16, 18),
}

#: An H x W x 3 uint8 map or its (R, G, B) planes.
RGBInput = Union[np.ndarray, Sequence[np.ndarray]]


def _split(rgb: RGBInput) -> Tuple[np.ndarray, ...]:
    if isinstance(rgb, (tuple, list)):
        if len(rgb) != 3:
            raise ValueError('expected (R, G, B) planes')
        return tuple(np.asarray(c) for c in rgb)
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f'expected an HxWx3 RGB map, got shape {rgb.shape}')
    return rgb[..., 0], rgb[..., 1], rgb[..., 2]


def kitti_step_planes(rgb: RGBInput) -> Tuple[np.ndarray, ...]:
    """The (R, G, B) uint8 planes of an H x W x 3 map or of a plane triple
    (what :func:`knet.formats.io.read_rgb_planes` returns)."""
    planes = _split(rgb)
    if any(c.dtype != np.uint8 or c.shape != planes[0].shape
           for c in planes):
        raise ValueError('expected 8-bit RGB planes of one shape')
    return planes


def decode_kitti_step(rgb: RGBInput) -> Tuple[np.ndarray, np.ndarray]:
    """Split a panoptic map (H x W x 3 or planes) into (semantic, instance).

    Returns ``semantic`` as uint8 (trainId, 255 = void) and ``instance`` as
    int32 (0 = no instance, i.e. stuff, void or crowd).
    """
    r, g, b = _split(rgb)
    instance = g.astype(np.int32) * 256 + b.astype(np.int32)
    return r.astype(np.uint8), instance


def encode_kitti_step(semantic: np.ndarray,
                      instance: np.ndarray) -> np.ndarray:
    """Inverse of :func:`decode_kitti_step`; instance ids must be < 65536."""
    semantic = np.asarray(semantic)
    instance = np.asarray(instance)
    if semantic.shape != instance.shape:
        raise ValueError(f'semantic {semantic.shape} and instance '
                         f'{instance.shape} maps differ in shape')
    if instance.size and (instance.min() < 0 or instance.max() > 65535):
        raise ValueError('KITTI-STEP instance ids must lie in [0, 65535]')
    rgb = np.empty(semantic.shape + (3, ), dtype=np.uint8)
    rgb[..., 0] = semantic
    rgb[..., 1] = instance // 256
    rgb[..., 2] = instance % 256
    return rgb


#: R value -> small index: the classes as is, the ignore label ->
#: NUM_CLASSES, any other value (an error) -> NUM_CLASSES + 1; _R_VALUE maps
#: back (NUM_CLASSES + 1 -> 256, outside every valid R).
_R_INDEX = np.full(256, KITTI_STEP_NUM_CLASSES + 1, dtype=np.uint8)
_R_INDEX[:KITTI_STEP_NUM_CLASSES] = np.arange(KITTI_STEP_NUM_CLASSES)
_R_INDEX[KITTI_STEP_IGNORE] = KITTI_STEP_NUM_CLASSES
_R_VALUE = np.array(list(range(KITTI_STEP_NUM_CLASSES)) +
                    [KITTI_STEP_IGNORE, 256], dtype=np.int64)


def pack_kitti_step(rgb: RGBInput) -> Tuple[np.ndarray, int]:
    """One non-negative integer code per pixel; returns (codes, scale).

    No instance reaches 256 (G = 0, the usual case): uint16 codes
    ``R * 256 + instance``, scale 256. Otherwise uint32 codes
    ``index(R) * s + instance`` with a power of two ``s`` and ``index(R)``
    the class as is, the ignore label -> 19, other values -> 20, returned
    as scale ``-s``. :func:`unpack_kitti_step` undoes both.
    """
    r, g, b = kitti_step_planes(rgb)
    gmax = int(g.max()) if g.size else 0
    if gmax == 0:
        codes = r.astype(np.uint16)
        codes <<= 8
        codes |= b
        return codes, 256
    shift = 8 + gmax.bit_length()
    codes = np.take(_R_INDEX, r).astype(np.uint32)
    codes <<= shift
    gg = g.astype(np.uint32)
    gg <<= 8
    codes |= gg
    codes |= b
    return codes, -(1 << shift)


def unpack_kitti_step(codes: np.ndarray,
                      scale: int) -> Tuple[np.ndarray, np.ndarray]:
    """(semantic, instance) int64 of codes from :func:`pack_kitti_step`.

    With a negative scale an R value that is neither a class nor the ignore
    label comes back as 256 (its value is not kept)."""
    codes = np.asarray(codes)
    if scale < 0:
        scale = -scale
        semantic = _R_VALUE[codes // scale]
    else:
        semantic = (codes // scale).astype(np.int64)
    return semantic, (codes % scale).astype(np.int64)
