//! Just enough of a POSIX shell / bash reader to follow the start-up scripts Redis charts
//! ship (`sh -c "…"`, Bitnami's `start-master.sh`, redis-ha's `init.sh`, valkey-helm's
//! `init.sh`): commands split at `;`, `&&`, `||`, `|`, `&` and line breaks, quotes removed,
//! arrays built with `NAME=(…)` / `NAME+=(…)`, `cp` of files, and the line that starts the
//! server. Control flow is not evaluated: every branch is read, so the result
//! over-approximates what runs, and what depends on run-time values is left as `$VAR` text for
//! the caller to expand or declare unknown.

/// One word of a command, its quotes removed, with the byte offset of its first character.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    pub text: String,
    pub offset: usize,
}

/// The commands of a script, in order.
pub fn commands(text: &str) -> Vec<Vec<Word>> {
    let bytes = text.as_bytes();
    let mut out: Vec<Vec<Word>> = Vec::new();
    let mut command: Vec<Word> = Vec::new();
    let mut i = 0;
    let end_command = |command: &mut Vec<Word>, out: &mut Vec<Vec<Word>>| {
        if !command.is_empty() {
            out.push(std::mem::take(command));
        }
    };
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b'\\' if bytes.get(i + 1) == Some(&b'\n') => i += 2,
            b'\n' | b';' | b'&' | b'|' => {
                end_command(&mut command, &mut out);
                i += 1;
            }
            b'(' | b')' | b'{' | b'}' if word_boundary(bytes, i) => {
                command.push(Word {
                    text: (c as char).to_string(),
                    offset: i,
                });
                i += 1;
            }
            b'#' => {
                // A comment runs to the end of the line.
                i = text[i..].find('\n').map_or(bytes.len(), |n| i + n);
            }
            _ if c.is_ascii_whitespace() => i += 1,
            _ => {
                let (word, next) = read_word(text, i);
                command.push(Word {
                    text: word,
                    offset: i,
                });
                i = next;
            }
        }
    }
    end_command(&mut command, &mut out);
    out
}

/// `(`, `)`, `{`, `}` stand alone unless inside a word.
fn word_boundary(bytes: &[u8], i: usize) -> bool {
    let after = bytes.get(i + 1).copied();
    matches!(bytes[i], b'(' | b')') || after.is_none_or(|a| a.is_ascii_whitespace() || a == b';')
}

/// One shell word from `start`: quotes removed, `$(…)` kept whole. Returns the text and the
/// offset after it.
fn read_word(text: &str, start: usize) -> (String, usize) {
    let bytes = text.as_bytes();
    let mut word = String::new();
    let mut i = start;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_whitespace() || matches!(c, b';' | b'&' | b'|' | b')') {
            break;
        }
        match c {
            b'\'' => {
                let end = text[i + 1..].find('\'').map_or(text.len(), |e| i + 1 + e);
                word.push_str(&text[i + 1..end]);
                i = (end + 1).min(text.len());
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    if bytes[i] == b'\\' && matches!(bytes.get(i + 1), Some(b'"' | b'\\' | b'$')) {
                        i += 1;
                    }
                    let ch = text[i..].chars().next().unwrap_or(' ');
                    word.push(ch);
                    i += ch.len_utf8();
                }
                i = (i + 1).min(text.len());
            }
            b'\\' if i + 1 < bytes.len() => {
                let ch = text[i + 1..].chars().next().unwrap_or('\\');
                if ch != '\n' {
                    word.push(ch);
                }
                i += 1 + ch.len_utf8();
            }
            b'$' if bytes.get(i + 1) == Some(&b'(') => {
                // Command substitution: kept whole, to be reported as unknown.
                let mut depth = 0;
                let from = i;
                while i < bytes.len() {
                    match bytes[i] {
                        b'(' => depth += 1,
                        b')' => {
                            depth -= 1;
                            if depth == 0 {
                                i += 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                    i += 1;
                }
                word.push_str(&text[from..i]);
            }
            b'(' => {
                // `NAME=(` / `NAME+=(`: the array's words follow as words of their own.
                word.push('(');
                i += 1;
                break;
            }
            _ => {
                let ch = text[i..].chars().next().unwrap_or(' ');
                word.push(ch);
                i += ch.len_utf8();
            }
        }
    }
    (word, i)
}

/// What a script does that matters: the command that starts the server (with arrays
/// expanded), and the files it copies.
#[derive(Debug, Default)]
pub struct Script {
    /// The words of the server's command line, from the program on.
    pub launch: Option<Vec<Word>>,
    /// `cp SOURCE DEST` in order.
    pub copies: Vec<(String, String)>,
    /// Other scripts it runs (`/opt/bitnami/scripts/start-scripts/start-master.sh`,
    /// `sh /scripts/init.sh`), in order.
    pub runs: Vec<String>,
    /// What it writes into files, in text order (valkey-helm's `init.sh` composes
    /// valkey.conf with `echo "port 6379" >>"$VALKEY_CONFIG"`), the paths with the script's
    /// own simple variables expanded. Control flow is not run: writes inside a branch, loop or
    /// function are marked conditional.
    pub writes: Vec<Write>,
}

/// One write of a script into a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    /// `echo TEXT >>PATH` (or inside `{ …; } >>PATH`): the text (its first word's offset).
    /// `conditional`: inside an `if`, `case`, loop or function body, so it may not run.
    Line {
        path: String,
        text: String,
        offset: usize,
        conditional: bool,
    },
    /// `cat SOURCE >>PATH`, `cp SOURCE PATH`.
    Append {
        path: String,
        source: String,
        offset: usize,
    },
    /// `rm -f PATH`, `> PATH`, `echo … > PATH`, `cp`: what was written before is gone.
    Truncate { path: String },
}

