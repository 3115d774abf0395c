"""modules/shared.py: ``opts``, ``OptionInfo``, ``sd_model``, ``state``, ``device``."""

from __future__ import annotations

from types import SimpleNamespace

from modules import devices, options
from modules.options import OptionInfo

__all__ = ["OptionInfo", "cmd_opts", "device", "opts", "sd_model", "state"]

opts = options.Options(
    {
        "samples_save": OptionInfo(True, "Always save all generated images"),
        "samples_format": OptionInfo("png", "File format for images"),
        "samples_filename_pattern": OptionInfo("", "Images filename pattern"),
        "save_images_add_number": OptionInfo(True, "Add number to filename when saving"),
        "save_images_replace_action": OptionInfo("Replace", "Saving the image to an existing file"),
        "save_to_dirs": OptionInfo(True, "Save images to a subdirectory"),
        "grid_save_to_dirs": OptionInfo(True, "Save grids to a subdirectory"),
        "directories_filename_pattern": OptionInfo("[date]", "Directory name pattern"),
        "grid_save": OptionInfo(True, "Always save all generated image grids"),
        "grid_format": OptionInfo("png", "File format for grids"),
        "grid_extended_filename": OptionInfo(False, "Add extended info to grid file names"),
        "save_images_before_highres_fix": OptionInfo(False, "Save a copy before highres fix"),
        "save_incomplete_images": OptionInfo(False, "Save incomplete images"),
        "enable_pnginfo": OptionInfo(True, "Save text information into PNG"),
        "return_grid": OptionInfo(True, "Show grid in gallery"),
        "grid_only_if_multiple": OptionInfo(True, "Do not save grids of one picture"),
        "eta_noise_seed_delta": OptionInfo(0, "Eta noise seed delta"),
        "randn_source": OptionInfo("CPU", "Random number generator source"),
    }
)
sd_model = None  # tests assign a model-like object
state = SimpleNamespace(interrupted=False, skipped=False, stopping_generation=False)
cmd_opts = SimpleNamespace(api=False, nowebui=False)
device = devices.device
