"""Checked checkpoint loading (knet.models.utils.checkpoint_loading) and
its users: KNetRunner (load_from / resume) and knet.apis.init_model."""
import copy
import logging
from collections import OrderedDict
from pathlib import Path

import pytest
import torch

pytest.importorskip('mmdet')

from mmengine.config import Config  # noqa: E402
from mmengine.logging import MMLogger  # noqa: E402

from mmdet.registry import MODELS  # noqa: E402
from knet.models.utils import (CheckpointMismatch,  # noqa: E402
                               load_model_checkpoint,
                               load_state_dict_checked, read_checkpoint)
from knet.utils.cli import UserError  # noqa: E402
from knet.utils.setup_env import register_all_modules  # noqa: E402

register_all_modules(init_default_scope=True)
CFG = Path(__file__).resolve().parents[1] / 'data' / 'video_knet_kitti_tiny.py'


def _model(**overrides):
    cfg = Config.fromfile(str(CFG))
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.update(overrides)
    torch.manual_seed(0)
    return MODELS.build(model_cfg)


@pytest.fixture(scope='module')
def video_sd():
    """A trained-looking video checkpoint: the tiny model's tensors + 1."""
    return OrderedDict((k, v + 1 if v.is_floating_point() else v)
                       for k, v in _model().state_dict().items())


def _image_part(model, sd):
    video_only = set(model.video_only_state_keys())
    return OrderedDict((k, v) for k, v in sd.items() if k not in video_only)


def _release_layout(sd):
    """Our R50 state dict in the release's names (neck list unpacked, the
    semantic FPN back inside the kernel head)."""
    out = OrderedDict()
    for k, v in sd.items():
        if k.startswith('neck.0.'):
            k = 'neck.' + k[len('neck.0.'):]
        elif k.startswith('neck.1.'):
            k = 'rpn_head.localization_fpn.' + k[len('neck.1.'):]
        out[k] = v
    return out


class _Capture(logging.Handler):

    def __init__(self):
        super().__init__()
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


@pytest.fixture
def log():
    logger = MMLogger.get_instance('knet_test_loading')
    handler = _Capture()
    logger.addHandler(handler)
    yield logger, handler.messages
    logger.removeHandler(handler)


def test_video_only_keys_are_the_link_and_embedding_modules():
    model = _model()
    keys = model.video_only_state_keys()
    assert {k.split('.')[0] for k in keys} == {
        'track_head', 'embed_fcs', 'fc_embed', 'roi_head'}
    heads = {'.'.join(k.split('.')[3:4]) for k in keys
             if k.startswith('roi_head.')}
    assert heads == {'attention_previous', 'attention_previous_norm',
                     'link_ffn', 'link_ffn_norm'}
    kf = _model(roi_head=dict(mask_head=dict(
        previous_type='update', previous_link='update_dynamic_cov')))
    heads = {k.split('.')[3] for k in kf.video_only_state_keys()
             if k.startswith('roi_head.')}
    assert heads == {
        f'{m}_{s}' for s in ('track', 'link')
        for m in ('attention_previous_update', 'attention_previous',
                  'attention_previous_norm', 'link_ffn', 'link_ffn_norm')}
    assert set(model.class_state_keys()) == {
        'rpn_head.conv_seg.weight', 'rpn_head.conv_seg.bias'} | {
            f'roi_head.mask_head.{i}.fc_cls.{p}' for i in range(3)
            for p in ('weight', 'bias')}


def test_exact_checkpoint_loads(video_sd):
    model = _model()
    report = load_state_dict_checked(model, video_sd)
    assert report.exact
    for k, v in model.state_dict().items():
        assert torch.equal(v, video_sd[k]), k


