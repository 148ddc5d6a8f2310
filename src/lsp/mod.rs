//! `redline lsp`: the language server. The editor's open documents over the workspace's
//! files on disk are one input, linted as `lint` lints a directory (a StatefulSet open in
//! one tab is judged with the ConfigMap of another file), and the report's items become
//! diagnostics; a code action is `fix` run on the same input, restricted to the findings
//! it names, and sent back as the edit of the text that changed. Nothing here judges:
//! this is a face over [`crate::lint`], [`crate::fix`] and [`crate::report`], like the
//! webhook.
//!
//! One thread: messages are handled in order, and a lint runs once the editor has been
//! quiet for [`DEBOUNCE`] after a change (a request that needs the findings runs it at
//! once). `.redline.yaml` is read afresh for every lint, from its open buffer if the
//! editor has it open, so a change to it shows at the next lint; the server asks the
//! client to report changes to it and to manifests on disk (`didChangeWatchedFiles`).

pub mod text;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use lsp_server::{Connection, ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types as lsp;
use lsp_types::Uri;
use serde_json::{Value, json};

use crate::fix::{FixOptions, Target};
use crate::patch::FixEdit;
use crate::rules::Severity;
use crate::settings::{ConfigError, UserConfig};
use crate::source::{Limits, SourceFile, load_yaml};
use text::LineIndex;

/// How long the editor must be quiet after a change before the workspace is linted again.
pub const DEBOUNCE: Duration = Duration::from_millis(250);

/// What the diagnostics are tagged with, and how code actions find theirs.
const SOURCE: &str = "redline";

/// The capabilities redline answers with.
pub fn capabilities() -> lsp::ServerCapabilities {
    lsp::ServerCapabilities {
        text_document_sync: Some(lsp::TextDocumentSyncCapability::Options(
            lsp::TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(lsp::TextDocumentSyncKind::INCREMENTAL),
                save: Some(lsp::TextDocumentSyncSaveOptions::Supported(true)),
                ..Default::default()
            },
        )),
        hover_provider: Some(lsp::HoverProviderCapability::Simple(true)),
        code_action_provider: Some(lsp::CodeActionProviderCapability::Options(
            lsp::CodeActionOptions {
                code_action_kinds: Some(vec![
                    lsp::CodeActionKind::QUICKFIX,
                    lsp::CodeActionKind::SOURCE_FIX_ALL,
                ]),
                resolve_provider: Some(true),
                ..Default::default()
            },
        )),
        ..Default::default()
    }
}

/// Serve one client on `connection` until it shuts down (or goes away).
pub fn run(connection: &Connection) -> Result<(), String> {
    let (id, params) = connection
        .initialize_start()
        .map_err(|e| format!("initialize: {e}"))?;
    let params: lsp::InitializeParams =
        serde_json::from_value(params).map_err(|e| format!("initialize: {e}"))?;
    let result = json!({
        "capabilities": capabilities(),
        "serverInfo": {"name": "redline", "version": env!("REDLINE_VERSION")},
    });
    connection
        .initialize_finish(id, result)
        .map_err(|e| format!("initialize: {e}"))?;
    let mut server = Server::new(&params);
    server.watch_files(connection);
    server.serve(connection)
}

/// An open document.
struct Doc {
    uri: Uri,
    text: String,
    version: i32,
}

/// A diagnostic as published, with what its code action needs.
struct Published {
    diagnostic: lsp::Diagnostic,
    rule: String,
    /// Set when the finding has a fix `fix` can write into the file.
    target: Option<Target>,
    /// That fix's description (the code action's title).
    fix: Option<String>,
}

/// One input as linted: the sources, and how their names map to documents.
struct Input {
    sources: Vec<SourceFile>,
    /// Source name → the URI to publish to (the client's own for open documents).
    uris: HashMap<String, Uri>,
    config: UserConfig,
}

struct Server {
    /// Canonical workspace folders.
    roots: Vec<PathBuf>,
    /// Open documents by source name (a path relative to the first root, else absolute).
    open: HashMap<String, Doc>,
    /// When to lint, if a change waits for one.
    due: Option<Instant>,
    /// The last diagnostics, per URI (every URI published, empty ones too until cleared).
    published: HashMap<String, (Uri, Vec<Published>)>,
    /// The last configuration that loaded: a broken `.redline.yaml` being edited does not
    /// turn every disabled rule back on.
    last_config: Option<UserConfig>,
    /// Where each rule's explanation is written, for the diagnostics' links.
    docs: Option<PathBuf>,
    /// The client applies versioned edits (`documentChanges`).
    versioned_edits: bool,
    /// The client resolves a code action's edit when one is chosen (`codeAction/resolve`):
    /// listing the actions then runs no `fix`. Editors ask for code actions at every move
    /// of the cursor, and a `fix` over a large workspace takes seconds (BENCHMARKS.md).
    resolve_edits: bool,
    watch_dynamic: bool,
}

