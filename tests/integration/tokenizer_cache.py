"""Build an offline Hugging Face cache holding the ``openai/clip-vit-large-patch14``
tokenizer (and its config), so AUTOMATIC1111 can build its SD1.x text encoder without
network access.

``vocab.json`` and ``merges.txt`` are derived from ``bpe_simple_vocab_16e6.txt.gz``, the
BPE file that ships inside the ``open_clip_torch`` package (``open_clip/``) and inside
openai's ``clip`` package, exactly the way CLIP's ``SimpleTokenizer`` builds its
vocabulary. ``tokenizer_config.json``, ``special_tokens_map.json`` and a ViT-L/14
``config.json`` are written from the published values.

Use the result with::

    HF_HOME=<dir> HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1

Standard library only. Run it with any Python; it looks for the BPE file in the packages
of the Python given by ``--python`` (default: this one), or take ``--bpe PATH``::

    python tokenizer_cache.py HF_HOME_DIR [--python /path/to/venv/bin/python]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys

REPO_ID = "openai/clip-vit-large-patch14"
# Any 40-hex revision works offline; a fixed one keeps the snapshot path stable.
REVISION = "32bd64288804d66eefd0ccbe215aa642df71cc41"
BPE_NAME = "bpe_simple_vocab_16e6.txt.gz"

FIND_BPE = r"""
import importlib.util, os, sys
for mod in ("open_clip", "clip"):
    try:
        spec = importlib.util.find_spec(mod)
    except Exception:
        spec = None
    if spec and spec.submodule_search_locations:
        for d in spec.submodule_search_locations:
            p = os.path.join(d, "bpe_simple_vocab_16e6.txt.gz")
            if os.path.isfile(p):
                print(p)
                sys.exit(0)
sys.exit(1)
"""


def find_bpe(python: str | None = None) -> str:
    """Path of the BPE file inside open_clip (or clip) installed for ``python``."""
    r = subprocess.run(
        [python or sys.executable, "-c", FIND_BPE],
        capture_output=True,
        text=True,
        check=False,
    )
    path = r.stdout.strip()
    if r.returncode != 0 or not os.path.isfile(path):
        raise FileNotFoundError(
            f"{BPE_NAME} not found in open_clip or clip for {python or sys.executable}"
        )
    return path


def bytes_to_unicode() -> dict[int, str]:
    """CLIP's / GPT-2's reversible byte -> unicode table."""
    bs = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    cs = bs[:]
    n = 0
    for b in range(2**8):
        if b not in bs:
            bs.append(b)
            cs.append(2**8 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs], strict=True))


def vocab_and_merges(bpe_path: str) -> tuple[dict[str, int], list[str]]:
    """Same construction as CLIP's SimpleTokenizer (49408 tokens, 48894 merges)."""
    with gzip.open(bpe_path, "rt", encoding="utf-8") as f:
        lines = f.read().split("\n")
    merges = lines[1 : 49152 - 256 - 2 + 1]
    vocab = list(bytes_to_unicode().values())
    vocab = vocab + [v + "</w>" for v in vocab]
    for m in merges:
        vocab.append("".join(m.split()))
    vocab.extend(["<|startoftext|>", "<|endoftext|>"])
    return {tok: i for i, tok in enumerate(vocab)}, merges


def _added(content: str) -> dict:
    return {
        "__type": "AddedToken",
        "content": content,
        "lstrip": False,
        "normalized": True,
        "rstrip": False,
        "single_word": False,
    }


TOKENIZER_CONFIG = {
    "add_prefix_space": False,
    "bos_token": _added("<|startoftext|>"),
    "do_lower_case": True,
    "eos_token": _added("<|endoftext|>"),
    "errors": "replace",
    "model_max_length": 77,
    "name_or_path": REPO_ID,
    "pad_token": "<|endoftext|>",
    "processor_class": "CLIPProcessor",
    "tokenizer_class": "CLIPTokenizer",
    "unk_token": _added("<|endoftext|>"),
}

