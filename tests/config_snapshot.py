"""Resolved configs before and after a config clean-up (a helper, not a test).

    python tests/config_snapshot.py dump ROOT OUT_DIR
    python tests/config_snapshot.py compare BEFORE_DIR AFTER_DIR \
        [--dead KEY|TYPE.KEY ...] [--helper KEY ...]

``dump`` writes every config under ``ROOT/configs`` (``_base_`` excluded)
and ``ROOT/tests/data`` resolved (``Config.fromfile``, nothing imported) to
one JSON file each. To dump an older commit, extract it first, e.g.
``git archive REV | tar -x -C /tmp/old``. ``compare`` reports each config
whose resolved keys differ, after dropping the ``--dead`` keys (removed
options: ``KEY`` at any depth of the BEFORE side, ``TYPE.KEY`` only in the
dicts of that ``type``); top-level ``--helper`` keys
(variables the configs use to build others, e.g. ``fpn``) are reported
apart. Exit status 1 when anything but helpers differs.
"""
import argparse
import json
import sys
from pathlib import Path


def config_paths(root: Path):
    paths = sorted(p for p in (root / 'configs').rglob('*.py')
                   if '_base_' not in p.parts)
    paths += sorted(p for p in (root / 'tests' / 'data').glob('*.py')
                    if p.name not in ('__init__.py', 'toy_modules.py'))
    return paths


def _plain(obj):
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    return repr(obj)


def dump(root: Path, out: Path) -> None:
    from mmengine.config import Config
    out.mkdir(parents=True, exist_ok=True)
    for path in config_paths(root):
        cfg = Config.fromfile(str(path), import_custom_modules=False)
        data = _plain(cfg.to_dict())
        name = str(path.relative_to(root)).replace('/', '__') + '.json'
        (out / name).write_text(json.dumps(data, indent=1, sort_keys=True))


def _drop(obj, dead):
    """``obj`` without the ``dead`` keys: ``KEY`` anywhere, ``TYPE.KEY`` only
    in dicts whose ``type`` is TYPE."""
    if isinstance(obj, dict):
        typed = {d.split('.', 1)[1] for d in dead
                 if '.' in d and d.split('.', 1)[0] == obj.get('type')}
        return {k: _drop(v, dead) for k, v in obj.items()
                if k not in dead and k not in typed}
    if isinstance(obj, list):
        return [_drop(v, dead) for v in obj]
    return obj


def compare(before: Path, after: Path, dead, helpers) -> int:
    names = sorted({p.name for p in before.glob('*.json')} |
                   {p.name for p in after.glob('*.json')})
    failed = 0
    for name in names:
        if not (before / name).exists() or not (after / name).exists():
            print(f'{name}: only on one side')
            failed += 1
            continue
        b = _drop(json.loads((before / name).read_text()), set(dead))
        a = json.loads((after / name).read_text())
        keys = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
        real = [k for k in keys if k not in helpers]
        if real:
            failed += 1
            print(f'{name}: differs in {", ".join(real)}')
        elif keys:
            print(f'{name}: helpers only ({", ".join(keys)})')
    print(f'{len(names)} configs compared, {failed} differ beyond helpers')
    return 1 if failed else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest='cmd', required=True)
    d = sub.add_parser('dump', help='write the resolved configs as JSON')
    d.add_argument('root', type=Path)
    d.add_argument('out', type=Path)
    c = sub.add_parser('compare', help='compare two dumps')
    c.add_argument('before', type=Path)
    c.add_argument('after', type=Path)
    c.add_argument('--dead', nargs='*', default=[],
                   help='removed keys (KEY, or TYPE.KEY: only in dicts of '
                   'that type), dropped from BEFORE')
    c.add_argument('--helper', nargs='*', default=[],
                   help='top-level helper variables, reported apart')
    args = parser.parse_args(argv)
    if args.cmd == 'dump':
        dump(args.root, args.out)
        return 0
    return compare(args.before, args.after, args.dead, args.helper)


if __name__ == '__main__':
    sys.exit(main())
