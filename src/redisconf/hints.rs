//! What an error message adds: "did you mean", the release that knows a directive, the
//! arity a line should have.

use super::*;

/// "Did you mean" is searched for the first errors only: redis-server stops at the first,
/// and a tenant's ConfigMap of 50,000 unknown lines would otherwise cost seconds of edit
/// distances on the webhook's time (found by fuzzing, issue 9).
pub(super) const MAX_SUGGESTIONS: usize = 32;

pub(super) fn unknown_directive_hint(
    name: &str,
    argc: usize,
    dialect: &Dialect,
    suggest: bool,
) -> String {
    match name {
        "include" | "rename-command" | "user" | "loadmodule" => format!(
            "`{name}` with {} argument(s): include takes 1, rename-command 2, user and loadmodule at least 1",
            argc - 1
        ),
        _ => {
            if let Some(history) = release::history(name, dialect) {
                return format!("`{name}` is {history}; this is {}", dialect.line());
            }
            let close = suggest
                .then(|| dialect.table().directives)
                .into_iter()
                .flatten()
                .flat_map(|d| std::iter::once(d.name).chain(d.alias))
                .find(|candidate| crate::hint::edit_distance_within(candidate, name, 2).is_some());
            match close {
                Some(c) => format!("unknown directive `{name}`; did you mean `{c}`?"),
                None => match dialect {
                    Dialect::Release(_) => format!(
                        "unknown directive `{name}` ({} knows none by that name)",
                        dialect.line()
                    ),
                    Dialect::Unknown(_) => format!(
                        "unknown directive `{name}`: no release of Redis {} or Valkey {} knows \
                         it, and the release that runs here is not known",
                        release::span(Engine::Redis),
                        release::span(Engine::Valkey)
                    ),
                },
            }
        }
    }
}

pub(super) fn arity_hint(tokens: &[Token]) -> String {
    if let Some(t) = tokens.iter().skip(1).find(|t| t.text.starts_with('#')) {
        return format!(
            "redis.conf has no inline comments: `{}…` is read as more arguments; put the comment on a line of its own",
            t.text
        );
    }
    if tokens.len() == 1 {
        return "no value given".into();
    }
    format!(
        "`{}` takes exactly one argument, {} given; quote a value that contains spaces",
        tokens[0].text,
        tokens.len() - 1
    )
}

pub(super) type SetResult = Result<(), (String, Option<String>, usize)>;
