#!/usr/bin/env python3
"""Runs a composite GitHub Action's steps (action.yml) on this machine the way an Actions
runner runs them, for tests/action.rs. Python 3 with PyYAML.

    run_action.py ACTION_DIR --workspace DIR --runner-dir DIR [--tool-cache DIR]
                  [--input NAME=VALUE]... [--result FILE]

What it emulates, and the documentation it follows (docs.github.com):

- "Metadata syntax for GitHub Actions": `inputs` with their `default`s (an input given that
  the action does not declare is an error, as the runner warns and the input is unusable),
  `outputs.<id>.value` expressions evaluated after the steps, `runs.using: composite` and
  `runs.steps[*]` with `id`, `name`, `if`, `run`, `shell`, `env`, `working-directory`,
  `uses`, `with`. Inputs reach the steps only through expressions: the docs say a composite
  action does not automatically get `INPUT_<NAME>` variables, so none are set (setting them
  would let a script that relies on them pass here and fail on GitHub).
- "Workflow syntax for GitHub Actions": `shell: bash` runs the step's text written to a file
  in RUNNER_TEMP as `bash --noprofile --norc -eo pipefail {0}`; the working directory is the
  workspace unless `working-directory` says otherwise; `if` is an expression with or without
  `${{ }}`, and one that calls no status check function (success, failure, always,
  cancelled) is evaluated as `success() && (...)`. A failed step fails the action and skips
  the steps after it whose `if` does not let them run.
- "Variables reference" (default variables): GITHUB_ACTIONS=true, CI=true, GITHUB_WORKSPACE,
  GITHUB_ACTION_PATH, RUNNER_TEMP, RUNNER_TOOL_CACHE, RUNNER_OS; and the file commands of
  "Workflow commands for GitHub Actions": a fresh GITHUB_OUTPUT, GITHUB_ENV, GITHUB_PATH and
  GITHUB_STEP_SUMMARY file per step; GITHUB_ENV and GITHUB_PATH apply to the steps after
  (PATH entries prepended, the latest first), GITHUB_OUTPUT becomes
  `steps.<id>.outputs`, and the step summaries are concatenated into the job summary. Both
  the `name=value` and the `name<<DELIMITER` forms are read, the way the runner tells them
  apart (whichever of `=` and `<<` comes first); a missing delimiter is an error.
- "Workflow commands for GitHub Actions": lines of a step's standard output or error of the
  form `::command key=value,…::message` are commands. `error`, `warning` and `notice` are
  annotations (collected with their properties and message unescaped: %25, %0D, %0A, and in
  properties %3A, %2C); `debug`, `group`, `endgroup`, `add-mask`, `echo` are accepted;
  `stop-commands` suspends command processing until its token; the disabled commands
  (`set-output`, `set-env`, `add-path`, `save-state`) stop this script.
- "Evaluate expressions in workflows and actions" and "Contexts reference": `${{ }}` in
  `run`, `env`, `with` and `working-directory` values and in output values; literals (strings
  in single quotes, numbers, true, false, null); `!`, `==`, `!=` (strings compared ignoring
  case, other types coerced to numbers), `&&`, `||` (returning an operand, as GitHub's do),
  parentheses; the functions success(), failure(), always(), cancelled(); the contexts
  `inputs.<name>`, `github.action_path`, `github.workspace`, `runner.temp`,
  `runner.tool_cache`, `steps.<id>.outputs.<name>`, `steps.<id>.outcome`,
  `steps.<id>.conclusion` (a step that did not run: null).

What it does not emulate, and refuses rather than guesses: any other expression syntax,
function, operator or context (it exits 2 naming it, so it cannot silently differ from
GitHub); `shell` other than bash; `continue-on-error`, `timeout-minutes`; `uses` steps, except
`github/codeql-action/upload-sarif`, which it does not run: it records the step as
"not emulated" with its `with` values evaluated (the test checks the file it would upload);
the job-level parts of a workflow (checkout, permissions, secrets, masking of values).

Exit status: 0 when the action succeeded, 1 when a step failed, 2 when the action uses
something this script does not emulate. --result FILE receives a JSON record: conclusion,
outputs, steps (id, name, outcome, and for the step not run its `uses` and `with`),
annotations and the job summary.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import threading
import uuid

import yaml

# The only `uses:` step this script may leave out: it talks to GitHub's code-scanning API.
SKIPPABLE_USES = ("github/codeql-action/upload-sarif@",)
STEP_KEYS = {"name", "id", "if", "run", "shell", "env", "working-directory", "uses", "with"}
STATUS_FUNCTIONS = {"success", "failure", "always", "cancelled"}


class NotEmulated(Exception):
    """The action uses something this script does not emulate."""


# ---- expressions ------------------------------------------------------------------------

TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?)|(?P<op>==|!=|&&|\|\||<=|>=|[()!<>\[\],])"
    r"|(?P<ident>[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_*][A-Za-z0-9_-]*)*))"
)


def tokenize(text):
    tokens, at = [], 0
    text = text.strip()
    while at < len(text):
        m = TOKEN.match(text, at)
        if not m or m.end() == at:
            raise NotEmulated(f"expression {text!r}: cannot read {text[at:]!r}")
        at = m.end()
        kind = m.lastgroup
        tokens.append((kind, m.group(kind)))
    return tokens


class Parser:
    """Recursive descent over GitHub's operator precedence: `!` > `==`/`!=` > `&&` > `||`."""

    def __init__(self, text):
        self.text = text
        self.tokens = tokenize(text)
        self.at = 0

    def parse(self):
        node = self.or_()
        if self.at != len(self.tokens):
            raise NotEmulated(f"expression {self.text!r}: unexpected {self.tokens[self.at][1]!r}")
        return node

    def peek(self):
        return self.tokens[self.at] if self.at < len(self.tokens) else (None, None)

    def take(self, value=None):
        kind, text = self.peek()
        if kind is None or (value is not None and text != value):
            raise NotEmulated(f"expression {self.text!r}: expected {value or 'more'}")
        self.at += 1
        return kind, text

    def or_(self):
        node = self.and_()
        while self.peek()[1] == "||":
            self.take()
            node = ("or", node, self.and_())
        return node

    def and_(self):
        node = self.equality()
        while self.peek()[1] == "&&":
            self.take()
            node = ("and", node, self.equality())
        return node

    def equality(self):
        node = self.unary()
        while self.peek()[1] in ("==", "!="):
            op = self.take()[1]
            node = (op, node, self.unary())
        if self.peek()[1] in ("<", "<=", ">", ">="):
            raise NotEmulated(f"expression {self.text!r}: operator {self.peek()[1]} is not emulated")
        return node

    def unary(self):
        if self.peek()[1] == "!":
            self.take()
            return ("not", self.unary())
        return self.primary()

    def primary(self):
        kind, text = self.take()
        if text == "(":
            node = self.or_()
            self.take(")")
            return node
        if kind == "str":
            return ("lit", text[1:-1].replace("''", "'"))
        if kind == "num":
            return ("lit", float(text))
        if kind == "ident":
            if text in ("true", "false"):
                return ("lit", text == "true")
            if text == "null":
                return ("lit", None)
            if self.peek()[1] == "(":
                if text.lower() not in STATUS_FUNCTIONS:
                    raise NotEmulated(f"expression {self.text!r}: function {text}() is not emulated")
                self.take("(")
                self.take(")")
                return ("call", text.lower())
            if self.peek()[1] == "[":
                raise NotEmulated(f"expression {self.text!r}: index syntax is not emulated")
            return ("ctx", text)
        raise NotEmulated(f"expression {self.text!r}: unexpected {text!r}")


