"""Render chat conversations with a Hugging Face chat template.

Helper of make_vectors.mjs (the JavaScript Jinja engine in
@lenml/tokenizers cannot parse the Qwen3 template). Reads JSON from stdin:
{"template": "...", "conversations": [{"messages": [...],
"add_generation_prompt": true, "enable_thinking": false}, ...]} and writes a
JSON array of rendered strings. The Jinja environment is set up as
transformers' apply_chat_template sets it up (trim_blocks, lstrip_blocks,
sandboxed, tojson, raise_exception). Needs Jinja2 (3.1.6 was used).
"""
import json
import sys

from jinja2.exceptions import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment


def raise_exception(message):
    raise TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def main():
    req = json.load(sys.stdin)
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    tmpl = env.from_string(req["template"])
    out = []
    for conv in req["conversations"]:
        kwargs = {"messages": conv["messages"], "add_generation_prompt": conv.get("add_generation_prompt", True)}
        if "enable_thinking" in conv:
            kwargs["enable_thinking"] = conv["enable_thinking"]
        out.append(tmpl.render(**kwargs))
    json.dump(out, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
