# Runtime of the video configs (VPS and VIS): default_runtime.py with the
# video visualisation. `tools/test.py CONFIG CKPT --show-dir DIR` writes one
# overlay per frame to DIR/<video>/<frame>.png: stuff in class colours, each
# track (VPS) or video instance (VIS) in its own colour through the video,
# class names and track ids at segment centres; when the test pipeline loads
# the panoptic ground truth, it is drawn on the left.
_base_ = ['./default_runtime.py']

default_hooks = dict(
    # every frame (frame_interval=1); draw is switched on by tools/test.py
    visualization=dict(type='VideoVisualizationHook'))
visualizer = dict(type='VideoPanopticVisualizer')
