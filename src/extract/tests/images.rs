//! Images and launch scripts: the release an image names, sidecars that are not servers,
//! Bitnami and Valkey chart start scripts.

use super::*;

/// A workload whose image is `image`, reading a ConfigMap's redis.conf with `conf`.
fn with_image(image: &str, conf: &str) -> Inventory {
    model(&format!(
        r#"apiVersion: v1
kind: ConfigMap
metadata: {{name: conf}}
data:
  redis.conf: |
    {conf}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {{name: cache}}
spec:
  template:
    spec:
      containers:
        - name: redis
          image: {image}
          args: ["/etc/redis/redis.conf"]
          volumeMounts: [{{name: conf, mountPath: /etc/redis}}]
      volumes: [{{name: conf, configMap: {{name: conf}}}}]
"#,
        conf = conf.replace('\n', "\n    ")
    ))
}

#[test]
fn each_release_judges_with_its_own_directive_table() {
    // Valid since 7.2: no start-up error on 7.2.5.
    let inv = with_image("redis:7.2.5", "locale-collate \"\"");
    assert!(
        only(&inv).config.errors.is_empty(),
        "{:?}",
        only(&inv).config.errors
    );
    // 7.0 refuses it, and the message says when it came.
    let inv = with_image("redis:7.0.11-alpine", "locale-collate \"\"");
    let errors = &only(&inv).config.errors;
    assert_eq!(errors.len(), 1);
    assert!(errors[0].0.certain);
    let hint = errors[0].0.hint.as_deref().unwrap();
    assert!(
        // The server is 7.0.11: the message names its line, not the table's 7.0.15.
        hint.contains("added in Redis 7.2") && hint.ends_with("this is Redis 7.0"),
        "{hint}"
    );
    // Valkey 8: its own names, and its changed defaults.
    let inv = with_image(
        "valkey/valkey:8.0.1",
        "primaryauth secret\navailability-zone az1",
    );
    let d = only(&inv);
    assert!(d.config.errors.is_empty(), "{:?}", d.config.errors);
    assert_eq!(d.engine, crate::model::Product::Valkey);
    assert!(d.config.redis.bool_value("lazyfree-lazy-eviction"));
    assert!(d.config.redis.line_of("masterauth").is_some());
    let inv = with_image("redis:7.2.5", "availability-zone az1");
    let hint = only(&inv).config.errors[0].0.hint.clone().unwrap();
    assert!(hint.contains("Valkey only"), "{hint}");
    // A tag that names no release: a name some release knows is accepted, one none knows
    // is reported as uncertain.
    let inv = with_image("redis:latest", "locale-collate \"\"\nno-such-directive 1");
    let errors = &only(&inv).config.errors;
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(!errors[0].0.certain);
}

#[test]
fn sidecars_exporters_and_clients_are_not_servers() {
    let inv = model(
        r#"apiVersion: apps/v1
kind: StatefulSet
metadata: {name: ha}
spec:
  template:
    spec:
      containers:
        - name: redis
          image: redis:7.2.4
        - name: sentinel
          image: redis:7.2.4
          command: ["redis-sentinel", "/data/sentinel.conf"]
        - name: split-brain-fix
          image: redis:7.2.4
          command: ["sh", "-c", "while true; do redis-cli -p 6379 info replication; sleep 60; done"]
        - name: metrics
          image: oliver006/redis_exporter:v1.62.0
        - name: app
          image: example/hello-app-redis:1.0
          readinessProbe: {httpGet: {path: /healthz, port: 8080}}
"#,
    );
    let names: Vec<(&str, Role)> = inv
        .deployments
        .iter()
        .map(|d| (d.component.as_deref().unwrap(), d.role))
        .collect();
    assert_eq!(
        names,
        [("redis", Role::Replication), ("sentinel", Role::Sentinel)]
    );
    assert_eq!(inv.deployments[1].data, DataVolume::None);
}

#[test]
fn a_bitnami_start_script_from_its_config_map_is_followed() {
    let inv = model(
        r#"apiVersion: v1
kind: ConfigMap
metadata: {name: scripts}
data:
  start-master.sh: |
    #!/bin/bash
    if [[ -f /opt/bitnami/redis/mounted-etc/redis.conf ]];then
        cp /opt/bitnami/redis/mounted-etc/redis.conf /opt/bitnami/redis/etc/redis.conf
    fi
    ARGS=("--port" "${REDIS_PORT}")
    ARGS+=("--protected-mode" "no")
    ARGS+=("--include" "/opt/bitnami/redis/etc/redis.conf")
    exec redis-server "${ARGS[@]}"
---
apiVersion: v1
kind: ConfigMap
metadata: {name: configuration}
data:
  redis.conf: |
    appendonly yes
    save ""
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: redis-master}
spec:
  template:
    spec:
      containers:
        - name: redis
          image: docker.io/bitnami/redis:7.2.4-debian-12-r9
          command: [/bin/bash]
          args: ["-c", "/opt/bitnami/scripts/start-scripts/start-master.sh"]
          env:
            - {name: REDIS_PORT, value: "6379"}
            - {name: ALLOW_EMPTY_PASSWORD, value: "yes"}
          volumeMounts:
            - {name: start-scripts, mountPath: /opt/bitnami/scripts/start-scripts}
            - {name: config, mountPath: /opt/bitnami/redis/mounted-etc}
      volumes:
        - {name: start-scripts, configMap: {name: scripts, defaultMode: 0755}}
        - {name: config, configMap: {name: configuration}}
"#,
    );
    let d = only(&inv);
    assert!(d.config.complete, "{:?}", d.config.gaps);
    assert!(!d.config.redis.bool_value("protected-mode"));
    assert!(d.config.redis.appendonly());
    assert_eq!(d.config.redis.config_get("port").as_deref(), Some("6379"));
    // `--protected-mode no` is found in the script, at its line of the ConfigMap.
    let (_, src) = d.config.source_of("protected-mode").unwrap();
    let at = src.args[0].as_ref().unwrap();
    assert_eq!(inv.object(at.object).name, "scripts");
    assert_eq!(at.pos.unwrap().line, 11);
}

