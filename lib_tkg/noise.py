"""TKG-DM initial-noise engine: channel mean shift (CMS) and Gaussian init-noise selection.

TKG-DM (Morita et al., CVPR 2025, arXiv 2411.15580) colours the background of a generation by
shifting the mean of chosen channels of the initial latent noise ``z_T`` and keeps the centre
(where the subject forms) close to the original noise with a 2-D Gaussian mask ``A``::

    z = A * z_T + (1 - A) * CMS(z_T)

Units and ranges: ``noise`` is the unit-variance initial latent, shape ``(B, C, H, W)`` with
``H, W`` the latent size (pixels / 8). A *shift* is the wanted change of one channel's share of
positive values, in ``(-0.5, 0.5)``: ``0.07`` means 7 percentage points more positive values.
Mask coordinates run over ``[-1, 1]``, ``x`` to the right, ``y`` downward.

Default path versus ``reference=True`` (the official code, github.com/ryugo417/TKG-DM
``utils.py``):

* Shift. The official code raises one offset in steps of 0.01 until the positive share of the
  whole channel (pooled over the batch) reaches ``initial share + target``, so it overshoots by
  up to one step (about 0.4 % of the elements near an offset of 0.3), can only shift upwards,
  and never stops if the target share exceeds 1. The default picks the constant in closed form
  per (sample, channel) by selection (``kthvalue``, no search): exactly ``round(shift * H * W)``
  more elements become positive (clamped to all or none), either sign, and a sample never
  depends on the rest of its batch. The element at the boundary ends at 0 or one unit in the
  last place above it. In float16/bfloat16 the noise has repeated values and an offset cannot
  split a run of equal values, so the count is the nearest achievable one, off by at most half
  the run at the target quantile (measured at 128x128: at most 3 elements in float16, 13 in
  bfloat16).
* Mask. The official mask is a Gaussian on an ``(H//8, W//8)`` grid, bilinearly upsampled to
  ``(H, W)`` (``align_corners=False``) and cast to float16: a coarse grid without a centre
  sample, so its peak is below 1 (0.92 at 64x64, 0.98 at 128x128) and the centre is partly
  shifted. The default evaluates the Gaussian on the full ``(H, W)`` grid in float32, so the
  centre pixel (for odd sizes) keeps the original noise exactly.
* Blend. The default computes ``noise + (1 - A) * delta`` in float32 (algebraically equal to
  ``A * noise + (1 - A) * (noise + delta)``) and rounds once into the input dtype; channels with
  a zero shift are returned bit-identical. The reference blends every channel with the float16
  mask exactly as the official code does.

``reference=True`` applies the official procedure to each sample separately (the official
code pools the share over the batch; for batch size 1 both are the same) with the same tensor
operations in the input dtype, so it matches the official code bit for bit in float32 and
float16; for bfloat16 the official code returns float32 (a float16 mask times bfloat16
promotes), which the reference rounds to bfloat16. A negative shift is mirrored (the offset
steps down by 0.01 until the share of positives has fallen by ``|shift|``); the official code
has no downward search. Its loop syncs with the host a few times per (sample, channel).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from lib_tkg.layout import Ellipse, LayoutError, MaskImage, parse_layout

Layout = str | Sequence[Ellipse] | None

_FLOAT_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)


def _validate_noise(noise: torch.Tensor, shifts: Sequence[float]) -> list[float]:
    if not isinstance(noise, torch.Tensor) or noise.dtype not in _FLOAT_DTYPES:
        raise ValueError(
            f"noise must be a float16/bfloat16/float32/float64 tensor, got {type(noise).__name__}"
            + (f" of {noise.dtype}" if isinstance(noise, torch.Tensor) else "")
        )
    if noise.dim() != 4 or noise.numel() == 0:
        raise ValueError(
            f"noise must be non-empty 4-D (B, C, H, W), got shape {tuple(noise.shape)}"
        )
    values = [float(s) for s in shifts]
    if len(values) != noise.shape[1]:
        raise ValueError(
            f"need one shift per latent channel: got {len(values)} shifts for "
            f"{noise.shape[1]} channels"
        )
    bad = [s for s in values if not (math.isfinite(s) and abs(s) < 0.5)]
    if bad:
        raise ValueError(f"shifts must be finite with |shift| < 0.5, got {bad}")
    if not bool(torch.stack([noise.amin(), noise.amax()]).isfinite().all()):
        raise ValueError("noise contains NaN or infinite values; only finite noise is accepted")
    return values


def _validate_mask(sigma: float, center: Sequence[float]) -> tuple[float, float]:
    if not (math.isfinite(sigma) and sigma > 0):
        raise ValueError(f"sigma must be a finite number > 0, got {sigma!r}")
    try:
        cx, cy = (float(v) for v in center)
    except (TypeError, ValueError):
        cx = cy = math.nan
    if not all(math.isfinite(v) and -1.0 <= v <= 1.0 for v in (cx, cy)):
        raise ValueError(f"center must be (x, y) with both in [-1, 1], got {center!r}")
    return cx, cy


def _parsed(layout: Layout) -> tuple[Ellipse, ...]:
    """A layout string parsed (errors say ``layout: subject N ...``); a sequence as a tuple."""
    if isinstance(layout, str):
        try:
            return parse_layout(layout)
        except LayoutError as exc:
            raise ValueError(f"layout: {exc}") from None
    return tuple(layout or ())


def _ellipses(
    sigma: float, center: Sequence[float], aspect: float, angle: float, layout: Layout
) -> tuple[Ellipse, ...]:
    """The subjects to draw: the parsed ``layout`` if it has any, else the single subject."""
    layout = _parsed(layout)
    if layout:
        return tuple(layout)
    if not (math.isfinite(aspect) and aspect >= 0 and math.isfinite(angle)):
        raise ValueError(f"aspect must be 0 or > 0 and angle finite, got {aspect!r}, {angle!r}")
    return (Ellipse(*_validate_mask(sigma, center), sigma, aspect, angle),)


def _work_dtype(dtype: torch.dtype) -> torch.dtype:
    """float32 for float16/bfloat16 (and float32), float64 stays float64."""
    return torch.promote_types(dtype, torch.float32)


def _offsets(noise: torch.Tensor, shifts: list[float]) -> tuple[list[int], torch.Tensor]:
    """Moved channels and their constants ``delta`` of shape (B, K, 1, 1) in the work dtype.

    Per (sample, channel) row of N values with p positives, ``m = round(shift * N)`` and the
    wanted count of positives is ``clamp(p + m, 0, N)``, so the ``j = N - count`` smallest
    values must end <= 0. ``v``, the j-th smallest value, is found by selection at an index that
    depends only on ``m`` (one ``kthvalue`` per channel, no sort): for m > 0 among the
    non-positives (positives moved below the row minimum), for m < 0 among the positives
    (non-positives moved above the row maximum). Subtracting a threshold ``t`` keeps the sign of
    ``x - t`` exactly, so ``t = v`` leaves the values <= v non-positive and ``t`` = the number
    just below ``v`` in the input dtype also lifts the values equal to ``v`` (by one unit in the
    last place, so they stay positive after rounding back); of the two, the count nearer the
    target wins (they differ only where ``v`` is repeated, as in float16/bfloat16).
    """
    batch, _, height, width = noise.shape
    n = height * width
    steps = [round(s * n) for s in shifts]
    chans = [c for c, m in enumerate(steps) if m != 0]
    work = _work_dtype(noise.dtype)
    if not chans:
        return chans, noise.new_zeros(batch, 0, 1, 1, dtype=work)
    # (K, B, N): one contiguous (B, N) block per moved channel for kthvalue.
    x = noise.transpose(0, 1)[chans].reshape(len(chans), batch, n).to(work)
    m = torch.tensor([steps[c] for c in chans], device=x.device)[:, None, None]
    positive = (x > 0).to(work)
    want = (positive.sum(-1, keepdim=True).long() + m).clamp(0, n)
    # Move the values not searched below (m > 0) or above (m < 0) every other value of the row.
    low, high = x.amin(-1, keepdim=True), x.amax(-1, keepdim=True)
    w = torch.addcmul(x, high - low + 1, (m < 0).to(work) - positive)
    ranks = [n - steps[c] + 1 if steps[c] > 0 else 1 - steps[c] for c in chans]
    v = torch.stack([w[i].kthvalue(k, dim=-1, keepdim=True).values for i, k in enumerate(ranks)])
    v = v.clamp(low, high)  # a rank past the searched values: all (or none) become positive
    j = n - want
    lo = (x < v).sum(-1, keepdim=True)
    hi = (x <= v).sum(-1, keepdim=True)
    below = v.to(noise.dtype).nextafter(torch.tensor(-math.inf, dtype=noise.dtype, device=v.device))
    threshold = torch.where(j - lo <= hi - j, below.to(work), v)
    return chans, -threshold.transpose(0, 1).unsqueeze(-1)


def channel_mean_shift(noise: torch.Tensor, shifts: Sequence[float]) -> torch.Tensor:
    """Add one constant per (sample, channel) so each channel's positive share moves by its shift.

    ``noise``: (B, C, H, W) float tensor, unit variance. ``shifts``: C floats in (-0.5, 0.5);
    0 leaves a channel bit-identical. The achieved change is within half an element, 0.5/(H*W),
    of the target in float32/float64 (module docstring: float16/bfloat16, clamping). Computed
    in float32 for half types, returned in the input dtype on the input device.
    """
    chans, delta = _offsets(noise, _validate_noise(noise, shifts))
    out = noise.clone()
    out[:, chans] = (noise[:, chans].to(delta.dtype) + delta).to(noise.dtype)
    return out


def _matrix(e: Ellipse, ratio: float) -> tuple[float, float, float, float]:
    """``(m00, m01, m10, m11)`` with ``u' = m00 dx + m01 dy``, ``v' = m10 dx + m11 dy`` and the
    mask ``exp(-(u'^2 + v'^2) / (2 sigma^2))`` (``lib_tkg.layout`` docstring: the geometry).

    ``ratio`` is the canvas' width / height. Computed in float64; for ``aspect = 0`` and no
    angle it is exactly the identity, so the paper's canvas-stretched mask is reproduced bit for
    bit.
    """
    aspect = e.aspect or ratio
    cos, sin = math.cos(math.radians(e.angle)), math.sin(math.radians(e.angle))
    return (
        cos * math.sqrt(ratio / aspect),
        sin / math.sqrt(ratio * aspect),
        -sin * math.sqrt(ratio * aspect),
        cos * math.sqrt(aspect / ratio),
    )


def _gaussian(ys: torch.Tensor, xs: torch.Tensor, e: Ellipse, ratio: float) -> torch.Tensor:
    """One subject's Gaussian on the ys x xs grid, shape (1, 1, H, W); 1 at its centre."""
    m00, m01, m10, m11 = _matrix(e, ratio)
    dx, dy = (xs - e.x)[None, :], (ys - e.y)[:, None]
    u, v = m00 * dx + m01 * dy, m10 * dx + m11 * dy
    return torch.exp(-((u**2 + v**2) / (2 * e.sigma**2)))[None, None]


