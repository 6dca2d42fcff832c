"""tools/eval_vps.py kitti-step: round trip on synthetic KITTI-STEP, serial
vs parallel chunked runs, and one-line errors on bad input."""
import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from knet.datasets.synthetic import make_synthetic
from knet.evaluation.writers.kitti_step import KittiStepWriter
from knet.formats import decode_kitti_step
from knet.formats.io import read_image, save_image
from knet.utils.cli import run_cli

from ._reference import stq_reference
from ._tools import ROOT, load_tool

eval_vps = load_tool('eval_vps.py')


@pytest.fixture(scope='module')
def kitti(tmp_path_factory):
    """Synthetic KITTI-STEP val (sequences 2 and 6) in the prepared layout,
    and a prediction folder equal to the ground truth."""
    root = tmp_path_factory.mktemp('kitti')
    manifest = make_synthetic('kitti-step', root / 'raw', videos=7,
                              frames=5, size=(24, 40), seed=3)
    gt_dir = root / 'gt' / 'video_sequence' / 'val'
    gt_dir.mkdir(parents=True)
    writer = KittiStepWriter(root / 'pred')
    for video in manifest['videos']:
        if video['split'] != 'val':
            continue
        seq = video['sequence']
        for f in video['frames']:
            shutil.copy(f['label'], gt_dir /
                        f'{seq:06d}_{f["frame"]:06d}_panoptic.png')
            # GT read back and written by the submission writer
            sem, inst = decode_kitti_step(read_image(f['label']))
            writer.write(seq, f['frame'], sem, inst)
    return root


def _run(kitti, pred, out, *extra):
    return eval_vps.main(['kitti-step', '--gt-root', str(kitti / 'gt'),
                          '--split', 'val', '--pred-dir', str(pred),
                          '--out', str(out), *extra])


def test_round_trip_is_perfect(kitti, tmp_path, capsys):
    assert _run(kitti, kitti / 'pred', tmp_path / 'o.json') == 0
    res = json.loads((tmp_path / 'o.json').read_text())
    assert res['STQ'] == 1.0 and res['AQ'] == 1.0 and res['SQ'] == 1.0
    assert res['VPQ'] == pytest.approx(100.0)
    assert set(res['VPQ_per_window']) == {'1', '2', '3', '4'}
    assert all(v == pytest.approx(100.0)
               for v in res['VPQ_per_window'].values())
    for k in ('VPQ_thing', 'VPQ_stuff', 'VPQ_per_class', 'IoU_per_class',
              'STQ_per_sequence'):
        assert k in res
    assert 'STQ' in capsys.readouterr().out  # summary table


def _perturbed(kitti, dst):
    """Predictions with an id switch, a missed car and predicted void."""
    shutil.copytree(kitti / 'pred', dst)
    rng = np.random.default_rng(0)
    for png in sorted(dst.rglob('*.png')):
        sem, inst = decode_kitti_step(read_image(png))
        frame = int(png.stem)
        inst = np.where(inst > 0, inst + 1000 * (frame >= 3), inst)
        sem = sem.copy()
        sem[rng.random(sem.shape) < 0.05] = 255
        sem[:4, :6] = 13
        from knet.formats import encode_kitti_step
        save_image(png, encode_kitti_step(sem, inst))
    return dst


def test_parallel_chunks_equal_serial_and_reference(kitti, tmp_path):
    pred = _perturbed(kitti, tmp_path / 'pred')
    assert _run(kitti, pred, tmp_path / 'a.json', '--workers', '1') == 0
    assert _run(kitti, pred, tmp_path / 'b.json', '--workers', '2',
                '--chunk', '2') == 0
    a = json.loads((tmp_path / 'a.json').read_text())
    b = json.loads((tmp_path / 'b.json').read_text())
    for k in ('STQ', 'AQ', 'SQ', 'VPQ', 'VPQ_thing', 'VPQ_stuff'):
        assert a[k] == pytest.approx(b[k], rel=1e-12), k
    assert a['VPQ_per_window'] == pytest.approx(b['VPQ_per_window'])
    assert a['STQ'] < 1.0 and a['VPQ'] < 100.0
    frames = []
    for gt in sorted((kitti / 'gt' / 'video_sequence' / 'val').iterdir()):
        seq, frame = int(gt.name[:6]), int(gt.name[7:13])
        gs, gi = decode_kitti_step(read_image(gt))
        ps, pi = decode_kitti_step(read_image(pred / f'{seq:04d}' /
                                              f'{frame:06d}.png'))
        frames.append((seq, gs.astype(np.int64) * 10000 + gi,
                       ps.astype(np.int64) * 10000 + pi))
    ref = stq_reference(frames, 19, (11, 13), divisor=10000)
    for k in ('STQ', 'AQ', 'SQ'):
        assert a[k] == pytest.approx(ref[k], rel=1e-12)


def _bad(kitti, tmp_path, capsys, mutate):
    pred = tmp_path / 'pred'
    shutil.copytree(kitti / 'pred', pred)
    culprit = mutate(pred)
    code = run_cli(eval_vps.main, ['kitti-step', '--gt-root',
                                   str(kitti / 'gt'), '--pred-dir',
                                   str(pred), '--out',
                                   str(tmp_path / 'o.json')])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    assert len(err) == 1 and err[0].startswith('error: ')
    assert str(culprit) in err[0]
    assert not (tmp_path / 'o.json').exists()
    return err[0]


