"""Kernel updator: the gated update of K-Net kernels by their group features.

From the pooled group feature F of each kernel a linear layer produces an
"in" and an "out" projection; the same is done for the kernel K. Two
sigmoid gates (Linear + LN each) computed from F_in * K_in weigh the two
paths::

    out = sigmoid(LN(Wg1 g)) * LN(F_out) + sigmoid(LN(Wg2 g)) * LN(K_out)
    out = ReLU(LN(W out))

Parameter names follow the original release (``dynamic_layer``,
``input_layer``, ``input_gate``, ``update_gate``, ``norm_in``, ``norm_out``,
``input_norm_in``, ``input_norm_out``, ``fc_layer``, ``fc_norm``).
"""
from typing import Optional

import torch.nn as nn
from mmcv.cnn import build_activation_layer, build_norm_layer
from torch import Tensor

from mmdet.registry import MODELS

__all__ = ['KernelUpdator']


@MODELS.register_module()
class KernelUpdator(nn.Module):
    """Gated kernel update (K-Net, Zhang et al. 2021).

    Args:
        in_channels (int): channels of kernels and group features.
        feat_channels (int): width of the gate / projection space.
        out_channels (int, optional): output channels (default in_channels).
        gate_sigmoid (bool): squash the gates with a sigmoid.
        gate_norm_act (bool): LN + activation on the gate features.
        activate_out (bool): activation on both projected paths.
    """

    def __init__(self,
                 in_channels: int = 256,
                 feat_channels: int = 64,
                 out_channels: Optional[int] = None,
                 gate_sigmoid: bool = True,
                 gate_norm_act: bool = False,
                 activate_out: bool = False,
                 act_cfg: dict = dict(type='ReLU', inplace=True),
                 norm_cfg: dict = dict(type='LN')) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.feat_channels = feat_channels
        self.out_channels = out_channels if out_channels else in_channels
        self.gate_sigmoid = gate_sigmoid
        self.gate_norm_act = gate_norm_act
        self.activate_out = activate_out
        self.num_params_in = feat_channels
        self.num_params_out = feat_channels

        num_params = self.num_params_in + self.num_params_out
        self.dynamic_layer = nn.Linear(in_channels, num_params)
        self.input_layer = nn.Linear(in_channels,
                                     self.num_params_in + self.num_params_out)
        self.input_gate = nn.Linear(in_channels, feat_channels)
        self.update_gate = nn.Linear(in_channels, feat_channels)
        if gate_norm_act:
            self.gate_norm = build_norm_layer(norm_cfg, feat_channels)[1]
        self.norm_in = build_norm_layer(norm_cfg, feat_channels)[1]
        self.norm_out = build_norm_layer(norm_cfg, feat_channels)[1]
        self.input_norm_in = build_norm_layer(norm_cfg, feat_channels)[1]
        self.input_norm_out = build_norm_layer(norm_cfg, feat_channels)[1]
        self.activation = build_activation_layer(act_cfg)
        self.fc_layer = nn.Linear(feat_channels, self.out_channels)
        self.fc_norm = build_norm_layer(norm_cfg, self.out_channels)[1]

    def forward(self, update_feature: Tensor, input_feature: Tensor) -> Tensor:
        """Update kernels.

        Args:
            update_feature (Tensor): group features, [..., C] (any leading
                shape, flattened to [M, C]).
            input_feature (Tensor): kernels, M x K*K x C in any layout
                that reshapes to [M, -1, C].

        Returns:
            Tensor: [M, K*K, out_channels] updated kernels.
        """
        update_feature = update_feature.reshape(-1, self.in_channels)
        num_proposals = update_feature.size(0)
        parameters = self.dynamic_layer(update_feature)
        param_in = parameters[:, :self.num_params_in].view(
            -1, self.feat_channels)
        param_out = parameters[:, -self.num_params_out:].view(
            -1, self.feat_channels)

        input_feats = self.input_layer(
            input_feature.reshape(num_proposals, -1, self.feat_channels))
        input_in = input_feats[..., :self.num_params_in]
        input_out = input_feats[..., -self.num_params_out:]

        gate_feats = input_in * param_in.unsqueeze(-2)
        if self.gate_norm_act:
            gate_feats = self.activation(self.gate_norm(gate_feats))

        input_gate = self.input_norm_in(self.input_gate(gate_feats))
        update_gate = self.norm_in(self.update_gate(gate_feats))
        if self.gate_sigmoid:
            input_gate = input_gate.sigmoid()
            update_gate = update_gate.sigmoid()
        param_out = self.norm_out(param_out)
        input_out = self.input_norm_out(input_out)
        if self.activate_out:
            param_out = self.activation(param_out)
            input_out = self.activation(input_out)

        features = update_gate * param_out.unsqueeze(-2) + \
            input_gate * input_out
        features = self.fc_layer(features)
        features = self.fc_norm(features)
        return self.activation(features)