impl Server {
    fn new(params: &lsp::InitializeParams) -> Server {
        let mut roots: Vec<PathBuf> = params
            .workspace_folders
            .iter()
            .flatten()
            .filter_map(|f| uri_to_path(&f.uri))
            .collect();
        #[allow(deprecated)] // rootUri: what clients without workspace folders send.
        if roots.is_empty()
            && let Some(root) = params.root_uri.as_ref().and_then(uri_to_path)
        {
            roots.push(root);
        }
        let roots = roots
            .into_iter()
            .map(|r| std::fs::canonicalize(&r).unwrap_or(r))
            .collect();
        let caps = &params.capabilities;
        let workspace = caps.workspace.as_ref();
        Server {
            roots,
            open: HashMap::new(),
            due: Some(Instant::now()),
            published: HashMap::new(),
            last_config: None,
            docs: write_explanations(),
            versioned_edits: workspace
                .and_then(|w| w.workspace_edit.as_ref())
                .and_then(|e| e.document_changes)
                .unwrap_or(false),
            resolve_edits: caps
                .text_document
                .as_ref()
                .and_then(|t| t.code_action.as_ref())
                .and_then(|c| c.resolve_support.as_ref())
                .is_some_and(|r| r.properties.iter().any(|p| p == "edit")),
            watch_dynamic: workspace
                .and_then(|w| w.did_change_watched_files.as_ref())
                .and_then(|d| d.dynamic_registration)
                .unwrap_or(false),
        }
    }

    /// Asks the client to report changes on disk to manifests and `.redline.yaml`.
    fn watch_files(&self, connection: &Connection) {
        if !self.watch_dynamic {
            return;
        }
        let watchers: Vec<Value> = ["**/*.{yaml,yml,json}", "**/.redline.yaml"]
            .iter()
            .map(|glob| json!({"globPattern": glob}))
            .collect();
        let register = json!({"registrations": [{
            "id": "redline-watch",
            "method": "workspace/didChangeWatchedFiles",
            "registerOptions": {"watchers": watchers},
        }]});
        let request = Request::new(
            RequestId::from("redline-watch".to_string()),
            "client/registerCapability".into(),
            register,
        );
        let _ = connection.sender.send(request.into());
    }

    fn serve(&mut self, connection: &Connection) -> Result<(), String> {
        loop {
            let message = match self.due {
                Some(due) => {
                    let wait = due.saturating_duration_since(Instant::now());
                    match connection.receiver.recv_timeout(wait) {
                        Ok(m) => Some(m),
                        Err(e) if e.is_timeout() => None,
                        Err(_) => return Ok(()),
                    }
                }
                None => match connection.receiver.recv() {
                    Ok(m) => Some(m),
                    Err(_) => return Ok(()),
                },
            };
            match message {
                None => self.lint(connection),
                Some(Message::Request(request)) => {
                    if connection
                        .handle_shutdown(&request)
                        .map_err(|e| format!("shutdown: {e}"))?
                    {
                        return Ok(());
                    }
                    let response = self.request(connection, request);
                    let _ = connection.sender.send(response.into());
                }
                Some(Message::Notification(n)) if n.method == "exit" => return Ok(()),
                Some(Message::Notification(n)) => self.notification(n),
                Some(Message::Response(_)) => {}
            }
        }
    }

    fn request(&mut self, connection: &Connection, request: Request) -> Response {
        // Answers are about the text as it is now, not as it was at the last lint.
        if self.due.is_some() {
            self.lint(connection);
        }
        let id = request.id.clone();
        let result = match request.method.as_str() {
            "textDocument/codeAction" => serde_json::from_value(request.params)
                .map(|p| serde_json::to_value(self.code_actions(&p))),
            "codeAction/resolve" => serde_json::from_value(request.params)
                .map(|a| serde_json::to_value(self.resolve(a))),
            "textDocument/hover" => {
                serde_json::from_value(request.params).map(|p| serde_json::to_value(self.hover(&p)))
            }
            method => {
                return Response::new_err(
                    id,
                    ErrorCode::MethodNotFound as i32,
                    format!("redline does not answer {method}"),
                );
            }
        };
        match result {
            Ok(Ok(value)) => Response::new_ok(id, value),
            Ok(Err(e)) | Err(e) => {
                Response::new_err(id, ErrorCode::InvalidParams as i32, e.to_string())
            }
        }
    }

