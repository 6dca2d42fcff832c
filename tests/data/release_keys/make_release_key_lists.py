#!/usr/bin/env python
"""Write the state_dict key lists of the release's Swin models (this folder).

Run once to regenerate the ``*_keys.txt`` files next to this script::

    python tests/data/release_keys/make_release_key_lists.py

Sources (facts only, no code of the release is used or copied):

* ``{kitti,vipseg,ytvis}_r50_keys.txt``: recorded by building the ORIGINAL
  R50 models (lxtGH/Video-K-Net a693403, mmdet 2.28.2, mmcv-full 1.7.2) and
  listing their ``state_dict`` (copied from the parity folder, unchanged).
* The release's Swin configs are these R50 configs with ``backbone``
  replaced by ``SwinTransformerDIY`` and ``neck.in_channels`` set to the Swin
  widths (checked by diffing the config files); the KITTI-STEP Swin-B/L
  configs also set ``previous_type='update'`` and
  ``previous_link='update_dynamic_cov'`` in every update head (instead of
  ``'ffn'``).
* ``SwinTransformerDIY`` (``swin/swin_transformer.py`` of the release): the
  module tree written out below in registration order (= state_dict
  order): ``patch_embed.{proj,norm}``; ``layers.i.blocks.j.{norm1,
  attn.relative_position_bias_table, attn.relative_position_index (buffer),
  attn.qkv, attn.proj, norm2, mlp.fc1, mlp.fc2}``;
  ``layers.i.downsample.{reduction (no bias), norm}`` for i < 3; ``norm0``
  .. ``norm3``. No ``absolute_pos_embed`` (``use_abs_pos_embed=False``).
* ``VideoKernelUpdateHead.__init__`` (``knet/video/kernel_update_head.py``):
  ``previous_type='update'`` registers ``attention_previous_update_track``
  (a KernelUpdator), ``attention_previous_track`` (mmcv MultiheadAttention),
  ``attention_previous_norm_track`` (LN), ``link_ffn_track`` (FFN),
  ``link_ffn_norm_track`` (LN); then ``previous_link='update_dynamic_cov'``
  the same five with the suffix ``_link``; both after ``fc_mask``.
* Image K-Nets (``knet/det``): the same kernel heads without the link
  modules and without ``track_head`` / ``embed_fcs`` / ``fc_embed``;
  Cityscapes-STEP 2 + 17 classes (``knet_citystep_s3_r50_fpn.py``), COCO
  panoptic 133 classes, COCO instance 80.
* ``MSDeformAttnPixelDecoder`` (``knet/det/msdeformattn_decoder.py``, the
  COCO Swin-B instance model's neck): ``input_convs.0-2`` (1x1 conv with
  bias + GN, inputs 1024/512/256 for Swin-B stages 3..1), ``encoder.layers.
  0-5`` (mmcv 1.x BaseTransformerLayer: ``attentions.0`` MSDeformAttn with
  sampling_offsets 8x3x4x2, attention_weights 8x3x4, value_proj,
  output_proj; ``ffns.0`` 256-1024-256; ``norms.0/1``), ``level_encoding``
  (3 x 256), ``lateral_convs.0`` / ``output_convs.0`` (no bias + GN),
  ``mask_feature`` (1x1 conv).
* K-Net's COCO panoptic Swin-L (ZwwWayne/K-Net
  ``knet_s3_swin-l_fpn_ms-3x_16x2_coco-panoptic.py``) uses mmdet 2.x's
  ``SwinTransformer``, whose names are mmdet 3.x's: ``patch_embed.
  projection``, ``stages.i.blocks.j.attn.w_msa.*``, ``ffn.layers.*``,
  ``stages.i.downsample.{norm, reduction}``.
"""
import re
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

HERE = Path(__file__).resolve().parent
Entry = Tuple[str, List[int], str]

SWIN = {
    'swin-b': dict(embed_dims=128, num_heads=[4, 8, 16, 32]),
    'swin-l': dict(embed_dims=192, num_heads=[6, 12, 24, 48]),
}
DEPTHS = [2, 2, 18, 2]
WINDOW = 7


