//! The normalized model of Redis deployments that rules read.
//!
//! Rules never ask where a number came from: a ConfigMap's redis.conf, a `--maxmemory`
//! argument, a Spotahome `customConfig` line, OT's `maxMemoryPercentOfLimit`, a KubeBlocks
//! OpsRequest or KubeBlocks' own default all end up as a line of one effective
//! [`RedisConfig`], each with its [`Origin`] and its place in the user's file ([`Loc`]).
//! Sizes are bytes; times are seconds.

pub mod access;
pub mod image;

use std::fmt;

use crate::redisconf::{Line, RedisConfig, StartupError};
use crate::source::{Node, Pos};

/// Index of an object in [`Inventory::objects`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectId(pub usize);

/// One Kubernetes object of the input.
#[derive(Debug, Clone)]
pub struct Object {
    pub api_version: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    /// The input it was read from (a file name, `<stdin>`, or a Helm `# Source:`).
    pub file: Option<String>,
    /// Its document index in that file.
    pub document: Option<usize>,
    /// Where the document starts.
    pub pos: Option<Pos>,
    pub root: Node,
}

impl Object {
    /// The API group (`apps.kubeblocks.io` of `apps.kubeblocks.io/v1`; empty for core).
    pub fn group(&self) -> &str {
        self.api_version
            .rsplit_once('/')
            .map_or("", |(group, _)| group)
    }

    pub fn version(&self) -> &str {
        self.api_version
            .rsplit_once('/')
            .map_or(self.api_version.as_str(), |(_, v)| v)
    }

    /// `namespace/name`, with `default` for objects that do not say (what kubectl applies).
    pub fn namespaced_name(&self) -> String {
        format!("{}/{}", self.namespace_or_default(), self.name)
    }

    pub fn namespace_or_default(&self) -> &str {
        self.namespace.as_deref().unwrap_or("default")
    }
}

impl fmt::Display for Object {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind, self.namespaced_name())
    }
}

/// Where a value is: the object, the JSON pointer inside it, and the file position (none for
/// objects that did not come from a file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loc {
    pub object: ObjectId,
    pub pointer: String,
    pub pos: Option<Pos>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Located<T> {
    pub value: T,
    pub at: Loc,
}

/// What put a configuration line there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A redis.conf file: a ConfigMap key mounted at `path`, or the file named in a workload.
    File { path: String },
    /// A file pulled in by an `include` line.
    Include { path: String },
    /// A `redis-server` command-line option.
    Args,
    /// What an operator writes when the user does not: `operator` names it, `rule` says how.
    OperatorDefault { operator: String, rule: String },
    /// A KubeBlocks Reconfiguring OpsRequest.
    OpsRequest,
    /// A KubeBlocks ComponentParameter.
    ComponentParameter,
    /// A KubeBlocks Parameter.
    Parameter,
    /// A Spotahome `customConfig` line or an OT `dynamicConfig` line (applied by CONFIG SET).
    CustomConfig,
    /// A line an init container's script writes into the file (`echo "port 6379" >> …`).
    InitScript { container: String },
    /// An environment variable the server reads as a setting (Dragonfly's `DFLY_<flag>`).
    Environment { variable: String },
    /// An entry of a custom resource's map of directives that the operator writes into the
    /// server's config file (valkey-operator `spec.config`): `field` names the map.
    ResourceConfig { field: String },
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File { path } => write!(f, "config file {path}"),
            Origin::Include { path } => write!(f, "included file {path}"),
            Origin::Args => write!(f, "redis-server argument"),
            Origin::OperatorDefault { operator, rule } => write!(f, "{operator} default: {rule}"),
            Origin::OpsRequest => write!(f, "Reconfiguring OpsRequest"),
            Origin::ComponentParameter => write!(f, "ComponentParameter"),
            Origin::Parameter => write!(f, "Parameter"),
            Origin::CustomConfig => write!(f, "operator custom config (CONFIG SET)"),
            Origin::ResourceConfig { field } => write!(f, "{field}"),
            Origin::Environment { variable } => write!(f, "environment variable {variable}"),
            Origin::InitScript { container } => write!(f, "init container `{container}`'s script"),
        }
    }
}

