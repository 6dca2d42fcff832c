#!/usr/bin/env python
"""Train a model from a config (MMDetection 3.x style).

Examples:
    python tools/train.py configs/video_knet_kitti.py
    python tools/train.py CONFIG --resume            # from the latest checkpoint
    tools/dist_train.sh configs/video_knet_kitti.py 8
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from knet.utils.cli import (ArgumentParser, add_runner_args,  # noqa: E402
                            export_local_rank, run_cli)


def parse_args(argv=None) -> argparse.Namespace:
    parser = ArgumentParser(
        description='Train a K-Net / Video K-Net model.')
    parser.add_argument('config', path='in-file',
                        help='train config file path')
    parser.add_argument(
        '--work-dir', path='out-dir',
        help='where logs and checkpoints go (default: '
        'work_dirs/<config name>)')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='mixed precision: bfloat16 autocast where the device supports '
        'it (CPU, recent GPUs), else float16 with dynamic loss scaling '
        '(knet/engine/amp.py)')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the learning rate by the actual batch size')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from the given checkpoint, or, without a value, from '
        'the latest checkpoint in the work dir')
    add_runner_args(parser, 'train_cfg.max_epochs=1', 'tools/dist_train.sh')
    args = parser.parse_args(argv)
    export_local_rank(args)
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    from knet.engine.runner import build_runner
    from knet.engine.runner_setup import (config_errors, load_config,
                                          prepare_train_cfg,
                                          process_group_teardown)
    cfg = load_config(args.config, args.cfg_options)
    prepare_train_cfg(
        cfg,
        launcher=args.launcher,
        work_dir=args.work_dir,
        config_path=args.config,
        amp=args.amp,
        auto_scale_lr=args.auto_scale_lr,
        resume=args.resume)
    with config_errors(args.config), process_group_teardown():
        runner = build_runner(cfg)
        runner.train()
        del runner  # collected before the process group goes


if __name__ == '__main__':
    sys.exit(run_cli(main))
