"""Registration of every knet module into MMDetection's registries."""
import importlib

#: The subpackages whose import registers modules; configs list the same
#: names in ``custom_imports`` (see ``configs/_base_/default_runtime.py``).
REGISTERING_PACKAGES = ('knet.datasets', 'knet.models',
                        'knet.evaluation.metrics', 'knet.visualization',
                        'knet.engine')


def register_all_modules(init_default_scope: bool = True) -> None:
    """Register mmdet's and knet's modules; optionally set scope ``mmdet``."""
    from mmdet.utils import register_all_modules as mmdet_register
    mmdet_register(init_default_scope=init_default_scope)
    for name in REGISTERING_PACKAGES:
        importlib.import_module(name)