SPECIAL_TOKENS_MAP = {
    "bos_token": {
        "content": "<|startoftext|>",
        "lstrip": False,
        "normalized": True,
        "rstrip": False,
        "single_word": False,
    },
    "eos_token": {
        "content": "<|endoftext|>",
        "lstrip": False,
        "normalized": True,
        "rstrip": False,
        "single_word": False,
    },
    "pad_token": "<|endoftext|>",
    "unk_token": {
        "content": "<|endoftext|>",
        "lstrip": False,
        "normalized": True,
        "rstrip": False,
        "single_word": False,
    },
}

TEXT_CONFIG = {
    "attention_dropout": 0.0,
    "bos_token_id": 0,
    "dropout": 0.0,
    "eos_token_id": 2,
    "hidden_act": "quick_gelu",
    "hidden_size": 768,
    "initializer_factor": 1.0,
    "initializer_range": 0.02,
    "intermediate_size": 3072,
    "layer_norm_eps": 1e-05,
    "max_position_embeddings": 77,
    "model_type": "clip_text_model",
    "num_attention_heads": 12,
    "num_hidden_layers": 12,
    "pad_token_id": 1,
    "projection_dim": 768,
    "vocab_size": 49408,
}

VISION_CONFIG = {
    "attention_dropout": 0.0,
    "dropout": 0.0,
    "hidden_act": "quick_gelu",
    "hidden_size": 1024,
    "image_size": 224,
    "initializer_factor": 1.0,
    "initializer_range": 0.02,
    "intermediate_size": 4096,
    "layer_norm_eps": 1e-05,
    "model_type": "clip_vision_model",
    "num_attention_heads": 16,
    "num_channels": 3,
    "num_hidden_layers": 24,
    "patch_size": 14,
    "projection_dim": 768,
}

MODEL_CONFIG = {
    "_name_or_path": REPO_ID,
    "architectures": ["CLIPModel"],
    "initializer_factor": 1.0,
    "logit_scale_init_value": 2.6592,
    "model_type": "clip",
    "projection_dim": 768,
    "text_config": TEXT_CONFIG,
    "torch_dtype": "float32",
    "vision_config": VISION_CONFIG,
}


def build(hf_home: str, bpe_path: str) -> str:
    """Write the cache under ``hf_home``; return the snapshot directory."""
    repo_dir = os.path.join(hf_home, "hub", "models--" + REPO_ID.replace("/", "--"))
    snap = os.path.join(repo_dir, "snapshots", REVISION)
    os.makedirs(snap, exist_ok=True)
    os.makedirs(os.path.join(repo_dir, "refs"), exist_ok=True)
    vocab, merges = vocab_and_merges(bpe_path)
    files = {
        "vocab.json": json.dumps(vocab, ensure_ascii=False),
        "merges.txt": "#version: 0.2\n" + "\n".join(merges) + "\n",
        "tokenizer_config.json": json.dumps(TOKENIZER_CONFIG, indent=2),
        "special_tokens_map.json": json.dumps(SPECIAL_TOKENS_MAP, indent=2),
        "config.json": json.dumps(MODEL_CONFIG, indent=2),
    }
    for name, text in files.items():
        with open(os.path.join(snap, name), "w", encoding="utf-8") as f:
            f.write(text)
    with open(os.path.join(repo_dir, "refs", "main"), "w", encoding="utf-8") as f:
        f.write(REVISION)
    return snap


def offline_env(hf_home: str) -> dict[str, str]:
    return {
        "HF_HOME": hf_home,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("hf_home", help="directory to use as HF_HOME")
    ap.add_argument("--bpe", help=f"path of {BPE_NAME} (default: from open_clip)")
    ap.add_argument("--python", help="Python whose open_clip/clip provides the BPE file")
    a = ap.parse_args(argv)
    bpe = a.bpe or find_bpe(a.python)
    snap = build(os.path.abspath(a.hf_home), bpe)
    print(f"wrote {snap} (from {bpe})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
