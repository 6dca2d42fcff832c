"""Paint small synthetic videos: textured stuff, moving things, crowd, void.

One generic painter serves every benchmark; the per-benchmark modules pick
the class ids and instance ids and write the official file layout. All
randomness comes from one ``numpy.random.Generator`` so a seed fixes the
whole dataset. Everything is vectorised over pixels.
"""
from dataclasses import dataclass, field
from typing import Dict, Optional, Sequence, Tuple

import numpy as np

__all__ = ['VideoTruth', 'paint_video', 'class_colour']


@dataclass
class VideoTruth:
    """What :func:`paint_video` painted, frame by frame.

    ``semantic`` [T, H, W] int32 (class ids as given, ``void_id`` on void),
    ``instance`` [T, H, W] int32 (the thing's instance id, 0 on stuff, crowd
    and void), ``crowd`` / ``void`` [T, H, W] bool, ``images`` [T, H, W, 3]
    uint8 RGB, ``things`` maps instance id -> class id.
    """
    semantic: np.ndarray
    instance: np.ndarray
    crowd: np.ndarray
    void: np.ndarray
    images: np.ndarray
    things: Dict[int, int] = field(default_factory=dict)


def class_colour(class_id: int) -> np.ndarray:
    """A fixed, well separated base colour per class id (RGB uint8)."""
    rng = np.random.default_rng(1000 + int(class_id))
    return rng.integers(30, 226, size=3).astype(np.int32)


