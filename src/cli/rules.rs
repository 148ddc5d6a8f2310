//! `redline rules` and `redline explain`.

use super::*;

pub(super) fn list_rules(format: RulesFormat) -> ExitCode {
    emit(rules_text(format).as_bytes())
        .err()
        .unwrap_or(ExitCode::SUCCESS)
}

/// What `redline rules` prints: one line per rule, or the catalogue as JSON.
pub fn rules_text(format: RulesFormat) -> String {
    let mut out = String::new();
    let rules = crate::rules::all();
    match format {
        RulesFormat::Text => {
            let width = rules.iter().map(|r| r.id().len()).max().unwrap_or(0);
            for r in rules {
                let _ = writeln!(
                    out,
                    "{:width$}  {:7}  {}{}{}",
                    r.id(),
                    r.meta.severity.to_string(),
                    r.meta.summary,
                    if r.meta.mutate { " [mutates]" } else { "" },
                    if r.meta.webhook {
                        ""
                    } else {
                        " [not in the webhook]"
                    }
                );
            }
        }
        RulesFormat::Json => {
            let list: Vec<_> = rules
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "id": r.id(),
                        "severity": r.meta.severity,
                        "summary": r.meta.summary,
                        "mutate": r.meta.mutate,
                        "webhook": r.meta.webhook,
                        "parameters": r.meta.parameters,
                        "sources": r.meta.sources,
                    })
                })
                .collect();
            let _ = writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({"version": 1, "rules": list}))
                    .unwrap_or_default()
            );
        }
    }
    out
}

pub(super) fn explain(id: &str) -> ExitCode {
    let Some(rule) = crate::rules::get(id) else {
        return unknown_rule(id);
    };
    emit(crate::rules::explain_text(rule).as_bytes())
        .err()
        .unwrap_or(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::{RulesFormat, rules_text};
    use crate::rules::explain_text;

    #[test]
    fn rules_lists_every_rule_once() {
        let text = rules_text(RulesFormat::Text);
        let all = crate::rules::all();
        assert_eq!(text.lines().count(), all.len());
        for (line, rule) in text.lines().zip(all) {
            assert!(line.starts_with(&format!("{} ", rule.id())), "{line}");
            assert!(line.contains(&rule.meta.summary), "{line}");
            assert_eq!(line.ends_with(" [mutates]"), rule.meta.mutate, "{line}");
        }
        let json: serde_json::Value = serde_json::from_str(&rules_text(RulesFormat::Json)).unwrap();
        assert_eq!(json["version"], 1);
        let listed = json["rules"].as_array().unwrap();
        assert_eq!(listed.len(), all.len());
        assert_eq!(
            listed[0]["parameters"]["error_ratio"]["default"],
            serde_json::json!(0.9),
            "{}",
            listed[0]
        );
    }

    #[test]
    fn explain_prints_the_doc_then_parameters_and_sources() {
        let rule = crate::rules::get("redis-liveness-probe-timeout").unwrap();
        let text = explain_text(rule);
        assert!(
            text.starts_with("## redis-liveness-probe-timeout\n"),
            "{text}"
        );
        assert!(text.contains("Default severity: warning\n"), "{text}");
        assert!(
            text.contains("  min_timeout_seconds (default 5): "),
            "{text}"
        );
        let sources = text.split("Sources:\n").nth(1).unwrap();
        assert_eq!(sources.lines().count(), rule.meta.sources.len());
        assert!(
            sources.lines().all(|l| l.starts_with("  https://")),
            "{sources}"
        );
    }
}
