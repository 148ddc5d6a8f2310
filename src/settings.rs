//! The user's configuration: `.redline.yaml` (found in the working directory or a parent),
//! or the file given with `--config`.
//!
//! ```yaml
//! rules:
//!   redis-pdb-missing:
//!     enabled: false
//!   redis-maxmemory-headroom:
//!     severity: warning          # every finding of the rule at this level
//!     parameters: {fork_ratio: 0.7}
//!     namespaces: ["prod-*"]     # only these namespaces (globs)
//!     exclude_namespaces: [sandbox]
//!   redis-readiness-probe-missing:
//!     mutate: false              # the webhook reports but does not patch
//!   redis-engine-lifecycle:
//!     webhook: true              # also judge admissions (off by default for this rule)
//! annotation_exemptions: true    # honour redline.dev/ignore (default)
//! kubeblocks_maxmemory: "limit:0.8"
//! ```
//!
//! Anything unknown — a key, a rule ID, a parameter, a value of the wrong type — is an
//! error naming the file, the line and the key: a typo must not silently keep a rule on.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::engine::Settings;
use crate::extract::KubeBlocksMaxmemory;
use crate::rules::{self, ParamValue, Severity};
use crate::source::{Limits, Node, load_yaml};

/// The file name looked for.
pub const FILE_NAME: &str = ".redline.yaml";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    rules: BTreeMap<String, RuleEntry>,
    #[serde(default)]
    annotation_exemptions: Option<bool>,
    #[serde(default)]
    kubeblocks_maxmemory: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleEntry {
    #[serde(default)]
    enabled: Option<bool>,
    #[serde(default)]
    severity: Option<Severity>,
    #[serde(default)]
    parameters: BTreeMap<String, ParamValue>,
    #[serde(default)]
    namespaces: Vec<String>,
    #[serde(default)]
    exclude_namespaces: Vec<String>,
    #[serde(default)]
    mutate: Option<bool>,
    #[serde(default)]
    webhook: Option<bool>,
}

/// The configuration, resolved against the rule registry.
#[derive(Debug, Clone, Default)]
pub struct UserConfig {
    pub settings: Settings,
    pub kubeblocks_maxmemory: Option<KubeBlocksMaxmemory>,
    /// Where it was read from (`None`: built-in defaults).
    pub path: Option<PathBuf>,
}

impl UserConfig {
    /// How the model is built: `overriding` (the command line's `--kubeblocks-maxmemory`)
    /// over the file's `kubeblocks_maxmemory`, over the default.
    pub fn extract_options(
        &self,
        overriding: Option<KubeBlocksMaxmemory>,
    ) -> crate::extract::Options {
        crate::extract::Options {
            kubeblocks_maxmemory: overriding
                .or(self.kubeblocks_maxmemory)
                .unwrap_or(crate::extract::Options::default().kubeblocks_maxmemory),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub path: String,
    pub line: Option<u32>,
    pub column: Option<u32>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ConfigError {}

/// `.redline.yaml` in `dir` or the nearest parent that has one.
pub fn discover(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .map(|d| d.join(FILE_NAME))
        .find(|p| p.is_file())
}

/// Read and resolve a configuration file.
pub fn read(path: &Path) -> Result<UserConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        path: path.display().to_string(),
        line: None,
        column: None,
        message: format!("cannot read: {e}"),
    })?;
    let mut config = parse(&path.display().to_string(), &text)?;
    config.path = Some(path.to_path_buf());
    Ok(config)
}

