// TKG chroma background: hover tooltips and an "active" marker on the accordion.
// The WebUI loads every javascript/*.js of an extension; onUiUpdate is its hook (script.js).
(function () {
    "use strict";

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
        keep_shadow: "Keep soft shadows cast on the background as a translucent black layer in the cut-out (product shots); off: shadows are keyed out"
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
        "Keep soft shadows": TITLES.keep_shadow
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

    onUiUpdate(function () {
        ["txt2img", "img2img"].forEach(function (tab) {
            applyTitles(tab);
            syncActive(tab);
        });
    });
})();
