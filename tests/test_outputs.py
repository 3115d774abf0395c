"""Tests for the output-naming rule (lib_tkg.outputs)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lib_tkg import outputs


@pytest.mark.parametrize(
    ("rgba", "matte", "message"),
    [
        ("-rgba", "-rgba", "collide"),
        ("-RGBA", "-rgba", "collide"),
        ("-cut", "_x-cut", "collide"),  # one ends with the other: "a_x-cut" is both
        ("", "-matte", "must not be empty"),
        ("  ", "-matte", "must not be empty"),
        ("-rgba", "..", "must hold a letter"),
        ("5", "-matte", "must hold a letter"),  # 00131-11.png's cut-out: 00131-115.png
        ("-rgba", "-1", "must hold a letter"),  # the number a taken name gets
        ("sub/-rgba", "-matte", "'/'"),
        ("-rgba", "..\\-matte", "'\\\\'"),
        ("-rgba", "-m:atte", "':'"),
        ("-" + "x" * 60, "-matte", "too long"),
    ],
)
def test_colliding_or_unusable_suffixes_are_rejected(rgba, matte, message):
    with pytest.raises(outputs.SuffixError, match="suffix") as exc:
        outputs.check_suffixes(rgba, matte)
    assert message in str(exc.value)


def test_good_suffixes_pass_stripped():
    assert outputs.check_suffixes(" -rgba ", "_matte") == ("-rgba", "_matte")


def test_output_stems_unique_and_never_an_input(tmp_path):
    inputs = [
        tmp_path / "x" / "a.png",
        tmp_path / "y" / "A.jpg",
        tmp_path / "z" / "a-2.png",
        tmp_path / "out" / "b.png",
        tmp_path / "out" / "b-rgba.png",
        tmp_path / "c.png",
    ]
    suffixes = ("-rgba", "-matte")
    stems = outputs.output_stems(inputs, tmp_path / "out", suffixes)
    names = [outputs.output_name(s, x).lower() for s in stems for x in suffixes]
    assert len(set(names)) == len(names)
    assert not {str(tmp_path / "out" / n) for n in names} & {str(p).lower() for p in inputs}
    assert stems[2] == "a-2" and stems[5] == "c"  # unique stems keep their name
    assert stems[0].startswith("a-") and stems[1].startswith("A-") and stems[0] != stems[1]
    assert stems[3].startswith("b-")  # b-rgba.png is an input: b's cut-out goes elsewhere
    # stable: the same inputs in another order get the same names
    again = outputs.output_stems(inputs[::-1], tmp_path / "out", suffixes)[::-1]
    assert again == stems


def test_is_output_name():
    assert outputs.is_output_name(Path("d/a-rgba.png"), ("-rgba", "-matte"))
    assert outputs.is_output_name(Path("d/a-MATTE.PNG"), ("-rgba", "-matte"))
    assert not outputs.is_output_name(Path("d/a-rgba.jpg"), ("-rgba",))
    assert not outputs.is_output_name(Path("d/rgba.png"), ("-rgba",))


def test_partial_name_is_hidden_beside_the_output(tmp_path):
    target = tmp_path / "sub" / "a-rgba.png"
    part = Path(outputs.partial_name(target))
    assert part.parent == target.parent
    assert part.name.startswith(".a-rgba.png.") and part.name.endswith(".part")
    assert part != target


def test_an_interruption_at_any_step_of_putting_outputs_in_place_leaves_none(tmp_path, monkeypatch):
    """Ctrl-C right after a temporary file was written, or right after one output got its
    name, left a hidden .part file or an output without its original (a re-trial)."""
    from PIL import Image

    from lib_tkg import keyjobs

    real_publish = outputs.publish
    for when in range(4):  # right after the 1st / 2nd publish, or the 1st / 2nd save
        published, saved = [], []

        def publish(tmp, path, when=when, published=published):
            real_publish(tmp, path)
            published.append(path)
            if when < 2 and len(published) == when + 1:
                raise KeyboardInterrupt

        def save(image, tmp, when=when, saved=saved, **png):
            image.save(tmp, format="PNG")
            saved.append(tmp)
            if when >= 2 and len(saved) == when - 1:
                raise KeyboardInterrupt

        monkeypatch.setattr(outputs, "publish", publish)
        monkeypatch.setattr(keyjobs, "_save_partial", save)
        folder = tmp_path / str(when)
        folder.mkdir()
        files = [(Image.new("RGB", (4, 4)), folder / f"{i}.png", {}) for i in range(2)]
        with pytest.raises(KeyboardInterrupt):
            keyjobs.save_outputs(files, overwrite=False)
        assert os.listdir(folder) == [], when


def test_an_output_folder_made_then_interrupted_is_removed(tmp_path, monkeypatch):
    import tempfile

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(tempfile, "NamedTemporaryFile", interrupted)
    with pytest.raises(KeyboardInterrupt):
        outputs.make_output_folder(tmp_path / "new" / "out")
    assert os.listdir(tmp_path) == []


def _zlib_speed_class(png: bytes) -> int:
    """The FLEVEL bits of the first IDAT's zlib header: 0 for zlib levels 0-1, 1 for 2-5, 2 for
    6 (Pillow's default), 3 for 7-9."""
    at = png.index(b"IDAT") + 4
    return png[at + 1] >> 6


def test_cut_outs_are_written_at_zlib_level_4_from_the_cli_the_api_and_animations(tmp_path):
    import base64
    import io
    import json

    import numpy as np
    import PIL
    from PIL import Image

    from lib_tkg import cli
    from lib_tkg.key_service import handle_key

    img = np.zeros((64, 64, 3), np.uint8)
    img[:] = (40, 190, 60)
    img[16:48, 16:48] = (220, 30, 30)
    Image.fromarray(img).save(tmp_path / "pic.png")
    assert cli.main(["key", str(tmp_path / "pic.png"), "-o", str(tmp_path / "out"), "--mask"]) == 0
    for name in ("pic-rgba.png", "pic-matte.png"):
        assert _zlib_speed_class((tmp_path / "out" / name).read_bytes()) == 1, name
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG")
    body = {"image": base64.b64encode(buf.getvalue()).decode(), "matte": True}
    status, answer = handle_key(json.dumps(body).encode(), 10**6)
    assert status == 200, answer
    for item in ("image", "matte"):
        assert _zlib_speed_class(base64.b64decode(answer[item])) == 1, item
    from lib_tkg.animation_files import write_animation

    frames = [np.dstack([img, np.full((64, 64), a, np.uint8)]) for a in (255, 128)]
    written = write_animation(frames, str(tmp_path / "anim"), ["apng", "png"])
    # (Pillow applies the level to APNG frames from 12.1 on, python-pillow/Pillow#9300)
    if tuple(int(p) for p in PIL.__version__.split(".")[:2]) >= (12, 1):
        assert _zlib_speed_class(Path(written["apng"]).read_bytes()) == 1
    assert _zlib_speed_class((Path(written["png"]) / "00001.png").read_bytes()) == 1
    assert outputs.png_compress_level(4000, 4000) == 4
    assert outputs.png_compress_level(4001, 4000) == 1
