//! Setting one directive as config.c's `setConfig*` functions do: standard directives by
//! their type and bounds, the special ones (`save`, `client-output-buffer-limit`, `user`, …)
//! by their own code.

use super::*;

impl RedisConfig {
    /// Directives outside the standard table: include, rename-command, user, loadmodule,
    /// module settings, sentinel, deprecated names.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn set_other(
        &mut self,
        name: &str,
        tokens: &[Token],
        line_index: usize,
        text: &Text,
        i: usize,
        state: &mut ReadState<'_>,
        reading_config_file: &mut bool,
    ) -> SetResult {
        let argc = tokens.len();
        let arg = |k: usize| tokens[k].text.as_str();
        if DEPRECATED.contains(&name) && argc == 2 {
            return Ok(());
        }
        match name {
            "include" if argc == 2 => {
                let path = resolve(&state.cwd, arg(1));
                let wildcard = arg(1).contains(['*', '?', '[']);
                let paths: Vec<String> = if wildcard {
                    state
                        .files
                        .glob(&path)
                        .into_iter()
                        .map(String::from)
                        .collect()
                } else if state.files.get(&path).is_some() {
                    vec![path.clone()]
                } else {
                    // Fatal before anything is parsed; redis-server logs it without a line.
                    self.whole_config_error(
                        Some(text.location(i, tokens[1].offset)),
                        format!(
                            "Fatal error, can't open config file '{path}': No such file or directory"
                        ),
                        Some("included files must be in the input (mounted from a ConfigMap)"),
                    );
                    self.lines[line_index].refused = true;
                    return Ok(());
                };
                self.include_loads += 1;
                if self.include_loads > MAX_INCLUDE_LOADS {
                    return Err((
                        "too many includes".into(),
                        Some(format!(
                            "more than {MAX_INCLUDE_LOADS} include lines were followed (an include cycle?)"
                        )),
                        1,
                    ));
                }
                if self.include_depth >= MAX_INCLUDE_DEPTH {
                    return Err((
                        "include nesting too deep".into(),
                        Some("redis-server would recurse until it crashes (include cycle?)".into()),
                        1,
                    ));
                }
                let included = build_text(file_segments(state.files, &paths));
                self.include_bytes += included.lines.iter().map(|(l, _)| l.len()).sum::<usize>();
                if self.include_bytes > MAX_INCLUDED_BYTES {
                    return Err((
                        "includes too large".into(),
                        Some(format!(
                            "more than {} MiB were read through includes (an include cycle?)",
                            MAX_INCLUDED_BYTES >> 20
                        )),
                        1,
                    ));
                }
                self.include_depth += 1;
                self.load(included, state, true);
                self.include_depth -= 1;
                *reading_config_file = false;
                Ok(())
            }
            "rename-command" if argc == 3 => {
                let from = arg(1).to_ascii_lowercase();
                let to = arg(2).to_string();
                if from.contains('|') {
                    return Err((
                        "No such command in rename-command".into(),
                        Some("subcommands cannot be renamed".into()),
                        1,
                    ));
                }
                let exists = |cfg: &RedisConfig, name: &str| {
                    let renamed_away = cfg.renamed.iter().any(|(f, _, _)| f == name);
                    let renamed_to = cfg
                        .renamed
                        .iter()
                        .any(|(_, t, _)| t.eq_ignore_ascii_case(name));
                    renamed_to || (directives::is_command(name) && !renamed_away)
                };
                // The command list is 7.0.15's: a later release's new command is not known
                // to be absent.
                let commands_known = self.dialect == Dialect::Release(Release::redis_7_0());
                if commands_known && !exists(self, &from) {
                    return Err((
                        "No such command in rename-command".into(),
                        Some(format!(
                            "`{}` is not a command, or was renamed already",
                            arg(1)
                        )),
                        1,
                    ));
                }
                if !to.is_empty() && exists(self, &to.to_ascii_lowercase()) {
                    return Err(("Target command name already exists".into(), None, 2));
                }
                // A command renamed twice is tracked under its current name.
                if let Some(entry) = self
                    .renamed
                    .iter_mut()
                    .find(|(_, t, _)| t.eq_ignore_ascii_case(&from))
                {
                    entry.1 = to;
                    entry.2 = line_index;
                } else {
                    self.renamed.push((from, to, line_index));
                }
                Ok(())
            }
            "user" if argc >= 2 => {
                let words: Vec<&str> = tokens.iter().map(|t| t.text.as_str()).collect();
                let channels = self.enum_value("acl-pubsub-default") == "allchannels";
                let selectors = self.dialect.table().major >= 7;
                match acl::check_user(&words, &self.users, channels, selectors) {
                    acl::Checked::Refused {
                        message,
                        rule,
                        token,
                    } => Err((
                        message,
                        Some(format!("the rule at fault is `{rule}`")),
                        token,
                    )),
                    acl::Checked::Read { unknown } => {
                        self.users.insert(words[1].to_string());
                        if let Some((token, rule)) = unknown
                            && self.acl_unknown.is_none()
                        {
                            let location = self.lines[line_index].locations[token].clone();
                            self.acl_unknown = Some((location, rule, words[1].to_string()));
                        }
                        Ok(())
                    }
                }
            }
            "loadmodule" if argc >= 2 => Ok(()),
            n if n.contains('.') => {
                if argc < 2 {
                    Err(("Module config specified without value".into(), None, 0))
                } else {
                    Ok(())
                }
            }
            // A name the release's own loader parses without a table entry (KeyDB's
            // `storage-provider`, `tls-allowlist`, …): accepted, its value not checked.
            n if !matches!(
                n,
                "include" | "rename-command" | "user" | "loadmodule" | "sentinel"
            ) && self.dialect.table().loader.contains(&n) =>
            {
                Ok(())
            }
            "sentinel" => {
                if argc != 1 && !state.sentinel_mode {
                    Err((
                        "sentinel directive while not in sentinel mode".into(),
                        None,
                        0,
                    ))
                } else {
                    Ok(())
                }
            }
            _ => Err((
                "Bad directive or wrong number of arguments".into(),
                Some(unknown_directive_hint(
                    name,
                    argc,
                    &self.dialect,
                    self.errors.len() < MAX_SUGGESTIONS,
                )),
                0,
            )),
        }
    }
}

