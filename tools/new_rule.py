#!/usr/bin/env python3
"""Scaffold a redline rule: its YAML, its module, its registry line and fixture stubs.

    tools/new_rule.py redis-example-thing --summary "what is wrong, in a few words" \
        [--severity warning] [--scope deployment|inventory] [--param ratio=0.75 ...]

Creates, relative to the repository root (or --root):
  rules/<id>.yaml                       metadata: severity, summary, rationale, sources, parameters
  src/rules/<module>.rs                 the module: its doc comment (what `explain` prints),
                                        its typed `Params`, an empty check
  src/rules/mod.rs                      one registry line, above the input-level rules
  tests/fixtures/rules/<id>/fail.yaml   stubs starting from the shared StatefulSet piece
  tests/fixtures/rules/<id>/pass.yaml
Nothing else needs a hand: the registry tests (`cargo test --lib rules::`) pass at once; the
fixture test (`cargo test --test rules`) fails until the check and the cases are written.
CONTRIBUTING.md ("Add a rule") says what to write next.
"""

import argparse
import pathlib
import re
import sys

REGISTRY_ANCHOR = "    // tools/new_rule.py adds new rules above this line.\n"
ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)+$")
NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def parse_param(text):
    """`name=default` → (name, YAML default, Rust type)."""
    if "=" not in text:
        raise ValueError(f"--param {text}: expected NAME=DEFAULT")
    name, default = text.split("=", 1)
    if not NAME.match(name):
        raise ValueError(f"--param {text}: the name is snake_case (it is a Rust field)")
    if default in ("true", "false"):
        return name, default, "bool"
    if re.fullmatch(r"-?[0-9]+", default):
        return name, default, "i64"
    if re.fullmatch(r"-?[0-9]+\.[0-9]+", default):
        return name, default, "f64"
    return name, '"' + default.replace('"', '\\"') + '"', "String"


def yaml_text(rule_id, severity, summary, params):
    out = [
        f"id: {rule_id}",
        f"severity: {severity}",
        f"summary: {summary}",
        "rationale: |",
        "  TODO: why it matters, with the source of every threshold (an upstream issue, the",
        "  documentation); list the links under sources.",
        "sources: []",
    ]
    if params:
        out.append("parameters:")
        for name, default, _ in params:
            out += [f"  {name}:", "    description: TODO", f"    default: {default}"]
    else:
        out.append("parameters: {}")
    out.append("mutate: false")
    return "\n".join(out) + "\n"


def module_text(rule_id, scope, params):
    doc = f"""//! ## {rule_id}
//!
//! **What it does.** TODO: what the rule finds, in the words of the user's manifest (the
//! fields and redis.conf directives it reads, the input shapes it understands).
//!
//! **Why it matters.** TODO: the failure it prevents, with its evidence (`rules/{rule_id}.yaml`
//! lists the links).
//!
//! **Fix.** TODO: what `redline fix` changes, or "none automatic" and why.
"""
    if params:
        fields = "".join(f"    pub {name}: {rust},\n" for name, _, rust in params)
        imports = "use serde::{Deserialize, Serialize};\n\n"
        params_struct = f"""/// `rules/{rule_id}.yaml` describes each.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {{
{fields}}}

"""
        params_type, context, supers = "Params", "Context<Params>", "Context, Rule, Violation"
    else:
        imports, params_struct = "", ""
        params_type, context, supers = "NoParams", "Context", "Context, NoParams, Rule, Violation"
    if scope == "deployment":
        model = "use crate::model::Deployment;\n\n"
        hook = f"""    fn deployment(&self, cx: &{context}, d: &Deployment, out: &mut Vec<Violation>) {{
        // TODO: read the deployment (`d.config.redis`, `facts::data_container(d)`, …) and
        // push `Violation::new(place, message)` for what is wrong, with a fix where one is
        // safe (`patch::set_path`, `fixes::set_directive`).
        let _ = (cx, d, out);
    }}
"""
    else:
        model = ""
        hook = f"""    fn inventory(&self, cx: &{context}, out: &mut Vec<Violation>) {{
        // TODO: read `cx.inventory` and push `Violation::new(place, message)` for what is
        // wrong.
        let _ = (cx, out);
    }}
"""
    return f"""{doc}{imports}{model}use super::{{{supers}}};

{params_struct}pub struct Check;

impl Rule for Check {{
    type Params = {params_type};

{hook}}}
"""


