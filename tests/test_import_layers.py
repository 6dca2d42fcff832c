"""knet's subpackages import each other one way (read statically, with ast).

The layers, lowest first (a module may import its own part and lower
layers only; the parts of ``knet.models`` may import each other as long as
no cycle forms):

    utils, version      stdlib helpers every layer may use (``UserError``,
                        sub-module auto-import)
    formats             on-disk encodings, pure NumPy
    evaluation.functional, utils.cli (the command-line runner: it opens the
                        run record of ``formats.io``)
    evaluation.offline, evaluation.writers
    evaluation.metrics, datasets, visualization
    models.*            (models.utils: checkpoint reading and conversion)
    engine, deployment  runner, hooks, runner set-up for the tools; ONNX
                        export and the ONNX Runtime backend
    apis                init_model and inference
    tools/ (outside knet: no knet module imports it)

``knet.utils.register_all_modules`` imports the registering subpackages by
name when it is called (as ``mmdet.utils.register_all_modules`` does); that
call-time registration is not a static import and not listed here.
"""
import ast
from collections import defaultdict
from pathlib import Path
from typing import Dict, List, Optional, Set, Tuple

ROOT = Path(__file__).resolve().parents[1]
KNET = ROOT / 'knet'

#: rank of each part; a part imports parts of lower rank (or itself).
LAYERS: Dict[str, int] = {
    'knet.utils': 0,
    'knet.version': 0,
    'knet.formats': 1,
    'knet.evaluation.functional': 2,
    'knet.utils.cli': 2,
    'knet.evaluation.offline': 3,
    'knet.evaluation.writers': 3,
    'knet.evaluation.metrics': 4,
    'knet.evaluation': 4,  # the package's __init__ (imports none of them)
    'knet.datasets': 4,
    'knet.visualization': 4,
    'knet.models': 5,
    'knet.engine': 6,
    'knet.deployment': 6,
    'knet.apis': 7,
}
#: parts whose sub-packages are nodes of their own (same rank, acyclic)
SPLIT = ('knet.models', 'knet.evaluation')
#: single modules that are nodes of their own (in LAYERS)
MODULE_NODES = ('knet.utils.cli', )


def part_of(module: str) -> Optional[str]:
    """The graph node of a dotted module name (None outside knet)."""
    parts = module.split('.')
    if parts[0] != 'knet' or len(parts) < 2:
        return None
    for node in MODULE_NODES:
        if module == node or module.startswith(node + '.'):
            return node
    head = '.'.join(parts[:2])
    if head in SPLIT and len(parts) > 2 and (KNET / parts[1] /
                                            parts[2]).is_dir():
        return '.'.join(parts[:3])
    return head


def rank_of(node: str) -> Optional[int]:
    for name in (node, '.'.join(node.split('.')[:2])):
        if name in LAYERS:
            return LAYERS[name]
    return None


def module_imports() -> List[Tuple[str, str, str]]:
    """(importing module, imported module, file) for every import in knet/,
    relative imports resolved, imports inside functions included."""
    found = []
    for path in sorted(KNET.rglob('*.py')):
        rel = path.relative_to(ROOT).with_suffix('')
        module = '.'.join(rel.parts)
        is_pkg = path.name == '__init__.py'
        if is_pkg:
            module = module[:-len('.__init__')]
        package = module if is_pkg else module.rsplit('.', 1)[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split('.')
                    base = base[:len(base) - node.level + 1]
                    target = '.'.join(base + ([node.module]
                                              if node.module else []))
                else:
                    target = node.module
                targets = [target]
            else:
                continue
            found += [(module, t, str(path.relative_to(ROOT)))
                      for t in targets]
    return found


def part_graph() -> Tuple[Dict[str, Set[str]], Dict[Tuple[str, str], str]]:
    """Edges between graph nodes and one file witnessing each edge."""
    edges: Dict[str, Set[str]] = defaultdict(set)
    witness: Dict[Tuple[str, str], str] = {}
    for src, dst, path in module_imports():
        a, b = part_of(src), part_of(dst)
        if a and b and a != b:
            edges[a].add(b)
            witness.setdefault((a, b), path)
    return edges, witness


def find_cycle(edges: Dict[str, Set[str]]) -> Optional[List[str]]:
    state: Dict[str, int] = {}  # 1 on the stack, 2 done
    stack: List[str] = []

    def visit(node: str) -> Optional[List[str]]:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_the_graph_is_read():
    edges, _ = part_graph()
    # sanity: known edges are seen (relative and absolute imports)
    assert 'knet.formats' in edges['knet.evaluation.functional']
    assert 'knet.models.layers' in edges['knet.models.heads']
    assert 'knet.models.utils' in edges['knet.engine']


def test_no_import_cycle_between_subpackages():
    edges, witness = part_graph()
    cycle = find_cycle(edges)
    assert cycle is None, 'import cycle: ' + ' -> '.join(cycle) + ' (' + \
        ', '.join(witness[(a, b)] for a, b in zip(cycle, cycle[1:])) + ')'


def test_every_part_has_a_layer():
    edges, _ = part_graph()
    nodes = set(edges) | {n for targets in edges.values() for n in targets}
    nodes |= {part_of('knet.' + p.name) for p in KNET.iterdir()
              if (p.is_dir() and (p / '__init__.py').exists())
              or p.suffix == '.py' and p.name != '__init__.py'}
    unplaced = sorted(n for n in nodes if n and rank_of(n) is None)
    assert not unplaced, f'give these a layer in LAYERS: {unplaced}'


def test_imports_point_down_the_layers():
    edges, witness = part_graph()
    upward = []
    for a in sorted(edges):
        for b in sorted(edges[a]):
            ra, rb = rank_of(a), rank_of(b)
            if ra is None or rb is None:
                continue  # test_every_part_has_a_layer reports it
            same_split = any(a.startswith(s + '.') and b.startswith(s + '.')
                             and ra == rb for s in ('knet.models', ))
            if rb < ra or same_split:
                continue
            upward.append(f'{a} -> {b} ({witness[(a, b)]})')
    assert not upward, 'imports against the layers: ' + '; '.join(upward)


def test_knet_does_not_import_tools():
    bad = sorted({path for _, target, path in module_imports()
                  if target.split('.')[0] in ('tools', 'tests')})
    assert not bad, f'library modules importing tools/tests: {bad}'
