"""Every module in this package is imported (registering its classes)."""
from knet.utils.autoimport import import_submodules

__all__ = import_submodules(__name__, __path__, globals())
