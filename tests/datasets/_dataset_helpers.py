"""Shared helpers for the dataset tests (building datasets from configs)."""
import copy
import importlib.util
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CONFIGS = REPO / 'configs' / '_base_' / 'datasets'


def register() -> None:
    from mmdet.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    import knet.datasets  # noqa: F401


def load_config(name: str):
    from mmengine.config import Config
    return Config.fromfile(str(CONFIGS / name))


def build(dataset_cfg, **overrides):
    """Build a dataset config (deep-copied) with keys overridden."""
    from mmdet.registry import DATASETS
    register()
    cfg = copy.deepcopy(dataset_cfg)
    cfg.update(overrides)
    return DATASETS.build(cfg)


def run_script(relpath: str, argv) -> int:
    """Import a script by path and call its ``main(argv)``."""
    path = REPO / relpath
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main([str(a) for a in argv])


#: No augmentation: load the frames of a sample and pack them.
def plain_pipeline(loader: dict, frame_range: int = 2):
    return [
        dict(type='UniformRefFrameSample', num_ref_imgs=1,
             frame_range=frame_range, filter_key_img=True),
        dict(type='TransformBroadcaster', share_random_params=True,
             transforms=[dict(type='LoadImageFromFile'), loader]),
        dict(type='PackVideoPanopticInputs'),
    ]


def with_homography(pipeline):
    """The config's pipeline, packing ``homography_matrix`` too."""
    pipeline = copy.deepcopy(pipeline)
    assert pipeline[-1]['type'] == 'PackVideoPanopticInputs'
    pipeline[-1]['meta_keys'] = ('homography_matrix', )
    return pipeline