def calls_status_function(node):
    if node[0] == "call":
        return True
    return any(isinstance(n, tuple) and calls_status_function(n) for n in node[1:])


def to_number(v):
    if v is None:
        return 0.0
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    if isinstance(v, float):
        return v
    s = v.strip()
    if s == "":
        return 0.0
    try:
        return float(int(s, 16)) if s.lower().startswith("0x") else float(s)
    except ValueError:
        return float("nan")


def equal(a, b):
    if isinstance(a, str) and isinstance(b, str):
        return a.casefold() == b.casefold()
    if type(a) is type(b):
        return a == b
    return to_number(a) == to_number(b)


def truthy(v):
    return not (v is None or v is False or v == 0.0 or v == "")


def to_string(v):
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    return v


class Context:
    def __init__(self, action, inputs, env):
        self.declared = {k.lower(): k for k in (action.get("inputs") or {})}
        self.inputs = inputs
        self.env = env
        self.step_ids = {s["id"] for s in action["runs"]["steps"] if "id" in s}
        self.steps = {}  # id -> {"outputs": {}, "outcome": ..., "conclusion": ...}
        self.failed = False

    def lookup(self, path):
        parts = path.split(".")
        head = parts[0].lower()
        if head == "inputs" and len(parts) == 2:
            name = parts[1].lower()
            if name not in self.declared:
                raise NotEmulated(f"inputs.{parts[1]}: the action declares no such input")
            return self.inputs[self.declared[name]]
        if head == "github" and len(parts) == 2 and parts[1] in ("action_path", "workspace"):
            return self.env["GITHUB_ACTION_PATH" if parts[1] == "action_path" else "GITHUB_WORKSPACE"]
        if head == "runner" and len(parts) == 2 and parts[1] in ("temp", "tool_cache"):
            return self.env["RUNNER_" + parts[1].upper()]
        if head == "steps" and len(parts) >= 3:
            if parts[1] not in self.step_ids:
                raise NotEmulated(f"{path}: the action has no step with id {parts[1]!r}")
            step = self.steps.get(parts[1])
            if len(parts) == 4 and parts[2] == "outputs":
                return None if step is None else step["outputs"].get(parts[3])
            if len(parts) == 3 and parts[2] in ("outcome", "conclusion"):
                return None if step is None else step[parts[2]]
        raise NotEmulated(f"context {path!r} is not emulated")

    def evaluate(self, node):
        kind = node[0]
        if kind == "lit":
            return node[1]
        if kind == "ctx":
            return self.lookup(node[1])
        if kind == "call":
            return {
                "always": True,
                "success": not self.failed,
                "failure": self.failed,
                "cancelled": False,
            }[node[1]]
        if kind == "not":
            return not truthy(self.evaluate(node[1]))
        if kind in ("==", "!="):
            same = equal(self.evaluate(node[1]), self.evaluate(node[2]))
            return same if kind == "==" else not same
        left = self.evaluate(node[1])
        if kind == "and":
            return self.evaluate(node[2]) if truthy(left) else left
        if kind == "or":
            return left if truthy(left) else self.evaluate(node[2])
        raise AssertionError(kind)

    def interpolate(self, text):
        """`${{ expr }}` inside a string, each replaced by its value as a string. A YAML
        number or boolean (`env`, `with`) is its text, as the runner reads it."""
        if isinstance(text, bool):
            return "true" if text else "false"
        if isinstance(text, (int, float)):
            return str(text)
        if not isinstance(text, str):
            raise NotEmulated(f"value {text!r} is not a string")
        out, at = [], 0
        while True:
            start = text.find("${{", at)
            if start < 0:
                out.append(text[at:])
                return "".join(out)
            end = text.find("}}", start)
            if end < 0:
                raise NotEmulated(f"unclosed ${{{{ in {text!r}")
            out.append(text[at:start])
            out.append(to_string(self.evaluate(Parser(text[start + 3 : end]).parse())))
            at = end + 2

    def condition(self, text):
        """A step's `if`: true when the step runs."""
        if text is None:
            return not self.failed
        if isinstance(text, bool):
            text = "true" if text else "false"
        text = str(text).strip()
        if text.startswith("${{") and text.endswith("}}"):
            text = text[3:-2]
        node = Parser(text).parse()
        if not calls_status_function(node):
            node = ("and", ("call", "success"), node)
        return truthy(self.evaluate(node))