    fn notification(&mut self, n: Notification) {
        let changed = match n.method.as_str() {
            "textDocument/didOpen" => serde_json::from_value(n.params)
                .map(|p: lsp::DidOpenTextDocumentParams| {
                    let d = p.text_document;
                    self.open.insert(
                        self.name_of(&d.uri),
                        Doc {
                            uri: d.uri,
                            text: d.text,
                            version: d.version,
                        },
                    );
                })
                .is_ok(),
            "textDocument/didChange" => serde_json::from_value(n.params)
                .map(|p: lsp::DidChangeTextDocumentParams| {
                    let name = self.name_of(&p.text_document.uri);
                    if let Some(doc) = self.open.get_mut(&name) {
                        for change in p.content_changes {
                            apply_change(&mut doc.text, change);
                        }
                        doc.version = p.text_document.version;
                    }
                })
                .is_ok(),
            "textDocument/didClose" => serde_json::from_value(n.params)
                .map(|p: lsp::DidCloseTextDocumentParams| {
                    let name = self.name_of(&p.text_document.uri);
                    self.open.remove(&name);
                })
                .is_ok(),
            // The files on disk, or the configuration, changed: lint again.
            "textDocument/didSave"
            | "workspace/didChangeWatchedFiles"
            | "workspace/didChangeConfiguration"
            | "workspace/didChangeWorkspaceFolders" => true,
            _ => false,
        };
        if changed {
            self.due = Some(Instant::now() + DEBOUNCE);
        }
    }

    /// The source name of a document: relative to the first workspace folder when inside
    /// it (as `lint` run there names it), else its absolute path, else the URI itself.
    fn name_of(&self, uri: &Uri) -> String {
        match uri_to_path(uri) {
            Some(path) => self.name_of_path(&path),
            None => uri.as_str().to_string(),
        }
    }

    fn name_of_path(&self, path: &Path) -> String {
        // A document not yet on disk has no canonical form: its folder may.
        let canonical = std::fs::canonicalize(path).ok().or_else(|| {
            let parent = std::fs::canonicalize(path.parent()?).ok()?;
            Some(parent.join(path.file_name()?))
        });
        self.name_in_roots(canonical.as_deref().unwrap_or(path))
    }

    /// The source name of a canonical path (the walk of a canonical folder gives them).
    fn name_in_roots(&self, path: &Path) -> String {
        match self.roots.first().and_then(|r| path.strip_prefix(r).ok()) {
            Some(relative) => relative.display().to_string(),
            None => path.display().to_string(),
        }
    }

    fn path_of_name(&self, name: &str) -> PathBuf {
        match self.roots.first() {
            Some(root) if Path::new(name).is_relative() => root.join(name),
            _ => PathBuf::from(name),
        }
    }

    /// The workspace's files, with the open documents' text over what is on disk, and the
    /// configuration; a `.redline.yaml` that does not load is published as a diagnostic.
    fn input(&mut self) -> (Input, Option<(Uri, lsp::Diagnostic)>) {
        let mut names: Vec<String> = Vec::new();
        let walk = crate::input::Walk::default();
        for root in &self.roots {
            // A folder that cannot be walked (deleted, unreadable) leaves the open documents.
            if let Ok(files) = crate::input::expand_paths(std::slice::from_ref(root), &walk) {
                names.extend(files.iter().map(|f| self.name_in_roots(f)));
            }
        }
        let mut seen: HashSet<String> = names.iter().cloned().collect();
        let mut open: Vec<&String> = self.open.keys().filter(|n| is_manifest(n)).collect();
        open.sort();
        for name in open {
            if seen.insert(name.clone()) {
                names.push(name.clone());
            }
        }
        let limits = Limits::default();
        let mut uris = HashMap::new();
        let mut sources = Vec::with_capacity(names.len());
        for name in names {
            let (source, uri) = match self.open.get(&name) {
                Some(doc) => (load_yaml(&name, doc.text.clone(), &limits), doc.uri.clone()),
                None => {
                    let path = self.path_of_name(&name);
                    let Some(uri) = path_to_uri(&path) else {
                        continue;
                    };
                    match crate::input::read_source(&path, &limits) {
                        Ok(mut source) => {
                            source.name = name.clone();
                            (source, uri)
                        }
                        // Gone between the walk and the read: it is simply not there.
                        Err(_) => continue,
                    }
                }
            };
            uris.insert(name, uri);
            sources.push(source);
        }
        let (config, problem) = self.config();
        (
            Input {
                sources,
                uris,
                config,
            },
            problem,
        )
    }

