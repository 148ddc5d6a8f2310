//! `redline check-conf`: a redis.conf judged as one release's server reads it.

use super::*;

pub(super) fn parse_release(text: &str) -> Result<&'static crate::redisconf::Release, String> {
    use crate::redisconf::Release;
    Release::parse(text).ok_or_else(|| {
        let known: Vec<String> = Release::all()
            .iter()
            .map(|r| format!("{}-{}.{}", r.engine, r.major, r.minor).to_lowercase())
            .collect();
        format!(
            "no directive table for `{text}`; known: {}",
            known.join(", ")
        )
    })
}

pub(super) fn check_conf(
    file: &std::path::Path,
    release: &'static crate::redisconf::Release,
    args: &[String],
) -> ExitCode {
    use crate::redisconf::{ConfigFiles, Dialect, ReadOptions, RedisConfig};
    use crate::units::human;

    // Capped before reading: `check-conf /dev/zero` must not read until memory runs out.
    let max_bytes = crate::source::Limits::default().max_bytes;
    let read = |path: &std::path::Path| -> Result<String, String> {
        let bytes = crate::input::read_capped(path, max_bytes).map_err(|e| e.to_string())?;
        if bytes.len() > max_bytes {
            return Err(format!("larger than the limit of {max_bytes} bytes"));
        }
        String::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_string())
    };
    let content = match read(file) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("redline: cannot read {}: {e}", file.display());
            return ExitCode::from(EXIT_USAGE);
        }
    };
    // `include` lines may name files next to it: offer the reader every readable regular
    // file of that directory. One that cannot be read is simply not offered, and an include
    // of it is then reported as redis-server would report it ("can't open config file").
    let absolute = std::path::absolute(file).unwrap_or_else(|_| file.to_path_buf());
    let mut files = ConfigFiles::new();
    if let Some(dir) = absolute.parent()
        && let Ok(entries) = std::fs::read_dir(dir)
    {
        for path in entries.flatten().map(|e| e.path()).filter(|p| p.is_file()) {
            if let Ok(text) = read(&path) {
                files.insert(path.to_string_lossy(), text);
            }
        }
    }
    files.insert(absolute.to_string_lossy(), content);
    let mut argv = vec![absolute.to_string_lossy().into_owned()];
    argv.extend(args.iter().cloned());
    let options = ReadOptions {
        cwd: absolute
            .parent()
            .map_or("/".into(), |p| p.to_string_lossy().into_owned()),
        sentinel_mode: false,
        dialect: Dialect::Release(release),
    };
    let cfg = RedisConfig::from_argv(&argv, &files, &options);
    let mut out = String::new();

    let maxmemory = cfg.maxmemory_bytes();
    let origin = cfg
        .line_of("maxmemory")
        .map_or("default".to_string(), |l| l.location().to_string());
    let _ = writeln!(
        out,
        "maxmemory          {maxmemory} ({}) from {origin}",
        if maxmemory == 0 {
            "no limit".to_string()
        } else {
            human::size(maxmemory)
        }
    );
    let _ = writeln!(out, "maxmemory-policy   {}", cfg.maxmemory_policy());
    let save = cfg.config_get("save").unwrap_or_default();
    let _ = writeln!(
        out,
        "save               {}{}",
        if save.is_empty() {
            "(none: RDB snapshots off)"
        } else {
            &save
        },
        if cfg.save_is_default() {
            " (implicit default)"
        } else {
            ""
        }
    );
    let _ = writeln!(
        out,
        "appendonly         {}",
        if cfg.appendonly() { "yes" } else { "no" }
    );
    let _ = writeln!(
        out,
        "cluster-enabled    {}",
        if cfg.cluster_enabled() { "yes" } else { "no" }
    );
    let _ = writeln!(
        out,
        "client-output-buffer-limit {}",
        cfg.config_get("client-output-buffer-limit")
            .unwrap_or_default()
    );
    if cfg.starts() {
        let _ = writeln!(
            out,
            "{} would start with this configuration.",
            server_name(release)
        );
        emit(out.as_bytes()).err().unwrap_or(ExitCode::SUCCESS)
    } else {
        for e in cfg.errors() {
            let _ = writeln!(out, "error: {e}");
        }
        let _ = writeln!(
            out,
            "{} would refuse to start ({} error(s)).",
            server_name(release),
            cfg.errors().len()
        );
        emit(out.as_bytes()).err().unwrap_or(ExitCode::from(1))
    }
}

/// `redis-server 7.0.15`, `valkey-server 8.0.1`.
pub(super) fn server_name(release: &crate::redisconf::Release) -> String {
    format!(
        "{}-server {}",
        release.engine.to_string().to_lowercase(),
        release.version
    )
}
