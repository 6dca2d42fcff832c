#!/usr/bin/env python
"""Write images of dataset samples after the data pipeline.

Every frame of a sample (key and reference frames, or a VIS clip) is drawn
side by side: the image with the semantic map in the dataset palette (void
left uncoloured) and each thing instance in a colour derived from its
instance id, outlined, with the id written on it. The same object therefore
has the same colour in every frame, which makes tracking ids, shared
flips/crops and label mistakes visible at a glance.

Example:
    python tools/analysis_tools/browse_dataset.py \\
        configs/_base_/datasets/kitti_step_vps.py \\
        --output-dir work_dirs/browse --not-show --max 20 \\
        --cfg-options train_dataloader.dataset.data_root=data/kitti-step/
"""
import argparse
import os
import os.path as osp
import sys
from typing import List, Optional

import numpy as np

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(
    __file__)))))

from knet.formats.io import atomic_write_bytes  # noqa: E402
from knet.utils.cli import (ArgumentParser, UserError,  # noqa: E402
                            add_cfg_options, float_range, has_display,
                            int_range, run_cli)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = ArgumentParser(
        description='Write images of pipeline samples (all frames of a '
        'sample side by side, masks coloured by instance id).')
    parser.add_argument('config', path='in-file',
                        help='config file (a dataset _base_ config or a '
                        'full model config)')
    parser.add_argument('--output-dir', required=True, path='out-dir',
                        help='folder for the PNG files')
    parser.add_argument('--split', choices=('train', 'val', 'test'),
                        default='train', help='which dataloader to browse '
                        '(default: train)')
    parser.add_argument('--max', type=int_range(1), default=20, metavar='N',
                        help='number of samples to write (default: 20)')
    parser.add_argument('--not-show', action='store_true',
                        help='only write files, do not open a window')
    parser.add_argument('--alpha', type=float_range(0, 1), default=0.5,
                        help='opacity of the label colours (default: 0.5)')
    add_cfg_options(parser, 'train_dataloader.dataset.data_root=data/x/')
    return parser.parse_args(argv)


def id_colour(key: int) -> np.ndarray:
    """A bright, deterministic BGR colour for an instance id."""
    rng = np.random.default_rng(int(key) & 0xFFFFFFFF)
    colour = rng.integers(0, 256, 3)
    colour[rng.integers(0, 3)] = 255
    return colour.astype(np.uint8)


def draw_frame(img: np.ndarray, sample, palette, alpha: float) -> np.ndarray:
    """Overlay the semantic map and the instances of one DetDataSample."""
    import cv2
    canvas = img.astype(np.float32)
    height, width = img.shape[:2]
    if 'gt_sem_seg' in sample and palette is not None:
        sem = sample.gt_sem_seg.sem_seg[0].cpu().numpy().astype(np.int64)
        sem = sem[:height, :width]
        lut = np.zeros((256, 3), np.float32)
        lut[:len(palette)] = np.asarray(palette, np.float32)[:, ::-1]
        valid = (sem >= 0) & (sem < len(palette))
        colour = lut[np.clip(sem, 0, 255)]
        canvas[valid] = (1 - alpha) * canvas[valid] + alpha * colour[valid]
    gi = sample.get('gt_instances')
    if gi is not None and 'masks' in gi and len(gi) > 0:
        masks = gi.masks
        masks = masks.masks if hasattr(masks, 'masks') else \
            masks.cpu().numpy()
        ids = gi.instances_ids.tolist() if 'instances_ids' in gi else \
            list(range(1, len(masks) + 1))
        for mask, key in zip(masks, ids):
            mask = mask[:height, :width].astype(bool)
            if not mask.any():
                continue
            colour = id_colour(key).astype(np.float32)
            canvas[mask] = (1 - alpha) * canvas[mask] + alpha * colour
    canvas = np.clip(canvas, 0, 255).astype(np.uint8)
    if gi is not None and 'masks' in gi and len(gi) > 0:
        for mask, key in zip(masks, ids):
            mask = mask[:height, :width].astype(np.uint8)
            if not mask.any():
                continue
            contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL,
                                           cv2.CHAIN_APPROX_SIMPLE)
            cv2.drawContours(canvas, contours, -1, (255, 255, 255), 1)
            ys, xs = np.nonzero(mask)
            cv2.putText(canvas, str(key), (int(xs.mean()), int(ys.mean())),
                        cv2.FONT_HERSHEY_SIMPLEX, 0.35,
                        tuple(int(c) for c in id_colour(key)), 1)
    return canvas