    fn config(&mut self) -> (UserConfig, Option<(Uri, lsp::Diagnostic)>) {
        let found = self
            .roots
            .first()
            .and_then(|root| crate::settings::discover(root));
        let Some(path) = found else {
            self.last_config = None;
            return (UserConfig::default(), None);
        };
        let name = self.name_of_path(&path);
        let text = match self.open.get(&name) {
            Some(doc) => Ok(doc.text.clone()),
            None => std::fs::read_to_string(&path).map_err(|e| ConfigError {
                path: name.clone(),
                line: None,
                column: None,
                message: format!("cannot read: {e}"),
            }),
        };
        match text.and_then(|t| crate::settings::parse(&name, &t)) {
            Ok(mut config) => {
                config.path = Some(path);
                self.last_config = Some(config.clone());
                (config, None)
            }
            Err(e) => {
                let uri = self
                    .open
                    .get(&name)
                    .map(|d| d.uri.clone())
                    .or_else(|| path_to_uri(&path));
                let at = lsp::Position {
                    line: e.line.unwrap_or(1).saturating_sub(1),
                    character: e.column.unwrap_or(1).saturating_sub(1),
                };
                let diagnostic = lsp::Diagnostic {
                    range: lsp::Range { start: at, end: at },
                    severity: Some(lsp::DiagnosticSeverity::ERROR),
                    source: Some(SOURCE.into()),
                    message: format!(
                        "{}; redline goes on with the last configuration that loaded",
                        e.message
                    ),
                    ..Default::default()
                };
                let config = self.last_config.clone().unwrap_or_default();
                (config, uri.map(|u| (u, diagnostic)))
            }
        }
    }

    /// Lint the workspace and publish the diagnostics of every file whose diagnostics
    /// changed (an empty list for a file whose findings are gone).
    fn lint(&mut self, connection: &Connection) {
        self.due = None;
        let (input, config_problem) = self.input();
        let opts = input.config.extract_options(None);
        let linted = crate::lint::lint(input.sources, &opts, &input.config.settings);
        let report = crate::report::Report::new(&linted);
        let sources: HashMap<&str, &SourceFile> = linted
            .sources
            .iter()
            .map(|s| (s.name.as_str(), s))
            .collect();
        let mut now: BTreeMap<String, (Uri, Vec<Published>)> = BTreeMap::new();
        let mut indexes: HashMap<&str, LineIndex> = HashMap::new();
        for item in &report.items {
            let (Some(source), Some(uri)) = (
                sources.get(item.file.as_str()),
                input.uris.get(item.file.as_str()),
            ) else {
                continue;
            };
            let index = indexes
                .entry(source.name.as_str())
                .or_insert_with(|| LineIndex::new(&source.text));
            let mut published = self.diagnostic(item, index);
            // The server's memory budget under a memory finding, as the human format shows it.
            if let Some(budget) = report.budget_of(item) {
                let b = budget.memory();
                let mut words = vec![crate::report::memory::head(b)];
                words.extend(crate::report::memory::parts(b, false));
                published.diagnostic.message = format!(
                    "{}
memory: {}",
                    published.diagnostic.message,
                    words.join(", ")
                );
            }
            now.entry(uri.as_str().to_string())
                .or_insert_with(|| (uri.clone(), Vec::new()))
                .1
                .push(published);
        }
        if let Some((uri, diagnostic)) = config_problem {
            now.entry(uri.as_str().to_string())
                .or_insert_with(|| (uri.clone(), Vec::new()))
                .1
                .push(Published {
                    diagnostic,
                    rule: String::new(),
                    target: None,
                    fix: None,
                });
        }
        let gone: Vec<(String, Uri)> = self
            .published
            .iter()
            .filter(|(key, _)| !now.contains_key(*key))
            .map(|(key, (uri, _))| (key.clone(), uri.clone()))
            .collect();
        for (key, uri) in gone {
            self.published.remove(&key);
            publish(connection, uri, Vec::new(), self.version_of(&key));
        }
        for (key, (uri, list)) in now {
            // A file whose diagnostics did not change is not sent again: on a workspace of
            // thousands of files, a keystroke would otherwise send them all.
            let unchanged = self.published.get(&key).is_some_and(|(_, old)| {
                old.len() == list.len()
                    && old
                        .iter()
                        .zip(&list)
                        .all(|(a, b)| a.diagnostic == b.diagnostic)
            });
            if !unchanged {
                let diagnostics = list.iter().map(|p| p.diagnostic.clone()).collect();
                publish(connection, uri.clone(), diagnostics, self.version_of(&key));
            }
            self.published.insert(key, (uri, list));
        }
    }