/// Origin and place of one effective configuration line.
#[derive(Debug, Clone, PartialEq)]
pub struct LineSource {
    pub origin: Origin,
    /// The directive's name (or the field that produced it).
    pub at: Option<Loc>,
    /// Each argument's place, when known.
    pub args: Vec<Option<Loc>>,
}

/// The effective redis configuration of a deployment.
#[derive(Debug, Clone)]
pub struct Config {
    pub redis: RedisConfig,
    /// Parallel to `redis.lines()`.
    pub sources: Vec<LineSource>,
    /// What redis-server would refuse at start-up, with where it points. Errors about files
    /// that may be written at run time are left out (they are gaps).
    pub errors: Vec<(StartupError, Option<Loc>)>,
    /// False when part of the configuration is not in the input (a ConfigMap that is not
    /// there, a template we cannot render): absent directives are then unknown, not default.
    pub complete: bool,
    /// What is missing, for messages.
    pub gaps: Vec<String>,
    /// Directives whose value is not known offline (set from an environment variable that
    /// comes from a Secret or the downward API): rules must not judge them.
    pub unknown: Vec<String>,
    /// ACL files whose content is known to leave the `default` user without a password (an
    /// operator's generated file): an `aclfile` line naming one is no authentication.
    pub open_acl_files: Vec<String>,
}

impl Config {
    /// The value of `name` is known (set from a known source, or at its default with the
    /// whole configuration in the input).
    pub fn is_known(&self, name: &str) -> bool {
        let dialect = self.redis.dialect();
        // A redis.conf directive of an engine that has no such setting (Dragonfly's
        // `repl-backlog-size`) has no value to judge.
        if !dialect.engine().reads_redis_conf() && dialect.lookup(name).is_none() {
            return false;
        }
        !self.unknown.iter().any(|u| u == name)
            && (self.complete || self.redis.line_of(name).is_some())
    }
}

impl Config {
    /// The source of the line that set `name`'s effective value.
    pub fn source_of(&self, name: &str) -> Option<(&Line, &LineSource)> {
        let line = self.redis.line_of(name)?;
        Some((line, self.source_of_line(line)?))
    }

    pub fn source_of_line(&self, line: &Line) -> Option<&LineSource> {
        let index = self
            .redis
            .lines()
            .iter()
            .position(|l| std::ptr::eq(l, line))?;
        self.sources.get(index)
    }
}

/// What a deployment is for Redis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Standalone,
    /// Primary and replicas (with or without Sentinel).
    Replication,
    /// Shards of a Redis Cluster (`cluster-enabled yes`).
    ClusterShard,
    Sentinel,
    /// twemproxy and the like: no data.
    Proxy,
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Standalone => "standalone",
            Role::Replication => "replication",
            Role::ClusterShard => "cluster shard",
            Role::Sentinel => "sentinel",
            Role::Proxy => "proxy",
        })
    }
}

/// A memory quantity as written, with its value in bytes (`Quantity.Value()`, rounded up).
#[derive(Debug, Clone, PartialEq)]
pub struct Memory {
    pub bytes: u64,
    pub text: String,
    pub at: Loc,
}

/// A probe setting: its value and where it was written (`None`: the default applies).
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    pub value: i64,
    pub at: Option<Loc>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Handler {
    Exec(Vec<String>),
    TcpSocket(String),
    HttpGet {
        path: String,
        port: String,
    },
    Grpc(String),
    /// A probe with no handler: invalid for the API server, or filled by an operator.
    Missing,
}

