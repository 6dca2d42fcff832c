#!/usr/bin/env python
"""Plot training curves and compute training time from MMEngine JSON logs.

MMEngine writes one JSON dict per line to ``<work_dir>/<timestamp>/vis_data/
scalars.json`` (and ``<timestamp>.json``): training lines carry ``lr``,
losses, ``time``, ``iter`` (and ``epoch``) and ``step``; validation lines
carry the metrics (``STQ`` or ``kitti_step/STQ`` ...) and ``step`` (the
epoch or the iteration they were computed at). MMDetection 2.x logs (a
``mode`` key per line) are read too.

Examples::

    python tools/analysis_tools/analyze_logs.py plot_curve \\
        work_dirs/x/20240101_000000/vis_data/scalars.json --keys loss STQ \\
        --out curves.png
    python tools/analysis_tools/analyze_logs.py cal_train_time scalars.json

Training keys are plotted against the iteration; validation keys against the
iteration at which the validation ran (the last training iteration logged
before it), so both share one axis. A key ``STQ`` also matches
``<prefix>/STQ``.
"""
import argparse
import json
import os
import os.path as osp
import sys
from collections import defaultdict
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

try:
    from knet.utils.cli import ArgumentParser, UserError, run_cli
except ImportError:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..',
                                            '..')))
    from knet.utils.cli import ArgumentParser, UserError, run_cli

_TRAIN_MARKERS = ('lr', 'iter')


class LogData:
    """The training and validation records of one JSON log.

    Attributes:
        train: list of dicts with an added ``_x`` (global iteration).
        val: list of dicts with an added ``_x`` (iteration of the last
            training record before it, else its own ``step``).
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.train: List[dict] = []
        self.val: List[dict] = []
        if not osp.isfile(path):
            raise UserError(f'{path}: log file not found')
        last_iter: Optional[float] = None
        with open(path, encoding='utf-8') as f:
            for lineno, line in enumerate(f, 1):
                line = line.strip()
                if not line:
                    continue
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError:
                    raise UserError(f'{path}:{lineno}: not a JSON line')
                if not isinstance(rec, dict):
                    continue
                if self._is_train(rec):
                    x = rec.get('step', rec.get('iter'))
                    if x is None:
                        continue
                    last_iter = float(x)
                    rec['_x'] = last_iter
                    self.train.append(rec)
                elif 'mode' not in rec or rec['mode'] == 'val':
                    x = last_iter if last_iter is not None else rec.get(
                        'step', rec.get('epoch'))
                    if x is None:
                        continue
                    rec['_x'] = float(x)
                    self.val.append(rec)
        if not self.train and not self.val:
            raise UserError(f'{path}: no MMEngine log records (one JSON dict '
                            'a line with a "step" key)')

    @staticmethod
    def _is_train(rec: dict) -> bool:
        if 'mode' in rec:  # MMDetection 2.x
            return rec['mode'] == 'train'
        return any(k in rec for k in _TRAIN_MARKERS) or any(
            k.startswith('loss') for k in rec)

    def keys(self) -> List[str]:
        out = set()
        for rec in self.train + self.val:
            out.update(k for k in rec if not k.startswith('_'))
        return sorted(out)

    def series(self, key: str) -> Tuple[np.ndarray, np.ndarray, str, str]:
        """(x, y, split, matched key) of ``key``; empty arrays if absent.

        ``key`` matches a record key equal to it or ending in ``/key``.
        """
        for split, records in (('train', self.train), ('val', self.val)):
            xs, ys, name = [], [], None
            for rec in records:
                k = _match(key, rec)
                if k is None:
                    continue
                try:
                    value = float(rec[k])
                except (TypeError, ValueError):
                    continue
                name = k
                xs.append(rec['_x'])
                ys.append(value)
            if xs:
                return np.array(xs), np.array(ys), split, name
        return np.zeros(0), np.zeros(0), '', key


def _match(key: str, rec: dict) -> Optional[str]:
    if key in rec:
        return key
    for k in rec:
        if k.endswith('/' + key):
            return k
    return None


def plot_curve(logs: Sequence[LogData],
               keys: Sequence[str],
               out: str,
               legend: Optional[Sequence[str]] = None,
               title: Optional[str] = None) -> str:
    """One subplot per key, one line per log; saved to ``out`` (Agg)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    if legend is not None and len(legend) != len(logs):
        raise UserError(f'--legend has {len(legend)} names for '
                        f'{len(logs)} logs')
    names = list(legend) if legend else [
        _short_name(log.path, [lg.path for lg in logs]) for log in logs
    ]
    missing = [
        k for k in keys if all(log.series(k)[0].size == 0 for log in logs)
    ]
    if missing:
        avail = sorted(set().union(*[log.keys() for log in logs]))
        raise UserError(f'{logs[0].path}: no values for key(s) '
                        f'{", ".join(missing)}; keys in the log(s): '
                        f'{", ".join(avail)}')
    fig, axes = plt.subplots(
        len(keys), 1, figsize=(7, 2.8 * len(keys)), dpi=100, squeeze=False,
        sharex=True)
    for ax, key in zip(axes[:, 0], keys):
        label_key = key
        for log, name in zip(logs, names):
            x, y, split, matched = log.series(key)
            if not x.size:
                continue
            label_key = matched
            style = dict(marker='o', markersize=4) if split == 'val' or \
                x.size < 20 else {}
            ax.plot(x, y, label=f'{name} ({split})' if len(logs) > 1 else
                    split, linewidth=1.4, **style)
        ax.set_ylabel(label_key)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    axes[-1, 0].set_xlabel('iteration')
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    from knet.formats.io import atomic_output
    with atomic_output(out) as tmp:
        fig.savefig(tmp, dpi=fig.dpi,
                    format=osp.splitext(out)[1][1:].lower() or 'png')
    plt.close(fig)
    return out