    fn version_of(&self, uri: &str) -> Option<i32> {
        self.open
            .values()
            .find(|d| d.uri.as_str() == uri)
            .map(|d| d.version)
    }

    fn diagnostic(&self, item: &crate::report::Item, index: &LineIndex) -> Published {
        let line = item.line.unwrap_or(1);
        let start = index.offset_of_column(line, item.column.unwrap_or(1));
        // To the end of the line's content: the key and value a finding points at.
        let line0 = line.saturating_sub(1) as usize;
        let content_end = index.line_end(line0).max(start);
        let end = start + index.text()[start..content_end].trim_end().len();
        let target = match (item.fix, item.object) {
            (Some(fix), Some(object)) if matches!(fix.edit, FixEdit::Patch { .. }) => {
                Some(Target::of(item.rule, object, item.path))
            }
            _ => None,
        };
        let mut message = item.message.to_string();
        if let Some(fix) = item.fix {
            message.push_str(&format!("\nfix: {}", fix.description));
        }
        let href = self
            .docs
            .as_ref()
            .and_then(|d| path_to_uri(&d.join(format!("{}.md", item.rule))));
        let diagnostic = lsp::Diagnostic {
            range: lsp::Range {
                start: index.position(start),
                end: index.position(end),
            },
            severity: Some(match item.severity {
                Severity::Error => lsp::DiagnosticSeverity::ERROR,
                Severity::Warning => lsp::DiagnosticSeverity::WARNING,
                Severity::Info => lsp::DiagnosticSeverity::INFORMATION,
            }),
            code: Some(lsp::NumberOrString::String(item.rule.to_string())),
            code_description: href.map(|href| lsp::CodeDescription { href }),
            source: Some(SOURCE.into()),
            message,
            data: target.as_ref().map(|t| json!({"target": t})),
            ..Default::default()
        };
        Published {
            diagnostic,
            rule: item.rule.to_string(),
            target,
            fix: item.fix.map(|f| f.description.clone()),
        }
    }

