#!/usr/bin/env python3
"""Seed corpora for the fuzz targets, from tests/corpus (real upstream manifests) and the
repository's own fixtures. Run from the repository root: `python3 fuzz/seed.py` (needs
PyYAML). Writes fuzz/corpus/<target>/ (git-ignored); libFuzzer adds what it finds there."""

import hashlib
import json
import pathlib
import re
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
SOURCES = [ROOT / "tests/corpus", ROOT / "examples", ROOT / "tests/fixtures"]
OUT = ROOT / "fuzz/corpus"
QUANTITY_LIKE = re.compile(r"^[+-]?[0-9.]+([eE][+-]?[0-9]+|[a-zA-Z]{1,2})?$")
# The corners of resource.ParseQuantity (kubernetes/apimachinery pkg/api/resource/quantity.go
# and quantity_test.go), beyond what manifests contain.
QUANTITY_EXTRA = ["0.000000000001Ki", "12E", "1e3", "1E3", ".5", "5.", "+1", "-0", "1Ei",
                  "9223372036854775807", "9223372036854775808Ei", "1e2147483647", "0x10",
                  "1.5Gi", "2048m", "1_000", "1 Gi", "1gi", "1Mb"]


def write(target, data):
    if isinstance(data, str):
        data = data.encode()
    d = OUT / target
    d.mkdir(parents=True, exist_ok=True)
    (d / hashlib.sha1(data).hexdigest()).write_bytes(data)


def walk(node, key=None):
    """Yields (key, scalar) for every scalar of a loaded document."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield from walk(v, k)
    elif isinstance(node, list):
        for v in node:
            yield from walk(v, key)
    else:
        yield key, node


def main():
    counts = {}
    for source in SOURCES:
        for path in sorted(source.rglob("*")):
            if not path.is_file():
                continue
            text = path.read_text(errors="replace")
            if path.suffix in (".conf", ".tpl"):
                write("redis_conf", text)
            if path.suffix not in (".yaml", ".yml", ".json"):
                continue
            write("yaml_lint", text)
            try:
                docs = [d for d in yaml.safe_load_all(text) if isinstance(d, dict)]
            except yaml.YAMLError:
                continue  # Helm templates: the yaml_lint seed above still has them
            for doc in docs:
                write("admission_review", json.dumps(doc, default=str))
                for key, value in walk(doc):
                    if not isinstance(value, str):
                        continue
                    if "\n" in value and re.search(r"^\s*(maxmemory|save|appendonly|cluster-|port|bind)\b", value, re.M):
                        write("redis_conf", value)
                    if QUANTITY_LIKE.match(value.strip()) or key in ("memory", "cpu", "storage"):
                        write("quantity", value.strip())
    for q in QUANTITY_EXTRA:
        write("quantity", q)
    for target in sorted(p.name for p in OUT.iterdir()):
        counts[target] = sum(1 for _ in (OUT / target).iterdir())
    json.dump(counts, sys.stdout)
    print()


if __name__ == "__main__":
    main()