/// valkey-helm's Deployment and init script, hand-rendered from valkey-io/valkey-helm@dbcf6a6
/// (BSD-3-Clause; `valkey/templates/init_config.yaml`, `deploy_valkey.yaml`) with the default
/// values (auth, TLS and replicas off) plus `valkeyConfig: "maxmemory 100mb"`, trimmed to the
/// parts that shape valkey.conf. (A real `helm template` output of the chart, aserowy/dots
/// `paperless/`, gives the same model, but carries no licence to ship it here.)
pub(super) const VALKEY_HELM: &str = r#"
apiVersion: v1
kind: ConfigMap
metadata: {name: valkey-init-scripts}
data:
  init.sh: |-
    #!/bin/sh
    set -eu

    # Default config paths
    VALKEY_CONFIG=${VALKEY_CONFIG_PATH:-/data/conf/valkey.conf}

    LOGFILE="/data/init.log"
    DATA_DIR="/data/conf"

    log() {
      echo "$(date) $1" | tee -a "$LOGFILE" >&2
    }

    log "Creating configuration in $DATA_DIR..."
    mkdir -p "$DATA_DIR"
    rm -f "$VALKEY_CONFIG"

    # Base valkey.conf
    log "Generating base valkey.conf"
    {
      echo "port 6379"
      echo "protected-mode no"
      echo "bind * -::*"
      echo "dir /data"
    } >>"$VALKEY_CONFIG"

    # Append extra configs if present
    if [ -f /usr/local/etc/valkey/valkey.conf ]; then
      log "Appending /usr/local/etc/valkey/valkey.conf"
      cat /usr/local/etc/valkey/valkey.conf >>"$VALKEY_CONFIG"
    fi
    if [ -d /extravalkeyconfigs ]; then
      log "Appending files in /extravalkeyconfigs/"
      cat /extravalkeyconfigs/* >>"$VALKEY_CONFIG"
    fi
---
apiVersion: v1
kind: ConfigMap
metadata: {name: valkey-config}
data:
  valkey.conf: |
    maxmemory 100mb
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: valkey}
spec:
  replicas: 1
  selector:
    matchLabels: {app.kubernetes.io/name: valkey}
  template:
    metadata:
      labels: {app.kubernetes.io/name: valkey}
    spec:
      initContainers:
        - name: valkey-init
          image: docker.io/valkey/valkey:8.1.3
          command: [ "/scripts/init.sh" ]
          volumeMounts:
            - {name: valkey-data, mountPath: /data}
            - {name: scripts, mountPath: /scripts}
            - {name: valkey-config, mountPath: /usr/local/etc/valkey/valkey.conf, subPath: valkey.conf}
      containers:
        - name: valkey
          image: docker.io/valkey/valkey:8.1.3
          command: [ "valkey-server" ]
          args: [ "/data/conf/valkey.conf" ]
          volumeMounts:
            - {name: valkey-data, mountPath: /data}
      volumes:
        - {name: scripts, configMap: {name: valkey-init-scripts, defaultMode: 0555}}
        - {name: valkey-config, configMap: {name: valkey-config}}
        - {name: valkey-data, emptyDir: {}}
"#;

#[test]
fn valkey_helm_init_script_composes_the_config_the_server_reads() {
    let inv = model(VALKEY_HELM);
    let d = inv
        .deployments
        .iter()
        .find(|d| d.platform == Platform::Workload)
        .expect("the valkey server");
    assert_eq!(d.engine, crate::model::Product::Valkey);
    assert!(d.config.complete, "{:?}", d.config.gaps);
    let r = &d.config.redis;
    assert!(!r.bool_value("protected-mode"));
    assert_eq!(r.maxmemory_bytes(), 100 << 20);
    // Each line points into the script that writes it, or the file it appends.
    assert_eq!(line_pos(d, "protected-mode"), (28, 13));
    let (_, src) = d.config.source_of("protected-mode").unwrap();
    assert_eq!(
        src.origin,
        Origin::InitScript {
            container: "valkey-init".into()
        }
    );
    let (_, src) = d.config.source_of("maxmemory").unwrap();
    // Appended from its own mount: read in place, as an include at that point.
    assert_eq!(
        src.origin,
        Origin::Include {
            path: "/usr/local/etc/valkey/valkey.conf".into()
        }
    );
    assert_eq!(line_pos(d, "maxmemory"), (48, 5));
    // Default chart values: no password, protected mode off, every interface.
    assert_eq!(crate::rules::facts::auth(d), Some(false));
    assert!(
        d.config
            .gaps
            .iter()
            .any(|g| g.contains("/extravalkeyconfigs/* where present")),
        "{:?}",
        d.config.gaps
    );
}
