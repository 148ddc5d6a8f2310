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
}

/// Shell keywords that may precede a command on its line.
const KEYWORDS: [&str; 9] = [
    "if", "then", "else", "elif", "do", "while", "until", "!", "exec",
];

/// Reads a script; `is_server` says whether a program name starts a server.
pub fn read(text: &str, is_server: impl Fn(&str) -> bool) -> Script {
    let mut arrays: Vec<(String, Vec<Word>)> = Vec::new();
    let mut script = Script::default();
    for command in commands(text) {
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
}
