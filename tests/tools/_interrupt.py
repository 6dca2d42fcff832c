"""Run a repository script and send it a real SIGINT (Ctrl-C) just before
its N-th rename (``os.replace`` / ``os.rename``), i.e. while a temporary
file or folder it wrote is waiting to be moved into place.

Usage: ``python tests/tools/_interrupt.py N SCRIPT [ARGS...]`` (not a test
module; used by tests/tools/test_bad_inputs.py).
"""
import os
import runpy
import signal
import sys


def main() -> None:
    n, script, args = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
    # a test run started in the background (nohup, `cmd &` in a script)
    # inherits SIGINT ignored, and Python then keeps it ignored: restore
    # Ctrl-C as a terminal gives it
    signal.signal(signal.SIGINT, signal.default_int_handler)
    calls = [0]

    def interrupting(real):
        def rename(*a, **k):
            calls[0] += 1
            if calls[0] == n:
                # delivered as KeyboardInterrupt at the next bytecode, i.e.
                # before the real rename below
                os.kill(os.getpid(), signal.SIGINT)
            return real(*a, **k)
        return rename

    os.replace = interrupting(os.replace)
    os.rename = interrupting(os.rename)
    sys.argv = [script] + args
    runpy.run_path(script, run_name='__main__')


if __name__ == '__main__':
    main()
