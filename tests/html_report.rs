//! `--format html` in a real browser: Debian's Chromium, headless, renders the report of
//! `examples/` to a PNG; its script runs without an error and the console stays empty (the
//! page's `window.onerror` marks the root element, Chromium logs console messages to
//! standard error, and a page with a deliberate error shows both); the page
//! reads the same without script; and the memory budget charts in the rendered DOM hold
//! exactly the numbers of `redline lint --format json examples/`.
//!
//! Chromium: `/usr/bin/chromium` (`apt-get install chromium`; `tests/run` installs it), or
//! `$CHROMIUM`. Every run has its own profile directory and is killed after 60 s, so a hang
//! fails the test instead of blocking it. `REDLINE_SCREENSHOT=path` also copies the
//! screenshot there (the README's `docs/html-report.png`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;
use common::{json, run, scratch};

/// Long enough for a loaded 2-core machine: a render takes about a second unloaded.
const DEADLINE: Duration = Duration::from_secs(60);

fn chromium() -> PathBuf {
    let path = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    assert!(
        path.is_file(),
        "Chromium not found at {} (apt-get install chromium, or set CHROMIUM)",
        path.display()
    );
    path
}

/// Chromium on `page` with `args` (its standard output), in its own process group (the browser starts helpers)
/// and profile; killed with its helpers at the deadline.
fn chromium_on(dir: &Path, page: &Path, args: &[&str]) -> String {
    use std::os::unix::process::CommandExt;
    let profile = tempdir(dir, "profile");
    let (out, err) = (dir.join("chromium.out"), dir.join("chromium.err"));
    let mut child = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            // The page's console messages on standard error (`…:INFO:CONSOLE:…] "…"`).
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .process_group(0)
        .spawn()
        .expect("chromium starts");
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if start.elapsed() > DEADLINE {
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    // The helpers too, whatever happened.
    let group = i32::try_from(child.id()).unwrap();
    unsafe {
        libc::kill(-group, libc::SIGKILL);
    }
    let _ = child.wait();
    let stderr = std::fs::read_to_string(&err).unwrap_or_default();
    let status = status.unwrap_or_else(|| {
        panic!("chromium did not finish within {DEADLINE:?} on {args:?}; stderr:\n{stderr}")
    });
    assert!(status.success(), "chromium {args:?}: {status}\n{stderr}");
    std::fs::read_to_string(&out).unwrap()
}

/// The console messages of the last Chromium run in `dir` (errors, warnings and logs alike).
fn console(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("chromium.err"))
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(str::to_string)
        .collect()
}

fn tempdir(dir: &Path, name: &str) -> PathBuf {
    let d = dir.join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The HTML report of `examples/`, written by the binary with `--output`.
fn report_of_examples(dir: &Path) -> PathBuf {
    let page = dir.join("report.html");
    let o = run(&[
        "lint",
        "--format",
        "html",
        "examples/",
        "-o",
        page.to_str().unwrap(),
    ]);
    // The examples hold errors: exit 1, the report written.
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    page
}

fn dump_dom(dir: &Path, page: &Path, extra: &[&str]) -> String {
    let mut args = vec!["--dump-dom"];
    args.extend_from_slice(extra);
    let dom = chromium_on(dir, page, &args);
    assert!(dom.contains("</html>"), "no DOM dumped: {dom}");
    dom
}

/// The attributes of each start tag that begins with `start` (`<figure class="budget"`),
/// as Chromium serialises them: `name="value"`, `&amp;` and `&quot;` escaped.
fn tags(dom: &str, start: &str) -> Vec<Vec<(String, String)>> {
    let mut out = Vec::new();
    for (at, _) in dom.match_indices(start) {
        let tag = &dom[at..at + dom[at..].find('>').expect("tag ends")];
        let mut attrs = Vec::new();
        let mut rest = tag.split_once(' ').map_or("", |(_, r)| r);
        while let Some((name, after)) = rest.split_once("=\"") {
            let (value, after) = after.split_once('"').expect("quoted value");
            let value = value.replace("&quot;", "\"").replace("&amp;", "&");
            attrs.push((name.trim().to_string(), value));
            rest = after;
        }
        out.push(attrs);
    }
    out
}

fn get<'a>(attrs: &'a [(String, String)], name: &str) -> &'a str {
    attrs
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {name} in {attrs:?}"))
}

/// A `data-*-bytes` value as the JSON writes it: a number, or null for `none`.
fn number(value: &str) -> Value {
    match value {
        "none" => Value::Null,
        v => Value::from(
            v.parse::<i64>()
                .unwrap_or_else(|_| panic!("{v} is no number")),
        ),
    }
}

