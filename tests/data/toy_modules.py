"""A toy model and dataset for runner-level tests (checkpoint, resume,
distributed launch). They exercise MMEngine's machinery, not the K-Net maths,
so they train in milliseconds."""
import torch
import torch.nn as nn
from mmengine.dataset import BaseDataset
from mmengine.model import BaseModel

from mmdet.registry import DATASETS, MODELS

__all__ = ['ToyRegressor', 'ToyRegressionDataset']


@MODELS.register_module()
class ToyRegressor(BaseModel):
    """y = w x + b fitted with MSE; ``loss`` returns the usual loss dict."""

    def __init__(self, data_preprocessor=None, sync_bn=False):
        super().__init__(data_preprocessor=data_preprocessor)
        self.backbone = nn.Linear(4, 8)
        # SyncBN as the video configs have (for the distributed CPU runs)
        self.norm = nn.SyncBatchNorm(8) if sync_bn else nn.Identity()
        self.head = nn.Linear(8, 1)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        x = torch.stack(inputs) if isinstance(inputs, list) else inputs
        pred = self.head(torch.relu(self.norm(self.backbone(x))))
        if mode == 'loss':
            y = torch.stack(data_samples) if isinstance(
                data_samples, list) else data_samples
            return dict(loss=((pred.squeeze(-1) - y)**2).mean())
        if mode == 'predict':
            return [p for p in pred]
        return pred


@DATASETS.register_module()
class ToyRegressionDataset(BaseDataset):
    """``length`` random (x, y) pairs, fixed by ``seed``."""

    def __init__(self, length=32, seed=0, **kwargs):
        self.length = length
        self.seed = seed
        super().__init__(serialize_data=False, **kwargs)

    def load_data_list(self):
        g = torch.Generator().manual_seed(self.seed)
        x = torch.randn(self.length, 4, generator=g)
        y = x.sum(1) * 0.5 + 1.0
        return [dict(inputs=x[i], data_samples=y[i])
                for i in range(self.length)]

    def prepare_data(self, idx):
        info = self.get_data_info(idx)
        return dict(inputs=info['inputs'], data_samples=info['data_samples'])
