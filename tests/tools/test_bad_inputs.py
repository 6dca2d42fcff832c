"""Every command-line tool on a matrix of bad inputs (issue 17).

Each case runs one tool of tools/ or scripts/ through the common runner
(``knet.utils.cli.run_cli``; in-process where nothing forces a subprocess)
on inputs built with the project's synthetic generators and damaged one way,
and asserts that

* the exit status is the expected non-zero one (2: a command line argparse
  rejects, 1: a bad file or bad data),
* stderr holds exactly one ``error:`` line and no traceback, and that line
  names the culprit (the option or the file, and what is wrong),
* every input is unchanged (content, mode and mtime of every file),
* nothing is left behind: no temporary file anywhere, no output file.

One interrupted run per converter sends a real SIGINT while a temporary
file waits to be renamed into place (tests/tools/_interrupt.py): exit 130,
one line, no temporary file, inputs unchanged, and every output already in
place complete (equal to an uninterrupted run's); the ONNX export, whose
output is one file, leaves nothing. The shell scripts (launchers,
gpu_benchmarks.sh) check their arguments and settings before starting
anything.

The ONNX cases need the optional packages of requirements/onnx.txt; the
exported file they share is made once per session (~20 s on 2 cores).
"""
import contextlib
import hashlib
import importlib.util
import io
import json
import os
import pickle
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, List, Optional, Sequence

import numpy as np
import pytest

from knet.datasets.synthetic import make_synthetic
from knet.formats.io import is_temporary, load_json, read_image, save_image
from knet.utils.cli import run_cli

REPO = Path(__file__).resolve().parents[2]
UNWRITABLE = '/proc/knet-no-such-dir'  # a folder nobody can create files in


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------
_MODULES = {}


def load_script(rel: str):
    """Import a script of tools/ or scripts/ as a module (once)."""
    if rel not in _MODULES:
        path = REPO / rel
        spec = importlib.util.spec_from_file_location(
            'knet_tool_' + rel.replace('/', '_').replace('.py', ''), path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _MODULES[rel] = module
    return _MODULES[rel]


def tree_state(*roots) -> dict:
    """path -> (sha1, mode, mtime) of every file (symlink: its target)."""
    out = {}
    for root in roots:
        root = Path(root)
        if not root.exists():
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            for name in filenames:
                p = Path(dirpath) / name
                if p.is_symlink():
                    out[str(p)] = ('link', os.readlink(p))
                    continue
                st = p.stat()
                out[str(p)] = (hashlib.sha1(p.read_bytes()).hexdigest(),
                               st.st_mode, st.st_mtime_ns)
    return out


def temporaries(*roots) -> List[str]:
    """Temporary files or folders (``.tmp-*``) left anywhere under roots."""
    found = []
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            found += [os.path.join(dirpath, n) for n in dirnames + filenames
                      if is_temporary(n)]
    return found


def files_under(root) -> List[str]:
    root = Path(root)
    return sorted(str(p) for p in root.rglob('*') if p.is_file()) \
        if root.exists() else []


def subprocess_env(extra: Optional[dict] = None) -> dict:
    env = dict(os.environ)
    env.pop('KNET_DEBUG', None)
    env['PYTHONPATH'] = str(REPO) + os.pathsep + env.get('PYTHONPATH', '')
    env['OMP_NUM_THREADS'] = '1'
    env.update(extra or {})
    return env


def run_subprocess(args: Sequence, env: Optional[dict] = None,
                   timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable] + [str(a) for a in args],
                          cwd=REPO, env=subprocess_env(env),
                          capture_output=True, text=True, timeout=timeout)


def error_line(rc: int, err: str, expected_rc: int) -> str:
    """The single ``error:`` line of a failed run (asserting the rest)."""
    assert 'Traceback' not in err, err
    lines = [ln for ln in err.splitlines() if ln.startswith('error:')]
    assert len(lines) == 1, err
    assert rc == expected_rc, (rc, err)
    assert not lines[0].startswith('error: unexpected '), lines[0]
    return lines[0]


def write_json(path, obj) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj))
    return path


def edit_json(src, dst, fn) -> Path:
    """Copy a JSON file to ``dst`` changed by ``fn(data)`` (returns None to
    keep the edited object, or a replacement)."""
    data = load_json(src)
    new = fn(data)
    return write_json(dst, data if new is None else new)


def copytree(src, dst) -> Path:
    shutil.copytree(src, dst, symlinks=True)
    return Path(dst)


