import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_tool(args, cwd=ROOT, timeout=600, env=None):
    """Run a repository script with this interpreter; return CompletedProcess."""
    full_env = dict(os.environ)
    full_env['PYTHONPATH'] = str(ROOT) + os.pathsep + full_env.get(
        'PYTHONPATH', '')
    full_env.setdefault('OMP_NUM_THREADS', '1')
    if env:
        full_env.update(env)
    cmd = [sys.executable] + [str(a) for a in args] if str(
        args[0]).endswith('.py') else [str(a) for a in args]
    return subprocess.run(
        cmd, cwd=cwd, env=full_env, capture_output=True, text=True,
        timeout=timeout)


@pytest.fixture
def tool():
    return run_tool
