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
Runtime on random frames before the tool reports success.

Example::

    python tools/deployment/export_onnx.py configs/video_knet_kitti.py \\
        ckpt.pth --out video_knet_kitti.onnx --shape 384 1248
    python tools/deployment/export_onnx.py CONFIG CKPT --out m.onnx \\
        --dynamic-shape
"""
import argparse
import importlib.util
import os
import os.path as osp
import sys

if importlib.util.find_spec('knet') is None:  # a checkout, not installed
    sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..',
                                            '..')))

from knet.utils.cli import UserError, run_cli  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(
        description='Export the per-frame network of a Video K-Net VPS '
        'config (or the clip network of a VIS config) to ONNX, check it '
        'against PyTorch in ONNX Runtime and print its inputs and outputs.')
    parser.add_argument('config', help='model config file')
    parser.add_argument(
        'checkpoint', nargs='?',
        help='checkpoint (.pth; original-release checkpoints are accepted '
        'as by init_model); random weights without it')
    parser.add_argument('--out', required=True,
                        help='the ONNX file to write (replaced atomically)')
    parser.add_argument(
        '--shape', type=int, nargs=2, metavar=('H', 'W'),
        default=(384, 1248),
        help='frame size (default 384 1248): the network input size is '
        'this after the config\'s test Resize and padding')
    parser.add_argument(
        '--dynamic-shape', action='store_true',
        help='let the graph take any frame size (multiples of the padding '
        'divisor); --shape is then the traced example')
    parser.add_argument('--opset', type=int, default=None,
                        help='ONNX opset (default: the exporter\'s)')
    parser.add_argument('--frames', type=int, default=5,
                        help='VIS: frames of the example window (the '
                        'graph takes any number)')
    parser.add_argument('--no-check', action='store_true',
                        help='skip the checker and the comparison with '
                        'PyTorch')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries (KEY=VALUE)')
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    if not osp.isfile(args.config):
        raise UserError(f'{args.config}: config file not found')
    if args.checkpoint and not osp.isfile(args.checkpoint):
        raise UserError(f'{args.checkpoint}: checkpoint not found')
    if args.checkpoint and osp.abspath(args.checkpoint) == osp.abspath(
            args.out):
        raise UserError(f'--out {args.out}: would overwrite the checkpoint')
    if min(args.shape) <= 0 or args.frames <= 0:
        raise UserError('--shape and --frames must be positive')
    out_dir = osp.dirname(osp.abspath(args.out))
    if osp.exists(out_dir) and not os.access(out_dir, os.W_OK):
        raise UserError(f'--out {args.out}: directory is not writable')
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
        import onnxscript  # noqa: F401
    except ImportError as e:
        raise UserError(f'{e.name} is not installed: the export needs the '
                        'optional packages of requirements/onnx.txt')

    from knet.apis import init_model, network_input_shape
    from knet.deployment import ExportError, export_onnx
    try:
        model = init_model(args.config, args.checkpoint, device='cpu',
                           cfg_options=args.cfg_options,
                           backend='pytorch')
    except UserError:
        raise
    except Exception as e:  # a corrupt checkpoint, a config/weights mismatch
        what = args.checkpoint or args.config
        raise UserError(f'{what}: cannot build the model: '
                        f'{type(e).__name__}: {e}') from e
    shape = network_input_shape(model, args.shape)
    try:
        report = export_onnx(
            model, args.out, shape, dynamic_shape=args.dynamic_shape,
            opset=args.opset, model_cfg=model.cfg.model,
            num_frames=args.frames, check=not args.no_check, log=print)
    except (ExportError, ValueError) as e:
        raise UserError(str(e)) from e

    size = osp.getsize(args.out) / 2**20
    print(f'wrote {args.out} ({size:.1f} MiB, {report.kind} graph, exported '
          f'in {report.export_s:.1f} s)')
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
