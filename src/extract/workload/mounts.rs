//! What a container can read at start-up: ConfigMap keys mounted as files, and files that
//! init containers write.

use super::*;

/// Files provided by the container's ConfigMap mounts.
#[derive(Default)]
pub(super) struct Mounted<'a> {
    pub(super) config_maps: Vec<ObjectId>,
    /// Every mounted file: its path in the container, the ConfigMap and the value.
    pub(super) files: Vec<(String, ObjectId, Cursor<'a>)>,
    /// Mount directories whose files all come from ConfigMaps of the input.
    pub(super) known_dirs: Vec<String>,
    /// Mount directories whose ConfigMap is not in the input: mount path, ConfigMap name,
    /// why it was not found.
    pub(super) missing: Vec<(String, String, &'static str)>,
    /// Every ConfigMap key of the pod, by file name, for configs an init container copies.
    pub(super) candidates: Vec<(String, Loc, crate::source::Scalar)>,
}

impl<'a> Mounted<'a> {
    /// Hands every mounted file, and the directories whose files all come from the input,
    /// to the reader.
    pub(super) fn offer(&self, asm: &mut Assembly) {
        for dir in &self.known_dirs {
            asm.known_dir(dir);
        }
        for (path, object, cursor) in &self.files {
            if let Some(scalar) = cursor.node.scalar() {
                asm.file_from_scalar(path, scalar, &loc(*object, cursor));
            }
        }
    }

    /// The first mounted file that words of a command name (`sh -c "/health/ping.sh 5"`):
    /// its path, ConfigMap and value.
    pub(super) fn script_in<'w>(
        &self,
        words: impl Iterator<Item = &'w str>,
    ) -> Option<(&'w str, ObjectId, &Cursor<'a>)> {
        words
            .flat_map(str::split_whitespace)
            .map(|w| w.trim_matches(|c| c == '"' || c == '\''))
            .filter(|w| w.starts_with('/'))
            .find_map(|path| {
                let (object, cursor) = self.file(path)?;
                Some((path, object, cursor))
            })
    }

    /// The mounted file at `path`.
    pub(super) fn file(&self, path: &str) -> Option<(ObjectId, &Cursor<'a>)> {
        self.files
            .iter()
            .find(|(p, _, _)| p == path)
            .map(|(_, id, c)| (*id, c))
    }
}

