#!/usr/bin/python3
# Reference renderer for the chat-template differential test: renders each case with Jinja2 the
# way HF transformers' apply_chat_template does (ImmutableSandboxedEnvironment, trim_blocks,
# lstrip_blocks, loopcontrols, HF's tojson, raise_exception, strftime_now). Reads JSONL cases
# {template, messages, add_generation_prompt, bos_token, eos_token, tools, extra} from argv[1]
# and writes one JSON line per case: {"ok": true, "text": ...} or {"ok": false, "error": ...}.
import json
import sys
from datetime import datetime

import jinja2
import jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def strftime_now(fmt):
    return datetime.now().strftime(fmt)


def environment():
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


def main():
    env = environment()
    compiled = {}
    out = sys.stdout
    with open(sys.argv[1], encoding="utf-8") as f:
        for line in f:
            case = json.loads(line)
            try:
                src = case["template"]
                if src not in compiled:
                    compiled[src] = env.from_string(src)
                variables = dict(case.get("extra") or {})
                variables.update(
                    messages=case["messages"],
                    tools=case.get("tools"),
                    documents=case.get("documents"),
                    add_generation_prompt=case.get("add_generation_prompt", False),
                    bos_token=case.get("bos_token", ""),
                    eos_token=case.get("eos_token", ""),
                )
                result = {"ok": True, "text": compiled[src].render(**variables)}
            except Exception as e:  # every failure is compared as "an error" only
                result = {"ok": False, "error": type(e).__name__ + ": " + str(e)}
            out.write(json.dumps(result, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
