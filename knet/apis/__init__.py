"""High-level APIs: build a model from a config and run video inference."""
from .inference import (VISFrameResult, VPSFrameResult, inference_vis,
                        inference_vps, init_model, model_device,
                        network_input_shape)

__all__ = [
    'init_model', 'inference_vps', 'inference_vis', 'VPSFrameResult',
    'VISFrameResult', 'model_device', 'network_input_shape'
]
