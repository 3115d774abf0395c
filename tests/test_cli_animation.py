"""``tkg-chroma key-animation``: animations and videos in, transparent animations out."""

from __future__ import annotations

import os
import re

import numpy as np
import pytest
from PIL import Image
from test_animation import moving_sequence

from lib_tkg import animation_files, cli, outputs
from lib_tkg.animation_files import read_frames


def write_video(target, frames, fmt=None, codec="mpeg4", pix_fmt="yuv420p", rate=12):
    """Write ``frames`` (RGB arrays) as a video with PyAV (``target``: a path or URL)."""
    av = pytest.importorskip("av")
    with av.open(str(target), "w", format=fmt) as out:
        stream = out.add_stream(codec, rate=rate)
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = pix_fmt
        for f in frames:
            out.mux(stream.encode(av.VideoFrame.from_ndarray(f, format="rgb24")))
        out.mux(stream.encode(None))


def write_gif(path, frames, duration=100):
    first, *rest = [Image.fromarray(f) for f in frames]
    first.save(path, save_all=True, append_images=rest, duration=duration, loop=0)


def test_gif_in_webp_and_apng_out(tmp_path, capsys):
    frames, _ = moving_sequence(n=5, noise=0.0)
    write_gif(tmp_path / "clip.gif", frames)
    assert cli.main(["key-animation", str(tmp_path / "clip.gif"), "-o", str(tmp_path / "out")]) == 0
    for name in ("clip-rgba.webp", "clip-rgba.png"):
        im = Image.open(tmp_path / "out" / name)
        assert im.n_frames == 5
        assert im.info.get("duration") in (100, 100.0, None)  # GIF keeps 1/100 s
        im.seek(2)
        rgba = np.asarray(im.convert("RGBA"))
        assert rgba[5, 5, 3] == 0 and rgba[48, 35, 3] == 255  # screen out, disc kept
    assert "5 frames" in capsys.readouterr().err


def test_existing_output_skips_the_input_with_a_note(tmp_path, capsys):
    frames, _ = moving_sequence(n=2)
    write_gif(tmp_path / "c.gif", frames)
    write_gif(tmp_path / "d.gif", frames)
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / "c-rgba.png").write_bytes(b"mine")  # the APNG name
    args = ["key-animation", str(tmp_path / "c.gif"), str(tmp_path / "d.gif")]
    assert cli.main([*args, "-o", str(tmp_path / "o"), "--formats", "webp,apng"]) == 0
    assert (tmp_path / "o" / "c-rgba.png").read_bytes() == b"mine"
    assert not (tmp_path / "o" / "c-rgba.webp").exists()  # no half set of outputs
    assert "skipping" in capsys.readouterr().err
    assert sorted(os.listdir(tmp_path / "o")) == ["c-rgba.png", "d-rgba.png", "d-rgba.webp"]


def test_rerun_skips_existing_outputs_like_key(tmp_path, capsys):
    frames, _ = moving_sequence(n=2)
    write_gif(tmp_path / "c.gif", frames)
    args = ["key-animation", str(tmp_path / "c.gif"), "-o", str(tmp_path / "o")]
    assert cli.main(args) == 0
    before = {p.name: p.read_bytes() for p in (tmp_path / "o").iterdir()}
    capsys.readouterr()
    assert cli.main(args) == 0
    err = capsys.readouterr().err
    assert "note: skipping" in err and "error" not in err
    assert {p.name: p.read_bytes() for p in (tmp_path / "o").iterdir()} == before


def test_video_in_webm_out(tmp_path):
    pytest.importorskip("av")  # (PyAV writes the video)
    frames, _ = moving_sequence(n=6, noise=0.0)
    write_video(tmp_path / "v.mp4", frames)
    got, fps, loop = read_frames(str(tmp_path / "v.mp4"))
    assert len(got) == 6 and fps == pytest.approx(12.0) and loop == 0
    args = ["key-animation", str(tmp_path / "v.mp4"), "-o", str(tmp_path / "o"), "--formats"]
    assert cli.main([*args, "webm"]) == 0
    assert (tmp_path / "o" / "v-rgba.webm").stat().st_size > 0


