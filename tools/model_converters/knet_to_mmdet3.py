#!/usr/bin/env python
"""Convert an original K-Net / Video K-Net checkpoint (mmdet 2.x key names)
to this implementation (MMDetection 3.x module names).

Usage: ``python tools/model_converters/knet_to_mmdet3.py SRC DST [--strict]``

Key mapping (first matching rule wins; the groups are kept):

=====================================  ===============================  ================================================
original key                            new key                          why
=====================================  ===============================  ================================================
``neck.encoder.layers.i.attentions.0``  ``neck.0.encoder.layers.i.``     deformable-FPN variant: mmdet 3 names the
``neck.encoder.layers.i.ffns.0``        ``self_attn`` / ``ffn``          encoder layer's attention and FFN differently
``neck.*``                              ``neck.0.*``                     the neck is the list [FPN, SemanticFPNWrapper]
                                                                         (an mmengine Sequential); the FPN is item 0
``rpn_head.localization_fpn.*``         ``neck.1.*``                     the semantic FPN wrapper was built inside the
                                                                         kernel head; here it is neck item 1
``backbone.*``                          ``backbone.*``                   mmdet ResNet / SwinTransformer: same names
``rpn_head.*``                          ``rpn_head.*``                   ConvKernelHead keeps ``init_kernels``,
                                                                         ``conv_seg``, ``loc_convs``, ``seg_convs``
``roi_head.*``                          ``roi_head.*``                   KernelIterHead / KernelUpdateHead keep the
                                                                         inner names (mmcv 2 MultiheadAttention/FFN
                                                                         have the mmcv 1 parameter names)
``track_head.*``, ``embed_fcs.*``,      same                             Video K-Net association embedding (VideoKNet)
``fc_embed.*``
``tracker.*``                           same                             Video K-Net VIS clip-level kernel heads
=====================================  ===============================  ================================================

Keys without counterpart are reported (printed and returned as
``unmapped``) and left out; with the three release key lists (KITTI-STEP,
VIPSeg, YouTube-VIS R50) there are none. mmdet 2 checkpoints may also carry
``ema_*`` or ``module.`` prefixes from wrappers: ``module.`` is stripped, the
rest is reported.
"""
import argparse
import os
import re
import sys
import tempfile
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple

import torch

__all__ = ['KEY_RULES', 'convert_key', 'convert_state_dict', 'main']

KEY_RULES: List[Tuple[str, str]] = [
    # deformable-FPN neck (the release's MSDeformAttnPixelDecoder, mmdet 2
    # transformer names -> mmdet 3 DetrTransformerEncoderLayer names)
    (r'^neck\.encoder\.layers\.(\d+)\.attentions\.0\.(.+)$',
     r'neck.0.encoder.layers.\1.self_attn.\2'),
    (r'^neck\.encoder\.layers\.(\d+)\.ffns\.0\.(.+)$',
     r'neck.0.encoder.layers.\1.ffn.\2'),
    (r'^neck\.(.+)$', r'neck.0.\1'),
    (r'^rpn_head\.localization_fpn\.(.+)$', r'neck.1.\1'),
    (r'^(backbone|rpn_head|roi_head|track_head|embed_fcs|fc_embed|tracker)'
     r'\.(.+)$', r'\1.\2'),
]


def convert_key(key: str,
                rules: Sequence[Tuple[str, str]] = KEY_RULES
                ) -> Optional[str]:
    """New name of ``key`` or None when no rule applies."""
    if key.startswith('module.'):
        key = key[len('module.'):]
    for pattern, repl in rules:
        if re.match(pattern, key):
            return re.sub(pattern, repl, key)
    return None


def convert_state_dict(
    state_dict: Dict[str, torch.Tensor],
    rules: Sequence[Tuple[str, str]] = KEY_RULES
) -> Tuple['OrderedDict[str, torch.Tensor]', List[str]]:
    """Map an original state_dict to ours: ``(new_state_dict, unmapped)``."""
    new_sd: 'OrderedDict[str, torch.Tensor]' = OrderedDict()
    unmapped = []
    for key, value in state_dict.items():
        new_key = convert_key(key, rules)
        if new_key is None:
            unmapped.append(key)
            continue
        if new_key in new_sd:
            raise ValueError(f'two keys map to {new_key}')
        new_sd[new_key] = value
    return new_sd, unmapped


def _fail(msg: str) -> int:
    print(f'error: {msg}', file=sys.stderr)
    return 1


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        description='Convert an original K-Net / Video K-Net checkpoint '
        '(mmdet 2.x names) to this codebase (mmdet 3.x names).')
    parser.add_argument('src', help='original checkpoint (.pth)')
    parser.add_argument('dst', help='output checkpoint (.pth)')
    parser.add_argument(
        '--strict', action='store_true',
        help='fail (exit 1) when some keys cannot be mapped')
    args = parser.parse_args(argv)

    if not os.path.isfile(args.src):
        return _fail(f'{args.src}: no such file')
    try:
        ckpt = torch.load(args.src, map_location='cpu', weights_only=False)
    except Exception as exc:  # unreadable / not a torch file
        return _fail(f'{args.src}: cannot be read as a checkpoint ({exc})')
    if isinstance(ckpt, dict) and 'state_dict' in ckpt:
        state_dict, meta = ckpt['state_dict'], dict(ckpt.get('meta') or {})
    elif isinstance(ckpt, dict):
        state_dict, meta = ckpt, {}
    else:
        return _fail(f'{args.src}: not a state_dict or checkpoint dict')
    if not all(isinstance(v, torch.Tensor) for v in state_dict.values()):
        return _fail(f'{args.src}: state_dict holds non-tensor values')

    new_sd, unmapped = convert_state_dict(state_dict)
    for key in unmapped:
        print(f'unmapped: {key}')
    if unmapped and args.strict:
        return _fail(f'{args.src}: {len(unmapped)} keys could not be mapped')
    meta['converted_from'] = os.path.basename(args.src)
    meta['converter'] = 'tools/model_converters/knet_to_mmdet3.py'
    out_dir = os.path.dirname(os.path.abspath(args.dst))
    os.makedirs(out_dir, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out_dir, suffix='.tmp')
    os.close(fd)
    try:
        torch.save({'state_dict': new_sd, 'meta': meta}, tmp)
        os.replace(tmp, args.dst)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    print(f'converted {len(new_sd)} tensors ({len(unmapped)} unmapped) '
          f'-> {args.dst}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
