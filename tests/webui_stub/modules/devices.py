"""modules/devices.py: the CPU is the device here."""

import torch

cpu = torch.device("cpu")
device = cpu
