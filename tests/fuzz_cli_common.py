"""Hypothesis strategies for hostile ``shopagent`` command lines (``search``, ``store
import``, ``keys``, ``eval``) and the files they name. Used by tests/test_fuzz_cli.py and
benchmarks/fuzz.py."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import yaml
from fuzz_common import deep_json, hostile_text
from fuzz_importer_common import RAW_MAPPINGS, csv_files, jsonl_files, mappings
from hypothesis import strategies as st

EXAMPLES = int(os.environ.get("SHOPAGENT_FUZZ_EXAMPLES", "60"))
REPO = Path(__file__).resolve().parents[1]
SECRET = "fuzz-cli-shopper-secret-0123456789abcdef"
_SQLITE_SIDECARS = ("-wal", "-shm", "-journal")
_KEY_RE = re.compile(r"sa_[0-9a-f]{8}_[A-Za-z0-9_-]{20,}")

# --------------------------------------------------------------------------- strategies

_option_like = st.sampled_from(
    ["--help", "-h", "--json", "--", "-", "-k", "--version", "--store-dir", "--x=1", "-mx"]
)
args = st.one_of(hostile_text, hostile_text, _option_like)
"""One hostile command-line argument (any string: argv bytes that are not UTF-8 arrive as
lone surrogates)."""
numbers = st.one_of(
    st.sampled_from(
        [
            "0",
            "-0",
            "-1",
            "1",
            "5",
            "100",
            "101",
            "nan",
            "NaN",
            "inf",
            "-inf",
            "1e309",
            "1e-400",
            "9" * 40,
            "0x10",
            "1_000",
            "١٢",
            "",
            " ",
            "3.5",
            "abc",
            "--json",
        ]
    ),
    st.integers(-(2**70), 2**70).map(str),
    st.floats().map(str),
    hostile_text,
)
"""Values for numeric options."""


def _pairs(*options: tuple[str, st.SearchStrategy[str]]) -> st.SearchStrategy[list[str]]:
    """Some of ``options`` (``--name``, value strategy), each given a value, in any order."""
    one = st.sampled_from(options).flatmap(lambda o: o[1].map(lambda v: [o[0], v]))
    return st.lists(one, max_size=4).map(lambda items: [a for item in items for a in item])


_names = st.one_of(
    st.sampled_from(["Kitchen", "kitchen", "Hearth", "red", "M", "steel", "Kitchn", ""]), args
)
search_argv = st.tuples(
    st.sampled_from(["kettle", "mug under $20", "red jacket not leather", ""]) | args,
    _pairs(
        ("--min-price", numbers),
        ("--max-price", numbers),
        ("--category", _names),
        ("--brand", _names),
        ("--color", _names),
        ("--size", _names),
        ("--material", _names),
        ("--exclude", _names),
        ("--sort", st.sampled_from(["relevance", "PRICE_ASC", "price_desc", "cheapest"]) | args),
        ("-k", numbers),
    ),
    st.lists(st.sampled_from(["--json", "--in-stock", "--json"]) | args, max_size=2),
).map(lambda t: ["search", t[0], *t[1], *t[2]])

key_names = st.one_of(st.sampled_from(["fuzz-shop", "Shop & Co", " ", ""]), args)
keys_argv = st.one_of(
    st.tuples(
        key_names,
        _pairs(("--rate-limit", numbers), ("--origin", args | st.just("https://shop.example"))),
    ).map(lambda t: ["keys", "create", t[0], *t[1]]),
    st.one_of(st.sampled_from(["@victim", "@victim-secret", "@victim-prefix"]), args).map(
        lambda k: ["keys", "revoke", k]
    ),
    st.just(["keys", "list"]),
    st.tuples(
        st.sampled_from(["ada@example.com", "ben@example.com"]) | args,
        _pairs(("--ttl", numbers)),
    ).map(lambda t: ["keys", "shopper-token", t[0], *t[1]]),
    st.lists(args, max_size=3).map(lambda a: ["keys", *a]),
)
"""``@victim``: the victim key's id; ``@victim-secret``: its full key; ``@victim-prefix``: the
first characters of its id."""

_dialog_fields = st.fixed_dictionaries(
    {},
    optional={
        "id": args | st.sampled_from(["fz-1", "fz-2"]),
        "turns": st.lists(
            st.fixed_dictionaries(
                {"user": args},
                optional={"expect": st.dictionaries(args, args, max_size=2), "customer": args},
            ),
            max_size=2,
        )
        | args,
        "fixtures": st.dictionaries(st.sampled_from(["customer", "now", "store"]) | args, args),
        "vars": st.dictionaries(args, args, max_size=2),
        "tags": st.lists(args, max_size=2),
    },
)
suite_files = st.one_of(
    st.fixed_dictionaries(
        {"dialogs": st.lists(_dialog_fields, max_size=3) | args},
        optional={"suite": args, "extra": args},
    ).map(lambda d: yaml.safe_dump(d, allow_unicode=True).encode("utf-8", "surrogatepass")),
    st.sampled_from(
        [
            b"",
            b"dialogs: []",
            b"dialogs: " + b"[" * 5_000,
            b"dialogs:\n  - id: x\n    turns: " + deep_json(3_000).encode(),
            b"- just a list",
            b"\xff\xfe\x00d\x00i\x00a",
            b"dialogs: [{id: a, turns: [{user: \xc0\xaf}]}]",
            RAW_MAPPINGS[-1].replace("columns: *i", "dialogs: *i").encode(),
            RAW_MAPPINGS[-1].replace("columns: *i", "dialogs: [{id: x, turns: *i}]").encode(),
            b"!!python/object/apply:os.system ['echo pwned']",
        ]
    ),
    st.binary(max_size=200),
)
eval_argv = st.one_of(
    st.tuples(
        st.lists(
            st.sampled_from(["@file", "@file", "@dir", "@emptydir", "orders", "nosuchsuite"])
            | args,
            max_size=3,
        ),
        _pairs(
            ("--dialog", args | st.sampled_from(["fz-*", "*", "["])),
            ("--repeat", numbers),
            ("--concurrency", numbers),
            ("--seed", numbers),
            ("--store-products", numbers),
            ("--model", args | st.sampled_from(["local", "echo", "hf:", "openai:", "adversary"])),
            ("--out", st.sampled_from(["@out", "@file", "/dev/null", "/proc/x"]) | args),
            ("--replay", args),
            ("--judge", args),
        ),
        st.lists(st.sampled_from(["--adversary"]) | args, max_size=1),
    ).map(lambda t: ["eval", "run", *t[0], *t[1], *t[2]]),
    st.tuples(st.sampled_from(["@csv", "@file"]) | args, st.booleans()).map(
        lambda t: ["eval", "import-log", t[0], "--out", "@out/log.yaml", *(["--guess"] * t[1])]
    ),
    st.tuples(st.sampled_from(["@report", "@file", "@dir"]) | args, args).map(
        lambda t: ["eval", "compare", t[0], t[1]]
    ),
)
"""``@file``: the drawn hostile suite (or log/report) file; ``@dir``: a directory holding
it; ``@out``: a fresh output directory."""

log_files = st.one_of(
    st.lists(
        st.lists(args | st.sampled_from(["conversation_id", "role", "text", "user"]), max_size=4),
        max_size=4,
    ).map(lambda rows: "\n".join(",".join(r) for r in rows).encode("utf-8", "surrogatepass")),
    st.binary(max_size=200),
)
import_argv = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(["csv", "jsonl"]),
        "mapping": mappings(),
        "file": st.sampled_from(["@file"] * 6 + ["@dir", "/dev/null", "/etc/passwd"]) | args,
        "mapping_arg": st.sampled_from(["@mapping"] * 6 + ["@file", "/dev/null"]) | args,
        "options": _pairs(
            ("--format", st.sampled_from(["csv", "JSONL", "xlsx"]) | args),
            ("--store-dir", st.sampled_from(["@store"] * 3 + ["@fresh", "@file", "/etc"]) | args),
        ),
        "flags": st.lists(st.sampled_from(["--dry-run", "--no-load", "--load"]), max_size=2),
        "data": st.data(),
    }
)


def import_case(case: dict[str, Any]) -> tuple[list[str], dict[str, bytes]]:
    """A ``store import`` command line and its files from an :data:`import_argv` draw."""
    content = case["data"].draw(csv_files() if case["kind"] == "csv" else jsonl_files())
    source = f"catalog.{case['kind']}"  # the format is told by the name (or --format)
    argv = ["store", "import", case["file"], "--mapping", case["mapping_arg"]]
    argv += case["options"] + case["flags"]
    argv = [f"@{source}" if a == "@file" else a for a in argv]
    return argv, {source: content, "file": content, "mapping": case["mapping"]}


def eval_files(argv: list[str], suite: bytes, log: bytes) -> dict[str, bytes]:
    """The file an ``eval`` command line's ``@file`` stands for (and a valid log/report)."""
    files = {"file": log if argv[1] == "import-log" else suite}
    files["csv"] = b"conversation_id,role,text\nc1,user,where is my order?\n"
    files["report"] = json.dumps({"meta": {}, "metrics": {}, "dialogs": []}).encode()
    return files