impl Write {
    pub fn path(&self) -> &str {
        match self {
            Write::Line { path, .. } | Write::Append { path, .. } | Write::Truncate { path } => {
                path
            }
        }
    }
}

/// `>>PATH`, `>PATH`, `>> PATH` among `words`: the path, whether it appends, and the words
/// before the redirection.
fn redirect(words: &[Word]) -> Option<(String, bool, usize)> {
    for (i, w) in words.iter().enumerate() {
        let (append, rest) = match w.text.strip_prefix(">>") {
            Some(rest) => (true, rest),
            None => match w.text.strip_prefix('>') {
                Some(rest) if !rest.starts_with('&') => (false, rest),
                _ => continue,
            },
        };
        let path = if rest.is_empty() {
            words.get(i + 1)?.text.clone()
        } else {
            rest.to_string()
        };
        return Some((path, append, i));
    }
    None
}

/// `$NAME` and `${NAME}` replaced with the script's simple assignments.
fn substitute(text: &str, vars: &[(String, String)]) -> String {
    let mut out = text.to_string();
    for (name, value) in vars {
        out = out
            .replace(&format!("${{{name}}}"), value)
            .replace(&format!("${name}"), value);
    }
    out
}

/// The value of `NAME=VALUE`: `${OTHER:-default}` is its default (the variable is not set
/// in the containers these scripts run in unless the pod says so).
fn assigned(value: &str) -> String {
    match value
        .strip_prefix("${")
        .and_then(|v| v.strip_suffix('}'))
        .and_then(|v| v.split_once(":-"))
    {
        Some((_, default)) => default.to_string(),
        None => value.to_string(),
    }
}

/// Shell keywords that may precede a command on its line.
const KEYWORDS: [&str; 9] = [
    "if", "then", "else", "elif", "do", "while", "until", "!", "exec",
];

