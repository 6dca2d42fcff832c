"""``tools/test.py CONFIG CKPT --show-dir DIR`` on the video configs: one
overlay PNG per frame in ``DIR/<video>/<frame>.png`` (DIR relative to the
current directory), for a VPS config (the tiny KITTI-STEP Video K-Net) and a
VIS config (the YouTube-VIS 2019 config with the tiny VIS model), on
generated data with random weights. The video demo draws the same frames
identically (its VPS and VIS branches share the drawing)."""
import shutil
from pathlib import Path

import cv2
import numpy as np
import torch
from _data_helpers import REPO, run_tool
from test_video_demo import load_demo

TINY_VPS = REPO / 'tests' / 'data' / 'video_knet_kitti_tiny.py'
VIS_CONFIG = (REPO / 'configs' / 'video_knet_vis' /
              'video_knet_vis_r50_1x_youtube-vis-2019.py')
FRAMES = 3


def random_checkpoint(config, path: Path) -> Path:
    """The config's model with seeded random weights, as a checkpoint."""
    from knet.apis import init_model
    torch.manual_seed(0)
    model = init_model(str(config), None)
    torch.save({'state_dict': model.state_dict()}, path)
    return path


def run_test_tool(config, ckpt, tmp_path, *options):
    """tools/test.py with ``--show-dir show`` run from ``tmp_path``."""
    proc = run_tool('tools/test.py', config, ckpt, '--work-dir',
                    tmp_path / 'work', '--show-dir', 'show', *options,
                    cwd=tmp_path)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    assert not list((tmp_path / 'work').rglob('*.png'))
    return tmp_path / 'show'


def check_overlays(show: Path, frames: dict) -> None:
    """``show`` holds exactly one drawn PNG per frame, frame-sized, and
    each one is an overlay (not the bare frame, not a flat image).

    ``frames``: relative PNG path -> source image path.
    """
    got = sorted(str(p.relative_to(show)) for p in show.rglob('*.png'))
    assert got == sorted(frames)
    for rel, src in frames.items():
        drawn = cv2.imread(str(show / rel))
        frame = cv2.imread(str(src))
        assert drawn.shape == frame.shape, rel
        changed = np.abs(drawn.astype(int) - frame).max(-1) > 20
        assert changed.mean() > 0.5, rel
        assert len(np.unique(drawn.reshape(-1, 3), axis=0)) > 10, rel


def check_demo_matches(config, ckpt, frame_dir, show_video: Path,
                       out: Path) -> None:
    """tools/demo/video_demo.py on one video draws what --show-dir drew."""
    load_demo().main([str(config), str(ckpt), '--input', str(frame_dir),
                      '--out', str(out)])
    names = sorted(p.name for p in show_video.iterdir())
    assert sorted(p.name for p in out.iterdir()) == names
    for name in names:
        a, b = cv2.imread(str(out / name)), cv2.imread(str(show_video / name))
        assert (a == b).all(), name


def test_show_dir_vps_one_panoptic_overlay_per_frame(tmp_path):
    from knet.datasets.synthetic import make_synthetic
    make_synthetic('kitti-step', tmp_path / 'raw', videos=3, frames=FRAMES,
                   size=(48, 96), seed=0, test_videos=0)
    root = tmp_path / 'kitti-step'
    proc = run_tool('scripts/kitti_step_prepare.py', '--src',
                    tmp_path / 'raw', '--dst', root)
    assert proc.returncode == 0, proc.stderr
    ckpt = random_checkpoint(TINY_VPS, tmp_path / 'vps.pth')
    # the labelled train split: two sequences (0000, 0001)
    split = root / 'video_sequence' / 'train'
    show = run_test_tool(
        TINY_VPS, ckpt, tmp_path, '--cfg-options',
        f'test_dataloader.dataset.data_root={root}/',
        'test_dataloader.dataset.data_prefix.img_path=video_sequence/train',
        'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False')
    images = sorted(split.glob('*_leftImg8bit.png'))
    assert len(images) == 2 * FRAMES
    check_overlays(show, {
        f'{p.name[:6]}/{p.name}': p for p in images})
    # the demo's VPS branch, on the frames of sequence 1
    frame_dir = tmp_path / 'seq1'
    frame_dir.mkdir()
    for p in split.glob('000001_*_leftImg8bit.png'):
        shutil.copy(p, frame_dir)
    check_demo_matches(TINY_VPS, ckpt, frame_dir, show / '000001',
                       tmp_path / 'demo')


