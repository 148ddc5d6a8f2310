#!/usr/bin/env python3
"""Extract KeyDB's configuration directives from its src/config.cpp into the TSV format of
redline's tools/engines/*.tsv (see tools/engines/README.md):

    # engine	version	name	alias	type	default	min	max	enum	flags

Rows: every create*Config(...) entry of `standardConfig configs[]` (sorted by name), then
every name `loadServerConfigFromString` handles itself (`!strcasecmp(argv[0],"...")`) that
is not already a table entry, typed `Loader` (sorted by name) - the layout of
redis-6.2.16.tsv.

Usage (reads the source straight from a git dir, so the output is reproducible):

    python3 keydb_extract.py /work/.mirror/Snapchat+KeyDB/repo v6.3.4 > keydb-6.3.4.tsv

Conventions (same as the Redis/Valkey TSVs):
  * Bool defaults 1/0 -> yes/no; Enum defaults: the C constant mapped back to its name
    through the configEnum table; numeric defaults/bounds as the source spells them.
  * String defaults: a `#define NAME "literal"` macro from src/config.h or src/server.h is
    resolved to its literal (KeyDB writes CONFIG_DEFAULT_RDB_FILENAME where Redis 6.2
    writes "dump.rdb"), except CONFIG_DEFAULT_PROC_TITLE_TEMPLATE, which the Redis TSVs keep.
  * type suffix /memory when the numeric-type argument contains MEMORY_CONFIG,
    /percent when it contains PERCENT_CONFIG (KeyDB 6.3.4 has none).
  * flags: the flags argument without MODIFIABLE_CONFIG, sorted, joined by '|'.
  * Entries inside `#ifdef USE_OPENSSL` (tls-*) are included, as in the Redis TSVs.
"""
import re
import subprocess
import sys

ENGINE, VERSION = "keydb", None


def git_show(gitdir, rev, path):
    return subprocess.run(["git", "--git-dir", gitdir, "show", "%s:%s" % (rev, path)],
                          check=True, capture_output=True, text=True).stdout


def split_args(s):
    out, depth, cur, instr = [], 0, "", False
    for ch in s:
        if ch == '"':
            instr = not instr
        if not instr:
            if ch == "," and depth == 0:
                out.append(cur.strip())
                cur = ""
                continue
            depth += ch == "("
            depth -= ch == ")"
        cur += ch
    out.append(cur.strip())
    return out


def strip_comments(s):
    s = re.sub(r"/\*.*?\*/", "", s, flags=re.S)
    return re.sub(r"//[^\n]*", "", s)


def main():
    gitdir, rev = sys.argv[1], sys.argv[2]
    src = git_show(gitdir, rev, "src/config.cpp")
    headers = git_show(gitdir, rev, "src/config.h") + git_show(gitdir, rev, "src/server.h")
    version = re.search(r'#define KEYDB_REAL_VERSION "([^"]+)"',
                        git_show(gitdir, rev, "src/version.h")).group(1)
    str_macros = dict(re.findall(r'#define\s+(\w+)\s+"([^"]*)"', headers))

    enums = {}
    for m in re.finditer(r"configEnum (\w+)\[\] = \{(.*?)\n\};", src, re.S):
        enums[m.group(1)] = [(n, c.strip()) for n, c in
                             re.findall(r'\{"([^"]+)",\s*([^}]+)\}', m.group(2))]

    body = re.search(r"\nstandardConfig configs\[\] = \{(.*?)\n\};", src, re.S).group(1)
    body = strip_comments(body)
    rows = {}
    for m in re.finditer(r"create(\w+)Config\((.*?)\),?\s*\n", body):
        kind, args = m.group(1), split_args(m.group(2))
        name = args[0].strip('"')
        alias = "" if args[1] == "NULL" else args[1].strip('"')
        flags = "|".join(sorted(f.strip() for f in args[2].split("|")
                                if f.strip() not in ("MODIFIABLE_CONFIG", "0")))
        lo = hi = enum = ""
        if kind == "Bool":
            default = {"1": "yes", "0": "no"}[args[4]]
            typ = "Bool"
        elif kind in ("String", "SDS"):
            d = args[5]
            if d == "NULL":
                default = ""
            elif d.startswith('"'):
                default = d.strip('"')
            elif d in str_macros and d != "CONFIG_DEFAULT_PROC_TITLE_TEMPLATE":
                default = str_macros[d]
            else:
                default = d
            typ = kind
        elif kind == "Enum":
            values = enums[args[3]]
            default = next(n for n, c in values if c == args[5])
            enum = ",".join(n for n, _ in values)
            typ = "Enum"
        else:  # numeric: name, alias, flags, lower, upper, addr, default, numtype, ...
            lo, hi, default, numtype = args[3], args[4], args[6], args[7]
            typ = kind
            if "MEMORY_CONFIG" in numtype:
                typ += "/memory"
            if "PERCENT_CONFIG" in numtype:
                typ += "/percent"
        assert name not in rows, name
        rows[name] = [ENGINE, version, name, alias, typ, default, lo, hi, enum, flags]

    loader_fn = re.search(r"\nvoid loadServerConfigFromString\(char \*config\) \{(.*?)\n\}\n",
                          src, re.S).group(1)
    loader = sorted(set(re.findall(r'!strcasecmp\(argv\[0\],\s*"([^"]+)"\)', loader_fn)))
    print("# engine\tversion\tname\talias\ttype\tdefault\tmin\tmax\tenum\tflags")
    for name in sorted(rows):
        print("\t".join(rows[name]))
    skipped = []
    for name in loader:
        if name in rows:
            skipped.append(name)  # table entry wins: the loader tries configs[] first
            continue
        print("\t".join([ENGINE, version, name, "", "Loader", "", "", "", "", ""]))
    print("table=%d loader=%d (loader names shadowed by the table: %s)"
          % (len(rows), len(loader) - len(skipped), ",".join(skipped)), file=sys.stderr)


main()