# --------------------------------------------------------------------------
# the data every case starts from (built once)
# --------------------------------------------------------------------------
class Data:
    """Synthetic datasets in their raw layouts, prepared trees and
    predictions, written once per session under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        size = (32, 64)
        self.kitti_raw = root / 'kitti_raw'
        make_synthetic('kitti-step', self.kitti_raw, videos=3, frames=2,
                       size=size, seed=0)
        self.kitti = root / 'kitti'
        prep = load_script('scripts/kitti_step_prepare.py')
        assert run_cli(prep.main, ['--src', str(self.kitti_raw), '--dst',
                                   str(self.kitti)]) == 0
        # predictions = the ground truth in the submission layout
        self.kitti_pred = root / 'kitti_pred'
        for p in sorted((self.kitti / 'video_sequence' / 'val').glob(
                '*_panoptic.png')):
            seq, frame = p.name.split('_')[:2]
            dst = self.kitti_pred / f'{int(seq):04d}' / f'{frame}.png'
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(p, dst)
        self.vipseg_raw = root / 'vipseg_raw'
        vipseg = make_synthetic('vipseg', self.vipseg_raw, videos=3,
                                frames=2, size=(24, 40), seed=0,
                                layout='original')
        self.ytvis = root / 'ytvis'
        m = make_synthetic('youtube_vis_2019', self.ytvis, videos=3,
                           frames=2, size=size, seed=0)
        self.ytvis_ann = Path(m['ann_dir'])
        self.ytvis_train = Path(m['train_json'])
        self.cityscapes_raw = root / 'cityscapes_raw'
        make_synthetic('cityscapes', self.cityscapes_raw, videos=1,
                       frames=2, size=size, seed=0)
        self.refer = root / 'refer'
        make_synthetic('refcoco', self.refer, videos=1, frames=4, size=size,
                       seed=0)
        self.refs = self.refer / 'refcoco' / 'refs(unc).p'
        self.instances = self.refer / 'refcoco' / 'instances.json'
        self.coco = root / 'coco'
        make_synthetic('coco_panoptic', self.coco, videos=1, frames=2,
                       size=size, seed=0)
        self.cvps = root / 'cityscapes_vps'
        cvps = make_synthetic('cityscapes-vps', self.cvps, videos=2,
                              frames=2, size=size, seed=0)
        self.vipseg_pred, self.cvps_pred = self._panoptic_predictions(
            vipseg, cvps)
        self.ytvis_results = self._ytvis_results()
        self.log = write_json(root / 'logs' / 'scalars.json', {})
        self.log.write_text('\n'.join(json.dumps(r) for r in (
            dict(lr=1e-4, loss=2.0, iter=1, step=1, time=0.5, epoch=1),
            dict(lr=1e-4, loss=1.5, iter=2, step=2, time=0.4, epoch=1),
            dict(STQ=0.3, step=2))) + '\n')
        self.text = root / 'notes.txt'
        self.text.write_text('not an input of any tool\n')
        self.frames = self.kitti_raw / 'training' / 'image_02' / '0000'
        self.video = root / 'clip.mp4'
        from knet.visualization.video_io import FrameSource, VideoWriter
        with VideoWriter(str(self.video), fps=5) as writer:
            for frame in FrameSource(str(self.frames)):
                writer.write(frame)

    def _panoptic_predictions(self, vipseg, cvps):
        """VIPSeg and Cityscapes-VPS val predictions (= the ground truth)
        in the official pan_pred/ + pred.json layout."""
        from knet.evaluation.writers.panoptic_video import \
            PanopticVideoWriter
        from knet.formats.vipseg import VIPSEG_THING_IDS, decode_vipseg
        vip = PanopticVideoWriter(self.root / 'vipseg_pred',
                                  VIPSEG_THING_IDS, 'vipseg')
        for video in vipseg['videos']:
            if video['split'] == 'val':
                for f in video['frames']:
                    raw = read_image(f['label']).astype(np.int64)
                    vip.write(video['name'], Path(f['label']).name,
                              decode_vipseg(raw)[0], raw)
        vip.close()
        gt = load_json(self.cvps / 'panoptic_gt_val_city_vps.json')
        ids = {im['file_name'].replace('_leftImg8bit.png',
                                       '_gtFine_color.png'): im['id']
               for im in gt['images']}
        city = PanopticVideoWriter(self.root / 'cvps_pred', range(11, 19),
                                   'cityscapes-vps')
        for video in cvps['videos']:
            if video['split'] == 'val':
                for f in video['frames']:
                    image_id = ids[Path(f['label']).name]
                    city.write(video['name'], str(image_id), f['semantic'],
                               f['instance'], image_id=image_id)
        city.close()
        return self.root / 'vipseg_pred', self.root / 'cvps_pred'

    def _ytvis_results(self) -> Path:
        """A valid result list for the YouTube-VIS train split (= the ground
        truth as compressed RLEs)."""
        from knet.formats.coco_mask import encode_rle, rle_to_mask
        gt = load_json(self.ytvis_train)
        sizes = {v['id']: (v['height'], v['width']) for v in gt['videos']}
        results = [dict(video_id=a['video_id'], category_id=a['category_id'],
                        score=0.9, segmentations=[
                            None if s is None else encode_rle(rle_to_mask(
                                s, *sizes[a['video_id']]))
                            for s in a['segmentations']])
                   for a in gt['annotations']]
        return write_json(self.root / 'ytvis_results.json', results)

    def checkpoint(self, kind: str = 'good') -> Path:
        """A checkpoint of the e2e test model (random weights): 'good',
        'mismatched' (the FPN keys renamed as in the original release, the
        rest not), 'release' (the original release's layout) or 'garbage'
        (not a torch file)."""
        path = self.root / 'ckpt' / f'{kind}.pth'
        if path.exists():
            return path
        path.parent.mkdir(exist_ok=True)
        if kind == 'garbage':
            path.write_bytes(b'\x00garbage, not a checkpoint' * 40)
            return path
        import torch
        from mmengine.config import Config

        from knet.utils.setup_env import register_all_modules
        register_all_modules()
        from mmdet.registry import MODELS
        model = MODELS.build(Config.fromfile(REPO / E2E).model)
        state = model.state_dict()
        if kind in ('mismatched', 'release'):
            state = {k.replace('neck.0.', 'neck.', 1): v
                     for k, v in state.items()}
        if kind == 'release':
            state = {k.replace('neck.1.', 'rpn_head.localization_fpn.', 1): v
                     for k, v in state.items()}
        torch.save({'state_dict': state, 'meta': {}}, path)
        return path

    def onnx(self, kind: str = 'good') -> Path:
        """An ONNX file: 'good' (the e2e model with the 'good' checkpoint's
        weights, exported at 32x64 by tools/deployment/export_onnx.py; once per session, ~15 s), 'truncated' (its first 3000
        bytes) or 'garbage' (text)."""
        path = self.root / 'onnx' / f'{kind}.onnx'
        if path.exists():
            return path
        path.parent.mkdir(exist_ok=True)
        if kind == 'garbage':
            path.write_text('not an ONNX model\n')
            return path
        if kind == 'truncated':
            path.write_bytes(self.onnx('good').read_bytes()[:3000])
            return path
        # the tool itself, run from the output folder with a relative --out
        out, err = io.StringIO(), io.StringIO()
        cwd = os.getcwd()
        os.chdir(path.parent)
        try:
            with contextlib.redirect_stdout(out), \
                    contextlib.redirect_stderr(err):
                rc = run_cli(load_script(EXPORT).main, [
                    str(REPO / E2E), str(self.checkpoint('good')), '--out',
                    path.name, '--shape', '32', '64'])
        finally:
            os.chdir(cwd)
        assert rc == 0, err.getvalue()
        self.export_stdout = out.getvalue()
        return path

    def config(self, kind: str) -> Path:
        """A broken model config: 'syntax' (not Python) or 'unknown-type'
        (a model type no registry knows)."""
        path = self.root / 'configs' / f'{kind}.py'
        path.parent.mkdir(exist_ok=True)
        path.write_text({'syntax': 'model = dict(\n',
                         'unknown-type': "model = dict(type='Nope')\n"}[kind])
        return path

    def data_options(self) -> List[str]:
        """--cfg-options pointing the e2e config at the prepared tree."""
        root = f'{self.kitti}/'
        return ['--cfg-options', f'train_dataloader.dataset.data_root={root}',
                f'test_dataloader.dataset.data_root={root}']


@pytest.fixture(scope='session')
def data(tmp_path_factory) -> Data:
    return Data(tmp_path_factory.mktemp('bad_inputs_data'))


# --------------------------------------------------------------------------
# the matrix
# --------------------------------------------------------------------------
@dataclass
class Case:
    """One bad input of one tool.

    ``argv(d, w)`` builds the command line (d: :class:`Data`, w: a fresh
    folder whose ``in/`` holds damaged copies made by ``setup(d, w)`` and
    whose ``out/`` receives outputs); ``culprit(d, w)`` lists what the error
    line must contain. ``report``: the tool reports problems on stdout
    (tools/dataset/check_data.py) instead of one error line.
    """
    id: str
    tool: str
    argv: Callable
    culprit: Callable
    rc: int = 1
    setup: Optional[Callable] = None
    report: bool = False
    #: the run may leave MMEngine's log of the failure (``*.log`` and the
    #: dumped config) in its work dir
    logs_ok: bool = False
    #: environment for the run (None: unset the variable)
    env: dict = field(default_factory=dict)
    marks: Sequence = field(default_factory=tuple)


def _words(*items):
    """culprit helper: the items formatted with d and w."""
    def culprit(d, w):
        return [str(i(d, w)) if callable(i) else str(i) for i in items]
    return culprit


KITTI_PREP = 'scripts/kitti_step_prepare.py'
YTVIS2COCO = 'tools/dataset/youtubevis2coco.py'
VIPSEG_PREP = 'tools/dataset/vipseg_prepare.py'
CITY_PREP = 'tools/dataset/cityscapes_prepare.py'
REFER2COCO = 'tools/dataset/refer2coco.py'
EVAL_REFER = 'tools/eval_refer.py'
CHECK = 'tools/dataset/check_data.py'
SYNTH = 'tools/dataset/make_synthetic.py'
LOGS = 'tools/analysis_tools/analyze_logs.py'
EVAL_VPS = 'tools/eval_vps.py'
EVAL_VIS = 'tools/eval_vis.py'
TRAIN = 'tools/train.py'
TEST = 'tools/test.py'
BROWSE = 'tools/analysis_tools/browse_dataset.py'
BENCH = 'tools/analysis_tools/benchmark.py'
VIS_MEM = 'tools/analysis_tools/vis_memory_benchmark.py'
CONVERT = 'tools/model_converters/knet_to_mmdet3.py'
DEMO = 'tools/demo/video_demo.py'
E2E = 'tests/data/video_knet_kitti_e2e.py'
KITTI_DATASET_CFG = 'configs/_base_/datasets/kitti_step_vps.py'
QUICKSTART = 'tools/quickstart.py'
EXPORT = 'tools/deployment/export_onnx.py'
BENCH_TRAIN = 'tools/analysis_tools/benchmark_train.py'
TINY = 'tests/data/video_knet_kitti_tiny.py'
QUICK = 'configs/quickstart/video_knet_quickstart.py'
NO_CUDA = pytest.mark.skipif(
    importlib.util.find_spec('torch') is not None and
    __import__('torch').cuda.is_available(), reason='CUDA is available')
ONNX = pytest.mark.skipif(
    any(importlib.util.find_spec(m) is None
        for m in ('onnx', 'onnxruntime', 'onnxscript')),
    reason='the optional ONNX packages (requirements/onnx.txt) are missing')


def _kitti_src_without_label(d, w):
    src = copytree(d.kitti_raw, w / 'in' / 'raw')
    os.remove(src / 'panoptic_maps' / 'train' / '0001' / '000001.png')


def _kitti_src_extra_sequence(d, w):
    src = copytree(d.kitti_raw, w / 'in' / 'raw')
    (src / 'training' / 'image_02' / '0025').mkdir()


def _ytvis(fn):
    """setup: the official train.json changed by fn, in w/in/ann/."""
    def setup(d, w):
        edit_json(d.ytvis_train, w / 'in' / 'ann' / 'train.json', fn)
    return setup


def _first_rle_counts(data, value):
    for a in data['annotations']:
        for s in a['segmentations']:
            if isinstance(s, dict):
                s['counts'] = value
                return


def _vipseg(fn):
    def setup(d, w):
        src = copytree(d.vipseg_raw, w / 'in' / 'raw')
        fn(src)
    return setup


def _first_mask(src: Path) -> Path:
    return sorted((src / 'panomasks').rglob('*.png'))[0]


def _append_line(path: Path, line: str) -> None:
    path.write_text(path.read_text() + line + '\n')


def _refer(fn=None, instances=None):
    """setup: a copy of the REFER tree with the refs list (or
    instances.json) changed."""
    def setup(d, w):
        root = copytree(d.refer, w / 'in' / 'refer')
        if fn is not None:
            from knet.datasets.refer import load_refs_pickle
            refs = load_refs_pickle(str(d.refs))
            fn(refs)
            with open(root / 'refcoco' / 'refs(unc).p', 'wb') as f:
                pickle.dump(refs, f)
        if instances is not None:
            edit_json(d.instances, root / 'refcoco' / 'instances.json',
                      instances)
    return setup


def _refer_argv(tool):
    if tool == REFER2COCO:
        return lambda d, w: ['--data-root', w / 'in' / 'refer', '--dataset',
                             'refcoco', '--split-by', 'unc', '--out',
                             w / 'out']
    return lambda d, w: ['--data-root', w / 'in' / 'refer', '--dataset',
                         'refcoco', '--split-by', 'unc', '--split', 'val',
                         '--pred', d.root / 'refer_pred.json']


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:60])


def _paint_class(path: Path, cls: int) -> None:
    rgb = read_image(path)
    rgb[:4, :4, 0] = cls
    save_image(path, rgb)


def _converted_ytvis(fn):
    """setup: the converted train JSON of a YouTube-VIS tree, changed."""
    def setup(d, w):
        root = copytree(d.ytvis, w / 'in' / 'yt')
        assert run_cli(load_script(YTVIS2COCO).main, [
            '-i', str(root / 'annotations'), '-o', str(root / 'annotations'),
            '--version', '2019']) == 0
        path = root / 'annotations' / 'youtube_vis_2019_train.json'
        edit_json(path, path, fn)
    return setup


def _kitti_eval(d, w, pred=None, out=None):
    return ['kitti-step', '--gt-root', d.kitti, '--split', 'val',
            '--pred-dir', pred or d.kitti_pred, '--out',
            out or w / 'out' / 'm.json']


def _city_eval(d, w):
    return ['cityscapes-vps', '--gt-root', d.cvps, '--pred-dir',
            w / 'in' / 'pred', '--out', w / 'out' / 'm.json']


def _city_pred(fn):
    """setup: the Cityscapes-VPS predictions with pred.json changed."""
    def setup(d, w):
        pred = copytree(d.cvps_pred, w / 'in' / 'pred')
        edit_json(pred / 'pred.json', pred / 'pred.json', fn)
    return setup


def _vipseg_eval(d, w):
    return ['vipseg', '--gt-root', d.vipseg_raw, '--split', 'val',
            '--pred-dir', w / 'in' / 'pred', '--out', w / 'out' / 'm.json']


def _vipseg_pred(fn):
    def setup(d, w):
        pred = copytree(d.vipseg_pred, w / 'in' / 'pred')
        edit_json(pred / 'pred.json', pred / 'pred.json', fn)
    return setup


def _vis_eval(d, w):
    return ['--gt', d.ytvis_train, '--results', w / 'in' / 'res.json',
            '--out', w / 'out' / 'm.json']


def _vis_results(fn):
    def setup(d, w):
        edit_json(d.ytvis_results, w / 'in' / 'res.json', fn)
    return setup


def _first_result_rle(results) -> dict:
    return next(s for r in results for s in r['segmentations']
                if s is not None)


def _zip(path: Path, name: str, text: str) -> None:
    import zipfile
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, 'w') as z:
        z.writestr(name, text)


def _demo(d, w, input=None, out=None, ckpt=None):
    return [REPO / E2E, ckpt or d.checkpoint(), '--input',
            input or d.frames, '--out', out or w / 'out' / 'demo.mp4']


def _export(d, w, *extra, config=None, ckpt=None, out=None):
    """export_onnx.py's command line (the e2e config, no checkpoint)."""
    return [config or REPO / E2E] + ([ckpt] if ckpt else []) + [
        '--out', out or w / 'out' / 'm.onnx', '--shape', '32', '64'] + \
        list(extra)


def _quickstart(d, w, *extra, config=None, data_root=None, work_dir=None,
                sizes=True):
    """quickstart.py's command line: a tiny run, data and work dir in
    w/out (a case that fails before the data is made leaves it empty);
    ``sizes=False``: the config's data sizes."""
    small = ['--videos', '3', '--frames', '2', '--size', '32', '64'] \
        if sizes else []
    return ['--config', config or REPO / QUICK, '--data-root',
            data_root or w / 'out' / 'data', '--work-dir',
            work_dir or w / 'out' / 'work', '--iters', '1', '--no-gif'] + \
        small + list(extra)


def _config_file(text):
    """setup: w/in/cfg.py holding ``text`` (may name the quickstart config
    as {QUICK})."""
    def setup(d, w):
        path = w / 'in' / 'cfg.py'
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.format(QUICK=REPO / QUICK))
    return setup


def _bench_train(d, w, *extra, config=None):
    """benchmark_train.py's command line (small, quick settings)."""
    return [config or REPO / QUICK, '--data-size', '64', '128',
            '--data-frames', '3', '--workers', '0', '--iters', '1',
            '--warmup', '0', '--threads', '1', '--no-progress'] + list(extra)


def _bench_ort(d, w, onnx, *extra, config=None):
    """benchmark.py --backend onnxruntime with an exported file."""
    return [config or REPO / E2E, '--backend', 'onnxruntime', '--onnx', onnx,
            '--shape', '32', '64', '--frames', '1', '--warmup', '0'] + \
        list(extra)


def _duplicate_segment(data):
    segs = next(a['segments_info'] for a in data['annotations']
                if len(a['segments_info']) > 1)
    segs[1]['id'] = segs[0]['id']


def _pred(entries):
    """setup: a referring prediction file w/in/pred.json."""
    def setup(d, w):
        write_json(w / 'in' / 'pred.json', entries)
    return setup


def _eval_refer(*extra, pred=None):
    def argv(d, w):
        return ['--data-root', d.refer, '--dataset', 'refcoco',
                '--split-by', 'unc', '--split', 'val', '--pred',
                pred(d, w) if pred else w / 'in' / 'pred.json',
                '--out', w / 'out' / 'm.json'] + list(extra)
    return argv


_RLE_BAD = dict(size=[32, 64], counts='o0o0')  # runs < 0 (eval_vis hung)

