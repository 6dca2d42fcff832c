#!/usr/bin/env python
"""Test (evaluate) a checkpoint (MMDetection 3.x style).

Examples:
    python tools/test.py configs/video_knet_kitti.py ckpt.pth
    python tools/test.py CONFIG ckpt.pth --submission-dir out/   # official layout
    python tools/test.py configs/video_knet_kitti.py RELEASE.pth  # release
    tools/dist_test.sh configs/video_knet_kitti.py ckpt.pth 8

A checkpoint must fit the model (``--no-strict`` loads what fits); one of
the original release (mmdet 2.x names) is converted in memory.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from knet.utils.cli import (ArgumentParser, add_runner_args,  # noqa: E402
                            export_local_rank, float_range, run_cli)


def parse_args(argv=None) -> argparse.Namespace:
    parser = ArgumentParser(
        description='Evaluate a K-Net / Video K-Net checkpoint.')
    parser.add_argument('config', path='in-file',
                        help='test config file path')
    parser.add_argument('checkpoint', path='in-file', help='checkpoint file')
    parser.add_argument(
        '--work-dir', path='out-dir',
        help='where the evaluation metrics are saved')
    parser.add_argument(
        '--out', path='out-file', suffixes=('.pkl', '.pickle'),
        help='dump the raw predictions to a pickle file')
    parser.add_argument(
        '--submission-dir', path='out-dir',
        help="write predictions in the benchmark's official submission "
        'layout to this folder (KITTI-STEP PNGs, pan_pred/ + pred.json, '
        'YouTube-VIS results.json + submission_file.zip)')
    parser.add_argument(
        '--format-only',
        action='store_true',
        help='only write the submission files, do not compute metrics '
        '(for test splits without labels); needs --submission-dir')
    parser.add_argument(
        '--show-dir', path='out-dir',
        help='save the drawn predictions into this folder (relative to '
        'the current directory); video configs: one PNG per frame, '
        'DIR/<video>/<frame>.png (VPS: panoptic overlay with track ids, '
        'VIS: instance masks with track ids); image configs: '
        'DIR/<image name>')
    parser.add_argument(
        '--no-strict', action='store_true',
        help='load the checkpoint even if some of its tensors do not fit '
        'the model (they are listed; by default such a checkpoint is '
        'refused). Checkpoints of the original release are converted '
        'either way')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='run the model under autocast (bfloat16 where the device '
        'supports it, else float16); merging and tracking stay float32')
    parser.add_argument(
        '--show', action='store_true', help='show predictions in a window')
    parser.add_argument(
        '--wait-time', type=float_range(0), default=2,
        help='--show interval (s)')
    add_runner_args(parser, 'test_dataloader.batch_size=1', 'tools/dist_test.sh')
    args = parser.parse_args(argv)
    export_local_rank(args)
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    from knet.engine.runner import build_runner
    from knet.engine.runner_setup import (config_errors, load_config,
                                          prepare_test_cfg,
                                          process_group_teardown)
    from knet.engine.test_options import (add_pickle_dump,
                                          configure_submission,
                                          configure_visualization)
    from knet.utils.cli import UserError
    if args.format_only and not args.submission_dir:
        raise UserError('--format-only needs --submission-dir')
    cfg = load_config(args.config, args.cfg_options)
    prepare_test_cfg(cfg, args.launcher, args.work_dir, args.config,
                     args.checkpoint, strict=not args.no_strict,
                     amp=args.amp)
    if args.show or args.show_dir:
        configure_visualization(cfg, args.show, args.show_dir, args.wait_time)
    if args.submission_dir:
        configure_submission(cfg, args.submission_dir, args.format_only)
    with config_errors(args.config), process_group_teardown():
        runner = build_runner(cfg)
        if args.out:
            add_pickle_dump(runner, args.out)
        runner.test()
        del runner  # collected before the process group goes


if __name__ == '__main__':
    sys.exit(run_cli(main))