def tiny_vis_config(path: Path, data_root: Path) -> Path:
    """The YouTube-VIS 2019 config with the tiny model, the test split at
    2x its size and a results folder in ``path``'s directory."""
    from tests.models.test_vis_helpers import tiny_vis_model
    path.write_text(
        f'_base_ = {str(VIS_CONFIG)!r}\n'
        f'model = dict(_delete_=True, **{tiny_vis_model(num_proposals=8)!r})\n'
        'test_dataloader = dict(num_workers=0, persistent_workers=False,\n'
        f'    dataset=dict(data_root={str(data_root) + "/"!r}, pipeline=[\n'
        '        dict(type="TransformBroadcaster", transforms=[\n'
        '            dict(type="LoadImageFromFile"),\n'
        '            dict(type="Resize", scale=(144, 80), keep_ratio=True),\n'
        '            dict(type="LoadTrackAnnotations", with_mask=True)]),\n'
        '        dict(type="PackTrackInputs")]))\n'
        f'test_evaluator = dict(outfile_prefix={str(path.parent / "res")!r})'
        '\n')
    return path


def test_show_dir_vis_one_instance_overlay_per_frame(tmp_path):
    from knet.datasets.synthetic import make_synthetic
    root = tmp_path / 'youtube_vis_2019'
    manifest = make_synthetic('youtube_vis_2019', root, videos=1,
                              frames=FRAMES, size=(40, 72), seed=0,
                              valid_videos=2)
    proc = run_tool('tools/dataset/youtubevis2coco.py', '-i',
                    manifest['ann_dir'], '-o', root / 'annotations',
                    '--version', '2019')
    assert proc.returncode == 0, proc.stderr
    config = tiny_vis_config(tmp_path / 'vis_tiny.py', root)
    ckpt = random_checkpoint(config, tmp_path / 'vis.pth')
    show = run_test_tool(config, ckpt, tmp_path)
    # the valid split: two videos whose frames have equal file names
    videos = root / 'valid' / 'JPEGImages'
    assert len(manifest['splits']['valid']) == 2
    check_overlays(show, {
        f'{p.parent.name}/{p.stem}.png': p for p in videos.glob('*/*.jpg')})
    assert len(list(show.rglob('*.png'))) == 2 * FRAMES
    # the demo's VIS branch (knet.apis.inference_vis), on the first video
    video = manifest['splits']['valid'][0]
    check_demo_matches(config, ckpt, videos / video, show / video,
                       tmp_path / 'demo')


def test_hook_resolves_a_relative_dir_once_and_names_frames(tmp_path):
    """A relative ``test_out_dir`` (set in a config) lies under
    ``<work_dir>/<timestamp>`` for every iteration; ``frame_interval``
    picks frames by their ``frame_id``; every video of a batch is drawn."""
    import types

    from mmdet.structures import DetDataSample, TrackDataSample
    from mmengine.visualization import Visualizer

    from knet.visualization.hook import VideoVisualizationHook
    Visualizer.get_instance('test_show_dir_hook')  # the hook needs one
    drawn = []
    hook = VideoVisualizationHook(draw=True, frame_interval=2,
                                  test_out_dir='show')
    hook._visualizer = types.SimpleNamespace(
        add_datasample=lambda *a, **kw: drawn.append(kw['out_file']))
    img = tmp_path / 'frame.png'
    cv2.imwrite(str(img), np.zeros((8, 8, 3), np.uint8))

    def video(name, n):
        frames = [DetDataSample(metainfo=dict(img_path=str(img), frame_id=t,
                                              seq_name=name))
                  for t in range(n)]
        return TrackDataSample(video_data_samples=frames)

    runner = types.SimpleNamespace(work_dir=str(tmp_path / 'work'),
                                   timestamp='stamp')
    hook.before_test(runner)
    hook.after_test_iter(runner, 0, {}, [video('a', 3), video('b', 1)])
    hook.after_test_iter(runner, 1, {}, [video('c', 2)])
    out = tmp_path / 'work' / 'stamp' / 'show'
    assert drawn == [str(out / v / 'frame.png') for v in 'aabc']