def _short_name(path: str, all_paths: Sequence[str]) -> str:
    """A readable name: the timestamp folder for vis_data/scalars.json."""
    parts = osp.normpath(path).split(os.sep)
    if len(parts) >= 3 and parts[-2] == 'vis_data':
        return parts[-3]
    return osp.basename(path)


def cal_train_time(log: LogData, include_outliers: bool = False) -> Dict:
    """Per-epoch average iteration time (and overall figures) of one log.

    The first iteration of each epoch (data-loader start-up) is left out
    unless ``include_outliers``.
    """
    by_epoch: Dict[int, List[float]] = defaultdict(list)
    for rec in log.train:
        if 'time' not in rec:
            continue
        by_epoch[int(rec.get('epoch', 1))].append(float(rec['time']))
    if not by_epoch:
        raise UserError(f'{log.path}: no "time" values in training records')
    means = {}
    for epoch, times in sorted(by_epoch.items()):
        if not include_outliers and len(times) > 1:
            times = times[1:]
        means[epoch] = float(np.mean(times))
    values = np.array(list(means.values()))
    slowest = max(means, key=means.get)
    fastest = min(means, key=means.get)
    return dict(
        per_epoch=means,
        slowest_epoch=slowest,
        fastest_epoch=fastest,
        mean_iter_time=float(values.mean()),
        std_over_epochs=float(values.std()))


def parse_args(argv=None) -> argparse.Namespace:
    parser = ArgumentParser(
        description='Analyse MMEngine JSON logs (vis_data/scalars.json).')
    sub = parser.add_subparsers(dest='task', required=True)
    p = sub.add_parser('plot_curve', help='plot values of keys over training')
    p.add_argument('json_logs', nargs='+', path='in-file',
                   help='JSON log file(s)')
    p.add_argument('--keys', nargs='+', default=['loss'],
                   help='keys to plot (STQ also matches prefix/STQ)')
    p.add_argument('--legend', nargs='+', help='a name per log')
    p.add_argument('--title', help='figure title')
    p.add_argument('--out', default='curves.png', path='out-file',
                   suffixes=('.png', '.pdf', '.svg'),
                   help='output image (.png, .pdf, .svg)')
    t = sub.add_parser('cal_train_time', help='average time per iteration')
    t.add_argument('json_logs', nargs='+', path='in-file',
                   help='JSON log file(s)')
    t.add_argument('--include-outliers', action='store_true',
                   help='keep the first iteration of every epoch')
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    logs = [LogData(p) for p in args.json_logs]
    if args.task == 'plot_curve':
        plot_curve(logs, args.keys, args.out, args.legend, args.title)
        return
    for log in logs:
        res = cal_train_time(log, args.include_outliers)
        print(f'{"-" * 5}Analyse train time of {log.path}{"-" * 5}')
        print(f'slowest epoch {res["slowest_epoch"]}, average time is '
              f'{res["per_epoch"][res["slowest_epoch"]]:.4f} s/iter')
        print(f'fastest epoch {res["fastest_epoch"]}, average time is '
              f'{res["per_epoch"][res["fastest_epoch"]]:.4f} s/iter')
        print(f'time std over epochs is {res["std_over_epochs"]:.4f}')
        print(f'average iter time: {res["mean_iter_time"]:.4f} s/iter')


if __name__ == '__main__':
    sys.exit(run_cli(main))