@pytest.mark.parametrize('damage', ['missing', 'unexpected', 'shape'])
def test_mismatch_is_refused_with_one_line_naming_the_keys(video_sd, damage):
    sd = OrderedDict(video_sd)
    if damage == 'missing':
        del sd['backbone.layer2.0.conv1.weight']
        expect = '1 missing (backbone.layer2.0.conv1.weight)'
    elif damage == 'unexpected':
        sd['neck.2.conv.weight'] = torch.zeros(1)
        expect = '1 unexpected (neck.2.conv.weight)'
    else:
        sd['neck.0.fpn_convs.0.conv.weight'] = torch.zeros(64, 64, 1, 1)
        expect = ('neck.0.fpn_convs.0.conv.weight: checkpoint [64, 64, 1, '
                  '1] vs model [64, 64, 3, 3]')
    model = _model()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(CheckpointMismatch) as e:
        load_state_dict_checked(model, sd, source='ckpt.pth')
    msg = str(e.value)
    assert isinstance(e.value, UserError)
    assert '\n' not in msg and msg.startswith('ckpt.pth: ')
    assert expect in msg and 'strict' in msg
    # nothing was loaded
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k]), k


def test_not_strict_loads_what_fits(video_sd, log):
    logger, messages = log
    sd = OrderedDict(video_sd)
    del sd['backbone.layer2.0.conv1.weight']
    sd['junk.weight'] = torch.zeros(1)
    model = _model()
    fresh = model.state_dict()['backbone.layer2.0.conv1.weight'].clone()
    report = load_state_dict_checked(model, sd, strict=False, logger=logger)
    assert report.missing == ['backbone.layer2.0.conv1.weight']
    assert report.unexpected == ['junk.weight']
    assert torch.equal(model.state_dict()['neck.0.fpn_convs.0.conv.weight'],
                       sd['neck.0.fpn_convs.0.conv.weight'])
    assert torch.equal(
        model.state_dict()['backbone.layer2.0.conv1.weight'], fresh)
    assert any('not strict' in m and 'junk.weight' in m for m in messages)


def test_image_knet_initialises_a_video_model(video_sd, log):
    """The video configs' load_from: an image K-Net checkpoint (no link or
    embedding modules, possibly another label set) is a logged partial
    load."""
    logger, messages = log
    model = _model()
    image = _image_part(model, video_sd)
    # trained on another label set: 25 classes instead of 19
    for key in model.class_state_keys():
        image[key] = torch.randn(25, *image[key].shape[1:])
    fresh = {k: v.clone() for k, v in model.state_dict().items()}
    report = load_state_dict_checked(model, image, logger=logger)
    assert set(report.missing) == set(model.video_only_state_keys())
    state = model.state_dict()
    for k in state:
        if k in report.missing or k in model.class_state_keys():
            assert torch.equal(state[k], fresh[k]), k  # initialised
        else:
            assert torch.equal(state[k], image[k]), k  # loaded
    msg = [m for m in messages if 'image K-Net weights' in m]
    assert len(msg) == 1
    for module in ('track_head', 'embed_fcs', 'fc_embed',
                   'roi_head.mask_head.*.attention_previous',
                   'roi_head.mask_head.*.link_ffn_norm', 'rpn_head.conv_seg',
                   'roi_head.mask_head.*.fc_cls'):
        assert module in msg[0], module


def test_image_rule_refuses_other_damage(video_sd):
    model = _model()
    image = _image_part(model, video_sd)
    # a broken video checkpoint: some video-only keys but not all
    partial = OrderedDict(video_sd)
    del partial['roi_head.mask_head.2.link_ffn_norm.weight']
    with pytest.raises(CheckpointMismatch, match='link_ffn_norm.weight'):
        load_state_dict_checked(_model(), partial)
    # an image checkpoint of another model: a non-class shape differs
    other = OrderedDict(image)
    other['neck.0.lateral_convs.0.conv.weight'] = torch.zeros(64, 32, 1, 1)
    with pytest.raises(CheckpointMismatch, match='lateral_convs'):
        load_state_dict_checked(_model(), other)
    # ... or lacks an image key
    other = OrderedDict(image)
    del other['rpn_head.init_kernels.weight']
    with pytest.raises(CheckpointMismatch, match='init_kernels'):
        load_state_dict_checked(_model(), other)
    # an image model has no partial rule: missing keys are refused
    from tests.models.parity.tiny_knet import TINY_KNET
    knet = MODELS.build(copy.deepcopy(TINY_KNET))
    assert knet.video_only_state_keys() == []
    sd = OrderedDict((k, v) for k, v in knet.state_dict().items()
                     if 'conv_seg' not in k)
    with pytest.raises(CheckpointMismatch, match='2 missing'):
        load_state_dict_checked(knet, sd)


