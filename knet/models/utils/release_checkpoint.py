"""State dicts of the original K-Net / Video K-Net releases -> this code base.

The releases were built on mmdet 2.x / mmcv 1.x. Their checkpoints differ
from ours in names only, except for one Swin layer (see below):

Key mapping (:data:`KEY_RULES`, the first matching rule wins):

* ``neck.encoder.layers.i.attentions.0.*`` / ``.ffns.0.*`` ->
  ``neck.0.encoder.layers.i.self_attn.*`` / ``.ffn.*`` (deformable FPN:
  mmdet 2 transformer names -> mmdet 3's);
* ``neck.*`` -> ``neck.0.*`` and ``rpn_head.localization_fpn.*`` ->
  ``neck.1.*``: our neck is the list [FPN, SemanticFPNWrapper], the release
  built the semantic FPN inside the kernel head;
* Swin (``SwinTransformerDIY``): ``backbone.patch_embed.proj.*`` ->
  ``backbone.patch_embed.projection.*``; ``backbone.layers.i.blocks.j.`` +
  ``attn.*`` / ``mlp.fc1.*`` / ``mlp.fc2.*`` / ``norm{1,2}.*`` ->
  ``backbone.stages.i.blocks.j.`` + ``attn.w_msa.*`` / ``ffn.layers.0.0.*``
  / ``ffn.layers.1.*`` / ``norm{1,2}.*``; ``backbone.layers.i.downsample.*``
  -> ``backbone.stages.i.downsample.*`` (values re-ordered, below);
* unchanged: every other ``backbone.*`` (ResNet, mmdet Swin, ``norm{i}``),
  ``rpn_head.*``, ``roi_head.*``, ``track_head.*``, ``embed_fcs.*``,
  ``fc_embed.*``, ``tracker.*`` (our heads keep the release's module names;
  mmcv 2's attention and FFN kept mmcv 1's parameter names).

The Video K-Net release's Swin backbone is its own ``SwinTransformerDIY``
(the Swin-Transformer-Object-Detection layout, ``layers.*``); K-Net's COCO
Swin-L used mmdet's ``SwinTransformer`` (``stages.*``, our names already).
Swin patch merging: the release concatenates the four pixels of each 2x2
cell as (top-left, bottom-left, top-right, bottom-right) x C channels, mmdet
unfolds them channel-major (channel c, pixel p = 2 * row + col at index
4 c + p). The 4C inputs of ``downsample.reduction`` (weight columns) and of
``downsample.norm`` (weight and bias) are permuted accordingly, which gives
the same output; every other tensor is carried over unchanged.

A ``module.`` prefix (data-parallel wrappers) is stripped; keys without a
counterpart (e.g. ``ema_*`` copies, ``absolute_pos_embed``) are reported.
"""
import re
from collections import OrderedDict
from typing import List, Mapping, Optional, Sequence, Tuple

import torch
from torch import Tensor

__all__ = [
    'KEY_RULES', 'convert_key', 'convert_state_dict', 'is_release_layout',
    'swin_merge_permutation', 'SWIN_MERGE_KEY'
]

_SWIN_BLOCK = r'^backbone\.layers\.(\d+)\.blocks\.(\d+)\.'
_SWIN_STAGE = r'backbone.stages.\1.blocks.\2.'

KEY_RULES: List[Tuple[str, str]] = [
    # deformable-FPN neck (the release's MSDeformAttnPixelDecoder, mmdet 2
    # transformer names -> mmdet 3 DetrTransformerEncoderLayer names)
    (r'^neck\.encoder\.layers\.(\d+)\.attentions\.0\.(.+)$',
     r'neck.0.encoder.layers.\1.self_attn.\2'),
    (r'^neck\.encoder\.layers\.(\d+)\.ffns\.0\.(.+)$',
     r'neck.0.encoder.layers.\1.ffn.\2'),
    (r'^neck\.(.+)$', r'neck.0.\1'),
    (r'^rpn_head\.localization_fpn\.(.+)$', r'neck.1.\1'),
    # SwinTransformerDIY (Video K-Net release) -> mmdet SwinTransformer
    (r'^backbone\.patch_embed\.proj\.(.+)$',
     r'backbone.patch_embed.projection.\1'),
    (_SWIN_BLOCK + r'attn\.(.+)$', _SWIN_STAGE + r'attn.w_msa.\3'),
    (_SWIN_BLOCK + r'mlp\.fc1\.(.+)$', _SWIN_STAGE + r'ffn.layers.0.0.\3'),
    (_SWIN_BLOCK + r'mlp\.fc2\.(.+)$', _SWIN_STAGE + r'ffn.layers.1.\3'),
    (_SWIN_BLOCK + r'(norm[12]\..+)$', _SWIN_STAGE + r'\3'),
    (r'^backbone\.layers\.(\d+)\.downsample\.(reduction|norm)\.(.+)$',
     r'backbone.stages.\1.downsample.\2.\3'),
    (r'^backbone\.absolute_pos_embed$', None),  # unused by the releases
    (r'^(backbone|rpn_head|roi_head|track_head|embed_fcs|fc_embed|tracker)'
     r'\.(.+)$', r'\1.\2'),
]

