"""A misspelt key anywhere in a model config fails the build, naming the key.

Every dict of a model config is a constructor's keyword arguments (typed
modules, and the untyped bundles: ``test_cfg``, ``merge_stuff_thing``,
``feat_transform_cfg``, the deformable encoder's layer configs, ...). The
test adds an unknown key to one dict at a time and builds the model: the
build must raise and the message must name the key. ``init_cfg`` dicts are
read by ``init_weights``, not at build time, and are left out.

One real config per model family is built; every (place, type) of a dict
that any config under ``configs/`` or ``tests/data/`` has is covered by one
of them (``test_families_cover_every_config``), so the builds are not
repeated for dicts the families share.
"""
import copy
from pathlib import Path
from typing import Dict, Iterator, List, Tuple

import pytest

pytest.importorskip('mmdet')

from mmengine.config import Config  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
#: one config per model family, lightest first (the first one holding a
#: given dict tests it)
FAMILIES = [
    'configs/quickstart/video_knet_quickstart.py',
    'configs/video_knet_kitti.py',
    'configs/video_knet_vps/video_knet_s3_swinb_kf_kitti_step.py',
    'configs/video_knet_vis/video_knet_vis_r50_1x_youtube-vis-2019.py',
    'configs/knet/knet_s3_r50_fpn_1x_coco-panoptic.py',
    'configs/knet/knet_s3_r50_fpn_ms-3x_coco.py',
    'configs/knet/knet_s3_r50_deformable-fpn_1x_coco-panoptic.py',
]
BAD_KEY = 'misspelt_key'
Place = Tuple[object, ...]


def _load(path: str) -> Config:
    return Config.fromfile(str(ROOT / path), import_custom_modules=False)


def _dicts(node, place: Place = ()) -> Iterator[Tuple[Place, dict]]:
    """Every dict of a config tree with its place (keys / list indices),
    ``init_cfg`` subtrees left out."""
    if isinstance(node, dict):
        yield place, node
        for key, value in node.items():
            if key != 'init_cfg':
                yield from _dicts(value, place + (key, ))
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            yield from _dicts(value, place + (i, ))


def _kind(place: Place, node: dict) -> Tuple[str, str]:
    """What a dict is, independent of the stage it configures."""
    generic = ['*' if isinstance(p, int) and place[i - 1] == 'mask_head'
               else str(p) for i, p in enumerate(place)]
    return '.'.join(generic) or '<model>', str(node.get('type'))


def _cases() -> List[Tuple[str, Place]]:
    seen, cases = set(), []
    for path in FAMILIES:
        for place, node in _dicts(_load(path).model):
            kind = _kind(place, node)
            if kind not in seen:
                seen.add(kind)
                cases.append((path, place))
    return cases


CASES = _cases()


def _config_paths() -> List[Path]:
    paths = sorted(p for p in (ROOT / 'configs').rglob('*.py')
                   if '_base_' not in p.parts)
    paths += sorted(p for p in (ROOT / 'tests' / 'data').glob('*.py')
                    if p.name not in ('__init__.py', 'toy_modules.py'))
    return paths


def test_families_cover_every_config():
    covered = {_kind(place, node) for path in FAMILIES
               for place, node in _dicts(_load(path).model)}
    missing: Dict[Tuple[str, str], str] = {}
    for path in _config_paths():
        cfg = Config.fromfile(str(path), import_custom_modules=False)
        if cfg.get('model') is None or cfg.model.get('type') == 'ToyRegressor':
            continue
        for place, node in _dicts(cfg.model):
            kind = _kind(place, node)
            if kind not in covered:
                missing.setdefault(kind, str(path.relative_to(ROOT)))
    assert not missing, f'add a family holding these to FAMILIES: {missing}'


@pytest.fixture(scope='module')
def build():
    from mmengine.registry import init_default_scope

    from mmdet.registry import MODELS
    from knet.utils.setup_env import register_all_modules
    register_all_modules(init_default_scope=False)
    init_default_scope('mmdet')
    return MODELS.build


@pytest.mark.parametrize(
    'path,place', CASES,
    ids=[f'{Path(p).stem}:{_kind(pl, {})[0]}' for p, pl in CASES])
def test_misspelt_key_fails_naming_it(build, path, place):
    model = copy.deepcopy(_load(path).model)
    if model.get('backbone') is not None:
        model.backbone.init_cfg = None  # nothing to download
    node = model
    for step in place:
        node = node[step]
    node[BAD_KEY] = 1
    with pytest.raises(Exception) as info:
        build(model)
    assert BAD_KEY in str(info.value), (
        f'{".".join(map(str, place))} ({node.get("type")}): '
        f'{type(info.value).__name__}: {info.value}')


@pytest.mark.parametrize('key', ['train_cfg', 'test_cfg'])
def test_model_level_train_test_cfg_is_refused(build, key):
    """mmdet detectors take train_cfg / test_cfg; K-Net's heads hold their
    own, so a model-level one (an mmdet habit) would be silently ignored."""
    model = copy.deepcopy(_load(FAMILIES[0]).model)
    model[key] = dict(max_per_img=5)
    with pytest.raises(TypeError, match=key):
        build(model)
    model[key] = None  # what mmdet's init_detector writes: accepted
    build(model)
