"""Which of a chroma screen's background candidates are the screen: rules that add the screen's
own uneven patches and drop subject parts that keep the screen's chromaticity.

Each rule takes the candidate mask at the classifying resolution and returns it changed (see
:mod:`lib_tkg.keying.plate` for the order they run in and why):

- :mod:`~lib_tkg.keying.candidates.screen_parts`: :func:`screen_patches` adds paler or
  differently hued patches of the screen that reach the frame's border, :func:`screen_glows`
  light added to the screen inside the frame, :func:`screen_drift` a corner whose hue drifts
  smoothly;
- :mod:`~lib_tkg.keying.candidates.cut_off_regions`: :func:`no_cut_off_parts` drops dark veils
  and fills that sharp edges cut off; :func:`enclosed_screen` keeps regions the subject encloses
  only where they look like the screen;
- :mod:`~lib_tkg.keying.candidates.subject_parts`: :func:`no_veils` drops paler candidates
  beside a veil, :func:`no_plateaus` dark, bright or vivid sharp-rimmed regions,
  :func:`no_textured_shade` dark, finely textured ones (hair, leaves), :func:`no_other_casts`
  regions inside the frame in another hue cast with a cut edge, :func:`no_bright_bumps`
  regions far brighter than the screen's smooth light, :func:`no_dark_ramps` a dark subject's
  blurred edge, :func:`no_mixed_rim` the subject's edge mixed with the screen (on the last
  pass); :func:`screen_ring` is the frame's outer ring where the screen's levels are
  measured.
"""

from lib_tkg.keying.candidates.cut_off_regions import enclosed_screen, no_cut_off_parts
from lib_tkg.keying.candidates.screen_parts import (
    DRIFT_SLOPE,
    screen_drift,
    screen_glows,
    screen_patches,
)
from lib_tkg.keying.candidates.subject_parts import (
    no_bright_bumps,
    no_dark_ramps,
    no_mixed_rim,
    no_other_casts,
    no_plateaus,
    no_textured_shade,
    no_veils,
    screen_ring,
)

__all__ = [
    "DRIFT_SLOPE",
    "enclosed_screen",
    "no_bright_bumps",
    "no_cut_off_parts",
    "no_dark_ramps",
    "no_mixed_rim",
    "no_other_casts",
    "no_plateaus",
    "no_textured_shade",
    "no_veils",
    "screen_drift",
    "screen_glows",
    "screen_patches",
    "screen_ring",
]