@pytest.mark.parametrize("ext", ["webp", "gif", "png"])
def test_the_inputs_length_and_loop_count_are_kept(tmp_path, ext):
    """Frame durations of 60 and 200 ms: the output plays as long as the input (WebP's
    durations are only known once a frame is read; they were taken as 8 fps), and the input's
    loop count is kept (it was always 0, forever), as times to play: a GIF's count is of
    repeats after the first play (browsers play a GIF of loop=3 four times), WebP's and APNG's
    of plays."""
    frames, _ = moving_sequence(n=6, noise=0.0)
    first, *rest = [Image.fromarray(f) for f in frames]
    durations = [60, 60, 60, 200, 200, 200]
    first.save(tmp_path / f"c.{ext}", save_all=True, append_images=rest, duration=durations, loop=3)
    args = ["key-animation", str(tmp_path / f"c.{ext}"), "-o", str(tmp_path / "o")]
    assert cli.main([*args, "--formats", "webp,apng"]) == 0
    for name in ("c-rgba.webp", "c-rgba.png"):
        with Image.open(tmp_path / "o" / name) as im:
            total = 0.0
            for i in range(im.n_frames):
                im.seek(i)
                im.load()  # (WebP gives a frame's duration once it is read)
                total += im.info["duration"]
            assert total == pytest.approx(sum(durations), abs=6), name
            assert im.info["loop"] == (4 if ext == "gif" else 3), name


def test_a_gif_without_a_loop_count_plays_once(tmp_path):
    frames, _ = moving_sequence(n=3, noise=0.0)
    first, *rest = [Image.fromarray(f) for f in frames]
    first.save(tmp_path / "once.gif", save_all=True, append_images=rest, duration=100)
    assert read_frames(str(tmp_path / "once.gif"))[2] == 1


def test_tiff_pages_and_still_images_are_read_as_tkg_chroma_key_reads_them(tmp_path):
    frames, _ = moving_sequence(n=3, noise=0.0)
    first, *rest = [Image.fromarray(f) for f in frames]
    first.save(tmp_path / "pages.tif", save_all=True, append_images=rest)
    got, _fps, _loop = read_frames(str(tmp_path / "pages.tif"))
    assert len(got) == 3 and all(np.array_equal(g, f) for g, f in zip(got, frames, strict=True))
    # 16-bit greyscale is scaled (a plain conversion clipped it to white)
    grey = np.full((16, 24), 100, np.uint16)
    Image.fromarray(grey * 257).save(tmp_path / "deep.png")
    (deep,), _fps, _loop = read_frames(str(tmp_path / "deep.png"))
    assert deep.shape == (16, 24, 3) and (deep == 100).all()
    # an EXIF orientation is applied (6: turned a quarter clockwise to show)
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(frames[0]).save(tmp_path / "turned.jpg", exif=exif, quality=95)
    (turned,), _fps, _loop = read_frames(str(tmp_path / "turned.jpg"))
    h, w = frames[0].shape[:2]
    assert turned.shape == (w, h, 3)
    # pages of different sizes are a clear error
    first.save(tmp_path / "mixed.tif", save_all=True, append_images=[first.resize((8, 8))])
    with pytest.raises(ValueError, match=r"frame 2 is 8x8.*one size"):
        read_frames(str(tmp_path / "mixed.tif"))


def test_webm_of_an_odd_size_fails_before_keying(tmp_path, capsys, monkeypatch):
    pytest.importorskip("av")  # (PyAV writes the video)
    frames, _ = moving_sequence(n=2, noise=0.0)
    write_gif(tmp_path / "odd.gif", [f[:95, :95] for f in frames])
    called = []
    monkeypatch.setattr("lib_tkg.animation.key_sequence", lambda *a, **k: called.append(1))
    args = ["key-animation", str(tmp_path / "odd.gif"), "-o", str(tmp_path / "o")]
    assert cli.main([*args, "--formats", "webp,webm"]) == 1
    assert "webm (libvpx-vp9) needs an even width and height, got 95x95" in capsys.readouterr().err
    assert called == [] and not (tmp_path / "o").exists()  # (nothing written, no folder)


