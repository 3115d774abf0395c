"""``tkg-chroma key-animation``: animations and videos in, transparent animations out."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from test_animation import moving_sequence

from lib_tkg import cli
from lib_tkg.animation_files import read_frames


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


def test_existing_output_is_not_overwritten(tmp_path, capsys):
    frames, _ = moving_sequence(n=2)
    write_gif(tmp_path / "c.gif", frames)
    (tmp_path / "c-rgba.webp").write_bytes(b"mine")
    args = ["key-animation", str(tmp_path / "c.gif"), "-o", str(tmp_path), "--formats", "webp"]
    assert cli.main(args) == 1
    assert (tmp_path / "c-rgba.webp").read_bytes() == b"mine"
    assert "not overwriting" in capsys.readouterr().err


def test_video_in_webm_out(tmp_path):
    av = pytest.importorskip("av")
    frames, _ = moving_sequence(n=6, noise=0.0)
    with av.open(str(tmp_path / "v.mp4"), "w") as out:
        stream = out.add_stream("mpeg4", rate=12)
        stream.width, stream.height, stream.pix_fmt = 96, 96, "yuv420p"
        stream.options = {"qscale": "2"}
        for f in frames:
            out.mux(stream.encode(av.VideoFrame.from_ndarray(f, format="rgb24")))
        out.mux(stream.encode(None))
    got, fps = read_frames(str(tmp_path / "v.mp4"))
    assert len(got) == 6 and fps == pytest.approx(12.0)
    args = ["key-animation", str(tmp_path / "v.mp4"), "-o", str(tmp_path / "o"), "--formats"]
    assert cli.main([*args, "webm"]) == 0
    assert (tmp_path / "o" / "v-rgba.webm").stat().st_size > 0


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
    im = Image.open(tmp_path / "o" / "k-rgba.webp")
    assert np.asarray(im.convert("RGBA"))[..., 3].min() == 255
