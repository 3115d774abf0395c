"""Sequence keying (one key colour, temporal matte) and animation writers read back."""

from __future__ import annotations

import os
import re
import warnings

import numpy as np
import pytest
from PIL import Image

from lib_tkg import keying
from lib_tkg.animation import (
    estimate_sequence_key_color,
    key_sequence,
    smooth_alphas,
)
from lib_tkg.animation_files import FORMATS, available_formats, read_frames, write_animation

GREEN = (40, 180, 60)


def moving_sequence(n=8, size=96, noise=4.0, seed=0):
    """Green screen with fresh noise per frame, a red disc moving right, a still grey bar."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    frames, truth = [], []
    for t in range(n):
        cx = 25 + 5 * t
        disc = np.clip(12.5 - np.hypot(xx - cx, yy - size / 2), 0.0, 1.0)
        bar = ((yy > 10) & (yy < 16) & (xx > 20) & (xx < 70)).astype(np.float32) * 0.5
        a = np.maximum(disc, bar)
        fg = np.where(disc[..., None] >= bar[..., None], (220, 40, 30), (128, 128, 128))
        img = a[..., None] * fg + (1 - a[..., None]) * np.array(GREEN, np.float32)
        img = img + rng.normal(0.0, noise, img.shape)
        frames.append(np.clip(np.rint(img), 0, 255).astype(np.uint8))
        truth.append(a * 255.0)
    return frames, truth


def flicker(alphas, truth):
    out = []
    for t in range(len(alphas) - 1):
        same = np.abs(truth[t] - truth[t + 1]) < 0.5
        diff = np.abs(alphas[t].astype(np.float32) - alphas[t + 1].astype(np.float32))
        out.append(diff[same].mean())
    return float(np.mean(out))


# ---------------------------------------------------------------------------- key colour


def test_sequence_key_color_is_the_median_vote():
    frames, _ = moving_sequence()
    kc = estimate_sequence_key_color(frames)
    assert kc is not None
    assert np.abs(np.array(kc) - GREEN).max() <= 3


def test_frames_without_screen_on_border_still_keyed_with_the_sequence_colour():
    frames, _ = moving_sequence(n=6, noise=1.0)
    # frame 2: the subject fills the whole border band, so this frame alone finds no screen
    covered = frames[2].copy()
    covered[:12], covered[-12:], covered[:, :12], covered[:, -12:] = 90, 90, 90, 90
    frames[2] = covered
    assert keying.estimate_key_color(covered) is None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", keying.NoKeyColorWarning)
        alone = keying.key(covered)
    assert not alone.keyed
    res = key_sequence(frames, temporal=False)
    assert res.keyed == [True] * 6
    # the still-visible screen inside the frame is keyed out in frame 2 too
    assert res.frames[2][48, 60, 3] == 0
    assert res.frames[2][48, 35, 3] == 255  # the disc stays opaque


def test_no_screen_anywhere_notes_it_and_keeps_frames_opaque():
    rng = np.random.default_rng(1)
    grey = [rng.integers(100, 140, (32, 32, 3), dtype=np.uint8) for _ in range(3)]
    res = key_sequence(grey)
    assert len(res.notes) == 1 and "most frames" in res.notes[0]
    assert res.key_color is None and res.keyed == [False] * 3
    for f, g in zip(res.frames, grey, strict=True):
        assert (f[..., 3] == 255).all() and (f[..., :3] == g).all()


def test_given_key_color_is_used_for_every_frame():
    frames, _ = moving_sequence(n=3)
    res = key_sequence(frames, "40,180,60", temporal=False, exact_color=True)
    with pytest.raises(ValueError, match="exact_color needs a key_color"):
        key_sequence(frames, None, exact_color=True)
    assert res.key_color == GREEN
    single = keying.key(frames[1], GREEN, exact_color=True)
    assert np.array_equal(res.frames[1], single.rgba)


@pytest.mark.parametrize("given", ["green", "#00b140", (0, 255, 0)])
def test_a_chroma_key_colour_is_measured_once_for_the_sequence(given):
    frames, _ = moving_sequence(n=3)
    res = key_sequence(frames, given, temporal=False)
    assert res.key_color == estimate_sequence_key_color(frames, prior_color=given)
    assert np.abs(np.array(res.key_color) - GREEN).max() <= 3
    # every frame is keyed with that one shade, not its own
    for f, out in zip(frames, res.frames, strict=True):
        assert np.array_equal(out, keying.key(f, res.key_color, exact_color=True).rgba)
    assert key_sequence(frames, "blue", temporal=False).key_color == (0, 0, 255)


@pytest.mark.parametrize(
    ("frames", "match"),
    [
        ([], "no frames"),
        ([np.zeros((8, 8, 3), np.uint8), np.zeros((8, 9, 3), np.uint8)], "one size"),
        ([np.zeros((8, 8, 3), np.float32)], r"frames\[0\]"),
    ],
)
def test_bad_sequences_are_rejected(frames, match):
    with pytest.raises(ValueError, match=match):
        key_sequence(frames)


# ---------------------------------------------------------------------------- temporal matte


def test_temporal_matte_reduces_flicker_without_hurting_accuracy():
    frames, truth = moving_sequence(n=8, noise=6.0, seed=3)
    plain = key_sequence(frames, temporal=False)
    smooth = key_sequence(frames)
    a_plain = [f[..., 3] for f in plain.frames]
    a_smooth = [f[..., 3] for f in smooth.frames]
    assert flicker(a_smooth, truth) < 0.8 * flicker(a_plain, truth)

    def mae(alphas):
        return np.mean([np.abs(a - t).mean() for a, t in zip(alphas, truth, strict=True)])

    assert mae(a_smooth) <= mae(a_plain) + 0.05


def test_temporal_matte_does_not_ghost_a_moving_subject():
    frames, _ = moving_sequence(n=5, noise=0.0)
    res = key_sequence(frames)
    # where the disc was one frame earlier (and is no longer) alpha is 0, and the disc's
    # current centre is opaque
    assert res.frames[3][48, 22, 3] == 0
    assert res.frames[3][48, 40, 3] == 255


def test_smooth_alphas_options_and_identity():
    frames, _ = moving_sequence(n=3)
    alphas = [np.full((96, 96), v, np.uint8) for v in (0, 90, 255)]
    assert all(
        np.array_equal(a, b)
        for a, b in zip(smooth_alphas(frames, alphas, radius=0), alphas, strict=True)
    )
    with pytest.raises(ValueError, match="radius"):
        smooth_alphas(frames, alphas, radius=-1)
    with pytest.raises(ValueError, match="still"):
        smooth_alphas(frames, alphas, still=0)
    with pytest.raises(ValueError, match="mattes"):
        smooth_alphas(frames, alphas[:2])


# ---------------------------------------------------------------------------- writers


def rgba_frames(n=8, h=48, w=64):
    out = []
    for t in range(n):
        f = np.zeros((h, w, 4), np.uint8)
        f[8:30, 4 + 5 * t : 20 + 5 * t] = (30, 60, 220, 255)
        f[40:44, :, :] = (200, 200, 200, 128)  # a half-transparent stripe
        out.append(f)
    return out


def read_pillow(path):
    im = Image.open(path)
    frames = []
    for i in range(im.n_frames):
        im.seek(i)
        frames.append(np.asarray(im.convert("RGBA")))
    return im, frames


@pytest.mark.parametrize("fmt", ["webp", "apng"])
def test_pillow_animation_round_trip(tmp_path, fmt):
    src = rgba_frames()
    written = write_animation(src, str(tmp_path / "clip-rgba"), [fmt], fps=8, loop=0)
    path = written[fmt]
    assert path == str(tmp_path / "clip-rgba") + FORMATS[fmt]
    im, frames = read_pillow(path)
    assert len(frames) == 8
    assert im.info.get("loop") == 0
    for got, want in zip(frames, src, strict=True):
        assert np.array_equal(got[..., 3], want[..., 3])  # lossless alpha, incl. 128
        opaque = want[..., 3] == 255
        assert np.abs(got[opaque].astype(int) - want[opaque]).max() <= 1


@pytest.mark.parametrize("fmt", ["webp", "apng"])
def test_hard_edged_sprites_keep_their_clear_background(tmp_path, fmt):
    """Every pixel clear or opaque (a pixel-art sprite's cut-out): libwebp stores each frame as
    the rectangle around what is visible or changed and left the file's alpha flag unset, so
    Pillow (and browsers) read the clear background as black."""
    src = []
    for t in range(4):  # in place, changing colour (a blinking sprite)
        f = np.zeros((48, 64, 4), np.uint8)
        f[8:30, 16:40] = (200, 60 + 20 * t, 60, 255)
        src.append(f)
    path = write_animation(src, str(tmp_path / "sprite-rgba"), [fmt], fps=8, loop=0)[fmt]
    im, frames = read_pillow(path)
    assert im.mode == "RGBA"
    for got, want in zip(frames, src, strict=True):
        assert np.array_equal(got[..., 3], want[..., 3])


def test_apng_timing_and_comment(tmp_path):
    written = write_animation(
        rgba_frames(4), str(tmp_path / "a"), ["apng"], fps=10, loop=2, comment="TKG: on"
    )
    im = Image.open(written["apng"])
    assert im.info["duration"] == 100 and im.info["loop"] == 2
    assert im.info["parameters"] == "TKG: on"


def _decode_av(path, codec=None):
    import av as pyav

    with pyav.open(path) as c:
        stream = c.streams.video[0]
        ctx = pyav.CodecContext.create(codec, "r") if codec else stream.codec_context
        frames = [f.to_ndarray(format="rgba") for pkt in c.demux(stream) for f in ctx.decode(pkt)]
        return frames, float(stream.average_rate or 0)


@pytest.mark.parametrize(("fmt", "codec"), [("webm", "libvpx-vp9"), ("mov", None)])
def test_video_round_trip_with_alpha(tmp_path, fmt, codec):
    pytest.importorskip("av")
    src = rgba_frames()
    written = write_animation(src, str(tmp_path / "v"), [fmt], fps=8)
    frames, rate = _decode_av(written[fmt], codec)
    assert len(frames) == 8 and rate == pytest.approx(8.0)
    for got, want in zip(frames, src, strict=True):
        err = np.abs(got[..., 3].astype(int) - want[..., 3])
        assert np.median(err) <= 2 and err.max() <= 40  # lossy, but the alpha is there
        assert got[..., 3][want[..., 3] == 255].mean() > 245
        assert got[..., 3][want[..., 3] == 0].mean() < 10


def test_png_frames_folder(tmp_path):
    written = write_animation(rgba_frames(3), str(tmp_path / "f"), ["png"])
    names = sorted(os.listdir(written["png"]))
    assert names == ["00000.png", "00001.png", "00002.png"]
    assert Image.open(os.path.join(written["png"], names[1])).mode == "RGBA"


def test_never_overwrites(tmp_path):
    target = tmp_path / "c.webp"
    target.write_bytes(b"user file")
    with pytest.raises(FileExistsError, match="not overwriting"):
        write_animation(rgba_frames(2), str(tmp_path / "c"), ["webp"])
    assert target.read_bytes() == b"user file"


def test_missing_pyav_still_writes_the_rest(tmp_path, monkeypatch):
    from lib_tkg import animation_files

    monkeypatch.setattr(animation_files, "_have_av", lambda: False)
    assert "webm" not in available_formats()
    with pytest.raises(RuntimeError, match="pip install av") as info:
        write_animation(rgba_frames(2), str(tmp_path / "m"), ["webm", "webp"])
    assert info.value.written == {"webp": str(tmp_path / "m.webp")}
    assert not (tmp_path / "m.webm").exists()


def test_all_or_nothing_writes_nothing_when_a_format_fails(tmp_path, monkeypatch):
    from lib_tkg import animation_files

    monkeypatch.setattr(animation_files, "_have_av", lambda: False)
    with pytest.raises(RuntimeError, match="pip install av") as info:
        write_animation(rgba_frames(2), str(tmp_path / "m"), ["webp", "webm"], all_or_nothing=True)
    assert info.value.written == {}
    assert os.listdir(tmp_path) == []


def test_outputs_appear_only_when_complete(tmp_path, monkeypatch):
    """Written under a hidden temporary name, then renamed: never a half-written output."""
    from lib_tkg import animation_files

    seen = []

    def failing_apng(path, *args, **kwargs):
        seen.append(sorted(os.listdir(tmp_path)))
        with open(path, "xb") as fh:
            fh.write(b"half")
        raise OSError("disk full")

    def watched_webp(path, *args, **kwargs):
        seen.append(sorted(os.listdir(tmp_path)))
        write(path, *args, **kwargs)

    write = animation_files._WRITERS["webp"]
    monkeypatch.setitem(animation_files._WRITERS, "webp", watched_webp)
    monkeypatch.setitem(animation_files._WRITERS, "apng", failing_apng)
    with pytest.raises(OSError, match="disk full") as info:
        write_animation(rgba_frames(2), str(tmp_path / "c"), ["webp", "apng"])
    assert seen[0] == [] and len(seen[1]) == 1  # no final name while writing
    assert re.fullmatch(rf"\.c\.webp\.{os.getpid()}-[0-9a-f]{{8}}\.part", seen[1][0]), seen
    assert info.value.written == {"webp": str(tmp_path / "c.webp")}
    assert os.listdir(tmp_path) == ["c.webp"]  # the failed one left nothing
    assert Image.open(tmp_path / "c.webp").n_frames == 2


def test_existing_frames_folder_is_left_alone(tmp_path):
    folder = tmp_path / "f-frames"
    folder.mkdir()
    (folder / "00001.png").write_bytes(b"user file")
    with pytest.raises(FileExistsError, match="not overwriting"):
        write_animation(rgba_frames(3), str(tmp_path / "f"), ["png"])
    assert os.listdir(folder) == ["00001.png"]
    assert (folder / "00001.png").read_bytes() == b"user file"
    assert os.listdir(tmp_path) == ["f-frames"]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"formats": ["gif"]}, "unknown animation format"),
        ({"fps": 0}, "fps"),
        ({"loop": -1}, "loop"),
        ({"frames": []}, "no frames"),
        ({"frames": [np.zeros((4, 4, 3), np.uint8)]}, "RGBA"),
    ],
)
def test_writer_rejects_bad_input(tmp_path, kwargs, match):
    args = {"frames": rgba_frames(2), "formats": ["webp"], **kwargs}
    frames = args.pop("frames")
    with pytest.raises(ValueError, match=match):
        write_animation(frames, str(tmp_path / "x"), **args)
    assert os.listdir(tmp_path) == []


def test_frames_over_pillows_limit_are_a_clear_error(tmp_path, monkeypatch):
    Image.new("L", (200, 200)).save(tmp_path / "big.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10_000)
    with pytest.raises(ValueError, match=r"big.png: frames too large; accepted: at most 10000"):
        read_frames(str(tmp_path / "big.png"))


def test_odd_size_webm_is_refused_and_leaves_no_file(tmp_path):
    pytest.importorskip("av")
    with pytest.raises(ValueError, match="even width and height"):
        write_animation(rgba_frames(2, h=47), str(tmp_path / "o"), ["webm"])
    assert os.listdir(tmp_path) == []


def test_interrupted_while_putting_formats_in_place_leaves_none(tmp_path, monkeypatch):
    """Ctrl-C after the first format was put in place left it, and the others' temporary
    files (`.part`) behind; a rerun then skipped the input for good."""
    from lib_tkg import outputs

    real = outputs.publish
    calls = []

    def publish(tmp, path):
        calls.append(path)
        if len(calls) == 2:
            raise KeyboardInterrupt
        real(tmp, path)

    monkeypatch.setattr(outputs, "publish", publish)
    with pytest.raises(KeyboardInterrupt):
        write_animation(
            rgba_frames(2), str(tmp_path / "c"), ["webp", "apng", "png"], all_or_nothing=True
        )
    assert os.listdir(tmp_path) == []


def test_key_sequence_checks_its_options_like_key():
    frames, _ = moving_sequence(n=2, noise=0.0)
    with pytest.raises(TypeError, match=r"unknown keying option.*tolerence.*accepted: tolerance"):
        key_sequence(frames, tolerence=0.2)
    with pytest.raises(TypeError, match="subject_mask"):
        key_sequence(frames, subject_mask=np.ones((96, 96), np.float32))
    with pytest.raises(ValueError, match="prior_color"):
        key_sequence(frames, prior_color="not a colour")
    with pytest.raises(ValueError, match="temporal must be True or False"):
        key_sequence(frames, temporal="no")  # (a truthy string: smoothing stayed on)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lossless": False, "quality": 500}, "quality must be a whole number in"),
        ({"lossless": False, "quality": "high"}, "quality must be a whole number in"),
        ({"lossless": "no"}, "lossless must be True or False"),
        ({"comment": 123}, "comment must be text"),
    ],
)
def test_write_animation_checks_its_options(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        write_animation(rgba_frames(2), str(tmp_path / "x"), ["webp"], **kwargs)
    assert os.listdir(tmp_path) == []


def test_write_animation_takes_a_path_one_format_and_numpy_numbers(tmp_path):
    written = write_animation(
        rgba_frames(2), tmp_path / "x", "apng", fps=np.float32(8), loop=np.int64(2)
    )
    assert written == {"apng": str(tmp_path / "x.png")}
    with pytest.raises(FileNotFoundError, match=r"the folder .*nodir does not exist"):
        write_animation(rgba_frames(2), tmp_path / "nodir" / "x", "apng")
    with pytest.raises(ValueError, match="default_fps must be a number in"):
        read_frames(str(tmp_path / "x.png"), default_fps=float("nan"))


def test_key_sequence_takes_auto_for_none():
    frames, _ = moving_sequence(n=2, noise=0.0)
    auto = key_sequence(frames, "Auto", temporal=False)
    assert auto.key_color == key_sequence(frames, None, temporal=False).key_color


def test_key_sequence_reads_pil_frames_as_key_does():
    grey = np.full((96, 96), 20000, np.uint16)
    grey[24:72, 24:72] = 60000
    frame = Image.fromarray(grey)  # 16-bit: a plain conversion made it all white
    seq = key_sequence([frame, frame], "black", temporal=False)
    assert np.array_equal(seq.frames[0], keying.key_quietly(frame, "black", exact_color=True).rgba)


def test_write_animation_takes_a_4d_array_of_frames(tmp_path):
    written = write_animation(np.stack(rgba_frames(2)), str(tmp_path / "j"), "webp")
    assert Image.open(written["webp"]).n_frames == 2


def test_sequence_smoothing_and_formats_are_checked():
    frames, _ = moving_sequence(n=2, noise=0.0)
    with pytest.raises(ValueError, match="radius must be a whole number"):
        key_sequence(frames, temporal=False, radius=-5)  # (not checked without smoothing)
    key_sequence(frames, radius=np.int64(1), still=np.float32(4))  # numpy numbers are numbers
    with pytest.raises(ValueError, match="no format given; accepted: webp"):
        write_animation(rgba_frames(2), "x", [])  # (wrote nothing, without an error)


def test_whole_millisecond_durations_keep_the_length():
    """33 ms per frame at 29.97 fps lost 1 % of the length; 17 ms at 60 fps added 2 %."""
    from lib_tkg.animation_files import frame_durations

    for fps, n in ((29.97, 12), (60.0, 61), (240.0, 7), (8.0, 5)):
        durations = frame_durations(n, fps)
        assert len(durations) == n and min(durations) >= 1
        assert sum(durations) == round(1000 * n / fps)


def test_webp_loop_count_over_its_16_bits_and_a_still_apng(tmp_path):
    """A GIF of 65535 repeats (65536 plays) failed with Pillow's 'ERROR assembling WebP: -1';
    frames all alike became a plain one-frame PNG (no length, no loop: a still)."""
    written = write_animation(rgba_frames(3), str(tmp_path / "w"), ["webp"], loop=70000)
    assert Image.open(written["webp"]).info["loop"] == 65535
    still = [rgba_frames(1)[0]] * 5
    written = write_animation(still, str(tmp_path / "s"), ["apng"], fps=5, loop=2)
    with Image.open(written["apng"]) as im:
        assert im.n_frames == 2 and im.info.get("default_image")  # default image + 1 frame
        im.seek(1)
        assert im.info["duration"] == 1000 and im.info["loop"] == 2
        assert np.array_equal(np.asarray(im.convert("RGBA")), still[0])


def test_a_write_error_names_the_output_not_its_temporary_file(tmp_path, monkeypatch):
    """A full disk said '... Error in PyAV callback: .clip-rgba.mov.4744-32fd35fb.part'."""
    from lib_tkg import animation_files

    def full(path, *_args, **_kwargs):
        raise OSError(28, "No space left on device", path)

    monkeypatch.setitem(animation_files._WRITERS, "webp", full)
    with pytest.raises(OSError) as info:
        write_animation(rgba_frames(2), str(tmp_path / "clip-rgba"), ["webp"])
    target = tmp_path / "clip-rgba.webp"
    assert str(info.value) == f"cannot write {target}: No space left on device"
    assert info.value.errno == 28
    assert list(tmp_path.iterdir()) == []


def test_no_screen_note_says_why():
    rng = np.random.default_rng(0)
    frames = [np.clip(rng.normal(120, 40, (96, 96, 3)), 0, 255).astype(np.uint8)] * 3
    (note,) = key_sequence(frames).notes
    assert "no screen colour found" in note and "(the middle frame's: only" in note


def test_a_generation_s_colour_is_a_prior_for_its_frames():
    """The WebUI keyed AnimateDiff's frames with no colour: an orange screen asked for was
    never found (warm borders are not taken for screens without a colour), and any screen was
    keyed whatever colour was asked for. With the requested colour as prior, as for single
    images, a screen of that hue is keyed, and one of another colour is not."""
    frames, _ = moving_sequence(n=4, size=96, noise=2.0)
    green = np.array(GREEN, np.float32)
    orange = np.array([230, 120, 30], np.float32)
    warm = []
    for f in frames:  # the screen's colour turned orange (the subject's red disc kept)
        screen = np.all(np.abs(f.astype(np.float32) - green) < 12, axis=2)
        g = f.copy()
        g[screen] = np.clip(f[screen].astype(np.float32) - green + orange, 0, 255)
        warm.append(g)
    assert not any(key_sequence(warm).keyed)
    asked = key_sequence(warm, prior_color="orange")
    assert all(asked.keyed) and (asked.frames[0][..., 3][screen] < 40).mean() > 0.9
    other = key_sequence(frames, prior_color="magenta")
    assert not any(other.keyed)
    assert "no #ff00ff screen (the colour asked for) found" in other.notes[0]


@pytest.mark.parametrize("fmt", ["webm", "mov"])
def test_videos_say_which_colours_they_hold(tmp_path, fmt):
    """Untagged (MOV: the container said BT.601, ProRes' own frames nothing), players guess:
    an editor assuming BT.709 shows yellow (255, 200, 0) as (255, 238, 0)."""
    av = pytest.importorskip("av")
    yellow = [np.full((16, 16, 4), (255, 200, 0, 255), np.uint8)] * 2
    path = write_animation(yellow, str(tmp_path / "y"), [fmt], fps=8)[fmt]
    with av.open(path) as container:
        frame = next(container.decode(container.streams.video[0]))
        assert (int(frame.colorspace), int(frame.color_range)) == (6, 1)  # BT.601, limited
        assert np.abs(frame.to_ndarray(format="rgb24")[8, 8].astype(int) - (255, 200, 0)).max() <= 3


def test_frames_are_taken_in_every_shape_key_takes_an_image():
    """key() takes a 2-D grey array (and (H, W, 1) or (H, W, 2)); key_sequence refused the same
    frames ("expected a PIL image or a uint8 (H, W, 3) or (H, W, 4) array")."""
    grey = np.full((24, 24), 120, np.uint8)
    for frames in ([grey, grey], [grey[..., None]] * 2, [np.dstack([grey, grey])] * 2):
        res = key_sequence(frames, temporal=False)
        assert res.frames[0].shape == (24, 24, 4)
        assert np.array_equal(res.frames[0][..., 0], grey)