# ---- file commands and workflow commands --------------------------------------------------


def read_file_command(path):
    """Pairs of a GITHUB_OUTPUT/GITHUB_ENV file: `name=value` and `name<<DELIMITER` forms."""
    with open(path, encoding="utf-8", newline="") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    lines = [line[:-1] if line.endswith("\r") else line for line in lines]
    pairs, i = [], 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if line == "":
            continue
        eq, heredoc = line.find("="), line.find("<<")
        if eq >= 0 and (heredoc < 0 or eq < heredoc):
            name, value = line[:eq], line[eq + 1 :]
        elif heredoc >= 0:
            name, delimiter = line[:heredoc], line[heredoc + 2 :]
            if not name or not delimiter:
                raise NotEmulated(f"{path}: invalid line {line!r}")
            value_lines = []
            while True:
                if i >= len(lines):
                    raise NotEmulated(f"{path}: delimiter {delimiter!r} not found")
                if lines[i] == delimiter:
                    i += 1
                    break
                value_lines.append(lines[i])
                i += 1
            value = "\n".join(value_lines)
        else:
            raise NotEmulated(f"{path}: invalid line {line!r}")
        if not name:
            raise NotEmulated(f"{path}: a line without a name: {line!r}")
        pairs.append((name, value))
    return pairs


