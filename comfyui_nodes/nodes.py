"""The ComfyUI nodes: TKGChromaNoise, TKGChromaModel and TKGChromaKey (classic node API).

Class names are the node ids saved in workflows; do not rename them.
"""

from __future__ import annotations

from typing import Any

from lib_tkg.params import ParamError

from . import inputs, key, shift


def _message(check, values: dict[str, Any]) -> bool | str:
    """``True``, or the ``ParamError`` text that ``check(values)`` raised (VALIDATE_INPUTS)."""
    try:
        check(values)
    except ParamError as e:
        return str(e)
    return True


_MODEL_TOOLTIP = "the sampling model; its latent format gives the family (SD1/2, SDXL, SD3, Flux)"


def _shift_inputs(**links: Any) -> dict[str, Any]:
    """``INPUT_TYPES`` of the shift nodes: ``links``, the shift widgets, the optional layout."""
    required = {**links, **{name: inputs.widget(name) for name in inputs.SHIFT_FIELDS}}
    return {
        "required": required,
        "optional": {name: inputs.widget(name) for name in inputs.LAYOUT_FIELDS},
    }


class TKGChromaNoise:
    """Wraps a NOISE so SamplerCustomAdvanced starts from TKG noise (coloured background)."""

    CATEGORY = inputs.CATEGORY
    RETURN_TYPES = ("NOISE",)
    FUNCTION = "apply"
    DESCRIPTION = (
        "TKG-DM: shifts the initial noise's channel means outside a Gaussian subject mask, so "
        "the model paints the subject on a flat, keyable colour. Feed the output to "
        "SamplerCustomAdvanced. Per sample: a seed gives the same image at any batch position."
    )

    @classmethod
    def INPUT_TYPES(cls) -> dict[str, Any]:
        return _shift_inputs(
            noise=("NOISE", {"tooltip": "the noise to shift, e.g. from RandomNoise"}),
            model=("MODEL", {"tooltip": _MODEL_TOOLTIP}),
        )

    @classmethod
    def VALIDATE_INPUTS(
        cls,
        color=None,
        custom_color=None,
        strength=None,
        sigma=None,
        center_x=None,
        center_y=None,
        layout=None,
        aspect=None,
    ) -> bool | str:
        values = dict(color=color, custom_color=custom_color, strength=strength, sigma=sigma)
        place = dict(center_x=center_x, center_y=center_y, layout=layout, aspect=aspect)
        return _message(inputs.params, {**values, **place})

    def apply(self, noise: Any, model: Any, **values: Any) -> tuple[shift.ShiftedNoise]:
        return (shift.ShiftedNoise(noise, shift.model_family(model), inputs.params(values)),)


class TKGChromaModel:
    """Patches a MODEL so KSampler / KSamplerAdvanced start from TKG noise."""

    CATEGORY = inputs.CATEGORY
    RETURN_TYPES = ("MODEL",)
    FUNCTION = "apply"
    DESCRIPTION = (
        "TKG-DM for the classic KSampler and KSamplerAdvanced: the same shift as TKG Chroma "
        "Noise, applied to the initial noise of every sampling pass that starts from pure noise "
        "(not img2img, hires-fix or refiner passes, nor passes without added noise). Use it or "
        "TKG Chroma Noise, not both."
    )
    WRAPPER_KEY = "tkg_chroma"

    @classmethod
    def INPUT_TYPES(cls) -> dict[str, Any]:
        return _shift_inputs(model=("MODEL", {"tooltip": _MODEL_TOOLTIP}))

    VALIDATE_INPUTS = TKGChromaNoise.VALIDATE_INPUTS

    def apply(self, model: Any, **values: Any) -> tuple[Any]:
        from comfy.patcher_extension import WrappersMP  # ComfyUI's own module, at run time

        wrapper = shift.OuterSampleShift(shift.model_family(model), inputs.params(values))
        patched = model.clone()
        patched.remove_wrappers_with_key(WrappersMP.OUTER_SAMPLE, self.WRAPPER_KEY)
        patched.add_wrapper_with_key(WrappersMP.OUTER_SAMPLE, self.WRAPPER_KEY, wrapper)
        return (patched,)


class TKGChromaKey:
    """Keys an image on a flat colour: foreground, MASK (1 = transparent) and RGBA image."""

    CATEGORY = inputs.CATEGORY
    RETURN_TYPES = ("IMAGE", "MASK", "IMAGE")
    RETURN_NAMES = ("foreground", "mask", "rgba")
    FUNCTION = "apply"
    DESCRIPTION = (
        "Chroma keyer (clean plate, colour-difference matte, edge refinement, despill). "
        "'rgba' has 4 channels: SaveImage writes it as an RGBA PNG. 'mask' follows ComfyUI's "
        "convention (1 - alpha), so JoinImageWithAlpha(foreground, mask) gives the same RGBA."
    )

    @classmethod
    def INPUT_TYPES(cls) -> dict[str, Any]:
        d = key.KEYER_DEFAULTS
        return {
            "required": {
                "image": (
                    "IMAGE",
                    {"tooltip": "images on a flat colour; an alpha channel is multiplied in"},
                ),
                "color": inputs.widget("color", auto=True),
                "custom_color": inputs.widget("custom_color"),
                "tolerance": inputs.widget("tolerance"),
                "despill": inputs.widget("despill"),
                "clip_white": (
                    "FLOAT",
                    {
                        "default": d["clip_white"],
                        "min": 0.0,
                        "max": 1.0,
                        "step": 0.01,
                        "tooltip": "alpha within this fraction of opaque becomes opaque; "
                        "tolerance + clip_white must stay below 1",
                    },
                ),
                "refine": (
                    "BOOLEAN",
                    {"default": d["refine"], "tooltip": "edge-aware refinement of soft edges"},
                ),
                "denoise": (
                    "BOOLEAN",
                    {
                        "default": d["denoise"],
                        "tooltip": "smooth the foreground colour as much as the screen's noise",
                    },
                ),
                "border": (
                    "FLOAT",
                    {
                        "default": d["border"],
                        "min": 0.01,
                        "max": 0.5,
                        "step": 0.01,
                        "tooltip": "border band (fraction of the short side) where 'auto' "
                        "looks for the screen colour",
                    },
                ),
            },
            "optional": {name: inputs.widget(name) for name in inputs.KEY_OPTIONAL_FIELDS},
        }

    @classmethod
    def VALIDATE_INPUTS(
        cls,
        color=None,
        custom_color=None,
        tolerance=None,
        despill=None,
        clip_white=None,
        refine=None,
        denoise=None,
        border=None,
        keep_shadow=None,
    ) -> bool | str:
        values = dict(color=color, custom_color=custom_color, tolerance=tolerance, despill=despill)
        options = dict(clip_white=clip_white, refine=refine, denoise=denoise, border=border)
        options["keep_shadow"] = keep_shadow
        return _message(key.check, {**values, **options})

    def apply(self, image: Any, **values: Any) -> tuple[Any, Any, Any]:
        key.check(values)
        return key.key_batch(image, *key.settings(values))


NODE_CLASS_MAPPINGS = {
    "TKGChromaNoise": TKGChromaNoise,
    "TKGChromaModel": TKGChromaModel,
    "TKGChromaKey": TKGChromaKey,
}
NODE_DISPLAY_NAME_MAPPINGS = {
    "TKGChromaNoise": "TKG Chroma Noise",
    "TKGChromaModel": "TKG Chroma Model Patch",
    "TKGChromaKey": "TKG Chroma Key",
}