def read_list(path: Path) -> List[Entry]:
    out = []
    for line in path.read_text().splitlines():
        if not line.strip() or line.startswith('#'):
            continue
        key, shape, kind = line.split('\t')
        out.append((key, [int(s) for s in re.findall(r'\d+', shape)], kind))
    return out


def swin_diy(embed_dims: int,
             num_heads: Sequence[int],
             depths: Sequence[int] = DEPTHS,
             window: int = WINDOW) -> List[Entry]:
    """SwinTransformerDIY (release) backbone keys, prefix ``backbone.``
    (also used by tests/models/test_swin_kf_parity.py for a tiny one)."""
    p, c, out = 'backbone.', embed_dims, []
    out += [(p + 'patch_embed.proj.weight', [c, 3, 4, 4], 'param'),
            (p + 'patch_embed.proj.bias', [c], 'param'),
            (p + 'patch_embed.norm.weight', [c], 'param'),
            (p + 'patch_embed.norm.bias', [c], 'param')]
    table = (2 * window - 1)**2
    for i, (depth, heads) in enumerate(zip(depths, num_heads)):
        dim = c * 2**i
        for j in range(depth):
            b = f'{p}layers.{i}.blocks.{j}.'
            out += [
                (b + 'norm1.weight', [dim], 'param'),
                (b + 'norm1.bias', [dim], 'param'),
                (b + 'attn.relative_position_bias_table', [table, heads],
                 'param'),
                (b + 'attn.relative_position_index',
                 [window**2, window**2], 'buffer'),
                (b + 'attn.qkv.weight', [3 * dim, dim], 'param'),
                (b + 'attn.qkv.bias', [3 * dim], 'param'),
                (b + 'attn.proj.weight', [dim, dim], 'param'),
                (b + 'attn.proj.bias', [dim], 'param'),
                (b + 'norm2.weight', [dim], 'param'),
                (b + 'norm2.bias', [dim], 'param'),
                (b + 'mlp.fc1.weight', [4 * dim, dim], 'param'),
                (b + 'mlp.fc1.bias', [4 * dim], 'param'),
                (b + 'mlp.fc2.weight', [dim, 4 * dim], 'param'),
                (b + 'mlp.fc2.bias', [dim], 'param'),
            ]
        if i < len(depths) - 1:
            d = f'{p}layers.{i}.downsample.'
            out += [(d + 'reduction.weight', [2 * dim, 4 * dim], 'param'),
                    (d + 'norm.weight', [4 * dim], 'param'),
                    (d + 'norm.bias', [4 * dim], 'param')]
    for i in range(len(depths)):
        out += [(f'{p}norm{i}.weight', [c * 2**i], 'param'),
                (f'{p}norm{i}.bias', [c * 2**i], 'param')]
    return out


def swin_mmdet(embed_dims: int, num_heads: Sequence[int]) -> List[Entry]:
    """mmdet 2.x/3.x SwinTransformer keys (K-Net's COCO Swin-L)."""
    p, c, out = 'backbone.', embed_dims, []
    out += [(p + 'patch_embed.projection.weight', [c, 3, 4, 4], 'param'),
            (p + 'patch_embed.projection.bias', [c], 'param'),
            (p + 'patch_embed.norm.weight', [c], 'param'),
            (p + 'patch_embed.norm.bias', [c], 'param')]
    table = (2 * WINDOW - 1)**2
    for i, (depth, heads) in enumerate(zip(DEPTHS, num_heads)):
        dim = c * 2**i
        for j in range(depth):
            b = f'{p}stages.{i}.blocks.{j}.'
            out += [
                (b + 'norm1.weight', [dim], 'param'),
                (b + 'norm1.bias', [dim], 'param'),
                (b + 'attn.w_msa.relative_position_bias_table',
                 [table, heads], 'param'),
                (b + 'attn.w_msa.relative_position_index',
                 [WINDOW**2, WINDOW**2], 'buffer'),
                (b + 'attn.w_msa.qkv.weight', [3 * dim, dim], 'param'),
                (b + 'attn.w_msa.qkv.bias', [3 * dim], 'param'),
                (b + 'attn.w_msa.proj.weight', [dim, dim], 'param'),
                (b + 'attn.w_msa.proj.bias', [dim], 'param'),
                (b + 'norm2.weight', [dim], 'param'),
                (b + 'norm2.bias', [dim], 'param'),
                (b + 'ffn.layers.0.0.weight', [4 * dim, dim], 'param'),
                (b + 'ffn.layers.0.0.bias', [4 * dim], 'param'),
                (b + 'ffn.layers.1.weight', [dim, 4 * dim], 'param'),
                (b + 'ffn.layers.1.bias', [dim], 'param'),
            ]
        if i < len(DEPTHS) - 1:
            d = f'{p}stages.{i}.downsample.'
            out += [(d + 'norm.weight', [4 * dim], 'param'),
                    (d + 'norm.bias', [4 * dim], 'param'),
                    (d + 'reduction.weight', [2 * dim, 4 * dim], 'param')]
    for i in range(len(DEPTHS)):
        out += [(f'{p}norm{i}.weight', [c * 2**i], 'param'),
                (f'{p}norm{i}.bias', [c * 2**i], 'param')]
    return out


