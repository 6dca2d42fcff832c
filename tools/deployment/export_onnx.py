#!/usr/bin/env python
"""Export the network of a Video K-Net config to ONNX.

VPS configs (``VideoKNet``) export the per-frame network: one frame and the
previous frame's kernels in (``img``, ``prev_kernels``, ``prev_valid``:
zeros and False on a sequence's first frame), the last stage's classes and
masks, the kernel head's semantic logits, the kernels for the next frame and
the track embeddings of every thing kernel out. VIS configs
(``VideoKNetVIS``) export the clip network of one window (``frames`` in, any
number of frames). Post-processing and tracking stay in the project's code:
run the file with ``knet.apis.init_model(CONFIG, 'model.onnx')`` or
``tools/demo/video_demo.py CONFIG model.onnx``.

The graph is checked with ``onnx.checker`` and against PyTorch in ONNX
Runtime on random frames before the tool reports success. The file is
written and checked under a temporary name beside ``--out`` and renamed onto
it at the end: an interrupted export leaves nothing; one that fails the
check is kept at ``--out`` for inspection and the tool exits with an error.

Example::

    python tools/deployment/export_onnx.py configs/video_knet_kitti.py \\
        ckpt.pth --out video_knet_kitti.onnx --shape 384 1248
    python tools/deployment/export_onnx.py CONFIG CKPT --out m.onnx \\
        --dynamic-shape
"""
import argparse
import importlib.util
import os.path as osp
import sys

if importlib.util.find_spec('knet') is None:  # a checkout, not installed
    sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..',
                                            '..')))

from knet.utils.cli import (ArgumentParser, UsageError, UserError,  # noqa
                            add_cfg_options, int_range, run_cli)


def parse_args(argv=None) -> argparse.Namespace:
    parser = ArgumentParser(
        description='Export the per-frame network of a Video K-Net VPS '
        'config (or the clip network of a VIS config) to ONNX, check it '
        'against PyTorch in ONNX Runtime and print its inputs and outputs.')
    parser.add_argument('config', path='in-file', help='model config file')
    parser.add_argument(
        'checkpoint', nargs='?', path='in-file',
        help='checkpoint (.pth; original-release checkpoints are accepted '
        'as by init_model); random weights without it')
    parser.add_argument('--out', required=True, path='out-file',
                        suffixes=('.onnx',),
                        help='the ONNX file to write (.onnx, the suffix by '
                        'which init_model and the demo recognise it; '
                        'replaced atomically)')
    parser.add_argument(
        '--shape', type=int_range(1, 16384), nargs=2, metavar=('H', 'W'),
        default=(384, 1248),
        help='frame size (default 384 1248): the network input size is '
        'this after the config\'s test Resize and padding')
    parser.add_argument(
        '--dynamic-shape', action='store_true',
        help='let the graph take any frame size (multiples of the padding '
        'divisor); --shape is then the traced example')
    parser.add_argument('--opset', type=int_range(7), default=None,
                        help='ONNX opset (default: the exporter\'s)')
    parser.add_argument('--frames', type=int_range(1, 1000), default=5,
                        help='VIS: frames of the example window (the '
                        'graph takes any number)')
    parser.add_argument('--no-check', action='store_true',
                        help='skip the checker and the comparison with '
                        'PyTorch')
    add_cfg_options(parser, 'model.roi_head.test_cfg.merge_resolution=mask')
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    try:
        import onnx
        import onnxruntime  # noqa: F401
        import onnxscript  # noqa: F401
    except ImportError as e:
        raise UserError(f'{e.name} is not installed: the export needs the '
                        'optional packages of requirements/onnx.txt')
    newest = onnx.defs.onnx_opset_version()
    if args.opset is not None and args.opset > newest:
        raise UsageError(f'argument --opset: must be <= {newest} (the '
                         f'newest opset of onnx {onnx.__version__}), got '
                         f'{args.opset} (see --help)')

    from knet.apis import init_model, network_input_shape
    from knet.deployment import ExportError, export_onnx
    from knet.engine.runner_setup import config_errors, load_config
    cfg = load_config(args.config, args.cfg_options)
    try:
        with config_errors(args.config):
            model = init_model(cfg, args.checkpoint, device='cpu',
                               backend='pytorch')
    except UserError:
        raise
    except Exception as e:  # a config the model cannot be built from
        raise UserError(f'{args.config}: cannot build the model: '
                        f'{type(e).__name__}: {e}') from e
    shape = network_input_shape(model, args.shape)
    try:
        report = export_onnx(
            model, args.out, shape, dynamic_shape=args.dynamic_shape,
            opset=args.opset, model_cfg=model.cfg.model,
            num_frames=args.frames, check=not args.no_check, log=print)
    except ExportError as e:
        left = ' (the file is left there for inspection)' if e.kept else ''
        raise UserError(f'{e}{left}') from e
    except ValueError as e:  # a model type without an exportable network
        raise UserError(f'{args.config}: {e}') from e

    size = osp.getsize(args.out) / 2**20
    print(f'exported {osp.abspath(args.out)}: {size:.1f} MiB, {report.kind} '
          f'graph, in {report.export_s:.1f} s')
    print('inputs:')
    for name, dims in report.inputs:
        print(f'  {name}: {dims}')
    print('outputs:')
    for name, dims in report.outputs:
        print(f'  {name}: {dims}')
    if report.checked_shapes:
        diffs = ', '.join(f'{k} {v:.2g}'
                          for k, v in report.max_abs_diff.items())
        sizes = ', '.join(f'{h}x{w}' for h, w in report.checked_shapes)
        print(f'checked against PyTorch at {sizes} in {report.check_s:.1f} '
              f's: max |difference| {diffs}'
              + (f' (including the {len(report.notes)} near-tie case(s) '
                 'noted above)' if report.notes else ''))


if __name__ == '__main__':
    sys.exit(run_cli(main))