FIXTURE = """# TODO: {what} {rule_id}. The piece below is a plain Redis StatefulSet with its
# ConfigMap to start from: keep it and add objects, or copy it here and change what the rule
# reads.
# fixture-piece: redis-statefulset
"""


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("id", help="the rule ID, kebab-case: redis-…, k8s-…, kubeblocks-…")
    ap.add_argument("--summary", required=True, help="one line: what is wrong")
    ap.add_argument("--severity", default="warning", choices=["error", "warning", "info"])
    ap.add_argument("--scope", default="deployment", choices=["deployment", "inventory"],
                    help="judge each Redis deployment, or the input as a whole")
    ap.add_argument("--param", action="append", default=[], metavar="NAME=DEFAULT",
                    help="a parameter; its type follows the default (1, 0.5, true, text)")
    ap.add_argument("--root", default=pathlib.Path(__file__).resolve().parent.parent,
                    type=pathlib.Path, help="the repository (default: this script's)")
    args = ap.parse_args(argv)

    rule_id = args.id
    if not ID.match(rule_id):
        ap.error(f"`{rule_id}` is not a kebab-case ID of at least two words")
    if "\n" in args.summary or not args.summary.strip():
        ap.error("--summary is one non-empty line")
    try:
        params = [parse_param(p) for p in args.param]
    except ValueError as e:
        ap.error(str(e))
    module = rule_id.replace("-", "_")
    root = args.root
    paths = {
        "yaml": root / "rules" / f"{rule_id}.yaml",
        "module": root / "src" / "rules" / f"{module}.rs",
        "fixtures": root / "tests" / "fixtures" / "rules" / rule_id,
    }
    registry = root / "src" / "rules" / "mod.rs"
    for what, path in paths.items():
        if path.exists():
            ap.error(f"{path} exists: rule `{rule_id}` is already there")
    text = registry.read_text()
    if REGISTRY_ANCHOR not in text:
        ap.error(f"{registry} has no line `{REGISTRY_ANCHOR.strip()}`")
    line = f'    {module} => "{rule_id}",\n'
    if line in text:
        ap.error(f"{registry} already registers `{rule_id}`")

    paths["yaml"].write_text(yaml_text(rule_id, args.severity, args.summary.strip(), params))
    paths["module"].write_text(module_text(rule_id, args.scope, params))
    paths["fixtures"].mkdir(parents=True)
    (paths["fixtures"] / "fail.yaml").write_text(FIXTURE.format(what="an input that gives a finding of", rule_id=rule_id))
    (paths["fixtures"] / "pass.yaml").write_text(FIXTURE.format(what="an input that gives no finding of", rule_id=rule_id))
    registry.write_text(text.replace(REGISTRY_ANCHOR, line + REGISTRY_ANCHOR, 1))

    for path in [paths["yaml"], paths["module"], registry, paths["fixtures"] / "fail.yaml", paths["fixtures"] / "pass.yaml"]:
        print(f"wrote {path.relative_to(root) if path.is_relative_to(root) else path}")
    print(f"""next (CONTRIBUTING.md, "Add a rule"):
  1. the rationale and sources in rules/{rule_id}.yaml, the doc comment and the check in
     src/rules/{module}.rs;
  2. cases in tests/fixtures/rules/{rule_id}/ (fail.<case>.yaml, pass.<case>.yaml,
     <case>.redline.yaml for parameters), then
     REDLINE_BLESS=1 cargo test --test rules; INSTA_UPDATE=always cargo test --test rules
     and review every fixed text and tests/snapshots/rules__{rule_id}.snap.""")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