/// Who defined a probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeOrigin {
    User,
    /// Injected by an operator or a KubeBlocks ComponentDefinition.
    Operator(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    pub handler: Handler,
    /// The text of the script an exec handler runs, when the input holds it (a file mounted
    /// from a ConfigMap, an operator's embedded script): what the probe does is read there.
    pub script: Option<String>,
    pub origin: ProbeOrigin,
    pub at: Option<Loc>,
    pub initial_delay_seconds: Setting,
    pub period_seconds: Setting,
    pub timeout_seconds: Setting,
    pub success_threshold: Setting,
    pub failure_threshold: Setting,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Probes {
    pub liveness: Option<Probe>,
    pub readiness: Option<Probe>,
    pub startup: Option<Probe>,
}

/// One container running redis-server (or valkey-server, or sentinel).
#[derive(Debug, Clone, PartialEq)]
pub struct Container {
    pub name: String,
    /// The container (or the field that stands for it, e.g. a Cluster component).
    pub at: Loc,
    /// Where `resources` is, or would be added.
    pub resources_at: Loc,
    pub image: Option<Located<String>>,
    pub memory_request: Option<Memory>,
    pub memory_limit: Option<Memory>,
    /// Kubernetes defaulting: a limit without a request makes request = limit.
    pub request_from_limit: bool,
    /// Unparseable memory quantities: the API server rejects the object.
    pub memory_errors: Vec<(Loc, String)>,
    /// A memory limit written as a variable substituted before the object is applied
    /// (`${VAR}`): there is a limit, of a value not known here.
    pub memory_limit_unknown: Option<Loc>,
    /// `limits.cpu` in millicores (`2` is 2000, `500m` 500).
    pub cpu_limit_millis: Option<Located<u64>>,
    pub probes: Probes,
    /// Environment variable names, with whether the value comes from a Secret.
    pub env: Vec<(String, bool)>,
}

impl Container {
    /// Whether the image is a Docker Official Image of an engine (`redis`, `valkey/valkey`):
    /// [`image::ImageRef::is_official`].
    pub fn official_image(&self) -> bool {
        self.image_ref().is_some_and(|i| i.is_official())
    }

    /// The image reference, read.
    pub fn image_ref(&self) -> Option<image::ImageRef<'_>> {
        self.image
            .as_ref()
            .map(|i| image::ImageRef::parse(&i.value))
    }

    /// The effective request in bytes (after defaulting).
    pub fn request_bytes(&self) -> Option<u64> {
        self.memory_request
            .as_ref()
            .or(self
                .memory_limit
                .as_ref()
                .filter(|_| self.request_from_limit))
            .map(|m| m.bytes)
    }

    pub fn limit_bytes(&self) -> Option<u64> {
        self.memory_limit.as_ref().map(|m| m.bytes)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum DataVolume {
    /// A PersistentVolumeClaim template (size in bytes when given).
    Claim {
        size_bytes: Option<u64>,
        access_modes: Vec<String>,
        at: Loc,
    },
    EmptyDir {
        at: Loc,
        /// `medium: Memory`, where it is written: a tmpfs whose pages count against the
        /// pod's memory.
        memory_medium: Option<Loc>,
    },
    /// One claim named in the pod template (`persistentVolumeClaim.claimName`, dragonfly-
    /// operator's `snapshot.existingPersistentVolumeClaimName`): every pod mounts the same
    /// claim. Its access modes where the claim is in the input.
    SharedClaim {
        claim: String,
        /// The PersistentVolumeClaim, where the input holds it.
        object: Option<ObjectId>,
        access_modes: Option<Vec<String>>,
        at: Loc,
    },
    /// No volume for the data directory: the container's writable layer.
    None,
    /// The operator decides and the input does not say.
    Unknown,
}

/// Pod anti-affinity of the Redis pods.
#[derive(Debug, Clone, PartialEq)]
pub enum AntiAffinity {
    None,
    Preferred {
        at: Loc,
    },
    /// A required term on the hostname topology key.
    RequiredHostname {
        at: Loc,
    },
    /// Required on another topology key (zone), which still allows two pods per node.
    RequiredOther {
        at: Loc,
        topology_key: String,
    },
    /// Set by the operator (KubeBlocks schedulingPolicy, OT defaults) and not visible here.
    Unknown,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Pdb {
    pub object: ObjectId,
    pub min_available: Option<Located<String>>,
    pub max_unavailable: Option<Located<String>>,
    /// Every pod it selects, over all the workloads of the input it is joined to (`None`:
    /// one of their counts is unknown).
    pub selected_pods: Option<i64>,
}

/// Redis or Valkey: the engine a server runs.
pub use crate::redisconf::Engine as Product;

#[derive(Debug, Clone, PartialEq)]
pub struct Version {
    pub product: Product,
    /// As written (`7.2.4`, `v7`, `7.0-alpine`).
    pub text: String,
    pub major: u32,
    pub minor: Option<u32>,
    pub patch: Option<u32>,
    pub at: Loc,
}

impl Version {
    /// The release is `major.minor` or later (an unwritten minor counts as 0).
    pub fn at_least(&self, major: u32, minor: u32) -> bool {
        (self.major, self.minor.unwrap_or(0)) >= (major, minor)
    }
}

/// Which family of objects a deployment was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    KubeBlocks,
    /// StatefulSet, Deployment, Pod, InstanceSet.
    Workload,
    Spotahome,
    OpsTree,
    /// valkey-io/valkey-operator `ValkeyCluster`.
    ValkeyOperator,
    /// dragonflydb/dragonfly-operator `Dragonfly`.
    DragonflyOperator,
    /// KubeDB `Redis`, `RedisSentinel` (kubedb.com).
    KubeDb,
    /// A ConfigMap with a redis.conf that no workload of the input mounts.
    ConfigMap,
}

/// A change an operation object asks for, when the deployment is that projection.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    /// The OpsRequest / ComponentParameter / Parameter.
    pub object: ObjectId,
    /// `Reconfiguring`, `VerticalScaling`, `Stop`, … (`ComponentParameter`, `Parameter`).
    pub kind: String,
    /// False when the Cluster it targets is not in the input: the current resources are
    /// unknown.
    pub cluster_found: bool,
}

/// A kernel setting of the node a pod asks for: `vm.overcommit_memory=1` and transparent
/// huge pages off are what Redis' own start-up warnings ask for.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeTuning {
    /// The sysctl entry, or the init container that runs the command.
    pub at: Loc,
    /// `vm.overcommit_memory`, `transparent_hugepage`.
    pub what: String,
    pub how: NodeTuningHow,
}