def _texture(class_id: int, yy: np.ndarray, xx: np.ndarray) -> np.ndarray:
    """Stripes whose direction and period depend on the class."""
    period = 3 + class_id % 5
    if class_id % 2:
        wave = ((yy + xx) // period) % 2
    else:
        wave = (yy // period + xx // (period + 1)) % 2
    return (wave * 24 - 12).astype(np.int32)


def _inner_border(mask: np.ndarray, width: int) -> np.ndarray:
    """Pixels of ``mask`` within ``width`` steps (4-neighbourhood) of a
    pixel outside it; the frame's edge does not count as outside."""
    inner = mask.copy()
    for _ in range(width):
        eroded = inner.copy()
        eroded[1:] &= inner[:-1]
        eroded[:-1] &= inner[1:]
        eroded[:, 1:] &= inner[:, :-1]
        eroded[:, :-1] &= inner[:, 1:]
        inner = eroded
    return mask & ~inner


def paint_video(rng: np.random.Generator,
                frames: int,
                size: Tuple[int, int],
                stuff_ids: Sequence[int],
                thing_ids: Sequence[int],
                instance_ids: Sequence[int],
                void_id: int = 255,
                crowd_id: Optional[int] = None,
                void_area: bool = True,
                n_stuff: int = 3,
                speed: float = 1.0,
                outline: int = 0,
                spawn_ids: Sequence[int] = (),
                spawn_rng: Optional[np.random.Generator] = None
                ) -> VideoTruth:
    """Paint one video.

    ``instance_ids`` (one per thing, unique, > 0) fixes how many things move
    through the video; each gets a class drawn from ``thing_ids``. Things are
    painted back to front, so they occlude each other as they move; the
    front one enters half-way through the video. A crowd
    area (class ``crowd_id``, instance 0) is painted behind the things when
    ``crowd_id`` is given; a void rectangle is painted on top when
    ``void_area``. ``speed`` scales all motion (per frame). ``outline`` > 0
    darkens the outermost ``outline`` pixels of every visible thing (its
    silhouette, drawn over what it occludes), so that two overlapping
    things of one class keep a visible border as real objects do; 0 paints
    without one. The outline draws no random numbers: the same seed gives
    the same scene with or without it.

    ``spawn_ids`` adds more things (one per id) that live for a part of the
    video only: each appears at a random frame, stays for 4-15 frames
    (or until it has moved out of view), at a random depth among the
    others; so a long video keeps showing new objects entering and leaving
    instead of the same few drifting away. Everything about them is drawn
    from ``spawn_rng``, so ``rng`` draws the same numbers with or without
    them (the rest of the scene is unchanged).
    """
    H, W = size
    if H < 8 or W < 8:
        raise ValueError(f'frame size {size} is too small (min 8 x 8)')
    T = int(frames)
    yy, xx = np.mgrid[0:H, 0:W]

    # Stuff: horizontal bands with wavy, slowly moving borders.
    n_stuff = max(1, min(n_stuff, len(stuff_ids)))
    bands = [int(c) for c in rng.choice(stuff_ids, n_stuff, replace=False)]
    cuts = np.sort(rng.uniform(0.2, 0.8, n_stuff - 1)) * H
    amp = rng.uniform(1.0, H / 10, n_stuff - 1)
    freq = rng.uniform(1.0, 3.0, n_stuff - 1) * 2 * np.pi / W
    phase = rng.uniform(0, 2 * np.pi, n_stuff - 1)
    drift = rng.uniform(-0.4, 0.4, n_stuff - 1) * speed

    # Things: rectangles or ellipses moving at constant speed, back to front.
    n_things = len(instance_ids)
    if len(set(instance_ids)) != n_things or min(instance_ids, default=1) < 1:
        raise ValueError('instance ids must be unique and positive')
    cls = [int(c) for c in rng.choice(thing_ids, n_things)]
    th = rng.uniform(0.25, 0.45, n_things) * H
    tw = rng.uniform(0.12, 0.25, n_things) * W
    cy0 = rng.uniform(0.3, 0.7, n_things) * H
    cx0 = rng.uniform(0.1, 0.9, n_things) * W
    vy = rng.uniform(-0.03, 0.03, n_things) * H * speed
    vx = rng.uniform(-0.08, 0.08, n_things) * W * speed
    ellipse = rng.random(n_things) < 0.5
    shift = rng.integers(-25, 26, size=(n_things, 3))
    # the front-most thing enters half-way through (tracks start late)
    start = np.zeros(n_things, int)
    if n_things >= 2 and T >= 2:
        start[-1] = T // 2
    end = np.full(n_things, T, int)
    depth = np.arange(n_things, dtype=float)  # back to front
    ids = [int(i) for i in instance_ids]
    if len(spawn_ids):
        if spawn_rng is None:
            raise ValueError('spawn_ids need a spawn_rng')
        if set(spawn_ids) & set(ids) or len(set(spawn_ids)) != len(spawn_ids) \
                or min(spawn_ids) < 1:
            raise ValueError('spawn ids must be unique, positive and differ '
                             'from the instance ids')
        r, n = spawn_rng, len(spawn_ids)
        cls += [int(c) for c in r.choice(thing_ids, n)]
        th = np.concatenate([th, r.uniform(0.25, 0.45, n) * H])
        tw = np.concatenate([tw, r.uniform(0.12, 0.25, n) * W])
        cy0 = np.concatenate([cy0, r.uniform(0.3, 0.7, n) * H])
        cx0 = np.concatenate([cx0, r.uniform(0.1, 0.9, n) * W])
        vy = np.concatenate([vy, r.uniform(-0.03, 0.03, n) * H * speed])
        vx = np.concatenate([vx, r.uniform(-0.08, 0.08, n) * W * speed])
        ellipse = np.concatenate([ellipse, r.random(n) < 0.5])
        shift = np.concatenate([shift, r.integers(-25, 26, size=(n, 3))])
        first = r.integers(0, max(T - 1, 1), n)
        # positions are given for the first frame the thing is seen
        cy0[n_things:] -= vy[n_things:] * first
        cx0[n_things:] -= vx[n_things:] * first
        start = np.concatenate([start, first])
        end = np.concatenate([end, first + r.integers(4, 16, n)])
        depth = np.concatenate([depth, r.uniform(-0.5, n_things - 0.5, n)])
        ids += [int(i) for i in spawn_ids]
        n_things += n
    order = np.argsort(depth, kind='stable')

    crowd_box = None
    if crowd_id is not None:
        ch, cw = int(H * 0.2), int(W * 0.15)
        y0 = int(rng.integers(0, H - ch))
        x0 = int(rng.integers(0, W - cw))
        crowd_box = (y0, x0, ch, cw)
    void_box = None
    if void_area:
        vh, vw = max(2, int(H * 0.12)), max(2, int(W * 0.1))
        void_box = (int(rng.integers(0, H - vh)), int(rng.integers(0, W - vw)),
                    vh, vw)
    noise_seed = int(rng.integers(0, 2**31))

    semantic = np.empty((T, H, W), np.int32)
    instance = np.zeros((T, H, W), np.int32)
    crowd = np.zeros((T, H, W), bool)
    void = np.zeros((T, H, W), bool)
    images = np.empty((T, H, W, 3), np.uint8)
    noise_rng = np.random.default_rng(noise_seed)
    for t in range(T):
        sem = np.full((H, W), bands[-1], np.int32)
        for k in range(n_stuff - 2, -1, -1):
            border = cuts[k] + amp[k] * np.sin(freq[k] * xx + phase[k]) + \
                drift[k] * t
            sem[yy < border] = bands[k]
        img = np.empty((H, W, 3), np.int32)
        for c in bands:
            m = sem == c
            img[m] = class_colour(c) + _texture(c, yy[m], xx[m])[:, None]
        ins = np.zeros((H, W), np.int32)
        crw = np.zeros((H, W), bool)
        if crowd_box is not None:
            y0, x0, ch, cw = crowd_box
            crw[y0:y0 + ch, x0:x0 + cw] = True
            sem[crw] = crowd_id
            img[crw] = class_colour(crowd_id) + \
                _texture(crowd_id + 1, yy[crw], xx[crw])[:, None]
        for k in order:
            if not start[k] <= t < end[k]:
                continue
            cy, cx = cy0[k] + vy[k] * t, cx0[k] + vx[k] * t
            dy, dx = (yy - cy) / (th[k] / 2), (xx - cx) / (tw[k] / 2)
            if ellipse[k]:
                m = dy**2 + dx**2 <= 1
            else:
                m = (np.abs(dy) <= 1) & (np.abs(dx) <= 1)
            sem[m] = cls[k]
            ins[m] = ids[k]
            crw[m] = False
            # texture fixed to the object so that it moves with it
            oy = (yy[m] - np.round(cy)).astype(np.int64) + 1000
            ox = (xx[m] - np.round(cx)).astype(np.int64) + 1000
            img[m] = class_colour(cls[k]) + shift[k] + \
                _texture(cls[k], oy, ox)[:, None]
            if outline > 0:
                edge = _inner_border(m, outline)
                img[edge] = img[edge] * 2 // 5
        vd = np.zeros((H, W), bool)
        if void_box is not None:
            y0, x0, vh, vw = void_box
            vd[y0:y0 + vh, x0:x0 + vw] = True
            sem[vd] = void_id
            ins[vd] = 0
            crw[vd] = False
            img[vd] = 8
        img += noise_rng.integers(-6, 7, size=img.shape)
        semantic[t], instance[t], crowd[t], void[t] = sem, ins, crw, vd
        images[t] = np.clip(img, 0, 255).astype(np.uint8)
    things = {i: c for i, c in zip(ids, cls)}
    return VideoTruth(semantic, instance, crowd, void, images, things)

