"""Helpers shared by the data-tool tests (not a test module)."""
import hashlib
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def tree_hash(root) -> dict:
    """relative path -> sha1 of content (links: target), plus mtimes.

    Used to prove that a converter left its source tree untouched.
    """
    out = {}
    root = Path(root)
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames + [d for d in dirnames]):
            p = Path(dirpath) / name
            rel = str(p.relative_to(root))
            if p.is_symlink():
                out[rel] = ('link', os.readlink(p))
            elif p.is_file():
                st = p.stat()
                out[rel] = (hashlib.sha1(p.read_bytes()).hexdigest(),
                            st.st_mtime_ns, st.st_mode)
            else:
                out[rel] = ('dir', p.stat().st_mode)
    return out


def run_tool(script: str, *args, cwd=None):
    """Run a repository script in a subprocess; returns CompletedProcess."""
    env = dict(os.environ)
    env.pop('KNET_DEBUG', None)
    env['PYTHONPATH'] = str(REPO) + os.pathsep + env.get('PYTHONPATH', '')
    return subprocess.run([sys.executable, str(REPO / script)] +
                          [str(a) for a in args], capture_output=True,
                          text=True, cwd=cwd or REPO, env=env, timeout=120)


def one_line_error(proc) -> str:
    """Assert a tool failed with one 'error:' line and no traceback."""
    assert proc.returncode != 0, proc.stdout
    assert 'Traceback' not in proc.stderr, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines()
             if ln.startswith('error:')]
    assert len(lines) == 1, proc.stderr
    return lines[0]
