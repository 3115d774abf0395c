"""Tests for the output-naming rule (lib_tkg.outputs)."""

from __future__ import annotations

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
        ("-rgba", "..", "must hold more than dots and spaces"),
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
