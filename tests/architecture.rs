//! The layering ARCHITECTURE.md draws, read from the code: which top-level modules of `src/`
//! each module's non-test code names (`crate::x`), that the graph has no cycle, and that the
//! rules read only the model (no YAML tree, no extraction, no engine, no faces).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module → the modules its code (not its tests, not its comments) refers to.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let rel = path.strip_prefix(&src).unwrap();
            let name = rel.file_name().unwrap().to_string_lossy();
            if path.extension().is_none_or(|e| e != "rs") || name == "tests.rs" {
                continue;
            }
            let module = rel
                .components()
                .next()
                .unwrap()
                .as_os_str()
                .to_string_lossy()
                .trim_end_matches(".rs")
                .to_string();
            let text = std::fs::read_to_string(&path).unwrap();
            // Inline unit tests sit at the end, after `#[cfg(test)]` and `mod tests`.
            let code = text
                .find("#[cfg(test)]\nmod tests")
                .map_or(text.as_str(), |end| &text[..end]);
            let deps = graph.entry(module.clone()).or_default();
            for line in code.lines() {
                let line = line.trim_start();
                if line.starts_with("//") {
                    continue;
                }
                for (i, _) in line.match_indices("crate::") {
                    let rest = &line[i + "crate::".len()..];
                    let dep: String = rest
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    if !dep.is_empty() && dep != module {
                        deps.insert(dep);
                    }
                }
            }
        }
    }
    graph
}

#[test]
fn modules_form_no_cycle() {
    let graph = imports();
    // Depth-first search; a module met again while on the path closes a cycle.
    fn visit<'a>(
        m: &'a str,
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| *p == m) {
            let mut cycle: Vec<String> = path[i..].iter().map(|s| s.to_string()).collect();
            cycle.push(m.to_string());
            return Some(cycle);
        }
        if !done.insert(m) {
            return None;
        }
        path.push(m);
        for dep in graph.get(m).into_iter().flatten() {
            if let Some(c) = visit(dep, graph, path, done) {
                return Some(c);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    for m in graph.keys() {
        if let Some(cycle) = visit(m, &graph, &mut Vec::new(), &mut done) {
            panic!("an import cycle: {}\n{graph:#?}", cycle.join(" → "));
        }
    }
}

#[test]
fn rules_read_only_the_model() {
    let graph = imports();
    let allowed: BTreeSet<&str> = [
        "model",
        "patch",
        "pointer",
        "redisconf",
        "units",
        "exemptions",
        "hint",
    ]
    .into_iter()
    .collect();
    let rules: BTreeSet<&str> = graph["rules"].iter().map(String::as_str).collect();
    let beyond: Vec<&&str> = rules.difference(&allowed).collect();
    assert!(beyond.is_empty(), "rules reach {beyond:?}");
    // And no module the rules use reaches back up.
    for low in ["model", "patch", "pointer", "exemptions"] {
        for high in [
            "rules", "engine", "extract", "fix", "webhook", "report", "lint",
        ] {
            assert!(!graph[low].contains(high), "{low} imports {high}");
        }
    }
}