def _axis(n: int, device: torch.device | str | None) -> torch.Tensor:
    """n coordinates evenly over [-1, 1], exactly symmetric, exactly 0 at an odd grid's middle."""
    steps = torch.arange(n, device=device, dtype=torch.float32) * 2 - (n - 1)
    return steps / max(n - 1, 1)


def _check_size(height: int, width: int) -> None:
    if not (isinstance(height, int) and isinstance(width, int) and height > 0 and width > 0):
        raise ValueError(f"height and width must be positive ints, got {height!r}, {width!r}")


def _draw(
    height: int, width: int, ellipses: Sequence[Ellipse], device: torch.device | str | None
) -> torch.Tensor:
    """The maximum of the ellipses' Gaussians on the (height, width) grid, float32."""
    ys, xs = _axis(height, device), _axis(width, device)
    masks = [_gaussian(ys, xs, e, width / height) for e in ellipses]
    return masks[0] if len(masks) == 1 else torch.stack(masks).amax(0)


def gaussian_mask(
    height: int,
    width: int,
    sigma: float = 0.5,
    center: tuple[float, float] = (0.0, 0.0),
    *,
    aspect: float = 0.0,
    angle: float = 0.0,
    layout: Layout = None,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float32,
) -> torch.Tensor:
    """2-D Gaussian subject mask of shape (1, 1, height, width), 1 at each subject's centre.

    Coordinates span [-1, 1] over the pixel grid (x to the right, y downward); ``sigma`` > 0,
    ``center`` = (x, y) in [-1, 1], ``aspect`` (width / height; 0 = stretch with the grid, the
    paper's mask) and ``angle`` (degrees clockwise) describe one subject. ``layout``, a string
    ``"x y sigma[ aspect[ angle]]; ..."`` or a sequence of :class:`Ellipse`, replaces that
    subject when not empty; several subjects combine by the maximum. Units: ``lib_tkg.layout``.
    Evaluated in float32.
    """
    _check_size(height, width)
    ellipses = _ellipses(sigma, center, aspect, angle, layout)
    return _draw(height, width, ellipses, device).to(dtype)


