#!/usr/bin/env python
"""Time the KITTI-STEP evaluation (STQ + VPQ windows 1-4) against plain
decoding of the same PNGs, on a KITTI-STEP-sized synthetic set.

    python tools/analysis_tools/benchmark_eval.py --workers 2

Writes ``--sequences`` x ``--frames`` ground-truth maps at ``--size`` (the
default: 4 sequences x 100 frames at KITTI-STEP's 375 x 1242) in the
prepared layout plus predictions in the submission layout (the ground truth
with track-id switches, a wrong-class blob and predicted void), one frame at
a time with knet.formats' encoder. (``make_synthetic('kitti-step')`` paints
a whole video in memory -- about 1 GB for 100 frames of this size -- so the
benchmark paints its own simple scenes frame by frame.) Then, in the same
run, it times

1. decoding every PNG the evaluation reads (one process, PIL),
2. ``tools/eval_vps.py kitti-step`` with ``--workers N``,

and prints both times, their ratio and the peak resident memory of the
evaluation (main process and workers). The goal is a ratio <= 1.5 with
``--workers 2``.
"""
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from knet.utils.cli import ArgumentParser, int_range, run_cli  # noqa: E402


def _paint(t, size, objects):
    """One frame: stuff bands, moving things, a crowd blob and void."""
    H, W = size
    sem = np.empty(size, np.uint8)
    cuts = [int(H * 0.3), int(H * 0.55), int(H * 0.75)]
    for cls, (a, b) in zip((10, 2, 8, 0), zip([0] + cuts, cuts + [H])):
        sem[a:b] = cls
    inst = np.zeros(size, np.int32)
    cw = max(2, W // 14)
    x0 = (t * max(1, W // 180)) % max(1, W - cw)
    sem[int(H * .6):int(H * .7), x0:x0 + cw] = 11  # crowd
    for oid, cls, y, x, h, w, vx in objects:
        x0 = int(x + vx * t) % max(1, W - w)
        sem[y:y + h, x0:x0 + w] = cls
        inst[y:y + h, x0:x0 + w] = oid
    sem[:max(1, H // 30), :] = 255  # void
    return sem, inst


def generate(root: Path, sequences: int, frames: int, size,
             small_ids: bool = False) -> None:
    from knet.formats.io import save_image
    from knet.formats.kitti_step import KITTI_STEP_THING_IDS, encode_kitti_step
    rng = np.random.default_rng(0)
    gt_dir = root / 'gt' / 'video_sequence' / 'val'
    H, W = size
    for seq in range(sequences):
        objects = []
        for k in range(8):
            h = int(rng.integers(max(2, H // 20), max(3, H // 4)))
            w = int(rng.integers(max(2, W // 60), max(3, W // 8)))
            objects.append((k + 1 + (0 if small_ids else 300 * (k % 2)),
                            KITTI_STEP_THING_IDS[k % 2],
                            int(rng.integers(H // 25 + 1, H - h)),
                            int(rng.integers(0, W - w)), h, w,
                            int(rng.integers(-6, 7))))
        for t in range(frames):
            sem, inst = _paint(t, size, objects)
            save_image(gt_dir / f'{seq:06d}_{t:06d}_panoptic.png',
                       encode_kitti_step(sem, inst))
            psem, pinst = sem.copy(), inst.copy()
            psem[psem == 255] = 10
            # an id switch every 25 frames
            pinst[pinst > 0] += (50 if small_ids else 1000) * (t // 25)
            blob = (slice(H // 4, H // 4 + H // 10),
                    slice(W // 6, W // 6 + W // 20))
            psem[blob] = 13  # a wrong-class blob
            pinst[blob] = 77
            psem[-(H // 20 + 1):, -(W // 30 + 1):] = 255  # predicted void
            pinst[-(H // 20 + 1):, -(W // 30 + 1):] = 0
            save_image(root / 'pred' / f'{seq:04d}' / f'{t:06d}.png',
                       encode_kitti_step(psem, pinst))


def decode_all(root: Path, packed: bool = False) -> float:
    """Decode every PNG the evaluation reads, the fastest plain way (PIL,
    bands split into NumPy planes, as the evaluator does); ``packed``:
    ``np.asarray`` of the packed RGB image instead (slower; for reference)."""
    from PIL import Image
    files = sorted((root / 'gt').rglob('*.png')) + \
        sorted((root / 'pred').rglob('*.png'))
    t0 = time.perf_counter()
    for f in files:
        with Image.open(f) as im:
            im.load()
            if packed:
                np.asarray(im)
            else:
                [np.asarray(b) for b in im.split()]
    return time.perf_counter() - t0


def _cpu() -> float:
    """User + system CPU seconds of this process and its finished children."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def main(argv=None) -> int:
    p = ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--sequences', type=int_range(1, 21), default=4)
    p.add_argument('--frames', type=int_range(1, 100000), default=100)
    p.add_argument('--size', type=int_range(32, 8192), nargs=2,
                   default=(375, 1242), metavar=('H', 'W'))
    p.add_argument('--workers', type=int_range(1, 1024), default=2)
    p.add_argument('--small-ids', action='store_true',
                   help='keep every instance id below 256 (G = 0, as in '
                   'most KITTI-STEP frames); default: ids up to ~3000')
    p.add_argument('--work-dir', path='out-dir',
                   help='where to write the data (default: a temporary '
                   'folder, removed afterwards)')
    args = p.parse_args(argv)
    sys.path.insert(0, str(ROOT / 'tools'))
    import eval_vps  # noqa: E402

    tmp = Path(args.work_dir or tempfile.mkdtemp(prefix='bench_eval_'))
    try:
        t0 = time.perf_counter()
        generate(tmp, args.sequences, args.frames, tuple(args.size),
                 args.small_ids)
        print(f'generated {args.sequences} x {args.frames} frames at '
              f'{args.size[0]}x{args.size[1]} in '
              f'{time.perf_counter() - t0:.1f} s')
        decode_all(tmp)  # warm the page cache for both runs
        c0 = _cpu()
        t_dec = decode_all(tmp)
        c_dec = _cpu() - c0
        t_packed = decode_all(tmp, packed=True)
        c0 = _cpu()
        t0 = time.perf_counter()
        eval_vps.main(['kitti-step', '--gt-root', str(tmp / 'gt'),
                       '--split', 'val', '--pred-dir', str(tmp / 'pred'),
                       '--workers', str(args.workers), '--out',
                       str(tmp / 'result.json')])
        t_eval = time.perf_counter() - t0
        c_eval = _cpu() - c0
        rss_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        rss_child = resource.getrusage(
            resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        n = 2 * args.sequences * args.frames
        print(f'decode only (1 process): {t_dec:.2f} s for {n} PNGs '
              f'({1000 * t_dec / n:.1f} ms each; np.asarray of the packed '
              f'RGB image: {1000 * t_packed / n:.1f} ms each)')
        print(f'evaluation (--workers {args.workers}): {t_eval:.2f} s')
        print(f'ratio eval / decode: {t_eval / t_dec:.2f}')
        # CPU seconds do not depend on what else runs on the machine: with
        # N free cores the evaluation needs about (eval CPU) / N wall time.
        print(f'CPU time: decode {c_dec:.2f} s, evaluation {c_eval:.2f} s '
              f'(all processes); CPU ratio {c_eval / c_dec:.2f}, i.e. '
              f'{c_eval / c_dec / args.workers:.2f} with {args.workers} '
              f'free cores')
        print(f'peak RSS: main {rss_self:.0f} MiB, largest worker '
              f'{rss_child:.0f} MiB')
    finally:
        if not args.work_dir:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == '__main__':
    sys.exit(run_cli(main))