def _updator(prefix: str, c: int = 256) -> List[Entry]:
    out = []
    for name, shape in (('dynamic_layer', [2 * c, c]),
                        ('input_layer', [2 * c, c]), ('input_gate', [c, c]),
                        ('update_gate', [c, c])):
        out += [(f'{prefix}{name}.weight', shape, 'param'),
                (f'{prefix}{name}.bias', shape[:1], 'param')]
    for name in ('norm_in', 'norm_out', 'input_norm_in', 'input_norm_out'):
        out += [(f'{prefix}{name}.weight', [c], 'param'),
                (f'{prefix}{name}.bias', [c], 'param')]
    out += [(f'{prefix}fc_layer.weight', [c, c], 'param'),
            (f'{prefix}fc_layer.bias', [c], 'param'),
            (f'{prefix}fc_norm.weight', [c], 'param'),
            (f'{prefix}fc_norm.bias', [c], 'param')]
    return out


def _link_group(prefix: str, suffix: str, c: int = 256,
                ff: int = 2048) -> List[Entry]:
    """The five modules of previous_type='update' ('_track') or
    previous_link='update_dynamic_cov' ('_link')."""
    a = f'{prefix}attention_previous_{suffix}.attn.'
    return (_updator(f'{prefix}attention_previous_update_{suffix}.', c) + [
        (a + 'in_proj_weight', [3 * c, c], 'param'),
        (a + 'in_proj_bias', [3 * c], 'param'),
        (a + 'out_proj.weight', [c, c], 'param'),
        (a + 'out_proj.bias', [c], 'param'),
        (f'{prefix}attention_previous_norm_{suffix}.weight', [c], 'param'),
        (f'{prefix}attention_previous_norm_{suffix}.bias', [c], 'param'),
        (f'{prefix}link_ffn_{suffix}.layers.0.0.weight', [ff, c], 'param'),
        (f'{prefix}link_ffn_{suffix}.layers.0.0.bias', [ff], 'param'),
        (f'{prefix}link_ffn_{suffix}.layers.1.weight', [c, ff], 'param'),
        (f'{prefix}link_ffn_{suffix}.layers.1.bias', [c], 'param'),
        (f'{prefix}link_ffn_norm_{suffix}.weight', [c], 'param'),
        (f'{prefix}link_ffn_norm_{suffix}.bias', [c], 'param'),
    ])


_FFN_LINK = re.compile(
    r'^roi_head\.mask_head\.\d+\.(attention_previous|attention_previous_norm'
    r'|link_ffn|link_ffn_norm)\.')
_VIDEO_ONLY = re.compile(r'^(track_head|embed_fcs|fc_embed)\.')


