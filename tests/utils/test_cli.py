"""knet.utils.cli: the runner every command-line tool uses."""
import os
import signal

import pytest

from knet.formats.io import (DataError, atomic_output, dump_json, is_temporary,
                             temporary_dir)
from knet.utils.cli import (EXIT_UNEXPECTED, ArgumentParser, UserError,
                            float_range, int_range, run_cli, written_summary)


@pytest.fixture(autouse=True)
def _no_debug(monkeypatch):
    monkeypatch.delenv('KNET_DEBUG', raising=False)


def _err_lines(capsys):
    err = capsys.readouterr().err
    assert 'Traceback' not in err
    return [ln for ln in err.splitlines() if ln]


def test_one_line_errors_and_exit_codes(capsys):
    def data_error(argv):
        raise DataError('some/file.png: broken\nsecond line')

    assert run_cli(data_error, []) == 1
    assert _err_lines(capsys) == ['error: some/file.png: broken second line']

    def missing(argv):
        open('/nonexistent/knet-file')

    assert run_cli(missing, []) == 1
    assert _err_lines(capsys) == [
        'error: /nonexistent/knet-file: No such file or directory']

    def bug(argv):
        {}['file_name']

    assert run_cli(bug, []) == EXIT_UNEXPECTED
    (line,) = _err_lines(capsys)
    assert line.startswith("error: unexpected KeyError: 'file_name'")
    assert 'KNET_DEBUG=1' in line

    assert run_cli(lambda argv: 4, []) == 4  # main's own status
    assert run_cli(lambda argv: None, []) == 0


def test_long_message_is_cut(capsys):
    def chatty(argv):
        raise UserError('x.pth: ' + 'very long hint ' * 100)

    assert run_cli(chatty, []) == 1
    (line,) = _err_lines(capsys)
    assert line.startswith('error: x.pth: very long') and len(line) < 620


def test_usage_errors_are_one_line(capsys):
    parser = ArgumentParser(prog='tool')
    parser.add_argument('--n', type=int_range(1, 5), default=1)
    parser.add_argument('--thr', type=float_range(0, 1, lo_open=True))

    def main(argv):
        parser.parse_args(argv)

    for argv, words in ((['--n', '0'], 'argument --n: must be in [1, 5], '
                         'got 0'),
                        (['--n', 'x'], "'x' is not an integer"),
                        (['--thr', '0'], 'must be in (0, 1], got 0'),
                        (['--thr', 'inf'], 'got inf'),
                        (['--thr', 'nan'], 'got nan'),
                        (['--nope'], 'unrecognized arguments: --nope')):
        assert run_cli(main, argv) == 2
        (line,) = _err_lines(capsys)
        assert words in line and line.endswith('(see --help)'), line
    assert run_cli(main, ['--help']) == 0
    assert 'usage: tool' in capsys.readouterr().out


def test_path_roles(tmp_path, capsys):
    src = tmp_path / 'src'
    src.mkdir()
    (src / 'a.png').write_bytes(b'png')
    cfg = tmp_path / 'cfg.py'
    cfg.write_text('x = 1\n')
    parser = ArgumentParser(prog='tool')
    parser.add_argument('--src', path='in-tree')
    parser.add_argument('--cfg', path='in-file')
    parser.add_argument('--out', path='out-file', suffixes=('.json',))
    parser.add_argument('--dst', path='out-dir')

    def main(argv):
        parser.parse_args(argv)

    cases = [
        (['--src', str(tmp_path / 'no')], 'no such folder'),
        (['--src', str(cfg)], 'is a file, expected a folder'),
        (['--cfg', str(src)], 'is a folder, expected a file'),
        # an input named as output is refused as such, whatever its suffix
        (['--cfg', str(cfg), '--out', str(cfg)], 'is the input file'),
        (['--cfg', str(cfg), '--out', str(tmp_path / 'm.txt')],
         'must end with .json'),
        (['--src', str(src), '--out', str(src / 'm.json')],
         'lies inside the input folder'),
        (['--src', str(src), '--dst', str(src)], 'is the input folder'),
        (['--dst', str(cfg)], 'is a file, expected a folder'),
        (['--out', str(tmp_path)], 'is a folder, expected a file name'),
        (['--out', str(cfg / 'x.json')], 'is a file, not a folder'),
        (['--out', '/proc/knet-none/x.json'], 'cannot write in /proc'),
        (['--out', ''], 'empty path'),
    ]
    for argv, words in cases:
        assert run_cli(main, argv) == 1, argv
        (line,) = _err_lines(capsys)
        assert words in line, (argv, line)
    # a symlink to an input named as output is refused too
    os.symlink(cfg, tmp_path / 'link.json')
    os.symlink(cfg, tmp_path / 'link.py')
    assert run_cli(main, ['--cfg', str(tmp_path / 'link.py'), '--out',
                          str(tmp_path / 'link.json')]) == 1
    assert 'is the input file' in _err_lines(capsys)[0]
    assert run_cli(main, ['--src', str(src), '--out',
                          str(tmp_path / 'ok.json')]) == 0


def test_guard_stays_active_for_the_whole_run(tmp_path, capsys):
    """An input read during the run (not named on the command line) is
    protected from the run's later writes."""
    from knet.formats.io import load_json
    gt = tmp_path / 'gt.json'
    gt.write_text('{}')

    def main(argv):
        load_json(gt)
        dump_json({'a': 1}, gt)

    assert run_cli(main, []) == 1
    assert 'refusing to write there' in _err_lines(capsys)[0]
    assert gt.read_text() == '{}'


def test_interrupt_removes_temporaries(tmp_path, capsys):
    def main(argv):
        with atomic_output(tmp_path / 'big.bin') as tmp:
            with open(tmp, 'wb') as f:
                f.write(b'x' * 100)
            raise KeyboardInterrupt

    assert run_cli(main, []) == 130
    (line,) = _err_lines(capsys)
    assert 'interrupted' in line
    assert os.listdir(tmp_path) == []


def test_sigterm_cleans_up(tmp_path, capsys):
    def main(argv):
        with atomic_output(tmp_path / 'x.json') as tmp:
            open(tmp, 'w').close()
            os.kill(os.getpid(), signal.SIGTERM)

    assert run_cli(main, []) == 128 + signal.SIGTERM
    assert [n for n in os.listdir(tmp_path) if is_temporary(n)] == []
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL


def test_success_prints_absolute_paths(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    parser = ArgumentParser(prog='tool')
    parser.add_argument('--out', path='out-dir')

    def main(argv):
        args = parser.parse_args(argv)
        for i in range(12):
            dump_json(i, os.path.join(args.out, f'{i}.json'))
        dump_json({}, 'alone.json')

    assert run_cli(main, ['--out', 'res']) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [f'wrote 12 files under {tmp_path}/res',
                   f'wrote {tmp_path}/alone.json']


def test_success_does_not_list_removed_scratch_files(tmp_path, capsys):
    """Files a run writes and deletes again (synthetic scratch data of a
    benchmark) are not reported as written."""
    def main(argv):
        with temporary_dir(tmp_path) as scratch:
            for i in range(3):
                dump_json(i, scratch / f'{i}.json')
        dump_json({}, tmp_path / 'result.json')

    assert run_cli(main, []) == 0
    assert capsys.readouterr().out.splitlines() == [
        f'wrote {tmp_path}/result.json']


def test_written_summary_lists_few_files(tmp_path):
    files = [str(tmp_path / 'o' / f'{i}.json') for i in range(2)]
    assert written_summary(files, [(str(tmp_path / 'o'), 'out-dir')]) == [
        f'wrote {f}' for f in files]
