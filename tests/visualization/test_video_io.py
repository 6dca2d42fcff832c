"""Video and frame-folder reading, MP4/GIF writing (atomic, verified)."""
import logging
import os
import subprocess

import cv2
import numpy as np
import pytest
from PIL import Image

from knet.visualization import video_io
from knet.visualization.video_io import (FrameFolderWriter, FrameSource,
                                         VideoIOError, VideoWriter,
                                         h264_ffmpeg, read_video_info)


def frames(n=5, h=48, w=80):
    """Smooth frames (lossy codecs keep them) with a moving bright square."""
    out = []
    for t in range(n):
        f = np.zeros((h, w, 3), np.uint8)
        f[..., 0] = 40
        f[..., 2] = 200
        f[10:30, 5 + 8 * t:25 + 8 * t] = (250, 250, 20)
        out.append(f)
    return out


def opencv_mp4(path, imgs, fps=5.0):
    """An MP4 written directly with OpenCV (as a user's camera file)."""
    h, w = imgs[0].shape[:2]
    vw = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'mp4v'), fps,
                         (w, h))
    for f in imgs:
        vw.write(cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
    vw.release()


def test_read_mp4_made_by_opencv(tmp_path):
    imgs = frames(6)
    opencv_mp4(tmp_path / 'in.mp4', imgs)
    src = FrameSource(str(tmp_path / 'in.mp4'))
    assert src.kind == 'video' and len(src) == 6 and src.fps == 5.0
    got = list(src)
    assert len(got) == 6 and got[0].shape == (48, 80, 3)
    assert got[0].dtype == np.uint8
    # RGB order and content survive the codec (lossy: compare loosely)
    for a, b in zip(got, imgs):
        assert np.abs(a.astype(int) - b).mean() < 8
    assert got[3][20, 40, 2] < 100 and got[0][40, 70, 2] > 150


def test_folder_is_read_in_natural_order(tmp_path):
    imgs = frames(3)
    for name, img in zip(['f10', 'f2', 'f1'], imgs[::-1]):
        cv2.imwrite(str(tmp_path / f'{name}.png'),
                    cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
    (tmp_path / 'notes.txt').write_text('not a frame')
    src = FrameSource(str(tmp_path))
    assert src.names == ['f1', 'f2', 'f10']
    got = list(src)
    # f10 holds imgs[2], f2 imgs[1], f1 imgs[0]; PNG is lossless
    assert len(got) == 3 and all((g == e).all() for g, e in zip(got, imgs))


def ffprobe(path):
    """What the bundled ffmpeg says about the file's video stream."""
    proc = subprocess.run([h264_ffmpeg(), '-hide_banner', '-i', str(path)],
                          capture_output=True, text=True)
    return [ln for ln in proc.stderr.splitlines() if 'Video:' in ln][0]


def test_mp4_writer_round_trip_and_atomic(tmp_path):
    out = tmp_path / 'sub' / 'out.mp4'
    with VideoWriter(str(out), fps=4) as vw:
        for f in frames(7, 50, 90):  # odd-free but non-multiple-of-16 size
            vw.write(f)
        assert not out.exists()  # only the temporary exists until close
    assert vw.codec == 'h264'
    info = read_video_info(str(out))
    assert (info['frames'], info['width'], info['height']) == (7, 90, 50)
    assert info['codec'] == 'h264'
    # what browsers need: H.264 in yuv420p, the index (moov) before the data
    stream = ffprobe(out)
    assert 'Video: h264' in stream and 'yuv420p' in stream, stream
    head = out.read_bytes()
    assert 0 <= head.find(b'moov') < head.find(b'mdat'), 'not +faststart'
    cap = cv2.VideoCapture(str(out))
    n = 0
    while cap.read()[0]:
        n += 1
    assert n == 7
    assert os.listdir(out.parent) == ['out.mp4']  # no temporary left


def test_odd_sized_mp4_is_padded_to_even(tmp_path):
    out = tmp_path / 'odd.mp4'
    with VideoWriter(str(out), fps=4) as vw:
        for f in frames(3, 49, 91):
            vw.write(f)
    assert vw.size == (92, 50)
    info = read_video_info(str(out))
    assert (info['frames'], info['width'], info['height']) == (3, 92, 50)
    first = next(iter(FrameSource(str(out))))
    # the pad is black (chroma bleeds one pixel: compare brightness)
    body = first[:48, :90].astype(int).sum(-1).mean()
    assert first[49].astype(int).sum(-1).mean() < 0.6 * body
    assert first[:, 91].astype(int).sum(-1).mean() < 0.6 * body
    assert np.abs(first[:49, :91].astype(int) - frames(1, 49, 91)[0]
                  ).mean() < 8


def test_without_h264_encoder_falls_back_to_mp4v_with_one_warning(
        tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(video_io, 'h264_ffmpeg', lambda: None)
    video_io._warn_mp4v_once.cache_clear()
    with caplog.at_level(logging.WARNING, logger=video_io.__name__):
        for name in ('a.mp4', 'b.mp4'):
            with VideoWriter(str(tmp_path / name), fps=4) as vw:
                for f in frames(3):
                    vw.write(f)
            assert vw.codec == 'mp4v'
    video_io._warn_mp4v_once.cache_clear()
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1 and '\n' not in warnings[0]
    assert 'mp4v' in warnings[0] and 'imageio-ffmpeg' in warnings[0]
    info = read_video_info(str(tmp_path / 'b.mp4'))
    assert (info['codec'], info['frames']) == ('mp4v', 3)


def test_mp4_that_reads_back_wrong_is_not_moved_into_place(tmp_path,
                                                          monkeypatch):
    out = tmp_path / 'out.mp4'
    out.write_bytes(b'the previous video')
    real = video_io.read_video_info

    def one_frame_short(path):
        info = real(path)
        return dict(info, frames=info['frames'] - 1)

    monkeypatch.setattr(video_io, 'read_video_info', one_frame_short)
    with pytest.raises(VideoIOError, match='reads back as h264, 3 frames'):
        with VideoWriter(str(out), fps=4) as vw:
            for f in frames(4):
                vw.write(f)
    assert out.read_bytes() == b'the previous video'
    assert os.listdir(tmp_path) == ['out.mp4']


def test_read_real_h264_clip(h264_clip, tmp_path):
    """A public H.264 clip (not made by the tests) reads frame by frame."""
    info = read_video_info(str(h264_clip))
    assert info['codec'] == 'h264'
    assert (info['frames'], info['width'], info['height']) == (120, 176, 144)
    src = FrameSource(str(h264_clip))
    assert src.kind == 'video' and len(src) == 120
    assert abs(src.fps - 29.97) < 0.01
    got = list(src)
    assert len(got) == 120
    assert all(f.shape == (144, 176, 3) and f.dtype == np.uint8 for f in got)
    # a real scene: textured, and it changes over time
    assert got[0].std() > 20
    assert np.abs(got[0].astype(int) - got[-1]).mean() > 5
    # and it re-encodes to H.264 (odd-free 176 x 144) frame for frame
    out = tmp_path / 'copy.mp4'
    with VideoWriter(str(out), fps=src.fps) as vw:
        for f in got[:10]:
            vw.write(f)
    again = list(FrameSource(str(out)))
    assert len(again) == 10
    assert np.abs(again[5].astype(int) - got[5]).mean() < 6


def test_writer_error_leaves_no_file(tmp_path):
    out = tmp_path / 'bad.mp4'
    with pytest.raises(ValueError):
        with VideoWriter(str(out)) as vw:
            vw.write(frames(1)[0])
            vw.write(np.zeros((10, 10, 3), np.uint8))  # another size
    assert os.listdir(tmp_path) == []


def test_gif_writer(tmp_path):
    out = tmp_path / 'out.gif'
    with VideoWriter(str(out), fps=5) as vw:
        for f in frames(4):
            vw.write(f)
    with Image.open(out) as im:
        assert im.n_frames == 4 and im.size == (80, 48)
        im.seek(2)
        rgb = np.asarray(im.convert('RGB'))
    assert np.abs(rgb.astype(int) - frames(4)[2]).mean() < 6


def test_frame_folder_writer(tmp_path):
    w = FrameFolderWriter(str(tmp_path / 'out'))
    for i, f in enumerate(frames(2)):
        w.write(f, f'{i:06d}')
    got = list(FrameSource(str(tmp_path / 'out')))
    assert len(got) == 2 and (got[1] == frames(2)[1]).all()
    # no frame, no folder (a demo that fails before its first frame)
    with FrameFolderWriter(str(tmp_path / 'none')):
        pass
    assert not (tmp_path / 'none').exists()


@pytest.mark.parametrize('kind', ['missing', 'garbage', 'empty_dir'])
def test_unreadable_inputs_raise_one_line(tmp_path, kind):
    path = tmp_path / 'x.mp4'
    if kind == 'garbage':
        path.write_bytes(b'this is not a video')
    elif kind == 'empty_dir':
        path = tmp_path / 'frames'
        path.mkdir()
    with pytest.raises(VideoIOError) as e:
        FrameSource(str(path))
    msg = str(e.value)
    assert str(path) in msg and '\n' not in msg