def shape_mask(
    image: MaskImage,
    height: int,
    width: int,
    sigma: float = 0.5,
    *,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """A free-form mask image on the (height, width) grid, feathered by ``sigma``, float32.

    The image is area-resized to the grid (values ``g`` in [0, 1], white = subject); the result
    is ``max(g, exp(-d^2 / (2 sigma^2)))``, ``d`` the distance to the nearest pixel with
    ``g >= 0.5`` in the units of ``sigma`` (half the grid's geometric-mean side). Shape
    (1, 1, height, width). A subject smaller than a cell (no ``g >= 0.5``: a dot, a 1-px line)
    counts in the cells it is in (:meth:`lib_tkg.layout.MaskImage.touched`), not as no subject
    at all (which would shift the whole canvas).
    """
    _check_size(height, width)
    _validate_mask(sigma, (0.0, 0.0))
    grey = image.resized(width, height)
    inside = grey >= 0.5
    if not inside.any():  # a subject smaller than a cell (a dot, a thin line): the cells it is in
        inside = image.touched(width, height)
    outside = (~inside).astype(np.uint8)
    if outside.all():
        return torch.from_numpy(grey).to(device)[None, None]
    mask = torch.from_numpy(grey).to(device)[None, None]
    dist = cv2.distanceTransform(outside, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    dist = torch.from_numpy(dist).to(device) * (2.0 / math.sqrt(height * width))
    return mask.maximum(torch.exp(-(dist**2 / (2 * sigma**2))))


def subject_mask(
    height: int,
    width: int,
    sigma: float = 0.5,
    center: tuple[float, float] = (0.0, 0.0),
    *,
    aspect: float = 0.0,
    layout: Layout = None,
    image: MaskImage | None = None,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """The whole subject mask, (1, 1, height, width) float32 in [0, 1]: :func:`gaussian_mask`
    combined with :func:`shape_mask` of ``image`` by the maximum.

    With an image and an empty layout the image alone is the mask (the single subject of
    ``sigma``/``center``/``aspect`` is the default only when nothing else places the subject);
    ``sigma`` then only feathers the image.
    """
    _check_size(height, width)
    layout = _parsed(layout)
    ellipses = _ellipses(sigma, center, aspect, 0.0, layout)
    if image is None:
        return _draw(height, width, ellipses, device)
    shape = shape_mask(image, height, width, sigma, device=device)
    if not layout:
        return shape
    return torch.maximum(_draw(height, width, ellipses, device), shape)


def _official_delta(steps: int) -> float:
    """The official loop's offset after ``steps`` steps: 0.01 added repeatedly in float64."""
    delta = 0.0
    for _ in range(steps):
        delta += 0.01
    return delta


def _reference_shift(row: torch.Tensor, shift: float) -> torch.Tensor:
    """Official +0.01 stepping search on one (H, W) row, in the row's dtype; mirrored if < 0.

    Finds the first step whose positive share reaches ``initial share + |shift|`` (both float32,
    as in the official code). It starts from the step the sorted values predict and walks to
    the first qualifying step, so only a few candidates are evaluated.
    """
    x = row if shift > 0 else -row
    target = (x > 0).float().mean() + abs(shift)
    if float(target) > 1.0:
        raise ValueError(
            f"reference mode: a shift of {shift} needs a share of {float(target):.4f} > 1; the "
            "official loop would never stop. Use a smaller shift or the default mode."
        )

    def reached(k: int) -> bool:
        return bool(((x + _official_delta(k)) > 0).float().mean() >= target)

    n = x.numel()
    need = min(n, math.ceil(float(target) * n))
    k = 0
    if need > 0:
        pivot = float(x.flatten().kthvalue(n - need + 1).values)
        k = max(0, math.floor(-pivot / 0.01) + 1)
    while not reached(k):
        k += 1
    while k > 0 and reached(k - 1):
        k -= 1
    moved = x + _official_delta(k)
    return moved if shift > 0 else -moved


def _reference_mask(
    height: int, width: int, sigma: float, center: tuple[float, float], device: torch.device
) -> torch.Tensor:
    """The official mask: Gaussian on an (H//8, W//8) linspace grid, upsampled, float16."""
    if height < 8 or width < 8:
        raise ValueError(f"reference mode needs H, W >= 8 (mask grid H//8), got {height}x{width}")
    ys = torch.linspace(-1, 1, height // 8, device=device)
    xs = torch.linspace(-1, 1, width // 8, device=device)
    coarse = _gaussian(ys, xs, Ellipse(*center, sigma, aspect=0.0), 1.0)
    mask = F.interpolate(coarse, size=(height, width), mode="bilinear", align_corners=False)
    return mask.to(torch.float16)


def _check_mask(mask: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """A caller's mask as (1 or B, 1, H, W) in the work dtype, on the noise's device."""
    batch, _, height, width = noise.shape
    ok = isinstance(mask, torch.Tensor) and mask.is_floating_point()
    if ok:
        mask = mask.reshape((1, 1, *mask.shape)) if mask.dim() == 2 else mask
        ok = mask.dim() == 4 and mask.shape[1] == 1 and mask.shape[0] in (1, batch)
        ok = ok and tuple(mask.shape[2:]) == (height, width)
        ok = ok and bool(((mask >= 0) & (mask <= 1)).all())
    if not ok:
        raise ValueError(
            f"mask must be a float tensor of shape (H, W), (1, 1, H, W) or (B, 1, H, W) with "
            f"(B, H, W) = {(batch, height, width)} and values in [0, 1], got "
            + (f"shape {tuple(mask.shape)}" if isinstance(mask, torch.Tensor) else repr(mask))
        )
    return mask.to(noise.device, _work_dtype(noise.dtype))


def tkg_noise(
    noise: torch.Tensor,
    shifts: Sequence[float],
    sigma: float = 0.5,
    center: tuple[float, float] = (0.0, 0.0),
    *,
    aspect: float = 0.0,
    layout: Layout = None,
    image: MaskImage | None = None,
    mask: torch.Tensor | None = None,
    reference: bool = False,
) -> torch.Tensor:
    """TKG-DM initial noise: ``mask * noise + (1 - mask) * channel_mean_shift(noise, shifts)``.

    ``noise``: (B, C, H, W) unit-variance latent noise; ``shifts``: C floats in (-0.5, 0.5).
    The mask is :func:`subject_mask` of ``sigma`` > 0, ``center`` = (x, y) in [-1, 1],
    ``aspect`` (0 = the paper's canvas-stretched mask), ``layout`` and ``image``, or ``mask``
    itself when given: a float tensor in [0, 1] of shape (H, W), (1, 1, H, W) or, one per
    sample, (B, 1, H, W). Each sample depends only on its own noise (and mask row). Returns the
    input's shape, dtype and device. ``reference=True`` reproduces the official implementation
    per sample (module docstring); it needs H, W >= 8 and shares that stay <= 1, and takes
    only the single round subject (``sigma``, ``center``).
    """
    values = _validate_noise(noise, shifts)
    c = _validate_mask(sigma, center)
    _, _, height, width = noise.shape
    if reference:
        if aspect != 0.0 or layout or image is not None or mask is not None:
            raise ValueError(
                "reference mode reproduces the official single round mask; aspect, layout, "
                "image and mask are only available in the default mode"
            )
        mask = _reference_mask(height, width, sigma, c, noise.device)
        shifted = noise.clone()
        for ch, s in enumerate(values):
            if s != 0.0:
                for b in range(noise.shape[0]):
                    shifted[b, ch] = _reference_shift(noise[b, ch], s)
        return (mask * noise + (1 - mask) * shifted).to(noise.dtype)
    chans, delta = _offsets(noise, values)
    if mask is None:
        mask = subject_mask(
            height, width, sigma, c, aspect=aspect, layout=layout, image=image, device=noise.device
        )
    mask = _check_mask(mask, noise)
    out = noise.clone()
    out[:, chans] = torch.addcmul(noise[:, chans].to(delta.dtype), 1 - mask, delta).to(noise.dtype)
    return out
