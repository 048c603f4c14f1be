#!/usr/bin/env python3
# Checks structured-output answers with Python's jsonschema (a validator written apart from
# nativelm's), formats included. Reads JSON lines {"schema": ..., "value": ...}; prints each
# failure and exits 1 if there was one, 77 when jsonschema is not installed. OpenAPI's
# `nullable: true` (which JSON Schema does not know) becomes anyOf [schema, null] first.
import json
import sys

try:
    from jsonschema import Draft202012Validator
except ImportError:
    sys.exit(77)


def openapi_nullable(s):
    if isinstance(s, list):
        return [openapi_nullable(x) for x in s]
    if not isinstance(s, dict):
        return s
    s = {k: openapi_nullable(v) for k, v in s.items()}
    if s.pop("nullable", False) is True:
        defs = {k: s.pop(k) for k in ("$defs", "definitions") if k in s}
        return {**defs, "anyOf": [s, {"type": "null"}]}
    return s


failures = 0
count = 0
for line in open(sys.argv[1], encoding="utf-8"):
    case = json.loads(line)
    schema = openapi_nullable(case["schema"])
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    count += 1
    for error in validator.iter_errors(case["value"]):
        failures += 1
        print(json.dumps(case["value"], ensure_ascii=False), "->", error.message)
print(f"{count} values checked, {failures} failures")
sys.exit(1 if failures else 0)