#[derive(Debug, Clone, PartialEq)]
pub enum NodeTuningHow {
    /// A `securityContext.sysctls` entry that is not namespaced: the kubelet refuses the pod.
    PodSysctl,
    /// A privileged init container that writes it: it changes the node for every pod on it.
    PrivilegedInit { container: String },
}

/// A group of Sentinels (a [`Role::Sentinel`] deployment): what decides whether they can fail
/// over, and whether they follow a primary whose pod IP changes.
#[derive(Debug, Clone, PartialEq)]
pub struct Sentinels {
    /// The monitored primary's quorum (`sentinel monitor … QUORUM`, OT's `quorum`, or what an
    /// operator computes); `None` where the input does not say.
    pub quorum: Option<SentinelQuorum>,
    pub addressing: SentinelAddressing,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SentinelQuorum {
    pub value: i64,
    pub at: Loc,
    /// The operator or addon that sets it, where the user does not.
    pub set_by: Option<String>,
}

/// How the Sentinels address the primary they monitor.
#[derive(Debug, Clone, PartialEq)]
pub enum SentinelAddressing {
    /// An operator or addon keeps it current (re-points the Sentinels at the primary's pod IP
    /// on every reconcile, or writes the hostname settings itself): it names who and how.
    Operator(String),
    /// `sentinel monitor` in the configuration: the host as written, and the
    /// `sentinel resolve-hostnames` / `announce-hostnames` lines (`None`: not written, so
    /// `no`).
    Config {
        host: Located<String>,
        resolve_hostnames: Option<Located<bool>>,
        announce_hostnames: Option<Located<bool>>,
    },
    /// Fields of a custom resource that choose it (OT `resolveHostnames`,
    /// `announceHostnames`): their value, where written or would be added.
    Fields {
        resolve_hostnames: Located<bool>,
        announce_hostnames: Located<bool>,
    },
    /// Not in the input (a sentinel.conf written at run time).
    Unknown,
}

/// A Redis Enterprise cluster (`app.redislabs.com` `RedisEnterpriseCluster`): Redis
/// Enterprise nodes, one pod each, that host the shards of its databases. Not a
/// [`Deployment`]: no redis.conf, no container of the user's.
#[derive(Debug, Clone, PartialEq)]
pub struct EnterpriseCluster {
    pub object: ObjectId,
    /// `spec.nodes` (default 3, where it would be written).
    pub nodes: Located<i64>,
    /// `spec.redisEnterpriseNodeResources` as written, or the operator's default (2 CPU and
    /// 4Gi, requests = limits) at the place it would go.
    pub node_resources: NodeResources,
    /// The databases of the input bound to it, in input order.
    pub databases: Vec<EnterpriseDatabase>,
}

/// The resources of each Redis Enterprise node.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeResources {
    /// Where `redisEnterpriseNodeResources` is, or would be added.
    pub at: Loc,
    /// False when the operator's defaults apply.
    pub written: bool,
    pub memory_request: Option<Memory>,
    pub memory_limit: Option<Memory>,
    /// CPU request and limit as written (`2`, `2000m`), in millicores.
    pub cpu_request_millis: Option<Located<u64>>,
    pub cpu_limit_millis: Option<Located<u64>>,
}

