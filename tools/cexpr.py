"""The C constant expressions config.c writes bounds and defaults in (`1024*1024`,
`LLONG_MAX`, `512ll*1024*1024`), evaluated as on LP64 Linux. Shared by the table generators."""
import re

CONSTS = {
    "INT_MAX": 2**31 - 1, "INT_MIN": -2**31, "UINT_MAX": 2**32 - 1, "LONG_MAX": 2**63 - 1,
    "LLONG_MAX": 2**63 - 1, "ULLONG_MAX": 2**64 - 1, "ULONG_MAX": 2**64 - 1,
    "SSIZE_MAX": 2**63 - 1, "CONFIG_DEFAULT_HZ": 10,
    # src/io_threads.h (Valkey 8.1) and src/networking.c (all others): 128.
    "IO_THREADS_MAX_NUM": 128,
}


def c_eval(expr):
    e = expr.strip()
    for k, v in CONSTS.items():
        e = re.sub(r"\b%s\b" % k, str(v), e)
    e = re.sub(r"(\d+)(ll|LL|l|L)\b", r"\1", e)
    e = re.sub(r"\b0([0-7]+)\b", r"0o\1", e)
    return int(eval(e, {"__builtins__": {}}))