def unescape(s, property_value=False):
    s = s.replace("%0D", "\r").replace("%0A", "\n")
    if property_value:
        s = s.replace("%3A", ":").replace("%2C", ",")
    return s.replace("%25", "%")


class Commands:
    """The workflow commands of the steps' output, read line by line."""

    def __init__(self):
        self.annotations = []
        self.stop_token = None
        self.lock = threading.Lock()

    def line(self, text):
        with self.lock:
            self._line(text)

    def _line(self, text):
        if self.stop_token is not None:
            if text == f"::{self.stop_token}::":
                self.stop_token = None
            return
        if not text.startswith("::"):
            return
        end = text.find("::", 2)
        if end < 0:
            return
        head, message = text[2:end], text[end + 2 :]
        command, _, props_text = head.partition(" ")
        props = {}
        for prop in filter(None, props_text.split(",")):
            key, sep, value = prop.partition("=")
            if sep:
                props[key] = unescape(value, property_value=True)
        if command in ("error", "warning", "notice"):
            self.annotations.append(
                {"command": command, "properties": props, "message": unescape(message), "line": text}
            )
        elif command == "stop-commands":
            self.stop_token = message
        elif command in ("set-output", "set-env", "add-path", "save-state"):
            raise NotEmulated(f"workflow command {command} is disabled on GitHub: {text!r}")
        # debug, group, endgroup, add-mask, echo and unknown commands: logged, nothing else
        # (the runner ignores commands it does not know).


def pump(stream, sink, commands, errors):
    try:
        for raw in iter(stream.readline, b""):
            sink.write(raw)
            sink.flush()
            text = raw.decode("utf-8", "replace").rstrip("\n").rstrip("\r")
            commands.line(text)
    except NotEmulated as e:
        errors.append(e)


# ---- the action ---------------------------------------------------------------------------


