#!/usr/bin/env python
"""Peak memory of VideoKNetVIS inference on a long video in windows.

Writes a synthetic YouTube-VIS video of ``--long`` frames and one of
``--short`` frames (``tools/dataset/youtubevis2coco.py`` layout), then runs
the model's test step on each in a fresh process (the real path: test
pipeline, ``TrackDataPreprocessor``, ``VideoKNetVIS.predict``) and reports the
peak resident set size (``ru_maxrss``) of each process:

* long video, windows of ``--window`` frames overlapping by ``--overlap``;
* short video (``--short`` frames, by default = the window) as one clip;
* with ``--with-whole``: the long video as ONE clip (the release).

Frames are tested at their own size (``--size``; the config's test resize
is replaced). The model weights are random (no download); memory does not
depend on them.

Example::

    python tools/analysis_tools/vis_memory_benchmark.py --long 200 \\
        --short 20 --window 20 --overlap 4 --size 192 320 --out mem.json
"""
import argparse
import json
import os.path as osp
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))

from knet.formats.io import DataError, atomic_write_bytes  # noqa: E402
from knet.utils.cli import (ArgumentParser, float_range,  # noqa: E402
                            int_range, run_cli)

DEFAULT_CONFIG = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))),
    'configs/video_knet_vis/video_knet_vis_r50_1x_youtube-vis-2019.py')


def parse_args(argv=None) -> argparse.Namespace:
    parser = ArgumentParser(
        description='Peak RSS of windowed VideoKNetVIS inference on a long '
        'synthetic video vs a short one.')
    parser.add_argument('--config', default=DEFAULT_CONFIG, path='in-file',
                        help='VideoKNetVIS config (default: R50 2019)')
    parser.add_argument('--long', type=int_range(1, 100000), default=200,
                        help='frames of the long video (default: 200)')
    parser.add_argument('--short', type=int_range(1, 100000), default=None,
                        help='frames of the short video (default: --window)')
    parser.add_argument('--window', type=int_range(1, 100000), default=20,
                        help='inference window in frames (default: 20)')
    parser.add_argument('--overlap', type=int_range(0), default=4,
                        help='frames shared by consecutive windows '
                        '(default: 4)')
    parser.add_argument('--size', type=int_range(32, 8192), nargs=2,
                        default=(192, 320),
                        metavar=('H', 'W'),
                        help='frame size (default: 192 320)')
    parser.add_argument('--threads', type=int_range(1, 1024), default=1,
                        help='torch threads per run (default: 1)')
    parser.add_argument('--with-whole', action='store_true',
                        help='also run the long video as one clip (the '
                        "release's inference; needs much more memory)")
    parser.add_argument('--max-ratio', type=float_range(0, lo_open=True),
                        default=1.5,
                        help='exit 1 if long-windowed / short peak RSS '
                        'exceeds this (default: 1.5)')
    parser.add_argument('--out', path='out-file', suffixes=('.json',),
                        help='write the figures to this JSON file')
    parser.add_argument('--work-dir', path='out-dir',
                        help='keep the synthetic data here '
                        '(default: a temporary folder)')
    # internal: one measurement in this process
    parser.add_argument('--measure', nargs=3, metavar=('ROOT', 'WIN', 'OV'),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.short is None:
        args.short = args.window
    if not 0 <= args.overlap < args.window:
        parser.error('--overlap must be in [0, --window)')
    return args


def make_video(root: Path, frames: int, size) -> None:
    """One synthetic YouTube-VIS 2019 video of ``frames`` frames, converted
    to the COCO-video JSON."""
    from knet.datasets.synthetic import make_synthetic
    manifest = make_synthetic('youtube_vis_2019', root, videos=1,
                              frames=frames, size=tuple(size), seed=0)
    script = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))),
                      'dataset', 'youtubevis2coco.py')
    subprocess.run([sys.executable, script, '-i', manifest['ann_dir'], '-o',
                    str(root / 'annotations'), '--version', '2019'],
                   check=True, capture_output=True)


