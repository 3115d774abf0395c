"""TKG-DM chroma-key backgrounds for Stable Diffusion: host-free core of sd-webui-tkg-chroma.

Modules: ``noise`` (channel mean shift, Gaussian mask, ``tkg_noise``), ``colors`` (colour
parsing and per-family calibration), ``keying`` (clean-plate chroma keyer), ``params`` (the one
validated parameter object), ``cli`` (the ``tkg-chroma`` command), ``pipeline`` (diffusers).
"""

__version__ = "0.1.0"
