"""Tests for ``tkg-chroma key`` (lib_tkg.cli.key)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from lib_tkg import cli
from lib_tkg.keying import key

ROOT = Path(__file__).resolve().parent.parent
GREEN = (40, 190, 60)


def make_image(path: Path, fg=(220, 30, 30), size=48, screen=GREEN) -> np.ndarray:
    img = np.broadcast_to(np.array(screen, np.uint8), (size, size, 3)).copy()
    img[size // 4 : 3 * size // 4, size // 4 : 3 * size // 4] = fg
    Image.fromarray(img).save(path)
    return img


def test_parser_has_key_subcommand():
    parser = cli.build_parser()
    args = parser.parse_args(["key", "a.png", "-o", "out"])
    assert args.handler is cli.key.cmd_key
    assert args.inputs == [Path("a.png")] and args.outdir == Path("out")
    assert args.refine is True and args.mask is False and args.key_color is None


def test_no_subcommand_is_an_error(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main([])
    assert exc.value.code == 2


def test_files_and_folder(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    make_image(folder / "one.png")
    make_image(folder / "two.jpg", fg=(250, 250, 250))
    (folder / "notes.txt").write_text("not an image")
    single = tmp_path / "three.png"
    make_image(single, fg=(20, 20, 20))
    out = tmp_path / "out"
    assert cli.main(["key", str(folder), str(single), "-o", str(out), "-q"]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["one-rgba.png", "three-rgba.png", "two-rgba.png"]
    with Image.open(out / "one-rgba.png") as im:
        assert im.mode == "RGBA" and im.size == (48, 48)
        a = np.asarray(im)[..., 3]
    assert a[0, 0] == 0 and a[24, 24] == 255


def test_mask_writes_the_matte(tmp_path):
    src = tmp_path / "pic.png"
    make_image(src)
    out = tmp_path / "out"
    assert cli.main(["key", str(src), "-o", str(out), "--mask"]) == 0
    with Image.open(out / "pic-matte.png") as m, Image.open(out / "pic-rgba.png") as c:
        assert m.mode == "L"
        assert np.array_equal(np.asarray(m), np.asarray(c)[..., 3])


def test_options_are_passed(tmp_path):
    src = tmp_path / "pic.png"
    img = make_image(src)
    img[:, :4] = (150, 150, 150)  # an opaque grey strip on the border
    Image.fromarray(img).save(src)
    out = tmp_path / "out"
    args = ["key", str(src), "-o", str(out), "--key-color", "#28be3c", "--tolerance", "0.2"]
    extra = ["--despill", "0.5", "--no-refine", "--no-denoise", "--clip-white", "0.2"]
    assert cli.main([*args, *extra]) == 0
    a = np.asarray(Image.open(out / "pic-rgba.png"))[..., 3]
    assert a[20, 1] == 255 and a[20, 40] == 0


def test_exact_color_keys_the_given_colour_not_the_measured_shade(tmp_path):
    """A flat screen of a shade of green: --key-color green keys that shade (the result is the
    automatic one); --exact-color keys pure green, whose matte differs."""
    from lib_tkg import keying

    src = tmp_path / "pic.png"
    img = make_image(src, fg=(90, 150, 90), screen=(60, 170, 70))
    outs = []
    for extra in ([], ["--exact-color"]):
        out = tmp_path / f"out{len(outs)}"
        args = ["key", str(src), "-o", str(out), "--key-color", "green", "-q", *extra]
        assert cli.main(args) == 0
        outs.append(np.asarray(Image.open(out / "pic-rgba.png")))
    assert np.array_equal(outs[0], keying.key(img).rgba)
    assert np.array_equal(outs[1], keying.key(img, "green", exact_color=True).rgba)
    assert not np.array_equal(outs[0], outs[1])


def test_unreadable_file_does_not_stop_the_others(tmp_path, capsys):
    good1 = tmp_path / "a.png"
    good2 = tmp_path / "c.png"
    bad = tmp_path / "b.png"
    make_image(good1)
    make_image(good2)
    bad.write_bytes(b"\x89PNG\r\n\x1a\nthis is not really a png")
    out = tmp_path / "out"
    rc = cli.main(
        ["key", str(good1), str(bad), str(good2), str(tmp_path / "missing.png"), "-o", str(out)]
    )
    assert rc == 1
    err = capsys.readouterr().err
    assert "b.png" in err and "missing.png" in err
    assert (out / "a-rgba.png").exists() and (out / "c-rgba.png").exists()
    assert not (out / "b-rgba.png").exists()


def test_no_key_colour_warns_but_succeeds(tmp_path, capsys):
    src = tmp_path / "grey.png"
    Image.fromarray(np.full((16, 16), 128, np.uint8), "L").save(src)
    out = tmp_path / "out"
    assert cli.main(["key", str(src), "-o", str(out)]) == 0
    assert "warning" in capsys.readouterr().err
    assert (np.asarray(Image.open(out / "grey-rgba.png"))[..., 3] == 255).all()


def test_same_stem_is_not_overwritten(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "y").mkdir()
    make_image(tmp_path / "x" / "pic.png")
    make_image(tmp_path / "y" / "pic.png", fg=(250, 250, 250))
    out = tmp_path / "out"
    assert cli.main(["key", str(tmp_path / "x"), str(tmp_path / "y"), "-o", str(out), "-q"]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert len(names) == 2 and all(n.startswith("pic-") and n.endswith("-rgba.png") for n in names)


def test_empty_folder_fails(tmp_path):
    (tmp_path / "empty").mkdir()
    assert cli.main(["key", str(tmp_path / "empty"), "-o", str(tmp_path / "out")]) == 1


@pytest.mark.parametrize(
    "bad",
    [["--tolerance", "2"], ["--tolerance", "x"], ["--despill", "-1"], ["--key-color", "nope"]],
)
def test_bad_options_exit_2(tmp_path, bad, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["key", "a.png", "-o", str(tmp_path), *bad])
    assert exc.value.code == 2
    assert bad[0] in capsys.readouterr().err


def test_python_dash_m_on_the_bundled_example(tmp_path):
    example = ROOT / "examples" / "green_screen.png"
    proc = subprocess.run(
        [sys.executable, "-m", "lib_tkg", "key", str(example), "-o", str(tmp_path), "--mask"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    rgba = np.asarray(Image.open(tmp_path / "green_screen-rgba.png"))
    assert rgba.shape == (512, 512, 4)
    a = rgba[..., 3]
    assert a[:8, :8].max() == 0  # the corner is screen
    assert 0.1 < (a == 255).mean() < 0.9  # there is a subject
    assert ((a > 0) & (a < 255)).any()  # with soft edges


def test_16_bit_grey_png_is_scaled_not_clipped(tmp_path):
    src = tmp_path / "deep.png"
    arr = np.tile(np.linspace(0, 65535, 32).astype(np.uint16), (8, 1))
    img = Image.fromarray(arr)
    assert img.mode.startswith("I")
    img.save(src)
    out = tmp_path / "out"
    assert cli.main(["key", str(src), "-o", str(out), "-q"]) == 0
    rgba = np.asarray(Image.open(out / "deep-rgba.png"))
    assert (rgba[..., 3] == 255).all()
    assert np.abs(rgba[0, :, 0].astype(int) - np.round(arr[0] / 257)).max() <= 1


def test_jobs_key_a_folder_in_parallel_with_a_progress_bar(tmp_path, capsys, monkeypatch):
    folder = tmp_path / "in"
    folder.mkdir()
    want = {}
    for i, fg in enumerate([(220, 30, 30), (250, 250, 250), (20, 20, 20), (30, 60, 220)]):
        make_image(folder / f"img{i}.png", fg=fg)
        want[f"img{i}-rgba.png"] = fg
    out = tmp_path / "out"
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)  # a terminal
    assert cli.main(["key", str(folder), "-o", str(out), "--jobs", "2"]) == 0
    err = capsys.readouterr().err
    assert "keying" in err and "4/4" in err  # the tqdm bar
    assert sorted(p.name for p in out.iterdir()) == sorted(want)
    for name, fg in want.items():
        px = np.asarray(Image.open(out / name))
        assert px[0, 0, 3] == 0 and px[24, 24, 3] == 255
        assert np.abs(px[24, 24, :3].astype(int) - fg).max() <= 2
    # the same cut-outs as one process
    serial = tmp_path / "serial"
    assert cli.main(["key", str(folder), "-o", str(serial), "--jobs", "1", "-q"]) == 0
    for name in want:
        assert np.array_equal(
            np.asarray(Image.open(out / name)), np.asarray(Image.open(serial / name))
        )


@pytest.mark.parametrize("bad", ["0", "-2", "many"])
def test_bad_jobs_is_a_usage_error(tmp_path, bad, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["key", "x.png", "-o", str(tmp_path), "--jobs", bad])
    assert exc.value.code == 2 and "positive integer" in capsys.readouterr().err


def test_no_progress_bar_goes_into_a_log(tmp_path, capsys):
    """stderr that is not a terminal (a log file, a pipe) gets the lines, not the bar's
    carriage-return redraws."""
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(3):
        make_image(folder / f"img{i}.png")
    assert cli.main(["key", str(folder), "-o", str(tmp_path / "out"), "--jobs", "1"]) == 0
    err = capsys.readouterr().err
    assert "\r" not in err and "img/s" not in err
    assert "keyed 3 image(s)" in err


def test_max_pixels_rejects_a_big_image_with_a_clear_message(tmp_path, capsys):
    src = tmp_path / "pic.png"
    make_image(src)
    out = tmp_path / "out"
    assert cli.main(["key", str(src), "-o", str(out), "--max-pixels", "1000"]) == 1
    err = capsys.readouterr().err
    assert "48x48" in err and "over the keyer's limit" in err and "Traceback" not in err
    assert not (out / "pic-rgba.png").exists()


def test_keep_shadow_on_a_white_screen(tmp_path):
    img = np.full((192, 192, 3), 245, np.uint8)
    img[40:120, 60:132] = (40, 90, 200)
    shadow = np.zeros((192, 192), np.float32)
    cv2.ellipse(shadow, (96, 140), (50, 12), 0, 0, 360, 1.0, -1)
    shadow = cv2.GaussianBlur(shadow, (0, 0), 8)
    img = np.round(img * (1 - 0.4 * shadow[..., None])).astype(np.uint8)
    src = tmp_path / "product.png"
    Image.fromarray(img).save(src)
    plain, kept = tmp_path / "plain", tmp_path / "kept"
    assert cli.main(["key", str(src), "-o", str(plain), "--key-color", "white", "-q"]) == 0
    args = ["key", str(src), "-o", str(kept), "--key-color", "white", "--keep-shadow", "-q"]
    assert cli.main(args) == 0
    a_plain = np.asarray(Image.open(plain / "product-rgba.png"))[..., 3]
    a_kept = np.asarray(Image.open(kept / "product-rgba.png"))[..., 3]
    assert a_plain[136:146, 70:122].max() <= 10
    assert a_kept[136:146, 70:122].min() >= 40
    assert (a_kept[45:115, 65:127] == 255).all() and a_kept[5, 5] == 0


def test_no_screen_photo_comes_back_opaque_with_a_warning(tmp_path, capsys):
    rng = np.random.default_rng(1)
    img = np.clip(rng.normal(0, 30, (64, 64, 3)) + np.array([150, 100, 60]), 0, 255).astype(
        np.uint8
    )
    src = tmp_path / "fur.png"
    Image.fromarray(img).save(src)
    assert cli.main(["key", str(src), "-o", str(tmp_path / "out")]) == 0
    assert "no screen colour found" in capsys.readouterr().err
    assert (np.asarray(Image.open(tmp_path / "out" / "fur-rgba.png"))[..., 3] == 255).all()


# ------------------------------------------------------------------ never lose a user's file


def opaque_colour(path: Path) -> tuple[int, ...]:
    """The colour of the subject (centre pixel) of a cut-out."""
    with Image.open(path) as im:
        rgba = np.asarray(im)
    return tuple(int(v) for v in rgba[24, 24, :3])


def test_users_own_rgba_file_is_neither_replaced_nor_keyed(tmp_path, capsys):
    d = tmp_path / "d"
    d.mkdir()
    make_image(d / "a.png")
    user = d / "a-rgba.png"
    make_image(user, fg=(10, 10, 250))
    before = user.read_bytes()
    assert cli.main(["key", str(d), "-o", str(d)]) == 0
    assert user.read_bytes() == before
    err = capsys.readouterr().err
    assert "skipping" in err and "a-rgba.png exists" in err and "--overwrite" in err
    assert sorted(p.name for p in d.iterdir()) == ["a-rgba.png", "a.png"]


def test_an_output_is_never_the_path_of_an_input(tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    make_image(d / "a.png")
    given = d / "a-rgba.png"  # named explicitly, so it is an input
    make_image(given, fg=(10, 10, 250))
    before = given.read_bytes()
    assert cli.main(["key", str(d / "a.png"), str(given), "-o", str(d), "--overwrite", "-q"]) == 0
    assert given.read_bytes() == before
    new = sorted(p.name for p in d.iterdir() if p.name not in ("a.png", "a-rgba.png"))
    assert len(new) == 2  # one cut-out of each input, under other names


def test_n_inputs_give_n_distinct_outputs_stable_across_reruns(tmp_path):
    colours = {"x": (220, 30, 30), "y": (30, 30, 220), "z": (240, 240, 240)}
    inputs = []
    for folder, name in (("x", "a.png"), ("y", "a.png"), ("z", "a-2.png")):
        (tmp_path / folder).mkdir()
        make_image(tmp_path / folder / name, fg=colours[folder])
        inputs.append(str(tmp_path / folder / name))
    out = tmp_path / "out"
    assert cli.main(["key", *inputs, "-o", str(out), "-q"]) == 0
    first = sorted(p.name for p in out.iterdir())
    assert len(first) == 3
    got = sorted(opaque_colour(out / name) for name in first)
    assert got == sorted(colours.values())  # each input's own cut-out, none lost
    # the same names whatever the order of the inputs
    out2 = tmp_path / "out2"
    assert cli.main(["key", *reversed(inputs), "-o", str(out2), "-q"]) == 0
    assert sorted(p.name for p in out2.iterdir()) == first
    for name in first:
        assert opaque_colour(out / name) == opaque_colour(out2 / name)


def test_rerun_skips_an_edited_output_and_overwrite_replaces_it(tmp_path, capsys):
    src = tmp_path / "pic.png"
    make_image(src)
    out = tmp_path / "out"
    assert cli.main(["key", str(src), "-o", str(out), "-q"]) == 0
    cut = out / "pic-rgba.png"
    Image.new("RGBA", (5, 5), (1, 2, 3, 4)).save(cut)  # the user edits the cut-out
    edited = cut.read_bytes()
    capsys.readouterr()
    assert cli.main(["key", str(src), "-o", str(out)]) == 0
    assert cut.read_bytes() == edited
    err = capsys.readouterr().err
    assert f"skipping {src}" in err and "exists" in err and "1 skipped" in err
    assert cli.main(["key", str(src), "-o", str(out), "--overwrite", "-q"]) == 0
    with Image.open(cut) as im:
        assert im.size == (48, 48)


def test_recursive_with_output_inside_the_input_never_rekeys_outputs(tmp_path):
    d = tmp_path / "d"
    (d / "sub").mkdir(parents=True)
    make_image(d / "a.png")
    make_image(d / "sub" / "b.png")
    for _ in range(2):
        cli.main(["key", str(d), "-r", "-o", str(d / "out"), "--mask", "-q"])
        cli.main(["key", str(d), "-r", "-o", str(d), "--mask", "-q"])
    names = sorted(p.name for p in d.rglob("*.png"))
    assert not [n for n in names if "rgba-" in n or "matte-" in n], names
    assert sorted(p.name for p in (d / "out").iterdir()) == [
        "a-matte.png",
        "a-rgba.png",
        "b-matte.png",
        "b-rgba.png",
    ]


def test_opencv_and_memory_failures_are_one_line_each_and_the_batch_goes_on(
    tmp_path, monkeypatch, capsys
):
    import cv2

    from lib_tkg import keying

    real = keying.key_quietly
    boom = {"b": cv2.error("OpenCV(4.x) error: (-215:Assertion failed) boom"), "c": MemoryError()}

    def key(image, *args, **kwargs):
        arr = np.asarray(image)
        tag = {(10, 10, 250): "b", (250, 250, 10): "c"}.get(tuple(int(v) for v in arr[24, 24]))
        if tag:
            raise boom[tag]
        return real(image, *args, **kwargs)

    monkeypatch.setattr(keying, "key_quietly", key)
    make_image(tmp_path / "a.png")
    make_image(tmp_path / "b.png", fg=(10, 10, 250))
    make_image(tmp_path / "c.png", fg=(250, 250, 10))
    make_image(tmp_path / "d.png")
    (tmp_path / "e.png").write_bytes(b"\x89PNG\r\n\x1a\ntruncated")
    out = tmp_path / "out"
    assert cli.main(["key", str(tmp_path), "-o", str(out), "-j", "1"]) == 1  # patched here
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if "error:" in line]
    assert len(lines) == 3
    assert any("b.png" in line and "boom" in line for line in lines)
    assert any("c.png" in line and "out of memory" in line for line in lines)
    assert any("e.png" in line for line in lines)
    assert sorted(p.name for p in out.iterdir()) == ["a-rgba.png", "d-rgba.png"]
    assert cli.main(["key", str(tmp_path / "b.png"), "-o", str(out), "--debug"]) == 1
    assert "Traceback" in capsys.readouterr().err


def test_a_failed_write_leaves_no_partial_file(tmp_path, capsys):
    src = tmp_path / "pic.png"
    make_image(src)
    out = tmp_path / "out"
    (out / "pic-rgba.png").mkdir(parents=True)  # cannot be replaced by a file
    assert cli.main(["key", str(src), "-o", str(out), "--mask", "--overwrite"]) == 1
    assert "cannot key" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["pic-rgba.png"]  # no matte alone, no .part


def test_tolerance_takes_the_python_apis_range(tmp_path):
    """``--tolerance`` was held to the WebUI's [0, 0.85] (its clip-white is fixed at 0.1) while
    ``key()`` and ``--clip-white`` take [0, 1] with their sum below 1 (a new user's report)."""
    src = tmp_path / "pic.png"
    make_image(src)
    out = tmp_path / "out"
    args = ["key", str(src), "-o", str(out), "--tolerance", "0.88", "--clip-white", "0.05", "-q"]
    assert cli.main(args) == 0
    got = np.asarray(Image.open(out / "pic-rgba.png"))
    want = key(np.asarray(Image.open(src).convert("RGB")), tolerance=0.88, clip_white=0.05)
    assert np.array_equal(got, want.rgba)


def test_clip_white_plus_tolerance_is_checked_by_argparse(tmp_path, capsys):
    src = tmp_path / "pic.png"
    make_image(src)
    with pytest.raises(SystemExit) as exc:
        cli.main(["key", str(src), str(src), "-o", str(tmp_path / "out"), "--clip-white", "0.95"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if "error:" in line]
    assert len(errors) == 1 and "--clip-white" in errors[0] and "below 1" in errors[0]
    assert not (tmp_path / "out").exists()


def test_dark_16_bit_grey_is_not_read_as_8_bit(tmp_path):
    src = tmp_path / "dark.png"
    arr = np.full((8, 32), 200, np.uint16)  # 200/65535: nearly black
    arr[:, 16:] = 250
    Image.fromarray(arr).save(src)
    out = tmp_path / "out"
    assert cli.main(["key", str(src), "-o", str(out), "-q"]) == 0
    rgba = np.asarray(Image.open(out / "dark-rgba.png"))
    assert rgba[..., :3].max() <= 1


def test_jobs_key_in_parallel_with_the_same_results(tmp_path, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(4):
        make_image(folder / f"p{i}.png", fg=(200, 40 * i, 30))
    (folder / "broken.png").write_bytes(b"not an image")
    one, two = tmp_path / "one", tmp_path / "two"
    assert cli.main(["key", str(folder), "-o", str(one), "-j", "1", "-q"]) == 1
    assert cli.main(["key", str(folder), "-o", str(two), "-j", "2", "--mask"]) == 1
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if "error:" in line]
    assert "Traceback" not in err and len(errors) == 2 and all("broken.png" in e for e in errors)
    assert "keyed 4 image(s)" in err and "1 failed" in err
    for path in sorted(one.iterdir()):
        assert path.read_bytes() == (two / path.name).read_bytes()
    assert len(list(two.iterdir())) == 8


def test_folder_scan_says_what_it_skipped(tmp_path, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    make_image(folder / "pic.png")
    make_image(folder / "logo-rgba.png")  # named like an output
    Image.new("RGB", (8, 8)).save(folder / "anim.gif")
    Image.new("RGB", (8, 8)).save(folder / "anim2.apng", format="PNG")
    out = tmp_path / "out"
    assert cli.main(["key", str(folder), "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "skipped 1 file(s) and folder(s) named like outputs" in err
    assert "skipped 2 animation file(s) (.gif, .apng)" in err and "key-animation" in err
    assert sorted(p.name for p in out.iterdir()) == ["pic-rgba.png"]


def test_summary_counts_images_without_a_screen(tmp_path, capsys):
    make_image(tmp_path / "screen.png")
    Image.fromarray(np.full((48, 48, 3), 128, np.uint8)).save(tmp_path / "grey.png")
    out = tmp_path / "out"
    argv = ["key", str(tmp_path / "screen.png"), str(tmp_path / "grey.png"), "-o", str(out)]
    assert cli.main([*argv, "-j", "1"]) == 0
    err = capsys.readouterr().err
    assert "keyed 1 image(s)" in err and "1 had no screen (written unkeyed)" in err
    assert "--key-color" in err  # the no-screen warning says how to force a colour
    with Image.open(out / "grey-rgba.png") as im:
        assert np.asarray(im)[..., 3].min() == 255


def test_an_animation_given_to_key_says_only_its_first_frame_was_keyed(tmp_path, capsys):
    frames = [
        Image.fromarray(make_image(tmp_path / f"f{i}.png", fg=(200, 20 * i, 30))) for i in range(3)
    ]
    gif = tmp_path / "anim.gif"
    frames[0].save(gif, save_all=True, append_images=frames[1:], duration=100)
    assert cli.main(["key", str(gif), "-o", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert "only the first of its 3 frames was keyed" in err and "key-animation" in err


def test_ctrl_c_while_writing_leaves_no_part_file(tmp_path, capsys, monkeypatch):
    make_image(tmp_path / "pic.png")
    out = tmp_path / "out"
    real_save = Image.Image.save

    def interrupted_save(self, fp, *args, **kwargs):
        real_save(self, fp, *args, **kwargs)  # the file is (partly) there ...
        raise KeyboardInterrupt  # ... when Ctrl-C arrives

    monkeypatch.setattr(Image.Image, "save", interrupted_save)
    assert cli.main(["key", str(tmp_path / "pic.png"), "-o", str(out), "-j", "1"]) == 130
    err = capsys.readouterr().err
    assert "tkg-chroma: interrupted" in err and "Traceback" not in err
    assert not out.exists()  # no temporary file, and the folder it made is gone too


def test_cli_option_messages_name_the_option_and_key_color_takes_auto(tmp_path, capsys):
    with pytest.raises(SystemExit):
        cli.main(["key", "a.png", "-o", str(tmp_path), "--tolerance", "1.5"])
    err = capsys.readouterr().err
    assert "argument --tolerance: expected a number in [0, 1], got '1.5'" in err
    with pytest.raises(SystemExit):
        cli.main(["key", "a.png", "-o", str(tmp_path), "--despill", "1.5"])
    err = capsys.readouterr().err
    assert "argument --despill: 'despill' must be a number in [0, 1]" in err
    assert "TKG chroma background" not in err
    args = cli.build_parser().parse_args(["key", "a.png", "-o", "o", "--key-color", "AUTO"])
    assert args.key_color is None
    make_image(tmp_path / "pic.png")
    out = tmp_path / "out"
    assert cli.main(["key", str(tmp_path / "pic.png"), "-o", str(out), "--key-color", "auto"]) == 0
    assert (out / "pic-rgba.png").exists()


# --------------------------------------------------------------------------------------------
# the glibc heap setting the keyer applies to its process (lib_tkg.heap)


def _glibc() -> bool:
    import platform

    return sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"


@pytest.mark.skipif(not _glibc(), reason="glibc only")
def test_keep_freed_heap_applies_on_glibc_unless_the_user_set_it():
    code = "from lib_tkg import heap; print(heap.keep_freed_heap())"
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_TOP_PAD_"}
    run = [sys.executable, "-c", code]
    out = subprocess.run(run, cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"
    env["MALLOC_TOP_PAD_"] = "0"
    out = subprocess.run(run, cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("taken", ["a-rgba.png", "a-matte.png"])
def test_an_output_made_by_another_run_meanwhile_is_not_replaced(
    tmp_path, monkeypatch, capsys, taken
):
    # two runs into one folder: the other run writes one of the names after this run checked
    # that it was free and before it places its outputs
    from lib_tkg import keying

    make_image(tmp_path / "a.png")
    out = tmp_path / "out"
    theirs = out / taken
    real = keying.key_quietly

    def key_while_another_run_writes(*args, **kwargs):
        make_image(theirs, fg=(10, 10, 250))
        return real(*args, **kwargs)

    monkeypatch.setattr(keying, "key_quietly", key_while_another_run_writes)
    assert cli.main(["key", str(tmp_path / "a.png"), "-o", str(out), "--mask", "-q"]) == 1
    with Image.open(theirs) as im:
        assert im.mode == "RGB" and tuple(np.asarray(im)[24, 24]) == (10, 10, 250)  # untouched
    assert f"{taken} already exists; not overwriting it" in capsys.readouterr().err
    # all of this job's outputs or none, and no temporary file left
    assert sorted(p.name for p in out.iterdir()) == [taken]


@pytest.mark.parametrize("command", ["key", "key-animation"])
@pytest.mark.parametrize("colour", [[], ["--key-color", "auto"]])
def test_exact_color_without_a_key_colour_is_a_usage_error(tmp_path, capsys, command, colour):
    make_image(tmp_path / "a.png")
    with pytest.raises(SystemExit) as exc:
        cli.main(
            [command, str(tmp_path / "a.png"), "-o", str(tmp_path / "o"), "--exact-color", *colour]
        )
    assert exc.value.code == 2
    assert "--exact-color needs --key-color" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_a_key_colour_that_is_not_the_screens_is_named_in_a_warning(tmp_path, capsys):
    make_image(tmp_path / "a.png")
    assert cli.main(
        ["key", str(tmp_path / "a.png"), "-o", str(tmp_path / "o"), "--key-color", "blue"]
    ) in (0, 1)
    err = capsys.readouterr().err
    assert "shows a screen of colour" in err and "key_color #0000ff" in err


def test_a_folder_scan_says_it_skipped_subfolders_unless_recursive(tmp_path, capsys):
    make_image(tmp_path / "a.png")
    (tmp_path / "sub").mkdir()
    make_image(tmp_path / "sub" / "b.png")
    assert cli.main(["key", str(tmp_path), "-o", str(tmp_path / "o1"), "-q"]) == 0
    assert "skipped 1 subfolder(s): -r (--recursive)" in capsys.readouterr().err
    assert cli.main(["key", str(tmp_path / "sub"), "-o", str(tmp_path / "o2"), "-r", "-q"]) == 0
    assert "subfolder" not in capsys.readouterr().err


def _profile(kind: str) -> bytes:
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile(kind)).tobytes()


def test_the_cut_out_keeps_the_photos_rgb_colour_profile(tmp_path):
    """A phone photo tagged with its colour space (Display P3 and such): the keyer works on
    the stored values, so an untagged cut-out would show shifted colours."""
    rgb, lab = _profile("sRGB"), _profile("LAB")
    src = tmp_path / "phone.jpg"
    Image.fromarray(make_image(tmp_path / "plain.png")).save(src, quality=95, icc_profile=rgb)
    other = tmp_path / "lab.png"  # a profile of another colour space does not fit RGBA
    Image.fromarray(make_image(tmp_path / "plain2.png")).save(other, icc_profile=lab)
    out = tmp_path / "out"
    assert cli.main(["key", str(src), str(other), "-o", str(out), "-q", "--mask"]) == 0
    with Image.open(out / "phone-rgba.png") as im:
        assert im.info.get("icc_profile") == rgb
    with Image.open(out / "lab-rgba.png") as im:
        assert "icc_profile" not in im.info
    with Image.open(out / "phone-matte.png") as im:  # a matte is not colour
        assert "icc_profile" not in im.info


def test_an_empty_or_unusable_output_folder_is_one_clear_error(tmp_path, capsys, monkeypatch):
    src = tmp_path / "a.png"
    make_image(src)
    with pytest.raises(SystemExit) as exc:  # -o '' would mean the current folder
        cli.main(["key", str(src), "-o", ""])
    assert exc.value.code == 2 and "the folder name is empty" in capsys.readouterr().err
    a_file = tmp_path / "taken"
    a_file.write_text("x")
    assert cli.main(["key", str(src), "-o", str(a_file)]) == 1
    assert f"output folder {a_file} is a file" in capsys.readouterr().err

    import tempfile

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "NamedTemporaryFile", refuse)  # a folder that cannot be written
    make_image(tmp_path / "b.png")
    out = tmp_path / "ro"
    assert cli.main(["key", str(src), str(tmp_path / "b.png"), "-o", str(out)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"tkg-chroma: error: cannot write into output folder {out}: Permission denied"]


def test_a_file_named_twice_through_a_link_is_keyed_once_whatever_the_order(tmp_path, capsys):
    src = tmp_path / "green.png"
    make_image(src)
    link = tmp_path / "alias.png"
    link.symlink_to(src)
    for order, out in (((src, link), "o1"), ((link, src), "o2")):
        assert cli.main(["key", *map(str, order), "-o", str(tmp_path / out)]) == 0
        assert [p.name for p in (tmp_path / out).iterdir()] == ["alias-rgba.png"]
        err = capsys.readouterr().err
        assert f"{src}: the same file as {link}, keyed once" in err


def test_a_file_named_twice_alike_is_keyed_once_with_a_note(tmp_path, capsys):
    src = tmp_path / "green.png"
    make_image(src)
    out = tmp_path / "out"
    assert cli.main(["key", str(src), str(src), "-o", str(out)]) == 0
    assert [p.name for p in out.iterdir()] == ["green-rgba.png"]
    assert f"{src}: named 2 times, keyed once" in capsys.readouterr().err


def test_a_float_image_in_0_to_1_is_scaled(tmp_path):
    src = tmp_path / "float.tiff"
    arr = np.tile(np.linspace(0, 1, 32, dtype=np.float32), (8, 1))
    Image.fromarray(arr, "F").save(src)
    out = tmp_path / "out"
    assert cli.main(["key", str(src), "-o", str(out), "-q"]) == 0
    rgba = np.asarray(Image.open(out / "float-rgba.png"))
    assert np.abs(rgba[0, :, 0].astype(int) - np.round(arr[0] * 255)).max() <= 1


def _digest(path: Path) -> bytes:
    import hashlib

    return hashlib.sha1(path.read_bytes()).digest()


def test_overwrite_never_writes_over_an_input_reached_through_a_link(tmp_path):
    """`key src/x.png src/x-rgba.png -o srclink --overwrite`: the output folder is a link to the
    inputs' folder, so x.png's cut-out would be the input src/x-rgba.png (it was replaced)."""
    src = tmp_path / "src"
    src.mkdir()
    make_image(src / "x.png")
    make_image(src / "x-rgba.png", screen=(30, 60, 200), fg=(240, 240, 240))
    before = _digest(src / "x-rgba.png")
    (tmp_path / "srclink").symlink_to(src, target_is_directory=True)
    argv = ["key", str(src / "x.png"), str(src / "x-rgba.png"), "-o", str(tmp_path / "srclink")]
    assert cli.main([*argv, "--overwrite", "-j", "1", "-q"]) == 0
    assert _digest(src / "x-rgba.png") == before
    made = sorted(p.name for p in src.iterdir())
    assert len(made) == 4 and all(
        n.endswith("-rgba.png") for n in made if n not in ("x.png", "x-rgba.png")
    )
    # a link named as an input, pointing at the natural output of another input
    out = tmp_path / "out"
    out.mkdir()
    make_image(tmp_path / "a.png")
    make_image(out / "a-rgba.png", screen=(30, 60, 200))
    (tmp_path / "link.png").symlink_to(out / "a-rgba.png")
    before = _digest(out / "a-rgba.png")
    argv = ["key", str(tmp_path / "a.png"), str(tmp_path / "link.png"), "-o", str(out)]
    assert cli.main([*argv, "--overwrite", "-j", "1", "-q"]) == 0
    assert _digest(out / "a-rgba.png") == before


def test_overwrite_that_fails_on_the_matte_keeps_the_earlier_cut_out(tmp_path, capsys):
    """The matte's name is held by a folder: the job fails, and the cut-out already there (an
    earlier run's) is left as it was (it was replaced, then the new one deleted)."""
    make_image(tmp_path / "green.png")
    out = tmp_path / "out"
    (out / "green-matte.png").mkdir(parents=True)
    make_image(out / "green-rgba.png", screen=(30, 60, 200))
    before = _digest(out / "green-rgba.png")
    argv = ["key", str(tmp_path / "green.png"), "-o", str(out), "--mask", "--overwrite"]
    assert cli.main(argv) == 1
    assert "is a folder; not replacing it" in capsys.readouterr().err
    assert _digest(out / "green-rgba.png") == before
    assert sorted(p.name for p in out.iterdir()) == ["green-matte.png", "green-rgba.png"]
    (out / "green-matte.png").rmdir()  # and where it can, it replaces both
    assert cli.main([*argv, "-q"]) == 0
    assert _digest(out / "green-rgba.png") != before
    assert sorted(p.name for p in out.iterdir()) == ["green-matte.png", "green-rgba.png"]


def test_unreadable_inputs_and_subfolders_are_errors_naming_them(tmp_path, capsys, monkeypatch):
    """No permission to look a name up or list a folder (simulated: this may run as root) is
    one error line each, the other inputs are keyed, exit 1 (a traceback before; an
    unreadable subfolder of a recursive scan was skipped silently, exit 0)."""
    make_image(tmp_path / "ok.png")
    locked = tmp_path / "locked"
    rec = tmp_path / "rec"
    (rec / "sub").mkdir(parents=True)
    make_image(rec / "b.png")
    make_image(rec / "sub" / "c.png")
    real_is_dir, real_scandir = Path.is_dir, os.scandir

    def is_dir(self):
        if self.name == "locked":
            raise PermissionError(13, "Permission denied", str(self))
        return real_is_dir(self)

    def scandir(path="."):
        if os.fspath(path).endswith("sub"):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(Path, "is_dir", is_dir)
    monkeypatch.setattr(os, "scandir", scandir)
    out = tmp_path / "out"
    assert cli.main(["key", str(tmp_path / "ok.png"), str(locked), "-o", str(out), "-q"]) == 1
    err = capsys.readouterr().err
    assert f"{locked}: cannot be read (Permission denied)" in err
    assert (out / "ok-rgba.png").exists()
    assert cli.main(["key", str(rec), "-r", "-o", str(tmp_path / "o2"), "-q"]) == 1
    err = capsys.readouterr().err
    assert f"{rec / 'sub'}: subfolder cannot be read" in err
    assert sorted(p.name for p in (tmp_path / "o2").iterdir()) == ["b-rgba.png"]


def test_a_name_too_long_for_the_file_system_fails_alone(tmp_path, capsys):
    """A 250-character stem cannot get `-rgba.png`: that file fails in one line and the others
    are keyed (a traceback at the existence check stopped the batch); a 240-character stem,
    whose output name fits, is keyed (its temporary name did not fit)."""
    folder = tmp_path / "in"
    folder.mkdir()
    make_image(folder / "a.png")
    make_image(folder / ("b" * 250 + ".png"))
    make_image(folder / ("c" * 240 + ".png"))
    out = tmp_path / "out"
    out.mkdir()
    assert cli.main(["key", str(folder), "-o", str(out), "-q", "-j", "1"]) == 1
    err = capsys.readouterr().err
    assert "is longer than file systems allow (259 bytes, at most 255)" in err
    assert sorted(p.name for p in out.iterdir()) == ["a-rgba.png", "c" * 240 + "-rgba.png"]


def test_messages_for_files_that_are_not_images_say_what_is_accepted(tmp_path, capsys):
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "text.png").write_text("hello")
    out = tmp_path / "out"
    assert (
        cli.main(["key", str(tmp_path / "empty.png"), str(tmp_path / "text.png"), "-o", str(out)])
        == 1
    )
    err = capsys.readouterr().err
    assert f"cannot key {tmp_path / 'empty.png'}: the file is empty" in err
    assert (
        f"cannot key {tmp_path / 'text.png'}: not an image file that can be read; accepted: PNG"
        in err
    )
    assert not out.exists()  # nothing written: no empty output folder left behind


def test_a_folder_scan_counts_files_of_other_types(tmp_path, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    make_image(folder / "pic.png")
    (folder / "clip.mp4").write_bytes(b"x")
    (folder / "photo.jfif").write_bytes(b"x")
    (folder / "gone.png").symlink_to(tmp_path / "missing.png")
    assert cli.main(["key", str(folder), "-o", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert "skipped 2 file(s) that are not images keyed here (.jfif, .mp4); accepted" in err
    # a broken link is named, not counted as a kind of file that is refused
    assert (
        "skipped 1 entry named like an image that is not a file (a broken link, folder or "
        "pipe): gone.png" in err
    )


def _children(pid: int) -> list[int]:
    """Process ids whose parent is ``pid`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
    return found


def _spawned_workers(pid: int) -> list[int]:
    """The children of ``pid`` that run a spawned worker (a child listed before it has
    executed still shows its parent's command line; one that has exited has none)."""
    found = []
    for child in _children(pid):
        with contextlib.suppress(OSError):
            if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                found.append(child)
    return found


def _started(pid: int) -> int:
    """When process ``pid`` started (clock ticks since boot, Linux /proc)."""
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])


def _wait_for(test, timeout=60.0):
    import time

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if value := test():
            return value
        time.sleep(0.05)
    raise AssertionError("timed out")


def _big_folder(tmp_path: Path, n: int = 4) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(n):
        make_image(folder / f"b{i}.png", size=2500)
    return folder


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_sigterm_stops_the_workers_and_leaves_no_temporary_file(tmp_path):
    """SIGTERM to `key -j 2` left its workers running (keying the queued images after the
    command had exited, holding its stderr open) and `.part` files behind."""
    import signal

    folder, out = _big_folder(tmp_path), tmp_path / "out"
    cmd = [sys.executable, "-m", "lib_tkg", "key", str(folder), "-o", str(out), "-j", "2", "-q"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    workers = _wait_for(lambda: len(_children(proc.pid)) >= 2 and _children(proc.pid))
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 143
    assert "interrupted" in proc.stderr.read()
    _wait_for(lambda: not any(Path(f"/proc/{w}").exists() for w in workers), timeout=20)
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")] if out.exists() else True


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_a_killed_worker_fails_its_images_in_one_line_each(tmp_path):
    """A worker killed (the out-of-memory killer) gave a BrokenProcessPool traceback, left the
    rest of the batch unkeyed and unreported and `.part` files behind; later it failed every
    image not finished by then. Only the image it was keying fails now."""
    import signal

    folder, out = _big_folder(tmp_path), tmp_path / "out"
    cmd = [sys.executable, "-m", "lib_tkg", "key", str(folder), "-o", str(out), "-j", "2", "-q"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    # (the pool gives a worker its image before it starts the next: once both run, the first
    # holds one; killed before that, it has none to fail, and a new worker takes the image)
    spawned = _wait_for(lambda: len(found := _spawned_workers(proc.pid)) >= 2 and found)
    os.kill(min(spawned, key=_started), signal.SIGKILL)
    assert proc.wait(timeout=120) == 1
    err = proc.stderr.read()
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if "a worker process stopped" in line]
    done = (
        sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) if out.exists() else []
    )
    assert len(lines) == 1 and len(done) == 3, (err, done)
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")] if out.exists() else True


def _place_setup(tmp_path: Path) -> tuple[list[Path], list[Path]]:
    """Two earlier outputs (old bytes) and two finished temporary files (new bytes)."""
    targets = [tmp_path / "a-rgba.png", tmp_path / "a-matte.png"]
    written = [tmp_path / ".a-rgba.png.1-x.part", tmp_path / ".a-matte.png.1-x.part"]
    for t, w in zip(targets, written, strict=True):
        t.write_bytes(b"old " + t.name.encode())
        w.write_bytes(b"new " + t.name.encode())
    return written, targets


def test_overwrite_interrupted_while_placing_puts_everything_back(tmp_path, monkeypatch):
    """Ctrl-C between the cut-out and the matte left the new cut-out, the matte moved aside
    to a hidden `.old` name, neither all nor none."""
    from lib_tkg import keyjobs, outputs

    written, targets = _place_setup(tmp_path)
    real = outputs.publish

    def publish(tmp, path):
        if Path(path).name == "a-matte.png" and Path(tmp).suffix == ".part":
            raise KeyboardInterrupt
        real(tmp, path)

    monkeypatch.setattr(outputs, "publish", publish)
    with pytest.raises(KeyboardInterrupt):
        keyjobs.place(written, targets, overwrite=True)
    assert [t.read_bytes() for t in targets] == [b"old a-rgba.png", b"old a-matte.png"]
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".old")]


def test_overwrite_that_fails_never_puts_an_old_file_over_another_runs_new_one(
    tmp_path, monkeypatch
):
    """Another run wrote the cut-out's name after this one moved the old cut-out aside: the
    old one was put back over it (os.replace); it now stays under its hidden name, said so."""
    from lib_tkg import keyjobs, outputs

    written, targets = _place_setup(tmp_path)
    real = outputs.publish

    def publish(tmp, path):
        if Path(tmp).suffix == ".part" and Path(path).name == "a-rgba.png":
            Path(path).write_bytes(b"the other run's")
            raise outputs.exists_error(path)
        real(tmp, path)

    monkeypatch.setattr(outputs, "publish", publish)
    with pytest.raises(OSError, match=r"another run wrote meanwhile: .*a-rgba\.png is kept as"):
        keyjobs.place(written, targets, overwrite=True)
    assert targets[0].read_bytes() == b"the other run's"
    (kept,) = [p for p in tmp_path.iterdir() if p.name.endswith(".old")]
    assert kept.read_bytes() == b"old a-rgba.png"
    assert targets[1].read_bytes() == b"old a-matte.png"


def test_recursive_scans_follow_linked_folders_once_and_skip_frames_folders(tmp_path, capsys):
    """`-r` skipped a linked subfolder silently (os.walk does not follow links), and keyed
    key-animation's frame outputs (`c-rgba-frames/00000.png`) again."""
    folder, other = tmp_path / "in", tmp_path / "other"
    (folder / "real").mkdir(parents=True)
    other.mkdir()
    make_image(folder / "a.png")
    make_image(folder / "real" / "r.png")
    make_image(other / "o.png")
    (folder / "linked").symlink_to(other, target_is_directory=True)
    (other / "loop").symlink_to(folder, target_is_directory=True)  # a link loop
    (folder / "c-rgba-frames").mkdir()
    make_image(folder / "c-rgba-frames" / "00000.png")
    out = tmp_path / "out"
    assert cli.main(["key", str(folder), "-r", "-o", str(out), "-q"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["a-rgba.png", "o-rgba.png", "r-rgba.png"]
    assert cli.main(["key", str(folder), "-r", "-o", str(tmp_path / "o2")]) == 0
    assert "skipped 1 file(s) and folder(s) named like outputs" in capsys.readouterr().err


def test_an_image_in_a_folder_that_cannot_be_entered_is_an_error(tmp_path, capsys, monkeypatch):
    """A folder that can be listed but not entered (no x permission; simulated, this may run
    as root): its images were counted as "not images" and skipped, exit 0."""
    folder = tmp_path / "in"
    (folder / "nx").mkdir(parents=True)
    make_image(folder / "a.png")
    make_image(folder / "nx" / "x.png")
    real_stat, real_isfile = os.stat, os.path.isfile

    def stat(path, *args, **kwargs):
        if "nx" in Path(os.fspath(path)).parts and Path(os.fspath(path)).name == "x.png":
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", stat)
    monkeypatch.setattr(os.path, "isfile", lambda p: "nx" not in Path(p).parts and real_isfile(p))
    out = tmp_path / "out"
    assert cli.main(["key", str(folder), "-r", "-o", str(out), "-q"]) == 1
    assert (
        f"{folder / 'nx' / 'x.png'}: cannot be read (Permission denied)" in capsys.readouterr().err
    )
    assert sorted(p.name for p in out.iterdir()) == ["a-rgba.png"]