    /// The published findings of `uri` whose range meets `range`.
    fn at<'s>(&'s self, uri: &Uri, range: lsp::Range) -> impl Iterator<Item = &'s Published> {
        self.published
            .get(uri.as_str())
            .into_iter()
            .flat_map(|(_, list)| list.iter())
            .filter(move |p| {
                let r = p.diagnostic.range;
                (r.start.line, r.start.character) <= (range.end.line, range.end.character)
                    && (range.start.line, range.start.character) <= (r.end.line, r.end.character)
            })
    }

    fn hover(&self, params: &lsp::HoverParams) -> Option<lsp::Hover> {
        let at = params.text_document_position_params.position;
        let uri = &params.text_document_position_params.text_document.uri;
        let mut parts = Vec::new();
        let mut explained = HashSet::new();
        for p in self.at(uri, lsp::Range { start: at, end: at }) {
            let mut part = format!("**{}**: {}", p.rule, p.diagnostic.message);
            if let Some(rule) = crate::rules::get(&p.rule)
                && explained.insert(p.rule.clone())
            {
                part.push_str(&format!("\n\n---\n\n{}", crate::rules::explain_text(rule)));
            }
            parts.push(part);
        }
        (!parts.is_empty()).then(|| lsp::Hover {
            contents: lsp::HoverContents::Markup(lsp::MarkupContent {
                kind: lsp::MarkupKind::Markdown,
                value: parts.join("\n\n---\n\n"),
            }),
            range: None,
        })
    }

    /// A quick fix per fixable finding in the range, and one that fixes every finding of
    /// the file: each is `fix` over the whole input, restricted to those findings.
    fn code_actions(&mut self, params: &lsp::CodeActionParams) -> Vec<lsp::CodeActionOrCommand> {
        let uri = &params.text_document.uri;
        let wants = |kind: &lsp::CodeActionKind| {
            params.context.only.as_ref().is_none_or(|only| {
                only.iter().any(|o| {
                    kind.as_str() == o.as_str()
                        || kind.as_str().starts_with(&format!("{}.", o.as_str()))
                })
            })
        };
        let mut actions = Vec::new();
        let quickfix = lsp::CodeActionKind::QUICKFIX;
        let fix_all = lsp::CodeActionKind::new("source.fixAll.redline");
        if wants(&quickfix) {
            let mut seen = HashSet::new();
            let here: Vec<(lsp::Diagnostic, Target, String)> = self
                .at(uri, params.range)
                .filter_map(|p| {
                    let target = p.target.clone()?;
                    let title = p.fix.clone().unwrap_or_else(|| target.rule.clone());
                    Some((p.diagnostic.clone(), target, title))
                })
                .filter(|(_, t, _)| seen.insert(t.clone()))
                .collect();
            for (diagnostic, target, description) in here {
                let action = lsp::CodeAction {
                    title: format!("{}: {description}", target.rule),
                    kind: Some(quickfix.clone()),
                    diagnostics: Some(vec![diagnostic]),
                    is_preferred: Some(true),
                    ..Default::default()
                };
                if let Some(action) = self.with_edit(action, vec![target]) {
                    actions.push(lsp::CodeActionOrCommand::CodeAction(action));
                }
            }
        }
        if wants(&fix_all) {
            let all: Vec<Target> = self
                .published
                .get(uri.as_str())
                .into_iter()
                .flat_map(|(_, list)| list.iter().filter_map(|p| p.target.clone()))
                .collect();
            let action = lsp::CodeAction {
                title: "redline: fix every fixable finding in this file".into(),
                kind: Some(fix_all),
                ..Default::default()
            };
            if !all.is_empty()
                && let Some(action) = self.with_edit(action, all)
            {
                actions.push(lsp::CodeActionOrCommand::CodeAction(action));
            }
        }
        actions
    }

    /// The action with its edit, or (a client that resolves edits) with the targets to
    /// compute it from when chosen. `None`: `fix` changes nothing for them.
    fn with_edit(
        &mut self,
        mut action: lsp::CodeAction,
        targets: Vec<Target>,
    ) -> Option<lsp::CodeAction> {
        if self.resolve_edits {
            action.data = Some(json!({"targets": targets}));
        } else {
            action.edit = Some(self.fix_edit(&targets)?);
        }
        Some(action)
    }

    /// `codeAction/resolve`: the edit of an action listed without one. An action whose fix
    /// no longer changes anything (the text moved on) comes back without an edit.
    fn resolve(&mut self, mut action: lsp::CodeAction) -> lsp::CodeAction {
        let targets: Vec<Target> = action
            .data
            .take()
            .and_then(|d| serde_json::from_value(d.get("targets")?.clone()).ok())
            .unwrap_or_default();
        if !targets.is_empty() {
            action.edit = self.fix_edit(&targets);
        }
        action
    }

    /// `fix` over the current input, restricted to `targets`: the edits of every file it
    /// changed, each one replacement of the text between what did not change.
    fn fix_edit(&mut self, targets: &[Target]) -> Option<lsp::WorkspaceEdit> {
        let (input, _) = self.input();
        let opts = input.config.extract_options(None);
        let options = FixOptions {
            only: Some(targets),
            ..FixOptions::new(&[])
        };
        let run = crate::fix::fix(
            input.sources,
            &opts,
            &input.config.settings,
            &options,
            &Limits::default(),
        );
        let mut edits: Vec<(Uri, Option<i32>, lsp::TextEdit)> = Vec::new();
        for file in run.files.iter().filter(|f| f.changed()) {
            let (Some(uri), Some(change)) = (
                input.uris.get(&file.name),
                crate::fix::edit::replacement(&file.original, &file.fixed),
            ) else {
                continue;
            };
            let index = LineIndex::new(&file.original);
            let edit = lsp::TextEdit {
                range: lsp::Range {
                    start: index.position(change.start),
                    end: index.position(change.end),
                },
                new_text: change.text,
            };
            let version = self.open.get(&file.name).map(|d| d.version);
            edits.push((uri.clone(), version, edit));
        }
        if edits.is_empty() {
            return None;
        }
        Some(if self.versioned_edits {
            lsp::WorkspaceEdit {
                document_changes: Some(lsp::DocumentChanges::Edits(
                    edits
                        .into_iter()
                        .map(|(uri, version, edit)| lsp::TextDocumentEdit {
                            text_document: lsp::OptionalVersionedTextDocumentIdentifier {
                                uri,
                                version,
                            },
                            edits: vec![lsp::OneOf::Left(edit)],
                        })
                        .collect(),
                )),
                ..Default::default()
            }
        } else {
            lsp::WorkspaceEdit {
                changes: Some(
                    edits
                        .into_iter()
                        .map(|(uri, _, edit)| (uri, vec![edit]))
                        .collect(),
                ),
                ..Default::default()
            }
        })
    }
}

