"""Import every module of a package and re-export its public names.

Used by the registering subpackages (``knet.models.heads`` ...) so that
adding a module registers its classes without editing ``__init__.py``.
"""
import importlib
import pkgutil
from typing import Dict, List


def import_submodules(package: str, path: List[str],
                      namespace: Dict[str, object]) -> List[str]:
    """Import ``package``'s submodules; copy each one's ``__all__`` into
    ``namespace`` (the package's globals). Returns the exported names."""
    exported: List[str] = []
    for info in sorted(pkgutil.iter_modules(path), key=lambda i: i.name):
        if info.name.startswith('_'):
            continue
        module = importlib.import_module(f'{package}.{info.name}')
        for name in getattr(module, '__all__', ()):
            namespace[name] = getattr(module, name)
            exported.append(name)
    return exported
