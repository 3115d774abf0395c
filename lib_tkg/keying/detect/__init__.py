"""Screen detection: is the image's border a keyable screen, and of which colour?

The border band (``border`` x the short side) of a reduced copy is examined
(:mod:`~lib_tkg.keying.detect.sample`). It is a screen when one colour dominates it and a smooth
plate explains that colour's variation; the modules hold one concern each:

- :mod:`~lib_tkg.keying.detect.hues`: hue, chroma, the dominant hue and the named hue ranges;
- :mod:`~lib_tkg.keying.detect.texture`: whether border pixels are smooth (texture, pattern,
  grain, coarse structure);
- :mod:`~lib_tkg.keying.detect.cover`: how much of the border is smooth screen colour, and the
  :class:`Detection` result;
- :mod:`~lib_tkg.keying.detect.chroma`: a chroma screen, and without a prior the rules that
  tell a screen from a scene (mostly smooth, keyable hue, pattern, small pieces of other
  colours, the dull second look);
- :mod:`~lib_tkg.keying.detect.folds`: draped fabric's folds and dappled yellow-green light;
- :mod:`~lib_tkg.keying.detect.grain`: grainy screens, judged on a smoothed copy;
- :mod:`~lib_tkg.keying.detect.netted`: a green screen seen through a net or veil over the
  border, where the others find none;
- :mod:`~lib_tkg.keying.detect.screen`: :func:`detect_screen`, :func:`screen_shade` and
  :func:`estimate_key_color`, which run them in turn.
"""

from lib_tkg.keying.detect.cover import MIN_COVER, Detection
from lib_tkg.keying.detect.screen import (
    DEFAULT_BORDER,
    detect_screen,
    estimate_key_color,
    screen_shade,
)

__all__ = [
    "DEFAULT_BORDER",
    "MIN_COVER",
    "Detection",
    "detect_screen",
    "estimate_key_color",
    "screen_shade",
]