CASES = [
    # ---------------------------------------------------- kitti_step_prepare
    Case('kitti-src-missing', KITTI_PREP,
         lambda d, w: ['--src', w / 'nope', '--dst', w / 'out'],
         _words('--src', lambda d, w: w / 'nope', 'no such folder')),
    Case('kitti-src-is-file', KITTI_PREP,
         lambda d, w: ['--src', d.text, '--dst', w / 'out'],
         _words('--src', 'is a file')),
    Case('kitti-dst-inside-src', KITTI_PREP,
         lambda d, w: ['--src', d.kitti_raw, '--dst', d.kitti_raw / 'out'],
         _words('--dst', 'inside the input folder')),
    Case('kitti-dst-is-src', KITTI_PREP,
         lambda d, w: ['--src', d.kitti_raw, '--dst', d.kitti_raw],
         _words('--dst', 'is the input folder')),
    Case('kitti-dst-is-file', KITTI_PREP,
         lambda d, w: ['--src', d.kitti_raw, '--dst', d.text],
         _words('--dst', 'is a file, expected a folder')),
    Case('kitti-dst-under-file', KITTI_PREP,
         lambda d, w: ['--src', d.kitti_raw, '--dst', d.text / 'x'],
         _words('--dst', 'is a file, not a folder')),
    Case('kitti-dst-unwritable', KITTI_PREP,
         lambda d, w: ['--src', d.kitti_raw, '--dst', UNWRITABLE],
         _words('--dst', 'cannot write')),
    Case('kitti-label-missing', KITTI_PREP,
         lambda d, w: ['--src', w / 'in' / 'raw', '--dst', w / 'out'],
         _words('0001/000001.png', 'missing'),
         setup=_kitti_src_without_label),
    Case('kitti-unofficial-sequence', KITTI_PREP,
         lambda d, w: ['--src', w / 'in' / 'raw', '--dst', w / 'out'],
         _words('0025', 'not an official'),
         setup=_kitti_src_extra_sequence),
    Case('kitti-bad-mode', KITTI_PREP,
         lambda d, w: ['--src', d.kitti_raw, '--dst', w / 'out', '--mode',
                       'move'],
         _words('--mode', 'invalid choice'), rc=2),
    # ------------------------------------------------------- youtubevis2coco
    Case('ytvis-input-missing', YTVIS2COCO,
         lambda d, w: ['-i', w / 'nope', '-o', w / 'out', '--version',
                       '2019'],
         _words('--input', 'no such folder')),
    Case('ytvis-input-empty', YTVIS2COCO,
         lambda d, w: ['-i', w / 'in', '-o', w / 'out', '--version', '2019'],
         _words('train.json'), setup=lambda d, w: (w / 'in').mkdir()),
    Case('ytvis-truncated-json', YTVIS2COCO,
         lambda d, w: ['-i', w / 'in' / 'ann', '-o', w / 'out', '--version',
                       '2019'],
         _words('train.json', 'not valid JSON'),
         setup=lambda d, w: write_json(w / 'in' / 'ann' / 'train.json',
                                       {}).write_text('{"videos": [')),
    Case('ytvis-top-level-list', YTVIS2COCO,
         lambda d, w: ['-i', w / 'in' / 'ann', '-o', w / 'out', '--version',
                       '2019'],
         _words('train.json', 'expected an object, got a list'),
         setup=_ytvis(lambda data: [data])),
    Case('ytvis-null-segmentations', YTVIS2COCO,
         lambda d, w: ['-i', w / 'in' / 'ann', '-o', w / 'out', '--version',
                       '2019'],
         _words('annotations[0].segmentations', 'expected a list, got null'),
         setup=_ytvis(lambda data: data['annotations'][0].update(
             segmentations=None))),
    Case('ytvis-int-segmentation', YTVIS2COCO,
         lambda d, w: ['-i', w / 'in' / 'ann', '-o', w / 'out', '--version',
                       '2019'],
         _words('annotations[0].segmentations[0]', 'RLE object or polygons'),
         setup=_ytvis(lambda data: data['annotations'][0][
             'segmentations'].__setitem__(0, 7))),
    Case('ytvis-float-category', YTVIS2COCO,
         lambda d, w: ['-i', w / 'in' / 'ann', '-o', w / 'out', '--version',
                       '2019'],
         _words('annotations[0].category_id', 'expected an integer, got 1.5'),
         setup=_ytvis(lambda data: data['annotations'][0].update(
             category_id=1.5))),
    Case('ytvis-duplicate-video', YTVIS2COCO,
         lambda d, w: ['-i', w / 'in' / 'ann', '-o', w / 'out', '--version',
                       '2019'],
         _words('videos[1].id', 'duplicate id'),
         setup=_ytvis(lambda data: data['videos'][1].update(
             id=data['videos'][0]['id']))),
    Case('ytvis-invalid-rle', YTVIS2COCO,
         lambda d, w: ['-i', w / 'in' / 'ann', '-o', w / 'out', '--version',
                       '2019'],
         _words('.counts', 'invalid RLE counts'),
         setup=_ytvis(lambda data: _first_rle_counts(data, [5, -3, 2]))),
    Case('ytvis-short-bboxes', YTVIS2COCO,
         lambda d, w: ['-i', w / 'in' / 'ann', '-o', w / 'out', '--version',
                       '2019'],
         _words('annotations[0].bboxes', 'expected 2'),
         setup=_ytvis(lambda data: data['annotations'][0].update(
             bboxes=[None]))),
    Case('ytvis-unknown-video', YTVIS2COCO,
         lambda d, w: ['-i', w / 'in' / 'ann', '-o', w / 'out', '--version',
                       '2019'],
         _words('annotations[0].video_id', 'unknown video id 999'),
         setup=_ytvis(lambda data: data['annotations'][0].update(
             video_id=999))),
    Case('ytvis-holdout-too-large', YTVIS2COCO,
         lambda d, w: ['-i', d.ytvis_ann, '-o', w / 'out', '--version',
                       '2019', '--holdout', '100'],
         _words('--holdout 100', 'must lie in')),
    Case('ytvis-holdout-negative', YTVIS2COCO,
         lambda d, w: ['-i', d.ytvis_ann, '-o', w / 'out', '--version',
                       '2019', '--holdout', '-1'],
         _words('--holdout', '>= 0'), rc=2),
    Case('ytvis-output-is-file', YTVIS2COCO,
         lambda d, w: ['-i', d.ytvis_ann, '-o', d.ytvis_train, '--version',
                       '2019'],
         _words('--output', 'is a file, expected a folder')),
    # -------------------------------------------------------- vipseg_prepare
    Case('vipseg-duplicate-in-split', VIPSEG_PREP,
         lambda d, w: ['--src', w / 'in' / 'raw', '--dst', w / 'out',
                       '--short-side', '24'],
         _words('train.txt:3', 'listed twice'),
         setup=_vipseg(lambda src: _append_line(
             src / 'train.txt', (src / 'train.txt').read_text().split()[0]))),
    Case('vipseg-video-in-two-splits', VIPSEG_PREP,
         lambda d, w: ['--src', w / 'in' / 'raw', '--dst', w / 'out',
                       '--short-side', '24'],
         _words('val.txt', 'also listed in train.txt'),
         setup=_vipseg(lambda src: _append_line(
             src / 'val.txt', (src / 'train.txt').read_text().split()[0]))),
    Case('vipseg-empty-split', VIPSEG_PREP,
         lambda d, w: ['--src', w / 'in' / 'raw', '--dst', w / 'out',
                       '--short-side', '24'],
         _words('val.txt', 'lists no video'),
         setup=_vipseg(lambda src: (src / 'val.txt').write_text('\n'))),
    Case('vipseg-path-in-split', VIPSEG_PREP,
         lambda d, w: ['--src', w / 'in' / 'raw', '--dst', w / 'out',
                       '--short-side', '24'],
         _words('val.txt:2', 'not a plain video'),
         setup=_vipseg(lambda src: _append_line(src / 'val.txt', '../x'))),
    Case('vipseg-truncated-mask', VIPSEG_PREP,
         lambda d, w: ['--src', w / 'in' / 'raw', '--dst', w / 'out',
                       '--short-side', '24'],
         _words(lambda d, w: _first_mask(w / 'in' / 'raw'), 'cannot decode'),
         setup=_vipseg(lambda src: _first_mask(src).write_bytes(
             _first_mask(src).read_bytes()[:40]))),
    Case('vipseg-rgb-mask', VIPSEG_PREP,
         lambda d, w: ['--src', w / 'in' / 'raw', '--dst', w / 'out',
                       '--short-side', '24'],
         _words(lambda d, w: _first_mask(w / 'in' / 'raw'),
                'single-channel'),
         setup=_vipseg(lambda src: save_image(
             _first_mask(src), np.zeros((24, 40, 3), np.uint8)))),
    Case('vipseg-mask-wrong-size', VIPSEG_PREP,
         lambda d, w: ['--src', w / 'in' / 'raw', '--dst', w / 'out',
                       '--short-side', '24'],
         _words(lambda d, w: _first_mask(w / 'in' / 'raw'),
                'differs from its image'),
         setup=_vipseg(lambda src: save_image(
             _first_mask(src), np.zeros((10, 10), np.uint16)))),
    Case('vipseg-illegal-value', VIPSEG_PREP,
         lambda d, w: ['--src', w / 'in' / 'raw', '--dst', w / 'out',
                       '--short-side', '24'],
         _words(lambda d, w: _first_mask(w / 'in' / 'raw'),
                'illegal value'),
         setup=_vipseg(lambda src: save_image(
             _first_mask(src), np.full((24, 40), 60000, np.uint16)))),
    Case('vipseg-short-side-zero', VIPSEG_PREP,
         lambda d, w: ['--src', d.vipseg_raw, '--dst', w / 'out',
                       '--short-side', '0'],
         _words('--short-side', 'got 0'), rc=2),
    Case('vipseg-rerun-other-size', VIPSEG_PREP,
         lambda d, w: ['--src', d.vipseg_raw, '--dst', w / 'in' / 'prep',
                       '--short-side', '16'],
         _words('exists at', '--force'),
         setup=lambda d, w: run_cli(load_script(VIPSEG_PREP).main, [
             '--src', str(d.vipseg_raw), '--dst', str(w / 'in' / 'prep'),
             '--short-side', '24'])),
    # ---------------------------------------------------- cityscapes_prepare
    Case('cityscapes-label-missing', CITY_PREP,
         lambda d, w: ['--src', w / 'in' / 'raw', '--dst', w / 'out',
                       '--splits', 'train'],
         _words('_gtFine_labelIds.png', 'missing'),
         setup=lambda d, w: os.remove(sorted(copytree(
             d.cityscapes_raw, w / 'in' / 'raw').rglob(
                 '*_labelIds.png'))[0])),
    Case('cityscapes-truncated-label', CITY_PREP,
         lambda d, w: ['--src', w / 'in' / 'raw', '--dst', w / 'out',
                       '--splits', 'train'],
         _words('_gtFine_labelIds.png', 'cannot decode'),
         setup=lambda d, w: [p.write_bytes(p.read_bytes()[:30]) for p in
                             sorted(copytree(d.cityscapes_raw, w / 'in' /
                                             'raw').rglob('*_labelIds.png'))
                             [:1]]),
    Case('cityscapes-illegal-label', CITY_PREP,
         lambda d, w: ['--src', w / 'in' / 'raw', '--dst', w / 'out',
                       '--splits', 'train'],
         _words('_gtFine_labelIds.png', 'illegal label id 200'),
         setup=lambda d, w: [save_image(p, np.full_like(read_image(p), 200))
                             for p in sorted(copytree(
                                 d.cityscapes_raw, w / 'in' / 'raw').rglob(
                                     '*_labelIds.png'))[:1]]),
    Case('cityscapes-dst-inside-src', CITY_PREP,
         lambda d, w: ['--src', d.cityscapes_raw, '--dst',
                       d.cityscapes_raw / 'gtFine' / 'out'],
         _words('--dst', 'inside the input folder')),
    # ------------------------------------------------------------ refer2coco
    Case('refer2coco-root-missing', REFER2COCO,
         lambda d, w: ['--data-root', w / 'nope', '--dataset', 'refcoco',
                       '--split-by', 'unc', '--out', w / 'out'],
         _words('--data-root', 'no such folder')),
    Case('refer2coco-garbage-pickle', REFER2COCO, _refer_argv(REFER2COCO),
         _words('refs(unc).p', 'cannot unpickle'),
         setup=lambda d, w: (copytree(d.refer, w / 'in' / 'refer') /
                             'refcoco' / 'refs(unc).p').write_bytes(
                                 b'\x80\x04garbage')),
    Case('refer2coco-ref-without-sentences', REFER2COCO,
         _refer_argv(REFER2COCO),
         _words('refs(unc).p', 'refs[0]', "missing key 'sentences'"),
         setup=_refer(lambda refs: refs[0].pop('sentences'))),
    Case('refer2coco-duplicate-sent-id', REFER2COCO, _refer_argv(REFER2COCO),
         _words('refs(unc).p', 'duplicate sent_id'),
         setup=_refer(lambda refs: refs[1]['sentences'][0].update(
             sent_id=refs[0]['sentences'][0]['sent_id']))),
    Case('refer2coco-instances-list', REFER2COCO, _refer_argv(REFER2COCO),
         _words('instances.json', 'expected an object, got a list'),
         setup=_refer(instances=lambda data: [data])),
    Case('refer2coco-bad-bbox', REFER2COCO, _refer_argv(REFER2COCO),
         _words('instances.json', 'annotations[0].bbox', 'bbox must be'),
         setup=_refer(instances=lambda data: data['annotations'][0].update(
             bbox=[1, 2, 3]))),
    Case('refer2coco-unknown-split', REFER2COCO,
         lambda d, w: ['--data-root', d.refer, '--dataset', 'refcoco',
                       '--split-by', 'unc', '--out', w / 'out', '--splits',
                       'testC'],
         _words('refs(unc).p', "no refs in split 'testC'")),
    Case('refer2coco-unknown-split-by', REFER2COCO,
         lambda d, w: ['--data-root', d.refer, '--dataset', 'refcoco',
                       '--split-by', 'umd', '--out', w / 'out'],
         _words('refs(umd).p', "no splitBy 'umd'")),
    # ------------------------------------------------------------ eval_refer
    Case('eval-refer-pred-missing', EVAL_REFER,
         _eval_refer(pred=lambda d, w: w / 'nope.json'),
         _words('--pred', 'no such file')),
    Case('eval-refer-pred-not-json', EVAL_REFER, _eval_refer(),
         _words('pred.json', 'not valid JSON'),
         setup=lambda d, w: write_json(w / 'in' / 'pred.json',
                                       {}).write_text('[{"sent_id": 3,')),
    Case('eval-refer-pred-object', EVAL_REFER, _eval_refer(),
         _words('pred.json', 'expected a list of predictions'),
         setup=_pred({'preds': []})),
    Case('eval-refer-duplicate', EVAL_REFER, _eval_refer(),
         _words('pred.json', 'two predictions for sent_id 3'),
         setup=_pred([dict(sent_id=3, bbox=[0, 0, 4, 4])] * 2)),
    Case('eval-refer-short-bbox', EVAL_REFER, _eval_refer(),
         _words('pred.json', 'prediction 0.bbox', 'bbox must be'),
         setup=_pred([dict(sent_id=3, bbox=[1, 1])])),
    Case('eval-refer-mixed-keys', EVAL_REFER, _eval_refer(),
         _words('pred.json', 'prediction 1', 'ref_id'),
         setup=_pred([dict(sent_id=3, bbox=[0, 0, 4, 4]),
                      dict(ref_id=2, bbox=[0, 0, 4, 4])])),
    Case('eval-refer-empty', EVAL_REFER, _eval_refer(),
         _words('pred.json', 'nothing to evaluate'), setup=_pred([])),
    Case('eval-refer-other-split', EVAL_REFER, _eval_refer(),
         _words('pred.json', 'nothing to evaluate'),
         setup=_pred([dict(sent_id=0, bbox=[0, 0, 4, 4])])),
    Case('eval-refer-invalid-rle', EVAL_REFER, _eval_refer(),
         _words('pred.json', 'prediction 0.segmentation.counts',
                'invalid RLE'),
         setup=_pred([dict(sent_id=3, segmentation=_RLE_BAD)])),
    Case('eval-refer-rle-size', EVAL_REFER, _eval_refer(),
         _words('pred.json', 'sent_id 3', 'does not match the image'),
         setup=_pred([dict(sent_id=3, segmentation=dict(
             size=[2, 2], counts=[0, 4]))])),
    Case('eval-refer-iou-thr-2', EVAL_REFER, _eval_refer('--iou-thr', '2'),
         _words('--iou-thr', 'got 2'), rc=2,
         setup=_pred([dict(sent_id=3, bbox=[0, 0, 4, 4])])),
    Case('eval-refer-iou-thr-nan', EVAL_REFER,
         _eval_refer('--iou-thr', 'nan'), _words('--iou-thr'), rc=2,
         setup=_pred([dict(sent_id=3, bbox=[0, 0, 4, 4])])),
    Case('eval-refer-out-is-pred', EVAL_REFER,
         lambda d, w: ['--data-root', d.refer, '--dataset', 'refcoco',
                       '--split-by', 'unc', '--split', 'val', '--pred',
                       w / 'in' / 'pred.json', '--out',
                       w / 'in' / 'pred.json'],
         _words('--out', 'is the input file'),
         setup=_pred([dict(sent_id=3, bbox=[0, 0, 4, 4])])),
    Case('eval-refer-unknown-split', EVAL_REFER,
         lambda d, w: ['--data-root', d.refer, '--dataset', 'refcoco',
                       '--split-by', 'unc', '--split', 'testZ', '--pred',
                       w / 'in' / 'pred.json'],
         _words("no such split 'testZ'"),
         setup=_pred([dict(sent_id=3, bbox=[0, 0, 4, 4])])),
    # ------------------------------------------------------------ check_data
    Case('check-unknown-dataset', CHECK,
         lambda d, w: ['nope', '--root', d.kitti], _words("'nope'")),
    Case('check-sample-zero', CHECK,
         lambda d, w: ['kitti-step', '--root', d.kitti, '--sample', '0'],
         _words('--sample', 'got 0'), rc=2),
    Case('check-root-missing', CHECK,
         lambda d, w: ['kitti-step', '--root', w / 'nope'],
         _words('--root', 'no such folder')),
    Case('check-vipseg-duplicate', CHECK,
         lambda d, w: ['vipseg', '--root', w / 'in' / 'prep'],
         _words('train.txt:3', 'listed twice'), report=True,
         setup=lambda d, w: (
             run_cli(load_script(VIPSEG_PREP).main, [
                 '--src', str(d.vipseg_raw), '--dst', str(w / 'in' / 'prep'),
                 '--short-side', '24']),
             _append_line(w / 'in' / 'prep' / 'train.txt', (
                 w / 'in' / 'prep' / 'train.txt').read_text().split()[0]))),
    Case('check-vipseg-empty-split', CHECK,
         lambda d, w: ['vipseg', '--root', w / 'in' / 'prep'],
         _words('val.txt', 'lists no video'), report=True,
         setup=lambda d, w: (
             run_cli(load_script(VIPSEG_PREP).main, [
                 '--src', str(d.vipseg_raw), '--dst', str(w / 'in' / 'prep'),
                 '--short-side', '24']),
             (w / 'in' / 'prep' / 'val.txt').write_text(''))),
    Case('check-coco-duplicate-segment', CHECK,
         lambda d, w: ['coco', '--root', w / 'in' / 'coco'],
         _words('panoptic_train2017.json', 'segments_info[1].id',
                'duplicate id'), report=True,
         setup=lambda d, w: edit_json(
             d.coco / 'annotations' / 'panoptic_train2017.json',
             copytree(d.coco, w / 'in' / 'coco') / 'annotations' /
             'panoptic_train2017.json', _duplicate_segment)),
    Case('check-kitti-truncated-png', CHECK,
         lambda d, w: ['kitti-step', '--root', w / 'in' / 'kitti', '--full'],
         _words('000002_000000_panoptic.png', 'cannot decode'), report=True,
         setup=lambda d, w: _truncate(copytree(d.kitti, w / 'in' / 'kitti') /
                                      'video_sequence' / 'val' /
                                      '000002_000000_panoptic.png')),
    Case('check-kitti-class-200', CHECK,
         lambda d, w: ['kitti-step', '--root', w / 'in' / 'kitti', '--full'],
         _words('000002_000000_panoptic.png', '200'), report=True,
         setup=lambda d, w: _paint_class(copytree(
             d.kitti, w / 'in' / 'kitti') / 'video_sequence' / 'val' /
             '000002_000000_panoptic.png', 200)),
    Case('check-cityscapes-vps-json-list', CHECK,
         lambda d, w: ['cityscapes_vps', '--root', w / 'in' / 'cvps'],
         _words('panoptic_gt_val_city_vps.json', 'expected an object'),
         report=True,
         setup=lambda d, w: edit_json(
             d.cvps / 'panoptic_gt_val_city_vps.json',
             copytree(d.cvps, w / 'in' / 'cvps') /
             'panoptic_gt_val_city_vps.json', lambda data: [data])),
    Case('check-ytvis-string-frame-id', CHECK,
         lambda d, w: ['youtube_vis_2019', '--root', w / 'in' / 'yt'],
         _words('youtube_vis_2019_train.json', 'images[0].frame_id',
                'expected an integer'), report=True,
         setup=_converted_ytvis(lambda data: data['images'][0].update(
             frame_id='0'))),
    Case('check-refcoco-bad-refs', CHECK,
         lambda d, w: ['refcoco', '--root', w / 'in' / 'refer'],
         _words('refs(unc).p', "missing key 'split'"), report=True,
         setup=_refer(lambda refs: refs[0].pop('split'))),
    # -------------------------------------------------------- make_synthetic
    Case('synthetic-zero-videos', SYNTH,
         lambda d, w: ['kitti-step', '--out', w / 'out', '--videos', '0'],
         _words('--videos', 'got 0'), rc=2),
    Case('synthetic-negative-size', SYNTH,
         lambda d, w: ['kitti-step', '--out', w / 'out', '--size', '-1',
                       '8'],
         _words('--size', 'got -1'), rc=2),
    Case('synthetic-too-many-videos', SYNTH,
         lambda d, w: ['kitti-step', '--out', w / 'out', '--videos', '22'],
         _words('kitti-step', '1..21'), rc=2),
    Case('synthetic-out-is-file', SYNTH,
         lambda d, w: ['kitti-step', '--out', d.text],
         _words('--out', 'is a file, expected a folder')),
    Case('synthetic-out-unwritable', SYNTH,
         lambda d, w: ['kitti-step', '--out', UNWRITABLE],
         _words('--out', 'cannot write')),
    # ---------------------------------------------------------- analyze_logs
    Case('logs-missing', LOGS,
         lambda d, w: ['plot_curve', w / 'nope.json', '--out',
                       w / 'out' / 'c.png'],
         _words('json_logs', 'no such file')),
    Case('logs-not-json-lines', LOGS,
         lambda d, w: ['plot_curve', d.text, '--out', w / 'out' / 'c.png'],
         _words('notes.txt:1', 'not a JSON line')),
    Case('logs-out-is-log', LOGS,
         lambda d, w: ['plot_curve', d.log, '--out', d.log],
         _words('--out', 'is the input file')),
    Case('logs-out-replaces-log', LOGS,
         lambda d, w: ['plot_curve', w / 'in' / 'log.png', '--out',
                       w / 'in' / 'log.png'],
         _words('--out', 'is the input file'),
         setup=lambda d, w: shutil.copyfile(d.log, write_json(
             w / 'in' / 'log.png', {}))),
    Case('logs-unknown-key', LOGS,
         lambda d, w: ['plot_curve', d.log, '--keys', 'nope', '--out',
                       w / 'out' / 'c.png'],
         _words('scalars.json', 'no values for key(s) nope')),
    Case('logs-empty', LOGS,
         lambda d, w: ['cal_train_time', w / 'in' / 'empty.json'],
         _words('empty.json', 'no MMEngine log records'),
         setup=lambda d, w: write_json(w / 'in' / 'empty.json',
                                       {}).write_text('')),
    # ---------------------------------------------------------------- eval_vps
    Case('eval-vps-out-is-gt-png', EVAL_VPS,
         lambda d, w: _kitti_eval(d, w, out=d.kitti / 'video_sequence' /
                                  'val' / '000002_000000_panoptic.png'),
         _words('--out', 'inside the input folder')),
    Case('eval-vps-out-suffix', EVAL_VPS,
         lambda d, w: _kitti_eval(d, w, out=w / 'out' / 'm.png'),
         _words('--out', 'must end with .json')),
    Case('eval-vps-out-in-gt-root', EVAL_VPS,
         lambda d, w: _kitti_eval(d, w, out=d.kitti / 'm.json'),
         _words('--out', 'inside the input folder')),
    Case('eval-vps-out-in-pred-dir', EVAL_VPS,
         lambda d, w: _kitti_eval(d, w, out=d.kitti_pred / '0002' /
                                  'm.json'),
         _words('--out', 'inside the input folder')),
    Case('eval-vps-pred-dir-missing', EVAL_VPS,
         lambda d, w: _kitti_eval(d, w, pred=w / 'nope'),
         _words('--pred-dir', 'no such folder')),
    Case('eval-vps-missing-frame', EVAL_VPS,
         lambda d, w: _kitti_eval(d, w, pred=w / 'in' / 'pred'),
         _words('0002/000001.png', 'prediction frame missing'),
         setup=lambda d, w: os.remove(copytree(
             d.kitti_pred, w / 'in' / 'pred') / '0002' / '000001.png')),
    Case('eval-vps-extra-frame', EVAL_VPS,
         lambda d, w: _kitti_eval(d, w, pred=w / 'in' / 'pred'),
         _words('000009.png', 'extra prediction frame'),
         setup=lambda d, w: shutil.copyfile(
             d.kitti_pred / '0002' / '000000.png', copytree(
                 d.kitti_pred, w / 'in' / 'pred') / '0002' / '000009.png')),
    Case('eval-vps-truncated-png', EVAL_VPS,
         lambda d, w: _kitti_eval(d, w, pred=w / 'in' / 'pred'),
         _words('0002/000000.png', 'cannot decode'),
         setup=lambda d, w: _truncate(copytree(
             d.kitti_pred, w / 'in' / 'pred') / '0002' / '000000.png')),
    Case('eval-vps-wrong-size', EVAL_VPS,
         lambda d, w: _kitti_eval(d, w, pred=w / 'in' / 'pred'),
         _words('0002/000000.png', 'prediction is 8x8'),
         setup=lambda d, w: save_image(copytree(
             d.kitti_pred, w / 'in' / 'pred') / '0002' / '000000.png',
             np.zeros((8, 8, 3), np.uint8))),
    Case('eval-vps-gray-png', EVAL_VPS,
         lambda d, w: _kitti_eval(d, w, pred=w / 'in' / 'pred'),
         _words('0002/000000.png', 'must be an 8-bit RGB PNG'),
         setup=lambda d, w: save_image(copytree(
             d.kitti_pred, w / 'in' / 'pred') / '0002' / '000000.png',
             np.zeros((32, 64), np.uint8))),
    Case('eval-vps-class-200', EVAL_VPS,
         lambda d, w: _kitti_eval(d, w, pred=w / 'in' / 'pred'),
         _words('0002/000000.png', 'class id 200', '0..18'),
         setup=lambda d, w: _paint_class(copytree(
             d.kitti_pred, w / 'in' / 'pred') / '0002' / '000000.png', 200)),
    Case('eval-vps-workers-zero', EVAL_VPS,
         lambda d, w: _kitti_eval(d, w) + ['--workers', '0'],
         _words('--workers', 'got 0'), rc=2),
    Case('eval-vps-window-zero', EVAL_VPS,
         lambda d, w: _kitti_eval(d, w) + ['--vpq-windows', '1', '0'],
         _words('--vpq-windows', 'got 0'), rc=2),
    Case('eval-vps-unknown-split', EVAL_VPS,
         lambda d, w: _kitti_eval(d, w) + ['--split', 'nope'],
         _words('video_sequence/nope', 'not found')),
    Case('eval-vps-city-pred-json-list', EVAL_VPS, _city_eval,
         _words('pred.json', 'expected an object, got a list'),
         setup=_city_pred(lambda data: [data])),
    Case('eval-vps-city-float-category', EVAL_VPS, _city_eval,
         _words('pred.json', 'segments_info[0].category_id',
                'expected an integer, got 11.5'),
         setup=_city_pred(lambda data: data['annotations'][0][
             'segments_info'][0].update(category_id=11.5))),
    Case('eval-vps-city-duplicate-segment', EVAL_VPS, _city_eval,
         _words('pred.json', 'segments_info[1].id', 'duplicate id'),
         setup=_city_pred(_duplicate_segment)),
    Case('eval-vps-city-unknown-category', EVAL_VPS, _city_eval,
         _words('pred.json', 'unknown category id 77'),
         setup=_city_pred(lambda data: data['annotations'][0][
             'segments_info'][0].update(category_id=77))),
    Case('eval-vps-vipseg-duplicate-video', EVAL_VPS, _vipseg_eval,
         _words('pred.json', 'listed twice'),
         setup=_vipseg_pred(lambda data: data['annotations'].append(
             data['annotations'][0]))),
    Case('eval-vps-vipseg-split-duplicate', EVAL_VPS,
         lambda d, w: ['vipseg', '--gt-root', w / 'in' / 'gt', '--split',
                       'val', '--pred-dir', d.vipseg_pred, '--out',
                       w / 'out' / 'm.json'],
         _words('val.txt:2', 'listed twice'),
         setup=lambda d, w: _append_line(
             copytree(d.vipseg_raw, w / 'in' / 'gt') / 'val.txt',
             (d.vipseg_raw / 'val.txt').read_text().split()[0])),
    # ---------------------------------------------------------------- eval_vis
    Case('eval-vis-invalid-rle', EVAL_VIS, _vis_eval,
         _words('res.json', '.counts', 'invalid RLE counts'),
         setup=_vis_results(lambda r: _first_result_rle(r).update(
             counts='o0o0'))),
    Case('eval-vis-results-object', EVAL_VIS, _vis_eval,
         _words('res.json', 'results must be a JSON list'),
         setup=_vis_results(lambda r: {'results': r})),
    Case('eval-vis-null-segmentations', EVAL_VIS, _vis_eval,
         _words('res.json', 'result 0.segmentations', 'got null'),
         setup=_vis_results(lambda r: r[0].update(segmentations=None))),
    Case('eval-vis-score-nan', EVAL_VIS, _vis_eval,
         _words('res.json', 'result 0.score', 'finite number'),
         setup=_vis_results(lambda r: r[0].update(score=float('nan')))),
    Case('eval-vis-rle-wrong-size', EVAL_VIS, _vis_eval,
         _words('res.json', 'mask is 4x4'),
         setup=_vis_results(lambda r: _first_result_rle(r).update(
             size=[4, 4], counts=[16]))),
    Case('eval-vis-gt-without-labels', EVAL_VIS,
         lambda d, w: ['--gt', d.ytvis_ann / 'valid.json', '--results',
                       d.ytvis_results, '--out',
                       w / 'out' / 'm.json'],
         _words('valid.json', 'no annotations')),
    Case('eval-vis-zip-without-json', EVAL_VIS,
         lambda d, w: ['--gt', d.ytvis_train, '--results',
                       w / 'in' / 'sub.zip', '--out', w / 'out' / 'm.json'],
         _words('sub.zip', 'no .json file'),
         setup=lambda d, w: _zip(w / 'in' / 'sub.zip', 'readme.txt',
                                 'nothing')),
    Case('eval-vis-out-is-gt', EVAL_VIS,
         lambda d, w: ['--gt', d.ytvis_train, '--results',
                       d.ytvis_results, '--out',
                       d.ytvis_train],
         _words('--out', 'is the input file')),
    # -------------------------------------------------------------- train.py
    Case('train-config-missing', TRAIN, lambda d, w: [w / 'nope.py'],
         _words('config', 'nope.py', 'no such file')),
    Case('train-config-syntax', TRAIN, lambda d, w: [w / 'in' / 'bad.py'],
         _words('bad.py', 'cannot load config', 'SyntaxError'),
         setup=lambda d, w: write_json(w / 'in' / 'bad.py', {}).write_text(
             'model = dict(\n')),
    Case('train-unknown-type', TRAIN,
         lambda d, w: [w / 'in' / 'nope.py', '--work-dir', w / 'out'],
         _words('nope.py', 'Nope is not in the', 'registry'), logs_ok=True,
         setup=lambda d, w: write_json(w / 'in' / 'nope.py', {}).write_text(
             "model = dict(type='Nope')\n")),
    Case('train-cfg-options-malformed', TRAIN,
         lambda d, w: [REPO / E2E, '--cfg-options', 'model'],
         _words('--cfg-options', 'KEY=VALUE'), rc=2),
    Case('train-work-dir-is-file', TRAIN,
         lambda d, w: [REPO / E2E, '--work-dir', d.text],
         _words('--work-dir', 'is a file, expected a folder')),
    Case('train-resume-missing', TRAIN,
         lambda d, w: [REPO / E2E, '--work-dir', w / 'out', '--resume',
                       w / 'nope.pth'],
         _words('nope.pth', 'checkpoint to resume from not found')),
    Case('train-data-root-missing', TRAIN,
         lambda d, w: [REPO / E2E, '--work-dir', w / 'out', '--cfg-options',
                       f'train_dataloader.dataset.data_root={w}/nope/'],
         _words('nope', 'not found'), logs_ok=True),
    # --------------------------------------------------------------- test.py
    Case('test-checkpoint-missing', TEST,
         lambda d, w: [REPO / E2E, w / 'nope.pth'],
         _words('checkpoint', 'nope.pth', 'no such file')),
    Case('test-out-suffix', TEST,
         lambda d, w: [REPO / E2E, d.text, '--out', w / 'out' / 'r.txt'],
         _words('--out', 'must end with .pkl or .pickle')),
    Case('test-format-only-alone', TEST,
         lambda d, w: [REPO / E2E, d.text, '--format-only'],
         _words('--format-only needs --submission-dir')),
    Case('test-submission-dir-is-file', TEST,
         lambda d, w: [REPO / E2E, d.text, '--submission-dir', d.log],
         _words('--submission-dir', 'is a file, expected a folder')),
    Case('test-show-dir-is-config', TEST,
         lambda d, w: [REPO / E2E, d.text, '--show-dir', REPO / E2E],
         _words('--show-dir', 'is the input file')),
    Case('test-show-dir-is-file', TEST,
         lambda d, w: [REPO / E2E, d.text, '--show-dir', d.log],
         _words('--show-dir', 'is a file, expected a folder')),
    Case('test-show-without-display', TEST,
         lambda d, w: [REPO / E2E, d.checkpoint(), '--show', '--work-dir',
                       w / 'out'] + d.data_options(),
         _words('--show needs a display'),
         env=dict(DISPLAY=None, WAYLAND_DISPLAY=None)),
    Case('test-submission-dir-in-data-root', TEST,
         lambda d, w: [REPO / E2E, d.checkpoint(), '--submission-dir',
                       d.kitti / 'submission'] + d.data_options(),
         _words('--submission-dir', 'inside the input folder')),
    Case('train-work-dir-in-data-root', TRAIN,
         lambda d, w: [REPO / E2E, '--work-dir', d.kitti / 'work'] +
         d.data_options(),
         _words('work_dir', 'inside the input folder')),
    Case('test-wait-time-negative', TEST,
         lambda d, w: [REPO / E2E, d.text, '--wait-time', '-1'],
         _words('--wait-time', 'got -1'), rc=2),
    Case('test-garbage-checkpoint', TEST,
         lambda d, w: [REPO / E2E, d.checkpoint('garbage'), '--work-dir',
                       w / 'out'] + d.data_options(),
         _words('garbage.pth', 'cannot be read as a checkpoint'),
         logs_ok=True),
    Case('test-mismatched-checkpoint', TEST,
         lambda d, w: [REPO / E2E, d.checkpoint('mismatched'), '--work-dir',
                       w / 'out'] + d.data_options(),
         _words('mismatched.pth', 'neck.0.'), logs_ok=True),
    # ------------------------------------------------------------ video_demo
    Case('demo-input-missing', DEMO,
         lambda d, w: _demo(d, w, input=w / 'nope.mp4'),
         _words('--input', 'no such file or folder')),
    Case('demo-out-is-input', DEMO,
         lambda d, w: _demo(d, w, input=d.video, out=d.video),
         _words('--out', 'clip.mp4', 'is the input file')),
    Case('demo-out-in-input-folder', DEMO,
         lambda d, w: _demo(d, w, out=d.frames / 'out.mp4'),
         _words('--out', 'inside the input folder')),
    Case('demo-out-avi', DEMO,
         lambda d, w: _demo(d, w, out=w / 'out' / 'x.avi'),
         _words('--out', 'must end with .mp4 or .gif'), rc=2),
    Case('demo-max-frames-zero', DEMO,
         lambda d, w: _demo(d, w) + ['--max-frames', '0'],
         _words('--max-frames', 'got 0'), rc=2),
    Case('demo-alpha-two', DEMO, lambda d, w: _demo(d, w) + ['--alpha', '2'],
         _words('--alpha', 'got 2'), rc=2),
    Case('demo-save-pred-is-file', DEMO,
         lambda d, w: _demo(d, w) + ['--save-pred', d.text],
         _words('--save-pred', 'is a file, expected a folder')),
    Case('demo-garbage-video', DEMO,
         lambda d, w: _demo(d, w, input=w / 'in' / 'fake.mp4'),
         _words('fake.mp4', 'cannot open the video'),
         setup=lambda d, w: write_json(w / 'in' / 'fake.mp4', {})),
    Case('demo-garbage-checkpoint', DEMO,
         lambda d, w: _demo(d, w, ckpt=d.checkpoint('garbage')),
         _words('garbage.pth', 'cannot be read as a checkpoint')),
    Case('demo-mismatched-checkpoint', DEMO,
         lambda d, w: _demo(d, w, ckpt=d.checkpoint('mismatched')),
         _words('mismatched.pth', 'does not fit the model', 'neck.0.')),
    Case('demo-device-unknown', DEMO,
         lambda d, w: _demo(d, w) + ['--device', 'gpu'],
         _words('--device', "'gpu'"), rc=2),
    Case('demo-onnx-truncated', DEMO,
         lambda d, w: _demo(d, w, ckpt=d.onnx('truncated')),
         _words('truncated.onnx', 'not a loadable ONNX model'),
         marks=(ONNX,)),
    Case('demo-onnx-garbage', DEMO,
         lambda d, w: _demo(d, w, ckpt=d.onnx('garbage')),
         _words('garbage.onnx', 'not a loadable ONNX model'),
         marks=(ONNX,)),
    Case('demo-onnx-other-config', DEMO,
         lambda d, w: [REPO / TINY] + _demo(d, w, ckpt=d.onnx())[1:],
         _words('good.onnx', 'exported from another model',
                'frozen_stages'), marks=(ONNX,)),
    Case('demo-out-is-onnx', DEMO,
         lambda d, w: _demo(d, w, ckpt=d.onnx(), out=d.onnx()),
         _words('--out', 'good.onnx', 'is the input file'), marks=(ONNX,)),
    Case('demo-out-in-input-folder-onnx', DEMO,
         lambda d, w: _demo(d, w, ckpt=d.onnx(),
                            out=d.frames / 'demo.mp4'),
         _words('--out', 'inside the input folder'), marks=(ONNX,)),
    # ----------------------------------------------------------- export_onnx
    Case('export-config-missing', EXPORT,
         lambda d, w: _export(d, w, config=w / 'nope.py'),
         _words('config', 'nope.py', 'no such file')),
    Case('export-config-syntax', EXPORT,
         lambda d, w: _export(d, w, config=d.config('syntax')),
         _words('syntax.py', 'cannot load config', 'SyntaxError'),
         marks=(ONNX,)),
    Case('export-config-unknown-type', EXPORT,
         lambda d, w: _export(d, w, config=d.config('unknown-type')),
         _words('unknown-type.py', 'Nope is not in the', 'registry'),
         marks=(ONNX,)),
    Case('export-config-not-video', EXPORT,
         lambda d, w: _export(
             d, w, config=REPO / 'configs' / 'knet' /
             'knet_s3_r50_fpn_1x_coco-panoptic.py'),
         _words('coco-panoptic.py', 'cannot be exported'), marks=(ONNX,)),
    Case('export-checkpoint-missing', EXPORT,
         lambda d, w: _export(d, w, ckpt=w / 'nope.pth'),
         _words('checkpoint', 'nope.pth', 'no such file')),
    Case('export-checkpoint-garbage', EXPORT,
         lambda d, w: _export(d, w, ckpt=d.checkpoint('garbage')),
         _words('garbage.pth', 'cannot be read as a checkpoint'),
         marks=(ONNX,)),
    Case('export-checkpoint-mismatched', EXPORT,
         lambda d, w: _export(d, w, ckpt=d.checkpoint('mismatched')),
         _words('mismatched.pth', 'does not fit the model', 'neck.0.'),
         marks=(ONNX,)),
    Case('export-out-is-config', EXPORT,
         lambda d, w: _export(d, w, out=REPO / E2E),
         _words('--out', 'is the input file')),
    Case('export-out-is-checkpoint', EXPORT,
         lambda d, w: _export(d, w, ckpt=w / 'in' / 'model.onnx',
                              out=w / 'in' / 'model.onnx'),
         _words('--out', 'model.onnx', 'is the input file'),
         setup=lambda d, w: (w / 'in').mkdir() or shutil.copyfile(
             d.checkpoint(), w / 'in' / 'model.onnx')),
    Case('export-out-suffix', EXPORT,
         lambda d, w: _export(d, w, out=w / 'out' / 'm.pth'),
         _words('--out', 'must end with .onnx')),
    Case('export-out-is-folder', EXPORT,
         lambda d, w: _export(d, w, out=d.root),
         _words('--out', 'is a folder, expected a file name')),
    Case('export-out-unwritable', EXPORT,
         lambda d, w: _export(d, w, out=UNWRITABLE + '/m.onnx'),
         _words('--out', 'cannot write')),
    Case('export-shape-zero', EXPORT,
         lambda d, w: _export(d, w)[:-3] + ['--shape', '0', '64'],
         _words('--shape', 'got 0'), rc=2),
    Case('export-frames-zero', EXPORT,
         lambda d, w: _export(d, w, '--frames', '0'),
         _words('--frames', 'got 0'), rc=2),
    Case('export-opset-too-old', EXPORT,
         lambda d, w: _export(d, w, '--opset', '3'),
         _words('--opset', 'got 3'), rc=2),
    Case('export-opset-too-new', EXPORT,
         lambda d, w: _export(d, w, '--opset', '999'),
         _words('--opset', 'newest opset', 'got 999'), rc=2, marks=(ONNX,)),
    Case('export-cfg-options-malformed', EXPORT,
         lambda d, w: _export(d, w, '--cfg-options', 'model'),
         _words('--cfg-options', 'KEY=VALUE'), rc=2),
    # ------------------------------------------------------------- converter
    Case('convert-src-missing', CONVERT,
         lambda d, w: [w / 'nope.pth', w / 'out' / 'c.pth'],
         _words('src', 'nope.pth', 'no such file')),
    Case('convert-dst-is-src', CONVERT,
         lambda d, w: [d.checkpoint('release'), d.checkpoint('release')],
         _words('dst', 'release.pth', 'is the input file')),
    Case('convert-dst-is-folder', CONVERT,
         lambda d, w: [d.checkpoint('release'), d.root],
         _words('dst', 'is a folder, expected a file name')),
    Case('convert-dst-unwritable', CONVERT,
         lambda d, w: [d.checkpoint('release'), UNWRITABLE + '/c.pth'],
         _words('dst', 'cannot write')),
    Case('convert-garbage', CONVERT,
         lambda d, w: [d.checkpoint('garbage'), w / 'out' / 'c.pth'],
         _words('garbage.pth', 'cannot be read as a checkpoint')),
    Case('convert-already-converted', CONVERT,
         lambda d, w: [d.checkpoint('good'), w / 'out' / 'c.pth'],
         _words('good.pth', 'not a checkpoint of the original release')),
    # -------------------------------------------------------- browse_dataset
    Case('browse-config-missing', BROWSE,
         lambda d, w: [w / 'nope.py', '--output-dir', w / 'out',
                       '--not-show'],
         _words('config', 'no such file')),
    Case('browse-max-zero', BROWSE,
         lambda d, w: [REPO / KITTI_DATASET_CFG, '--output-dir', w / 'out',
                       '--max', '0'],
         _words('--max', 'got 0'), rc=2),
    Case('browse-output-dir-is-file', BROWSE,
         lambda d, w: [REPO / KITTI_DATASET_CFG, '--output-dir', d.text],
         _words('--output-dir', 'is a file, expected a folder')),
    Case('browse-data-root-missing', BROWSE,
         lambda d, w: [REPO / KITTI_DATASET_CFG, '--output-dir', w / 'out',
                       '--not-show', '--cfg-options',
                       f'train_dataloader.dataset.data_root={w}/nope/'],
         _words('nope', 'not found')),
    # ------------------------------------------------------------ benchmarks
    Case('benchmark-frames-zero', BENCH,
         lambda d, w: [REPO / E2E, '--frames', '0'],
         _words('--frames', 'got 0'), rc=2),
    Case('benchmark-out-suffix', BENCH,
         lambda d, w: [REPO / E2E, '--out', w / 'out' / 'b.txt'],
         _words('--out', 'must end with .json')),
    Case('benchmark-checkpoint-missing', BENCH,
         lambda d, w: [REPO / E2E, '--checkpoint', w / 'nope.pth'],
         _words('--checkpoint', 'no such file')),
    Case('benchmark-cuda-unavailable', BENCH,
         lambda d, w: [REPO / E2E, '--device', 'cuda'],
         _words('--device cuda', 'CUDA'), marks=(NO_CUDA,)),
    Case('benchmark-device-unknown', BENCH,
         lambda d, w: [REPO / E2E, '--device', 'cuda:x'],
         _words('--device', "'cuda:x'"), rc=2),
    Case('benchmark-out-is-config', BENCH,
         lambda d, w: [REPO / E2E, '--out', REPO / E2E],
         _words('--out', 'is the input file')),
    Case('benchmark-onnx-without-backend', BENCH,
         lambda d, w: [REPO / E2E, '--onnx', d.onnx('garbage')],
         _words('--onnx needs --backend onnxruntime'), rc=2),
    Case('benchmark-ort-with-amp', BENCH,
         lambda d, w: [REPO / E2E, '--backend', 'onnxruntime', '--amp'],
         _words('--backend onnxruntime', '--amp'), rc=2),
    Case('benchmark-onnx-missing', BENCH,
         lambda d, w: _bench_ort(d, w, w / 'nope.onnx'),
         _words('--onnx', 'nope.onnx', 'no such file')),
    Case('benchmark-onnx-truncated', BENCH,
         lambda d, w: _bench_ort(d, w, d.onnx('truncated')),
         _words('truncated.onnx', 'not a loadable ONNX model'),
         marks=(ONNX,)),
    Case('benchmark-onnx-other-weights', BENCH,
         lambda d, w: _bench_ort(d, w, d.onnx()),
         _words('--onnx', 'good.onnx', 'holds other weights'),
         marks=(ONNX,)),
    Case('benchmark-onnx-other-config', BENCH,
         lambda d, w: _bench_ort(d, w, d.onnx(), '--checkpoint',
                                 d.checkpoint(), config=REPO / TINY),
         _words('good.onnx', 'exported from another model'),
         marks=(ONNX,)),
    # ------------------------------------------------------------ quickstart
    # every case fails before the data is made and training starts
    Case('quickstart-config-missing', QUICKSTART,
         lambda d, w: _quickstart(d, w, config=w / 'nope.py'),
         _words('--config', 'nope.py', 'no such file')),
    Case('quickstart-config-syntax', QUICKSTART,
         lambda d, w: _quickstart(d, w, config=d.config('syntax')),
         _words('syntax.py', 'cannot load config', 'SyntaxError')),
    Case('quickstart-data-key-misspelt', QUICKSTART,
         lambda d, w: _quickstart(d, w, config=w / 'in' / 'cfg.py'),
         _words('cfg.py', 'synthetic_data.thing_outlines'),
         setup=_config_file("_base_ = ['{QUICK}']\n"
                            "synthetic_data = dict(thing_outlines=1)\n")),
    Case('quickstart-data-videos-two', QUICKSTART,
         lambda d, w: _quickstart(d, w, config=w / 'in' / 'cfg.py',
                                  sizes=False),
         _words('cfg.py', 'synthetic_data.videos', 'got 2'),
         setup=_config_file("_base_ = ['{QUICK}']\n"
                            "synthetic_data = dict(videos=2)\n")),
    Case('quickstart-data-float-frames', QUICKSTART,
         lambda d, w: _quickstart(d, w, config=w / 'in' / 'cfg.py',
                                  sizes=False),
         _words('cfg.py', 'synthetic_data.frames', "'2.5' is not an integer"),
         setup=_config_file("_base_ = ['{QUICK}']\n"
                            "synthetic_data = dict(frames=2.5)\n")),
    Case('quickstart-data-stuff-thing', QUICKSTART,
         lambda d, w: _quickstart(d, w, config=w / 'in' / 'cfg.py',
                                  sizes=False),
         _words('cfg.py', 'synthetic_data.stuff_classes', '11 is a thing'),
         setup=_config_file("_base_ = ['{QUICK}']\n"
                            "synthetic_data = dict(stuff_classes=[0, 11])\n")),
    Case('quickstart-data-negative-spawn', QUICKSTART,
         lambda d, w: _quickstart(d, w, config=w / 'in' / 'cfg.py',
                                  sizes=False),
         _words('cfg.py', 'synthetic_data.train_spawn', 'got -1'),
         setup=_config_file("_base_ = ['{QUICK}']\n"
                            "synthetic_data = dict(train_spawn=-1)\n")),
    Case('quickstart-data-train-frames-text', QUICKSTART,
         lambda d, w: _quickstart(d, w, config=w / 'in' / 'cfg.py',
                                  sizes=False),
         _words('cfg.py', 'synthetic_data.train_frames', "'40' is not a"),
         setup=_config_file("_base_ = ['{QUICK}']\n"
                            "synthetic_data = dict(train_frames='40')\n")),
    Case('quickstart-data-size-scalar', QUICKSTART,
         lambda d, w: _quickstart(d, w, config=w / 'in' / 'cfg.py',
                                  sizes=False),
         _words('cfg.py', 'synthetic_data.size', 'expected a list [H, W]'),
         setup=_config_file("_base_ = ['{QUICK}']\n"
                            "synthetic_data = dict(size=64)\n")),
    Case('quickstart-epoch-loop', QUICKSTART,
         lambda d, w: _quickstart(d, w, config=w / 'in' / 'cfg.py'),
         _words('cfg.py', 'IterBasedTrainLoop'),
         setup=_config_file(
             "_base_ = ['{QUICK}']\n"
             "train_cfg = dict(_delete_=True, type='EpochBasedTrainLoop', "
             "max_epochs=1)\n")),
    Case('quickstart-model-unregistered', QUICKSTART,
         lambda d, w: _quickstart(d, w, config=w / 'in' / 'cfg.py'),
         _words("'Nope'", 'not registered'),
         setup=_config_file("_base_ = ['{QUICK}']\n"
                            "model = dict(_delete_=True, type='Nope')\n")),
    Case('quickstart-iters-zero', QUICKSTART,
         lambda d, w: _quickstart(d, w, '--iters', '0'),
         _words('--iters', 'got 0'), rc=2),
    Case('quickstart-videos-two', QUICKSTART,
         lambda d, w: _quickstart(d, w, '--videos', '2'),
         _words('--videos', 'in [3, 21]', 'got 2'), rc=2),
    Case('quickstart-videos-22', QUICKSTART,
         lambda d, w: _quickstart(d, w, '--videos', '22'),
         _words('--videos', 'got 22'), rc=2),
    Case('quickstart-frames-one', QUICKSTART,
         lambda d, w: _quickstart(d, w, '--frames', '1'),
         _words('--frames', 'got 1'), rc=2),
    Case('quickstart-size-tiny', QUICKSTART,
         lambda d, w: _quickstart(d, w, '--size', '8', '64'),
         _words('--size', 'got 8'), rc=2),
    Case('quickstart-seed-negative', QUICKSTART,
         lambda d, w: _quickstart(d, w, '--seed', '-1'),
         _words('--seed', 'got -1'), rc=2),
    Case('quickstart-threads-zero', QUICKSTART,
         lambda d, w: _quickstart(d, w, '--threads', '0'),
         _words('--threads', 'got 0'), rc=2),
    Case('quickstart-fps-zero', QUICKSTART,
         lambda d, w: _quickstart(d, w, '--fps', '0'),
         _words('--fps', 'got 0'), rc=2),
    Case('quickstart-stuff-is-thing', QUICKSTART,
         lambda d, w: _quickstart(d, w, '--stuff-classes', '0', '13'),
         _words('--stuff-classes', '13 is a thing class'), rc=2),
    Case('quickstart-stuff-twice', QUICKSTART,
         lambda d, w: _quickstart(d, w, '--stuff-classes', '0', '1', '0'),
         _words('--stuff-classes', '0 is given twice'), rc=2),
    Case('quickstart-stuff-out-of-range', QUICKSTART,
         lambda d, w: _quickstart(d, w, '--stuff-classes', '19'),
         _words('--stuff-classes', 'got 19'), rc=2),
    Case('quickstart-work-dir-in-data-root', QUICKSTART,
         lambda d, w: _quickstart(d, w, work_dir=w / 'out' / 'data' / 'w'),
         _words('--work-dir', 'lies inside --data-root')),
    Case('quickstart-work-dir-is-data-root', QUICKSTART,
         lambda d, w: _quickstart(d, w, work_dir=w / 'out' / 'data'),
         _words('--work-dir', 'is --data-root')),
    Case('quickstart-work-dir-is-file', QUICKSTART,
         lambda d, w: _quickstart(d, w, work_dir=d.text),
         _words('--work-dir', 'is a file, expected a folder')),
    Case('quickstart-work-dir-is-config', QUICKSTART,
         lambda d, w: _quickstart(d, w, work_dir=REPO / QUICK),
         _words('--work-dir', 'is the input file')),
    Case('quickstart-work-dir-unwritable', QUICKSTART,
         lambda d, w: _quickstart(d, w, work_dir=UNWRITABLE),
         _words('--work-dir', 'cannot write')),
    Case('quickstart-data-root-is-file', QUICKSTART,
         lambda d, w: _quickstart(d, w, data_root=d.text),
         _words('--data-root', 'is a file, expected a folder')),
    Case('quickstart-data-root-foreign', QUICKSTART,
         lambda d, w: _quickstart(d, w, data_root=w / 'in' / 'mine'),
         _words('mine', 'not made by the quickstart'),
         setup=lambda d, w: write_json(w / 'in' / 'mine' / 'a.json', {})),
    # ------------------------------------------------------- benchmark_train
    Case('bench-train-config-missing', BENCH_TRAIN,
         lambda d, w: _bench_train(d, w, config=w / 'nope.py'),
         _words('config', 'nope.py', 'no such file')),
    Case('bench-train-config-syntax', BENCH_TRAIN,
         lambda d, w: _bench_train(d, w, config=d.config('syntax')),
         _words('syntax.py', 'cannot load config', 'SyntaxError')),
    Case('bench-train-no-synthetic-data', BENCH_TRAIN,
         lambda d, w: _bench_train(
             d, w, config=REPO / 'configs' / 'video_knet_vis' /
             'video_knet_vis_r50_1x_youtube-vis-2019.py'),
         _words('youtube-vis-2019.py', 'no synthetic training data')),
    Case('bench-train-iters-zero', BENCH_TRAIN,
         lambda d, w: _bench_train(d, w, '--iters', '0'),
         _words('--iters', 'got 0'), rc=2),
    Case('bench-train-warmup-negative', BENCH_TRAIN,
         lambda d, w: _bench_train(d, w, '--warmup', '-1'),
         _words('--warmup', 'got -1'), rc=2),
    Case('bench-train-data-frames-two', BENCH_TRAIN,
         lambda d, w: _bench_train(d, w, '--data-frames', '2'),
         _words('--data-frames', 'got 2'), rc=2),
    Case('bench-train-data-size-zero', BENCH_TRAIN,
         lambda d, w: _bench_train(d, w, '--data-size', '0', '128'),
         _words('--data-size', 'got 0'), rc=2),
    Case('bench-train-threads-zero', BENCH_TRAIN,
         lambda d, w: _bench_train(d, w, '--threads', '0'),
         _words('--threads', 'got 0'), rc=2),
    Case('bench-train-workers-word', BENCH_TRAIN,
         lambda d, w: _bench_train(d, w, '--workers', 'two'),
         _words('--workers', "'two' is not an integer"), rc=2),
    Case('bench-train-device-unknown', BENCH_TRAIN,
         lambda d, w: _bench_train(d, w, '--device', 'gpu'),
         _words('--device', "'gpu'"), rc=2),
    Case('bench-train-cuda-unavailable', BENCH_TRAIN,
         lambda d, w: _bench_train(d, w, '--device', 'cuda'),
         _words('--device cuda', 'CUDA is not available'),
         marks=(NO_CUDA,)),
    Case('bench-train-thread-clock-on-cuda', BENCH_TRAIN,
         lambda d, w: _bench_train(d, w, '--device', 'cuda', '--clock',
                                   'thread'),
         _words('--clock thread', '--device cpu'), rc=2),
    Case('bench-train-cfg-options-malformed', BENCH_TRAIN,
         lambda d, w: _bench_train(d, w, '--cfg-options', 'model'),
         _words('--cfg-options', 'KEY=VALUE'), rc=2),
    Case('bench-train-out-is-config', BENCH_TRAIN,
         lambda d, w: _bench_train(d, w, '--out', REPO / QUICK),
         _words('--out', 'is the input file')),
    Case('bench-train-out-suffix', BENCH_TRAIN,
         lambda d, w: _bench_train(d, w, '--out', w / 'out' / 'r.txt'),
         _words('--out', 'must end with .json')),
    Case('bench-train-out-is-folder', BENCH_TRAIN,
         lambda d, w: _bench_train(d, w, '--out', d.root),
         _words('--out', 'is a folder, expected a file name')),
    Case('bench-train-out-unwritable', BENCH_TRAIN,
         lambda d, w: _bench_train(d, w, '--out', UNWRITABLE + '/r.json'),
         _words('--out', 'cannot write')),
    Case('benchmark-eval-workers-zero',
         'tools/analysis_tools/benchmark_eval.py',
         lambda d, w: ['--workers', '0'], _words('--workers', 'got 0'),
         rc=2),
    Case('benchmark-eval-work-dir-is-file',
         'tools/analysis_tools/benchmark_eval.py',
         lambda d, w: ['--work-dir', d.text],
         _words('--work-dir', 'is a file, expected a folder')),
    Case('vis-memory-overlap', VIS_MEM,
         lambda d, w: ['--window', '4', '--overlap', '4'],
         _words('--overlap'), rc=2),
    Case('vis-memory-out-is-folder', VIS_MEM,
         lambda d, w: ['--out', d.root],
         _words('--out', 'is a folder, expected a file name')),
]


