#!/usr/bin/env python3
"""Write a running redis-server's command table (`COMMAND`, with subcommands) as TSV:
one line per command, `name<TAB>sub,sub,...`, sorted. redline's ACL reader
(src/redisconf/acl.rs) checks `+cmd`, `-cmd` and `+cmd|sub` rules against it.

    redis-server --port 0 --unixsocket /tmp/cmd.sock --save "" &
    tools/dump_commands.py /tmp/cmd.sock > tools/engines/commands-redis-7.0.15.tsv
"""
import socket
import sys


def main(path):
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    s.sendall(b"*1\r\n$7\r\nCOMMAND\r\n")
    f = s.makefile("rb")

    def read():
        line = f.readline().rstrip(b"\r\n")
        kind, rest = line[:1], line[1:]
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [read() for _ in range(n)]
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else f.read(n + 2)[:-2].decode()
        if kind in (b"+", b"-"):
            return rest.decode()
        if kind == b":":
            return int(rest)
        if kind == b"%":
            return {read(): read() for _ in range(int(rest))}
        raise ValueError(line)

    table = []
    for c in read():
        subs = c[9] if len(c) > 9 and c[9] else []
        table.append((c[0], sorted(sc[0].split("|")[1] for sc in subs)))
    for name, subs in sorted(table):
        print(name + "\t" + ",".join(subs))


if __name__ == "__main__":
    main(sys.argv[1])
