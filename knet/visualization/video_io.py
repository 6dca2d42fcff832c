"""Reading and writing videos as RGB uint8 frames (OpenCV, ffmpeg, Pillow).

* :class:`FrameSource` reads a video file (OpenCV ``VideoCapture``) or a
  folder of images (sorted naturally by name) one frame at a time, so memory
  stays bounded whatever the video length.
* :class:`VideoWriter` writes MP4 or GIF (Pillow) to a temporary file next
  to the target (:func:`knet.formats.io.reserve_temporary`: removed after an
  interruption), checks that an MP4 re-opens with the codec, frame count and
  size written, then moves it into place. MP4 is H.264
  (yuv420p, ``+faststart``: plays in browsers) through the ffmpeg that the
  ``imageio-ffmpeg`` wheel bundles; without that encoder it falls back to
  OpenCV's ``mp4v`` (MPEG-4 Part 2, which browsers do not play) with a
  one-line warning.
* :class:`FrameFolderWriter` writes images atomically
  (:func:`knet.formats.io.save_image`).

Errors about the user's files raise :class:`VideoIOError` with a one-line
message naming the file, for command-line tools to print.
"""
import functools
import logging
import os
import os.path as osp
import re
import subprocess
from typing import Iterator, List, Optional, Tuple

import cv2
import numpy as np

from knet.formats.io import (commit_temporary, discard_temporary,
                             reserve_temporary, save_image)
from knet.utils.cli import UserError

__all__ = [
    'IMAGE_EXTENSIONS', 'VIDEO_EXTENSIONS', 'MP4_CODECS', 'VideoIOError',
    'FrameSource', 'VideoWriter', 'FrameFolderWriter', 'read_video_info',
    'open_writer', 'h264_ffmpeg'
]

logger = logging.getLogger(__name__)

IMAGE_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp')
VIDEO_EXTENSIONS = ('.mp4', '.avi', '.mov', '.mkv', '.webm', '.m4v', '.mpg',
                    '.mpeg', '.wmv', '.flv', '.gif')
#: MP4 codecs :class:`VideoWriter` writes: H.264 (default) and OpenCV's
#: MPEG-4 Part 2 (the fallback)
MP4_CODECS = ('h264', 'mp4v')
#: libx264 constant rate factor: 18 keeps the colour overlays' edges crisp
#: (the ffmpeg default, 23, smears the small synthetic frames)
H264_CRF = 18
#: OpenCV's FOURCC spellings of the two codecs (it reads mp4v as 'fmp4')
_FOURCC_CODEC = {'avc1': 'h264', 'avc3': 'h264', 'h264': 'h264',
                 'x264': 'h264', 'mp4v': 'mp4v', 'fmp4': 'mp4v'}


class VideoIOError(UserError):
    """A video or image file that cannot be read or written (one line)."""


def _natural_key(name: str) -> List[object]:
    """'frame2.png' < 'frame10.png': digits compare as numbers."""
    return [int(t) if t.isdigit() else t.lower()
            for t in re.split(r'(\d+)', name)]


def _bgr2rgb(img: np.ndarray) -> np.ndarray:
    if img.ndim == 2:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)
    if img.shape[2] == 4:
        return cv2.cvtColor(img, cv2.COLOR_BGRA2RGB)
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