/// A Redis Enterprise database (`RedisEnterpriseDatabase`).
#[derive(Debug, Clone, PartialEq)]
pub struct EnterpriseDatabase {
    pub object: ObjectId,
    /// `spec.memorySize` in bytes (MB/GB read as binary multiples: the docs do not say, and
    /// the larger reading errs on the safe side), or the default 100MB.
    pub memory: Located<u64>,
    /// As written (`256MB`), or the default.
    pub memory_text: String,
    /// `spec.replication`: a replica shard for every primary shard (default false).
    pub replication: Located<bool>,
    /// `spec.shardCount` (default 1).
    pub shards: Located<i64>,
}

impl EnterpriseDatabase {
    /// The memory it takes from the cluster at most: ×2 with replication ("Enabling
    /// replication doubles memory consumption", Redis Software's hardware requirements).
    pub fn footprint_bytes(&self) -> u64 {
        if self.replication.value {
            self.memory.value.saturating_mul(2)
        } else {
            self.memory.value
        }
    }
}

/// A KubeBlocks OpsRequest as written, for rules about the operation itself rather than
/// what it changes (those judge its projections, [`Deployment::operation`]).
#[derive(Debug, Clone, PartialEq)]
pub struct OpsRequest {
    pub object: ObjectId,
    /// `spec.type`: `Stop`, `Start`, `Reconfiguring`, ….
    pub kind: String,
    /// `spec.force: true`: KubeBlocks runs it whatever the Cluster's phase.
    pub force: bool,
    /// `spec.clusterName` (1.0: `clusterRef`), where it is written.
    pub cluster_name: Option<Located<String>>,
    /// The `status.phase` of that Cluster, when the input holds it (the webhook adds the
    /// Cluster from its cache) and it is found as every reference is.
    pub cluster_phase: Option<String>,
}

/// One Redis deployment: a KubeBlocks component or sharding, a workload, a RedisFailover, an
/// OT custom resource — or the same after an operation object is applied.
#[derive(Debug, Clone)]
pub struct Deployment {
    /// The object findings belong to (the OpsRequest, for a projection).
    pub object: ObjectId,
    /// KubeBlocks component or sharding name; OT `leader`/`follower`; Spotahome `redis`.
    pub component: Option<String>,
    pub platform: Platform,
    pub role: Role,
    /// Redis or Valkey (from the image, the command, the KubeBlocks definition).
    pub engine: Product,
    /// Pods (per shard, for cluster shards).
    pub replicas: Option<Located<i64>>,
    pub shards: Option<Located<i64>>,
    pub containers: Vec<Container>,
    pub config: Config,
    pub data: DataVolume,
    /// The release, where the input names it (`None`: unknown — `latest`, a digest, a
    /// vendor tag). The configuration was judged with [`Config::redis`]'s dialect.
    pub version: Option<Version>,
    /// `None`: the default (OrderedReady for StatefulSets), or not a StatefulSet.
    pub pod_management_policy: Option<Located<String>>,
    /// The pod template's spec of a workload, where pod-level fields (affinity) are added.
    pub pod_spec: Option<Loc>,
    pub anti_affinity: AntiAffinity,
    pub topology_spread: bool,
    pub pdb: Option<Pdb>,
    /// Pod labels (for joins and exemptions).
    pub pod_labels: Vec<(String, String)>,
    /// The workload's own `spec.selector.matchLabels`: what a PodDisruptionBudget or an
    /// anti-affinity term should select (pod labels such as `chart: redis-10.5.6` change on
    /// every upgrade). Empty where there is none, or the selector uses `matchExpressions`.
    pub selector: Vec<(String, String)>,
    /// Objects this deployment was assembled from, besides `object`.
    pub related: Vec<ObjectId>,
    pub operation: Option<Operation>,
    /// Facts the model could not establish, for messages.
    pub notes: Vec<String>,
    /// Kernel settings of the node the pod reaches for (sysctls, transparent huge pages).
    pub node_tuning: Vec<NodeTuning>,
    /// `terminationGracePeriodSeconds` of a workload's pods: as written, or Kubernetes'
    /// default 30 at the place it would be added. `None` where an operator writes the pods.
    pub termination_grace_seconds: Option<Located<i64>>,
    /// What a group of Sentinels is configured with (`None` for servers).
    pub sentinels: Option<Sentinels>,
}