pub(super) fn fail(message: impl Into<String>) -> SetResult {
    Err((message.into(), None, 1))
}

pub(super) fn numeric_error(memory: bool, percent: bool, octal: bool) -> &'static str {
    if memory && percent {
        "argument must be a memory or percent value"
    } else if memory {
        "argument must be a memory value"
    } else if octal {
        "argument couldn't be parsed as an octal number"
    } else {
        "argument couldn't be parsed into an integer"
    }
}

/// `numericParseString`: memory first, then percent, then octal, then a plain integer.
pub(super) fn parse_numeric(v: &str, memory: bool, percent: bool, octal: bool) -> Option<i64> {
    if memory && let Ok(m) = parse_memory(v) {
        return Some(m.bytes as i64);
    }
    if percent
        && v.len() > 1
        && v.ends_with('%')
        && let Some(n) = string2ll(&v[..v.len() - 1]).filter(|n| *n >= 0)
    {
        return Some(-n);
    }
    if octal && let Some(n) = c_strtoll_octal_full(v) {
        return Some(n);
    }
    if !memory && !percent && !octal {
        return string2ll(v);
    }
    None
}

/// `string2d`: a C double with no leading blank and nothing after it.
pub(super) fn string2d(v: &str) -> Option<f64> {
    if v.is_empty() || v.starts_with(|c: char| c.is_ascii_whitespace()) {
        return None;
    }
    v.parse::<f64>().ok().filter(|f| !f.is_nan())
}