pub(super) fn mount_files<'a>(
    ctx: &mut Ctx<'a>,
    id: ObjectId,
    pod_spec: &Cursor,
    container: &Cursor,
) -> Mounted<'a> {
    let namespace = ctx.object(id).namespace_or_default().to_string();
    let volumes = pod_spec
        .get("volumes")
        .map(|v| v.items())
        .unwrap_or_default();
    let mut mounted = Mounted::default();
    // Every ConfigMap volume of the pod, for the init-container copy case.
    for v in &volumes {
        let Some(cm) = v.get("configMap") else {
            continue;
        };
        let Some(cm_id) = cm
            .get("name")
            .and_then(|n| ctx.find(&loc(id, &n), "ConfigMap", &namespace, n.str()?))
        else {
            continue;
        };
        for (key, value) in ctx
            .root(cm_id)
            .get("data")
            .map(|d| d.entries())
            .unwrap_or_default()
        {
            if let Some(s) = value.node.scalar() {
                mounted
                    .candidates
                    .push((key.to_string(), loc(cm_id, &value), s.clone()));
            }
        }
    }
    let mounts = container
        .get("volumeMounts")
        .map(|m| m.items())
        .unwrap_or_default();
    for m in &mounts {
        let (Some(name), Some(mount_path)) = (m.str_at(&["name"]), m.str_at(&["mountPath"])) else {
            continue;
        };
        let claim = ctx
            .root(id)
            .at(&["spec", "volumeClaimTemplates"])
            .map(|c| c.items())
            .unwrap_or_default()
            .iter()
            .any(|c| c.str_at(&["metadata", "name"]) == Some(name));
        let Some(volume) = volumes.iter().find(|v| v.str_at(&["name"]) == Some(name)) else {
            if claim {
                continue;
            }
            ctx.problem(
                loc(id, m),
                format!("volumeMount `{name}` names no volume of the pod"),
            );
            continue;
        };
        let sources: Vec<Cursor> = match (volume.get("configMap"), volume.get("projected")) {
            (Some(cm), _) => vec![cm],
            (None, Some(p)) => p
                .get("sources")
                .map(|s| s.items())
                .unwrap_or_default()
                .iter()
                .filter_map(|s| s.get("configMap"))
                .collect(),
            _ => Vec::new(),
        };
        let sub_path = m.str_at(&["subPath"]);
        for cm in sources {
            let Some(cm_name) = cm.str_at(&["name"]) else {
                continue;
            };
            let at = cm.get("name").map_or_else(|| loc(id, &cm), |n| loc(id, &n));
            let Some(cm_id) = ctx.find(&at, "ConfigMap", &namespace, cm_name) else {
                mounted.missing.push((
                    mount_path.to_string(),
                    cm_name.to_string(),
                    ctx.why_missing("ConfigMap", &namespace, cm_name),
                ));
                continue;
            };
            mounted.config_maps.push(cm_id);
            if sub_path.is_none() {
                mounted.known_dirs.push(mount_path.to_string());
            }
            let data = ctx.root(cm_id).get("data");
            // key → file name inside the volume (`items` restricts and renames).
            let files: Vec<(String, String)> = match cm.get("items") {
                Some(items) => items
                    .items()
                    .iter()
                    .filter_map(|i| Some((i.str_at(&["key"])?.into(), i.str_at(&["path"])?.into())))
                    .collect(),
                None => data
                    .as_ref()
                    .map(|d| d.entries())
                    .unwrap_or_default()
                    .iter()
                    .map(|(k, _)| (k.to_string(), k.to_string()))
                    .collect(),
            };
            for (key, file) in files {
                let path = match sub_path {
                    Some(sp) if sp == file => mount_path.to_string(),
                    Some(_) => continue,
                    None => format!("{}/{file}", mount_path.trim_end_matches('/')),
                };
                match data.as_ref().and_then(|d| d.get(&key)) {
                    Some(v) => {
                        if v.node.scalar().is_some() {
                            mounted.files.push((path.clone(), cm_id, v.clone()));
                        }
                    }
                    None => ctx.problem(
                        loc(id, &cm),
                        format!("ConfigMap {cm_name} has no key `{key}` (mounted at {path})"),
                    ),
                }
            }
        }
    }
    mounted
}

/// What one init container's script writes into files.
pub(super) struct InitWrites<'a> {
    pub(super) container: String,
    /// The script's text and place (a mounted ConfigMap key, or an inline `sh -c` argument).
    pub(super) object: ObjectId,
    pub(super) cursor: Cursor<'a>,
    pub(super) writes: Vec<shell::Write>,
    pub(super) mounted: Mounted<'a>,
}

/// The writes of every init container that runs a script: inline (`sh -c "…"`) or a file
/// mounted from a ConfigMap of the input. Problems of their mounts are not the server's.
pub(super) fn init_writes<'a>(
    ctx: &mut Ctx<'a>,
    id: ObjectId,
    pod_spec: &Cursor<'a>,
) -> Vec<InitWrites<'a>> {
    let mut out = Vec::new();
    for c in pod_spec
        .get("initContainers")
        .map(|v| v.items())
        .unwrap_or_default()
    {
        let before = ctx.problems.len();
        let mounted = mount_files(ctx, id, pod_spec, &c);
        ctx.problems.truncate(before);
        let items: Vec<Cursor> = ["command", "args"]
            .iter()
            .flat_map(|k| c.get(k).map(|v| v.items()).unwrap_or_default())
            .collect();
        let inline = items
            .windows(2)
            .find(|w| {
                w[0].str()
                    .is_some_and(|t| t.starts_with('-') && t.contains('c'))
            })
            .map(|w| (id, w[1].clone()));
        let file = mounted
            .script_in(items.iter().filter_map(Cursor::str))
            .map(|(_, object, cursor)| (object, cursor.clone()));
        let Some((object, cursor)) = file.or(inline) else {
            continue;
        };
        let Some(text) = cursor.str() else { continue };
        let writes = read_script(text).writes;
        if writes.is_empty() {
            continue;
        }
        out.push(InitWrites {
            container: c.str_at(&["name"]).unwrap_or("").to_string(),
            object,
            cursor,
            writes,
            mounted,
        });
    }
    out
}