@pytest.mark.parametrize('case', [pytest.param(c, id=c.id, marks=c.marks)
                                  for c in CASES])
def test_bad_input(case: Case, data: Data, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv('KNET_DEBUG', raising=False)
    for key, value in case.env.items():
        if value is None:
            monkeypatch.delenv(key, raising=False)
        else:
            monkeypatch.setenv(key, value)
    w = tmp_path
    (w / 'out').parent.mkdir(exist_ok=True)
    if case.setup is not None:
        case.setup(data, w)
        capsys.readouterr()
    argv = [str(a) for a in case.argv(data, w)]
    inputs = [data.root, w / 'in']
    before = tree_state(*inputs)
    rc = run_cli(load_script(case.tool).main, argv)
    out, err = capsys.readouterr()
    if case.report:
        assert rc == case.rc and 'Traceback' not in err, err
        text = out
    else:
        text = error_line(rc, err, case.rc)
    for word in case.culprit(data, w):
        assert word in text, (word, text)
    assert tree_state(*inputs) == before, 'an input was changed'
    assert temporaries(data.root, w) == [], 'temporary files left'
    written = files_under(w / 'out')
    if case.logs_ok:  # MMEngine's log and config dump of the failed run
        written = [f for f in written if not f.endswith(('.log', '.py'))]
    assert written == [], 'a failed run wrote outputs'


# --------------------------------------------------------------------------
# Ctrl-C: one interrupted run per converter
# --------------------------------------------------------------------------
INTERRUPTED = [
    # (id, tool, argv(d, out), Nth rename to interrupt)
    ('kitti_step_prepare', KITTI_PREP,
     lambda d, out: ['--src', d.kitti_raw, '--dst', out], 3),
    ('vipseg_prepare', VIPSEG_PREP,
     lambda d, out: ['--src', d.vipseg_raw, '--dst', out, '--short-side',
                     '16'], 4),
    ('cityscapes_prepare', CITY_PREP,
     lambda d, out: ['--src', d.cityscapes_raw, '--dst', out, '--splits',
                     'train'], 8),
    ('youtubevis2coco', YTVIS2COCO,
     lambda d, out: ['-i', d.ytvis_ann, '-o', out, '--version', '2019',
                     '--holdout', '1'], 2),
    ('refer2coco', REFER2COCO,
     lambda d, out: ['--data-root', d.refer, '--dataset', 'refcoco',
                     '--split-by', 'unc', '--out', out], 2),
    ('knet_to_mmdet3', CONVERT,
     lambda d, out: [d.checkpoint('release'), out / 'converted.pth'], 1),
    ('make_synthetic', SYNTH,
     lambda d, out: ['vipseg', '--out', out, '--videos', '2', '--frames',
                     '2', '--size', '16', '24'], 3),
]


@pytest.mark.parametrize('tool, argv, n', [
    pytest.param(t, a, n, id=i) for i, t, a, n in INTERRUPTED])
def test_interrupted_converter(tool, argv, n, data, tmp_path):
    full = tmp_path / 'full'
    assert run_cli(load_script(tool).main,
                   [str(a) for a in argv(data, full)]) == 0
    part = tmp_path / 'part'
    args = argv(data, part)  # inputs the data fixture makes lazily first
    before = tree_state(data.root)
    proc = run_subprocess([REPO / 'tests' / 'tools' / '_interrupt.py', n,
                           REPO / tool] + args)
    assert proc.returncode == 130, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith('error')]
    assert len(lines) == 1 and 'interrupted' in lines[0], proc.stderr
    assert 'Traceback' not in proc.stderr, proc.stderr
    assert temporaries(data.root, tmp_path) == []
    assert tree_state(data.root) == before
    # what is in place is complete: equal to the uninterrupted run's file
    done = files_under(part)
    assert len(done) < len(files_under(full))  # it did stop early
    for path in done:
        rel = Path(path).relative_to(part)
        if rel.name == 'manifest.json':
            continue  # names its own output folder
        assert Path(path).read_bytes() == (full / rel).read_bytes(), rel