def test_release_checkpoint_file_is_converted(video_sd, tmp_path, log):
    logger, messages = log
    path = tmp_path / 'release.pth'
    torch.save({'state_dict': _release_layout(video_sd),
                'meta': {'mmdet_version': '2.18.0', 'epoch': 12}}, path)
    model = _model()
    ckpt = load_model_checkpoint(model, str(path), logger=logger)
    assert ckpt['meta']['epoch'] == 12
    for k, v in model.state_dict().items():
        assert torch.equal(v, video_sd[k]), k
    assert any('original release' in m and 'converted' in m
               for m in messages)
    # module. prefixes (data-parallel) of our own checkpoints are dropped
    ours = tmp_path / 'ours.pth'
    torch.save({'state_dict': {'module.' + k: v
                               for k, v in video_sd.items()}}, ours)
    load_model_checkpoint(_model(), str(ours))


def test_unreadable_checkpoints_are_one_line_errors(tmp_path):
    garbage = tmp_path / 'garbage.pth'
    garbage.write_bytes(b'\x80not a pickle at all' * 100)
    listed = tmp_path / 'list.pth'
    torch.save([1, 2], listed)
    mixed = tmp_path / 'mixed.pth'
    torch.save({'state_dict': {'a': torch.zeros(1), 'b': 3}}, mixed)
    for path, what in ((tmp_path / 'none.pth', 'not found'),
                       (garbage, 'cannot be read'), (listed, 'a list'),
                       (mixed, 'not tensors')):
        with pytest.raises(UserError) as e:
            read_checkpoint(str(path))
        msg = str(e.value)
        assert str(path) in msg and what in msg and '\n' not in msg
        assert len(msg) < len(str(path)) + 250


def test_runner_load_from_is_strict_unless_configured(video_sd, tmp_path):
    from knet.engine.runner import KNetRunner
    bad = OrderedDict(video_sd)
    del bad['rpn_head.init_kernels.weight']
    path = tmp_path / 'bad.pth'
    torch.save({'state_dict': bad}, path)
    runner = KNetRunner(model=_model(), work_dir=str(tmp_path / 'w1'),
                        default_scope='mmdet', cfg=dict(load_strict=True))
    with pytest.raises(CheckpointMismatch, match='init_kernels'):
        runner.load_checkpoint(str(path))
    runner = KNetRunner(model=_model(), work_dir=str(tmp_path / 'w2'),
                        default_scope='mmdet', cfg=dict(load_strict=False))
    runner.load_checkpoint(str(path))
    assert torch.equal(runner.model.state_dict()['fc_embed.weight'],
                       video_sd['fc_embed.weight'])
    # a release checkpoint through load_from
    release = tmp_path / 'release.pth'
    torch.save({'state_dict': _release_layout(video_sd)}, release)
    runner = KNetRunner(model=_model(), work_dir=str(tmp_path / 'w3'),
                        default_scope='mmdet', cfg=dict())
    runner.load_checkpoint(str(release))
    for k, v in runner.model.state_dict().items():
        assert torch.equal(v, video_sd[k]), k


def test_init_model_strict_and_release(video_sd, tmp_path):
    from knet.apis import init_model
    release = tmp_path / 'release.pth'
    torch.save({'state_dict': _release_layout(video_sd)}, release)
    model = init_model(CFG, str(release))
    for k, v in model.state_dict().items():
        assert torch.equal(v, video_sd[k]), k
    bad = OrderedDict(video_sd)
    bad['track_head.fcs.0.weight'] = torch.zeros(3, 3)
    path = tmp_path / 'bad.pth'
    torch.save({'state_dict': bad}, path)
    with pytest.raises(CheckpointMismatch, match='track_head.fcs.0.weight'):
        init_model(CFG, str(path))
    init_model(CFG, str(path), strict=False)