def measure(config: str, root: str, window: int, overlap: int,
            threads: int, size) -> dict:
    """Run the test step on the video under ``root``; return peak RSS."""
    import torch
    from mmengine.config import Config
    from mmengine.dataset import pseudo_collate

    from knet.utils.setup_env import register_all_modules
    from mmdet.registry import DATASETS, MODELS
    torch.set_num_threads(threads)
    register_all_modules()
    cfg = Config.fromfile(config)
    cfg.model.window_size = window
    cfg.model.window_overlap = overlap
    cfg.model.backbone.init_cfg = None
    model = MODELS.build(cfg.model).eval()
    ds_cfg = cfg.test_dataloader.dataset
    ds_cfg.data_root = root + '/'
    ds_cfg.ann_file = 'annotations/youtube_vis_2019_train.json'
    ds_cfg.data_prefix = dict(img_path='train/JPEGImages')
    for t in ds_cfg.pipeline[0]['transforms']:  # test at the frames' size
        if t['type'] == 'Resize':
            t['scale'] = tuple(size[::-1])
    dataset = DATASETS.build(ds_cfg)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.time()
    with torch.no_grad():
        out = model.test_step(pseudo_collate([dataset[0]]))
    seconds = time.time() - t0
    frames = len(out[0].video_data_samples)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return dict(frames=frames, window=window, overlap=overlap,
                peak_rss_mb=peak / 1024, rss_before_mb=rss0 / 1024,
                seconds=round(seconds, 2))


def run_measure(args, root: Path, window: int, overlap: int) -> dict:
    cmd = [sys.executable, osp.abspath(__file__), '--config', args.config,
           '--threads', str(args.threads), '--size', *map(str, args.size),
           '--measure', str(root),
           str(window), str(overlap)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-1:] or ['no output']
        raise DataError(f'{args.config}: benchmark run failed: {tail[0]}')
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.measure:
        root, win, ov = args.measure
        print(json.dumps(measure(args.config, root, int(win), int(ov),
                                 args.threads, args.size)))
        return 0
    if not osp.isfile(args.config):
        raise DataError(f'{args.config}: config not found')
    from tqdm import tqdm
    tmp = None
    if args.work_dir:
        base = Path(args.work_dir)
        base.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory()
        base = Path(tmp.name)
    runs = [('long_windowed', 'long', args.window, args.overlap),
            ('short_clip', 'short', 0, 0)]
    if args.with_whole:
        runs.append(('long_whole', 'long', 0, 0))
    figures = {}
    for name in tqdm(['long', 'short'], desc='synthetic videos'):
        root = base / name
        if not (root / 'annotations').is_dir():
            make_video(root, getattr(args, name), args.size)
    for key, video, win, ov in tqdm(runs, desc='measurements'):
        figures[key] = run_measure(args, base / video, win, ov)
    ratio = figures['long_windowed']['peak_rss_mb'] / \
        figures['short_clip']['peak_rss_mb']
    report = dict(config=args.config, size=list(args.size),
                  ratio_long_windowed_to_short=round(ratio, 3),
                  max_ratio=args.max_ratio, runs=figures)
    for key, fig in figures.items():
        print(f"{key:>14}: {fig['frames']:4d} frames, window "
              f"{fig['window'] or 'whole'}: peak RSS "
              f"{fig['peak_rss_mb']:.0f} MB ({fig['seconds']:.1f} s)")
    print(f'long windowed / short: {ratio:.2f} (limit {args.max_ratio})')
    if args.out:
        atomic_write_bytes(Path(args.out),
                           json.dumps(report, indent=2).encode())
    if tmp is not None:
        tmp.cleanup()
    return 0 if ratio <= args.max_ratio else 1


if __name__ == '__main__':
    sys.exit(run_cli(main))
