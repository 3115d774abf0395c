// TKG chroma background: hover tooltips, an "active" marker on the accordion and the live
// subject-mask preview. The WebUI loads every javascript/*.js of an extension; onUiUpdate is its
// hook (script.js). TkgMask is also loaded by node in tests/test_preview_js.py.

// The subject mask, as lib_tkg.noise computes it (the formula is documented once, in the
// docstring of lib_tkg/layout.py; tests/test_preview_js.py checks the two agree).
var TkgMask = (function () {
    "use strict";

    var MAX_SUBJECTS = 8;
    var PARTS = [
        ["x", -1, 1], ["y", -1, 1], ["sigma", 0.05, 4], ["aspect", 0.05, 5], ["angle", -360, 360]
    ];

    // "x y sigma[ aspect[ angle]]; ..." -> {ellipses: [...]} or {error: "subject N ..."}
    function parseLayout(text) {
        var trimmed = String(text || "").trim();
        if (["", "none", "default"].indexOf(trimmed.toLowerCase()) >= 0) return {ellipses: []};
        var chunks = trimmed.split(/[;\n]/).map(function (c) { return c.trim(); });
        if (chunks.length && !chunks[chunks.length - 1]) chunks.pop();
        if (chunks.length > MAX_SUBJECTS) {
            return {error: "at most " + MAX_SUBJECTS + " subjects, got " + chunks.length};
        }
        var ellipses = [];
        for (var i = 0; i < chunks.length; i++) {
            var words = chunks[i] ? chunks[i].split(/\s+/) : [];
            if (words.length < 3 || words.length > 5) {
                return {error: "subject " + (i + 1) + " needs 3 to 5 numbers"};
            }
            var e = {aspect: 1, angle: 0};
            for (var j = 0; j < words.length; j++) {
                var name = PARTS[j][0], v = Number(words[j]);
                var ok = isFinite(v) && (name === "aspect" ? v === 0 || (v >= 0.05 && v <= 5)
                    : v >= PARTS[j][1] && v <= PARTS[j][2]);
                if (!ok) return {error: "subject " + (i + 1) + " '" + name + "' is out of range"};
                e[name] = v;
            }
            ellipses.push(e);
        }
        return {ellipses: ellipses};
    }

    function axis(n) {  // n coordinates evenly over [-1, 1]
        var out = new Float64Array(n);
        for (var i = 0; i < n; i++) out[i] = (i * 2 - (n - 1)) / Math.max(n - 1, 1);
        return out;
    }

    // maximum of the ellipses' Gaussians on a w x h grid, row-major Float64Array
    function ellipseMask(w, h, ellipses) {
        var out = new Float64Array(w * h), xs = axis(w), ys = axis(h), ratio = w / h;
        ellipses.forEach(function (e) {
            var aspect = e.aspect || ratio, t = e.angle * Math.PI / 180;
            var c = Math.cos(t), s = Math.sin(t);
            var m00 = c * Math.sqrt(ratio / aspect), m01 = s / Math.sqrt(ratio * aspect);
            var m10 = -s * Math.sqrt(ratio * aspect), m11 = c * Math.sqrt(aspect / ratio);
            var k = 2 * e.sigma * e.sigma;
            for (var y = 0; y < h; y++) {
                var dy = ys[y] - e.y;
                for (var x = 0; x < w; x++) {
                    var dx = xs[x] - e.x, u = m00 * dx + m01 * dy, v = m10 * dx + m11 * dy;
                    var g = Math.exp(-(u * u + v * v) / k);
                    if (g > out[y * w + x]) out[y * w + x] = g;
                }
            }
        });
        return out;
    }

    // exact squared Euclidean distance transform of one line (Felzenszwalb and Huttenlocher)
    function edt1(f, n) {
        var d = new Float64Array(n), v = new Int32Array(n), z = new Float64Array(n + 1), k = 0;
        v[0] = 0; z[0] = -Infinity; z[1] = Infinity;
        for (var q = 1; q < n; q++) {
            if (f[q] === Infinity) continue;
            if (f[v[k]] === Infinity) { v[k] = q; continue; }
            var s;
            while ((s = ((f[q] + q * q) - (f[v[k]] + v[k] * v[k])) / (2 * q - 2 * v[k])) <= z[k]) k--;
            k++; v[k] = q; z[k] = s; z[k + 1] = Infinity;
        }
        k = 0;
        for (var p = 0; p < n; p++) {
            while (z[k + 1] < p) k++;
            d[p] = f[v[k]] === Infinity ? Infinity : (p - v[k]) * (p - v[k]) + f[v[k]];
        }
        return d;
    }

    // grey (w x h, values 0..1, white = subject) feathered by sigma: max(g, exp(-d^2/(2 s^2)))
    function shapeMask(grey, w, h, sigma) {
        var sq = new Float64Array(w * h), out = new Float64Array(w * h), x, y, any = false;
        for (var i = 0; i < w * h; i++) {
            sq[i] = grey[i] >= 0.5 ? 0 : Infinity;
            any = any || grey[i] >= 0.5;
        }
        if (!any) return Float64Array.from(grey);
        var col = new Float64Array(h), row = new Float64Array(w);
        for (x = 0; x < w; x++) {
            for (y = 0; y < h; y++) col[y] = sq[y * w + x];
            var dc = edt1(col, h);
            for (y = 0; y < h; y++) sq[y * w + x] = dc[y];
        }
        var unit = 2 / Math.sqrt(w * h);
        for (y = 0; y < h; y++) {
            for (x = 0; x < w; x++) row[x] = sq[y * w + x];
            var dr = edt1(row, w);
            for (x = 0; x < w; x++) {
                var d2 = dr[x] * unit * unit;
                out[y * w + x] = Math.max(grey[y * w + x], Math.exp(-d2 / (2 * sigma * sigma)));
            }
        }
        return out;
    }

    // the whole mask: layout (or the single subject) and the image, combined by maximum; an
    // image with an empty layout is the mask alone
    function subjectMask(w, h, o) {
        var ellipses = o.ellipses.length ? o.ellipses
            : [{x: o.cx, y: o.cy, sigma: o.sigma, aspect: o.aspect, angle: 0}];
        if (!o.grey) return ellipseMask(w, h, ellipses);
        var shape = shapeMask(o.grey, w, h, o.sigma);
        if (!o.ellipses.length) return shape;
        var gauss = ellipseMask(w, h, ellipses);
        for (var i = 0; i < shape.length; i++) shape[i] = Math.max(shape[i], gauss[i]);
        return shape;
    }

    return {
        parseLayout: parseLayout,
        ellipseMask: ellipseMask,
        shapeMask: shapeMask,
        subjectMask: subjectMask
    };
})();