/// Parse configuration text; `name` is used in errors.
pub fn parse(name: &str, text: &str) -> Result<UserConfig, ConfigError> {
    let error = |pos: Option<(u32, u32)>, message: String| ConfigError {
        path: name.to_string(),
        line: pos.map(|p| p.0),
        column: pos.map(|p| p.1),
        message,
    };
    let file: Option<File> = yaml_serde::from_str(text).map_err(|e| {
        let pos = e.location().map(|l| (l.line() as u32, l.column() as u32));
        error(pos, e.to_string())
    })?;
    let Some(file) = file else {
        return Ok(UserConfig::default());
    };
    // Positions of keys, for errors serde cannot place (an unknown rule ID).
    let tree = load_yaml(name, text.to_string(), &Limits::default());
    let root = tree.documents.first().map(|d| &d.root);
    let pos_of = |path: &[&str]| -> Option<(u32, u32)> {
        let mut node: &Node = root?;
        let mut pos = None;
        for key in path {
            let entry = node.entry(key)?;
            pos = entry.key.start().map(|p| (p.line, p.column));
            node = &entry.value;
        }
        pos
    };

    let mut config = UserConfig::default();
    if let Some(a) = file.annotation_exemptions {
        config.settings.annotation_exemptions = a;
    }
    if let Some(k) = &file.kubeblocks_maxmemory {
        config.kubeblocks_maxmemory = Some(k.parse().map_err(|e: String| {
            error(
                pos_of(&["kubeblocks_maxmemory"]),
                format!("kubeblocks_maxmemory: {e}"),
            )
        })?);
    }
    for (id, entry) in file.rules {
        let at = |path: &[&str]| {
            let mut full = vec!["rules", id.as_str()];
            full.extend_from_slice(path);
            pos_of(&full)
        };
        let Some(info) = rules::get(&id) else {
            let hint = rules::closest(&id)
                .map(|c| format!("; did you mean `{c}`?"))
                .unwrap_or_else(|| "; `redline rules` lists them".into());
            return Err(error(at(&[]), format!("unknown rule `{id}`{hint}")));
        };
        let Some(rs) = config.settings.rules.get_mut(&id) else {
            continue;
        };
        if let Some(enabled) = entry.enabled {
            rs.enabled = enabled;
        }
        if entry.severity.is_some() {
            rs.severity = entry.severity;
        }
        if let Some(mutate) = entry.mutate {
            rs.mutate = mutate;
        }
        if let Some(webhook) = entry.webhook {
            rs.webhook = webhook;
        }
        for (name, value) in entry.parameters {
            let Some(spec) = info.meta.parameters.get(&name) else {
                let known: Vec<&str> = info.meta.parameters.keys().map(String::as_str).collect();
                let known = if known.is_empty() {
                    "it has none".to_string()
                } else {
                    format!("it has {}", known.join(", "))
                };
                return Err(error(
                    at(&["parameters", &name]),
                    format!("rule `{id}` has no parameter `{name}` ({known})"),
                ));
            };
            spec.check(&value).map_err(|e| {
                error(
                    at(&["parameters", &name]),
                    format!("rules.{id}.parameters.{name}: {e}"),
                )
            })?;
            config
                .settings
                .parameters
                .set(&id, &name, &value)
                .map_err(|e| {
                    error(
                        at(&["parameters", &name]),
                        format!("rules.{id}.parameters.{name}: {e}"),
                    )
                })?;
        }
        let globs = |list: &[String], key: &str| -> Result<Vec<glob::Pattern>, ConfigError> {
            list.iter()
                .map(|g| {
                    glob::Pattern::new(g).map_err(|e| {
                        error(
                            at(&[key]),
                            format!("rules.{id}.{key}: `{g}` is not a glob: {e}"),
                        )
                    })
                })
                .collect()
        };
        rs.namespaces = globs(&entry.namespaces, "namespaces")?;
        rs.exclude_namespaces = globs(&entry.exclude_namespaces, "exclude_namespaces")?;
    }
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::parse;
    use crate::rules::Severity;

    #[test]
    fn a_configuration_changes_rules() {
        let c = parse(
            ".redline.yaml",
            "rules:\n  redis-pdb-missing:\n    enabled: false\n  redis-maxmemory-headroom:\n    \
             severity: warning\n    parameters:\n      fork_ratio: 0.7\n    namespaces: [\"prod-*\"]\n",
        )
        .unwrap();
        let r = &c.settings.rules;
        assert!(!r["redis-pdb-missing"].enabled);
        let h = &r["redis-maxmemory-headroom"];
        assert_eq!(h.severity, Some(Severity::Warning));
        assert_eq!(
            c.settings.parameters.redis_maxmemory_headroom.fork_ratio,
            0.7
        );
        assert!(h.namespaces[0].matches("prod-eu"));
    }

    #[test]
    fn webhook_turns_a_rule_on_or_off_in_the_admission_webhook() {
        let defaults = crate::engine::Settings::default();
        assert!(!defaults.rules["redis-engine-lifecycle"].webhook);
        assert!(defaults.rules["redis-maxmemory-headroom"].webhook);
        let c = parse(
            ".redline.yaml",
            "rules:\n  redis-engine-lifecycle:\n    webhook: true\n  \
             redis-pdb-missing:\n    webhook: false\n",
        )
        .unwrap();
        assert!(c.settings.rules["redis-engine-lifecycle"].webhook);
        assert!(!c.settings.rules["redis-pdb-missing"].webhook);
        let e = parse(
            ".redline.yaml",
            "rules:\n  redis-pdb-missing:\n    webhook: sometimes\n",
        )
        .unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
    }

    #[test]
    fn unknown_keys_are_errors_that_name_them() {
        let e = parse(
            ".redline.yaml",
            "rules:\n  redis-pdb-mising:\n    enabled: false\n",
        )
        .unwrap_err();
        assert_eq!((e.line, e.column), (Some(2), Some(3)));
        assert!(e.message.contains("`redis-pdb-mising`"), "{e}");
        assert!(
            e.message.contains("did you mean `redis-pdb-missing`"),
            "{e}"
        );

        let e = parse(".redline.yaml", "rulez: {}\n").unwrap_err();
        assert!(e.to_string().contains("rulez"), "{e}");
        assert_eq!(e.line, Some(1));

        let e = parse(
            ".redline.yaml",
            "rules:\n  redis-pdb-missing:\n    enable: false\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("enable"), "{e}");
        assert_eq!(e.line, Some(3));

        let e = parse(
            "c.yaml",
            "rules:\n  redis-maxmemory-headroom:\n    parameters:\n      fork_ration: 0.7\n",
        )
        .unwrap_err();
        assert_eq!(e.line, Some(4));
        assert!(e.message.contains("no parameter `fork_ration`"), "{e}");
        assert!(e.message.contains("fork_ratio"), "{e}");
    }

    #[test]
    fn parameter_values_are_checked() {
        let e = parse(
            "c.yaml",
            "rules:\n  redis-maxmemory-headroom:\n    parameters:\n      fork_ratio: high\n",
        )
        .unwrap_err();
        assert!(e.message.contains("expected a number"), "{e}");
        let e = parse(
            "c.yaml",
            "rules:\n  redis-maxmemory-headroom:\n    parameters:\n      fork_ratio: 1.5\n",
        )
        .unwrap_err();
        assert!(e.message.contains("above the maximum"), "{e}");
        let e = parse(
            "c.yaml",
            "rules:\n  redis-memory-request-ratio:\n    parameters:\n      mode: lower\n",
        )
        .unwrap_err();
        assert!(e.message.contains("raise-limit"), "{e}");
        // A whole-number parameter takes no fraction: the rule's typed struct refuses it,
        // at its line.
        let e = parse(
            "c.yaml",
            "rules:\n  redis-liveness-probe-timeout:\n    parameters:\n      min_timeout_seconds: 5.5\n",
        )
        .unwrap_err();
        assert!(
            e.message
                .contains("min_timeout_seconds: invalid type: floating point `5.5`"),
            "{e}"
        );
        assert_eq!(e.line, Some(4), "{e}");
        let c = parse(
            "c.yaml",
            "rules:\n  redis-liveness-probe-timeout:\n    parameters:\n      min_timeout_seconds: 7\n",
        )
        .unwrap();
        assert_eq!(
            c.settings
                .parameters
                .redis_liveness_probe_timeout
                .min_timeout_seconds,
            7
        );
        let e = parse(
            "c.yaml",
            "rules:\n  redis-pdb-missing:\n    severity: fatal\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("fatal"), "{e}");
    }

    #[test]
    fn an_empty_file_is_the_defaults() {
        let c = parse("c.yaml", "# nothing yet\n").unwrap();
        assert!(c.settings.rules.values().all(|r| r.enabled));
        assert!(c.settings.annotation_exemptions);
    }
}
