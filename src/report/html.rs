//! The HTML format: one self-contained page — inline CSS, inline SVG, one small inline
//! script, nothing fetched (no CDN, no fonts, no images) — with the summary, one memory
//! budget chart per server and every finding (rule, severity, location, message, source
//! line, fix). The script only filters by severity and namespace; without it every finding
//! shows. Everything written is escaped ([`esc`]): messages and file names are the input's.
//!
//! A budget chart is a `<figure class="budget">` whose `data-*-bytes` attributes hold the
//! numbers of the JSON format's `memory` entry (`none` where JSON has null); the SVG's
//! parts are `<rect>`s with their `data-bytes`. `tests/html_report.rs` renders the page in
//! Chromium and reads them back.

use std::fmt::Write;

use super::memory;
use super::{Budget, Item, Report, context, shown};
use crate::patch::FixEdit;
use crate::rules::Severity;
use crate::rules::memory::MemoryBudget;
use crate::units::human::size;

/// Text and attribute values, escaped for HTML (`&`, `<`, `>`, both quotes).
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = r#"
:root{--err:#c62828;--warn:#b26a00;--info:#00838f;--mm:#3f6fb5;--backlog:#8fb0e0;--fork:#e0a030;--buf:#9b59b6;--free:#5aa469;--fg:#1d232a;--mute:#5c6670;--line:#d7dce1}
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);margin:0;background:#f6f7f9}
main{max-width:1180px;margin:0 auto;padding:20px 28px 60px}
h1{font-size:24px;margin:8px 0 4px}h2{font-size:19px;margin:28px 0 10px;border-bottom:1px solid var(--line);padding-bottom:4px}
code,pre{font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.counts{display:flex;gap:12px;flex-wrap:wrap;margin:12px 0;padding:0;list-style:none}
.counts li{background:#fff;border:1px solid var(--line);border-radius:6px;padding:8px 14px;min-width:92px}
.counts b{display:block;font-size:22px}
.sev-error .sev,.counts .error b{color:var(--err)}.sev-warning .sev,.counts .warning b{color:var(--warn)}.sev-info .sev,.counts .info b{color:var(--info)}
.budget,.finding{background:#fff;border:1px solid var(--line);border-radius:6px;padding:10px 14px;margin:10px 0}
.finding{border-left:5px solid var(--line)}.finding.sev-error{border-left-color:var(--err)}.finding.sev-warning{border-left-color:var(--warn)}.finding.sev-info{border-left-color:var(--info)}
.finding h3{font-size:15px;margin:0 0 4px}.sev{text-transform:uppercase;font-size:12px;letter-spacing:.04em;margin-right:6px}
.loc{color:var(--mute);margin:0 0 6px;word-break:break-all}.msg{margin:4px 0;white-space:pre-wrap;overflow-wrap:anywhere}
pre.src{background:#f2f4f7;border-radius:4px;padding:6px 8px;overflow-x:auto;margin:6px 0}
.fix{color:#1b5e20;margin:6px 0 0}.fix pre{color:var(--fg);background:#f2f7f2;padding:6px 8px;border-radius:4px;overflow-x:auto}
figure.budget{margin:10px 0}figure.budget figcaption{font-weight:600;word-break:break-all}
figure.budget svg{display:block;width:100%;max-width:900px;height:auto;margin:6px 0}
.parts{display:flex;flex-wrap:wrap;gap:4px 16px;margin:0;padding:0;list-style:none;font-size:14px}
.key{display:inline-block;width:11px;height:11px;border-radius:2px;margin-right:5px;vertical-align:-1px}
.k-maxmemory{background:var(--mm)}.k-backlog{background:var(--backlog)}.k-fork{background:var(--fork)}.k-buffers{background:var(--buf)}.k-headroom{background:var(--free)}
.over{color:var(--err);font-weight:600}.mute{color:var(--mute)}
#filters{display:flex;gap:18px;flex-wrap:wrap;align-items:center;background:#fff;border:1px solid var(--line);border-radius:6px;padding:8px 14px}
#filters[hidden]{display:none}
.budget-link{margin:4px 0 0;font-size:14px}
"#;

/// Filtering: hides findings and charts whose severity box is unticked or whose namespace
/// is not the one selected; says how many show. The page reads the same without it.
const SCRIPT: &str = r#"
(function () {
  var form = document.getElementById('filters');
  var count = document.getElementById('shown');
  function apply() {
    var sev = {};
    form.querySelectorAll('input[name=severity]').forEach(function (b) { sev[b.value] = b.checked; });
    var ns = form.querySelector('select[name=namespace]').value;
    var n = 0;
    document.querySelectorAll('.finding').forEach(function (f) {
      var show = sev[f.dataset.severity] && (ns === '' || f.dataset.namespace === ns);
      f.hidden = !show;
      if (show) { n++; }
    });
    document.querySelectorAll('figure.budget').forEach(function (f) {
      f.hidden = !(ns === '' || f.dataset.namespace === ns);
    });
    count.textContent = n + ' finding(s) shown';
  }
  form.hidden = false;
  form.addEventListener('change', apply);
  apply();
  document.documentElement.setAttribute('data-js-ready', '1');
})();
"#;

pub fn render(report: &Report) -> String {
    let mut out = String::new();
    out.push_str(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>redline report</title>\n",
    );
    // First: an error in the page's script leaves its message on the root element.
    out.push_str(
        "<script>window.onerror = function (m) { document.documentElement.setAttribute(\
         'data-js-error', String(m)); };</script>\n",
    );
    let _ = writeln!(out, "<style>{STYLE}</style>\n</head>\n<body>\n<main>");
    out.push_str("<h1>redline report</h1>\n");
    summary(&mut out, report);
    budgets(&mut out, report);
    findings(&mut out, report);
    let _ = writeln!(out, "</main>\n<script>{SCRIPT}</script>\n</body>\n</html>");
    out
}

fn summary(out: &mut String, report: &Report) {
    let s = &report.summary;
    out.push_str("<section id=\"summary\">\n<ul class=\"counts\">\n");
    let counts = [
        ("error", "errors", s.errors),
        ("warning", "warnings", s.warnings),
        ("info", "infos", s.infos),
        ("files", "files", s.files),
        ("objects", "objects", s.objects),
        ("servers", "servers", report.budgets.len()),
        ("exempted", "exempted", s.exempted),
    ];
    for (class, label, n) in counts {
        let _ = writeln!(
            out,
            "<li class=\"{class}\" data-count=\"{n}\"><b>{n}</b>{label}</li>"
        );
    }
    out.push_str("</ul>\n");
    if s.skipped > 0 {
        let _ = writeln!(
            out,
            "<p class=\"mute\">{} document(s) that are not Kubernetes objects.</p>",
            s.skipped
        );
    }
    out.push_str("</section>\n");
}

fn namespace_of_item(item: &Item) -> String {
    item.object
        .map(|o| o.namespace_or_default().to_string())
        .unwrap_or_default()
}

fn budgets(out: &mut String, report: &Report) {
    out.push_str("<section id=\"memory\">\n<h2>Memory budgets</h2>\n");
    if report.budgets.is_empty() {
        out.push_str("<p class=\"mute\">No Redis or Valkey server holding data.</p>\n");
    } else {
        out.push_str(
            "<p class=\"mute\">Per server, what counts against the container's memory limit \
             when everything peaks at once: maxmemory (the replication backlog is inside \
             it), the copy-on-write pages of a fork (up to the whole dataset), and the replica \
             output buffers outside maxmemory.</p>\n",
        );
    }
    for (i, b) in report.budgets.iter().enumerate() {
        chart(out, i, b);
    }
    out.push_str("</section>\n");
}

fn attr(v: Option<u64>) -> String {
    v.map_or_else(|| "none".to_string(), |v| v.to_string())
}

/// One server's chart: the parts as a stacked bar against the limit and request lines,
/// then the numbers in words.
fn chart(out: &mut String, i: usize, b: &Budget) {
    let m = b.memory();
    let name = match &b.server.component {
        Some(c) => format!("{} ({c})", b.object),
        None => b.object.to_string(),
    };
    let _ = writeln!(
        out,
        "<figure class=\"budget\" id=\"budget-{i}\" data-file=\"{}\" data-line=\"{}\" \
         data-namespace=\"{}\" data-kind=\"{}\" data-name=\"{}\" data-component=\"{}\" \
         data-request-bytes=\"{}\" data-limit-bytes=\"{}\" data-maxmemory-bytes=\"{}\" \
         data-backlog-bytes=\"{}\" data-fork-copy-bytes=\"{}\" \
         data-replica-buffers-bytes=\"{}\" data-headroom-bytes=\"{}\">",
        esc(&b.file),
        b.line.map(|l| l.to_string()).unwrap_or_default(),
        esc(b.object.namespace_or_default()),
        esc(&b.object.kind),
        esc(&b.object.name),
        esc(b.server.component.as_deref().unwrap_or("")),
        attr(m.request_bytes),
        attr(m.limit_bytes),
        attr(m.maxmemory_bytes),
        attr(m.backlog_bytes),
        attr(m.fork_copy_bytes),
        attr(m.replica_buffers_bytes),
        m.headroom_bytes
            .map_or_else(|| "none".to_string(), |h| h.to_string()),
    );
    let _ = writeln!(
        out,
        "<figcaption>{} <span class=\"mute\">{}</span></figcaption>",
        esc(&name),
        esc(&b.location())
    );
    svg(out, m);
    out.push_str("<ul class=\"parts\">\n");
    let _ = writeln!(out, "<li>{}</li>", esc(&memory::head(m)));
    let part =
        |key: &str, text: String| format!("<li><span class=\"key k-{key}\"></span>{text}</li>");
    let mut items = Vec::new();
    items.push(match (m.maxmemory_bytes, m.maxmemory_visible) {
        (Some(v), _) => part("maxmemory", format!("maxmemory {}", size(v))),
        (None, true) => "<li>maxmemory 0: unbounded, the dataset grows to the limit</li>".into(),
        (None, false) => "<li>maxmemory not visible in the input</li>".into(),
    });
    if let Some(v) = m.backlog_bytes {
        items.push(part(
            "backlog",
            format!("backlog {} (inside maxmemory)", size(v)),
        ));
    }
    items.push(match (m.fork_reason, m.fork_copy_bytes) {
        (None, _) => "<li>never forks: no copy-on-write</li>".into(),
        (Some(why), Some(v)) => part(
            "fork",
            format!("fork copy \u{2264}{} <span class=\"mute\">({})</span>", size(v), esc(why)),
        ),
        (Some(why), None) => format!(
            "<li>fork copy up to the whole dataset, unbounded <span class=\"mute\">({})</span></li>",
            esc(why)
        ),
    });
    items.push(match m.replica_buffers_bytes {
        Some(0) => "<li>no replica output buffers</li>".into(),
        Some(v) => part("buffers", format!("replica buffers {}", size(v))),
        None => "<li>replica buffers unbounded or not known</li>".into(),
    });
    items.push(match m.headroom_bytes {
        Some(h) if h < 0 => format!(
            "<li class=\"over\">worst case over the limit by {}</li>",
            size(h.unsigned_abs())
        ),
        Some(h) => part("headroom", format!("headroom {}", size(h as u64))),
        None => "<li>headroom unknown</li>".into(),
    });
    for item in items {
        let _ = writeln!(out, "{item}");
    }
    out.push_str("</ul>\n</figure>\n");
}

/// The stacked bar: maxmemory (the backlog drawn inside it), fork copy, buffers and
/// headroom, scaled to the largest of limit, worst case and request; a red line at the
/// limit and a dashed one at the request.
fn svg(out: &mut String, m: &MemoryBudget) {
    const W: f64 = 860.0;
    const X0: f64 = 10.0;
    const BAR_Y: f64 = 26.0;
    const BAR_H: f64 = 30.0;
    let worst = m.worst_case_bytes();
    let known: u64 = [
        m.maxmemory_bytes,
        m.fork_copy_bytes,
        m.replica_buffers_bytes,
    ]
    .iter()
    .flatten()
    .sum();
    let scale = [m.limit_bytes, worst, m.request_bytes, Some(known)]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(0)
        .max(1) as f64
        * 1.08;
    let x = |bytes: u64| X0 + bytes as f64 / scale * W;
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 880 86\" role=\"img\" \
         aria-label=\"memory budget\" data-scale-bytes=\"{}\" data-width=\"{W}\">",
        scale.round() as u64
    );
    let _ = writeln!(
        out,
        "<rect x=\"{X0}\" y=\"{BAR_Y}\" width=\"{W}\" height=\"{BAR_H}\" fill=\"#eef1f4\"/>"
    );
    let mut at = 0u64;
    let mut rect = |out: &mut String, class: &str, color: &str, bytes: Option<u64>| {
        let Some(bytes) = bytes.filter(|&b| b > 0) else {
            return;
        };
        let (from, to) = (x(at), x(at + bytes));
        let _ = writeln!(
            out,
            "<rect class=\"part {class}\" data-bytes=\"{bytes}\" x=\"{from:.2}\" y=\"{BAR_Y}\" \
             width=\"{:.2}\" height=\"{BAR_H}\" fill=\"{color}\"><title>{class} {}</title></rect>",
            to - from,
            size(bytes)
        );
        at += bytes;
    };
    rect(out, "maxmemory", "#3f6fb5", m.maxmemory_bytes);
    if let (Some(mm), Some(backlog)) = (m.maxmemory_bytes, m.backlog_bytes.filter(|&b| b > 0)) {
        // Inside maxmemory, at its end: counted by eviction, not added on top.
        let backlog = backlog.min(mm);
        let from = x(mm - backlog);
        let _ = writeln!(
            out,
            "<rect class=\"backlog\" data-bytes=\"{backlog}\" x=\"{from:.2}\" y=\"{}\" \
             width=\"{:.2}\" height=\"{}\" fill=\"#8fb0e0\"><title>backlog {} (inside \
             maxmemory)</title></rect>",
            BAR_Y + 4.0,
            (x(mm) - from).max(1.0),
            BAR_H - 8.0,
            size(backlog)
        );
    }
    rect(out, "fork", "#e0a030", m.fork_copy_bytes);
    rect(out, "buffers", "#9b59b6", m.replica_buffers_bytes);
    if let Some(h) = m.headroom_bytes.filter(|&h| h > 0) {
        rect(out, "headroom", "#5aa469", Some(h as u64));
    }
    if let Some(limit) = m.limit_bytes {
        let lx = x(limit);
        let tx = lx.clamp(60.0, 820.0);
        let _ = writeln!(
            out,
            "<line class=\"limit\" data-bytes=\"{limit}\" x1=\"{lx:.2}\" x2=\"{lx:.2}\" y1=\"16\" \
             y2=\"64\" stroke=\"#c62828\" stroke-width=\"3\"/>\n<text x=\"{tx:.2}\" y=\"12\" \
             text-anchor=\"middle\" font-size=\"12\" fill=\"#c62828\">limit {}</text>",
            size(limit)
        );
    }
    if let Some(request) = m.request_bytes {
        let rx = x(request);
        // The label stays inside the chart near its edges.
        let tx = rx.clamp(60.0, 820.0);
        let _ = writeln!(
            out,
            "<line class=\"request\" data-bytes=\"{request}\" x1=\"{rx:.2}\" x2=\"{rx:.2}\" \
             y1=\"20\" y2=\"70\" stroke=\"#1d232a\" stroke-width=\"2\" stroke-dasharray=\"4 3\"/>\n\
             <text x=\"{tx:.2}\" y=\"82\" text-anchor=\"middle\" font-size=\"12\" \
             fill=\"#1d232a\">request {}</text>",
            size(request)
        );
    }
    out.push_str("</svg>\n");
}

fn findings(out: &mut String, report: &Report) {
    out.push_str("<section id=\"findings\">\n<h2>Findings</h2>\n");
    let mut namespaces: Vec<String> = report.items.iter().map(namespace_of_item).collect();
    namespaces.extend(
        report
            .budgets
            .iter()
            .map(|b| b.object.namespace_or_default().to_string()),
    );
    namespaces.sort();
    namespaces.dedup();
    out.push_str("<form id=\"filters\" hidden>\n<span>Severity:</span>\n");
    for sev in ["error", "warning", "info"] {
        let _ = writeln!(
            out,
            "<label><input type=\"checkbox\" name=\"severity\" value=\"{sev}\" checked> \
             {sev}</label>"
        );
    }
    out.push_str(
        "<label>Namespace: <select name=\"namespace\">\n<option value=\"\">all</option>\n",
    );
    for ns in namespaces.iter().filter(|n| !n.is_empty()) {
        let _ = writeln!(out, "<option value=\"{0}\">{0}</option>", esc(ns));
    }
    out.push_str("</select></label>\n<span id=\"shown\" class=\"mute\"></span>\n</form>\n");
    if report.items.is_empty() {
        out.push_str("<p>No findings.</p>\n");
    }
    for item in &report.items {
        finding(out, report, item, None);
    }
    if !report.exempted.is_empty() {
        let _ = writeln!(
            out,
            "<details id=\"exempted\"><summary>{} finding(s) exempted by annotation</summary>",
            report.exempted.len()
        );
        for e in &report.exempted {
            finding(out, report, &e.item, Some(e.reason.unwrap_or("")));
        }
        out.push_str("</details>\n");
    }
    out.push_str("</section>\n");
}

fn finding(out: &mut String, report: &Report, item: &Item, exempted: Option<&str>) {
    let sev = match item.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "info",
    };
    // Exempted findings are not filtered (they live in their own list).
    let class = if exempted.is_some() {
        "exempted"
    } else {
        "finding"
    };
    let _ = writeln!(
        out,
        "<article class=\"{class} sev-{sev}\" data-severity=\"{sev}\" data-namespace=\"{}\" \
         data-rule=\"{}\">",
        esc(&namespace_of_item(item)),
        esc(item.rule)
    );
    let _ = writeln!(
        out,
        "<h3><span class=\"sev\">{sev}</span><code>{}</code></h3>",
        esc(item.rule)
    );
    let place = match (item.line, item.column) {
        (Some(l), Some(c)) => format!("{}:{l}:{c}", shown(&item.file)),
        (Some(l), None) => format!("{}:{l}", shown(&item.file)),
        _ => shown(&item.file).to_string(),
    };
    let context = context(item);
    let _ = writeln!(out, "<p class=\"loc\">{}{}</p>", esc(&place), esc(&context));
    let _ = writeln!(out, "<p class=\"msg\">{}</p>", esc(item.message));
    if let (Some(line), Some(text)) = (item.line, item.snippet) {
        let column = item.column.unwrap_or(1) as usize;
        let lead: String = text
            .chars()
            .take(column.saturating_sub(1))
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        let n = line.to_string();
        let _ = writeln!(
            out,
            "<pre class=\"src\">{n} | {}\n{} | {lead}^</pre>",
            esc(text),
            " ".repeat(n.len())
        );
    }
    if let Some(i) = report.budget_index_of(item) {
        let b = &report.budgets[i];
        let words = memory::parts(b.memory(), false).join(", ");
        let _ = writeln!(
            out,
            "<p class=\"budget-link\"><a href=\"#budget-{i}\">memory budget</a>: {}; {}</p>",
            esc(&memory::head(b.memory())),
            esc(&words)
        );
    }
    if let Some(f) = item.fix {
        let _ = write!(out, "<div class=\"fix\">fix: {}", esc(&f.description));
        if let FixEdit::Manifest(m) = &f.edit {
            let yaml = yaml_serde::to_string(m).unwrap_or_default();
            let _ = write!(out, "<pre>{}</pre>", esc(&yaml));
        }
        out.push_str("</div>\n");
    }
    if let Some(reason) = exempted {
        let _ = writeln!(
            out,
            "<p class=\"mute\">exempted by annotation{}</p>",
            if reason.is_empty() {
                String::new()
            } else {
                format!(": {}", esc(reason))
            }
        );
    }
    out.push_str("</article>\n");
}

#[cfg(test)]
mod tests {
    use super::{esc, render};
    use crate::report::Report;

    const HOSTILE: &str = "<script>alert(\"x\")</script> & 'q'";

    fn hostile_report() -> String {
        let text = "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: r\n  namespace: \
                    \"<ns>&\\\"'\"\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {app: r}\n  \
                    template:\n    metadata:\n      labels: {app: r}\n    spec:\n      \
                    containers:\n      - name: redis\n        image: redis:7.2.4\n        args: \
                    [redis-server, --maxmemory, 1gb, --x, \"<b>&'\\\"\"]\n        resources: \
                    {limits: {memory: 1Gi}}\n";
        let name = "a<img src=x onerror=alert(1)>&\"'.yaml";
        let source = crate::source::load_yaml(name, text.to_string(), &Default::default());
        let mut linted = crate::lint::lint(vec![source], &Default::default(), &Default::default());
        assert!(!linted.outcome.findings.is_empty());
        linted.outcome.findings[0].message = HOSTILE.to_string();
        let report = Report::new(&linted);
        assert!(!report.budgets.is_empty());
        render(&report)
    }

    #[test]
    fn everything_from_the_input_is_escaped() {
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        let html = hostile_report();
        for raw in [HOSTILE, "<script>alert", "<img", "<ns>", "<b>&'", "\"<ns>"] {
            assert!(!html.contains(raw), "{raw} unescaped in\n{html}");
        }
        assert!(html.contains(&esc(HOSTILE)));
        assert!(html.contains("a&lt;img src=x onerror=alert(1)&gt;&amp;&quot;&#39;.yaml"));
        assert!(html.contains("data-namespace=\"&lt;ns&gt;&amp;&quot;&#39;\""));
        // Exactly the page's own two scripts.
        assert_eq!(html.matches("<script>").count(), 2, "{html}");
    }

    #[test]
    fn nothing_is_fetched() {
        let html = hostile_report();
        let lower = html.to_ascii_lowercase();
        for needle in [
            "src=\"",
            "href=\"http",
            "href=\"//",
            "@import",
            "url(",
            "<link",
        ] {
            assert!(!lower.contains(needle), "{needle} in the page");
        }
        // Links only within the page.
        assert!(lower.contains("href=\"#budget-"));
        assert_eq!(
            lower.matches("href=\"").count(),
            lower.matches("href=\"#").count()
        );
    }
}
