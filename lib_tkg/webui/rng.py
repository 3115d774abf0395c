"""Host-side helpers for the WebUI script, kept free of WebUI imports so they are unit-testable.

* ``FirstNoiseRNG`` wraps the WebUI's per-batch ``p.rng`` (``modules.rng.ImageRNG`` or another
  extension's wrapper around it): only the first ``.next()`` - the initial noise - goes through a
  transform; every later call (ancestral samplers draw their per-step noise from ``p.rng.next()``)
  and every attribute pass through unchanged.
* ``RaisingRNG`` makes the first ``.next()`` raise a stored error; the script uses it to fail a
  generation whose parameters were rejected (the WebUI swallows exceptions raised in script hooks,
  but not ones raised while the sampler draws its noise).
* ``detect_family`` reads the model family and latent channel count from a loaded WebUI model.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_OWN = ("_tkg_inner", "_tkg_transform", "_tkg_done", "_tkg_error")


class FirstNoiseRNG:
    """``rng`` with its first ``.next()`` result passed through ``transform``.

    Attribute reads and writes that are not the wrapper's own go to the wrapped object, so code
    that inspects ``p.rng`` (``shape``, ``seeds``, ``generators``, ...) sees the real generator.
    ``transform`` must return a tensor of the same shape, dtype and device; if the wrapped rng has
    already produced its first noise (``is_first`` is False) when wrapped, nothing is transformed.
    """

    def __init__(self, rng: Any, transform: Callable[[Any], Any]) -> None:
        object.__setattr__(self, "_tkg_inner", rng)
        object.__setattr__(self, "_tkg_transform", transform)
        object.__setattr__(self, "_tkg_done", getattr(rng, "is_first", True) is False)

    @property
    def wrapped(self) -> Any:
        """The rng this wrapper delegates to."""
        return self._tkg_inner

    @property
    def transformed(self) -> bool:
        """Whether the first noise has been handed out (and transformed) already."""
        return self._tkg_done

    def next(self) -> Any:
        noise = self._tkg_inner.next()
        if self._tkg_done:
            return noise
        object.__setattr__(self, "_tkg_done", True)
        return self._tkg_transform(noise)

    def __getattr__(self, name: str) -> Any:  # only called for names not found on the wrapper
        if name in _OWN:
            raise AttributeError(name)
        return getattr(self._tkg_inner, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _OWN:
            object.__setattr__(self, name, value)
        else:
            setattr(self._tkg_inner, name, value)

    def __repr__(self) -> str:
        return f"FirstNoiseRNG({self._tkg_inner!r}, transformed={self._tkg_done})"


class RaisingRNG(FirstNoiseRNG):
    """``rng`` whose first ``.next()`` raises ``error``; later calls and attributes pass through."""

    def __init__(self, rng: Any, error: BaseException) -> None:
        super().__init__(rng, lambda noise: noise)
        object.__setattr__(self, "_tkg_error", error)
        object.__setattr__(self, "_tkg_done", False)

    def next(self) -> Any:
        if not self._tkg_done:
            object.__setattr__(self, "_tkg_done", True)
            raise self._tkg_error
        return self._tkg_inner.next()


def model_latent_channels(sd_model: Any) -> int:
    """Latent channels of a loaded WebUI model, where the host itself looks them up.

    New Forge: ``sd_model.forge_objects.vae.latent_channels``; A1111 1.10:
    ``sd_model.latent_channels``
    (16 for SD3); older hosts have neither and always use 4.
    """
    vae = getattr(getattr(sd_model, "forge_objects", None), "vae", None)
    for value in (
        getattr(vae, "latent_channels", None),
        getattr(sd_model, "latent_channels", None),
    ):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return 4


def detect_family(sd_model: Any) -> tuple[str | None, int]:
    """``(family, latent_channels)`` of a loaded WebUI model; family None when not recognised.

    The WebUI flags ``is_sd3`` (A1111 1.10, Forge), ``is_sdxl``, ``is_sd2``, ``is_sd1`` name the
    family; new Forge loads Flux-type models (Flux, Chroma) with every flag False and a 16-channel
    VAE, which is reported as ``"flux"``. Anything else (no flag set and not a Forge 16-channel
    model) is None, and the caller leaves the noise alone.
    """
    channels = model_latent_channels(sd_model)
    for flag, family in (
        ("is_sd3", "sd3"),
        ("is_sdxl", "sdxl"),
        ("is_sd2", "sd2"),
        ("is_sd1", "sd1"),
    ):
        if getattr(sd_model, flag, False) is True:
            return family, channels
    if channels == 16 and getattr(sd_model, "forge_objects", None) is not None:
        return "flux", channels
    return None, channels