/// The file at `path` as the init containers' scripts leave it, line by line with where each
/// line comes from; `None` when no init container writes it.
pub(super) fn written_by_init(
    path: &str,
    init: &[InitWrites],
    asm: &mut Assembly,
) -> Option<Vec<SynthLine>> {
    let mut lines: Vec<SynthLine> = Vec::new();
    let mut writer = None;
    for w in init {
        let origin = Origin::InitScript {
            container: w.container.clone(),
        };
        let scalar = w.cursor.node.scalar();
        let at = |offset: usize| Loc {
            object: w.object,
            pointer: w.cursor.pointer.clone(),
            pos: scalar.and_then(|s| s.pos_at(offset)).or(w.cursor.pos()),
        };
        for write in w.writes.iter().filter(|x| x.path() == path) {
            writer = Some(w.container.clone());
            match write {
                shell::Write::Truncate { .. } => lines.clear(),
                shell::Write::Line {
                    text,
                    offset,
                    conditional,
                    ..
                } => {
                    if text.contains('$') || *conditional {
                        let name = text.split_whitespace().next().unwrap_or("").to_string();
                        let why = if *conditional {
                            "only under a condition of its script"
                        } else {
                            "from a run-time value"
                        };
                        asm.unknown(
                            &name,
                            format!(
                                "`{name}` is written by init container `{}` {why}",
                                w.container
                            ),
                        );
                        continue;
                    }
                    // Point at the text, inside its quotes.
                    let quoted = scalar.is_some_and(|s| {
                        matches!(s.text.as_bytes().get(*offset), Some(b'"' | b'\''))
                    });
                    lines.push(SynthLine {
                        text: text.clone(),
                        origin: origin.clone(),
                        at: Some(at(offset + usize::from(quoted))),
                    });
                }
                shell::Write::Append { source, offset, .. } => {
                    let files: Vec<(String, ObjectId, &Cursor)> = match source.strip_suffix("/*") {
                        Some(dir) => w
                            .mounted
                            .files
                            .iter()
                            .filter(|(p, _, _)| p.starts_with(&format!("{dir}/")))
                            .map(|(p, o, c)| (p.clone(), *o, c))
                            .collect(),
                        None => w
                            .mounted
                            .file(source)
                            .map(|(o, c)| (source.clone(), o, c))
                            .into_iter()
                            .collect(),
                    };
                    if files.is_empty() {
                        // `if [ -f … ]; then cat … >> …`: nothing is mounted there.
                        asm.note(format!(
                            "{path}: init container `{}` appends {source} where present; \
                             nothing is mounted there",
                            w.container
                        ));
                    }
                    // The appended file is read where it is mounted, as an `include` at
                    // this point: its lines keep their own places (and fixes edit them there).
                    for (file, object, cursor) in files {
                        let Some(file_scalar) = cursor.node.scalar() else {
                            continue;
                        };
                        asm.file_from_scalar(&file, file_scalar, &loc(object, cursor));
                        lines.push(SynthLine {
                            text: format!("include {file}"),
                            origin: origin.clone(),
                            at: Some(at(*offset)),
                        });
                    }
                }
            }
        }
    }
    let writer = writer?;
    asm.note(format!(
        "{path} is written by init container `{writer}`, read from its script"
    ));
    Some(lines)
}
