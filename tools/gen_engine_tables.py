#!/usr/bin/env python3
"""Generate src/redisconf/releases.rs from the directive facts in tools/engines/*.tsv.

One table per engine release (Redis 6.2.16 … 8.0-m01, Valkey 7.2.7 … 8.1-dev), in the same
`Directive` shape as src/redisconf/table.rs (which is generated from Redis 7.0.15's config.c
by tools/gen_redis_directives.py). The TSVs do not carry three facts config.c has: which
strings treat "" as unset (EMPTY_STRING_IS_NULL), which numbers are octal, and the
`is_valid_fn` validators. They are taken, by name, from 7.0.15's table (the lists below);
`releases::tests` checks that the 7.0.15 table generated here equals table.rs, so any fact
this script reads wrongly fails a test. Reproduce:

    python3 tools/gen_engine_tables.py > src/redisconf/releases.rs && cargo fmt
"""
import glob
import os
import re

from cexpr import c_eval

HERE = os.path.dirname(os.path.abspath(__file__))

TEXT_DEFAULTS = {
    "CONFIG_DEFAULT_PROC_TITLE_TEMPLATE": "{title} {listen-addr} {server-mode}",
}
# config.c flags the TSVs leave out (7.0.15's createStringConfig/createSDSConfig arguments).
EMPTY_IS_NULL = {
    "unixsocket", "pidfile", "replica-announce-ip", "masteruser", "primaryuser",
    "cluster-announce-ip", "cluster-announce-hostname", "server_cpulist", "bio_cpulist",
    "aof_rewrite_cpulist", "bgsave_cpulist", "server-cpulist", "bio-cpulist",
    "aof-rewrite-cpulist", "bgsave-cpulist", "bind-source-addr", "masterauth", "primaryauth",
    "requirepass", "tls-cert-file", "tls-key-file", "tls-key-file-pass",
    "tls-client-cert-file", "tls-client-key-file", "tls-client-key-file-pass",
    "tls-dh-params-file", "tls-ca-cert-file", "tls-ca-cert-dir", "tls-protocols",
    "tls-ciphers", "tls-ciphersuites",
}
OCTAL = {"unixsocketperm"}
VALIDATORS = {
    "activedefrag": "ActiveDefrag", "cluster-announce-hostname": "Hostname",
    "dbfilename": "DbFilename", "appendfilename": "AofFilename",
    "appenddirname": "AofDirname", "proc-title-template": "ProcTitleTemplate",
    "shutdown-on-sigint": "ShutdownOnSigFlags", "shutdown-on-sigterm": "ShutdownOnSigFlags",
}
SPECIALS = {
    "dir": "Dir", "save": "Save", "client-output-buffer-limit": "ClientOutputBufferLimit",
    "oom-score-adj-values": "OomScoreAdjValues",
    "notify-keyspace-events": "NotifyKeyspaceEvents", "bind": "Bind",
    "replicaof": "ReplicaOf",
    "latency-tracking-info-percentiles": "LatencyTrackingInfoPercentiles",
    # Valkey 8.1's RDMA listener takes addresses as `bind` does.
    "rdma-bind": "Bind",
}
# What the loader itself handles in every release; 6.2's loader also parsed directives that
# 7.0 moved into the table (`bind`, `save`, `logfile`, …): those take 7.0.15's definition.
LOADER = {"include", "loadmodule", "rename-command", "sentinel", "user",
          # 7.0+ ignore them with one argument (src/config.c `deprecated_configs`).
          "list-max-ziplist-entries", "list-max-ziplist-value"}
# KeyDB's loader parses these itself (src/config.cpp of KeyDB 6.3.4, `loadServerConfigFromString`):
# typed here so that rules can read them. `server-threads` takes 1..MAX_EVENT_LOOPS (16) and
# `io-threads` is its alias (config.cpp:721); the two flags are `yesnotoi` booleans.
KEYDB_TYPED = {
    "server-threads": dict(alias="io-threads", type="Int", default="1", min="1", max="16"),
    "active-replica": dict(type="Bool", default="no"),
    "multi-master": dict(type="Bool", default="no"),
}
# 7.0's generator casts bounds to unsigned for these C types.
UNSIGNED = {"ULongLong", "UInt", "SizeT"}


# The `Engine` variant of each TSV's engine column.
ENGINES = {"redis": "Redis", "valkey": "Valkey", "keydb": "KeyDb", "dragonfly": "Dragonfly"}
# config.c's validators are Redis' (and its forks'); Dragonfly's flags are checked by its own
# code, which the curated table does not model.
VALIDATED_ENGINES = {"redis", "valkey", "keydb"}


def rust_str(s):
    return '"%s"' % s.replace("\\", "\\\\").replace('"', '\\"')


def ident(engine, version):
    return ("%s_%s" % (engine, re.sub(r"[^0-9a-zA-Z]", "_", version))).upper()


def read(path):
    rows = []
    for line in open(path, encoding="utf-8"):
        if line.startswith("#") or not line.strip():
            continue
        cols = line.rstrip("\n").split("\t")
        cols += [""] * (10 - len(cols))
        rows.append(dict(zip(
            ["engine", "version", "name", "alias", "type", "default", "min", "max", "enum",
             "flags"], cols)))
    return rows


def sort_key(path):
    engine, version = os.path.basename(path)[:-4].split("-", 1)
    nums = [int(n) for n in re.findall(r"\d+", version)]
    return (list(ENGINES).index(engine), nums)


