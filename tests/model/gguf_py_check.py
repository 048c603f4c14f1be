"""Checks nativelm's GGUF exports with gguf-py, llama.cpp's own Python package (taken from the
llama.cpp source that node-llama-cpp bundles), run by gguf_peer_test.cc:
    python3 gguf_py_check.py GGUF_PY_DIR F32_FILE OTHER_FILE...
Each file must parse with gguf.GGUFReader. Every tensor of each OTHER_FILE must hold exactly the
bytes gguf-py's quantizer makes from the same tensor of F32_FILE (gguf.quants.quantize for Q8_0,
Q4_0 and BF16, numpy's float16 for F16, the same bytes for F32). Prints one JSON object:
{"files": {path: tensor count}, "mismatches": ["file tensor type", ...], "checked": N}."""
import json
import sys

import numpy as np

sys.path.insert(0, sys.argv[1])
import gguf  # noqa: E402

f32_path, others = sys.argv[2], sys.argv[3:]
reference = {t.name: t for t in gguf.GGUFReader(f32_path).tensors}
out = {"files": {f32_path: len(reference)}, "mismatches": [], "checked": 0}
Q = gguf.GGMLQuantizationType
for path in others:
    reader = gguf.GGUFReader(path)
    out["files"][path] = len(reader.tensors)
    for t in reader.tensors:
        src = np.asarray(reference[t.name].data, dtype=np.float32)
        if t.tensor_type == Q.F32:
            want = src
        elif t.tensor_type == Q.F16:
            want = src.astype(np.float16)
        else:
            want = gguf.quants.quantize(src, t.tensor_type)
        got = np.asarray(t.data)
        same = want.tobytes() == got.tobytes()
        out["checked"] += 1
        if not same:
            out["mismatches"].append(f"{path} {t.name} {t.tensor_type.name}")
print(json.dumps(out))
