"""Drawing of video panoptic results on RGB frames (NumPy + OpenCV only).

A frame's result is a semantic map plus a track-id map (0 = no track). A
*segment* is one (semantic id, track id) pair: a stuff region, or one tracked
thing. Stuff is painted in its class colour, tracked things in the colour of
their track id (see :mod:`knet.visualization.palette`), so an object keeps
its colour through the video.
"""
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np

from .palette import ClassPalette, track_id_colors

__all__ = [
    'panoptic_segments', 'colorize_panoptic', 'segment_boundaries',
    'label_positions', 'draw_text', 'draw_panoptic', 'hstack_frames',
    'add_title', 'resize_to_height', 'instances_to_maps'
]

_FONT = cv2.FONT_HERSHEY_SIMPLEX


def panoptic_segments(semantic: np.ndarray, track_ids: Optional[np.ndarray]
                      ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Segment index per pixel and the (semantic, track) pair per segment.

    Returns ``(segment_map, seg_semantic, seg_track)`` where ``segment_map``
    is int64 ``H x W`` with values ``0..S-1``.
    """
    semantic = np.asarray(semantic).astype(np.int64)
    if track_ids is None:
        track_ids = np.zeros_like(semantic)
    track_ids = np.asarray(track_ids).astype(np.int64)
    if semantic.shape != track_ids.shape:
        raise ValueError(f'semantic map {semantic.shape} and track-id map '
                         f'{track_ids.shape} differ in shape')
    # (semantic, track) -> one int64 key; track ids are < 2**40 in practice
    key = semantic * (1 << 40) + track_ids
    uniq, inverse = np.unique(key, return_inverse=True)
    seg_semantic = uniq // (1 << 40)
    seg_track = uniq - seg_semantic * (1 << 40)
    return inverse.reshape(semantic.shape), seg_semantic, seg_track


def colorize_panoptic(semantic: np.ndarray, track_ids: Optional[np.ndarray],
                      palette: ClassPalette) -> np.ndarray:
    """RGB colour map: class colour, or the track colour on tracked pixels."""
    color = palette.lookup(semantic)
    if track_ids is not None:
        track_ids = np.asarray(track_ids).astype(np.int64)
        tracked = track_ids > 0
        if tracked.any():
            ids, inverse = np.unique(track_ids[tracked], return_inverse=True)
            color[tracked] = track_id_colors(ids)[inverse]
    return color


def segment_boundaries(segment_map: np.ndarray, thickness: int = 1
                       ) -> np.ndarray:
    """Boolean map of pixels on the border between two different segments."""
    seg = np.asarray(segment_map)
    edge = np.zeros(seg.shape, dtype=bool)
    diff_x = seg[:, 1:] != seg[:, :-1]
    diff_y = seg[1:, :] != seg[:-1, :]
    edge[:, 1:] |= diff_x
    edge[:, :-1] |= diff_x
    edge[1:, :] |= diff_y
    edge[:-1, :] |= diff_y
    if thickness > 1:
        kernel = np.ones((thickness, thickness), dtype=np.uint8)
        edge = cv2.dilate(edge.astype(np.uint8), kernel) > 0
    return edge


def label_positions(segment_map: np.ndarray, num_segments: int
                    ) -> Tuple[np.ndarray, np.ndarray]:
    """The most interior pixel of every segment, and each segment's area.

    The point farthest from any segment border (or the frame border) lies
    inside the segment even when the segment is not convex, where a centroid
    may fall outside. One distance transform for the whole frame, then a
    sort to pick the maximum per segment (no loop over segments).

    Returns ``(xy, area)``: ``(S, 2)`` int64 (x, y) and ``(S,)`` int64.
    """
    seg = np.asarray(segment_map).astype(np.int64)
    h, w = seg.shape
    inner = ~segment_boundaries(seg)
    inner[0, :] = inner[-1, :] = False
    inner[:, 0] = inner[:, -1] = False
    dist = cv2.distanceTransform(inner.astype(np.uint8), cv2.DIST_L2, 3)
    flat_seg = seg.ravel()
    order = np.lexsort((dist.ravel(), flat_seg))  # by segment, then distance
    sorted_seg = flat_seg[order]
    last = np.flatnonzero(np.r_[sorted_seg[1:] != sorted_seg[:-1], True])
    xy = np.full((num_segments, 2), -1, dtype=np.int64)
    best = order[last]
    xy[sorted_seg[last], 0] = best % w
    xy[sorted_seg[last], 1] = best // w
    area = np.bincount(flat_seg, minlength=num_segments)[:num_segments]
    return xy, area.astype(np.int64)


def draw_text(image: np.ndarray,
              text: str,
              center: Tuple[int, int],
              scale: float = 0.4,
              color: Tuple[int, int, int] = (255, 255, 255),
              background: Optional[Tuple[int, int, int]] = (0, 0, 0)
              ) -> np.ndarray:
    """Draw ``text`` centred at ``center`` (x, y) in place, on a dark box."""
    thickness = 1
    (tw, th), base = cv2.getTextSize(text, _FONT, scale, thickness)
    h, w = image.shape[:2]
    x = int(np.clip(center[0] - tw // 2, 0, max(w - tw, 0)))
    y = int(np.clip(center[1] + th // 2, th, max(h - base, th)))
    if background is not None:
        x0, y0 = max(x - 1, 0), max(y - th - 1, 0)
        x1, y1 = min(x + tw + 1, w), min(y + base, h)
        box = image[y0:y1, x0:x1]
        box[...] = (0.35 * box + 0.65 * np.asarray(background)).astype(
            image.dtype)
    cv2.putText(image, text, (x, y), _FONT, scale, tuple(int(c)
                                                         for c in color),
                thickness, cv2.LINE_AA)
    return image


def draw_panoptic(frame: np.ndarray,
                  semantic: np.ndarray,
                  track_ids: Optional[np.ndarray],
                  palette: ClassPalette,
                  alpha: float = 0.6,
                  contours: bool = True,
                  show_labels: bool = True,
                  show_ids: bool = True,
                  min_label_area: Optional[int] = None,
                  font_scale: Optional[float] = None,
                  id_offset: int = 0) -> np.ndarray:
    """Overlay a panoptic result on an RGB frame.

    Args:
        frame: ``H x W x 3`` uint8 RGB (``None``: draw on black).
        semantic: ``H x W`` semantic ids in the space ``palette`` was built
            for (model labels or dataset ids); ignore pixels stay uncoloured.
        track_ids: ``H x W`` track ids, 0 where no track (``None``: none).
        palette: class colours and names.
        alpha: weight of the colour over the frame (1 = colour only).
        contours: draw white segment borders.
        show_labels: write class names at segment centres.
        show_ids: write track ids at the centres of tracked things.
        min_label_area: segments smaller than this get no label (default
            0.2 % of the frame, at least 16 pixels).
        font_scale: OpenCV font scale (default from the frame size).
        id_offset: subtracted from a track id for its label (a map that
            stores ``id + 1`` to keep 0 free for "no track" shows ``id``).

    Returns:
        A new ``H x W x 3`` uint8 RGB image.
    """
    semantic = np.asarray(semantic)
    if semantic.ndim == 3:  # [1, H, W] as stored in data samples
        semantic = semantic[0]
    if track_ids is not None:
        track_ids = np.asarray(track_ids)
        if track_ids.ndim == 3:
            track_ids = track_ids[0]
    h, w = semantic.shape
    if frame is None:
        frame = np.zeros((h, w, 3), dtype=np.uint8)
    frame = np.asarray(frame)
    if frame.shape[:2] != (h, w):
        raise ValueError(f'frame {frame.shape[:2]} and result {(h, w)} '
                         'differ in size')
    color = colorize_panoptic(semantic, track_ids, palette)
    valid = (semantic != palette.ignore_index)[..., None]
    blended = frame.astype(np.float32) * (1 - alpha) + color * alpha
    out = np.where(valid, blended, frame.astype(np.float32))
    out = np.clip(np.round(out), 0, 255).astype(np.uint8)

    seg_map, seg_sem, seg_track = panoptic_segments(semantic, track_ids)
    if contours:
        thick = max(1, int(round(min(h, w) / 400)))
        out[segment_boundaries(seg_map, thick)] = (255, 255, 255)
    if not (show_labels or show_ids):
        return out
    xy, area = label_positions(seg_map, len(seg_sem))
    if min_label_area is None:
        min_label_area = max(16, int(0.002 * h * w))
    if font_scale is None:
        font_scale = float(np.clip(min(h, w) / 800.0, 0.3, 0.8))
    for i in np.flatnonzero(area >= min_label_area):
        sem, tid = int(seg_sem[i]), int(seg_track[i])
        if sem == palette.ignore_index:
            continue
        parts = []
        if show_labels:
            name = palette.name(sem)
            parts.append(name if name is not None else str(sem))
        if show_ids and tid > 0:
            shown = tid - id_offset
            parts.append(f'#{shown}' if show_labels else str(shown))
        if parts:
            draw_text(out, ' '.join(parts), (int(xy[i, 0]), int(xy[i, 1])),
                      font_scale)
    return out


def resize_to_height(image: np.ndarray, height: int) -> np.ndarray:
    """Resize keeping the aspect ratio (nearest for tiny upsampling)."""
    h, w = image.shape[:2]
    if h == height:
        return image
    width = max(1, int(round(w * height / h)))
    interp = cv2.INTER_AREA if height < h else cv2.INTER_NEAREST
    return cv2.resize(image, (width, height), interpolation=interp)


def add_title(image: np.ndarray, title: str,
              font_scale: Optional[float] = None) -> np.ndarray:
    """A copy of ``image`` with ``title`` in a black band above it.

    The band's height depends on the font scale only (not on the title's
    letters), so panels titled side by side stay aligned.
    """
    h, w = image.shape[:2]
    if font_scale is None:
        font_scale = float(np.clip(w / 700.0, 0.35, 0.9))
    (_, th), base = cv2.getTextSize('Ag|', _FONT, font_scale, 1)
    band = np.zeros((th + base + 6, w, 3), dtype=np.uint8)
    cv2.putText(band, title, (4, th + 3), _FONT, font_scale, (255, 255, 255),
                1, cv2.LINE_AA)
    return np.concatenate([band, image], axis=0)


def hstack_frames(images: Sequence[np.ndarray],
                  titles: Optional[Sequence[str]] = None,
                  gap: int = 4) -> np.ndarray:
    """Side-by-side panel (e.g. ground truth | prediction) of RGB images.

    Images are resized to the first one's height; an optional title band
    goes above each; ``gap`` white pixels separate the panels.
    """
    if not images:
        raise ValueError('hstack_frames needs at least one image')
    height = images[0].shape[0]
    scale = float(np.clip(images[0].shape[1] / 700.0, 0.35, 0.9))
    panels: List[np.ndarray] = []
    for i, img in enumerate(images):
        img = resize_to_height(np.asarray(img, dtype=np.uint8), height)
        if titles is not None:
            img = add_title(img, titles[i], scale)
        panels.append(img)
    top = max(p.shape[0] for p in panels)
    row: List[np.ndarray] = []
    for i, p in enumerate(panels):
        if p.shape[0] < top:
            pad = np.zeros((top - p.shape[0], ) + p.shape[1:], np.uint8)
            p = np.concatenate([p, pad], axis=0)
        if i:
            row.append(np.full((top, gap, 3), 255, dtype=np.uint8))
        row.append(p)
    return np.concatenate(row, axis=1)


def instances_to_maps(masks: np.ndarray,
                      labels: np.ndarray,
                      ids: np.ndarray,
                      scores: Optional[np.ndarray] = None,
                      ignore_index: int = 255,
                      score_thr: Optional[float] = None
                      ) -> Tuple[np.ndarray, np.ndarray]:
    """Instance masks (VIS results) -> (semantic, track) maps.

    Instances scoring ``<= score_thr`` (when both are given) are left out.
    Higher-scoring instances are painted last, so they win overlaps. Pixels
    of no instance get ``ignore_index`` and track 0; instance pixels get the
    track value ``id + 1`` (ids may start at 0; draw with ``id_offset=1``).
    """
    masks = np.asarray(masks).astype(bool)
    if masks.ndim != 3:
        raise ValueError(f'expected N x H x W masks, got {masks.shape}')
    if score_thr is not None and scores is not None:
        keep = np.asarray(scores) > score_thr
        masks, scores = masks[keep], np.asarray(scores)[keep]
        labels, ids = np.asarray(labels)[keep], np.asarray(ids)[keep]
    n, h, w = masks.shape
    semantic = np.full((h, w), ignore_index, dtype=np.int64)
    track = np.zeros((h, w), dtype=np.int64)
    if n == 0:
        return semantic, track
    order = np.arange(n) if scores is None else np.argsort(
        np.asarray(scores), kind='stable')
    # index of the last (highest-scoring) instance covering each pixel
    ranked = masks[order]
    covered = ranked.any(axis=0)
    top = n - 1 - np.argmax(ranked[::-1], axis=0)
    winner = order[top]
    semantic[covered] = np.asarray(labels, dtype=np.int64)[winner[covered]]
    track[covered] = np.asarray(ids, dtype=np.int64)[winner[covered]] + 1
    return semantic, track