def test_empty_and_undecodable_files_say_what_is_accepted(tmp_path, capsys):
    (tmp_path / "zero.gif").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("not a video")
    names = [str(tmp_path / n) for n in ("zero.gif", "notes.txt")]
    assert cli.main(["key-animation", *names, "-o", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "zero.gif: the file is empty" in err
    if animation_files._have_av():
        assert "notes.txt: not an animation or video that can be read (" in err
        assert "accepted: GIF, WebP, APNG, PNG, a multi-page TIFF, or a video" in err
        assert "Errno" not in err


def test_a_video_over_the_pixel_limit_is_refused_before_decoding(tmp_path, monkeypatch, capsys):
    pytest.importorskip("av")  # (PyAV writes the video)
    frames, _ = moving_sequence(n=2, noise=0.0)
    write_video(tmp_path / "v.mp4", frames)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 9000)  # 96 x 96 = 9216
    with pytest.raises(ValueError, match="frames too large; accepted: at most 9000 pixels"):
        read_frames(str(tmp_path / "v.mp4"))


def test_bad_format_and_unreadable_input(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["key-animation", "x.gif", "-o", str(tmp_path), "--formats", "gif"])
    assert exc.value.code == 2
    assert "accepted: webp, apng, webm, mov, png" in capsys.readouterr().err
    (tmp_path / "broken.gif").write_bytes(b"not a gif")
    assert cli.main(["key-animation", str(tmp_path / "broken.gif"), "-o", str(tmp_path)]) == 1
    assert "cannot key" in capsys.readouterr().err


def test_keyer_options_are_those_of_key(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["key-animation", "x.gif", "-o", str(tmp_path), "--tolerance", "2"])
    assert exc.value.code == 2
    assert "tolerance" in capsys.readouterr().err
    frames, _ = moving_sequence(n=3, noise=0.0)
    write_gif(tmp_path / "k.gif", frames)
    args = ["key-animation", str(tmp_path / "k.gif"), "-o", str(tmp_path / "o")]
    assert cli.main([*args, "--key-color", "blue", "--formats", "webp"]) == 0
    err = capsys.readouterr().err
    assert "not found in 3 of 3 frames" in err  # a blue key on a green screen keys nothing
    # ... and says which screen the borders show, as `key` does for one image (it did not)
    assert re.search(
        r"borders show a screen of colour #[0-9a-f]{6}, not of the hue of "
        r"key_color #0000ff; .* \(auto would key #[0-9a-f]{6}\)",
        err,
    )
    im = Image.open(tmp_path / "o" / "k-rgba.webp")
    assert np.asarray(im.convert("RGBA"))[..., 3].min() == 255


def test_too_large_input_is_one_line_and_the_batch_goes_on(tmp_path, monkeypatch, capsys):
    frames, _ = moving_sequence(n=2, noise=0.0)  # 96 x 96 = 9216 pixels per frame
    write_gif(tmp_path / "good.gif", frames)
    Image.new("L", (200, 200), 255).save(tmp_path / "bomb.png")  # 40000 > 2 x the limit
    Image.new("L", (120, 120), 255).save(tmp_path / "big.png")  # 14400: Pillow only warns
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10_000)
    names = [str(tmp_path / n) for n in ("bomb.png", "big.png", "good.gif")]
    assert cli.main(["key-animation", *names, "-o", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if "error" in line]
    assert len(lines) == 2
    for line, name in zip(lines, ("bomb.png", "big.png"), strict=True):
        assert name in line and "at most 10000 pixels per frame" in line
    assert sorted(os.listdir(tmp_path / "o")) == ["good-rgba.png", "good-rgba.webp"]


def test_unexpected_error_is_one_line_and_the_batch_goes_on(tmp_path, monkeypatch, capsys):
    frames, _ = moving_sequence(n=2, noise=0.0)
    write_gif(tmp_path / "bad.gif", frames)
    write_gif(tmp_path / "good.gif", frames)
    real = animation_files.read_frames

    def read(path, **kwargs):
        if "bad" in path:
            raise IndexError("list index out of range")
        return real(path, **kwargs)

    monkeypatch.setattr(animation_files, "read_frames", read)
    names = [str(tmp_path / n) for n in ("bad.gif", "good.gif")]
    assert cli.main(["key-animation", *names, "-o", str(tmp_path / "o"), "--formats", "webp"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert f"error: cannot key {names[0]}: IndexError: list index out of range" in err
    assert os.listdir(tmp_path / "o") == ["good-rgba.webp"]


def test_same_stem_in_two_folders_gets_the_names_of_key(tmp_path, capsys):
    frames, _ = moving_sequence(n=2, noise=0.0)
    inputs = [tmp_path / "g1" / "anim.gif", tmp_path / "g2" / "anim.gif"]
    for path in inputs:
        path.parent.mkdir()
        write_gif(path, frames)
    out = tmp_path / "o"
    args = ["key-animation", *map(str, inputs), str(inputs[0]), "-o", str(out)]  # g1 twice
    assert cli.main([*args, "--formats", "webp"]) == 0
    stems = outputs.output_stems(inputs, out, [outputs.DEFAULT_RGBA_SUFFIX])
    assert all(re.fullmatch(r"anim-[0-9a-f]{6}", s) for s in stems)
    assert sorted(os.listdir(out)) == sorted(f"{s}-rgba.webp" for s in stems)
    assert capsys.readouterr().err.count(" frames -> ") == 2  # the repeated file keyed once


def test_unwritable_format_is_refused_before_keying(tmp_path, monkeypatch, capsys):
    frames, _ = moving_sequence(n=2, noise=0.0)
    write_gif(tmp_path / "c.gif", frames)
    monkeypatch.setattr(animation_files, "_have_av", lambda: False)
    args = ["key-animation", str(tmp_path / "c.gif"), "-o", str(tmp_path / "o")]
    with pytest.raises(SystemExit) as exc:
        cli.main([*args, "--formats", "webp,webm"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "webm needs PyAV" in err and "formats available here: webp, apng, png" in err
    assert not (tmp_path / "o").exists()


def test_folder_is_refused_naming_what_is_accepted(tmp_path, capsys):
    frames, _ = moving_sequence(n=2, noise=0.0)
    (tmp_path / "clips").mkdir()
    write_gif(tmp_path / "clips" / "a.gif", frames)
    args = ["key-animation", str(tmp_path / "clips"), str(tmp_path / "clips" / "a.gif")]
    assert cli.main([*args, "-o", str(tmp_path / "o"), "--formats", "webp"]) == 1
    err = capsys.readouterr().err
    assert f"error: {tmp_path / 'clips'} is a folder" in err
    assert "animation or video files (GIF, WebP, APNG" in err
    assert "reading videos needs PyAV" not in err
    assert os.listdir(tmp_path / "o") == ["a-rgba.webp"]


def test_help_is_plain_text(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["key-animation", "--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    assert "OUTDIR/<stem>-rgba<ending>" in text
    assert "``" not in text and ":func:" not in text and ":data:" not in text


def test_quiet_leaves_out_the_per_file_lines_not_the_warnings(tmp_path, capsys):
    frames, _ = moving_sequence(n=1, noise=0.0)
    write_gif(tmp_path / "one.gif", frames)
    assert cli.main(["key-animation", str(tmp_path / "one.gif"), "-o", str(tmp_path / "o")]) == 0
    assert "one.gif: 1 frame -> " in capsys.readouterr().err  # singular
    scene = np.random.default_rng(0).integers(0, 256, (1, 64, 64, 3), dtype=np.uint8)
    write_gif(tmp_path / "scene.gif", list(scene))
    args = ["key-animation", str(tmp_path / "scene.gif"), "-o", str(tmp_path / "o"), "-q"]
    assert cli.main(args) == 0
    err = capsys.readouterr().err
    assert "warning" in err and "->" not in err  # the no-screen warning, no per-file line


def test_an_input_named_like_an_output_in_the_output_folder_is_never_written_over(tmp_path, capsys):
    """`c.gif` and `c-rgba.webp` as inputs, both in the output folder: c.gif's WebP output would
    be the other input. c-rgba.webp, named like a cut-out there, is skipped with a note (a
    rerun's glob would key it again); c.gif is skipped as its output's name is taken; nothing
    is written over. Elsewhere, such a file is keyed like any other."""
    frames, _ = moving_sequence(n=3, noise=0.0)
    write_gif(tmp_path / "c.gif", frames)
    first, *rest = [Image.fromarray(f) for f in frames]
    first.save(tmp_path / "c-rgba.webp", save_all=True, append_images=rest, duration=100)
    before = (tmp_path / "c-rgba.webp").read_bytes()
    argv = ["key-animation", str(tmp_path / "c.gif"), str(tmp_path / "c-rgba.webp")]
    assert cli.main([*argv, "-o", str(tmp_path), "--formats", "webp"]) == 0
    assert (tmp_path / "c-rgba.webp").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c-rgba.webp", "c.gif"]
    err = capsys.readouterr().err
    assert "named like a cut-out key-animation writes" in err and "c-rgba.webp exist" in err
    assert cli.main([*argv, "-o", str(tmp_path / "o"), "--formats", "webp"]) == 0
    assert sorted(os.listdir(tmp_path / "o")) == ["c-rgba-rgba.webp", "c-rgba.webp"]


def test_a_frame_rate_too_low_to_store_is_a_usage_error(tmp_path, capsys):
    frames, _ = moving_sequence(n=2, noise=0.0)
    write_gif(tmp_path / "c.gif", frames)
    with pytest.raises(SystemExit) as exc:
        cli.main(
            ["key-animation", str(tmp_path / "c.gif"), "-o", str(tmp_path / "o"), "--fps", "1e-9"]
        )
    assert exc.value.code == 2 and "frames per second in [0.1, 240]" in capsys.readouterr().err


def test_no_empty_output_folder_is_left_when_every_input_fails(tmp_path, capsys):
    (tmp_path / "empty.gif").write_bytes(b"")
    out = tmp_path / "new"
    assert cli.main(["key-animation", str(tmp_path / "empty.gif"), "-o", str(out)]) == 1
    assert "the file is empty" in capsys.readouterr().err and not out.exists()


def test_a_variable_rate_video_keeps_its_length(tmp_path):
    """A screen recording's frames come at uneven times: the rate was the container's nominal
    one (12 fps here), and the output played 0.83 s of a 1.9 s input."""
    av = pytest.importorskip("av")
    from fractions import Fraction

    frames, _ = moving_sequence(n=10, size=32, noise=0.0)
    times = [0, 50, 100, 150, 200, 250, 650, 1050, 1450, 1850]  # ms
    with av.open(str(tmp_path / "vfr.webm"), "w") as out:
        stream = out.add_stream("libvpx-vp9", rate=12)
        stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv420p"
        stream.codec_context.time_base = Fraction(1, 1000)
        for f, t in zip(frames, times, strict=True):
            frame = av.VideoFrame.from_ndarray(f, format="rgb24")
            frame.pts, frame.time_base = t, Fraction(1, 1000)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    got, fps, _ = read_frames(str(tmp_path / "vfr.webm"))
    assert len(got) == 10 and 10 / fps == pytest.approx(1.9, abs=0.1)


def test_a_video_is_read_as_players_show_it():
    """A phone's portrait video is stored turned, with a rotation to show it upright; a video
    of non-square pixels is shown wider or narrower. Both were ignored (the cut-out came out
    sideways or squashed)."""
    import types

    rgb = np.zeros((4, 6, 3), np.uint8)
    rgb[0, 0] = 255  # top left
    stream = types.SimpleNamespace(metadata={})
    assert animation_files._rotation(types.SimpleNamespace(rotation=90), stream) == 1
    assert animation_files._rotation(types.SimpleNamespace(rotation=-90), stream) == 3
    assert animation_files._rotation(types.SimpleNamespace(rotation=-180), stream) == 2
    old = types.SimpleNamespace(metadata={"rotate": "270"})  # (PyAV without frame.rotation)
    assert animation_files._rotation(types.SimpleNamespace(), old) == 3
    turned = animation_files._as_shown(rgb, None, 1)
    assert turned.shape == (6, 4, 3) and turned[5, 0].all()  # what FFmpeg shows for rotate=90
    from fractions import Fraction

    assert animation_files._as_shown(rgb, Fraction(2, 1), 0).shape == (4, 12, 3)
    assert animation_files._as_shown(rgb, Fraction(1, 2), 0).shape == (4, 3, 3)
    assert animation_files._as_shown(rgb, Fraction(1, 1), 0) is rgb


def test_what_a_file_holds_not_its_name_decides_how_it_is_read(tmp_path):
    """A GIF without an ending went to PyAV (its loop count was lost: it played for ever); a
    video named .gif failed with Pillow's 'cannot identify image file'."""
    frames, _ = moving_sequence(n=3, noise=0.0)
    first, *rest = [Image.fromarray(f) for f in frames]
    first.save(tmp_path / "clip", format="GIF", save_all=True, append_images=rest, duration=100)
    got, fps, loop = read_frames(str(tmp_path / "clip"))
    assert (len(got), fps, loop) == (3, pytest.approx(10.0), 1)
    pytest.importorskip("av")  # (PyAV writes the video)
    write_video(tmp_path / "video.gif", frames, "mp4")
    got, fps, loop = read_frames(str(tmp_path / "video.gif"))
    assert (len(got), fps, loop) == (3, pytest.approx(12.0), 0)


def test_an_apng_default_image_is_not_a_frame_and_gif_zero_delays_play_as_browsers_do(
    tmp_path,
):
    """An APNG's default image (shown where animation is not) became a first frame (an opaque
    white one, and every frame shorter); GIF delays of 0 or 10 ms, which browsers play as
    100 ms, counted as 0 (the input's rate was then 8 fps whatever it played at)."""
    frames, _ = moving_sequence(n=4, noise=0.0)
    images = [Image.fromarray(f) for f in frames]
    Image.new("RGB", images[0].size, "white").save(
        tmp_path / "d.png", save_all=True, append_images=images, duration=100, default_image=True
    )
    got, fps, _ = read_frames(str(tmp_path / "d.png"))
    assert len(got) == 4 and np.array_equal(got[0], frames[0]) and fps == pytest.approx(10.0)
    images[0].save(tmp_path / "z.gif", save_all=True, append_images=images[1:], duration=0)
    got, fps, _ = read_frames(str(tmp_path / "z.gif"))
    assert len(got) == 4 and fps == pytest.approx(10.0)


def test_interrupted_leaves_no_empty_output_folder(tmp_path, monkeypatch):
    frames, _ = moving_sequence(n=3, noise=0.0)
    write_gif(tmp_path / "c.gif", frames)

    def interrupted(*_args, **_kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(animation_files, "read_frames", interrupted)
    out = tmp_path / "new"
    assert cli.main(["key-animation", str(tmp_path / "c.gif"), "-o", str(out)]) == 130
    assert not out.exists()


def test_names_with_a_colon_are_files_not_protocols(tmp_path, monkeypatch):
    """FFmpeg took 'file:x.mp4' for x.mp4 (another file keyed) and '2024-05-01T12:30.mp4'
    for an unknown protocol: a relative name before a colon is a URL scheme to it."""
    pytest.importorskip("av")  # (PyAV writes the video)
    monkeypatch.chdir(tmp_path)
    frames, _ = moving_sequence(n=4, size=32, noise=0.0)
    for name in ("file:x.mp4", "2024-05-01T12:30.mp4"):
        write_video(animation_files._file_url(name), frames, "mp4")
    (tmp_path / "x.mp4").write_bytes(b"not this one")
    assert cli.main(["key-animation", "file:x.mp4", "2024-05-01T12:30.mp4", "-o", "o:1",
                     "--formats", "webp,webm", "-q"]) == 0  # fmt: skip
    for stem in ("file:x", "2024-05-01T12:30"):
        assert len(read_frames(f"o:1/{stem}-rgba.webm")[0]) == 4


def test_a_raw_motion_jpeg_stream_is_a_video(tmp_path):
    """Pillow reads the first JPEG of a .mjpeg stream: it came out as one frame."""
    pytest.importorskip("av")  # (PyAV writes the video)
    frames, _ = moving_sequence(n=5, size=32, noise=0.0)
    write_video(tmp_path / "raw.mjpeg", frames, "mjpeg", "mjpeg", "yuvj420p")
    assert len(read_frames(str(tmp_path / "raw.mjpeg"))[0]) == 5


def test_a_longer_audio_stream_does_not_change_the_frame_rate(tmp_path):
    """The file's end (its longest stream) was taken for the video's when within two frames:
    a 1 s video at 12 fps with 1.05 s of audio read as 11.4 fps."""
    av = pytest.importorskip("av")
    frames, _ = moving_sequence(n=12, size=32, noise=0.0)
    with av.open(str(tmp_path / "a.mkv"), "w") as out:
        video = out.add_stream("mpeg4", rate=12)
        video.width, video.height, video.pix_fmt = 32, 32, "yuv420p"
        audio = out.add_stream("pcm_s16le", rate=8000)
        samples = np.zeros((1, 8400), np.int16)  # 1.05 s
        aframe = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
        aframe.sample_rate = 8000
        for packet in audio.encode(aframe):
            out.mux(packet)
        for packet in audio.encode(None):
            out.mux(packet)
        for f in frames:
            out.mux(video.encode(av.VideoFrame.from_ndarray(f, format="rgb24")))
        out.mux(video.encode(None))
    got, fps, _ = read_frames(str(tmp_path / "a.mkv"))
    assert len(got) == 12 and fps == pytest.approx(12.0, abs=0.05)


def test_a_run_that_wrote_nothing_removes_every_folder_it_made(tmp_path):
    (tmp_path / "empty.gif").write_bytes(b"")
    out = tmp_path / "nn" / "a" / "b"
    assert cli.main(["key-animation", str(tmp_path / "empty.gif"), "-o", str(out), "-q"]) == 1
    assert not (tmp_path / "nn").exists()
    (tmp_path / "kept").mkdir()  # a folder that was there stays
    out = tmp_path / "kept" / "new"
    assert cli.main(["key-animation", str(tmp_path / "empty.gif"), "-o", str(out), "-q"]) == 1
    assert (tmp_path / "kept").is_dir() and not out.exists()


def test_ctrl_c_while_the_command_starts_is_no_traceback(monkeypatch, capsys):
    def interrupted():
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "build_parser", interrupted)
    assert cli.main(["key", "x.png", "-o", "o"]) == 130
    assert capsys.readouterr().err == "tkg-chroma: interrupted\n"


def test_write_animation_refuses_a_folder_as_stem_and_a_loop_over_32_bits(tmp_path):
    frames = [np.zeros((4, 4, 4), np.uint8)] * 2
    with pytest.raises(ValueError, match="stem must name a file"):
        animation_files.write_animation(frames, str(tmp_path) + os.sep, "webp")
    with pytest.raises(ValueError, match=r"loop must be a whole number in \[0, 2\*\*32\)"):
        animation_files.write_animation(frames, str(tmp_path / "a"), "apng", loop=2**32)
    assert list(tmp_path.iterdir()) == []
    from fractions import Fraction

    assert animation_files._shown_width(256, Fraction(765, 4)) == 48960  # (the limit's width)


def test_a_tolerance_too_high_for_the_keyers_clip_white_is_a_usage_error(tmp_path, capsys):
    """--tolerance 0.9 was accepted, then every file failed after being read with "tolerance +
    clip_white must be below 1", and the help named a --clip-white key-animation does not
    have. Now a usage error before any file is read."""
    frames, _ = moving_sequence(n=2, noise=0.0)
    write_gif(tmp_path / "k.gif", frames)
    args = ["key-animation", str(tmp_path / "k.gif"), "-o", str(tmp_path / "o")]
    with pytest.raises(SystemExit) as exc:
        cli.main([*args, "--tolerance", "0.9"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "--tolerance must be below 0.9" in err and "--clip-white" not in err
    assert not (tmp_path / "o").exists()
    assert cli.main([*args, "--tolerance", "0.85", "--formats", "webp"]) == 0


@pytest.mark.parametrize("ext", ["png", "webp", "gif"])
def test_a_damaged_animation_is_one_clear_line(tmp_path, capsys, ext):
    """An APNG or GIF cut short gave Pillow's bare "Truncated File Read" or "image file is
    truncated", a WebP "could not create decoder object"."""
    frames, _ = moving_sequence(n=8, noise=0.0)
    first, *rest = [Image.fromarray(f) for f in frames]
    whole = tmp_path / f"whole.{ext}"
    first.save(whole, save_all=True, append_images=rest, duration=100, format=ext.upper())
    data = whole.read_bytes()
    cut = tmp_path / f"cut.{ext}"
    cut.write_bytes(data[: len(data) // 2])
    assert cli.main(["key-animation", str(cut), "-o", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "cannot be read (" in err and "the file is damaged or cut short; accepted:" in err
    assert err.count("\n") == 1


def test_the_inputs_colour_profile_is_kept(tmp_path):
    """An animation with an RGB ICC profile (Display P3 on a phone) came out untagged in every
    format, showing shifted colours; ``tkg-chroma key`` keeps a still's profile."""
    from PIL import ImageCms

    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    frames, _ = moving_sequence(n=3, noise=0.0)
    first, *rest = [Image.fromarray(f) for f in frames]
    first.save(tmp_path / "p.webp", save_all=True, append_images=rest, icc_profile=profile)
    args = ["key-animation", str(tmp_path / "p.webp"), "-o", str(tmp_path / "o")]
    assert cli.main([*args, "--formats", "webp,apng,png"]) == 0
    for name in ("p-rgba.webp", "p-rgba.png", "p-rgba-frames/00000.png"):
        assert Image.open(tmp_path / "o" / name).info.get("icc_profile") == profile


def test_a_rerun_with_a_glob_into_the_input_folder_skips_the_last_runs_outputs(tmp_path, capsys):
    """``key-animation *.webp -o .`` run twice keyed the first run's c-rgba.webp as an input
    (no screen: fully opaque, c-rgba-rgba.webp) and, its name now shared, keyed c.webp again
    under a hashed name beside c-rgba.webp. Cut-outs named so in the output folder are
    skipped with a note."""
    frames, _ = moving_sequence(n=3, noise=0.0)
    first, *rest = [Image.fromarray(f) for f in frames]
    first.save(tmp_path / "c.webp", save_all=True, append_images=rest)
    assert cli.main(["key-animation", str(tmp_path / "c.webp"), "-o", str(tmp_path)]) == 0
    before = sorted(os.listdir(tmp_path))
    assert before == ["c-rgba.png", "c-rgba.webp", "c.webp"]
    capsys.readouterr()
    inputs = [str(tmp_path / n) for n in before]  # (the glob *.webp *.png of the rerun)
    assert cli.main(["key-animation", *inputs, "-o", str(tmp_path)]) == 0
    assert sorted(os.listdir(tmp_path)) == before
    err = capsys.readouterr().err
    assert err.count("named like a cut-out key-animation writes (*-rgba.mov, *-rgba.png") == 2
    assert "skipping " + str(tmp_path / "c.webp") in err  # (its outputs exist: the rerun rule)


def test_a_tiffs_pages_loop_for_ever_as_a_video_does(tmp_path):
    """A multi-page TIFF has no loop count; it was read as "play once" (a GIF's default), so
    its cut-out stopped after one play while a video's loops."""
    frames, _ = moving_sequence(n=3, noise=0.0)
    first, *rest = [Image.fromarray(f) for f in frames]
    first.save(tmp_path / "pages.tif", save_all=True, append_images=rest)
    assert read_frames(str(tmp_path / "pages.tif"))[2] == 0
    first.save(tmp_path / "plain.gif", save_all=True, append_images=rest)  # (no loop count)
    assert read_frames(str(tmp_path / "plain.gif"))[2] == 1