fn publish(
    connection: &Connection,
    uri: Uri,
    diagnostics: Vec<lsp::Diagnostic>,
    version: Option<i32>,
) {
    let params = lsp::PublishDiagnosticsParams {
        uri,
        diagnostics,
        version,
    };
    let _ = connection
        .sender
        .send(Notification::new("textDocument/publishDiagnostics".into(), params).into());
}

/// A change of `didChange`: a range replaced, or (no range) the whole text.
fn apply_change(text: &mut String, change: lsp::TextDocumentContentChangeEvent) {
    match change.range {
        Some(range) => {
            let index = LineIndex::new(text);
            let start = index.offset(range.start);
            let end = index.offset(range.end).max(start);
            text.replace_range(start..end, &change.text);
        }
        None => *text = change.text,
    }
}

/// Whether an open document is read as a manifest: as the directory walk reads files
/// ([`crate::input::is_manifest`]), and never the configuration file.
fn is_manifest(name: &str) -> bool {
    let path = Path::new(name);
    crate::input::is_manifest(path)
        && path.file_name().and_then(|f| f.to_str()) != Some(crate::settings::FILE_NAME)
}

/// `file:///…` for an absolute path.
pub fn path_to_uri(path: &Path) -> Option<Uri> {
    if !path.is_absolute() {
        return None;
    }
    #[cfg(unix)]
    let encoded = crate::input::uri_path(std::os::unix::ffi::OsStrExt::as_bytes(path.as_os_str()));
    #[cfg(not(unix))]
    let encoded = crate::input::uri_path(path.to_string_lossy().replace('\\', "/").as_bytes());
    let slash = if encoded.starts_with('/') { "" } else { "/" };
    format!("file://{slash}{encoded}").parse().ok()
}

/// The path of a `file:` URI (empty or `localhost` host), percent-decoded.
pub fn uri_to_path(uri: &Uri) -> Option<PathBuf> {
    let rest = uri.as_str().strip_prefix("file://")?;
    let rest = rest.strip_prefix("localhost").unwrap_or(rest);
    if !rest.starts_with('/') {
        return None;
    }
    let rest = rest.split(['?', '#']).next().unwrap_or(rest);
    let bytes: Vec<u8> = percent_encoding::percent_decode_str(rest).collect();
    #[cfg(unix)]
    {
        Some(PathBuf::from(
            <std::ffi::OsString as std::os::unix::ffi::OsStringExt>::from_vec(bytes),
        ))
    }
    #[cfg(not(unix))]
    {
        let text = String::from_utf8(bytes).ok()?;
        // `/C:/x` on Windows.
        Some(PathBuf::from(text.strip_prefix('/').unwrap_or(&text)))
    }
}

/// Every rule's `explain` text as `RULE.md` in the user's cache directory, once per
/// version: what a diagnostic's code links to (editors open `file:` links), so the link
/// works offline and always matches the binary. `None` (no links) when it cannot be
/// written.
fn write_explanations() -> Option<PathBuf> {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    let version: String = env!("REDLINE_VERSION")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let dir = cache.join("redline").join(version).join("rules");
    std::fs::create_dir_all(&dir).ok()?;
    for rule in crate::rules::all() {
        let path = dir.join(format!("{}.md", rule.id()));
        let text = format!("# {}\n\n{}", rule.id(), crate::rules::explain_text(rule));
        if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            std::fs::write(&path, text).ok()?;
        }
    }
    Some(dir)
}