@ONNX
def test_interrupted_export(data, tmp_path):
    """Ctrl-C while the exported and checked file waits to be renamed onto
    --out: exit 130, one line, no temporary file and no output."""
    args = _export(data, tmp_path, ckpt=data.checkpoint())  # made lazily
    before = tree_state(data.root)
    proc = run_subprocess([REPO / 'tests' / 'tools' / '_interrupt.py', 1,
                           REPO / EXPORT] + args)
    assert proc.returncode == 130, proc.stderr
    # the interrupt came after the check, at the rename into place
    assert 'comparing ONNX Runtime with PyTorch' in proc.stdout
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith('error')]
    assert len(lines) == 1 and 'interrupted' in lines[0], proc.stderr
    assert 'Traceback' not in proc.stderr, proc.stderr
    assert temporaries(data.root, tmp_path) == []
    assert files_under(tmp_path) == []
    assert tree_state(data.root) == before


def test_interrupted_quickstart_leaves_no_data(data, tmp_path):
    """Ctrl-C while the quickstart makes its data (a frame of the raw
    tree waits to be renamed into place): exit 130, one line, no data root,
    no temporary folder, no work dir."""
    proc = run_subprocess([REPO / 'tests' / 'tools' / '_interrupt.py', 3,
                           REPO / QUICKSTART] + _quickstart(data, tmp_path))
    assert proc.returncode == 130, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith('error')]
    assert len(lines) == 1 and 'interrupted' in lines[0], proc.stderr
    assert 'Traceback' not in proc.stderr, proc.stderr
    assert temporaries(tmp_path) == []
    assert files_under(tmp_path) == []