def kind_of(row, enums):
    name, alias, t = row["name"], row["alias"], row["type"]
    names = {name, alias}
    validator = next((VALIDATORS[n] for n in names if n in VALIDATORS), None)
    if row["engine"] not in VALIDATED_ENGINES:
        validator = None
    v = "Some(Validator::%s)" % validator if validator else "None"
    base = t.split("/")[0]
    if base == "Bool":
        return "Kind::Bool { validator: %s }" % v, row["default"]
    if base in ("String", "SDS"):
        null = "true" if names & EMPTY_IS_NULL else "false"
        default = TEXT_DEFAULTS.get(row["default"], row["default"])
        if default == "SERVER_NAME":
            default = row["engine"]
        return "Kind::String { empty_is_null: %s, validator: %s }" % (null, v), default
    if base == "Enum":
        values = tuple(row["enum"].split(","))
        const = enums.setdefault(values, "%s_ENUM_%d" % (
            re.sub(r"[^A-Z0-9]", "_", name.upper()), len(enums)))
        return "Kind::Enum { values: %s, validator: %s }" % (const, v), row["default"]
    if base == "Special":
        special = next(SPECIALS[n] for n in names if n in SPECIALS)
        return "Kind::Special(Special::%s)" % special, ""
    lo, hi = c_eval(row["min"]), c_eval(row["max"])
    flags = t.split("/")[1:]
    kind = ("Kind::Numeric { min: %d, max: %d, unsigned: %s, memory: %s, percent: %s, "
            "octal: %s }") % (lo, hi, str(base in UNSIGNED).lower(),
                              str("memory" in flags).lower(), str("percent" in flags).lower(),
                              str(name in OCTAL).lower())
    return kind, str(c_eval(row["default"]))


def main():
    # `commands-*.tsv` are command tables (src/redisconf/acl.rs), not directives.
    paths = sorted((p for p in glob.glob(os.path.join(HERE, "engines", "*.tsv"))
                    if os.path.basename(p).split("-", 1)[0] in ENGINES), key=sort_key)
    enums = {}
    tables = []
    modern = {r["name"]: r for r in read(os.path.join(HERE, "engines", "redis-7.0.15.tsv"))}
    modern.update({r["alias"]: r for r in modern.values() if r["alias"]})
    for path in paths:
        rows = read(path)
        engine, version = rows[0]["engine"], rows[0]["version"]
        directives, loader = [], []
        for row in rows:
            if row["type"] == "Loader" and row["name"] in LOADER:
                loader.append(row["name"])
                continue
            if engine == "keydb" and row["type"] == "Loader":
                if row["name"] == "io-threads":
                    continue  # the alias of `server-threads`
                if row["name"] in KEYDB_TYPED:
                    row = {**row, "alias": "", **KEYDB_TYPED[row["name"]]}
                elif row["name"] not in modern:
                    # Accepted by KeyDB's loader without a table entry: not checked here.
                    loader.append(row["name"])
                    continue
            if row["type"] == "Loader":
                if row["name"] in ("slaveof",):
                    continue  # the alias of `replicaof`, listed on its own in 6.2
                row = dict(modern[row["name"]], engine=engine, version=version)
            kind, default = kind_of(row, enums)
            directives.append((row, kind, default))
        tables.append((engine, version, directives, loader, os.path.basename(path)))

    out = []
    w = out.append
    w("// @generated by tools/gen_engine_tables.py from tools/engines/*.tsv. Do not edit by")
    w("// hand: regenerate.")
    w("//! The directives of every engine release redline knows, one table per release.")
    w("")
    w("use super::directives::{Directive, Kind, Special, Validator};")
    w("use super::release::{Engine, Release};")
    w("")
    for values, const in sorted(enums.items(), key=lambda e: e[1]):
        w("const %s: &[&str] = &[%s];" % (const, ", ".join(rust_str(x) for x in values)))
    w("")
    for engine, version, directives, loader, source in tables:
        w("/// %s %s (tools/engines/%s)." % (ENGINES[engine], version, source))
        w("static %s: &[Directive] = &[" % ident(engine, version))
        for row, kind, default in directives:
            w("    Directive {")
            w("        name: %s," % rust_str(row["name"]))
            w("        alias: %s," % ("Some(%s)" % rust_str(row["alias"]) if row["alias"] else "None"))
            w("        multi_arg: %s," % str("MULTI_ARG_CONFIG" in row["flags"]).lower())
            w("        default: %s," % rust_str(default))
            w("        kind: %s," % kind)
            w("    },")
        w("];")
        w("")
    w("/// Every release, Redis first, oldest first within an engine.")
    w("pub static RELEASES: &[Release] = &[")
    for engine, version, directives, loader, source in tables:
        nums = [int(n) for n in re.findall(r"\d+", version)]
        w("    Release {")
        w("        engine: Engine::%s," % ENGINES[engine])
        w("        version: %s," % rust_str(version))
        w("        major: %d," % nums[0])
        w("        minor: %d," % nums[1])
        # Milestones and development snapshots are not the release users run: what they do
        # not know may be known to the final release.
        w("        exact: %s," % str(not re.search(r"-(m\d+|dev)$", version)).lower())
        w("        directives: %s," % ident(engine, version))
        w("        loader: &[%s]," % ", ".join(rust_str(n) for n in loader))
        w("    },")
    w("];")
    print("\n".join(out))


main()