if (typeof module === "object" && module.exports) module.exports = TkgMask;

(function () {
    "use strict";

    if (typeof onUiUpdate !== "function") return;  // not in a WebUI (node)

    var SCRIPT_ID = "tkg_chroma_background";  // Script.elem_id: script_<tab>_<title>_<name>
    var TITLES = {
        enabled: "Generate the subject on a flat, keyable colour (TKG-DM: shifts the initial noise outside a centred Gaussian mask) and add a transparent PNG cut-out of every image",
        color: "Background colour to generate and key out; 'custom' uses the colour picker",
        custom_color: "Background colour used when 'Background colour' is 'custom'",
        strength: "How far the noise is pushed towards the colour outside the subject mask. 0 = Auto: the paper's value for the loaded model family (SD1, SD2, SDXL, SD3, Flux). Higher gives a flatter background but can wash out the subject",
        sigma: "Width of the Gaussian subject mask (image spans -1..1). Larger keeps more of the image as normal noise, i.e. a bigger subject area",
        center_x: "Horizontal centre of the subject mask: -1 left edge, 0 centre, 1 right edge",
        center_y: "Vertical centre of the subject mask: -1 top edge, 0 centre, 1 bottom edge",
        make_rgba: "Key the generated image and add the transparent PNG (RGBA) next to the original in the gallery and the output folder",
        save_matte: "Also add and save the matte (the alpha channel as a greyscale image)",
        despill: "How much of the background colour's spill (colour cast on edges and hair) to remove: 0 none, 1 full",
        tolerance: "How close to the background colour a pixel must be to become fully transparent; raise it if background remains, lower it if the subject gets holes",
        layout: "Several subjects, one ellipse each: 'x y sigma [aspect [angle]]', separated by ';' (up to 8; x, y in -1..1, x right, y down; aspect = width/height, 0.05-5; angle in degrees clockwise). Examples: '-0.5 0 0.3; 0.5 0 0.3' two side by side; '0 0.1 0.35 0.4' a tall character; '0 0 0.4 2.5' a wide car; '-0.5 -0.5 0.2; 0.5 -0.5 0.2; -0.5 0.5 0.2; 0.5 0.5 0.2' a 2x2 sprite sheet; '0 0 0.4 3 30' tilted. Empty: the single subject of the sliders above",
        mask_image: "Optional free-form subject mask: a greyscale image, white = subject (a transparent PNG's alpha counts too), e.g. a ControlNet input's silhouette. Resized to the latent grid and feathered by the mask sigma; combined with the layout by the maximum (without a layout it replaces the single subject). Not stored in the infotext",
        keep_shadow: "Keep soft shadows cast on the background as a translucent black layer in the cut-out (product shots); off: shadows are keyed out",
        aspect: "Width / height of the single subject's ellipse (0.05-5); 0 = stretch with the canvas like the paper (the default: round on a square canvas, wide on a wide one). 1 = round on any canvas",
        extras: "Key the image: its flat colour background becomes transparent (an RGBA PNG, saved under a new name; the original stays)",
        key_color: "Screen colour to key out. auto: found on the image border (an image whose border is no screen passes through unchanged, with a note); a preset or custom: the screen's own shade of that hue, measured on the border (the colour itself if the border shows none)",
        custom_key_color: "The screen colour when 'Key colour' is custom: its hue picks the screen, whose own shade is measured on the border",
        extras_matte: "Also output the matte (the alpha channel as a greyscale image, tagged matte)"
    };
    var LABEL_TITLES = {
        "TKG chroma background": TITLES.enabled,
        "Background colour": TITLES.color,
        "Custom colour": TITLES.custom_color,
        "Shift strength (0 = Auto)": TITLES.strength,
        "Mask sigma": TITLES.sigma,
        "Subject centre X": TITLES.center_x,
        "Subject centre Y": TITLES.center_y,
        "Make RGBA cut-out": TITLES.make_rgba,
        "Also save the matte": TITLES.save_matte,
        "Despill strength": TITLES.despill,
        "Key tolerance": TITLES.tolerance,
        "Subject layout": TITLES.layout,
        "Subject mask image": TITLES.mask_image,
        "Keep soft shadows": TITLES.keep_shadow,
        "Subject aspect": TITLES.aspect,
        "TKG chroma key": TITLES.extras,
        "Key colour": TITLES.key_color,
        "Custom key colour": TITLES.custom_key_color,
        "Also output the matte": TITLES.extras_matte
    };

    // hints.js shows titles[label text] on hover; add ours to its map where it exists.
    if (typeof titles === "object" && titles !== null) {
        for (var label in LABEL_TITLES) {
            if (!(label in titles)) titles[label] = LABEL_TITLES[label];
        }
    }

    function elem(tab, name) {
        return gradioApp().getElementById("script_" + tab + "_" + SCRIPT_ID + "_" + name);
    }

    function applyTitles(tab) {
        for (var name in TITLES) {
            var el = elem(tab, name);
            if (!el || el.dataset.tkgTitled) continue;
            // the accordion: title its header only, not everything inside it
            if (name === "enabled") el = el.querySelector(".label-wrap") || el;
            el.title = TITLES[name];
            var parts = el.querySelectorAll("label, span, input, select, textarea");
            for (var i = 0; i < parts.length; i++) {
                if (!parts[i].title) parts[i].title = TITLES[name];
            }
            elem(tab, name).dataset.tkgTitled = "1";
        }
    }

    function syncActive(tab) {
        var accordion = elem(tab, "enabled");
        if (!accordion) return;
        var checkbox = gradioApp().querySelector("#" + accordion.id + "-checkbox input");
        if (!checkbox) return;
        var update = function () {
            accordion.classList.toggle("tkg-chroma-active", checkbox.checked);
        };
        // flag the checkbox, not the accordion: if gradio re-renders it, the new one is hooked too
        if (!checkbox.dataset.tkgActiveHooked) {
            checkbox.addEventListener("input", update);
            checkbox.addEventListener("change", update);
            checkbox.dataset.tkgActiveHooked = "1";
        }
        update();
    }

    // ---- live mask preview: drawn on the preview grid from the controls' current values

    var drawn = {};  // tab -> signature of the inputs last drawn

    function value(el, selector) {
        var input = el && el.querySelector(selector);
        return input ? input.value : null;
    }

    function number(el, fallback) {
        var v = parseFloat(value(el, "input[type=number]"));
        return isFinite(v) ? v : fallback;
    }

    function maskGrey(img, w, h) {
        if (!img || !img.complete || !img.naturalWidth) return null;
        var c = document.createElement("canvas");
        c.width = w; c.height = h;
        var ctx = c.getContext("2d");
        ctx.imageSmoothingQuality = "high";
        ctx.drawImage(img, 0, 0, w, h);
        var px = ctx.getImageData(0, 0, w, h).data, grey = new Float64Array(w * h);
        for (var i = 0; i < w * h; i++) {  // luminance as PIL's "L", times alpha
            var lum = (px[4 * i] * 299 + px[4 * i + 1] * 587 + px[4 * i + 2] * 114) / 1000;
            grey[i] = lum * px[4 * i + 3] / 255 / 255;
        }
        return grey;
    }

    function hexRgb(hex) {
        var m = /^#?([0-9a-f]{6})$/i.exec(hex || "");
        var n = m ? parseInt(m[1], 16) : 0x00ff00;
        return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
    }

    function drawPreview(tab) {
        var holder = elem(tab, "mask_preview");
        var box = holder && holder.querySelector(".tkg-mask-preview");
        if (!box) return;
        var app = gradioApp();
        var width = number(app.getElementById(tab + "_width"), 512);
        var height = number(app.getElementById(tab + "_height"), 512);
        var gridMax = parseInt(box.dataset.gridMax, 10) || 96;
        var scale = Math.min(1, gridMax / Math.max(width / 8, height / 8));
        var w = Math.max(1, Math.round(width / 8 * scale));
        var h = Math.max(1, Math.round(height / 8 * scale));
        var layoutBox = elem(tab, "layout");
        var text = value(layoutBox, "textarea") || value(layoutBox, "input") || "";
        var img = (elem(tab, "mask_image") || box).querySelector("img");
        var colorName = (value(elem(tab, "color"), "input") || "green").trim().toLowerCase();
        var custom = value(elem(tab, "custom_color"), "input[type=color]");
        var o = {
            sigma: number(elem(tab, "sigma"), 0.5),
            cx: number(elem(tab, "center_x"), 0),
            cy: number(elem(tab, "center_y"), 0),
            aspect: number(elem(tab, "aspect"), 0)
        };
        var signature = [w, h, text, o.sigma, o.cx, o.cy, o.aspect, colorName, custom,
            img && img.complete ? img.src.length + img.src.slice(-64) : ""].join("|");
        if (drawn[tab] === signature) return;
        drawn[tab] = signature;

        var parsed = TkgMask.parseLayout(text);
        o.ellipses = parsed.ellipses || [];
        o.grey = maskGrey(img, w, h);
        var mask = TkgMask.subjectMask(w, h, o);
        var presets = JSON.parse(box.dataset.presets || "{}");
        var key = hexRgb(colorName === "custom" ? custom : presets[colorName] || colorName);
        var canvas = box.querySelector("canvas");
        canvas.width = w; canvas.height = h;
        var ctx = canvas.getContext("2d"), image = ctx.createImageData(w, h);
        for (var i = 0; i < w * h; i++) {  // subject light grey, background the key colour
            for (var c = 0; c < 3; c++) {
                image.data[4 * i + c] = Math.round(mask[i] * 225 + (1 - mask[i]) * key[c]);
            }
            image.data[4 * i + 3] = 255;
        }
        ctx.putImageData(image, 0, 0);
        var n = o.ellipses.length;
        var what = parsed.error ? "layout: " + parsed.error + " (preview shows the rest)"
            : n ? n + " subject" + (n > 1 ? "s" : "") + " from the layout"
            : o.grey ? "" : "single subject";
        if (o.grey) what += (what ? " + " : "") + "mask image";
        box.querySelector(".tkg-mask-preview-caption").textContent =
            "mask preview, " + Math.round(width) + "x" + Math.round(height) + ": " + what;
    }

    function drawAll() {
        ["txt2img", "img2img"].forEach(drawPreview);
    }

    var hooked = false;
    var pending = false;
    function schedule() {
        if (pending) return;
        pending = true;
        requestAnimationFrame(function () { pending = false; drawAll(); });
    }

    onUiUpdate(function () {
        ["txt2img", "img2img"].forEach(function (tab) {
            applyTitles(tab);
            syncActive(tab);
        });
        if (!hooked && elem("txt2img", "mask_preview")) {
            hooked = true;
            // typing, sliders, uploads: redraw at once; pasted values set no event: a cheap
            // check of the inputs' signature every 0.5 s catches those
            gradioApp().addEventListener("input", schedule, true);
            gradioApp().addEventListener("change", schedule, true);
            setInterval(drawAll, 500);
        }
        schedule();
    });
})();
