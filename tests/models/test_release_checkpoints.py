"""Every released model converts and loads strictly into our config.

For each release config, a state dict with exactly the original model's keys
and shapes (tests/data/release_keys, see make_release_key_lists.py there) is
converted; the result must fit the model of our config exactly (names and
shapes, torch's strict load) and carry every source tensor over: the same
tensor object, except the Swin patch-merging tensors, which are the source
values in the permuted channel order. Models are built with meta parameters
(shapes only): the suite runs on 2 cores.
"""
import re

import pytest
import torch

from knet.models.utils import (compare_state_dict, convert_state_dict,
                               is_release_layout, swin_merge_permutation)

pytest.importorskip('mmdet')

from tests.models._release_keys import (build_config_model,  # noqa: E402
                                        read_key_list, release_state_dict)

# release model (key list) -> our config
RELEASE_CONFIGS = [
    ('kitti_swinb', 'video_knet_vps/video_knet_s3_swinb_kf_kitti_step.py'),
    ('kitti_swinl', 'video_knet_vps/video_knet_s3_swinl_kf_kitti_step.py'),
    ('vipseg_swinb', 'video_knet_vps/video_knet_s3_swinb_vipseg.py'),
    ('ytvis_swinb',
     'video_knet_vis/video_knet_vis_swin-b_1x_youtube-vis-2019.py'),
    ('cityscapes_step_swinb', 'knet/knet_s3_swin-b_fpn_8e_cityscapes-step.py'),
    ('cityscapes_step_swinl', 'knet/knet_s3_swin-l_fpn_8e_cityscapes-step.py'),
    ('coco_swinb_deformable',
     'knet/knet_s3_swin-b_deformable-fpn_ms-3x_coco.py'),
    ('coco_panoptic_swinl', 'knet/knet_s3_swin-l_fpn_ms-3x_coco-panoptic.py'),
    ('coco_panoptic_swinb', 'knet/knet_s3_swin-b_fpn_ms-3x_coco-panoptic.py'),
    # the R50 models (key lists recorded from the original code)
    ('kitti_r50', 'video_knet_kitti.py'),
    ('vipseg_r50', 'video_knet_vps/video_knet_s3_r50_vipseg.py'),
    ('ytvis_r50', 'video_knet_vis/video_knet_vis_r50_1x_youtube-vis-2019.py'),
]
MERGE = re.compile(r'^backbone\.layers\.\d+\.downsample\.')


@pytest.mark.parametrize('name,config', RELEASE_CONFIGS,
                         ids=[n for n, _ in RELEASE_CONFIGS])