class FrameSource:
    """The frames of a video file or an image folder, read lazily.

    Args:
        path: a video file (any format OpenCV's FFmpeg backend decodes) or a
            folder of images (``IMAGE_EXTENSIONS``; natural name order).

    Attributes:
        kind: ``'video'`` or ``'folder'``.
        fps: frames per second of a video (``None`` for a folder).
        names: frame names without extension (a folder's file stems, or
            ``000000``, ``000001`` ... for a video).

    Iterating yields ``H x W x 3`` uint8 RGB arrays, one at a time.
    """

    def __init__(self, path: str) -> None:
        self.path = str(path)
        if not osp.exists(self.path):
            raise VideoIOError(f'{self.path}: no such file or folder')
        self.fps: Optional[float] = None
        self._files: List[str] = []
        if osp.isdir(self.path):
            self.kind = 'folder'
            self._files = sorted(
                (f for f in os.listdir(self.path)
                 if f.lower().endswith(IMAGE_EXTENSIONS)
                 and not f.startswith('.')),
                key=_natural_key)
            if not self._files:
                raise VideoIOError(f'{self.path}: folder holds no images '
                                   f'({", ".join(IMAGE_EXTENSIONS)})')
            self.names = [osp.splitext(f)[0] for f in self._files]
        else:
            self.kind = 'video'
            info = read_video_info(self.path)
            self.fps = info['fps']
            self._count = info['frames']
            self.names = [f'{i:06d}' for i in range(self._count)]

    def __len__(self) -> int:
        return len(self.names)

    def __iter__(self) -> Iterator[np.ndarray]:
        if self.kind == 'folder':
            for name in self._files:
                yield self._read_image(osp.join(self.path, name))
            return
        cap = cv2.VideoCapture(self.path)
        try:
            if not cap.isOpened():
                raise VideoIOError(f'{self.path}: cannot open the video')
            while True:
                ok, frame = cap.read()
                if not ok:
                    break
                yield _bgr2rgb(frame)
        finally:
            cap.release()

    @staticmethod
    def _read_image(path: str) -> np.ndarray:
        img = cv2.imread(path, cv2.IMREAD_COLOR)
        if img is None:
            raise VideoIOError(f'{path}: not a readable image')
        return _bgr2rgb(img)


def read_video_info(path: str) -> dict:
    """``{'fps', 'frames', 'width', 'height', 'codec'}`` of a video file.

    The frame count is the container's when it has one, else counted by
    decoding. ``codec`` is OpenCV's FOURCC in lower case, H.264 and MPEG-4
    Part 2 under one name each (``avc1`` -> ``'h264'``, ``fmp4`` ->
    ``'mp4v'``). Raises
    :class:`VideoIOError` when nothing can be decoded.
    """
    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            raise VideoIOError(f'{path}: cannot open the video (not a video '
                               'file, or a codec OpenCV lacks)')
        ok, first = cap.read()
        if not ok:
            raise VideoIOError(f'{path}: the video has no decodable frame')
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        fourcc = int(cap.get(cv2.CAP_PROP_FOURCC) or 0)
        codec = fourcc.to_bytes(4, 'little').decode(
            'latin-1').strip('\x00 ').lower()
        if count <= 0:
            count = 1
            while cap.read()[0]:
                count += 1
        return dict(fps=fps if fps > 0 else None, frames=count,
                    width=first.shape[1], height=first.shape[0],
                    codec=_FOURCC_CODEC.get(codec, codec))
    finally:
        cap.release()


@functools.lru_cache(maxsize=None)
def h264_ffmpeg() -> Optional[str]:
    """The ffmpeg of ``imageio-ffmpeg`` when it has libx264, else None.

    Looked up once per process (one ``ffmpeg -encoders`` call).
    """
    try:
        import imageio_ffmpeg
        exe = imageio_ffmpeg.get_ffmpeg_exe()
        proc = subprocess.run([exe, '-hide_banner', '-encoders'],
                              capture_output=True, text=True, timeout=60)
    except (ImportError, RuntimeError, OSError, subprocess.SubprocessError):
        return None
    names = [line.split()[1] for line in proc.stdout.splitlines()
             if len(line.split()) > 1]
    return exe if proc.returncode == 0 and 'libx264' in names else None


@functools.lru_cache(maxsize=None)
def _warn_mp4v_once() -> None:
    logger.warning('imageio-ffmpeg with libx264 not found: writing MP4 as '
                   'mp4v, which browsers do not play (pip install '
                   'imageio-ffmpeg)')