impl RedisConfig {
    /// The standard table's setters (`boolConfigSet`, `numericConfigSet`, the specials …).
    pub(super) fn set_standard(
        &mut self,
        d: &'static Directive,
        tokens: &[Token],
        line_index: usize,
        reading_config_file: bool,
        state: &mut ReadState<'_>,
    ) -> SetResult {
        let argc = tokens.len();
        if !d.multi_arg && argc != 2 {
            return Err((
                "wrong number of arguments".into(),
                Some(arity_hint(tokens)),
                0,
            ));
        }
        // A multi-arg directive given one non-empty argument re-splits it (`--save "60 1"`);
        // when that split fails, the setter sees no arguments at all.
        let args: Vec<String> = if d.multi_arg && argc == 2 && !tokens[1].text.is_empty() {
            split_args(&tokens[1].text)
                .map(|t| t.into_iter().map(|t| t.text).collect())
                .unwrap_or_default()
        } else {
            tokens[1..].iter().map(|t| t.text.clone()).collect()
        };
        let value = match &d.kind {
            Kind::Bool { .. } => match args[0].to_ascii_lowercase().as_str() {
                "yes" => Value::Bool(true),
                "no" => Value::Bool(false),
                _ => return fail("argument must be 'yes' or 'no'"),
            },
            Kind::String {
                empty_is_null,
                validator,
            } => {
                let v = &args[0];
                if let Some(message) = validator.and_then(|val| validate_string(val, v)) {
                    return fail(message);
                }
                Value::Str(if *empty_is_null && v.is_empty() {
                    None
                } else {
                    Some(v.clone())
                })
            }
            Kind::Enum { values, validator } => {
                let mut chosen = Vec::new();
                let valid_count = !args.is_empty() && (d.multi_arg || args.len() == 1);
                for a in &args {
                    match values.iter().find(|v| v.eq_ignore_ascii_case(a)) {
                        Some(v) => chosen.push(*v),
                        None => chosen.clear(),
                    }
                    if chosen.is_empty() {
                        break;
                    }
                }
                if !valid_count || chosen.len() != args.len() {
                    return fail(format!(
                        "argument(s) must be one of the following: {}",
                        values.join(", ")
                    ));
                }
                if *validator == Some(Validator::ShutdownOnSigFlags)
                    && chosen.contains(&"save")
                    && chosen.contains(&"nosave")
                {
                    return fail("shutdown options SAVE and NOSAVE can't be used simultaneously");
                }
                Value::Enum(chosen)
            }
            Kind::Numeric {
                min,
                max,
                unsigned,
                memory,
                percent,
                octal,
            } => {
                let Some(ll) = parse_numeric(&args[0], *memory, *percent, *octal) else {
                    let hint = if *memory {
                        parse_memory(&args[0]).err().map(|e| e.reason)
                    } else {
                        None
                    };
                    return Err((numeric_error(*memory, *percent, *octal).into(), hint, 1));
                };
                if *unsigned {
                    let ull = ll as u64 as i128;
                    if ull < *min || ull > *max {
                        return fail(if *octal {
                            format!("argument must be between {:o} and {:o} inclusive", min, max)
                        } else {
                            format!("argument must be between {min} and {max} inclusive")
                        });
                    }
                    Value::Int(ull)
                } else {
                    let v = ll as i128;
                    if *percent && v < 0 {
                        if v < *min {
                            return fail(format!(
                                "percentage argument must be less or equal to {}",
                                -min
                            ));
                        }
                    } else if v < *min || v > *max {
                        return fail(format!(
                            "argument must be between {min} and {max} inclusive"
                        ));
                    }
                    Value::Int(v)
                }
            }
            Kind::Special(special) => {
                self.set_special(*special, &args, line_index, reading_config_file, state)?;
                if *special == Special::Save || *special == Special::ClientOutputBufferLimit {
                    return Ok(());
                }
                Value::Args(match *special {
                    Special::Bind | Special::LatencyTrackingInfoPercentiles
                        if args.len() == 1 && args[0].is_empty() =>
                    {
                        Vec::new()
                    }
                    _ => args,
                })
            }
        };
        self.values.insert(d.name, (value, line_index));
        Ok(())
    }

