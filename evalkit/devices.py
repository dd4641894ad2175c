"""Whether a configured torch device exists here: checked before work, not mid-run."""

from __future__ import annotations

from evalkit.errors import UserError


def check_device(device: str) -> None:
    """`cuda` without a GPU (or `mps` off a Mac) is an error now, not a traceback mid-run."""
    import torch

    kind = device.split(":")[0]
    available = {"cpu": True, "cuda": torch.cuda.is_available(), "mps": torch.backends.mps.is_available(),
                 "xpu": hasattr(torch, "xpu") and torch.xpu.is_available()}[kind]
    if not available:
        raise UserError(f"device '{device}' is not available on this machine (torch sees no {kind} device); "
                        "use device: cpu, or run where that device exists")
    if ":" in device and kind in ("cuda", "xpu"):
        count = getattr(torch, kind).device_count()
        if int(device.split(":")[1]) >= count:
            raise UserError(f"device '{device}' does not exist: this machine has {count} {kind} device(s)")