class FrameFolderWriter:
    """Writes frames as ``<folder>/<name><ext>`` images, each atomically.

    The folder is made with the first frame: a run that ends before any
    frame (an input without decodable frames, an error) leaves nothing."""

    def __init__(self, folder: str, ext: str = '.png') -> None:
        self.folder = str(folder)
        self.ext = ext
        self.count = 0

    def write(self, frame: np.ndarray, name: Optional[str] = None) -> str:
        if self.count == 0:
            os.makedirs(self.folder, exist_ok=True)
        name = f'{self.count:06d}' if name is None else name
        path = osp.join(self.folder, name + self.ext)
        save_image(path, frame)
        self.count += 1
        return path

    def close(self) -> None:
        pass

    def __enter__(self) -> 'FrameFolderWriter':
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class VideoWriter:
    """Write RGB frames to an MP4 (H.264, or ``mp4v``) or a GIF (Pillow).

    Frames go to a temporary file in the target folder; :meth:`close` checks
    the result (an MP4 must re-open with OpenCV's ``VideoCapture`` with the
    codec, frame count and size written) and moves it onto ``path``. Used as
    a context manager, an exception inside the block removes the temporary
    file and leaves ``path`` untouched. All frames must have the size of the
    first one. MP4 (4:2:0 chroma) needs an even width and height: an
    odd-sized video gets one black row / column at the bottom / right
    (``size`` tells the written size).

    MP4 codecs: ``'h264'`` (default) pipes the frames to the ffmpeg of
    ``imageio-ffmpeg`` (libx264, yuv420p, crf :data:`H264_CRF`,
    ``-movflags +faststart`` so a browser starts playing before the whole
    file is loaded); when that encoder is missing the writer warns once and
    uses ``'mp4v'`` (OpenCV). ``codec`` tells the codec in use.

    Args:
        path: target ``.mp4`` or ``.gif`` file.
        fps: frames per second.
        gif_max_width: GIF frames wider than this are downscaled (GIFs of
            full-size frames are huge); ``None`` keeps the size.
        codec: MP4 codec, one of :data:`MP4_CODECS`.
    """

    def __init__(self, path: str, fps: float = 10.0,
                 gif_max_width: Optional[int] = None,
                 codec: str = 'h264') -> None:
        self.path = str(path)
        ext = osp.splitext(self.path)[1].lower()
        if ext not in ('.mp4', '.gif'):
            raise VideoIOError(f'{self.path}: output video must be .mp4 or '
                               '.gif')
        if codec not in MP4_CODECS:
            raise ValueError(f'unknown MP4 codec {codec!r}; one of '
                             f'{MP4_CODECS}')
        self.kind = ext[1:]
        self.codec: Optional[str] = None
        if self.kind == 'mp4':
            self.codec = codec
            if codec == 'h264' and h264_ffmpeg() is None:
                _warn_mp4v_once()
                self.codec = 'mp4v'
        self.fps = float(fps) if fps and fps > 0 else 10.0
        self.gif_max_width = gif_max_width
        self.count = 0
        self.size: Optional[Tuple[int, int]] = None  # (width, height)
        # named beside the target (same suffix), removed by the runner's
        # clean-up after an interruption
        self._tmp = reserve_temporary(self.path)
        self._cv_writer = None
        self._ffmpeg = None  # imageio-ffmpeg's frame-writing generator
        self._gif_frames: list = []
        self._closed = False

    def write(self, frame: np.ndarray) -> None:
        frame = np.ascontiguousarray(frame, dtype=np.uint8)
        if frame.ndim != 3 or frame.shape[2] != 3:
            raise ValueError(f'expected an HxWx3 RGB frame, got {frame.shape}')
        h, w = frame.shape[:2]
        if self.kind == 'mp4' and (h % 2 or w % 2):
            frame = cv2.copyMakeBorder(frame, 0, h % 2, 0, w % 2,
                                       cv2.BORDER_CONSTANT, value=0)
            h, w = frame.shape[:2]
        if self.size is None:
            self.size = (w, h)
            if self.kind == 'mp4':
                self._open_mp4(w, h)
        elif self.size != (w, h):
            raise ValueError(f'frame {self.count} is {w}x{h}, the video is '
                             f'{self.size[0]}x{self.size[1]}')
        if self._ffmpeg is not None:
            try:
                self._ffmpeg.send(frame)
            except OSError as e:  # ffmpeg died; its message went to stderr
                raise VideoIOError(f'{self.path}: ffmpeg stopped while '
                                   f'writing frame {self.count}') from e
        elif self.kind == 'mp4':
            self._cv_writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
        else:
            from PIL import Image
            if self.gif_max_width and w > self.gif_max_width:
                nh = max(1, int(round(h * self.gif_max_width / w)))
                frame = cv2.resize(frame, (self.gif_max_width, nh),
                                   interpolation=cv2.INTER_AREA)
            # palette images: one byte a pixel while the GIF is collected
            self._gif_frames.append(
                Image.fromarray(frame).quantize(
                    colors=256, method=Image.Quantize.MEDIANCUT))
        self.count += 1

    def _open_mp4(self, w: int, h: int) -> None:
        if self.codec == 'h264':
            import imageio_ffmpeg
            self._ffmpeg = imageio_ffmpeg.write_frames(
                self._tmp, (w, h), pix_fmt_in='rgb24', pix_fmt_out='yuv420p',
                fps=self.fps, codec='libx264', quality=None,
                macro_block_size=2,  # sizes are even: never rescale
                ffmpeg_log_level='error',
                output_params=['-crf', str(H264_CRF), '-movflags',
                               '+faststart'])
            self._ffmpeg.send(None)  # starts ffmpeg
            return
        fourcc = cv2.VideoWriter_fourcc(*'mp4v')
        self._cv_writer = cv2.VideoWriter(self._tmp, fourcc, self.fps, (w, h))
        if not self._cv_writer.isOpened():
            raise VideoIOError(f'{self.path}: OpenCV cannot open an mp4v '
                               'writer')

    def _finish_encoder(self) -> None:
        """Let the encoder write the file's end (ffmpeg: wait for it)."""
        if self._ffmpeg is not None:
            gen, self._ffmpeg = self._ffmpeg, None
            gen.close()
        if self._cv_writer is not None:
            self._cv_writer.release()

    def close(self) -> str:
        """Finish, verify and move the file into place; returns its path."""
        if self._closed:
            return self.path
        self._closed = True
        try:
            if self.count == 0:
                raise VideoIOError(f'{self.path}: no frame to write')
            if self.kind == 'mp4':
                self._finish_encoder()
                self._verify_mp4()
            else:
                first, rest = self._gif_frames[0], self._gif_frames[1:]
                first.save(self._tmp, format='GIF', save_all=True,
                           append_images=rest, loop=0,
                           duration=int(round(1000.0 / self.fps)))
                self._gif_frames = []
            commit_temporary(self._tmp, self.path)
        except BaseException:
            self.abort()
            raise
        return self.path

    def abort(self) -> None:
        """Drop the temporary file; ``path`` is left as it was."""
        self._closed = True
        self._finish_encoder()
        self._gif_frames = []
        discard_temporary(self._tmp)

    def _verify_mp4(self) -> None:
        if not osp.isfile(self._tmp) or osp.getsize(self._tmp) == 0:
            raise VideoIOError(f'{self.path}: the {self.codec} encoder wrote '
                               'no file')
        info = read_video_info(self._tmp)
        expected = (self.codec, self.count, self.size[0], self.size[1])
        got = (info['codec'], info['frames'], info['width'], info['height'])
        if got != expected:
            raise VideoIOError(
                f'{self.path}: the written video reads back as {got[0]}, '
                f'{got[1]} frames of {got[2]}x{got[3]}; expected '
                f'{expected[0]}, {expected[1]} frames of '
                f'{expected[2]}x{expected[3]}')

    def __enter__(self) -> 'VideoWriter':
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def open_writer(out: str, fps: float = 10.0, **kwargs):
    """A :class:`VideoWriter` for ``.mp4``/``.gif``, else a frame folder."""
    if osp.splitext(str(out))[1].lower() in ('.mp4', '.gif'):
        return VideoWriter(out, fps, **kwargs)
    return FrameFolderWriter(out)