def sample_image(packed: dict, palette, alpha: float) -> np.ndarray:
    """All frames of a packed sample side by side (BGR uint8)."""
    inputs = packed['inputs']
    samples = packed['data_samples']
    if hasattr(samples, 'video_data_samples'):
        frames = samples.video_data_samples
        images = [inputs[t] for t in range(inputs.shape[0])]
    else:
        frames, images = [samples], [inputs]
    tiles = []
    for img, sample in zip(images, frames):
        img = img.permute(1, 2, 0).cpu().numpy().astype(np.uint8)
        tiles.append(draw_frame(np.ascontiguousarray(img), sample, palette,
                                alpha))
    height = max(t.shape[0] for t in tiles)
    gap = np.full((height, 4, 3), 255, np.uint8)
    row = []
    for tile in tiles:
        pad = np.zeros((height - tile.shape[0], tile.shape[1], 3), np.uint8)
        row += [np.concatenate([tile, pad], 0), gap]
    return np.concatenate(row[:-1], 1)


def sample_indices(dataset, limit: int) -> list:
    """Indices in order: (video, frame) pairs for video datasets."""
    if hasattr(dataset, 'get_len_per_video'):
        pairs = []
        for v in range(len(dataset)):
            for f in range(dataset.get_len_per_video(v)):
                pairs.append((v, f))
                if len(pairs) >= limit:
                    return pairs
        return pairs
    return list(range(min(limit, len(dataset))))


def write_image(path: str, image: np.ndarray) -> None:
    """Write a BGR image as a PNG, atomically."""
    import cv2
    ok, data = cv2.imencode('.png', image)
    if not ok:
        raise UserError(f'{path}: cannot encode the image')
    atomic_write_bytes(path, data.tobytes())



def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    from mmengine.utils import import_modules_from_strings
    from tqdm import tqdm

    from knet.engine.runner_setup import load_config
    cfg = load_config(args.config, args.cfg_options)
    if not args.not_show and not has_display():
        print('warning: no display (DISPLAY is not set): writing files only',
              file=sys.stderr)
        args.not_show = True
    from mmdet.registry import DATASETS
    from mmdet.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    import knet.datasets  # noqa: F401
    if cfg.get('custom_imports'):
        import_modules_from_strings(**cfg.custom_imports)
    loader = cfg.get(f'{args.split}_dataloader')
    if loader is None:
        raise UserError(f'{args.config}: no {args.split}_dataloader')
    try:
        dataset = DATASETS.build(loader['dataset'])
    except (UserError, OSError):
        raise
    except Exception as e:  # a wrong data_root, a broken annotation file
        raise UserError(f'{args.config}: cannot build the {args.split} '
                        f'dataset: {type(e).__name__}: {e}') from None
    palette = dataset.metainfo.get('palette')
    os.makedirs(args.output_dir, exist_ok=True)
    indices = sample_indices(dataset, args.max)
    for n, index in enumerate(tqdm(indices, desc='browse', unit='sample')):
        packed = dataset[index]
        image = sample_image(packed, palette, args.alpha)
        first = packed['data_samples']
        key = first.metainfo.get('key_frames_inds', [0])
        first = getattr(first, 'video_data_samples', [first])[key[0]]
        meta = first.metainfo
        seq = meta.get('seq_name', meta.get('video_id', 'img'))
        frame = meta.get('frame_id', meta.get('img_id', n))
        path = osp.join(args.output_dir, f'{n:05d}_{seq}_{frame}.png')
        write_image(path, image)
        if not args.not_show:
            import mmcv
            try:
                mmcv.imshow(image, win_name='browse_dataset', wait_time=0)
            except Exception:  # no display: files only
                args.not_show = True
    print(f'{len(indices)} samples drawn')
    return 0


if __name__ == '__main__':
    sys.exit(run_cli(main))