def deformable_neck(in_channels: Sequence[int]) -> List[Entry]:
    """MSDeformAttnPixelDecoder (release) keys, prefix ``neck.``."""
    p, c, out = 'neck.', 256, []
    for i, cin in enumerate(reversed(in_channels[1:])):
        out += [(f'{p}input_convs.{i}.conv.weight', [c, cin, 1, 1], 'param'),
                (f'{p}input_convs.{i}.conv.bias', [c], 'param'),
                (f'{p}input_convs.{i}.gn.weight', [c], 'param'),
                (f'{p}input_convs.{i}.gn.bias', [c], 'param')]
    heads, levels, points = 8, 3, 4
    for i in range(6):
        a = f'{p}encoder.layers.{i}.attentions.0.'
        out += [
            (a + 'sampling_offsets.weight', [heads * levels * points * 2, c],
             'param'),
            (a + 'sampling_offsets.bias', [heads * levels * points * 2],
             'param'),
            (a + 'attention_weights.weight', [heads * levels * points, c],
             'param'),
            (a + 'attention_weights.bias', [heads * levels * points],
             'param'),
            (a + 'value_proj.weight', [c, c], 'param'),
            (a + 'value_proj.bias', [c], 'param'),
            (a + 'output_proj.weight', [c, c], 'param'),
            (a + 'output_proj.bias', [c], 'param'),
        ]
        f = f'{p}encoder.layers.{i}.ffns.0.layers.'
        out += [(f + '0.0.weight', [1024, c], 'param'),
                (f + '0.0.bias', [1024], 'param'),
                (f + '1.weight', [c, 1024], 'param'),
                (f + '1.bias', [c], 'param')]
        for k in range(2):
            out += [(f'{p}encoder.layers.{i}.norms.{k}.weight', [c], 'param'),
                    (f'{p}encoder.layers.{i}.norms.{k}.bias', [c], 'param')]
    out += [(f'{p}level_encoding.weight', [levels, c], 'param'),
            (f'{p}lateral_convs.0.conv.weight', [c, in_channels[0], 1, 1],
             'param'),
            (f'{p}lateral_convs.0.gn.weight', [c], 'param'),
            (f'{p}lateral_convs.0.gn.bias', [c], 'param'),
            (f'{p}output_convs.0.conv.weight', [c, c, 3, 3], 'param'),
            (f'{p}output_convs.0.gn.weight', [c], 'param'),
            (f'{p}output_convs.0.gn.bias', [c], 'param'),
            (f'{p}mask_feature.weight', [c, c, 1, 1], 'param'),
            (f'{p}mask_feature.bias', [c], 'param')]
    return out


def derive(base: List[Entry],
           swin: List[Entry],
           widths: Sequence[int],
           update_links: bool = False,
           image_model: bool = False,
           num_classes: Optional[int] = None,
           neck: Optional[List[Entry]] = None) -> List[Entry]:
    """An R50 list with the Swin backbone, the FPN inputs at ``widths`` and
    optionally: 'update' + 'update_dynamic_cov' link modules instead of the
    'ffn' ones, the video-only modules dropped (image K-Net), another class
    count, another neck."""
    out = list(swin)
    lateral = re.compile(r'^neck\.lateral_convs\.(\d)\.conv\.weight$')
    inserted = set()
    for key, shape, kind in base:
        if key.startswith('backbone.'):
            continue
        if neck is not None and key.startswith('neck.'):
            if 'neck' not in inserted:
                out += neck
                inserted.add('neck')
            continue
        if (update_links or image_model) and _FFN_LINK.match(key):
            head = key.split('.')[2]
            if update_links and head not in inserted:
                prefix = f'roi_head.mask_head.{head}.'
                out += _link_group(prefix, 'track') + _link_group(
                    prefix, 'link')
                inserted.add(head)
            continue
        if image_model and _VIDEO_ONLY.match(key):
            continue
        m = lateral.match(key)
        if m:
            shape = [shape[0], widths[int(m.group(1))], 1, 1]
        if num_classes is not None and (
                key.endswith('.fc_cls.weight') or key.endswith('.fc_cls.bias')
                or key.startswith('rpn_head.conv_seg.')):
            shape = [num_classes] + shape[1:]
        out.append((key, shape, kind))
    return out


def write(name: str, entries: List[Entry], title: str, config: str,
          derivation: str) -> None:
    keys = [k for k, _, _ in entries]
    assert len(keys) == len(set(keys)), name
    lines = [
        f'# {title}', f'# config: {config}',
        f'# derived (see make_release_key_lists.py): {derivation}',
        '# format: <state_dict key>\t<shape>\t<kind: param|buffer>',
        f'# total state_dict entries: {len(entries)}'
    ]
    lines += [f'{k}\t[{", ".join(map(str, s))}]\t{kind}'
              for k, s, kind in entries]
    (HERE / f'{name}_keys.txt').write_text('\n'.join(lines) + '\n')