# release keys whose values are re-ordered (Swin patch merging)
SWIN_MERGE_KEY = re.compile(
    r'^backbone\.layers\.\d+\.downsample\.(reduction\.weight|norm\.weight|'
    r'norm\.bias)$')

# keys that only a release checkpoint has (ours: neck.0 / neck.1,
# backbone.stages / backbone.patch_embed.projection), and only ours has
_RELEASE_ONLY = re.compile(
    r'^(module\.)?(rpn_head\.localization_fpn\.|neck\.(?!\d+\.)|'
    r'backbone\.layers\.\d+\.blocks\.|backbone\.patch_embed\.proj\.)')
_OURS_ONLY = re.compile(r'^(module\.)?neck\.\d+\.')


def convert_key(key: str,
                rules: Sequence[Tuple[str, Optional[str]]] = KEY_RULES
                ) -> Optional[str]:
    """Our name of the release key ``key``; None when it has none."""
    if key.startswith('module.'):
        key = key[len('module.'):]
    for pattern, repl in rules:
        if re.match(pattern, key):
            return None if repl is None else re.sub(pattern, repl, key)
    return None


def swin_merge_permutation(channels: int) -> Tensor:
    """Index ``perm`` with ``ours[..., j] = release[..., perm[j]]`` for the
    4C patch-merging inputs of a stage of ``channels`` (C) channels.

    Ours (nn.Unfold): j = 4 c + p, pixel p = 2 * row + col of the 2x2 cell.
    Release: (row 0 col 0, row 1 col 0, row 0 col 1, row 1 col 1) blocks
    of C channels, i.e. block b(p) = (0, 2, 1, 3)[p], index b(p) * C + c.
    """
    c = torch.arange(channels).view(channels, 1)
    block = torch.tensor([0, 2, 1, 3]).view(1, 4)
    return (block * channels + c).reshape(-1)


def _merge_value(value: Tensor) -> Tensor:
    perm = swin_merge_permutation(value.shape[-1] // 4)
    return value.index_select(-1, perm.to(value.device))


def is_release_layout(state_dict: Mapping[str, object],
                      meta: Optional[Mapping] = None) -> bool:
    """Whether a checkpoint is in the release's layout (mmdet 2.x names).

    True when its ``meta`` says mmdet 2.x wrote it or a key exists only in
    the release's layout (``rpn_head.localization_fpn.*``, an un-indexed
    ``neck.*``, ``SwinTransformerDIY`` names) and none only in ours
    (``neck.<i>.*``); False for checkpoints this code base wrote or
    converted (a mix of both layouts is left alone: loading it reports the
    odd keys).
    """
    meta = meta or {}
    if meta.get('converter') or meta.get('converted_from'):
        return False
    if any(_OURS_ONLY.match(k) for k in state_dict):
        return False
    if str(meta.get('mmdet_version', '')).startswith('2.'):
        return True
    return any(_RELEASE_ONLY.match(k) for k in state_dict)


def convert_state_dict(
    state_dict: Mapping[str, Tensor],
    rules: Sequence[Tuple[str, Optional[str]]] = KEY_RULES
) -> Tuple['OrderedDict[str, Tensor]', List[str]]:
    """Map a release state dict to ours: ``(new_state_dict, unmapped)``.

    Values are the source tensors themselves, except the Swin
    patch-merging ones (permuted copies, see the module doc).
    """
    new_sd: 'OrderedDict[str, Tensor]' = OrderedDict()
    unmapped = []
    for key, value in state_dict.items():
        new_key = convert_key(key, rules)
        if new_key is None:
            unmapped.append(key)
            continue
        if new_key in new_sd:
            raise ValueError(f'two keys map to {new_key}')
        plain = key[len('module.'):] if key.startswith('module.') else key
        if SWIN_MERGE_KEY.match(plain):
            value = _merge_value(value)
        new_sd[new_key] = value
    return new_sd, unmapped