def test_release_checkpoint_loads_strictly(name, config):
    src = release_state_dict(name)
    assert is_release_layout(src)
    new, unmapped = convert_state_dict(src)
    assert unmapped == [] and len(new) == len(src)

    model = build_config_model(config)
    report = compare_state_dict(model.state_dict(), new)
    assert report.exact, report.summary()
    # torch's own strict check (names and shapes); assign: meta model
    model.load_state_dict(new, strict=True, assign=True)

    # every source tensor carried over: the same object, or (patch
    # merging) the same values in our channel order
    by_source = dict(zip(src, new.values()))
    for key, value in src.items():
        out = by_source[key]
        if MERGE.match(key):
            perm = swin_merge_permutation(value.shape[-1] // 4)
            assert torch.equal(out, value[..., perm]), key
            # a permutation: every value kept, the inverse restores them
            back = torch.empty_like(out)
            back[..., perm] = out
            assert torch.equal(back, value), key
        else:
            assert out is value, key


def test_key_lists_hold_the_release_structure():
    """Sanity of the lists: Swin-B/L sizes, one downsample per stage but
    the last, the KITTI-STEP Swin models' two link paths in every stage."""
    kitti = read_key_list('kitti_swinb')
    n_params = sum(torch.Size(s).numel() for k, s, _ in kitti
                   if k.startswith('backbone.') and 'index' not in k)
    assert 86_000_000 < n_params < 88_000_000  # Swin-B without its head
    swinl = read_key_list('cityscapes_step_swinl')
    n_params = sum(torch.Size(s).numel() for k, s, _ in swinl
                   if k.startswith('backbone.') and 'index' not in k)
    assert 193_000_000 < n_params < 197_000_000  # Swin-L
    keys = [k for k, _, _ in kitti]
    assert sum('.downsample.reduction.' in k for k in keys) == 3
    for stage in range(3):
        for module in ('attention_previous_update_track',
                       'attention_previous_update_link',
                       'link_ffn_norm_track', 'link_ffn_norm_link'):
            assert any(k.startswith(f'roi_head.mask_head.{stage}.{module}.')
                       for k in keys)
    assert not any('.attention_previous.' in k for k in keys)


def test_layout_detection():
    ours = {'neck.0.lateral_convs.0.conv.weight': torch.zeros(1),
            'backbone.stages.0.blocks.0.norm1.weight': torch.zeros(1)}
    assert not is_release_layout(ours)
    assert is_release_layout({'neck.lateral_convs.0.conv.weight': 0})
    assert is_release_layout({'rpn_head.localization_fpn.x.weight': 0})
    assert is_release_layout(
        {'backbone.layers.0.blocks.0.attn.qkv.weight': 0})
    assert is_release_layout({'module.neck.lateral_convs.0.conv.weight': 0})
    # K-Net's COCO Swin-L: mmdet Swin names, but the release's heads
    assert is_release_layout(
        {'backbone.stages.0.blocks.0.norm1.weight': 0,
         'rpn_head.localization_fpn.conv_pred.conv.weight': 0})
    # meta: mmdet 2.x wrote it / our converter wrote it
    assert is_release_layout({'backbone.conv1.weight': 0},
                             {'mmdet_version': '2.18.0'})
    assert not is_release_layout({'neck.lateral_convs.0.conv.weight': 0},
                                 {'converter': 'knet_to_mmdet3'})
    # ours with a stray release-style key: not converted (the stray key is
    # then reported as unexpected by the strict load)
    assert not is_release_layout(dict(ours, **{'neck.extra.weight': 0}))


# loading into meta parameters copies nothing: torch says so per tensor
@pytest.mark.filterwarnings('ignore:for .* meta parameter')
@pytest.mark.parametrize('image,video', [
    ('cityscapes_step_swinb',
     'video_knet_vps/video_knet_s3_swinb_kf_kitti_step.py'),
    ('cityscapes_step_swinl',
     'video_knet_vps/video_knet_s3_swinl_kf_kitti_step.py'),
    ('coco_panoptic_swinb', 'video_knet_vps/video_knet_s3_swinb_vipseg.py'),
])
def test_release_image_knet_initialises_the_video_config(image, video):
    """The release's recipe: a video config's load_from is the image
    K-Net it starts from. Its release checkpoint passes the strict check as
    the logged partial load (video-only modules and, for COCO -> VIPSeg,
    the class layers keep their initialisation)."""
    from knet.models.utils import load_state_dict_checked
    model = build_config_model(video)
    new, _ = convert_state_dict(release_state_dict(image))
    report = load_state_dict_checked(model, new, strict=True)
    assert set(report.missing) == set(model.video_only_state_keys())
    assert {k for k, _, _ in report.mismatched} <= set(
        model.class_state_keys())
    assert bool(report.mismatched) == image.startswith('coco')


def test_instance_knet_with_another_neck_is_refused_for_youtube_vis():
    """The release's COCO Swin-B is a deformable-FPN model; the YouTube-VIS
    Swin-B config has an FPN: not a partial load but another model (the
    release loaded it non-strictly, leaving the FPN random)."""
    from knet.models.utils import CheckpointMismatch, load_state_dict_checked
    model = build_config_model(
        'video_knet_vis/video_knet_vis_swin-b_1x_youtube-vis-2019.py')
    new, _ = convert_state_dict(release_state_dict('coco_swinb_deformable'))
    with pytest.raises(CheckpointMismatch, match='neck.0.'):
        load_state_dict_checked(model, new, strict=True)