def _kind(entries: List[Entry]) -> List[Entry]:
    """The R50 lists mark params param(frozen)/param(trainable): the Swin
    models train every parameter, so keep the plain kind."""
    return [(k, s, 'buffer' if kind == 'buffer' else 'param')
            for k, s, kind in entries]


def main() -> None:
    kitti = _kind(read_list(HERE / 'kitti_r50_keys.txt'))
    vipseg = _kind(read_list(HERE / 'vipseg_r50_keys.txt'))
    ytvis = _kind(read_list(HERE / 'ytvis_r50_keys.txt'))
    widths = {n: [s['embed_dims'] * 2**i for i in range(4)]
              for n, s in SWIN.items()}
    diy = {n: swin_diy(**s) for n, s in SWIN.items()}
    vk = 'lxtGH/Video-K-Net '
    for n, tag in (('swin-b', 'swinb'), ('swin-l', 'swinl')):
        write(f'kitti_{tag}', derive(kitti, diy[n], widths[n],
                                     update_links=True),
              f'Video K-Net KITTI-STEP {n} (kernel fusion)',
              vk + 'configs/det/video_knet_kitti_step/video_knet_s3_'
              f'{tag}_rpn_1x_kitti_step_sigmoid_stride2_mask_embed_link_ffn_'
              'joint_update.py',
              'kitti_r50_keys.txt + SwinTransformerDIY, previous_type='
              "'update' + previous_link='update_dynamic_cov'")
        write(f'cityscapes_step_{tag}',
              derive(kitti, diy[n], widths[n], image_model=True),
              f'K-Net Cityscapes-STEP {n}',
              vk + f'configs/det/knet_cityscapes_step/knet_s3_{n[:4]}_'
              f'{n[-1]}_fpn.py',
              'kitti_r50_keys.txt (image K-Net part) + SwinTransformerDIY')
    write('vipseg_swinb', derive(vipseg, diy['swin-b'], widths['swin-b']),
          'Video K-Net VIPSeg swin-b',
          vk + 'configs/det/video_knet_vipseg/video_knet_s3_swin_b_rpn_'
          'vipseg_mask_embed_link_ffn_joint_train_8e.py',
          'vipseg_r50_keys.txt + SwinTransformerDIY')
    write('ytvis_swinb', derive(ytvis, diy['swin-b'], widths['swin-b']),
          'Video K-Net YouTube-VIS 2019 swin-b',
          vk + 'configs/video_knet_vis/video_knet_vis/knet_track_swinb_1x_'
          'youtubevis_8e.py', 'ytvis_r50_keys.txt + SwinTransformerDIY')
    write('coco_swinb_deformable',
          derive(kitti, diy['swin-b'], widths['swin-b'], image_model=True,
                 num_classes=80,
                 neck=deformable_neck(widths['swin-b'])),
          'K-Net COCO instance swin-b, deformable FPN',
          vk + 'configs/det/coco/knet_s3_swin-b_deformable_fpn_ms-3x_'
          'coco.py', 'kitti_r50_keys.txt (image K-Net part, 80 classes) + '
          'SwinTransformerDIY + MSDeformAttnPixelDecoder')
    write('coco_panoptic_swinl',
          derive(kitti, swin_mmdet(**SWIN['swin-l']), widths['swin-l'],
                 image_model=True, num_classes=133),
          'K-Net COCO panoptic swin-l (mmdet SwinTransformer)',
          'ZwwWayne/K-Net configs/det/knet/knet_s3_swin-l_fpn_ms-3x_16x2_'
          'coco-panoptic.py', 'kitti_r50_keys.txt (image K-Net part, 133 '
          'classes) + mmdet 2.x SwinTransformer')
    write('coco_panoptic_swinb',
          derive(kitti, diy['swin-b'], widths['swin-b'], image_model=True,
                 num_classes=133),
          'K-Net COCO panoptic swin-b (Video K-Net code base: '
          'SwinTransformerDIY; the VIPSeg swin-b initialisation)',
          vk + 'configs/det/coco/knet_s3_r50_fpn_ms-3x_coco-panoptic.py '
          'with the swin-b backbone of the VIPSeg swin-b config',
          'kitti_r50_keys.txt (image K-Net part, 133 classes) + '
          'SwinTransformerDIY')


if __name__ == '__main__':
    main()
