"""Synthetic VIPSeg in the official layout.

``layout='720p'`` (default) writes what ``tools/dataset/vipseg_prepare.py``
produces and the dataset reads: ``images/<video>/<frame>.jpg``,
``panomasks/<video>/<frame>.png`` (16-bit, single channel, official value
encoding), ``train.txt`` / ``val.txt`` / ``test.txt``. ``layout='original'``
writes the original download instead (``imgs/`` in place of ``images/``,
frames at the given size) for the preparation script. Test videos have
images and no panomasks, as in the official release.

Manifest frames: ``semantic`` = category id 0..123 (255 void), ``instance``
= VIPSeg instance number (``v % 100``; -1 on stuff and void), ``panomask``
= the raw values written; VIPSeg has no crowd.
"""
import string
from pathlib import Path
from typing import Dict, Tuple

import numpy as np

from knet.formats.io import atomic_write_bytes, save_image
from knet.formats.vipseg import (VIPSEG_STUFF_IDS, VIPSEG_THING_IDS,
                                 encode_vipseg)

from .scene import paint_video

__all__ = ['make_vipseg']


def _video_name(rng: np.random.Generator, k: int) -> str:
    chars = np.array(list(string.ascii_letters + string.digits + '_-'))
    return f'{100 + k}_' + ''.join(rng.choice(chars, 11))


def make_vipseg(out, videos: int = 2, frames: int = 6,
                size: Tuple[int, int] = (64, 128), seed: int = 0,
                layout: str = '720p', test_videos: int = 0, **_) -> Dict:
    """Write ``videos`` labelled videos (alternately train / val) and
    ``test_videos`` unlabelled ones; return the manifest."""
    if layout not in ('720p', 'original'):
        raise ValueError(f'unknown VIPSeg layout {layout!r}')
    out = Path(out)
    rng = np.random.default_rng(seed)
    image_dir = out / ('images' if layout == '720p' else 'imgs')
    manifest = dict(dataset='vipseg', root=str(out), size=tuple(size),
                    seed=seed, layout=layout, videos=[],
                    splits={'train': [], 'val': [], 'test': []})
    for k in range(videos + test_videos):
        split = 'test' if k >= videos else ('train', 'val')[k % 2]
        name = _video_name(rng, k)
        n_things = int(rng.integers(3, 6))
        # two thing categories per video, so that instance numbers repeat
        thing_ids = rng.choice(VIPSEG_THING_IDS, 2, replace=False)
        truth = paint_video(rng, frames, size, VIPSEG_STUFF_IDS,
                            thing_ids, list(range(1, n_things + 1)),
                            void_id=255, crowd_id=None)
        # VIPSeg instance numbers count from 0 within each category.
        number, per_class = {}, {}
        for tid, cls in sorted(truth.things.items()):
            number[tid] = per_class.get(cls, 0)
            per_class[cls] = number[tid] + 1
        lut = np.full(n_things + 1, -1, np.int64)
        for tid, n in number.items():
            lut[tid] = n
        video = dict(name=name, split=split, frames=[],
                     things={(cls + 1) * 100 + number[tid]: cls
                             for tid, cls in truth.things.items()})
        stride = int(rng.integers(1, 6))
        for t in range(frames):
            stem = f'{1 + t * stride:08d}'
            img = image_dir / name / f'{stem}.jpg'
            save_image(img, truth.images[t])
            frame = dict(frame=t, image=str(img), label=None)
            if split != 'test':
                inst = lut[truth.instance[t]]
                sem = truth.semantic[t]
                raw = encode_vipseg(sem, inst)
                lab = out / 'panomasks' / name / f'{stem}.png'
                save_image(lab, raw)
                frame.update(label=str(lab), semantic=sem.astype(np.int32),
                             instance=inst.astype(np.int32), panomask=raw,
                             crowd=np.zeros(sem.shape, bool),
                             void=truth.void[t])
            video['frames'].append(frame)
        manifest['videos'].append(video)
        manifest['splits'][split].append(name)
    for split, names in manifest['splits'].items():
        atomic_write_bytes(out / f'{split}.txt',
                           ''.join(f'{n}\n' for n in names).encode())
    return manifest