def test_ctrl_c_during_the_demo_video(data, tmp_path):
    """A real Ctrl-C (SIGINT to the demo's process group, ffmpeg included)
    while the MP4 is being encoded: exit 130, one line, neither the video
    nor its temporary file left."""
    import signal
    import time
    frames = tmp_path / 'in' / 'frames'
    frames.mkdir(parents=True)
    first = read_image(next(iter(sorted(data.frames.iterdir()))))
    for t in range(300):  # long enough to be interrupted mid-way
        save_image(frames / f'{t:06d}.png', np.roll(first, t, axis=1))
    out = tmp_path / 'out'
    out.mkdir()
    proc = subprocess.Popen(
        [sys.executable, REPO / DEMO] + [str(a) for a in _demo(
            data, tmp_path, input=frames, out=out / 'demo.mp4')],
        cwd=REPO, env=subprocess_env(), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, start_new_session=True,
        # Ctrl-C as a terminal gives it, also when this test run inherited
        # SIGINT ignored (started in the background)
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.time() + 240
        while not any(is_temporary(n) for n in os.listdir(out)):
            assert proc.poll() is None, proc.communicate()[1]
            assert time.time() < deadline, 'the demo wrote no video'
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    lines = [ln for ln in err.splitlines() if ln.startswith('error')]
    assert len(lines) == 1 and 'interrupted' in lines[0], err
    assert 'Traceback' not in err, err
    assert os.listdir(out) == []


# --------------------------------------------------------------------------
# what works: help everywhere, absolute paths on success, odd file names
# --------------------------------------------------------------------------
HELP_TOOLS = [KITTI_PREP, YTVIS2COCO, VIPSEG_PREP, CITY_PREP, REFER2COCO,
              EVAL_REFER, EVAL_VPS, EVAL_VIS, CHECK, SYNTH, LOGS, TRAIN, TEST,
              BROWSE, BENCH, VIS_MEM, CONVERT, DEMO, EXPORT, BENCH_TRAIN,
              QUICKSTART,
              'tools/analysis_tools/benchmark_eval.py']


@pytest.mark.parametrize('tool', HELP_TOOLS)
def test_help(tool, capsys):
    assert run_cli(load_script(tool).main, ['--help']) == 0
    assert 'usage:' in capsys.readouterr().out


def test_success_prints_absolute_paths_and_non_ascii(data, tmp_path, capsys,
                                                     monkeypatch):
    """A source and an output folder with non-ASCII names and spaces work;
    the paths written are printed absolute, relative arguments too."""
    src = copytree(data.kitti_raw, tmp_path / 'données brutes ✓')
    monkeypatch.chdir(tmp_path)
    assert run_cli(load_script(KITTI_PREP).main,
                   ['--src', src.name, '--dst', 'sortie é']) == 0
    out = capsys.readouterr().out
    dst = tmp_path / 'sortie é'
    n = len(files_under(dst))
    assert f'wrote {n} files under {dst}' in out
    assert run_cli(load_script(YTVIS2COCO).main,
                   ['-i', str(data.ytvis_ann), '-o', 'ann',
                    '--version', '2019']) == 0
    out = capsys.readouterr().out
    for split in ('train', 'valid'):
        assert f'wrote {tmp_path}/ann/youtube_vis_2019_{split}.json' in out


@ONNX
def test_export_prints_the_absolute_path(data):
    """export_onnx.py with a relative --out names the file it wrote with its
    absolute path (the runner's line), and its size and graph."""
    path = data.onnx()
    assert f'wrote {path}\n' in data.export_stdout
    assert f'exported {path}: ' in data.export_stdout
    assert 'checked against PyTorch at 32x64' in data.export_stdout


def test_browse_without_display_writes_files(data, tmp_path):
    """Without a display and without --not-show the tool must not let
    OpenCV's Qt backend abort the process: it warns and writes the files."""
    env = {k: '' for k in ('DISPLAY', 'WAYLAND_DISPLAY')}
    proc = run_subprocess([REPO / BROWSE, REPO / KITTI_DATASET_CFG,
                           '--output-dir', tmp_path / 'out', '--max', '1',
                           '--cfg-options',
                           f'train_dataloader.dataset.data_root='
                           f'{data.kitti}/'], env=env)
    assert proc.returncode == 0, proc.stderr
    assert 'no display' in proc.stderr
    assert len(files_under(tmp_path / 'out')) == 1


# --------------------------------------------------------------------------
# the shell launchers: bad arguments stop them before torchrun / srun
# --------------------------------------------------------------------------
LAUNCHERS = [
    # (id, command, environment, exit status, words of the error line)
    ('dist-train-no-args', ['tools/dist_train.sh'], {}, 2, ['usage:']),
    ('dist-train-config-missing', ['tools/dist_train.sh', 'nope.py', '2'],
     {}, 1, ['nope.py', 'no such config file']),
    ('dist-train-gpus-zero', ['tools/dist_train.sh', E2E, '0'], {}, 2,
     ['GPUS', "'0'"]),
    ('dist-train-gpus-word', ['tools/dist_train.sh', E2E, 'two'], {}, 2,
     ['GPUS', "'two'"]),
    ('dist-test-checkpoint-missing',
     ['tools/dist_test.sh', E2E, 'nope.pth', '2'], {}, 1,
     ['nope.pth', 'no such checkpoint']),
    ('dist-test-bad-port', ['tools/dist_test.sh', E2E, E2E, '2'],
     {'PORT': 'x'}, 2, ['PORT', "'x'"]),
    ('slurm-train-config-missing',
     ['tools/slurm_train.sh', 'p', 'j', 'nope.py', 'w'], {}, 1, ['nope.py']),
    ('slurm-test-checkpoint-missing',
     ['tools/slurm_test.sh', 'p', 'j', E2E, 'nope.pth'], {}, 1,
     ['nope.pth']),
]


@pytest.mark.parametrize('args, env, rc, words', [
    pytest.param(a, e, r, wd, id=i) for i, a, e, r, wd in LAUNCHERS])
def test_launcher_bad_arguments(args, env, rc, words):
    proc = subprocess.run(['bash'] + args, cwd=REPO,
                          env=subprocess_env(env), capture_output=True,
                          text=True, timeout=60)
    line = error_line(proc.returncode, proc.stderr, rc)
    for word in words:
        assert word in line, (word, line)


GPU_BENCH = 'tools/analysis_tools/gpu_benchmarks.sh'
GPU_BENCH_CASES = [
    # (id, arguments, environment, exit status, words of the error line)
    ('argument', ['x'], {}, 2, ['takes no arguments', "'x'"]),
    ('iters-zero', [], {'ITERS': '0'}, 2, ['ITERS', "'0'"]),
    ('warmup-word', [], {'WARMUP': 'three'}, 2, ['WARMUP', "'three'"]),
    ('frames-huge', [], {'FRAMES': '1' * 30}, 2, ['FRAMES']),
    ('timeout-negative', [], {'STEP_TIMEOUT': '-5'}, 2, ['STEP_TIMEOUT']),
    ('workers-negative', [], {'WORKERS': '-1'}, 2, ['WORKERS', "'-1'"]),
    ('device-unknown', [], {'DEVICE': 'tpu'}, 2, ['DEVICE', "'tpu'"]),
    ('python-missing', [], {'PYTHON': '/nonexistent/python'}, 1,
     ['PYTHON', '/nonexistent/python']),
    ('out-is-file', [], {'OUT': 'notes.txt'}, 1,
     ['OUT', 'notes.txt', 'is a file']),
    ('out-unwritable', [], {'OUT': UNWRITABLE}, 1,
     ['OUT', UNWRITABLE, 'cannot create']),
    ('only-matches-nothing', [], {'ONLY': 'nothing-like-this',
                                  'DEVICE': 'cpu'}, 2,
     ['ONLY', 'nothing-like-this', 'matches no step']),
]
NO_CUDA_TORCH = pytest.mark.skipif(
    importlib.util.find_spec('torch') is None or
    __import__('torch').cuda.is_available(),
    reason='needs torch without a CUDA device')


@pytest.mark.parametrize('args, env, rc, words', [
    pytest.param(a, e, r, wd, id=i) for i, a, e, r, wd in GPU_BENCH_CASES] + [
    pytest.param([], {'DEVICE': 'cuda'}, 1, ['DEVICE cuda', 'no CUDA device'],
                 id='no-cuda', marks=NO_CUDA_TORCH)])
def test_gpu_benchmarks_bad_settings(args, env, rc, words, tmp_path):
    """tools/analysis_tools/gpu_benchmarks.sh checks its settings before any
    step runs: one error line, nothing run, nothing written in OUT."""
    (tmp_path / 'notes.txt').write_text('a file\n')
    full = dict(OUT=str(tmp_path / 'out'), PYTHON=sys.executable)
    full.update(env)
    proc = subprocess.run(['bash', REPO / GPU_BENCH] + args, cwd=tmp_path,
                          env=subprocess_env(full), capture_output=True,
                          text=True, timeout=120)
    line = error_line(proc.returncode, proc.stderr, rc)
    for word in words:
        assert word in line, (word, line)
    assert '[gpu_benchmarks' not in proc.stdout  # no step started
    assert files_under(tmp_path / 'out') == []