impl Deployment {
    /// The container redis-server runs in (the first Redis container).
    pub fn redis_container(&self) -> Option<&Container> {
        self.containers.first()
    }

    /// All its pods: `replicas` counts pods per shard for a KubeBlocks sharding and a
    /// ValkeyCluster (so × `shards`), and all pods of a workload and of an OT part.
    pub fn pods(&self) -> Option<i64> {
        let replicas = self.replicas.as_ref()?.value;
        match (self.platform, &self.shards) {
            (Platform::KubeBlocks | Platform::ValkeyOperator | Platform::KubeDb, Some(shards)) => {
                replicas.checked_mul(shards.value)
            }
            _ => Some(replicas),
        }
    }
}

/// Everything read from one input (a file, a directory, stdin, an AdmissionReview).
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    pub objects: Vec<Object>,
    pub deployments: Vec<Deployment>,
    /// Problems with the input documents themselves, by object (or file).
    pub problems: Vec<Problem>,
    /// References the input answers with several equally near copies of one object (the
    /// same ConfigMap under `dev/` and `prod/`): not joined.
    pub ambiguous: Vec<Problem>,
    /// Indices into `deployments` of the projections of operations, by the objects they
    /// relate to (an OpsRequest's Cluster): rules ask "is this Cluster changed by an
    /// operation?" per deployment, and a scan of every deployment each time would make a
    /// large repository quadratic.
    pub operations_on: std::collections::HashMap<ObjectId, Vec<usize>>,
    /// The KubeBlocks OpsRequests of the input, in input order.
    pub ops_requests: Vec<OpsRequest>,
    /// Redis-family servers the input holds that redline does not model (a Redis Enterprise
    /// Active-Active database): named, so that nothing is skipped silently.
    pub unjudged: Vec<Problem>,
    /// Redis Enterprise clusters with their databases.
    pub enterprise: Vec<EnterpriseCluster>,
    /// Redis Enterprise databases whose cluster is not in the input (their capacity is not
    /// known).
    pub enterprise_orphans: Vec<EnterpriseDatabase>,
}

/// A problem reading an object (not a rule finding): an invalid quantity, a field of the
/// wrong type, a reference that does not resolve.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub at: Loc,
    pub message: String,
}

impl Inventory {
    pub fn new(objects: Vec<Object>, deployments: Vec<Deployment>, problems: Vec<Problem>) -> Self {
        let mut operations_on: std::collections::HashMap<ObjectId, Vec<usize>> =
            std::collections::HashMap::new();
        for (i, d) in deployments.iter().enumerate() {
            if d.operation.is_some() {
                for &related in &d.related {
                    operations_on.entry(related).or_default().push(i);
                }
            }
        }
        Inventory {
            objects,
            deployments,
            problems,
            ambiguous: Vec::new(),
            operations_on,
            ops_requests: Vec::new(),
            unjudged: Vec::new(),
            enterprise: Vec::new(),
            enterprise_orphans: Vec::new(),
        }
    }

    pub fn object(&self, id: ObjectId) -> &Object {
        &self.objects[id.0]
    }

    /// The projections of operations on `object`.
    pub fn operations_on(&self, object: ObjectId) -> impl Iterator<Item = &Deployment> {
        self.operations_on
            .get(&object)
            .into_iter()
            .flatten()
            .map(|&i| &self.deployments[i])
    }
}