/// Reads a script; `is_server` says whether a program name starts a server.
pub fn read(text: &str, is_server: impl Fn(&str) -> bool) -> Script {
    let mut arrays: Vec<(String, Vec<Word>)> = Vec::new();
    let mut vars: Vec<(String, String)> = Vec::new();
    // The echo lines of an open `{ … }` group, written where its `}` redirects.
    let mut group: Option<Vec<(String, usize)>> = None;
    let mut script = Script::default();
    // Open `if`/`case`/loop/function blocks: a write inside one may not run.
    let mut depth = 0usize;
    for command in commands(text) {
        let opens = |w: &Word| matches!(w.text.as_str(), "if" | "case" | "do");
        let closes = |w: &Word| matches!(w.text.as_str(), "fi" | "esac" | "done");
        let function = command.len() >= 3
            && command.last().is_some_and(|w| w.text == "{")
            && command.iter().any(|w| w.text == ")");
        let first = command.first();
        if function || first.is_some_and(opens) {
            depth += 1;
        }
        let conditional = depth > 0;
        if first.is_some_and(closes)
            || first.is_some_and(|w| w.text == "}") && group.is_none() && depth > 0
        {
            depth = depth.saturating_sub(1);
        }
        if let [only] = &command[..]
            && let Some((name, value)) = only.text.split_once('=')
            && !name.is_empty()
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            vars.retain(|(n, _)| n != name);
            vars.push((name.to_string(), assigned(value)));
        }
        if command.first().is_some_and(|w| w.text == "{") && command.len() == 1 {
            group = Some(Vec::new());
            continue;
        }
        if command.first().is_some_and(|w| w.text == "}") {
            if let (Some(lines), Some((path, append, _))) = (group.take(), redirect(&command)) {
                let path = substitute(&path, &vars);
                if !append {
                    script.writes.push(Write::Truncate { path: path.clone() });
                }
                for (text, offset) in lines {
                    script.writes.push(Write::Line {
                        path: path.clone(),
                        text,
                        offset,
                        conditional,
                    });
                }
            }
            continue;
        }
        let plain = command
            .iter()
            .position(|w| !KEYWORDS.contains(&w.text.as_str()))
            .map_or(&command[..0], |i| &command[i..]);
        if let Some(w) = writes(plain, &vars, conditional) {
            match (&mut group, w) {
                (Some(lines), None) => {
                    if let Some((text, offset)) = echo_text(plain) {
                        lines.push((text, offset));
                    }
                }
                (_, Some(w)) => script.writes.extend(w),
                (None, None) => {}
            }
        }
        let mut words: &[Word] = &command;
        while let Some(first) = words.first()
            && (KEYWORDS.contains(&first.text.as_str())
                || first.text.contains('=')
                    && !first.text.ends_with("=(")
                    && !first.text.starts_with('-'))
        {
            words = &words[1..];
        }
        let Some(first) = words.first() else { continue };
        if let Some(name) = first.text.strip_suffix("=(") {
            let (name, append) = match name.strip_suffix('+') {
                Some(n) => (n, true),
                None => (name, false),
            };
            let items: Vec<Word> = words[1..]
                .iter()
                .take_while(|w| w.text != ")")
                .cloned()
                .collect();
            match arrays.iter_mut().find(|(n, _)| n == name) {
                Some((_, existing)) if append => existing.extend(items),
                Some((_, existing)) => *existing = items,
                None => arrays.push((name.to_string(), items)),
            }
            continue;
        }
        let program = first.text.rsplit('/').next().unwrap_or(&first.text);
        if program == "cp" {
            let paths: Vec<&Word> = words[1..]
                .iter()
                .filter(|w| !w.text.starts_with('-'))
                .collect();
            if let [source, dest] = paths[..] {
                script.copies.push((source.text.clone(), dest.text.clone()));
            }
            continue;
        }
        let run = if ["sh", "bash", "source", "."].contains(&program) {
            words.get(1).filter(|w| !w.text.starts_with('-'))
        } else {
            Some(first)
        };
        if let Some(run) = run
            && run.text.starts_with('/')
            && run.text.ends_with(".sh")
        {
            script.runs.push(run.text.clone());
        }
        if script.launch.is_none() && is_server(program) {
            let mut launch = Vec::new();
            for w in words {
                let array = w
                    .text
                    .strip_prefix("${")
                    .and_then(|t| t.strip_suffix("[@]}"));
                match array.and_then(|a| arrays.iter().find(|(n, _)| n == a)) {
                    Some((_, items)) => launch.extend(items.iter().cloned()),
                    None => launch.push(w.clone()),
                }
            }
            script.launch = Some(launch);
        }
    }
    script
}