    pub(super) fn set_special(
        &mut self,
        special: Special,
        args: &[String],
        line_index: usize,
        reading_config_file: bool,
        state: &mut ReadState<'_>,
    ) -> SetResult {
        let argc = args.len();
        match special {
            Special::Dir => {
                if argc != 1 {
                    return fail("wrong number of arguments");
                }
                // redis-server chdir()s here, so later relative includes resolve against it.
                // Whether the directory exists is only known in the container.
                state.cwd = resolve(&state.cwd, &args[0]);
            }
            Special::Save => {
                // `save ""` clears the list before anything else.
                let clear = argc == 1 && args[0].is_empty();
                let args: &[String] = if clear { &[] } else { args };
                if args.len() % 2 == 1 {
                    return fail("Invalid save parameters");
                }
                let mut points = Vec::new();
                for pair in args.chunks(2) {
                    let seconds = c_strtoll_full(&pair[0]).filter(|s| *s >= 1);
                    let changes = c_strtoll_full(&pair[1]).filter(|c| *c >= 0);
                    match (seconds, changes) {
                        // `changes` is stored in a C int.
                        (Some(s), Some(c)) => points.push(SavePoint {
                            seconds: s,
                            changes: c as i32 as i64,
                        }),
                        _ => return fail("Invalid save parameters"),
                    }
                }
                // The first `save` line drops the defaults; later ones append, except after an
                // include (or outside file reading), where each one replaces.
                let reset = !reading_config_file || !self.save_loaded;
                if reading_config_file {
                    self.save_loaded = true;
                }
                let mut current = self.save.take().unwrap_or_default();
                if reset || clear {
                    current.clear();
                    self.save_lines.clear();
                }
                current.extend(points);
                self.save = Some(current);
                self.save_lines.push(line_index);
            }
            Special::ClientOutputBufferLimit => {
                if !argc.is_multiple_of(4) {
                    return fail("Wrong number of arguments in buffer limit configuration.");
                }
                let mut limits = self.obuf.unwrap_or(DEFAULT_OBUF_LIMITS);
                let mut touched = [false; 3];
                for chunk in args.chunks(4) {
                    let class = match chunk[0].to_ascii_lowercase().as_str() {
                        "normal" => ClientClass::Normal,
                        "slave" | "replica" => ClientClass::Replica,
                        "pubsub" => ClientClass::Pubsub,
                        _ => {
                            return fail(
                                "Invalid client class specified in buffer limit configuration.",
                            );
                        }
                    };
                    let hard = parse_memory(&chunk[1]);
                    let soft = parse_memory(&chunk[2]);
                    // soft_seconds is strtoll'd into a C int, then checked for < 0.
                    let seconds = c_strtoll_full(&chunk[3]).map(|s| s as i32);
                    match (hard, soft, seconds) {
                        (Ok(h), Ok(s), Some(secs)) if secs >= 0 => {
                            limits[class.index()] = OutputBufferLimit {
                                hard_bytes: h.bytes,
                                soft_bytes: s.bytes,
                                soft_seconds: secs as i64,
                            };
                            touched[class.index()] = true;
                        }
                        _ => {
                            return fail(
                                "Error in hard, soft or soft_seconds setting in buffer limit configuration.",
                            );
                        }
                    }
                }
                self.obuf = Some(limits);
                for (k, t) in touched.iter().enumerate() {
                    if *t {
                        self.obuf_lines[k] = Some(line_index);
                    }
                }
            }
            Special::OomScoreAdjValues => {
                if argc != 3 {
                    return fail("wrong number of arguments");
                }
                if args
                    .iter()
                    .any(|a| c_strtoll_full(a).is_none_or(|v| !(-2000..=2000).contains(&v)))
                {
                    return fail(
                        "Invalid oom-score-adj-values, elements must be between -2000 and 2000.",
                    );
                }
            }
            Special::NotifyKeyspaceEvents => {
                if argc != 1 {
                    return fail("wrong number of arguments");
                }
                if !args[0].chars().all(|c| "Ag$lshzxeKEtmdn".contains(c)) {
                    return fail("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.");
                }
            }
            Special::Bind => {
                if argc > 16 {
                    return fail("Too many bind addresses specified.");
                }
            }
            Special::ReplicaOf => {
                if argc != 2 {
                    return fail("wrong number of arguments");
                }
                let no_one =
                    args[0].eq_ignore_ascii_case("no") && args[1].eq_ignore_ascii_case("one");
                if !no_one && c_strtoll_full(&args[1]).is_none_or(|p| !(0..=65535).contains(&p)) {
                    return fail("Invalid master port");
                }
            }
            Special::LatencyTrackingInfoPercentiles => {
                if !(argc == 1 && args[0].is_empty()) {
                    for a in args {
                        match string2d(a) {
                            None => {
                                return fail(
                                    "Invalid latency-tracking-info-percentiles parameters",
                                );
                            }
                            Some(p) if !(0.0..=100.0).contains(&p) => {
                                return fail(
                                    "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]",
                                );
                            }
                            Some(_) => {}
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

pub(super) fn validate_string(validator: Validator, v: &str) -> Option<String> {
    let is_path = v.contains(['/', '\\']);
    match validator {
        Validator::Hostname => {
            if v.len() >= 256 {
                Some("Hostnames must be less than 256 characters".into())
            } else if !v
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
            {
                Some("Hostnames may only contain alphanumeric characters, hyphens or dots".into())
            } else {
                None
            }
        }
        Validator::DbFilename if is_path => {
            Some("dbfilename can't be a path, just a filename".into())
        }
        Validator::AofFilename if v.is_empty() => Some("appendfilename can't be empty".into()),
        Validator::AofFilename if is_path => {
            Some("appendfilename can't be a path, just a filename".into())
        }
        Validator::AofDirname if v.is_empty() => Some("appenddirname can't be empty".into()),
        Validator::AofDirname if is_path => {
            Some("appenddirname can't be a path, just a dirname".into())
        }
        _ => None,
    }
}