def run(args):
    action_dir = os.path.abspath(args.action)
    with open(os.path.join(action_dir, "action.yml"), encoding="utf-8") as f:
        action = yaml.safe_load(f)
    runs = action.get("runs") or {}
    if runs.get("using") != "composite":
        raise NotEmulated(f"runs.using {runs.get('using')!r}: only composite actions are emulated")

    declared = action.get("inputs") or {}
    given = {}
    for item in args.input:
        name, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"--input {item!r}: NAME=VALUE")
        match = [k for k in declared if k.lower() == name.lower()]
        if not match:
            raise NotEmulated(f"input {name!r}: the action declares no such input")
        given[match[0]] = value
    inputs = {}
    for name, spec in declared.items():
        spec = spec or {}
        if name in given:
            inputs[name] = given[name]
        elif spec.get("required") and "default" not in spec:
            raise NotEmulated(f"input {name!r} is required")
        else:
            inputs[name] = to_string(spec.get("default")) if not isinstance(spec.get("default"), str) else spec["default"]

    workspace = os.path.abspath(args.workspace)
    runner_dir = os.path.abspath(args.runner_dir)
    temp = os.path.join(runner_dir, "temp")
    files = os.path.join(runner_dir, "file-commands")
    tool_cache = os.path.abspath(args.tool_cache or os.path.join(runner_dir, "tool-cache"))
    for d in (temp, files, tool_cache):
        os.makedirs(d, exist_ok=True)

    env = dict(os.environ)
    env.update(
        {
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_WORKSPACE": workspace,
            "GITHUB_ACTION_PATH": action_dir,
            "RUNNER_TEMP": temp,
            "RUNNER_TOOL_CACHE": tool_cache,
            "RUNNER_OS": "Linux",
        }
    )
    for name in list(env):
        if name.startswith("INPUT_"):
            del env[name]
    cx = Context(action, inputs, env)
    commands = Commands()
    record = {"steps": [], "annotations": commands.annotations, "summary": ""}

    for n, step in enumerate(runs.get("steps") or []):
        unknown = set(step) - STEP_KEYS
        if unknown:
            raise NotEmulated(f"step {n}: keys {sorted(unknown)} are not emulated")
        sid = step.get("id") or f"__{n}"
        name = step.get("name") or step.get("run") or step.get("uses")
        entry = {"id": step.get("id"), "name": name}
        record["steps"].append(entry)
        if not cx.condition(step.get("if")):
            entry.update(outcome="skipped", conclusion="skipped")
            cx.steps[sid] = {"outputs": {}, "outcome": "skipped", "conclusion": "skipped"}
            print(f"redline-action-runner: step {name!r} skipped (if: {step.get('if')})", flush=True)
            continue
        if "uses" in step:
            uses = step["uses"]
            if not uses.startswith(SKIPPABLE_USES):
                raise NotEmulated(f"step {name!r}: uses {uses!r} is not emulated")
            with_values = {k: cx.interpolate(v) for k, v in (step.get("with") or {}).items()}
            entry.update(outcome="not emulated", conclusion="not emulated", uses=uses, **{"with": with_values})
            cx.steps[sid] = {"outputs": {}, "outcome": "success", "conclusion": "success"}
            print(f"redline-action-runner: step {name!r} NOT RUN (uses {uses} is not emulated): with {with_values}", flush=True)
            continue
        if step.get("shell") != "bash":
            raise NotEmulated(f"step {name!r}: shell {step.get('shell')!r} is not emulated (bash only)")

        script = os.path.join(temp, f"{uuid.uuid4()}.sh")
        with open(script, "w", encoding="utf-8") as f:
            f.write(cx.interpolate(step["run"]))
        step_files = {}
        for var in ("GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_PATH", "GITHUB_STEP_SUMMARY"):
            path = os.path.join(files, f"{var.lower()}_{uuid.uuid4()}")
            open(path, "w").close()
            step_files[var] = path
        step_env = dict(env)
        step_env.update({k: cx.interpolate(v) for k, v in (step.get("env") or {}).items()})
        step_env.update(step_files)
        cwd = workspace
        if "working-directory" in step:
            cwd = os.path.join(workspace, cx.interpolate(step["working-directory"]))

        print(f"redline-action-runner: step {name!r}", flush=True)
        proc = subprocess.Popen(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", script],
            cwd=cwd,
            env=step_env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        errors = []
        threads = [
            threading.Thread(target=pump, args=(proc.stdout, sys.stdout.buffer, commands, errors)),
            threading.Thread(target=pump, args=(proc.stderr, sys.stderr.buffer, commands, errors)),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        status = proc.wait()
        if errors:
            raise errors[0]

        outcome = "success" if status == 0 else "failure"
        outputs = dict(read_file_command(step_files["GITHUB_OUTPUT"]))
        for key, value in read_file_command(step_files["GITHUB_ENV"]):
            env[key] = value
        with open(step_files["GITHUB_PATH"], encoding="utf-8") as f:
            for line in f.read().splitlines():
                if line.strip():
                    env["PATH"] = line + os.pathsep + env.get("PATH", "")
        with open(step_files["GITHUB_STEP_SUMMARY"], encoding="utf-8") as f:
            record["summary"] += f.read()
        entry.update(outcome=outcome, conclusion=outcome, status=status, outputs=outputs)
        cx.steps[sid] = {"outputs": outputs, "outcome": outcome, "conclusion": outcome}
        if status != 0:
            cx.failed = True
            print(f"redline-action-runner: step {name!r} failed: exit code {status}", flush=True)

    record["outputs"] = {
        name: cx.interpolate(str((spec or {}).get("value", ""))) for name, spec in (action.get("outputs") or {}).items()
    }
    record["conclusion"] = "failure" if cx.failed else "success"
    for a in commands.annotations:
        print(f"redline-action-runner: annotation {a['command']} {a['properties']}: {json.dumps(a['message'])}", flush=True)
    return record


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("action", help="the directory holding action.yml")
    p.add_argument("--workspace", required=True)
    p.add_argument("--runner-dir", required=True, help="RUNNER_TEMP and the file commands go here")
    p.add_argument("--tool-cache", help="RUNNER_TOOL_CACHE (default: RUNNER_DIR/tool-cache)")
    p.add_argument("--input", action="append", default=[], metavar="NAME=VALUE")
    p.add_argument("--result", help="write the JSON record here")
    args = p.parse_args()
    try:
        record = run(args)
    except NotEmulated as e:
        print(f"redline-action-runner: not emulated: {e}", file=sys.stderr)
        return 2
    if args.result:
        with open(args.result, "w", encoding="utf-8") as f:
            json.dump(record, f, indent=2)
    return 0 if record["conclusion"] == "success" else 1


if __name__ == "__main__":
    sys.exit(main())
