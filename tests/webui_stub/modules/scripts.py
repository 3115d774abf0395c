"""modules/scripts.py of v1.10.1: Script hooks and signatures (lines 52-368), AlwaysVisible,
PostprocessImageArgs (line 32), scripts_data / ScriptClassData (lines 378-381), and the runner's
habit of catching and logging every exception a hook raises (ScriptRunner.process etc., 820-935).
"""

from __future__ import annotations

import re
from collections import namedtuple
from typing import Any

from modules import errors

AlwaysVisible = object()


class PostprocessImageArgs:
    def __init__(self, image: Any) -> None:
        self.image = image


class Script:
    name = None
    filename = None
    args_from = None
    args_to = None
    alwayson = False
    is_txt2img = False
    is_img2img = False
    tabname = None
    infotext_fields = None
    paste_field_names = None
    controls = None

    def title(self):
        raise NotImplementedError()

    def ui(self, is_img2img):
        pass

    def show(self, is_img2img):
        return True

    def setup(self, p, *args):
        pass

    def before_process(self, p, *args):
        pass

    def process(self, p, *args):
        pass

    def before_process_batch(self, p, *args, **kwargs):
        pass

    def process_before_every_sampling(self, p, *args, **kwargs):
        pass

    def process_batch(self, p, *args, **kwargs):
        pass

    def postprocess_batch(self, p, *args, **kwargs):
        pass

    def postprocess_image(self, p, pp: PostprocessImageArgs, *args):
        pass

    def postprocess_image_after_composite(self, p, pp: PostprocessImageArgs, *args):
        pass

    def postprocess(self, p, processed, *args):
        pass

    def elem_id(self, item_id):
        need_tabname = self.show(True) == self.show(False)
        tabkind = "img2img" if self.is_img2img else "txt2img"
        tabname = f"{tabkind}_" if need_tabname else ""
        title = re.sub(r"[^a-z_0-9]", "", re.sub(r"\s", "_", self.title().lower()))
        return f"script_{tabname}{title}_{item_id}"


ScriptClassData = namedtuple("ScriptClassData", ["script_class", "path", "basedir", "module"])
scripts_data: list[ScriptClassData] = []


class ScriptRunner:
    """Just enough of ScriptRunner: one UI per tab, args slices, hooks with swallowed errors."""

    def __init__(self, script_classes: list[type], *, is_img2img: bool = False) -> None:
        self.alwayson_scripts: list[Script] = []
        self.inputs: list[Any] = [None]
        self.infotext_fields: list[Any] = []
        self.paste_field_names: list[Any] = []
        for cls in script_classes:
            script = cls()
            script.is_img2img = is_img2img
            script.is_txt2img = not is_img2img
            script.tabname = "img2img" if is_img2img else "txt2img"
            if script.show(is_img2img) is AlwaysVisible:
                script.alwayson = True
                self.alwayson_scripts.append(script)

    def setup_ui(self) -> list[Any]:
        for script in self.alwayson_scripts:
            script.args_from = len(self.inputs)
            controls = script.ui(script.is_img2img)
            script.controls = controls
            script.name = script.title().lower()
            if script.infotext_fields is not None:
                self.infotext_fields += script.infotext_fields
            if script.paste_field_names is not None:
                self.paste_field_names += script.paste_field_names
            self.inputs += controls
            script.args_to = len(self.inputs)
        return self.inputs

    def default_args(self) -> list[Any]:
        return [None] + [c.value for c in self.inputs[1:]]

    def _run(self, method: str, p: Any, *extra: Any, **kwargs: Any) -> None:
        for script in self.alwayson_scripts:
            try:
                args = p.script_args[script.args_from : script.args_to]
                getattr(script, method)(p, *extra, *args, **kwargs)
            except Exception:
                errors.report(f"Error running {method}: {script.filename}", exc_info=True)

    def process(self, p):
        self._run("process", p)

    def before_process_batch(self, p, **kwargs):
        self._run("before_process_batch", p, **kwargs)

    def process_batch(self, p, **kwargs):
        self._run("process_batch", p, **kwargs)

    def postprocess_image(self, p, pp):
        self._run("postprocess_image", p, pp)

    def postprocess_image_after_composite(self, p, pp):
        self._run("postprocess_image_after_composite", p, pp)

    def postprocess(self, p, processed):
        self._run("postprocess", p, processed)