#[test]
fn the_report_renders_and_its_charts_read_back_as_the_json() {
    let dir = scratch("html-report");
    let page = report_of_examples(&dir);

    // A screenshot: a PNG of the window's size with content (a blank page of that size
    // compresses to a few KiB).
    let shot = dir.join("report.png");
    chromium_on(
        &dir,
        &page,
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1280,2400",
            "--hide-scrollbars",
        ],
    );
    let png = std::fs::read(&shot).expect("the screenshot is written");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let be = |b: &[u8]| u32::from_be_bytes(b.try_into().unwrap());
    assert_eq!(
        (be(&png[16..20]), be(&png[20..24])),
        (1280, 2400),
        "IHDR size"
    );
    assert!(
        png.len() > 60_000,
        "a near-empty screenshot: {} bytes",
        png.len()
    );
    if let Some(copy) = std::env::var_os("REDLINE_SCREENSHOT") {
        std::fs::copy(&shot, copy).unwrap();
    }

    // The script ran, without an error, and filtered nothing by default.
    let dom = dump_dom(&dir, &page, &[]);
    assert_eq!(
        console(&dir),
        Vec::<String>::new(),
        "the console is not empty"
    );
    assert!(!dom.contains("data-js-error=\""), "script error: {dom}");
    assert!(
        dom.contains("data-js-ready=\"1\""),
        "the script did not finish"
    );
    let report = json(&run(&["lint", "--format", "json", "examples/"]));
    let findings = report["findings"].as_array().unwrap().len();
    assert!(findings > 0);
    assert!(
        dom.contains(&format!(
            "<span id=\"shown\" class=\"mute\">{findings} finding(s) shown</span>"
        )),
        "{dom}"
    );
    assert!(dom.contains("<form id=\"filters\">"), "the filters show");
    assert_eq!(tags(&dom, "<article class=\"finding ").len(), findings);

    // The charts: one per server of the JSON's `memory`, in its order, the same numbers.
    let memory = report["memory"].as_array().unwrap();
    let figures = tags(&dom, "<figure class=\"budget\"");
    assert_eq!(figures.len(), memory.len());
    assert!(memory.len() >= 3, "the examples hold three servers");
    let mut compared = 0;
    for (figure, entry) in figures.iter().zip(memory) {
        assert_eq!(get(figure, "data-file"), entry["file"].as_str().unwrap());
        assert_eq!(get(figure, "data-line"), entry["line"].to_string());
        assert_eq!(
            get(figure, "data-kind"),
            entry["object"]["kind"].as_str().unwrap()
        );
        assert_eq!(
            get(figure, "data-name"),
            entry["object"]["name"].as_str().unwrap()
        );
        for key in [
            "request_bytes",
            "limit_bytes",
            "maxmemory_bytes",
            "backlog_bytes",
            "fork_copy_bytes",
            "replica_buffers_bytes",
            "headroom_bytes",
        ] {
            let attr = format!("data-{}", key.replace('_', "-"));
            assert_eq!(number(get(figure, &attr)), entry[key], "{attr} of {entry}");
            compared += 1;
        }
    }
    assert_eq!(compared, 7 * memory.len());

    // The bars are drawn to those numbers: each part's width is its bytes on the chart's
    // scale, and the parts follow each other.
    let svgs = tags(&dom, "<svg ");
    assert_eq!(svgs.len(), memory.len());
    let mut starts = 0;
    for (i, section) in dom.split("<figure class=\"budget\"").skip(1).enumerate() {
        let section = &section[..section.find("</figure>").unwrap()];
        let scale: f64 = get(&svgs[i], "data-scale-bytes").parse().unwrap();
        let width: f64 = get(&svgs[i], "data-width").parse().unwrap();
        let mut next_x: Option<f64> = None;
        for rect in tags(section, "<rect class=\"part ") {
            let bytes: f64 = get(&rect, "data-bytes").parse().unwrap();
            let x: f64 = get(&rect, "x").parse().unwrap();
            let w: f64 = get(&rect, "width").parse().unwrap();
            assert!((w - bytes / scale * width).abs() < 0.02, "{rect:?}");
            if let Some(nx) = next_x {
                assert!((x - nx).abs() < 0.02, "{rect:?} does not follow");
            }
            next_x = Some(x + w);
            starts += 1;
        }
        let mm = &memory[i]["maxmemory_bytes"];
        let first = tags(section, "<rect class=\"part maxmemory\"");
        assert_eq!(first.len(), usize::from(!mm.is_null()));
        if let Some(r) = first.first() {
            assert_eq!(number(get(r, "data-bytes")), *mm);
        }
    }
    assert!(starts >= memory.len());
}

#[test]
fn a_script_error_shows_and_the_page_reads_without_script() {
    let dir = scratch("html-report-errors");
    let page = report_of_examples(&dir);
    let text = std::fs::read_to_string(&page).unwrap();

    // The check above can fail: a deliberate error is caught and marked.
    let broken = dir.join("broken.html");
    std::fs::write(
        &broken,
        text.replace(
            "</body>",
            "<script>document.getElementById('no-such-element').remove();</script></body>",
        ),
    )
    .unwrap();
    let dom = dump_dom(&dir, &broken, &[]);
    assert!(
        dom.contains("data-js-error=\""),
        "the error went unnoticed: {dom}"
    );
    let messages = console(&dir);
    assert!(
        messages.iter().any(|m| m.contains("Uncaught TypeError")),
        "the console shows no error: {messages:?}"
    );
    assert!(
        dom.contains("data-js-ready=\"1\""),
        "the page's own script still ran"
    );

    // Without script (the page with its scripts cut out: Chromium's --dump-dom needs
    // script itself, so `scriptEnabled=false` dumps nothing): every finding and chart
    // shows, the inert filters do not.
    let mut without = String::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find("<script>") {
        without.push_str(&rest[..at]);
        let end = rest[at..].find("</script>").expect("script ends") + at;
        rest = &rest[end + "</script>".len()..];
    }
    without.push_str(rest);
    assert_eq!(text.matches("<script>").count(), 2);
    let plain = dir.join("without-script.html");
    std::fs::write(&plain, without).unwrap();
    let dom = dump_dom(&dir, &plain, &[]);
    assert!(!dom.contains("data-js-ready"), "script ran: {dom}");
    let report = json(&run(&["lint", "--format", "json", "examples/"]));
    let articles = tags(&dom, "<article class=\"finding ");
    assert_eq!(articles.len(), report["findings"].as_array().unwrap().len());
    assert!(
        articles
            .iter()
            .all(|a| a.iter().all(|(n, _)| n != "hidden"))
    );
    assert!(dom.contains("<form id=\"filters\" hidden=\"\">"), "{dom}");
    assert_eq!(
        tags(&dom, "<figure class=\"budget\"").len(),
        report["memory"].as_array().unwrap().len()
    );
}