def test_missing_frame(kitti, tmp_path, capsys):
    def mutate(pred):
        victim = pred / '0006' / '000003.png'
        victim.unlink()
        return victim
    assert 'missing' in _bad(kitti, tmp_path, capsys, mutate)


def test_extra_frame(kitti, tmp_path, capsys):
    def mutate(pred):
        extra = pred / '0002' / '000099.png'
        shutil.copy(pred / '0002' / '000000.png', extra)
        return extra
    assert 'extra' in _bad(kitti, tmp_path, capsys, mutate)


def test_corrupt_png(kitti, tmp_path, capsys):
    def mutate(pred):
        victim = pred / '0002' / '000001.png'
        victim.write_bytes(victim.read_bytes()[:40])
        return victim
    assert 'decode' in _bad(kitti, tmp_path, capsys, mutate)


def test_wrong_size(kitti, tmp_path, capsys):
    def mutate(pred):
        victim = pred / '0002' / '000002.png'
        save_image(victim, read_image(victim)[:-2])
        return victim
    assert 'ground truth' in _bad(kitti, tmp_path, capsys, mutate)


def test_unknown_category(kitti, tmp_path, capsys):
    def mutate(pred):
        victim = pred / '0006' / '000000.png'
        img = read_image(victim).copy()
        img[0, 0, 0] = 40  # trainId 40 does not exist
        save_image(victim, img)
        return victim
    assert 'class' in _bad(kitti, tmp_path, capsys, mutate)


def test_subprocess_entry_point(kitti, tmp_path):
    pred = tmp_path / 'pred'
    shutil.copytree(kitti / 'pred', pred)
    (pred / '0002' / '000004.png').unlink()
    proc = subprocess.run(
        [sys.executable, str(ROOT / 'tools' / 'eval_vps.py'), 'kitti-step',
         '--gt-root', str(kitti / 'gt'), '--split', 'val', '--pred-dir',
         str(pred), '--workers', '2', '--out', str(tmp_path / 'o.json')],
        capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and '000004.png' in lines[0], proc.stderr
    assert 'Traceback' not in proc.stderr


def test_vip_deeplab_convention_averages_over_all_classes(kitti, tmp_path):
    """Video K-Net's eval_dvpq_step.py averages PQ over all 19 classes, so a
    perfect prediction scores 100 * (classes present) / 19."""
    out = tmp_path / 'o.json'
    assert _run(kitti, kitti / 'pred', out, '--vpq-convention',
                'vip-deeplab', '--vpq-windows', '1') == 0
    res = json.loads(out.read_text())
    present = set()
    for gt in (kitti / 'gt' / 'video_sequence' / 'val').iterdir():
        sem, _ = decode_kitti_step(read_image(gt))
        present |= set(int(c) for c in np.unique(sem) if c != 255)
    assert res['VPQ'] == pytest.approx(100 * len(present) / 19)
    things = present & {11, 13}
    assert res['VPQ_thing'] == pytest.approx(100 * len(things) / 2)


def test_vpq_both_conventions_match_literal_references(kitti, tmp_path):
    from ._reference import (pq_average_reference, vpq_vipdeeplab_reference,
                             vpq_vpsnet_reference)
    pred = _perturbed(kitti, tmp_path / 'pred')
    videos_k, videos_p = {}, {}
    for gt in sorted((kitti / 'gt' / 'video_sequence' / 'val').iterdir()):
        seq, frame = int(gt.name[:6]), int(gt.name[7:13])
        gs, gi = decode_kitti_step(read_image(gt))
        ps, pi = decode_kitti_step(read_image(pred / f'{seq:04d}' /
                                              f'{frame:06d}.png'))
        videos_k.setdefault(seq, []).append((gs, gi, ps, pi))
        # the same frame as panopticapi ids + segments_info (void = 0)
        gid = np.where(gs == 255, 0, gs.astype(np.int64) * 10000 + gi + 1)
        pid = np.where(ps == 255, 0, ps.astype(np.int64) * 10000 + pi + 1)
        gseg = {int(k): dict(category_id=int(k - 1) // 10000,
                             iscrowd=int(int(k - 1) // 10000 in (11, 13)
                                         and (k - 1) % 10000 == 0))
                for k in np.unique(gid) if k}
        pseg = {int(k): dict(category_id=int(k - 1) // 10000)
                for k in np.unique(pid) if k}
        videos_p.setdefault(seq, []).append((gid, gseg, pid, pseg))
    cats = {c: c in (11, 13) for c in range(19)}
    for conv in ('vpsnet', 'vip-deeplab'):
        out = tmp_path / f'{conv}.json'
        assert _run(kitti, pred, out, '--vpq-convention', conv, '--workers',
                    '2', '--chunk', '2') == 0
        res = json.loads(out.read_text())
        for n in (1, 2, 3, 4):
            if conv == 'vpsnet':
                ref = vpq_vpsnet_reference(list(videos_p.values()), n, cats)
                exp = (pq_average_reference(ref, cats),
                       pq_average_reference(ref, cats, True))
            else:
                exp = vpq_vipdeeplab_reference(list(videos_k.values()), n,
                                               19, (11, 13))[:2]
            assert res['VPQ_per_window'][str(n)] == pytest.approx(
                100 * exp[0], rel=1e-12)
            assert res['VPQ_thing_per_window'][str(n)] == pytest.approx(
                100 * exp[1], rel=1e-12)
