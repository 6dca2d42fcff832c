"""Import a script under tools/ as a module (tools/ is not a package)."""
import functools
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@functools.lru_cache(maxsize=None)
def load_tool(rel: str):
    """The script ``tools/<rel>`` loaded once as a module (not registered in
    ``sys.modules``: nothing needs to import it by name)."""
    path = ROOT / 'tools' / rel
    spec = importlib.util.spec_from_file_location('tool_' + path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
