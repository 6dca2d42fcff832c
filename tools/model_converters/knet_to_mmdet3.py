#!/usr/bin/env python
"""Convert a checkpoint of the original K-Net / Video K-Net release (mmdet
2.x names, ResNet or Swin backbones) to this code base and save it.

Usage: ``python tools/model_converters/knet_to_mmdet3.py SRC DST [--strict]``

Not needed to use a release checkpoint: ``tools/test.py``, the video demo,
``knet.apis.init_model`` and a config's ``load_from`` convert one in memory.
The key mapping (and the Swin patch-merging re-ordering) is documented in
:mod:`knet.models.utils.release_checkpoint`. Keys without counterpart are
printed and left out; ``--strict`` makes them an error.
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional, Sequence

if __package__ in (None, ''):  # run as a script from a checkout
    sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..',
                                            '..')))

import torch  # noqa: E402

from knet.formats.io import atomic_output  # noqa: E402
from knet.models.utils.release_checkpoint import (  # noqa: E402
    convert_key, convert_state_dict, is_release_layout)
from knet.utils.cli import ArgumentParser, UserError, run_cli  # noqa: E402

__all__ = ['convert_key', 'convert_state_dict', 'main']


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = ArgumentParser(
        description='Convert an original K-Net / Video K-Net checkpoint '
        '(mmdet 2.x names) to this code base (mmdet 3.x names).')
    parser.add_argument('src', path='in-file',
                        help='checkpoint of the release (.pth)')
    parser.add_argument('dst', path='out-file',
                        help='output checkpoint (.pth); must not be SRC')
    parser.add_argument(
        '--strict', action='store_true',
        help='fail when some keys have no counterpart')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    from knet.models.utils.checkpoint_loading import read_checkpoint
    args = parse_args(argv)  # checks that dst is not src and is writable
    ckpt = read_checkpoint(args.src)
    state_dict = ckpt.get('state_dict', ckpt)
    meta = dict(ckpt['meta']) if isinstance(ckpt.get('meta'), dict) else {}
    if not is_release_layout(state_dict, meta):
        raise UserError(f'{args.src}: not a checkpoint of the original '
                        'release (its keys are already this code base\'s)')
    new_sd, unmapped = convert_state_dict(state_dict)
    for key in unmapped:
        print(f'unmapped: {key}')
    if unmapped and args.strict:
        raise UserError(f'{args.src}: {len(unmapped)} keys could not be '
                        'mapped (listed above)')
    meta['converted_from'] = osp.basename(args.src)
    meta['converter'] = 'tools/model_converters/knet_to_mmdet3.py'
    with atomic_output(args.dst) as tmp:
        torch.save({'state_dict': new_sd, 'meta': meta}, tmp)
    print(f'converted {len(new_sd)} tensors ({len(unmapped)} unmapped)')
    return 0


if __name__ == '__main__':
    sys.exit(run_cli(main))