/// The text an `echo` (or `printf '%s\n'`-less `printf`) prints, with its offset.
fn echo_text(words: &[Word]) -> Option<(String, usize)> {
    let program = words.first()?.text.as_str();
    if program != "echo" && program != "printf" {
        return None;
    }
    let end = redirect(words).map_or(words.len(), |(_, _, i)| i);
    let args: Vec<&Word> = words[1..end]
        .iter()
        .skip_while(|w| program == "echo" && matches!(w.text.as_str(), "-n" | "-e" | "-E"))
        .collect();
    let first = args.first()?;
    let text = args
        .iter()
        .map(|w| w.text.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    Some((text, first.offset))
}

/// What one command writes into files: `Some(vec![])` for a command that writes nothing
/// (so that it may be an `echo` inside a group), `None` for one that is not an echo, cat or
/// rm.
fn writes(
    words: &[Word],
    vars: &[(String, String)],
    conditional: bool,
) -> Option<Option<Vec<Write>>> {
    let program = words.first()?.text.as_str();
    let target = redirect(words).map(|(path, append, _)| (substitute(&path, vars), append));
    match (program, target) {
        ("echo" | "printf", None) => Some(None),
        ("echo" | "printf", Some((path, append))) => {
            let mut out = Vec::new();
            if !append {
                out.push(Write::Truncate { path: path.clone() });
            }
            if let Some((text, offset)) = echo_text(words) {
                out.push(Write::Line {
                    path,
                    text,
                    offset,
                    conditional,
                });
            }
            Some(Some(out))
        }
        ("cp", None) => {
            let paths: Vec<&Word> = words[1..]
                .iter()
                .filter(|w| !w.text.starts_with('-'))
                .collect();
            let [source, dest] = paths[..] else {
                return Some(Some(Vec::new()));
            };
            let path = substitute(&dest.text, vars);
            Some(Some(vec![
                Write::Truncate { path: path.clone() },
                Write::Append {
                    path,
                    source: substitute(&source.text, vars),
                    offset: source.offset,
                },
            ]))
        }
        ("cat", Some((path, append))) => {
            let mut out = Vec::new();
            if !append {
                out.push(Write::Truncate { path: path.clone() });
            }
            let end = redirect(words).map_or(words.len(), |(_, _, i)| i);
            for w in words[1..end].iter().filter(|w| !w.text.starts_with('-')) {
                out.push(Write::Append {
                    path: path.clone(),
                    source: substitute(&w.text, vars),
                    offset: w.offset,
                });
            }
            Some(Some(out))
        }
        ("rm", None) => Some(Some(
            words[1..]
                .iter()
                .filter(|w| !w.text.starts_with('-'))
                .map(|w| Write::Truncate {
                    path: substitute(&w.text, vars),
                })
                .collect(),
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(words: &[Word]) -> Vec<&str> {
        words.iter().map(|w| w.text.as_str()).collect()
    }

    #[test]
    fn commands_split_and_quotes_go() {
        let c = commands("a 'b c' \"d $E\"; f && g\nh \\\n i # j\n");
        let c: Vec<Vec<&str>> = c.iter().map(|w| texts(w)).collect();
        assert_eq!(
            c,
            [
                vec!["a", "b c", "d $E"],
                vec!["f"],
                vec!["g"],
                vec!["h", "i"]
            ]
        );
    }

    #[test]
    fn bitnami_start_script_is_followed() {
        let text = r#"#!/bin/bash
[[ -f $REDIS_PASSWORD_FILE ]] && export REDIS_PASSWORD="$(< "${REDIS_PASSWORD_FILE}")"
if [[ -f /opt/bitnami/redis/mounted-etc/master.conf ]];then
    cp /opt/bitnami/redis/mounted-etc/master.conf /opt/bitnami/redis/etc/master.conf
fi
ARGS=("--port" "${REDIS_PORT}")
ARGS+=("--protected-mode" "no")
ARGS+=("--include" "/opt/bitnami/redis/etc/master.conf")
exec redis-server "${ARGS[@]}"
"#;
        let s = read(text, |p| p == "redis-server");
        let launch = s.launch.unwrap();
        assert_eq!(
            texts(&launch),
            [
                "redis-server",
                "--port",
                "${REDIS_PORT}",
                "--protected-mode",
                "no",
                "--include",
                "/opt/bitnami/redis/etc/master.conf"
            ]
        );
        // Offsets point into the script: the word `--protected-mode` of the second array.
        let at = launch[3].offset;
        assert_eq!(&text[at..at + 17], "\"--protected-mode");
        assert_eq!(
            s.copies,
            [(
                "/opt/bitnami/redis/mounted-etc/master.conf".to_string(),
                "/opt/bitnami/redis/etc/master.conf".to_string()
            )]
        );
    }

    #[test]
    fn scripts_a_script_runs_are_listed() {
        let s = read(
            "set -e\n/opt/bitnami/scripts/start-scripts/start-master.sh\nsh /s/init.sh x",
            |_| false,
        );
        assert_eq!(
            s.runs,
            [
                "/opt/bitnami/scripts/start-scripts/start-master.sh",
                "/s/init.sh"
            ]
        );
    }

    #[test]
    fn loops_without_a_server_start_nothing() {
        let text = "while true; do sleep 60; redis-cli -p 6379 ping; done";
        assert!(read(text, |p| p == "redis-server").launch.is_none());
    }

    #[test]
    fn writes_into_files_are_read_with_the_scripts_variables() {
        let text = "CONF=${CONF_PATH:-/data/valkey.conf}\nrm -f \"$CONF\"\n{\n  echo \"port 6379\"\n  echo \"bind * -::*\"\n} >>\"$CONF\"\necho \"aclfile /etc/users.acl\" >> $CONF\nif [ -f /extra.conf ]; then cat /extra.conf >>\"$CONF\"; fi\necho \"$(date) started\" | tee -a /log >&2\necho 'replicaof $HOST 6379' > ${CONF}\nup() {\n  echo \"replica-priority 0\" >> $CONF\n}\n";
        let script = read(text, |_| false);
        let lines: Vec<String> = script
            .writes
            .iter()
            .map(|w| match w {
                Write::Line {
                    path,
                    text,
                    conditional,
                    ..
                } => format!(
                    "{path} << {text}{}",
                    if *conditional { " (if)" } else { "" }
                ),
                Write::Append { path, source, .. } => format!("{path} <- {source}"),
                Write::Truncate { path } => format!("{path} cleared"),
            })
            .collect();
        assert_eq!(
            lines,
            [
                "/data/valkey.conf cleared",
                "/data/valkey.conf << port 6379",
                "/data/valkey.conf << bind * -::*",
                "/data/valkey.conf << aclfile /etc/users.acl",
                "/data/valkey.conf <- /extra.conf",
                "/data/valkey.conf cleared",
                "/data/valkey.conf << replicaof $HOST 6379",
                "/data/valkey.conf << replica-priority 0 (if)",
            ]
        );
    }
}
