//! Reads `infra/template.yaml`, the single source of truth for the deployed stack, so that local
//! tools (the gateway's routes, provisioning of tables, keys, queues and buckets, the drift check)
//! are derived from it instead of being a second, hand-maintained copy that silently diverges.
//!
//! The template is walked as a raw [`serde_norway::Value`] rather than deserialised into structs:
//! serde_norway (like serde_yaml 0.9, which it forks) silently strips tags when a tagged node is
//! deserialised into a `String`, so `AttributeName: !Ref Foo` would come out as `"Foo"`. Walking the tree lets every CloudFormation
//! intrinsic (short form `!Ref` / `!Sub` / `!Join`, and long form `Ref` / `Fn::Sub` / `Fn::Join`) be
//! resolved on purpose, and anything unresolvable be refused with the path where it was found.
//!
//! Values that only exist once another resource does (`!GetAtt Queue.Arn`, `!Ref Key`) come from
//! [`PhysicalResources`], which the provisioner fills in dependency order with what each resource
//! turned out to be. Nothing is guessed: a queue's ARN comes from SQS, a key's from KMS.
//!
//! Every resource provisioning creates (tables, KMS keys and aliases, queues, buckets, their
//! policies, e-mail identities, secrets) is provisioned from its `Properties` resolved to JSON
//! ([`Template::resolved`], [`Template::resolve`]), the input the drift check compares too, and
//! read through [`Prop`], which refuses a missing, unknown or wrong value with the path where the
//! template writes it. Before anything is created, the reader refuses every top-level property
//! provisioning would not apply (`APPLIED`), the FIFO rules SQS enforces and the emulator does
//! not ([`Queue`]), and an alias of a key of another stack: a security property silently dropped
//! locally (like the emulator's CloudFormation drops a bucket's lifecycle) is exactly the gap
//! this module exists to close.

use std::collections::BTreeMap;
use std::num::ParseIntError;
use std::path::{Path, PathBuf};

use serde_norway::{Mapping, Value};

pub const TABLE_TYPE: &str = "AWS::DynamoDB::Table";
const FUNCTION_TYPE: &str = "AWS::Serverless::Function";
pub const KEY_TYPE: &str = "AWS::KMS::Key";
pub const ALIAS_TYPE: &str = "AWS::KMS::Alias";
pub const QUEUE_TYPE: &str = "AWS::SQS::Queue";
pub const QUEUE_POLICY_TYPE: &str = "AWS::SQS::QueuePolicy";
pub const BUCKET_TYPE: &str = "AWS::S3::Bucket";
pub const BUCKET_POLICY_TYPE: &str = "AWS::S3::BucketPolicy";
pub const EMAIL_IDENTITY_TYPE: &str = "AWS::SES::EmailIdentity";
pub const SECRET_TYPE: &str = "AWS::SecretsManager::Secret";
pub const CONFIGURATION_SET_TYPE: &str = "AWS::SES::ConfigurationSet";
pub const DISTRIBUTION_TYPE: &str = "AWS::CloudFront::Distribution";
pub const ORIGIN_ACCESS_CONTROL_TYPE: &str = "AWS::CloudFront::OriginAccessControl";
pub const RESPONSE_HEADERS_POLICY_TYPE: &str = "AWS::CloudFront::ResponseHeadersPolicy";
pub const CLOUDFRONT_FUNCTION_TYPE: &str = "AWS::CloudFront::Function";
/// The resource types the local gateway plays instead of the emulator, which has no CloudFront:
/// it serves the pages from `web/dist` with the response headers policy's headers and routes
/// `/api/...` as the viewer-request function does (`crate::gateway`). Provisioning creates none
/// of them and the drift check does not look for them; what names one resolves to its stand-in
/// ([`Template::gateway_stand_ins`]).
pub const PLAYED_BY_GATEWAY: &[&str] = &[
    DISTRIBUTION_TYPE,
    ORIGIN_ACCESS_CONTROL_TYPE,
    RESPONSE_HEADERS_POLICY_TYPE,
    CLOUDFRONT_FUNCTION_TYPE,
];
/// What a resource the local gateway plays ([`PLAYED_BY_GATEWAY`]) is, locally: its `Ref` and
/// its `Id`, so that a policy naming it (the web bucket's, which admits the distribution)
/// resolves, the same for provisioning and the drift check. Any other attribute is refused.
pub const GATEWAY_STAND_IN: &str = "local-gateway";
/// The `Properties` provisioning applies, per resource type it reads through
/// [`Template::resolved`]: any other is refused ([`TemplateError::UnsupportedProperty`]), since
/// the emulator's resource would silently differ from the deployed one.
const APPLIED: &[(&str, &[&str])] = &[
    (
        TABLE_TYPE,
        &[
            "TableName",
            "BillingMode",
            "AttributeDefinitions",
            "KeySchema",
            "GlobalSecondaryIndexes",
            "ProvisionedThroughput",
            "TimeToLiveSpecification",
            "PointInTimeRecoverySpecification",
            "StreamSpecification",
            "SSESpecification",
            // Read, neither applied nor compared: see `crate::drift::NOT_COMPARED`.
            "DeletionProtectionEnabled",
        ],
    ),
    (
        BUCKET_TYPE,
        &[
            "BucketName",
            "BucketEncryption",
            "PublicAccessBlockConfiguration",
            "OwnershipControls",
            "VersioningConfiguration",
            "LifecycleConfiguration",
            "NotificationConfiguration",
            "LoggingConfiguration",
            "CorsConfiguration",
        ],
    ),
    (KEY_TYPE, &["Description", "EnableKeyRotation", "KeyPolicy"]),
    (ALIAS_TYPE, &["AliasName", "TargetKeyId"]),
    (
        QUEUE_TYPE,
        &[
            "QueueName",
            "FifoQueue",
            "ContentBasedDeduplication",
            "DeduplicationScope",
            "FifoThroughputLimit",
            "VisibilityTimeout",
            "MessageRetentionPeriod",
            "SqsManagedSseEnabled",
            "KmsMasterKeyId",
            "RedrivePolicy",
        ],
    ),
    (QUEUE_POLICY_TYPE, &["Queues", "PolicyDocument"]),
    (BUCKET_POLICY_TYPE, &["Bucket", "PolicyDocument"]),
    (EMAIL_IDENTITY_TYPE, &["EmailIdentity"]),
    (CONFIGURATION_SET_TYPE, &["Name"]),
    (
        SECRET_TYPE,
        &["Name", "Description", "GenerateSecretString", "KmsKeyId"],
    ),
];

const HTTP_METHODS: &[&str] = &[
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY",
];
const DEDUPLICATION_SCOPES: &[&str] = &["messageGroup", "queue"];
/// What CloudFront's `FrameOptions.FrameOption` takes.
const FRAME_OPTIONS: &[&str] = &["DENY", "SAMEORIGIN"];
const FIFO_THROUGHPUT_LIMITS: &[&str] = &["perQueue", "perMessageGroupId"];
/// SQS's rule for FIFO queue names (and only theirs).
const FIFO_SUFFIX: &str = ".fifo";
/// What a reference to a resource that does not exist resolves to, after its name, for the
/// drift check ([`Template::resolved_properties`]).
pub const ABSENT: &str = " (absent)";
/// SAM's default `BatchSize` for an SQS event source.
const DEFAULT_SQS_BATCH_SIZE: u32 = 10;

/// Why a template could not be read or a part of it could not be understood locally.
/// Every variant that concerns a node carries its path (e.g. `Resources.TicketsTable.Properties.KeySchema[0]`).
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("cannot read the template {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{origin} is not valid YAML")]
    Yaml {
        origin: String,
        #[source]
        source: serde_norway::Error,
    },
    #[error("{path}: required key is missing")]
    Missing { path: String },
    #[error("{path}: expected {expected}, found {found}")]
    WrongType {
        path: String,
        expected: &'static str,
        found: &'static str,
    },
    #[error("{path}: `{value}` is not one of {allowed:?}")]
    NotAllowed {
        path: String,
        value: String,
        allowed: &'static [&'static str],
    },
    #[error("{path}: `{value}` is not a boolean (true or false)")]
    NotABoolean { path: String, value: String },
    #[error("{path}: `{value}` is not an integer")]
    NotAnInteger {
        path: String,
        value: String,
        #[source]
        source: ParseIntError,
    },
    #[error("{path}: intrinsic function {function} cannot be resolved locally")]
    UnsupportedIntrinsic { path: String, function: String },
    #[error("{path}: cannot resolve `{name}` locally: {reason}")]
    UnresolvedReference {
        path: String,
        name: String,
        reason: UnresolvedReason,
    },
    #[error("{path}: `${{` without a closing `}}` in a Fn::Sub string")]
    UnclosedSubstitution { path: String },
    #[error("{path}: not supported by the local tools; add support in local/src/template.rs")]
    UnsupportedProperty { path: String },
    #[error("{function} has HttpApi or SQS events but no Metadata.BuildProperties.Binary, so no local handler can be chosen")]
    MissingBinary { function: String },
    #[error("{path}: `{value}` must be a positive number")]
    NotPositive { path: String, value: String },
    #[error("{path}: must be {expected}")]
    WrongTarget {
        path: String,
        expected: &'static str,
    },
    /// A queue SQS would refuse, though the emulator accepts it (see [`Queue`]).
    #[error("{path}: {reason}")]
    InvalidQueue { path: String, reason: &'static str },
    #[error("{path}: route path `{route}` must start with `/`")]
    InvalidRoutePath { path: String, route: String },
    #[error("route {method} {route} is declared by both {first} and {second}")]
    DuplicateRoute {
        method: String,
        route: String,
        first: String,
        second: String,
    },
}

/// Why a `Ref` or `${...}` could not be resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UnresolvedReason {
    #[error("the parameter has no Default")]
    ParameterWithoutDefault,
    #[error("pseudo parameter has no local value")]
    PseudoParameter,
    #[error("a resource attribute only exists once deployed")]
    Attribute,
    #[error("the resource's physical id is not known here (not provisioned yet?)")]
    Resource,
    #[error("no parameter or resource has this name")]
    Unknown,
}

/// A parsed template. Cheap to query repeatedly; nothing is resolved until asked.
#[derive(Debug, Clone)]
pub struct Template {
    parameters: BTreeMap<String, Parameter>,
    /// `Conditions`, by name, as written: evaluated by `Fn::If` ([`Resolver::condition`]).
    conditions: BTreeMap<String, Value>,
    globals_function: Option<Value>,
    /// In template order, so routes and tables come out in a stable, readable order.
    resources: Vec<Resource>,
}

#[derive(Debug, Clone)]
struct Parameter {
    /// The default rendered as CloudFormation would pass it to `Ref` (always a string), or the
    /// value given to [`Template::with_parameter`].
    default: Option<String>,
    /// A `CommaDelimitedList` (or `List<...>`): `Ref` yields the value split at commas, where a
    /// list is wanted (a policy's condition values, `Fn::Join`'s values).
    list: bool,
}

#[derive(Debug, Clone)]
struct Resource {
    logical_id: String,
    resource_type: String,
    properties: Value,
    metadata: Value,
}

/// One route of the HTTP API, as the local gateway needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRoute {
    /// Upper-case (`POST`), or `ANY`.
    pub method: String,
    /// API Gateway route path, e.g. `/tickets/{reference}`.
    pub path: String,
    /// Logical id of the function, e.g. `GetTicketFunction`.
    pub function: String,
    /// Cargo binary that implements it, e.g. `get-ticket`.
    pub binary: String,
    /// `Auth: {Authorizer: NONE}`: no token asked (the support page's hours).
    pub public: bool,
}

/// The values resources get once they exist, which the template can only name: each resource's
/// `Ref` value (table or bucket name, queue URL, key id) and its `Fn::GetAtt` attributes (`Arn`).
/// Filled by the provisioner as it creates resources, from what the services answered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PhysicalResources {
    refs: BTreeMap<String, String>,
    attributes: BTreeMap<(String, String), String>,
}

impl PhysicalResources {
    /// Only `Ref` values, e.g. `TicketsTable -> stack-tickets`.
    pub fn from_refs(refs: BTreeMap<String, String>) -> Self {
        PhysicalResources {
            refs,
            attributes: BTreeMap::new(),
        }
    }

    pub fn insert_ref(&mut self, logical_id: &str, value: impl Into<String>) {
        self.refs.insert(logical_id.to_owned(), value.into());
    }

    pub fn insert_attribute(
        &mut self,
        logical_id: &str,
        attribute: &str,
        value: impl Into<String>,
    ) {
        self.attributes
            .insert((logical_id.to_owned(), attribute.to_owned()), value.into());
    }

    pub fn get_ref(&self, logical_id: &str) -> Option<&str> {
        self.refs.get(logical_id).map(String::as_str)
    }

    pub fn attribute(&self, logical_id: &str, attribute: &str) -> Option<&str> {
        self.attributes
            .get(&(logical_id.to_owned(), attribute.to_owned()))
            .map(String::as_str)
    }
}

/// What a property names: another resource (its `Ref` / `Fn::GetAtt`), or no resource of the
/// template (a plain value, parameters and pseudo parameters resolved).
#[derive(Debug)]
enum Reference {
    Literal,
    /// `!Ref LogicalId` to a resource of the template.
    Ref(String),
    /// `!GetAtt LogicalId.Attribute` of a resource of the template.
    GetAtt {
        logical_id: String,
        attribute: String,
    },
}

/// An `AWS::SQS::Queue`.
///
/// The FIFO rules SQS enforces, most of which the emulator (moto 5.2.5) does not, are checked
/// when the template is read ([`TemplateError::InvalidQueue`]): a FIFO queue's name, and only
/// its name, ends in `.fifo`; `ContentBasedDeduplication`, `DeduplicationScope` and
/// `FifoThroughputLimit` are for FIFO queues only; `perMessageGroupId` needs
/// `DeduplicationScope: messageGroup`; a FIFO queue redrives to a FIFO dead-letter queue, a
/// standard queue to a standard one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queue {
    pub logical_id: String,
    /// `QueueName`, or the stable name given locally when the template leaves it out.
    pub queue_name: String,
    /// `FifoQueue`; `false` (a standard queue) when absent. Only `CreateQueue` sets it.
    pub fifo_queue: bool,
    /// The logical id of its dead-letter queue, when it redrives to one of the template: created
    /// first, its ARN is what the redrive policy resolves to ([`Template::resolve`]).
    pub dead_letter_queue: Option<String>,
}

fn resolve(resolver: &Resolver<'_>, resource: &Resource) -> Result<Resolved, TemplateError> {
    let properties = resource_properties(resource);
    only_keys(&properties, applied(&resource.resource_type))?;
    Ok(Resolved {
        logical_id: resource.logical_id.clone(),
        properties: resolver.properties(&properties)?,
    })
}

fn applied(resource_type: &str) -> &'static [&'static str] {
    APPLIED
        .iter()
        .find(|(kind, _)| *kind == resource_type)
        .map_or(&[][..], |(_, applied)| *applied)
}

/// A resource's `Properties` with every intrinsic resolved ([`Template::resolved`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    pub logical_id: String,
    pub properties: serde_json::Value,
}

impl Resolved {
    /// Its properties, with their path in the template for errors.
    pub fn props(&self) -> Prop<'_> {
        Prop {
            value: &self.properties,
            path: format!("Resources.{}.Properties", self.logical_id),
        }
    }

    /// The property, refused when absent.
    pub fn get(&self, key: &str) -> Result<&serde_json::Value, TemplateError> {
        Ok(self.props().get(key)?.value)
    }

    /// A string property, refused when absent or not a string.
    pub fn text(&self, key: &str) -> Result<&str, TemplateError> {
        self.props().get(key)?.text()
    }

    pub fn opt_text(&self, key: &str) -> Result<Option<&str>, TemplateError> {
        self.props().opt_text(key)
    }

    pub fn flag(&self, key: &str) -> Result<Option<bool>, TemplateError> {
        self.props().opt_flag(key)
    }

    /// A list of strings, refused when absent or anything else.
    pub fn texts(&self, key: &str) -> Result<Vec<&str>, TemplateError> {
        self.props().get(key)?.texts()
    }
}

/// A resolved property and where the template writes it: whatever reads it refuses a missing,
/// unknown or wrong value with that path (e.g. `Resources.Docs.Properties.LifecycleConfiguration.Rules[0].Status`).
#[derive(Debug, Clone)]
pub struct Prop<'a> {
    pub value: &'a serde_json::Value,
    pub path: String,
}

impl<'a> Prop<'a> {
    fn child(&self, value: &'a serde_json::Value, key: &str) -> Prop<'a> {
        Prop {
            value,
            path: format!("{}.{key}", self.path),
        }
    }

    fn wrong(&self, expected: &'static str) -> TemplateError {
        TemplateError::WrongType {
            path: self.path.clone(),
            expected,
            found: json_kind(self.value),
        }
    }

    /// The property `key`, `None` when absent.
    pub fn opt(&self, key: &str) -> Result<Option<Prop<'a>>, TemplateError> {
        let map = self
            .value
            .as_object()
            .ok_or_else(|| self.wrong("a mapping"))?;
        Ok(map.get(key).map(|value| self.child(value, key)))
    }

    pub fn get(&self, key: &str) -> Result<Prop<'a>, TemplateError> {
        self.opt(key)?.ok_or_else(|| TemplateError::Missing {
            path: format!("{}.{key}", self.path),
        })
    }

    /// Refuses every key but `allowed`: a property provisioning would not apply must not be
    /// silently skipped (the emulator's resource would differ from the deployed one).
    pub fn only(self, allowed: &[&str]) -> Result<Self, TemplateError> {
        let unknown = (self.value.as_object().into_iter())
            .flat_map(|map| map.keys())
            .find(|key| !allowed.contains(&key.as_str()));
        match unknown {
            Some(key) => Err(TemplateError::UnsupportedProperty {
                path: format!("{}.{key}", self.path),
            }),
            None => Ok(self),
        }
    }

    pub fn items(&self) -> Result<Vec<Prop<'a>>, TemplateError> {
        let items = self.value.as_array().ok_or_else(|| self.wrong("a list"))?;
        Ok((items.iter().enumerate())
            .map(|(i, value)| Prop {
                value,
                path: format!("{}[{i}]", self.path),
            })
            .collect())
    }

    /// The items of the list `key`, none when absent.
    pub fn list(&self, key: &str) -> Result<Vec<Prop<'a>>, TemplateError> {
        Ok(self
            .opt(key)?
            .map(|p| p.items())
            .transpose()?
            .unwrap_or_default())
    }

    /// The one item of a list that takes exactly one (S3's default-encryption and ownership rules).
    pub fn single(&self) -> Result<Prop<'a>, TemplateError> {
        match <[_; 1]>::try_from(self.items()?) {
            Ok([item]) => Ok(item),
            Err(_) => Err(self.wrong("a list of exactly one rule")),
        }
    }

    pub fn text(&self) -> Result<&'a str, TemplateError> {
        self.value.as_str().ok_or_else(|| self.wrong("a string"))
    }

    pub fn texts(&self) -> Result<Vec<&'a str>, TemplateError> {
        self.items()?.iter().map(Prop::text).collect()
    }

    pub fn opt_text(&self, key: &str) -> Result<Option<&'a str>, TemplateError> {
        self.opt(key)?.map(|p| p.text()).transpose()
    }

    /// A string among `allowed` (what the service takes, where the emulator takes anything).
    pub fn one_of(&self, allowed: &'static [&'static str]) -> Result<&'a str, TemplateError> {
        let value = self.text()?;
        if allowed.contains(&value) {
            Ok(value)
        } else {
            Err(TemplateError::NotAllowed {
                path: self.path.clone(),
                value: value.to_owned(),
                allowed,
            })
        }
    }

    /// A boolean. CloudFormation also takes the strings `"true"` and `"false"` (a parameter's
    /// value is one).
    pub fn flag(&self) -> Result<bool, TemplateError> {
        match self.value {
            serde_json::Value::Bool(b) => Ok(*b),
            serde_json::Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(true),
            serde_json::Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(false),
            other => Err(TemplateError::NotABoolean {
                path: self.path.clone(),
                value: other
                    .as_str()
                    .map_or_else(|| other.to_string(), str::to_owned),
            }),
        }
    }

    pub fn opt_flag(&self, key: &str) -> Result<Option<bool>, TemplateError> {
        self.opt(key)?.map(|p| p.flag()).transpose()
    }

    /// An integer, written as a number or as its text (a parameter's value is text).
    pub fn integer<T: std::str::FromStr<Err = ParseIntError>>(&self) -> Result<T, TemplateError> {
        let value = match self.value {
            serde_json::Value::String(s) => s.trim().to_owned(),
            serde_json::Value::Number(n) => n.to_string(),
            _ => return Err(self.wrong("an integer")),
        };
        value.parse().map_err(|source| TemplateError::NotAnInteger {
            path: self.path.clone(),
            value,
            source,
        })
    }

    /// An integer above zero (a count of days, a capacity, a batch size).
    pub fn positive<T>(&self) -> Result<T, TemplateError>
    where
        T: std::str::FromStr<Err = ParseIntError> + PartialOrd + Default + ToString,
    {
        let number: T = self.integer()?;
        if number > T::default() {
            Ok(number)
        } else {
            Err(TemplateError::NotPositive {
                path: self.path.clone(),
                value: number.to_string(),
            })
        }
    }
}

fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "nothing",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "a mapping",
    }
}

/// A function fed by an SQS queue (`Events[*]` with `Type: SQS`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueConsumer {
    /// Logical id of the function.
    pub function: String,
    /// Cargo binary that implements it.
    pub binary: String,
    /// Logical id of the queue, from `Properties.Queue: !GetAtt Queue.Arn`.
    pub queue: String,
    /// `BatchSize`; SAM's default (10) when absent.
    pub batch_size: u32,
    /// `FunctionResponseTypes` contains `ReportBatchItemFailures`: the function reports which
    /// messages failed instead of failing (and redelivering) the whole batch.
    pub report_batch_item_failures: bool,
}

/// A function fed by a DynamoDB table's stream (`Events[*]` with `Type: DynamoDB`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamConsumer {
    /// Logical id of the function.
    pub function: String,
    /// Cargo binary that implements it.
    pub binary: String,
    /// Logical id of the table, from `Properties.Stream: !GetAtt Table.StreamArn`.
    pub table: String,
    /// `BatchSize`; Lambda's default (100) when absent.
    pub batch_size: u32,
}

/// Lambda's default batch size for a DynamoDB stream.
const DEFAULT_STREAM_BATCH_SIZE: u32 = 100;

/// A kind of event that feeds a function from a resource of the template: `Properties.<property>`
/// is `!GetAtt <resource of target_type>.<attribute>`.
struct EventSource {
    kind: &'static str,
    property: &'static str,
    target_type: &'static str,
    attribute: &'static str,
    expected: &'static str,
    default_batch_size: u32,
}

/// A function fed by an event source, and from which resource.
struct FedFunction {
    function: String,
    binary: String,
    target: String,
    batch_size: u32,
}

impl Template {
    pub fn load(path: &Path) -> Result<Template, TemplateError> {
        let yaml = std::fs::read_to_string(path).map_err(|source| TemplateError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse_from(&yaml, &path.display().to_string())
    }

    pub fn parse(yaml: &str) -> Result<Template, TemplateError> {
        Self::parse_from(yaml, "the template")
    }

    /// `<workspace root>/infra/template.yaml`, fixed at compile time from this crate's manifest
    /// directory so that binaries and tests find it whatever their working directory is.
    pub fn default_path() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join("infra")
            .join("template.yaml")
    }

    fn parse_from(yaml: &str, origin: &str) -> Result<Template, TemplateError> {
        let root: Value = serde_norway::from_str(yaml).map_err(|source| TemplateError::Yaml {
            origin: origin.to_owned(),
            source,
        })?;
        let root = Node::new(&root, String::new());

        let mut parameters = BTreeMap::new();
        if let Some(section) = root.opt("Parameters")? {
            for (name, parameter) in section.entries()? {
                // A default is a scalar; `Ref` to a parameter yields it as a string.
                let default = parameter.opt("Default")?.map(|d| d.scalar()).transpose()?;
                let kind = match parameter.opt("Type")? {
                    Some(kind) => kind.literal()?,
                    None => "String",
                };
                let list = kind == "CommaDelimitedList" || kind.starts_with("List<");
                parameters.insert(name, Parameter { default, list });
            }
        }

        let mut conditions = BTreeMap::new();
        if let Some(section) = root.opt("Conditions")? {
            for (name, condition) in section.entries()? {
                conditions.insert(name, condition.value.clone());
            }
        }

        let globals_function = match root.opt("Globals")? {
            Some(globals) => globals.opt("Function")?.map(|f| f.value.clone()),
            None => None,
        };

        let mut resources = Vec::new();
        for (logical_id, resource) in root.get("Resources")?.entries()? {
            let resource_type = resource.get("Type")?.literal()?.to_owned();
            let properties = resource
                .opt("Properties")?
                .map_or(Value::Null, |p| p.value.clone());
            let metadata = resource
                .opt("Metadata")?
                .map_or(Value::Null, |m| m.value.clone());
            resources.push(Resource {
                logical_id,
                resource_type,
                properties,
                metadata,
            });
        }

        Ok(Template {
            parameters,
            conditions,
            globals_function,
            resources,
        })
    }

    /// `(logical id, name)` of every table (`TableName`), bucket (`BucketName`) or secret
    /// (`Name`), in template order: what provisioning creates and the drift check looks for.
    /// When the template leaves the name out, CloudFormation would generate
    /// `<stack>-<LogicalId>-<random>`; locally a stable name is more useful and still unique per
    /// stack (lower case for a bucket, as S3 requires; `<stack>/<LogicalId>` for a secret, the
    /// path-like form secrets are named in).
    pub fn names(
        &self,
        resource_type: &str,
        stack_name: &str,
        account_id: &str,
        region: &str,
    ) -> Result<Vec<(String, String)>, TemplateError> {
        let resolver = self.deployed_resolver(stack_name, account_id, region, None);
        let key = match resource_type {
            BUCKET_TYPE => "BucketName",
            SECRET_TYPE => "Name",
            _ => "TableName",
        };
        self.resources_of(resource_type)
            .map(|resource| {
                let id = &resource.logical_id;
                let name = match resource_properties(resource).opt_in_mapping(key)? {
                    Some(name) => resolver.string(&name)?,
                    None if resource_type == BUCKET_TYPE => {
                        format!("{stack_name}-{}", id.to_ascii_lowercase())
                    }
                    None if resource_type == SECRET_TYPE => format!("{stack_name}/{id}"),
                    None => format!("{stack_name}-{id}"),
                };
                Ok((id.clone(), name))
            })
            .collect()
    }

    /// The names of the `AWS::KMS::Alias`es of each `AWS::KMS::Key` (by logical id), in template
    /// order: a key has no name of its own, so provisioning finds it again through its first
    /// alias, before it exists. An alias must target a key of this template.
    pub fn key_aliases(
        &self,
        stack_name: &str,
        account_id: &str,
        region: &str,
    ) -> Result<BTreeMap<String, Vec<String>>, TemplateError> {
        let resolver = self.deployed_resolver(stack_name, account_id, region, None);
        let mut keys: BTreeMap<String, Vec<String>> = self
            .resources_of(KEY_TYPE)
            .map(|key| (key.logical_id.clone(), Vec::new()))
            .collect();
        for alias in self.resources_of(ALIAS_TYPE) {
            let properties = resource_properties(alias);
            only_keys(&properties, applied(ALIAS_TYPE))?;
            let name = resolver.string(&properties.get("AliasName")?)?;
            let target_node = properties.get("TargetKeyId")?;
            // `!Ref Key` (key id) or `!GetAtt Key.Arn`: both name a key of this template, which
            // is all a local alias needs. An alias of a key defined elsewhere is not ours to make.
            let target = match resolver.reference(&target_node)? {
                Reference::Ref(id) => Some(id),
                Reference::GetAtt {
                    logical_id,
                    attribute,
                } if attribute == "Arn" => Some(logical_id),
                _ => None,
            };
            let Some(aliases) = target.and_then(|id| keys.get_mut(&id)) else {
                return Err(TemplateError::WrongTarget {
                    path: target_node.display_path(),
                    expected:
                        "`!Ref Key` or `!GetAtt Key.Arn` of an AWS::KMS::Key of this template",
                });
            };
            aliases.push(name);
        }
        Ok(keys)
    }

    /// Every `AWS::SQS::Queue`, in template order, checked against the FIFO rules (see
    /// [`Queue`]); what it sets comes from its resolved properties ([`Template::resolve`]).
    pub fn queues(
        &self,
        stack_name: &str,
        account_id: &str,
        region: &str,
    ) -> Result<Vec<Queue>, TemplateError> {
        let resolver = Resolver {
            absent_as_text: true,
            ..self.deployed_resolver(stack_name, account_id, region, None)
        };
        let queues: Vec<Queue> = self
            .resources_of(QUEUE_TYPE)
            .map(|resource| check_queue(&resolver, resource))
            .collect::<Result<_, _>>()?;
        // SQS refuses a redrive between a FIFO and a standard queue; the emulator only refuses a
        // FIFO queue's redrive to a standard one. Checked here, before anything is created.
        let fifo = |id: &str| {
            queues
                .iter()
                .find(|q| q.logical_id == id)
                .map(|q| q.fifo_queue)
        };
        for queue in &queues {
            let Some(dead_letter_queue) = &queue.dead_letter_queue else {
                continue;
            };
            if fifo(dead_letter_queue).is_some_and(|dlq| dlq != queue.fifo_queue) {
                let queue = &queue.logical_id;
                return Err(TemplateError::InvalidQueue {
                    path: format!("Resources.{queue}.Properties.RedrivePolicy.deadLetterTargetArn"),
                    reason: "a FIFO queue's dead-letter queue must be a FIFO queue, and a \
                             standard queue's a standard queue",
                });
            }
        }
        Ok(queues)
    }

    /// Every `SQS` event of every `AWS::Serverless::Function`: which function consumes which
    /// queue of this template, and how.
    pub fn queue_consumers(&self) -> Result<Vec<QueueConsumer>, TemplateError> {
        let source = EventSource {
            kind: "SQS",
            property: "Queue",
            target_type: QUEUE_TYPE,
            attribute: "Arn",
            expected: "`!GetAtt Queue.Arn` of an AWS::SQS::Queue of this template",
            default_batch_size: DEFAULT_SQS_BATCH_SIZE,
        };
        self.event_sources(&source, |resolver, event_properties| {
            Ok(match event_properties.opt("FunctionResponseTypes")? {
                Some(types) => types
                    .items()?
                    .iter()
                    .map(|t| resolver.string(t))
                    .collect::<Result<Vec<_>, _>>()?
                    .iter()
                    .any(|t| t == "ReportBatchItemFailures"),
                None => false,
            })
        })
        .map(|sources| {
            sources
                .into_iter()
                .map(|(fed, report_batch_item_failures)| QueueConsumer {
                    function: fed.function,
                    binary: fed.binary,
                    queue: fed.target,
                    batch_size: fed.batch_size,
                    report_batch_item_failures,
                })
                .collect()
        })
    }

    /// Every function fed by a table's stream.
    pub fn stream_consumers(&self) -> Result<Vec<StreamConsumer>, TemplateError> {
        let source = EventSource {
            kind: "DynamoDB",
            property: "Stream",
            target_type: TABLE_TYPE,
            attribute: "StreamArn",
            expected: "`!GetAtt Table.StreamArn` of an AWS::DynamoDB::Table of this template",
            default_batch_size: DEFAULT_STREAM_BATCH_SIZE,
        };
        self.event_sources(&source, |_, _| Ok(())).map(|sources| {
            sources
                .into_iter()
                .map(|(fed, ())| StreamConsumer {
                    function: fed.function,
                    binary: fed.binary,
                    table: fed.target,
                    batch_size: fed.batch_size,
                })
                .collect()
        })
    }

    /// Every event of `source.kind` of every function, with the resource of this template it is
    /// fed from and its batch size; `more` reads what else a kind of event says.
    fn event_sources<T>(
        &self,
        source: &EventSource,
        more: impl Fn(&Resolver<'_>, &Node<'_>) -> Result<T, TemplateError>,
    ) -> Result<Vec<(FedFunction, T)>, TemplateError> {
        // Like routes, consumers do not depend on a stack name.
        let resolver = self.resolver("");
        let targets: Vec<&str> = self
            .resources_of(source.target_type)
            .map(|r| r.logical_id.as_str())
            .collect();
        let mut fed = Vec::new();
        for function in self.resources_of(FUNCTION_TYPE) {
            let properties = resource_properties(function);
            let Some(events) = properties.opt_in_mapping("Events")? else {
                continue;
            };
            for (_, event) in events.entries()? {
                if resolver.string(&event.get("Type")?)? != source.kind {
                    continue;
                }
                let event_properties = event.get("Properties")?;
                let target_node = event_properties.get(source.property)?;
                // The event source needs the resource's ARN; locally the consumer is matched to
                // the resource by logical id, so only a resource of this template can feed it.
                let target = match resolver.reference(&target_node)? {
                    Reference::GetAtt {
                        logical_id,
                        attribute,
                    } if attribute == source.attribute
                        && targets.contains(&logical_id.as_str()) =>
                    {
                        logical_id
                    }
                    _ => {
                        return Err(TemplateError::WrongTarget {
                            path: target_node.display_path(),
                            expected: source.expected,
                        })
                    }
                };
                let batch_size = match event_properties.opt("BatchSize")? {
                    Some(node) => Prop {
                        value: &resolver.json(&node)?,
                        path: node.path,
                    }
                    .positive()?,
                    None => source.default_batch_size,
                };
                let extra = more(&resolver, &event_properties)?;
                fed.push((
                    FedFunction {
                        function: function.logical_id.clone(),
                        binary: function_binary(&resolver, function)?,
                        target,
                        batch_size,
                    },
                    extra,
                ));
            }
        }
        Ok(fed)
    }

    /// Every `HttpApi` event of every `AWS::Serverless::Function`.
    pub fn http_routes(&self) -> Result<Vec<HttpRoute>, TemplateError> {
        // Routes do not depend on a stack name; intrinsics in them would only resolve to defaults.
        let resolver = self.resolver("");
        let mut routes: Vec<HttpRoute> = Vec::new();
        for function in self.resources_of(FUNCTION_TYPE) {
            let base = format!("Resources.{}", function.logical_id);
            let properties = Node::new(&function.properties, format!("{base}.Properties"));
            let Some(events) = properties.opt_in_mapping("Events")? else {
                continue;
            };
            let mut binary: Option<String> = None;
            for (_, event) in events.entries()? {
                if resolver.string(&event.get("Type")?)? != "HttpApi" {
                    continue;
                }
                let event_properties = event.get("Properties")?;
                let path = resolver.string(&event_properties.get("Path")?)?;
                if !path.starts_with('/') {
                    return Err(TemplateError::InvalidRoutePath {
                        path: event_properties.child_path("Path"),
                        route: path,
                    });
                }
                let method_node = event_properties.get("Method")?;
                let method = resolver.string(&method_node)?.to_ascii_uppercase();
                let public = match event_properties.opt_in_mapping("Auth")? {
                    Some(auth) => resolver.string(&auth.get("Authorizer")?)? == "NONE",
                    None => false,
                };
                check_allowed(&method_node, &method, HTTP_METHODS)?;
                let binary = match &binary {
                    Some(binary) => binary.clone(),
                    None => {
                        let found = function_binary(&resolver, function)?;
                        binary = Some(found.clone());
                        found
                    }
                };
                if let Some(existing) = routes.iter().find(|r| r.method == method && r.path == path)
                {
                    return Err(TemplateError::DuplicateRoute {
                        method,
                        route: path,
                        first: existing.function.clone(),
                        second: function.logical_id.clone(),
                    });
                }
                routes.push(HttpRoute {
                    method,
                    path,
                    function: function.logical_id.clone(),
                    binary,
                    public,
                });
            }
        }
        Ok(routes)
    }

    /// `(variable, logical id)` for each variable of `Globals.Function.Environment.Variables`
    /// that is `!Ref` to a resource of the template (`TICKETS_TABLE: !Ref TicketsTable`: a
    /// table's or bucket's name, a queue's URL, ...): the contract the functions read, so local
    /// tools export the same names.
    pub fn resource_env_vars(&self) -> Result<Vec<(String, String)>, TemplateError> {
        self.global_refs(|target| self.resources.iter().any(|r| r.logical_id == target))
    }

    /// Like [`Template::resource_env_vars`], for parameters: `(variable, parameter)` for each
    /// global variable that is `!Ref` to a parameter of the template (`NOTIFICATION_SENDER: !Ref
    /// NotificationSender`); [`Template::parameter_value`] gives its value.
    pub fn parameter_env_vars(&self) -> Result<Vec<(String, String)>, TemplateError> {
        self.global_refs(|target| self.parameters.contains_key(target))
    }

    /// `(variable, target)` for each global variable that is `!Ref` to a `target` `is_wanted`.
    fn global_refs(
        &self,
        is_wanted: impl Fn(&str) -> bool,
    ) -> Result<Vec<(String, String)>, TemplateError> {
        let mut found = Vec::new();
        let Some(globals) = &self.globals_function else {
            return Ok(found);
        };
        let globals = Node::new(globals, "Globals.Function".to_owned());
        let Some(environment) = globals.opt("Environment")? else {
            return Ok(found);
        };
        let Some(variables) = environment.opt("Variables")? else {
            return Ok(found);
        };
        for (name, value) in variables.entries()? {
            if let Some((function, Value::String(target))) = intrinsic(value.value) {
                if function == "Ref" && is_wanted(target) {
                    found.push((name, target.clone()));
                }
            }
        }
        Ok(found)
    }

    /// What `Ref` to the parameter yields: the value given to [`Template::with_parameter`], else
    /// the default. Refused for an unknown parameter, and for one without a value.
    pub fn parameter_value(&self, name: &str) -> Result<String, TemplateError> {
        let parameter = self
            .parameters
            .get(name)
            .ok_or_else(|| TemplateError::Missing {
                path: format!("Parameters.{name}"),
            })?;
        parameter
            .default
            .clone()
            .ok_or_else(|| TemplateError::UnresolvedReference {
                path: format!("Parameters.{name}"),
                name: name.to_owned(),
                reason: UnresolvedReason::ParameterWithoutDefault,
            })
    }

    /// The template as deployed with `--parameter-overrides name=value`: every `Ref` to the
    /// parameter resolves to `value` instead of its default. Refused for a parameter the
    /// template does not declare.
    pub fn with_parameter(
        mut self,
        name: &str,
        value: impl Into<String>,
    ) -> Result<Template, TemplateError> {
        let parameter = self
            .parameters
            .get_mut(name)
            .ok_or_else(|| TemplateError::Missing {
                path: format!("Parameters.{name}"),
            })?;
        parameter.default = Some(value.into());
        Ok(self)
    }

    /// The environment a function gets when deployed: `Globals.Function.Environment.Variables`
    /// overlaid with the function's own, intrinsics resolved with parameter defaults, the stack
    /// name, and `physical_ids` (logical id -> physical id, e.g. from provisioning) for `Ref`s to
    /// resources. Lets the local gateway run a handler with exactly the variables it gets in AWS.
    pub fn function_environment(
        &self,
        function: &str,
        stack_name: &str,
        physical_ids: &BTreeMap<String, String>,
    ) -> Result<BTreeMap<String, String>, TemplateError> {
        let resources = PhysicalResources::from_refs(physical_ids.clone());
        let resolver = Resolver {
            resources: Some(&resources),
            ..self.resolver(stack_name)
        };
        let mut environment = BTreeMap::new();
        if let Some(globals) = &self.globals_function {
            let globals = Node::new(globals, "Globals.Function".to_owned());
            collect_variables(&resolver, &globals, &mut environment)?;
        }
        let resource = self
            .resources_of(FUNCTION_TYPE)
            .find(|r| r.logical_id == function)
            .ok_or_else(|| TemplateError::Missing {
                path: format!("Resources.{function}"),
            })?;
        let properties = Node::new(
            &resource.properties,
            format!("Resources.{function}.Properties"),
        );
        collect_variables(&resolver, &properties, &mut environment)?;
        Ok(environment)
    }

    /// Every resource of `types`, in template order, as `(logical id, type, properties)`: its
    /// `Properties` as JSON, every intrinsic resolved, a resource of the template missing from
    /// `resources` as `<Name> (absent)` ([`ABSENT`]). What the drift check compares.
    pub fn resolved_properties(
        &self,
        types: &[&str],
        stack_name: &str,
        account_id: &str,
        region: &str,
        resources: &PhysicalResources,
    ) -> Result<Vec<(String, &str, serde_json::Value)>, TemplateError> {
        let resolver = Resolver {
            absent_as_text: true,
            ..self.deployed_resolver(stack_name, account_id, region, Some(resources))
        };
        self.resources
            .iter()
            .filter(|r| types.contains(&r.resource_type.as_str()))
            .map(|r| {
                let properties = resolver.json(&resource_properties(r))?;
                Ok((r.logical_id.clone(), r.resource_type.as_str(), properties))
            })
            .collect()
    }

    /// Every resource of `resource_type`, in template order, its `Properties` resolved against
    /// `resources`: what provisioning applies. A reference to a resource not in `resources` is
    /// refused, not guessed (it is created later, or not at all), and so is a property
    /// provisioning does not apply (`APPLIED`).
    pub fn resolved(
        &self,
        resource_type: &str,
        stack_name: &str,
        account_id: &str,
        region: &str,
        resources: &PhysicalResources,
    ) -> Result<Vec<Resolved>, TemplateError> {
        let resolver = self.deployed_resolver(stack_name, account_id, region, Some(resources));
        self.resources_of(resource_type)
            .map(|resource| resolve(&resolver, resource))
            .collect()
    }

    /// Like [`Template::resolved`], for one resource (one that needs others created first).
    pub fn resolve(
        &self,
        logical_id: &str,
        stack_name: &str,
        account_id: &str,
        region: &str,
        resources: &PhysicalResources,
    ) -> Result<Resolved, TemplateError> {
        let resource = self
            .resources
            .iter()
            .find(|r| r.logical_id == logical_id)
            .ok_or_else(|| TemplateError::Missing {
                path: format!("Resources.{logical_id}"),
            })?;
        let resolver = self.deployed_resolver(stack_name, account_id, region, Some(resources));
        resolve(&resolver, resource)
    }

    /// Every resource type of the template, once each.
    pub fn resource_types(&self) -> std::collections::BTreeSet<&str> {
        (self.resources.iter())
            .map(|r| r.resource_type.as_str())
            .collect()
    }

    /// `(logical id, type)` of every resource the local gateway plays ([`PLAYED_BY_GATEWAY`]), in
    /// template order.
    pub fn played_by_gateway(&self) -> Vec<(String, &str)> {
        (self.resources.iter())
            .filter(|r| PLAYED_BY_GATEWAY.contains(&r.resource_type.as_str()))
            .map(|r| (r.logical_id.clone(), r.resource_type.as_str()))
            .collect()
    }

    /// Records [`GATEWAY_STAND_IN`] as the `Ref` and `Id` of every resource the local gateway
    /// plays, into `resources`.
    pub fn gateway_stand_ins(&self, resources: &mut PhysicalResources) {
        for (logical_id, _) in self.played_by_gateway() {
            resources.insert_ref(&logical_id, GATEWAY_STAND_IN);
            resources.insert_attribute(&logical_id, "Id", GATEWAY_STAND_IN);
        }
    }

    /// The headers of the template's one `AWS::CloudFront::ResponseHeadersPolicy`, as CloudFront
    /// adds them to every answer, `(name, value)` in a stable order, resolved for the stack
    /// `stack_name` of `account_id` in `region`: the local gateway adds the same ones. Only what
    /// the template's policy sets is read; a setting the local gateway could not reproduce
    /// (CORS, server timing, removed headers) is refused.
    pub fn security_headers(
        &self,
        stack_name: &str,
        account_id: &str,
        region: &str,
    ) -> Result<Vec<(String, String)>, TemplateError> {
        let policies: Vec<&Resource> = self.resources_of(RESPONSE_HEADERS_POLICY_TYPE).collect();
        let [policy] = policies.as_slice() else {
            return Err(TemplateError::WrongTarget {
                path: "Resources".to_owned(),
                expected: "exactly one AWS::CloudFront::ResponseHeadersPolicy",
            });
        };
        let resolver = self.deployed_resolver(stack_name, account_id, region, None);
        let json = resolver.properties(&resource_properties(policy))?;
        let properties = Prop {
            value: &json,
            path: format!("Resources.{}.Properties", policy.logical_id),
        };
        let config = properties
            .only(&["ResponseHeadersPolicyConfig"])?
            .get("ResponseHeadersPolicyConfig")?
            .only(&[
                "Name",
                "Comment",
                "SecurityHeadersConfig",
                "CustomHeadersConfig",
            ])?;
        let mut headers = Vec::new();
        if let Some(security) = config.opt("SecurityHeadersConfig")? {
            let security = security.only(&[
                "ContentSecurityPolicy",
                "StrictTransportSecurity",
                "ContentTypeOptions",
                "FrameOptions",
                "ReferrerPolicy",
            ])?;
            if let Some(csp) = security.opt("ContentSecurityPolicy")? {
                let csp = csp.only(&["ContentSecurityPolicy", "Override"])?;
                let value = csp.get("ContentSecurityPolicy")?.text()?;
                headers.push(("content-security-policy".to_owned(), value.to_owned()));
            }
            if let Some(hsts) = security.opt("StrictTransportSecurity")? {
                let hsts = hsts.only(&[
                    "AccessControlMaxAgeSec",
                    "IncludeSubdomains",
                    "Preload",
                    "Override",
                ])?;
                let mut value = format!(
                    "max-age={}",
                    hsts.get("AccessControlMaxAgeSec")?.integer::<u64>()?
                );
                if hsts.opt_flag("IncludeSubdomains")? == Some(true) {
                    value.push_str("; includeSubDomains");
                }
                if hsts.opt_flag("Preload")? == Some(true) {
                    value.push_str("; preload");
                }
                headers.push(("strict-transport-security".to_owned(), value));
            }
            if let Some(options) = security.opt("ContentTypeOptions")? {
                options.only(&["Override"])?;
                headers.push(("x-content-type-options".to_owned(), "nosniff".to_owned()));
            }
            if let Some(frame) = security.opt("FrameOptions")? {
                let frame = frame.only(&["FrameOption", "Override"])?;
                let value = frame.get("FrameOption")?.one_of(FRAME_OPTIONS)?;
                headers.push(("x-frame-options".to_owned(), value.to_owned()));
            }
            if let Some(referrer) = security.opt("ReferrerPolicy")? {
                let referrer = referrer.only(&["ReferrerPolicy", "Override"])?;
                let value = referrer.get("ReferrerPolicy")?.text()?;
                headers.push(("referrer-policy".to_owned(), value.to_owned()));
            }
        }
        if let Some(custom) = config.opt("CustomHeadersConfig")? {
            for item in custom.only(&["Items"])?.list("Items")? {
                let item = item.only(&["Header", "Value", "Override"])?;
                let name = item.get("Header")?.text()?.to_ascii_lowercase();
                headers.push((name, item.get("Value")?.text()?.to_owned()));
            }
        }
        Ok(headers)
    }

    /// Whether `logical_id` is the execution role SAM generates for a function of the template
    /// (`<Function>Role`, for a function without a `Role` of its own): not in the template, but
    /// `!GetAtt <Function>Role.Arn` names it once transformed.
    fn is_generated_role(&self, logical_id: &str) -> bool {
        logical_id.strip_suffix("Role").is_some_and(|function| {
            self.resources_of(FUNCTION_TYPE).any(|f| {
                f.logical_id == function
                    && !matches!(&f.properties, Value::Mapping(m) if m.contains_key("Role"))
            })
        })
    }

    fn resources_of<'a>(&'a self, resource_type: &'a str) -> impl Iterator<Item = &'a Resource> {
        self.resources
            .iter()
            .filter(move |r| r.resource_type == resource_type)
    }

    /// Knows the stack name and parameter defaults only.
    fn resolver<'a>(&'a self, stack_name: &'a str) -> Resolver<'a> {
        Resolver {
            template: self,
            stack_name,
            account_id: None,
            region: None,
            resources: None,
            absent_as_text: false,
        }
    }

    /// Also knows where the stack is deployed, and what exists there.
    fn deployed_resolver<'a>(
        &'a self,
        stack_name: &'a str,
        account_id: &'a str,
        region: &'a str,
        resources: Option<&'a PhysicalResources>,
    ) -> Resolver<'a> {
        Resolver {
            account_id: Some(account_id),
            region: Some(region),
            resources,
            ..self.resolver(stack_name)
        }
    }
}

fn collect_variables(
    resolver: &Resolver<'_>,
    owner: &Node<'_>,
    into: &mut BTreeMap<String, String>,
) -> Result<(), TemplateError> {
    let Some(environment) = owner.opt_in_mapping("Environment")? else {
        return Ok(());
    };
    let Some(variables) = environment.opt("Variables")? else {
        return Ok(());
    };
    for (name, value) in variables.entries()? {
        into.insert(name, resolver.string(&value)?);
    }
    Ok(())
}

fn function_binary(resolver: &Resolver<'_>, function: &Resource) -> Result<String, TemplateError> {
    let metadata = Node::new(
        &function.metadata,
        format!("Resources.{}.Metadata", function.logical_id),
    );
    let binary = match metadata.opt_in_mapping("BuildProperties")? {
        Some(properties) => properties.opt("Binary")?,
        None => None,
    };
    match binary {
        Some(binary) => resolver.string(&binary),
        None => Err(TemplateError::MissingBinary {
            function: function.logical_id.clone(),
        }),
    }
}

/// A resource's `Properties`, with its path for error messages.
fn resource_properties(resource: &Resource) -> Node<'_> {
    Node::new(
        &resource.properties,
        format!("Resources.{}.Properties", resource.logical_id),
    )
}

/// Refuses any key of `node` outside `allowed`: a property the local tools would not apply must
/// not be silently skipped (the emulator's resource would differ from the deployed one).
fn only_keys(node: &Node<'_>, allowed: &[&str]) -> Result<(), TemplateError> {
    if node.value.is_null() {
        return Ok(());
    }
    for (key, _) in node.entries()? {
        if !allowed.contains(&key.as_str()) {
            return Err(TemplateError::UnsupportedProperty {
                path: node.child_path(&key),
            });
        }
    }
    Ok(())
}

/// The queue, once its properties pass the rules SQS enforces and the emulator does not.
/// `resolver` resolves references to other resources as `<Name> (absent)`: they are not
/// provisioned yet.
fn check_queue(resolver: &Resolver<'_>, resource: &Resource) -> Result<Queue, TemplateError> {
    let logical_id = resource.logical_id.clone();
    let node = resource_properties(resource);
    only_keys(&node, applied(QUEUE_TYPE))?;
    let json = resolver.properties(&node)?;
    let properties = Prop {
        value: &json,
        path: node.path.clone(),
    };
    let fifo_queue = properties.opt_flag("FifoQueue")?.unwrap_or(false);
    let invalid = |at: Prop<'_>, reason| TemplateError::InvalidQueue {
        path: at.path,
        reason,
    };
    let queue_name = match properties.opt("QueueName")? {
        Some(name) if fifo_queue != name.text()?.ends_with(FIFO_SUFFIX) => {
            return Err(invalid(
                name,
                if fifo_queue {
                    "a FIFO queue's name must end in `.fifo`"
                } else {
                    "only a FIFO queue's name may end in `.fifo` (FifoQueue: true)"
                },
            ))
        }
        Some(name) => name.text()?.to_owned(),
        // CloudFormation would generate `<stack>-<LogicalId>-<random>` (with `.fifo` for a FIFO
        // queue); locally a stable name is more useful and still unique per stack.
        None if fifo_queue => format!("{}-{logical_id}{FIFO_SUFFIX}", resolver.stack_name),
        None => format!("{}-{logical_id}", resolver.stack_name),
    };
    // SQS refuses these on a standard queue; the emulator ignores them, so the queue would
    // silently differ from the template.
    let fifo_only = |key: &str| match properties.opt(key)? {
        Some(at) if !fifo_queue => Err(invalid(
            at,
            "only a FIFO queue (FifoQueue: true) takes this property",
        )),
        at => Ok(at),
    };
    fifo_only("ContentBasedDeduplication")?
        .map(|at| at.flag())
        .transpose()?;
    let scope = fifo_only("DeduplicationScope")?;
    let scope = scope
        .map(|at| at.one_of(DEDUPLICATION_SCOPES))
        .transpose()?;
    if let Some(at) = fifo_only("FifoThroughputLimit")? {
        // SQS: "perMessageGroupId is allowed only when DeduplicationScope is messageGroup"
        // (whose default is `queue`).
        if at.one_of(FIFO_THROUGHPUT_LIMITS)? == "perMessageGroupId"
            && scope != Some("messageGroup")
        {
            return Err(invalid(
                at,
                "perMessageGroupId needs DeduplicationScope: messageGroup",
            ));
        }
    }
    if let Some(at) = properties.opt("VisibilityTimeout")? {
        at.integer::<u32>()?;
    }
    if let Some(at) = properties.opt("MessageRetentionPeriod")? {
        at.positive::<u32>()?;
    }
    properties.opt_flag("SqsManagedSseEnabled")?;
    let mut dead_letter_queue = None;
    if let Some(policy) = properties.opt("RedrivePolicy")? {
        let policy = policy.only(&["deadLetterTargetArn", "maxReceiveCount"])?;
        policy.get("maxReceiveCount")?.positive::<u32>()?;
        // Which queue of the template, if any: the resolved value only says it is absent.
        let target = node.get("RedrivePolicy")?.get("deadLetterTargetArn")?;
        if let Reference::GetAtt {
            logical_id,
            attribute,
        } = resolver.reference(&target)?
        {
            dead_letter_queue = (attribute == "Arn").then_some(logical_id);
        }
    }
    Ok(Queue {
        logical_id,
        queue_name,
        fifo_queue,
        dead_letter_queue,
    })
}

/// `aws`, `aws-cn` or `aws-us-gov`, as CloudFormation's `AWS::Partition` for `region`.
pub fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

fn check_allowed(
    node: &Node<'_>,
    value: &str,
    allowed: &'static [&'static str],
) -> Result<(), TemplateError> {
    if allowed.contains(&value) {
        Ok(())
    } else {
        Err(TemplateError::NotAllowed {
            path: node.path.clone(),
            value: value.to_owned(),
            allowed,
        })
    }
}

/// A node of the YAML tree with the path that leads to it, for error messages.
#[derive(Debug, Clone)]
struct Node<'a> {
    value: &'a Value,
    path: String,
}

impl<'a> Node<'a> {
    fn new(value: &'a Value, path: String) -> Self {
        Node { value, path }
    }

    fn child_path(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    fn display_path(&self) -> String {
        if self.path.is_empty() {
            "(document root)".to_owned()
        } else {
            self.path.clone()
        }
    }

    fn wrong_type(&self, expected: &'static str) -> TemplateError {
        TemplateError::WrongType {
            path: self.display_path(),
            expected,
            found: kind(self.value),
        }
    }

    fn mapping(&self) -> Result<&'a Mapping, TemplateError> {
        match self.value {
            Value::Mapping(mapping) => Ok(mapping),
            _ => Err(self.wrong_type("a mapping")),
        }
    }

    fn opt(&self, key: &str) -> Result<Option<Node<'a>>, TemplateError> {
        Ok(self
            .mapping()?
            .get(key)
            .map(|value| Node::new(value, self.child_path(key))))
    }

    /// Like [`Node::opt`], but an absent owner (`Properties:` or `Metadata:` left out, i.e. null)
    /// simply has no such key.
    fn opt_in_mapping(&self, key: &str) -> Result<Option<Node<'a>>, TemplateError> {
        if self.value.is_null() {
            Ok(None)
        } else {
            self.opt(key)
        }
    }

    fn get(&self, key: &str) -> Result<Node<'a>, TemplateError> {
        self.opt_in_mapping(key)?
            .ok_or_else(|| TemplateError::Missing {
                path: self.child_path(key),
            })
    }

    fn entries(&self) -> Result<Vec<(String, Node<'a>)>, TemplateError> {
        self.mapping()?
            .iter()
            .map(|(key, value)| match key {
                Value::String(key) => Ok((key.clone(), Node::new(value, self.child_path(key)))),
                other => Err(TemplateError::WrongType {
                    path: self.display_path(),
                    expected: "string keys",
                    found: kind(other),
                }),
            })
            .collect()
    }

    fn items(&self) -> Result<Vec<Node<'a>>, TemplateError> {
        match self.value {
            Value::Sequence(items) => Ok(items
                .iter()
                .enumerate()
                .map(|(i, value)| Node::new(value, format!("{}[{i}]", self.path)))
                .collect()),
            _ => Err(self.wrong_type("a list")),
        }
    }

    /// A plain string, with no intrinsic allowed (resource `Type`).
    fn literal(&self) -> Result<&'a str, TemplateError> {
        match self.value {
            Value::String(s) => Ok(s),
            _ => Err(self.wrong_type("a string")),
        }
    }

    /// A plain scalar rendered as a string (parameter defaults).
    fn scalar(&self) -> Result<String, TemplateError> {
        scalar_string(self.value).ok_or_else(|| self.wrong_type("a scalar"))
    }
}

fn scalar_string(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "an intrinsic function",
    }
}

/// Recognises an intrinsic in either form and returns its long name (`Ref`, `Fn::Sub`, ...) and
/// argument. Short form `!Sub x` is a tagged scalar; long form is a one-key mapping `{Fn::Sub: x}`.
fn intrinsic(value: &Value) -> Option<(String, &Value)> {
    match value {
        Value::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let name = tag.trim_start_matches('!');
            // Every short form is `Fn::<Name>` except these two.
            let long = if name == "Ref" || name == "Condition" {
                name.to_owned()
            } else {
                format!("Fn::{name}")
            };
            Some((long, &tagged.value))
        }
        Value::Mapping(mapping) if mapping.len() == 1 => {
            let (key, argument) = mapping.iter().next()?;
            let key = key.as_str()?;
            (key == "Ref" || key == "Condition" || key.starts_with("Fn::"))
                .then(|| (key.to_owned(), argument))
        }
        _ => None,
    }
}

/// `Logical.Attribute` from `!GetAtt Logical.Attribute` or `Fn::GetAtt: [Logical, Attribute]`.
fn get_att_name(argument: &Node<'_>) -> Result<String, TemplateError> {
    match argument.value {
        Value::Sequence(_) => {
            let items = argument.items()?;
            let [logical_id, attribute] = items.as_slice() else {
                return Err(argument.wrong_type("[LogicalId, Attribute]"));
            };
            Ok(format!(
                "{}.{}",
                logical_id.literal()?,
                attribute.literal()?
            ))
        }
        _ => Ok(argument.literal()?.to_owned()),
    }
}

/// Resolves intrinsics the way CloudFormation would, with what is known locally: the stack name,
/// parameter defaults and, when given, the account and region the stack is deployed to and what
/// its resources turned out to be.
struct Resolver<'a> {
    template: &'a Template,
    stack_name: &'a str,
    account_id: Option<&'a str>,
    region: Option<&'a str>,
    resources: Option<&'a PhysicalResources>,
    /// A resource of the template missing from `resources` resolves to `<Name> (absent)`
    /// instead of an error: the drift check shows what the template wants, even so.
    absent_as_text: bool,
}

impl Resolver<'_> {
    fn string(&self, node: &Node<'_>) -> Result<String, TemplateError> {
        if let Some((function, argument)) = intrinsic(node.value) {
            let argument = Node::new(argument, format!("{}.{function}", node.display_path()));
            return match function.as_str() {
                "Ref" => self.lookup(argument.literal()?, &node.display_path()),
                "Fn::GetAtt" => self.lookup(&get_att_name(&argument)?, &node.display_path()),
                "Fn::Sub" => self.sub(&argument),
                "Fn::Join" => self.join(&argument),
                _ => Err(TemplateError::UnsupportedIntrinsic {
                    path: node.display_path(),
                    function,
                }),
            };
        }
        scalar_string(node.value).ok_or_else(|| node.wrong_type("a string"))
    }

    /// A value that may be another resource's `Ref` / `Fn::GetAtt`: kept symbolic when it is,
    /// resolved now otherwise.
    fn reference(&self, node: &Node<'_>) -> Result<Reference, TemplateError> {
        if let Some((function, argument)) = intrinsic(node.value) {
            let argument = Node::new(argument, format!("{}.{function}", node.display_path()));
            let is_resource = |id: &str| self.template.resources.iter().any(|r| r.logical_id == id);
            match function.as_str() {
                "Ref" => {
                    let name = argument.literal()?;
                    if is_resource(name) {
                        return Ok(Reference::Ref(name.to_owned()));
                    }
                }
                "Fn::GetAtt" => {
                    let name = get_att_name(&argument)?;
                    if let Some((logical_id, attribute)) = name.split_once('.') {
                        if is_resource(logical_id) {
                            return Ok(Reference::GetAtt {
                                logical_id: logical_id.to_owned(),
                                attribute: attribute.to_owned(),
                            });
                        }
                    }
                }
                _ => {}
            }
        }
        self.string(node).map(|_| Reference::Literal)
    }

    /// A resource's `Properties` with every intrinsic resolved; none written is an empty mapping
    /// (a `null` anywhere else is a value, which [`Prop`] refuses where a mapping is wanted).
    fn properties(&self, node: &Node<'_>) -> Result<serde_json::Value, TemplateError> {
        match self.json(node)? {
            serde_json::Value::Null => Ok(serde_json::json!({})),
            properties => Ok(properties),
        }
    }

    /// A policy document (or any other free-form JSON property) with every intrinsic resolved;
    /// `AWS::NoValue` (alone, or chosen by `Fn::If`) is `null`.
    fn json(&self, node: &Node<'_>) -> Result<serde_json::Value, TemplateError> {
        Ok(self
            .json_or_no_value(node)?
            .unwrap_or(serde_json::Value::Null))
    }

    /// Like [`Resolver::json`], `None` for `AWS::NoValue`: the key or list item that has it is
    /// left out, as CloudFormation does.
    fn json_or_no_value(
        &self,
        node: &Node<'_>,
    ) -> Result<Option<serde_json::Value>, TemplateError> {
        if let Some((function, argument)) = intrinsic(node.value) {
            let argument = Node::new(argument, format!("{}.{function}", node.display_path()));
            match function.as_str() {
                // `Condition` is only an intrinsic inside `Fn::If` and friends; in a policy it
                // is a statement's key, never a one-key mapping of its own.
                "Condition" => {}
                "Fn::If" => {
                    let items = argument.items()?;
                    let [condition, when_true, when_false] = items.as_slice() else {
                        return Err(
                            argument.wrong_type("[condition, value if true, value if false]")
                        );
                    };
                    let chosen = if self.condition(condition.literal()?, &condition.path)? {
                        when_true
                    } else {
                        when_false
                    };
                    return self.json_or_no_value(chosen);
                }
                "Ref" if argument.value.as_str() == Some("AWS::NoValue") => return Ok(None),
                "Ref" if self.list_parameter(&argument).is_some() => {
                    let values = self.strings(node)?;
                    return Ok(Some(
                        values.into_iter().map(serde_json::Value::from).collect(),
                    ));
                }
                _ => {
                    return self
                        .string(node)
                        .map(|s| Some(serde_json::Value::String(s)))
                }
            }
        }
        Ok(Some(match node.value {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Number(n) => {
                let number = if let Some(i) = n.as_i64() {
                    Some(serde_json::Number::from(i))
                } else if let Some(u) = n.as_u64() {
                    Some(serde_json::Number::from(u))
                } else {
                    n.as_f64().and_then(serde_json::Number::from_f64)
                };
                serde_json::Value::Number(number.ok_or_else(|| node.wrong_type("a finite number"))?)
            }
            Value::String(s) => serde_json::Value::String(s.clone()),
            Value::Sequence(_) => {
                let mut items = Vec::new();
                for item in node.items()? {
                    items.extend(self.json_or_no_value(&item)?);
                }
                serde_json::Value::Array(items)
            }
            Value::Mapping(_) => {
                let mut entries = serde_json::Map::new();
                for (key, value) in node.entries()? {
                    if let Some(value) = self.json_or_no_value(&value)? {
                        entries.insert(key, value);
                    }
                }
                serde_json::Value::Object(entries)
            }
            // Every tag is an intrinsic, handled above (or refused by `string`).
            Value::Tagged(_) => return Err(node.wrong_type("a JSON value")),
        }))
    }

    /// The list parameter `Ref` names, if it names one.
    fn list_parameter(&self, ref_argument: &Node<'_>) -> Option<&Parameter> {
        let name = ref_argument.value.as_str()?;
        self.template.parameters.get(name).filter(|p| p.list)
    }

    /// A list of strings: written as a list, or `Ref` to a list parameter (its value split at
    /// commas, as CloudFormation does: an empty value is one empty string).
    fn strings(&self, node: &Node<'_>) -> Result<Vec<String>, TemplateError> {
        if let Some((function, argument)) = intrinsic(node.value) {
            let argument = Node::new(argument, format!("{}.{function}", node.display_path()));
            if function == "Ref" {
                if let Some(parameter) = self.list_parameter(&argument) {
                    let name = argument.literal()?;
                    let value = parameter.default.as_deref().ok_or_else(|| {
                        TemplateError::UnresolvedReference {
                            path: node.display_path(),
                            name: name.to_owned(),
                            reason: UnresolvedReason::ParameterWithoutDefault,
                        }
                    })?;
                    return Ok(value.split(',').map(str::to_owned).collect());
                }
            }
        }
        node.items()?.iter().map(|item| self.string(item)).collect()
    }

    /// The value of the template's condition `name` (`Fn::If`'s first argument).
    fn condition(&self, name: &str, path: &str) -> Result<bool, TemplateError> {
        let condition = self.template.conditions.get(name).ok_or_else(|| {
            TemplateError::UnresolvedReference {
                path: path.to_owned(),
                name: name.to_owned(),
                reason: UnresolvedReason::Unknown,
            }
        })?;
        self.boolean(&Node::new(condition, format!("Conditions.{name}")))
    }

    /// A condition function: `Fn::Equals`, `Fn::Not`, `Fn::And`, `Fn::Or`, or `Condition`.
    fn boolean(&self, node: &Node<'_>) -> Result<bool, TemplateError> {
        let Some((function, argument)) = intrinsic(node.value) else {
            return Err(node.wrong_type("a condition function"));
        };
        let argument = Node::new(argument, format!("{}.{function}", node.display_path()));
        match function.as_str() {
            "Condition" => self.condition(argument.literal()?, &argument.path),
            "Fn::Equals" => {
                let items = argument.items()?;
                let [left, right] = items.as_slice() else {
                    return Err(argument.wrong_type("[value, value]"));
                };
                Ok(self.string(left)? == self.string(right)?)
            }
            "Fn::Not" => {
                let items = argument.items()?;
                let [condition] = items.as_slice() else {
                    return Err(argument.wrong_type("[condition]"));
                };
                Ok(!self.boolean(condition)?)
            }
            "Fn::And" | "Fn::Or" => {
                let values = (argument.items()?.iter())
                    .map(|item| self.boolean(item))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(if function == "Fn::And" {
                    values.iter().all(|v| *v)
                } else {
                    values.iter().any(|v| *v)
                })
            }
            _ => Err(TemplateError::UnsupportedIntrinsic {
                path: node.display_path(),
                function,
            }),
        }
    }

    /// The value of `Ref name` (or of `Logical.Attribute` for `Fn::GetAtt` and `${X.Y}`).
    fn lookup(&self, name: &str, path: &str) -> Result<String, TemplateError> {
        let unresolved = |reason| TemplateError::UnresolvedReference {
            path: path.to_owned(),
            name: name.to_owned(),
            reason,
        };
        let pseudo = |value: Option<&str>| {
            value
                .map(str::to_owned)
                .ok_or_else(|| unresolved(UnresolvedReason::PseudoParameter))
        };
        match name {
            "AWS::StackName" => return Ok(self.stack_name.to_owned()),
            "AWS::AccountId" => return pseudo(self.account_id),
            "AWS::Region" => return pseudo(self.region),
            "AWS::Partition" => return pseudo(self.region.map(partition)),
            "AWS::URLSuffix" => {
                return pseudo(self.region.map(|region| {
                    if partition(region) == "aws-cn" {
                        "amazonaws.com.cn"
                    } else {
                        "amazonaws.com"
                    }
                }))
            }
            _ if name.starts_with("AWS::") => {
                return Err(unresolved(UnresolvedReason::PseudoParameter))
            }
            _ => {}
        }
        let is_resource = |id: &str| self.template.resources.iter().any(|r| r.logical_id == id);
        if let Some((logical_id, attribute)) = name.split_once('.') {
            if self.template.is_generated_role(logical_id) && !is_resource(logical_id) {
                // No role exists locally (functions run in process, and the emulator enforces
                // no IAM): a deterministic ARN of the shape AWS gives it, so that a policy naming
                // the role resolves, and resolves the same for provisioning and the drift check.
                if attribute != "Arn" {
                    return Err(unresolved(UnresolvedReason::Attribute));
                }
                let (Some(account), Some(region)) = (self.account_id, self.region) else {
                    return Err(unresolved(UnresolvedReason::PseudoParameter));
                };
                let stack = self.stack_name;
                return Ok(format!(
                    "arn:{}:iam::{account}:role/{stack}-{logical_id}",
                    partition(region)
                ));
            }
            if !is_resource(logical_id) {
                return Err(unresolved(UnresolvedReason::Unknown));
            }
            return self
                .resources
                .and_then(|resources| resources.attribute(logical_id, attribute))
                .map(str::to_owned)
                .or_else(|| self.absent_as_text.then(|| format!("{name}{ABSENT}")))
                .ok_or_else(|| unresolved(UnresolvedReason::Attribute));
        }
        if let Some(parameter) = self.template.parameters.get(name) {
            return parameter
                .default
                .clone()
                .ok_or_else(|| unresolved(UnresolvedReason::ParameterWithoutDefault));
        }
        if is_resource(name) {
            return self
                .resources
                .and_then(|resources| resources.get_ref(name))
                .map(str::to_owned)
                .or_else(|| self.absent_as_text.then(|| format!("{name}{ABSENT}")))
                .ok_or_else(|| unresolved(UnresolvedReason::Resource));
        }
        Err(unresolved(UnresolvedReason::Unknown))
    }

    fn sub(&self, argument: &Node<'_>) -> Result<String, TemplateError> {
        // Two forms: `!Sub "text"` and `!Sub ["text", {Var: value, ...}]`.
        let (text, variables) = match argument.value {
            Value::Sequence(_) => {
                let items = argument.items()?;
                let [text, variables] = items.as_slice() else {
                    return Err(argument.wrong_type("a string or [string, mapping]"));
                };
                let mut resolved = BTreeMap::new();
                for (name, value) in variables.entries()? {
                    resolved.insert(name, self.string(&value)?);
                }
                (text.literal()?, resolved)
            }
            _ => (argument.literal()?, BTreeMap::new()),
        };
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after
                .find('}')
                .ok_or_else(|| TemplateError::UnclosedSubstitution {
                    path: argument.display_path(),
                })?;
            let name = &after[..end];
            if let Some(literal) = name.strip_prefix('!') {
                // `${!Literal}` is CloudFormation's escape for a literal `${Literal}`.
                out.push_str("${");
                out.push_str(literal);
                out.push('}');
            } else if let Some(value) = variables.get(name) {
                out.push_str(value);
            } else {
                out.push_str(&self.lookup(name.trim(), &argument.display_path())?);
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    fn join(&self, argument: &Node<'_>) -> Result<String, TemplateError> {
        let items = argument.items()?;
        let [delimiter, parts] = items.as_slice() else {
            return Err(argument.wrong_type("[delimiter, [values]]"));
        };
        Ok(self.strings(parts)?.join(delimiter.literal()?))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// Whether an error is the one a test expects.
    pub(crate) type Refused = fn(&TemplateError) -> bool;

    pub(crate) const MINI: &str = r#"
Transform: AWS::Serverless-2016-10-31
Parameters:
  Suffix:
    Type: String
    Default: things
  Ttl:
    Type: Number
    Default: 24
  NoDefault:
    Type: String
Globals:
  Function:
    Environment:
      Variables:
        THINGS_TABLE: !Ref ThingsTable
        TTL_HOURS: !Ref Ttl
        PLAIN: plain
Resources:
  ThingsTable:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: !Sub "${AWS::StackName}-${Suffix}"
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions:
        - {AttributeName: pk, AttributeType: S}
        - {AttributeName: n, AttributeType: N}
      KeySchema:
        - {AttributeName: pk, KeyType: HASH}
      GlobalSecondaryIndexes:
        - IndexName: by-n
          KeySchema:
            - {AttributeName: n, KeyType: HASH}
          Projection:
            ProjectionType: INCLUDE
            NonKeyAttributes: [a, b]
      TimeToLiveSpecification: {AttributeName: gone_at, Enabled: "true"}
  Plain:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName:
        Fn::Join: ["-", [{Ref: "AWS::StackName"}, plain]]
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]
      ProvisionedThroughput: {ReadCapacityUnits: 5, WriteCapacityUnits: "2"}
  Fn:
    Type: AWS::Serverless::Function
    Metadata:
      BuildProperties:
        Binary: fn-bin
    Properties:
      Environment:
        Variables:
          PLAIN: overridden
      Events:
        One:
          Type: HttpApi
          Properties: {Path: "/things/{id}", Method: get}
        Queue:
          Type: SQS
          Properties: {Queue: arn}
  NoEvents:
    Type: AWS::Serverless::Function
    Properties: {}
"#;

    fn fixture() -> Template {
        Template::parse(MINI).unwrap()
    }

    #[test]
    fn resolves_sub_ref_and_join_in_names() {
        let names = |template: Template, kind| template.names(kind, "s", "1", "r").unwrap();
        let pairs = |pairs: [(&str, &str); 2]| pairs.map(|(a, b)| (a.to_owned(), b.to_owned()));
        assert_eq!(
            names(fixture(), TABLE_TYPE),
            pairs([("ThingsTable", "s-things"), ("Plain", "s-plain")])
        );
        // Without a BucketName, a stable lower-case name.
        assert_eq!(
            names(documents(), BUCKET_TYPE),
            pairs([("Docs", "s-docs"), ("Plain", "s-plain")])
        );
    }

    #[test]
    fn sub_supports_variables_and_escapes() {
        let yaml = MINI.replace(
            r#"!Sub "${AWS::StackName}-${Suffix}""#,
            r#"!Sub ["${AWS::StackName}-${Kind}-${!Literal}", {Kind: !Ref "AWS::StackName"}]"#,
        );
        let names = Template::parse(&yaml)
            .unwrap()
            .names(TABLE_TYPE, "s", "1", "r");
        assert_eq!(names.unwrap()[0].1, "s-s-${Literal}");
    }

    #[test]
    fn routes_only_http_api_events() {
        let routes = fixture().http_routes().unwrap();
        assert_eq!(
            routes,
            [HttpRoute {
                method: "GET".to_owned(),
                path: "/things/{id}".to_owned(),
                function: "Fn".to_owned(),
                binary: "fn-bin".to_owned(),
                public: false,
            }]
        );
    }

    #[test]
    fn environment_overlays_globals_and_resolves_refs() {
        let template = fixture();
        assert_eq!(
            template.resource_env_vars().unwrap(),
            [("THINGS_TABLE".to_owned(), "ThingsTable".to_owned())]
        );
        let ids = BTreeMap::from([("ThingsTable".to_owned(), "dev-things".to_owned())]);
        let env = template.function_environment("Fn", "dev", &ids).unwrap();
        assert_eq!(env["THINGS_TABLE"], "dev-things");
        assert_eq!(env["TTL_HOURS"], "24");
        assert_eq!(env["PLAIN"], "overridden");
        // Without the physical id a Ref to a resource cannot be guessed.
        let err = template
            .function_environment("Fn", "dev", &BTreeMap::new())
            .unwrap_err();
        assert!(matches!(
            err,
            TemplateError::UnresolvedReference {
                reason: UnresolvedReason::Resource,
                ..
            }
        ));
    }

    #[test]
    fn refuses_what_cannot_be_resolved_locally() {
        use UnresolvedReason::*;
        let name = r#"!Sub "${AWS::StackName}-${Suffix}""#;
        const AT: &str = "Resources.ThingsTable.Properties.TableName";
        let cases: [(&str, &str, Refused); 6] = [
            (name, "!ImportValue shared-name", |e| {
                matches!(e, TemplateError::UnsupportedIntrinsic { function, path }
                    if function == "Fn::ImportValue" && path == AT)
            }),
            // A GetAtt needs a resource of the template, and that resource provisioned.
            (name, "!GetAtt Other.Name", |e| {
                matches!(e, TemplateError::UnresolvedReference { name, path, reason: Unknown }
                    if name == "Other.Name" && path == AT)
            }),
            (name, "!GetAtt Plain.StreamArn", |e| {
                matches!(
                    e,
                    TemplateError::UnresolvedReference {
                        reason: Attribute,
                        ..
                    }
                )
            }),
            // A pseudo parameter without a local value is refused, not made up.
            ("${Suffix}", "${AWS::NotificationARNs}", |e| {
                matches!(e, TemplateError::UnresolvedReference { name, reason: PseudoParameter, .. }
                    if name == "AWS::NotificationARNs")
            }),
            ("${Suffix}", "${NoDefault}", |e| {
                matches!(
                    e,
                    TemplateError::UnresolvedReference {
                        reason: ParameterWithoutDefault,
                        ..
                    }
                )
            }),
            // serde_norway would strip the tag if this were deserialised into a String; the key
            // must not silently become an attribute named "X.Y".
            (
                "{AttributeName: pk, KeyType: HASH}",
                "{AttributeName: !GetAtt X.Y, KeyType: HASH}",
                |e| {
                    matches!(e, TemplateError::UnresolvedReference { path, .. }
                    if path == "Resources.ThingsTable.Properties.KeySchema[0].AttributeName")
                },
            ),
        ];
        for (from, to, expected) in cases {
            let yaml = MINI.replace(from, to);
            assert_ne!(yaml, MINI, "{from}");
            let err = Template::parse(&yaml)
                .unwrap()
                .resolved(TABLE_TYPE, "dev", "1", "r", &PhysicalResources::default())
                .unwrap_err();
            assert!(expected(&err), "{to}: {err}");
        }
    }

    #[test]
    fn rejects_invalid_values_with_their_path() {
        let missing = MINI.replace("        Binary: fn-bin\n", "        Other: x\n");
        let err = Template::parse(&missing)
            .unwrap()
            .http_routes()
            .unwrap_err();
        assert!(matches!(err, TemplateError::MissingBinary { function } if function == "Fn"));

        assert!(matches!(
            Template::parse("Resources: [").unwrap_err(),
            TemplateError::Yaml { .. }
        ));
        assert!(matches!(
            Template::parse("Parameters: {}").unwrap_err(),
            TemplateError::Missing { path } if path == "Resources"
        ));
    }

    #[test]
    fn project_template_has_the_expected_shape() {
        let template = Template::load(&Template::default_path()).unwrap();

        let mut routes: Vec<_> = (template.http_routes().unwrap().into_iter())
            .map(|r| format!("{} {} {} {}", r.method, r.path, r.function, r.binary))
            .collect();
        routes.sort();
        let expected = [
            "DELETE /incidents/{incident_id}/links/{reference} IncidentsFunction incidents",
            "GET /incidents IncidentsFunction incidents",
            "GET /incidents/{incident_id} IncidentsFunction incidents",
                "GET /mail/held HeldMailFunction held-mail",
            "GET /players/{player_id}/eligibility EligibilityFunction eligibility",
                "GET /players/{player_id}/support PlayerSupportFunction player-support",
            "GET /queues/{team} TeamQueueFunction team-queue",
                "GET /queues/{team}/saved-replies TeamQueueFunction team-queue",
            "GET /reports/complaints ComplaintsReportFunction complaints-report",
            "GET /support/hours SupportHoursFunction support-hours",
            "GET /tickets ListTicketsFunction list-tickets",
            "GET /tickets/{reference} GetTicketFunction get-ticket",
            "GET /verification/case ReadCaseFunction read-case",
            "GET /verification/cases/{case_id} ReadCaseFunction read-case",
            "GET /verification/reviews ReadCaseFunction read-case",
            "POST /handoffs/chat ChatHandoffFunction chat-handoff",
            "POST /incidents/{incident_id}/links IncidentsFunction incidents",
            "POST /incidents/{incident_id}/status IncidentsFunction incidents",
            "POST /tickets CreateTicketFunction create-ticket",
            "POST /tickets/{reference}/attachments AddAttachmentFunction add-attachment",
            "POST /tickets/{reference}/escalate UpdateTicketFunction update-ticket",
            "POST /tickets/{reference}/extension UpdateTicketFunction update-ticket",
            "POST /tickets/{reference}/merge UpdateTicketFunction update-ticket",
            "POST /tickets/{reference}/messages UpdateTicketFunction update-ticket",
                "POST /tickets/{reference}/notes UpdateTicketFunction update-ticket",
            "POST /tickets/{reference}/replies UpdateTicketFunction update-ticket",
            "POST /tickets/{reference}/status UpdateTicketFunction update-ticket",
            "POST /tickets/{reference}/take UpdateTicketFunction update-ticket",
            "POST /verification/cases OpenCaseFunction open-case",
            "POST /verification/cases/{case_id}/decision ReviewCaseFunction review-case",
            "POST /verification/cases/{case_id}/documents/{kind}/view ReviewCaseFunction review-case",
            "POST /verification/documents RequestUploadFunction request-upload",
        ];
        assert_eq!(routes, expected);

        let tables: Vec<_> = (template.resource_env_vars().unwrap().into_iter())
            .filter(|(_, target)| target.ends_with("Table"))
            .collect();
        assert_eq!(
            tables,
            [("TICKETS_TABLE".to_owned(), "TicketsTable".to_owned())]
        );
        let mut ids = BTreeMap::from([
            ("TicketsTable".to_owned(), "x-tickets".to_owned()),
            ("DocumentsBucket".to_owned(), "x-documents".to_owned()),
            ("DocumentEventsQueue".to_owned(), "https://q/x".to_owned()),
        ]);
        // Every resource the Globals name must have a physical id, or no function is configured.
        let partial = template.function_environment("CreateTicketFunction", "x", &ids);
        assert!(
            matches!(&partial, Err(TemplateError::UnresolvedReference { name, .. }) if name == "EscalationsQueue"),
            "{partial:?}"
        );
        for (_, logical_id) in template.resource_env_vars().unwrap() {
            ids.entry(logical_id.clone())
                .or_insert_with(|| format!("https://q/{logical_id}"));
        }
        let env = template
            .function_environment("CreateTicketFunction", "x", &ids)
            .unwrap();
        assert_eq!(env["TICKETS_TABLE"], "x-tickets");
        assert_eq!(env["IDEMPOTENCY_KEY_TTL_HOURS"], "24");
        assert_eq!(env["RUST_LOG"], "info");
        assert_eq!(env["DOCUMENTS_BUCKET"], "x-documents");
        assert_eq!(env["DOCUMENT_EVENTS_QUEUE_URL"], "https://q/x");
        assert_eq!(
            env["PAYMENTS_ESCALATIONS_QUEUE_URL"],
            "https://q/PaymentsEscalationQueue"
        );
        assert_eq!(env["NOTIFICATION_SENDER"], "soutien@guichet.example");
    }

    pub(crate) const DOCUMENTS: &str = r#"
Resources:
  Key:
    Type: AWS::KMS::Key
    Properties:
      Description: !Sub "${AWS::StackName} documents"
      EnableKeyRotation: "true"
      KeyPolicy:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {AWS: !Sub "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}
            Action: "kms:*"
            Resource: "*"
            Condition:
              StringEquals: {"kms:ViaService": !Sub "s3.${AWS::Region}.amazonaws.com"}
              NumericLessThan: {"kms:Whatever": 5}
  KeyAlias:
    Type: AWS::KMS::Alias
    Properties:
      AliasName: !Sub "alias/${AWS::StackName}/docs"
      TargetKeyId: !Ref Key
  Dlq:
    Type: AWS::SQS::Queue
    Properties:
      MessageRetentionPeriod: 1209600
  Events:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub "${AWS::StackName}-events"
      VisibilityTimeout: 0
      SqsManagedSseEnabled: true
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt Dlq.Arn
        maxReceiveCount: "5"
  EventsPolicy:
    Type: AWS::SQS::QueuePolicy
    Properties:
      Queues: [!Ref Events]
      PolicyDocument:
        Statement:
          - Effect: Allow
            Principal: {Service: s3.amazonaws.com}
            Action: sqs:SendMessage
            Resource: {"Fn::GetAtt": [Events, Arn]}
            Condition:
              ArnEquals: {"aws:SourceArn": !Sub "arn:${AWS::Partition}:s3:::${AWS::StackName}-docs"}
  Docs:
    Type: AWS::S3::Bucket
    DependsOn: EventsPolicy
    Properties:
      BucketName: !Sub "${AWS::StackName}-docs"
      BucketEncryption:
        ServerSideEncryptionConfiguration:
          - ServerSideEncryptionByDefault:
              SSEAlgorithm: aws:kms
              KMSMasterKeyID: !GetAtt Key.Arn
            BucketKeyEnabled: true
      PublicAccessBlockConfiguration:
        BlockPublicAcls: true
        RestrictPublicBuckets: "true"
      OwnershipControls:
        Rules: [{ObjectOwnership: BucketOwnerEnforced}]
      VersioningConfiguration: {Status: Enabled}
      LifecycleConfiguration:
        Rules:
          - {Id: keep, Status: Enabled, Prefix: a/, ExpirationInDays: 10, NoncurrentVersionExpiration: {NoncurrentDays: 3}}
          - {Status: Disabled, NoncurrentVersionExpirationInDays: 4, AbortIncompleteMultipartUpload: {DaysAfterInitiation: 1}}
      NotificationConfiguration:
        QueueConfigurations:
          - Event: s3:ObjectCreated:*
            Queue: !GetAtt Events.Arn
            Filter:
              S3Key:
                Rules: [{Name: Prefix, Value: a/}, {Name: suffix, Value: .png}]
          - {Event: "s3:ObjectRemoved:*", Queue: "arn:aws:sqs:elsewhere"}
  Plain:
    Type: AWS::S3::Bucket
  DocsPolicy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref Docs
      PolicyDocument:
        Statement:
          - Effect: Deny
            Principal: "*"
            Action: "s3:*"
            Resource: [!GetAtt Docs.Arn, !Sub "${Docs.Arn}/*"]
            Condition: {Bool: {"aws:SecureTransport": false}}
  Checker:
    Type: AWS::Serverless::Function
    Metadata:
      BuildProperties: {Binary: checker}
    Properties:
      Events:
        Upload:
          Type: SQS
          Properties:
            Queue: !GetAtt Events.Arn
            BatchSize: 5
            FunctionResponseTypes: [ReportBatchItemFailures]
        Api:
          Type: HttpApi
          Properties: {Path: /check, Method: POST}
  Redriver:
    Type: AWS::Serverless::Function
    Metadata:
      BuildProperties: {Binary: redriver}
    Properties:
      Events:
        Dead:
          Type: SQS
          Properties:
            Queue: {"Fn::GetAtt": [Dlq, Arn]}
"#;

    #[test]
    fn resolved_properties_refuse_what_provisioning_cannot_take() {
        let policy = Resolved {
            logical_id: "P".to_owned(),
            properties: serde_json::json!({"Bucket": 3, "Queues": ["u", 4]}),
        };
        assert!(matches!(
            policy.text("Bucket"),
            Err(TemplateError::WrongType { path, found: "a number", .. })
                if path == "Resources.P.Properties.Bucket"
        ));
        assert!(matches!(
            policy.texts("Queues"),
            Err(TemplateError::WrongType { path, .. }) if path == "Resources.P.Properties.Queues[1]"
        ));
        assert!(matches!(
            policy.texts("Bucket"),
            Err(TemplateError::WrongType { path, .. }) if path == "Resources.P.Properties.Bucket"
        ));
        let flags = Resolved {
            logical_id: "F".to_owned(),
            properties: serde_json::json!({"A": true, "B": "False", "C": "yes", "D": 1}),
        };
        assert_eq!(flags.flag("A").unwrap(), Some(true));
        assert_eq!(flags.flag("B").unwrap(), Some(false));
        assert_eq!(flags.flag("E").unwrap(), None);
        assert!(matches!(
            flags.flag("C"),
            Err(TemplateError::NotABoolean { path, value }) if path == "Resources.F.Properties.C" && value == "yes"
        ));
        assert!(matches!(
            flags.flag("D"),
            Err(TemplateError::NotABoolean { .. })
        ));
        assert_eq!(flags.opt_text("E").unwrap(), None);
        assert!(matches!(
            flags.opt_text("D"),
            Err(TemplateError::WrongType { .. })
        ));
        assert!(matches!(
            policy.get("PolicyDocument"),
            Err(TemplateError::Missing { path }) if path == "Resources.P.Properties.PolicyDocument"
        ));
        let unknown = DOCUMENTS.replace(
            "      Bucket: !Ref Docs\n",
            "      Bucket: !Ref Docs\n      Extra: 1\n",
        );
        assert_ne!(unknown, DOCUMENTS);
        let mut resources = PhysicalResources::default();
        resources.insert_ref("Docs", "s-docs");
        resources.insert_attribute("Docs", "Arn", "arn:aws:s3:::s-docs");
        assert!(matches!(
            Template::parse(&unknown).unwrap().resolved(BUCKET_POLICY_TYPE, "s", "1", "r", &resources),
            Err(TemplateError::UnsupportedProperty { path }) if path == "Resources.DocsPolicy.Properties.Extra"
        ));
    }

    /// Keys need nothing provisioned before them.
    fn resolved_keys(
        template: &Template,
        stack: &str,
        account: &str,
        region: &str,
    ) -> Vec<Resolved> {
        template
            .resolved(
                KEY_TYPE,
                stack,
                account,
                region,
                &PhysicalResources::default(),
            )
            .unwrap()
    }

    fn identities(template: &Template, stack: &str) -> Vec<Resolved> {
        template
            .resolved(
                EMAIL_IDENTITY_TYPE,
                stack,
                "1",
                "r",
                &PhysicalResources::default(),
            )
            .unwrap()
    }

    fn documents() -> Template {
        Template::parse(DOCUMENTS).unwrap()
    }

    #[test]
    fn reads_keys_with_their_aliases_and_resolved_policy() {
        let keys = resolved_keys(&documents(), "s", "111122223333", "ca-central-1");
        assert_eq!(keys.len(), 1);
        let key = &keys[0];
        assert_eq!(key.logical_id, "Key");
        assert_eq!(key.opt_text("Description").unwrap(), Some("s documents"));
        // Written `"true"` in the template.
        assert_eq!(key.flag("EnableKeyRotation").unwrap(), Some(true));
        assert_eq!(
            documents().key_aliases("s", "1", "r").unwrap(),
            BTreeMap::from([("Key".to_owned(), vec!["alias/s/docs".to_owned()])])
        );
        assert_eq!(
            key.properties.get("KeyPolicy"),
            Some(&serde_json::json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                    "Condition": {
                        "StringEquals": {"kms:ViaService": "s3.ca-central-1.amazonaws.com"},
                        "NumericLessThan": {"kms:Whatever": 5}
                    }
                }]
            }))
        );
        // The partition follows the region.
        let keys = resolved_keys(&documents(), "s", "1", "cn-north-1");
        assert_eq!(
            keys[0].get("KeyPolicy").unwrap()["Statement"][0]["Principal"]["AWS"],
            "arn:aws-cn:iam::1:root"
        );
    }

    #[test]
    fn reads_queues_and_resolves_them_once_their_references_exist() {
        let template = documents();
        let queues = template.queues("s", "1", "ca-central-1").unwrap();
        assert_eq!(
            queues,
            [
                Queue {
                    logical_id: "Dlq".to_owned(),
                    queue_name: "s-Dlq".to_owned(),
                    fifo_queue: false,
                    dead_letter_queue: None,
                },
                Queue {
                    logical_id: "Events".to_owned(),
                    queue_name: "s-events".to_owned(),
                    fifo_queue: false,
                    dead_letter_queue: Some("Dlq".to_owned()),
                },
            ]
        );
        // Before the dead-letter queue exists, its ARN is refused, not guessed.
        let err = template
            .resolve(
                "Events",
                "s",
                "1",
                "ca-central-1",
                &PhysicalResources::default(),
            )
            .unwrap_err();
        assert!(
            matches!(&err, TemplateError::UnresolvedReference { name, reason: UnresolvedReason::Attribute, .. }
                if name == "Dlq.Arn"),
            "{err}"
        );
        assert_eq!(
            queue_properties(&template, "Events", "s"),
            serde_json::json!({
                "QueueName": "s-events",
                "VisibilityTimeout": 0,
                "SqsManagedSseEnabled": true,
                "RedrivePolicy": {"deadLetterTargetArn": "arn:Dlq", "maxReceiveCount": "5"},
            })
        );
        assert_eq!(
            queue_properties(&template, "Dlq", "s"),
            serde_json::json!({"MessageRetentionPeriod": 1_209_600})
        );
    }

    /// A queue's resolved properties, every queue's ARN standing for itself (`arn:<LogicalId>`).
    fn queue_properties(template: &Template, logical_id: &str, stack: &str) -> serde_json::Value {
        let mut resources = PhysicalResources::default();
        for queue in template.queues(stack, "1", "r").unwrap() {
            let arn = format!("arn:{}", queue.logical_id);
            resources.insert_attribute(&queue.logical_id, "Arn", arn);
        }
        template
            .resolve(logical_id, stack, "1", "r", &resources)
            .unwrap()
            .properties
    }

    const FIFO: &str = r#"
Parameters:
  Sender:
    Type: String
    Default: soutien@example.com
Globals:
  Function:
    Environment:
      Variables:
        ORDERED_URL: !Ref Ordered
        SENDER: !Ref Sender
        REGION: !Ref "AWS::Region"
        PLAIN: plain
Resources:
  OrderedDlq:
    Type: AWS::SQS::Queue
    Properties:
      FifoQueue: "true"
  Ordered:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub "${AWS::StackName}-ordered.fifo"
      FifoQueue: true
      ContentBasedDeduplication: false
      DeduplicationScope: messageGroup
      FifoThroughputLimit: perMessageGroupId
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt OrderedDlq.Arn
        maxReceiveCount: 5
  Sending:
    Type: AWS::SES::EmailIdentity
    Properties:
      EmailIdentity: !Ref Sender
"#;

    #[test]
    fn reads_fifo_queues() {
        let template = Template::parse(FIFO).unwrap();
        assert_eq!(
            template.queues("s", "1", "ca-central-1").unwrap(),
            [
                Queue {
                    logical_id: "OrderedDlq".to_owned(),
                    // A FIFO queue's generated name ends in `.fifo`, as SQS requires.
                    queue_name: "s-OrderedDlq.fifo".to_owned(),
                    fifo_queue: true,
                    dead_letter_queue: None,
                },
                Queue {
                    logical_id: "Ordered".to_owned(),
                    queue_name: "s-ordered.fifo".to_owned(),
                    fifo_queue: true,
                    dead_letter_queue: Some("OrderedDlq".to_owned()),
                },
            ]
        );
        assert_eq!(
            queue_properties(&template, "Ordered", "s"),
            serde_json::json!({
                "QueueName": "s-ordered.fifo",
                "FifoQueue": true,
                "ContentBasedDeduplication": false,
                "DeduplicationScope": "messageGroup",
                "FifoThroughputLimit": "perMessageGroupId",
                "RedrivePolicy": {"deadLetterTargetArn": "arn:OrderedDlq", "maxReceiveCount": 5},
            })
        );
    }

    #[test]
    fn refuses_fifo_settings_sqs_would_refuse() {
        // What SQS refuses and the emulator (moto 5.2.5) accepts, each with the path to fix.
        let cases = [
            // A standard queue named like a FIFO queue.
            (
                "      FifoQueue: true\n      ContentBasedDeduplication: false\n      DeduplicationScope: messageGroup\n      FifoThroughputLimit: perMessageGroupId\n",
                "",
                "Resources.Ordered.Properties.QueueName",
            ),
            // A FIFO queue without the suffix.
            (
                "-ordered.fifo",
                "-ordered",
                "Resources.Ordered.Properties.QueueName",
            ),
            // FIFO-only settings on a standard queue (the emulator ignores them).
            (
                "      FifoQueue: \"true\"\n",
                "      DeduplicationScope: queue\n",
                "Resources.OrderedDlq.Properties.DeduplicationScope",
            ),
            (
                "      FifoQueue: \"true\"\n",
                "      ContentBasedDeduplication: true\n",
                "Resources.OrderedDlq.Properties.ContentBasedDeduplication",
            ),
            // High throughput needs deduplication per message group.
            (
                "      DeduplicationScope: messageGroup\n",
                "",
                "Resources.Ordered.Properties.FifoThroughputLimit",
            ),
            // A FIFO queue redriving to a standard queue.
            (
                "      FifoQueue: \"true\"\n",
                "      MessageRetentionPeriod: 60\n",
                "Resources.Ordered.Properties.RedrivePolicy.deadLetterTargetArn",
            ),
        ];
        for (from, to, expected) in cases {
            let yaml = FIFO.replace(from, to);
            assert_ne!(yaml, FIFO, "{from}");
            let err = Template::parse(&yaml)
                .unwrap()
                .queues("s", "1", "r")
                .unwrap_err();
            assert!(
                matches!(&err, TemplateError::InvalidQueue { path, .. } if path == expected),
                "{expected}: {err}"
            );
        }
        // The emulator stores any value; SQS knows two of each.
        for (from, to) in [
            (
                "DeduplicationScope: messageGroup",
                "DeduplicationScope: group",
            ),
            (
                "FifoThroughputLimit: perMessageGroupId",
                "FifoThroughputLimit: unlimited",
            ),
        ] {
            let yaml = FIFO.replace(from, to);
            assert!(
                matches!(
                    Template::parse(&yaml).unwrap().queues("s", "1", "r"),
                    Err(TemplateError::NotAllowed { .. })
                ),
                "{to}"
            );
        }
    }

    #[test]
    fn reads_email_identities_and_parameter_variables() {
        let template = Template::parse(FIFO).unwrap();
        assert_eq!(
            identities(&template, "s"),
            [Resolved {
                logical_id: "Sending".to_owned(),
                properties: serde_json::json!({"EmailIdentity": "soutien@example.com"}),
            }]
        );
        // Resources and parameters are told apart; pseudo parameters and literals are neither.
        assert_eq!(
            template.resource_env_vars().unwrap(),
            [("ORDERED_URL".to_owned(), "Ordered".to_owned())]
        );
        assert_eq!(
            template.parameter_env_vars().unwrap(),
            [("SENDER".to_owned(), "Sender".to_owned())]
        );
        assert_eq!(
            template.parameter_value("Sender").unwrap(),
            "soutien@example.com"
        );

        // A parameter override reaches every Ref.
        let other = template
            .clone()
            .with_parameter("Sender", "autre@example.com")
            .unwrap();
        assert_eq!(
            identities(&other, "s")[0].text("EmailIdentity").unwrap(),
            "autre@example.com"
        );
        assert_eq!(
            other.parameter_value("Sender").unwrap(),
            "autre@example.com"
        );
        assert!(matches!(
            template.clone().with_parameter("Nope", "x"),
            Err(TemplateError::Missing { path }) if path == "Parameters.Nope"
        ));

        let unknown = FIFO.replace(
            "      EmailIdentity: !Ref Sender\n",
            "      EmailIdentity: !Ref Sender\n      DkimSigningAttributes: {NextSigningKeyLength: RSA_2048_BIT}\n",
        );
        assert!(matches!(
            Template::parse(&unknown).unwrap().resolved(
                EMAIL_IDENTITY_TYPE,
                "s",
                "1",
                "r",
                &PhysicalResources::default()
            ),
            Err(TemplateError::UnsupportedProperty { path })
                if path == "Resources.Sending.Properties.DkimSigningAttributes"
        ));
        // A parameter without a value has none to give.
        let no_default = FIFO.replace("    Default: soutien@example.com\n", "");
        assert!(matches!(
            Template::parse(&no_default)
                .unwrap()
                .parameter_value("Sender"),
            Err(TemplateError::UnresolvedReference {
                reason: UnresolvedReason::ParameterWithoutDefault,
                ..
            })
        ));
        assert!(matches!(
            template.parameter_value("Nope"),
            Err(TemplateError::Missing { .. })
        ));
    }

    #[test]
    fn policies_resolve_once_the_resources_exist() {
        let template = documents();
        // Before provisioning, neither the queue's URL nor its ARN exists: refused, not guessed.
        let policies = |resources: &PhysicalResources| {
            template.resolved(QUEUE_POLICY_TYPE, "s", "1", "ca-central-1", resources)
        };
        let mut resources = PhysicalResources::default();
        let err = policies(&resources).unwrap_err();
        assert!(
            matches!(&err, TemplateError::UnresolvedReference { name, reason: UnresolvedReason::Resource, .. }
                if name == "Events"),
            "{err}"
        );
        resources.insert_ref("Events", "https://sqs/1/s-events");
        let err = policies(&resources).unwrap_err();
        assert!(
            matches!(&err, TemplateError::UnresolvedReference { name, reason: UnresolvedReason::Attribute, .. }
                if name == "Events.Arn"),
            "{err}"
        );

        resources.insert_attribute("Events", "Arn", "arn:aws:sqs:ca-central-1:1:s-events");
        resources.insert_ref("Docs", "s-docs");
        resources.insert_attribute("Docs", "Arn", "arn:aws:s3:::s-docs");
        let policies = template
            .resolved(QUEUE_POLICY_TYPE, "s", "1", "ca-central-1", &resources)
            .unwrap();
        assert_eq!(policies.len(), 1);
        assert_eq!(policies[0].logical_id, "EventsPolicy");
        assert_eq!(
            policies[0].texts("Queues").unwrap(),
            ["https://sqs/1/s-events"]
        );
        let statement = &policies[0].get("PolicyDocument").unwrap()["Statement"][0];
        assert_eq!(statement["Resource"], "arn:aws:sqs:ca-central-1:1:s-events");
        assert_eq!(
            statement["Condition"]["ArnEquals"]["aws:SourceArn"],
            "arn:aws:s3:::s-docs"
        );

        let policies = template
            .resolved(BUCKET_POLICY_TYPE, "s", "1", "ca-central-1", &resources)
            .unwrap();
        assert_eq!(policies[0].text("Bucket").unwrap(), "s-docs");
        assert_eq!(
            policies[0].get("PolicyDocument").unwrap(),
            &serde_json::json!({"Statement": [{
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": ["arn:aws:s3:::s-docs", "arn:aws:s3:::s-docs/*"],
                "Condition": {"Bool": {"aws:SecureTransport": false}}
            }]})
        );
    }

    #[test]
    fn queue_consumers_come_from_sqs_events_only() {
        let template = documents();
        assert_eq!(
            template.queue_consumers().unwrap(),
            [
                QueueConsumer {
                    function: "Checker".to_owned(),
                    binary: "checker".to_owned(),
                    queue: "Events".to_owned(),
                    batch_size: 5,
                    report_batch_item_failures: true,
                },
                QueueConsumer {
                    function: "Redriver".to_owned(),
                    binary: "redriver".to_owned(),
                    queue: "Dlq".to_owned(),
                    batch_size: DEFAULT_SQS_BATCH_SIZE,
                    report_batch_item_failures: false,
                },
            ]
        );
        // And the routes still ignore the SQS events.
        let routes = template.http_routes().unwrap();
        assert_eq!(routes.len(), 1);
        assert_eq!(
            (routes[0].method.as_str(), routes[0].path.as_str()),
            ("POST", "/check")
        );

        // MINI's SQS event names a queue by a literal ARN: no queue of the template to follow.
        let err = fixture().queue_consumers().unwrap_err();
        assert!(
            matches!(&err, TemplateError::WrongTarget { path, .. }
                if path == "Resources.Fn.Properties.Events.Queue.Properties.Queue"),
            "{err}"
        );
        let to_table = DOCUMENTS.replace(
            "Queue: !GetAtt Events.Arn\n            BatchSize",
            "Queue: !GetAtt Docs.Arn\n            BatchSize",
        );
        assert!(matches!(
            Template::parse(&to_table).unwrap().queue_consumers(),
            Err(TemplateError::WrongTarget { .. })
        ));
        let zero = DOCUMENTS.replace("BatchSize: 5", "BatchSize: 0");
        assert!(matches!(
            Template::parse(&zero).unwrap().queue_consumers(),
            Err(TemplateError::NotPositive { .. })
        ));
    }

    #[test]
    fn project_template_declares_the_documents_resources() {
        let template = Template::load(&Template::default_path()).unwrap();
        let (stack, account, region) = ("guichet-x", "123456789012", "ca-central-1");

        let keys = resolved_keys(&template, stack, account, region);
        let [key, operations] = keys.as_slice() else {
            panic!("two keys expected: {keys:?}")
        };
        assert_eq!(key.logical_id, "DocumentsKey");
        assert_eq!(operations.logical_id, "OperationsKey");
        assert_eq!(key.flag("EnableKeyRotation").unwrap(), Some(true));
        assert_eq!(
            template.key_aliases(stack, account, region).unwrap()["DocumentsKey"],
            ["alias/guichet-x/documents"]
        );
        let policy = key.get("KeyPolicy").unwrap();
        assert_eq!(
            policy["Statement"][0]["Principal"]["AWS"],
            "arn:aws:iam::123456789012:root"
        );
        // Only S3 uses it, whoever asks: a Deny, not a wildcard Allow.
        let only_s3 = &policy["Statement"][1];
        assert_eq!(
            (&only_s3["Effect"], &only_s3["Principal"]),
            (&"Deny".into(), &"*".into())
        );
        assert_eq!(
            only_s3["Condition"]["StringNotEquals"]["kms:ViaService"],
            "s3.ca-central-1.amazonaws.com"
        );

        let queues = template.queues(stack, account, region).unwrap();
        let names: Vec<_> = queues.iter().map(|q| q.queue_name.as_str()).collect();
        assert_eq!(
            names[..2],
            ["guichet-x-document-events-dlq", "guichet-x-document-events"]
        );
        let dlq = queue_properties(&template, "DocumentEventsDeadLetterQueue", stack);
        assert_eq!(dlq["MessageRetentionPeriod"], 1_209_600);
        let events = queue_properties(&template, "DocumentEventsQueue", stack);
        assert_eq!(events["VisibilityTimeout"], 60);
        assert_eq!(events["SqsManagedSseEnabled"], true);
        assert_eq!(
            events["RedrivePolicy"],
            serde_json::json!({
                "deadLetterTargetArn": "arn:DocumentEventsDeadLetterQueue",
                "maxReceiveCount": 5
            })
        );

        let bucket_name = "guichet-x-documents-123456789012";
        assert_eq!(
            template.names(BUCKET_TYPE, stack, account, region).unwrap(),
            [
                (
                    "AccessLogsBucket".to_owned(),
                    "guichet-x-access-logs-123456789012".to_owned()
                ),
                ("DocumentsBucket".to_owned(), bucket_name.to_owned()),
                (
                    "WebBucket".to_owned(),
                    "guichet-x-web-123456789012".to_owned()
                )
            ]
        );

        // The queue policy names the bucket by an ARN built from its name (a GetAtt would be a
        // circular dependency): it must be the bucket's real ARN, or S3 could not send events.
        let mut resources = PhysicalResources::default();
        resources.insert_ref("DocumentEventsQueue", "https://q");
        resources.insert_attribute("DocumentEventsQueue", "Arn", "arn:q");
        resources.insert_ref("DocumentsBucket", bucket_name);
        let bucket_arn = format!("arn:aws:s3:::{bucket_name}");
        resources.insert_attribute("DocumentsBucket", "Arn", bucket_arn);
        let queue_policy = template
            .resolve(
                "DocumentEventsQueuePolicy",
                stack,
                account,
                region,
                &resources,
            )
            .unwrap();
        let statements = &queue_policy.get("PolicyDocument").unwrap()["Statement"];
        let statement = &statements[0];
        assert_eq!(
            statement["Condition"]["ArnEquals"]["aws:SourceArn"],
            "arn:aws:s3:::guichet-x-documents-123456789012"
        );
        assert_eq!(
            statement["Condition"]["StringEquals"]["aws:SourceAccount"],
            account
        );
        assert_eq!(statement["Resource"], "arn:q");
        // Anyone else is refused, the bucket's own ARN again; no redrive role by default.
        assert_eq!(
            statements[1]["Condition"],
            serde_json::json!({"ArnNotEquals": {
                "aws:SourceArn": "arn:aws:s3:::guichet-x-documents-123456789012"
            }})
        );

        // The log bucket's policy names the documents bucket the same way, for the same reason.
        resources.insert_ref("AccessLogsBucket", "logs");
        resources.insert_attribute("AccessLogsBucket", "Arn", "arn:aws:s3:::logs");
        let logs_policy = template
            .resolve("AccessLogsBucketPolicy", stack, account, region, &resources)
            .unwrap();
        let delivery = &logs_policy.get("PolicyDocument").unwrap()["Statement"][0];
        assert_eq!(
            delivery["Condition"]["ArnLike"]["aws:SourceArn"],
            "arn:aws:s3:::guichet-x-documents-123456789012"
        );
        assert_eq!(delivery["Resource"], "arn:aws:s3:::logs/documents/*");

        let bucket_policy = template
            .resolve("DocumentsBucketPolicy", stack, account, region, &resources)
            .unwrap();
        let statements = bucket_policy.get("PolicyDocument").unwrap()["Statement"]
            .as_array()
            .unwrap();
        assert_eq!(
            statements[0]["Condition"],
            serde_json::json!({"Bool": {"aws:SecureTransport": "false"}})
        );
        assert_eq!(
            statements[1]["Condition"],
            serde_json::json!({"StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}})
        );

        let variables = template.resource_env_vars().unwrap();
        for (variable, target) in [
            ("TICKETS_TABLE", "TicketsTable"),
            ("DOCUMENTS_BUCKET", "DocumentsBucket"),
            ("DOCUMENT_EVENTS_QUEUE_URL", "DocumentEventsQueue"),
        ] {
            assert!(
                variables.contains(&(variable.to_owned(), target.to_owned())),
                "{variable}: {variables:?}"
            );
        }
    }

    #[test]
    fn project_template_declares_the_web_pages() {
        let template = Template::load(&Template::default_path()).unwrap();
        let (stack, account, region) = ("guichet-x", "123456789012", "ca-central-1");
        let documents = template.names(BUCKET_TYPE, stack, account, region).unwrap();
        let documents = &documents
            .iter()
            .find(|(id, _)| id == "DocumentsBucket")
            .unwrap()
            .1;

        // The headers the gateway copies: the CSP names the documents bucket's regional
        // address, built from its name in the template: it must be the bucket's real name.
        let headers = template.security_headers(stack, account, region).unwrap();
        let header = |name: &str| {
            (headers.iter())
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
                .unwrap_or_else(|| panic!("{name}: {headers:?}"))
        };
        assert_eq!(
            header("content-security-policy"),
            format!(
                "default-src 'none'; script-src 'self'; style-src 'self'; \
                 img-src 'self' data: blob:; font-src 'self'; \
                 connect-src 'self' https://{documents}.s3.{region}.amazonaws.com; \
                 frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
            )
        );
        assert_eq!(
            header("strict-transport-security"),
            "max-age=63072000; includeSubDomains; preload"
        );
        assert_eq!(header("x-content-type-options"), "nosniff");
        assert_eq!(header("x-frame-options"), "DENY");
        assert_eq!(header("referrer-policy"), "no-referrer");
        assert_eq!(
            header("permissions-policy"),
            "camera=(), microphone=(), geolocation=()"
        );
        assert_eq!(headers.len(), 6, "{headers:?}");

        // What the gateway plays resolves to its stand-in; the web bucket admits it.
        let mut resources = PhysicalResources::default();
        template.gateway_stand_ins(&mut resources);
        resources.insert_ref("WebBucket", "web");
        resources.insert_attribute("WebBucket", "Arn", "arn:aws:s3:::web");
        let policy = template
            .resolve("WebBucketPolicy", stack, account, region, &resources)
            .unwrap();
        let statements = &policy.get("PolicyDocument").unwrap()["Statement"];
        assert_eq!(
            statements[0]["Condition"]["StringEquals"]["AWS:SourceArn"],
            format!("arn:aws:cloudfront::{account}:distribution/{GATEWAY_STAND_IN}")
        );
        assert_eq!(statements[0]["Action"], "s3:GetObject");
        assert_eq!(statements[1]["Sid"], "DenyInsecureTransport");

        // Its access logs go under web/, admitted by its name, as the documents bucket's.
        resources.insert_ref("AccessLogsBucket", "logs");
        resources.insert_attribute("AccessLogsBucket", "Arn", "arn:aws:s3:::logs");
        let logs = template
            .resolve("AccessLogsBucketPolicy", stack, account, region, &resources)
            .unwrap();
        let delivery = &logs.get("PolicyDocument").unwrap()["Statement"][1];
        assert_eq!(delivery["Resource"], "arn:aws:s3:::logs/web/*");
        assert_eq!(
            delivery["Condition"]["ArnLike"]["aws:SourceArn"],
            "arn:aws:s3:::guichet-x-web-123456789012"
        );

        // The documents bucket's CORS rule: none until the site's origin is given, then that
        // origin only, with the headers a presigned upload signs.
        let cors = |template: &Template| {
            let mut resources = resources.clone();
            for key in ["DocumentsKey", "DocumentEventsQueue"] {
                resources.insert_ref(key, key);
                resources.insert_attribute(key, "Arn", key);
            }
            let bucket = template
                .resolve("DocumentsBucket", stack, account, region, &resources)
                .unwrap();
            bucket.properties.get("CorsConfiguration").cloned()
        };
        assert_eq!(cors(&template), None);
        let site = template
            .clone()
            .with_parameter("SupportSiteOrigin", "https://d1.cloudfront.net")
            .unwrap();
        assert_eq!(
            cors(&site),
            Some(serde_json::json!({"CorsRules": [{
                "Id": "support-pages",
                "AllowedOrigins": ["https://d1.cloudfront.net"],
                "AllowedMethods": ["PUT", "GET"],
                "AllowedHeaders": ["content-type", "if-none-match", "x-amz-server-side-encryption"],
                "ExposedHeaders": ["ETag"],
                "MaxAge": 600,
            }]}))
        );
    }

    #[test]
    fn project_template_declares_the_escalation_and_notification_resources() {
        let template = Template::load(&Template::default_path()).unwrap();
        let (stack, account, region) = ("guichet-x", "123456789012", "ca-central-1");
        let queues = template.queues(stack, account, region).unwrap();
        let queue = |logical_id: &str| {
            queues
                .iter()
                .find(|q| q.logical_id == logical_id)
                .unwrap_or_else(|| panic!("no queue {logical_id}: {queues:?}"))
        };
        let properties = |logical_id: &str| queue_properties(&template, logical_id, stack);
        let redrive = |dlq: &str| serde_json::json!({"deadLetterTargetArn": format!("arn:{dlq}"), "maxReceiveCount": 5});

        for (logical_id, name, dlq_name) in [
            (
                "Escalations",
                "guichet-x-escalations",
                "guichet-x-escalations-dlq",
            ),
            (
                "Notifications",
                "guichet-x-notifications",
                "guichet-x-notifications-dlq",
            ),
        ] {
            let (main, dlq) = (
                queue(&format!("{logical_id}Queue")),
                queue(&format!("{logical_id}DeadLetterQueue")),
            );
            assert_eq!(
                (main.queue_name.as_str(), dlq.queue_name.as_str()),
                (name, dlq_name)
            );
            assert!(!main.fifo_queue && !dlq.fifo_queue, "{logical_id}");
            let dlq_id = format!("{logical_id}DeadLetterQueue");
            let main = properties(&main.logical_id);
            assert_eq!(main["VisibilityTimeout"], 60);
            assert_eq!(main["SqsManagedSseEnabled"], true);
            assert_eq!(main["RedrivePolicy"], redrive(&dlq_id));
            let dlq = properties(&dlq_id);
            assert_eq!(dlq["MessageRetentionPeriod"], 1_209_600);
            assert_eq!(dlq["SqsManagedSseEnabled"], true);
        }

        for team in ["Technical", "Games", "Payments", "Security"] {
            let lower = team.to_ascii_lowercase();
            let main = queue(&format!("{team}EscalationQueue"));
            let dlq = queue(&format!("{team}EscalationDeadLetterQueue"));
            let dlq_id = format!("{team}EscalationDeadLetterQueue");
            assert_eq!(
                *main,
                Queue {
                    logical_id: format!("{team}EscalationQueue"),
                    queue_name: format!("guichet-x-escalations-{lower}.fifo"),
                    fifo_queue: true,
                    dead_letter_queue: Some(dlq_id.clone()),
                }
            );
            assert_eq!(
                properties(&main.logical_id),
                serde_json::json!({
                    "QueueName": format!("guichet-x-escalations-{lower}.fifo"),
                    "FifoQueue": true,
                    "ContentBasedDeduplication": false,
                    "DeduplicationScope": "messageGroup",
                    "FifoThroughputLimit": "perMessageGroupId",
                    "VisibilityTimeout": 300,
                    "MessageRetentionPeriod": 1_209_600,
                    "SqsManagedSseEnabled": true,
                    "RedrivePolicy": redrive(&dlq_id),
                })
            );
            assert_eq!(
                dlq.queue_name,
                format!("guichet-x-escalations-{lower}-dlq.fifo")
            );
            assert!(dlq.fifo_queue);
            let dlq = properties(&dlq_id);
            assert_eq!(dlq["MessageRetentionPeriod"], 1_209_600);
            assert_eq!(dlq["SqsManagedSseEnabled"], true);
        }

        // The SLA alerts: read by the teams' tools like their escalation queues (same visibility
        // and retention), but standard: an alert needs no order with the others.
        assert_eq!(
            *queue("TeamAlertsQueue"),
            Queue {
                logical_id: "TeamAlertsQueue".to_owned(),
                queue_name: "guichet-x-team-alerts".to_owned(),
                fifo_queue: false,
                dead_letter_queue: Some("TeamAlertsDeadLetterQueue".to_owned()),
            }
        );
        assert_eq!(
            properties("TeamAlertsQueue"),
            serde_json::json!({
                "QueueName": "guichet-x-team-alerts",
                "VisibilityTimeout": 300,
                "MessageRetentionPeriod": 1_209_600,
                "SqsManagedSseEnabled": true,
                "RedrivePolicy": redrive("TeamAlertsDeadLetterQueue"),
            })
        );
        let dlq = queue("TeamAlertsDeadLetterQueue");
        assert_eq!(
            (dlq.queue_name.as_str(), dlq.fifo_queue),
            ("guichet-x-team-alerts-dlq", false)
        );
        assert_eq!(
            properties("TeamAlertsDeadLetterQueue"),
            serde_json::json!({
                "QueueName": "guichet-x-team-alerts-dlq",
                "MessageRetentionPeriod": 1_209_600,
                "SqsManagedSseEnabled": true,
            })
        );

        assert_eq!(
            identities(&template, stack),
            [Resolved {
                logical_id: "NotificationSenderIdentity".to_owned(),
                properties: serde_json::json!({"EmailIdentity": "soutien@guichet.example"}),
            }]
        );

        // The functions' contract: every variable the next functions read.
        let variables = template.resource_env_vars().unwrap();
        for (variable, target) in [
            ("ESCALATIONS_QUEUE_URL", "EscalationsQueue"),
            (
                "TECHNICAL_ESCALATIONS_QUEUE_URL",
                "TechnicalEscalationQueue",
            ),
            ("GAMES_ESCALATIONS_QUEUE_URL", "GamesEscalationQueue"),
            ("PAYMENTS_ESCALATIONS_QUEUE_URL", "PaymentsEscalationQueue"),
            ("SECURITY_ESCALATIONS_QUEUE_URL", "SecurityEscalationQueue"),
            ("NOTIFICATIONS_QUEUE_URL", "NotificationsQueue"),
            ("INCIDENT_UPDATES_QUEUE_URL", "IncidentUpdatesQueue"),
            ("TEAM_ALERTS_QUEUE_URL", "TeamAlertsQueue"),
        ] {
            assert!(
                variables.contains(&(variable.to_owned(), target.to_owned())),
                "{variable}: {variables:?}"
            );
        }
        let parameters: Vec<_> = template
            .parameter_env_vars()
            .unwrap()
            .into_iter()
            .map(|(variable, parameter)| {
                let value = template.parameter_value(&parameter).unwrap();
                (variable, parameter, value)
            })
            .collect();
        assert_eq!(
            parameters,
            [
                ("IDEMPOTENCY_KEY_TTL_HOURS", "IdempotencyKeyTtlHours", "24"),
                ("MAX_RESUBMISSIONS", "MaxResubmissions", "2"),
                (
                    "NOTIFICATION_SENDER",
                    "NotificationSender",
                    "soutien@guichet.example"
                ),
                ("WARM_CONNECTIONS", "WarmConnections", "false"),
                ("INCIDENT_THRESHOLD", "IncidentThreshold", "3"),
                ("INCIDENT_WINDOW_MINUTES", "IncidentWindowMinutes", "60"),
            ]
            .map(|(v, p, x)| (v.to_owned(), p.to_owned(), x.to_owned()))
        );

        // sla-sweep's own variable, beside the Globals: not in the list above, which is the
        // Globals' only, so checked through the function's environment.
        let ids: BTreeMap<String, String> = (variables.into_iter())
            .map(|(_, logical_id)| (logical_id.clone(), format!("id-of-{logical_id}")))
            .collect();
        let sweep = |template: &Template| {
            template
                .function_environment("SlaSweepFunction", stack, &ids)
                .unwrap()
        };
        let environment = sweep(&template);
        assert_eq!(environment["SWEEP_LOOKBACK_HOURS"], "24");
        // And the Globals', like every function.
        assert_eq!(environment["TICKETS_TABLE"], "id-of-TicketsTable");
        assert_eq!(
            environment["TEAM_ALERTS_QUEUE_URL"],
            "id-of-TeamAlertsQueue"
        );
        let longer = template
            .clone()
            .with_parameter("SweepLookbackHours", "72")
            .unwrap();
        assert_eq!(sweep(&longer)["SWEEP_LOOKBACK_HOURS"], "72");
        // No other function reads it.
        let create = template
            .function_environment("CreateTicketFunction", stack, &ids)
            .unwrap();
        assert!(!create.contains_key("SWEEP_LOOKBACK_HOURS"));
    }

    // ---- Queue writers: each queue's policy admits exactly the functions granted to send ----

    /// Whether an IAM action pattern (`sqs:SendMessage`, `sqs:Send*`, `sqs:*`, `*`) covers
    /// `sqs:SendMessage`.
    fn covers_send_message(pattern: &str) -> bool {
        let (pattern, action) = (pattern.to_ascii_lowercase(), "sqs:sendmessage");
        match pattern.strip_suffix('*') {
            Some(prefix) => action.starts_with(prefix),
            None => pattern == action,
        }
    }

    /// A string or a list of strings, as IAM writes `Action` and `Resource`.
    fn one_or_many<'a>(node: &Node<'a>) -> Vec<Node<'a>> {
        match node.value {
            Value::Sequence(_) => node.items().unwrap(),
            _ => vec![node.clone()],
        }
    }

    /// `X` of `!GetAtt X.<attribute>`.
    fn get_att_of(node: &Node<'_>, attribute: &str) -> Option<String> {
        let (function, argument) = intrinsic(node.value)?;
        let argument = Node::new(argument, node.path.clone());
        let name = (function == "Fn::GetAtt").then(|| get_att_name(&argument).ok())??;
        let (logical_id, found) = name.split_once('.')?;
        (found == attribute).then(|| logical_id.to_owned())
    }

    /// The statements of a policy document (one written as its statement, or a list).
    fn statements<'a>(document: &Node<'a>) -> Vec<Node<'a>> {
        one_or_many(&document.get("Statement").unwrap())
    }

    /// Queue -> the functions whose `Policies` let them send to it; and what no queue of the
    /// template can be told from (a grant on `*`, on a queue named by text).
    fn send_grants(template: &Template) -> (BTreeMap<String, BTreeSet<String>>, Vec<String>) {
        let queues: BTreeSet<&str> = (template.resources_of(QUEUE_TYPE))
            .map(|q| q.logical_id.as_str())
            .collect();
        let (mut grants, mut unclear) = (BTreeMap::<String, BTreeSet<String>>::new(), Vec::new());
        for function in template.resources_of(FUNCTION_TYPE) {
            let Some(policies) = resource_properties(function)
                .opt_in_mapping("Policies")
                .unwrap()
            else {
                continue;
            };
            let mut grant = |queue: Option<String>, at: &Node<'_>| match queue {
                Some(queue) if queues.contains(queue.as_str()) => {
                    let writers = grants.entry(queue).or_default();
                    writers.insert(function.logical_id.clone());
                }
                _ => unclear.push(format!("{}: sqs:SendMessage on what?", at.path)),
            };
            for policy in one_or_many(&policies) {
                let Value::Mapping(_) = policy.value else {
                    continue;
                };
                // SAM's policy template for the same permission.
                if let Some(template_policy) = policy.opt("SQSSendMessagePolicy").unwrap() {
                    let queue = template_policy.get("QueueName").unwrap();
                    grant(get_att_of(&queue, "QueueName"), &queue);
                    continue;
                }
                let Some(_) = policy.opt("Statement").unwrap() else {
                    continue;
                };
                for statement in statements(&policy) {
                    let allows = statement.get("Effect").unwrap().literal().unwrap() == "Allow";
                    let actions = one_or_many(&statement.get("Action").unwrap());
                    if !allows
                        || !actions
                            .iter()
                            .any(|a| covers_send_message(a.literal().unwrap()))
                    {
                        continue;
                    }
                    for resource in one_or_many(&statement.get("Resource").unwrap()) {
                        grant(get_att_of(&resource, "Arn"), &resource);
                    }
                }
            }
        }
        (grants, unclear)
    }

    /// What is wrong with the queues' policies: a queue without one, a queue its policy does not
    /// close to others (a Deny of sqs:SendMessage to `*`), and writers admitted by the policy
    /// (`ArnNotEquals: aws:PrincipalArn: !GetAtt <Function>Role.Arn`) that differ from the
    /// functions granted to send.
    fn writer_mismatches(template: &Template) -> Vec<String> {
        let (grants, mut findings) = send_grants(template);
        let mut policed = BTreeSet::new();
        let mut closed = BTreeSet::new();
        let mut admitted = BTreeMap::<String, BTreeSet<String>>::new();
        for policy in template.resources_of(QUEUE_POLICY_TYPE) {
            let properties = resource_properties(policy);
            for queue in properties.get("Queues").unwrap().items().unwrap() {
                let (function, argument) = intrinsic(queue.value).unwrap();
                assert_eq!(function, "Ref", "{}", queue.path);
                policed.insert(argument.as_str().unwrap().to_owned());
            }
            for statement in statements(&properties.get("PolicyDocument").unwrap()) {
                let denies = statement.get("Effect").unwrap().literal().unwrap() == "Deny";
                let everyone = match statement.get("Principal").unwrap().value {
                    Value::String(principal) => principal == "*",
                    principal => principal.get("AWS").and_then(Value::as_str) == Some("*"),
                };
                let actions = one_or_many(&statement.get("Action").unwrap());
                let sends = actions
                    .iter()
                    .any(|a| covers_send_message(a.literal().unwrap()));
                if !(denies && everyone && sends) {
                    continue;
                }
                let writers: BTreeSet<String> = match statement.opt("Condition").unwrap() {
                    Some(condition) => match condition.opt("ArnNotEquals").unwrap() {
                        Some(not_equals) => match not_equals.opt("aws:PrincipalArn").unwrap() {
                            Some(arns) => one_or_many(&arns)
                                .iter()
                                .filter_map(|arn| get_att_of(arn, "Arn"))
                                .filter_map(|role| role.strip_suffix("Role").map(str::to_owned))
                                .collect(),
                            None => BTreeSet::new(),
                        },
                        None => BTreeSet::new(),
                    },
                    None => BTreeSet::new(),
                };
                for resource in one_or_many(&statement.get("Resource").unwrap()) {
                    if let Some(queue) = get_att_of(&resource, "Arn") {
                        closed.insert(queue.clone());
                        admitted.entry(queue).or_default().extend(writers.clone());
                    }
                }
            }
        }
        for queue in template.resources_of(QUEUE_TYPE) {
            let queue = &queue.logical_id;
            if !policed.contains(queue) {
                findings.push(format!("{queue} has no queue policy"));
            } else if !closed.contains(queue) {
                findings.push(format!(
                    "{queue}: no statement of its policy denies sqs:SendMessage to `*`"
                ));
            }
            let (granted, admitted) = (
                grants.get(queue).cloned().unwrap_or_default(),
                admitted.get(queue).cloned().unwrap_or_default(),
            );
            if granted != admitted {
                findings.push(format!(
                    "{queue}: functions granted sqs:SendMessage {granted:?}, admitted by its \
                     policy {admitted:?}"
                ));
            }
        }
        findings
    }

    #[test]
    fn every_queue_admits_exactly_the_functions_granted_to_send() {
        let template = Template::load(&Template::default_path()).unwrap();
        assert_eq!(writer_mismatches(&template), Vec::<String>::new());
        // The check found the writers, rather than nothing on either side.
        let (grants, _) = send_grants(&template);
        let writers = |queue: &str| grants.get(queue).cloned().unwrap_or_default();
        assert_eq!(
            writers("IncidentUpdatesQueue"),
            [
                "IncidentUpdatesFunction",
                "RelayOutboxFunction",
                "RelayStreamFunction"
            ]
            .map(str::to_owned)
            .into()
        );
        // Only the outbox relays: the stream's and the sweep.
        let relays: BTreeSet<String> = ["RelayOutboxFunction", "RelayStreamFunction"]
            .map(str::to_owned)
            .into();
        assert_eq!(writers("NotificationsQueue"), relays);
        // sla-sweep puts its alerts in the outbox; only the relays send them.
        assert_eq!(writers("TeamAlertsQueue"), relays);
        assert_eq!(
            writers("SecurityEscalationQueue"),
            BTreeSet::from(["RouteEscalationsFunction".to_owned()])
        );
        assert!(writers("DocumentEventsQueue").is_empty());
        assert!(writers("NotificationsDeadLetterQueue").is_empty());
    }

    #[test]
    fn a_writer_missing_from_its_queue_policy_is_found() {
        let yaml = std::fs::read_to_string(Template::default_path()).unwrap();
        // RelayStreamFunction sends to three queues; drop it from the first policy that admits
        // it (escalations).
        let line = "                  - !GetAtt RelayStreamFunctionRole.Arn\n";
        let at = yaml.find(line).unwrap();
        let without = format!("{}{}", &yaml[..at], &yaml[at + line.len()..]);
        let findings = writer_mismatches(&Template::parse(&without).unwrap());
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert!(
            findings[0].starts_with("EscalationsQueue: functions granted sqs:SendMessage"),
            "{findings:?}"
        );

        // A new writer whose policy line was forgotten, a queue without a policy, a grant on
        // every queue, a policy that admits but does not deny.
        let template = Template::parse(
            r#"
Resources:
  Jobs:
    Type: AWS::SQS::Queue
  Open:
    Type: AWS::SQS::Queue
  Lax:
    Type: AWS::SQS::Queue
  JobsPolicy:
    Type: AWS::SQS::QueuePolicy
    Properties:
      Queues: [!Ref Jobs]
      PolicyDocument:
        Statement:
          - Effect: Deny
            Principal: "*"
            Action: [sqs:SendMessage]
            Resource: !GetAtt Jobs.Arn
            Condition:
              ArnNotEquals:
                aws:PrincipalArn: [!GetAtt OldFunctionRole.Arn]
  LaxPolicy:
    Type: AWS::SQS::QueuePolicy
    Properties:
      Queues: [!Ref Lax]
      PolicyDocument:
        Statement:
          - Effect: Allow
            Principal: {AWS: "*"}
            Action: sqs:SendMessage
            Resource: !GetAtt Lax.Arn
  OldFunction:
    Type: AWS::Serverless::Function
    Properties:
      Policies:
        - Statement:
            - {Effect: Allow, Action: sqs:SendMessage, Resource: !GetAtt Jobs.Arn}
  NewFunction:
    Type: AWS::Serverless::Function
    Properties:
      Policies:
        - SQSSendMessagePolicy: {QueueName: !GetAtt Jobs.QueueName}
        - Statement:
            - {Effect: Allow, Action: "sqs:*", Resource: "*"}
"#,
        )
        .unwrap();
        assert_eq!(
            writer_mismatches(&template),
            [
                "Resources.NewFunction.Properties.Policies[1].Statement[0].Resource: \
                 sqs:SendMessage on what?",
                "Jobs: functions granted sqs:SendMessage {\"NewFunction\", \"OldFunction\"}, \
                 admitted by its policy {\"OldFunction\"}",
                "Open has no queue policy",
                "Lax: no statement of its policy denies sqs:SendMessage to `*`",
            ]
        );
    }

    // ---- Warm-up grants: each function may make the calls it makes at init -------------------

    /// A function's `Allow` statements: their actions, resources and condition.
    fn allowed<'a>(function: &'a Resource) -> Vec<(Vec<String>, Vec<Node<'a>>, Option<Node<'a>>)> {
        let Some(policies) = resource_properties(function)
            .opt_in_mapping("Policies")
            .unwrap()
        else {
            return Vec::new();
        };
        let mut found = Vec::new();
        for policy in one_or_many(&policies) {
            if policy.opt("Statement").unwrap().is_none() {
                continue;
            }
            for statement in statements(&policy) {
                if statement.get("Effect").unwrap().literal().unwrap() != "Allow" {
                    continue;
                }
                let actions = one_or_many(&statement.get("Action").unwrap())
                    .iter()
                    .map(|a| a.literal().unwrap().to_ascii_lowercase())
                    .collect();
                let resources = one_or_many(&statement.get("Resource").unwrap());
                found.push((actions, resources, statement.opt("Condition").unwrap()));
            }
        }
        found
    }

    /// Whether a statement's condition lets its `dynamodb:LeadingKeys` be `key` (no condition:
    /// any key).
    fn admits_leading_key(condition: Option<&Node<'_>>, key: &str) -> bool {
        let Some(condition) = condition else {
            return true;
        };
        condition.entries().unwrap().iter().all(|(operator, test)| {
            let values = match test.opt("dynamodb:LeadingKeys").unwrap() {
                Some(values) => one_or_many(&values),
                // A condition on something else: not one this check can read.
                None => return false,
            };
            values.iter().any(|v| {
                let value = v.literal().unwrap();
                match operator.as_str() {
                    "ForAllValues:StringEquals" => value == key,
                    "ForAllValues:StringLike" => glob(value, key),
                    _ => false,
                }
            })
        })
    }

    /// What keeps a function from making its warm-up calls (shared/aws/src/warmup.rs): every
    /// function may `GetItem` the warm-up key in the tickets table, and the functions that warm
    /// a queue or the sending identity in their `main` (`queues`, `identities`) may make that
    /// call on it. Narrowness too: no other function may read a queue's attributes.
    fn warmup_gaps(
        template: &Template,
        queues: &[(&str, &str)],
        identities: &[&str],
    ) -> Vec<String> {
        let key = guichet_aws::warmup::WARMUP_KEY;
        let mut gaps = Vec::new();
        for function in template.resources_of(FUNCTION_TYPE) {
            let name = function.logical_id.as_str();
            if NO_AWS_CLIENT.contains(&name) {
                continue;
            }
            let grants = allowed(function);
            let may = |action: &str, on: &dyn Fn(&Node<'_>) -> bool| {
                grants.iter().any(|(actions, resources, condition)| {
                    actions.iter().any(|a| a == action)
                        && resources.iter().any(on)
                        && (action != "dynamodb:getitem"
                            || admits_leading_key(condition.as_ref(), key))
                })
            };
            let table = |r: &Node<'_>| get_att_of(r, "Arn").as_deref() == Some("TicketsTable");
            if !may("dynamodb:getitem", &table) {
                gaps.push(format!(
                    "{name}: no dynamodb:GetItem of `{key}` in TicketsTable"
                ));
            }
            let warmed = queues.iter().find(|(f, _)| *f == name).map(|(_, q)| *q);
            let reads_attributes = grants
                .iter()
                .any(|(actions, _, _)| actions.iter().any(|a| a == "sqs:getqueueattributes"));
            match warmed {
                Some(queue) => {
                    let on = |r: &Node<'_>| get_att_of(r, "Arn").as_deref() == Some(queue);
                    if !may("sqs:getqueueattributes", &on) {
                        gaps.push(format!("{name}: no sqs:GetQueueAttributes on {queue}"));
                    }
                }
                None if reads_attributes => {
                    gaps.push(format!(
                        "{name}: sqs:GetQueueAttributes, but warms no queue"
                    ));
                }
                None => {}
            }
            let identity = |r: &Node<'_>| {
                intrinsic(r.value).is_some_and(|(function, argument)| {
                    function == "Fn::Sub"
                        && argument
                            .as_str()
                            .is_some_and(|a| a.ends_with(":identity/${NotificationSender}"))
                })
            };
            if identities.contains(&name) && !may("ses:getemailidentity", &identity) {
                gaps.push(format!(
                    "{name}: no ses:GetEmailIdentity on the sender's identity"
                ));
            }
        }
        gaps
    }

    /// The queues and identities the functions' `main` warm (functions/*/src/main.rs).
    const WARMED_QUEUES: [(&str, &str); 2] = [
        ("RelayStreamFunction", "NotificationsQueue"),
        ("RouteEscalationsFunction", "TechnicalEscalationQueue"),
    ];
    const WARMED_IDENTITIES: [&str; 1] = ["SendNotificationsFunction"];
    /// The functions that build no AWS client (functions/*/src/main.rs), so warm nothing.
    const NO_AWS_CLIENT: [&str; 1] = ["SupportHoursFunction"];

    #[test]
    fn every_function_may_make_its_warm_up_calls() {
        let template = Template::load(&Template::default_path()).unwrap();
        assert_eq!(
            warmup_gaps(&template, &WARMED_QUEUES, &WARMED_IDENTITIES),
            Vec::<String>::new()
        );
        // The check reads the grants, rather than finding nothing to check.
        assert_eq!(template.resources_of(FUNCTION_TYPE).count(), 26);
    }

    #[test]
    fn a_missing_or_too_narrow_warm_up_grant_is_found() {
        let yaml = std::fs::read_to_string(Template::default_path()).unwrap();
        // The warm-up key swapped for another in the first function granted it (list-tickets,
        // which reads nothing else in the base table) and in the last (send-notifications,
        // whose other GetItem grant admits only its two kinds of item, `PLAYER#*` and
        // `NOTIFICATION#*`).
        let warm_key = "                  dynamodb:LeadingKeys:\n                    - WARMUP\n";
        let other = "                  dynamodb:LeadingKeys:\n                    - OTHER\n";
        let (first, last) = (yaml.find(warm_key).unwrap(), yaml.rfind(warm_key).unwrap());
        let yaml = format!(
            "{}{other}{}{other}{}",
            &yaml[..first],
            &yaml[first + warm_key.len()..last],
            &yaml[last + warm_key.len()..]
        );
        let template = Template::parse(&yaml).unwrap();
        assert_eq!(
            warmup_gaps(&template, &WARMED_QUEUES, &WARMED_IDENTITIES),
            [
                "ListTicketsFunction: no dynamodb:GetItem of `WARMUP` in TicketsTable",
                "SendNotificationsFunction: no dynamodb:GetItem of `WARMUP` in TicketsTable",
            ]
        );
        // A function said to warm a queue it may not read, and one that may read a queue's
        // attributes but warms none.
        let template = Template::load(&Template::default_path()).unwrap();
        let queues = [
            ("RelayStreamFunction", "EscalationsQueue"),
            ("ListTicketsFunction", "NotificationsQueue"),
        ];
        assert_eq!(
            warmup_gaps(&template, &queues, &WARMED_IDENTITIES),
            [
                "ListTicketsFunction: no sqs:GetQueueAttributes on NotificationsQueue",
                "RouteEscalationsFunction: sqs:GetQueueAttributes, but warms no queue",
                "RelayStreamFunction: no sqs:GetQueueAttributes on EscalationsQueue",
            ]
        );
    }

    #[test]
    fn resolves_generated_roles_conditions_and_list_parameters() {
        let yaml = r#"
Parameters:
  Operators:
    Type: CommaDelimitedList
    Default: ""
Conditions:
  HasOperators: !Not [!Equals [!Join ["", !Ref Operators], ""]]
  NoOperators: !Not [!Condition HasOperators]
Resources:
  Jobs:
    Type: AWS::SQS::Queue
  JobsPolicy:
    Type: AWS::SQS::QueuePolicy
    Properties:
      Queues: [!Ref Jobs]
      PolicyDocument:
        Statement:
          - Effect: Deny
            Principal: "*"
            Action: sqs:SendMessage
            Resource: !GetAtt Jobs.Arn
            Condition:
              ArnNotEquals:
                aws:PrincipalArn: [!GetAtt WorkerRole.Arn]
              ArnNotLike: !If
                - HasOperators
                - aws:PrincipalArn: !Ref Operators
                - !Ref AWS::NoValue
          - !If [NoOperators, {Sid: Alone}, !Ref AWS::NoValue]
  Worker:
    Type: AWS::Serverless::Function
  Owned:
    Type: AWS::Serverless::Function
    Properties:
      Role: arn:aws:iam::1:role/mine
"#;
        let mut resources = PhysicalResources::default();
        resources.insert_ref("Jobs", "https://q");
        resources.insert_attribute("Jobs", "Arn", "arn:q");
        let statements = |template: &Template| {
            let policy = template
                .resolve("JobsPolicy", "s", "1", "cn-north-1", &resources)
                .unwrap();
            policy.get("PolicyDocument").unwrap()["Statement"].clone()
        };
        let template = Template::parse(yaml).unwrap();
        // SAM's role of a function without its own, in the partition of the region.
        assert_eq!(
            statements(&template),
            serde_json::json!([
                {
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "sqs:SendMessage",
                    "Resource": "arn:q",
                    "Condition": {
                        "ArnNotEquals": {"aws:PrincipalArn": ["arn:aws-cn:iam::1:role/s-WorkerRole"]}
                    }
                },
                {"Sid": "Alone"}
            ])
        );
        let template = template
            .with_parameter(
                "Operators",
                "arn:aws:iam::1:role/ops-*,arn:aws:iam::1:role/oncall",
            )
            .unwrap();
        let resolved = statements(&template);
        assert_eq!(resolved.as_array().unwrap().len(), 1, "{resolved}");
        assert_eq!(
            resolved[0]["Condition"]["ArnNotLike"],
            serde_json::json!({"aws:PrincipalArn": [
                "arn:aws:iam::1:role/ops-*",
                "arn:aws:iam::1:role/oncall"
            ]})
        );

        // Only a function without a `Role` has a generated one, and only its ARN is known.
        let refused = |yaml_ref: &str| {
            let yaml = yaml.replace("!GetAtt WorkerRole.Arn", yaml_ref);
            let template = Template::parse(&yaml).unwrap();
            template
                .resolve("JobsPolicy", "s", "1", "ca-central-1", &resources)
                .unwrap_err()
        };
        assert!(matches!(
            refused("!GetAtt OwnedRole.Arn"),
            TemplateError::UnresolvedReference {
                reason: UnresolvedReason::Unknown,
                ..
            }
        ));
        assert!(matches!(
            refused("!GetAtt WorkerRole.RoleId"),
            TemplateError::UnresolvedReference {
                reason: UnresolvedReason::Attribute,
                ..
            }
        ));
        assert!(matches!(
            refused("!If [Nowhere, a, b]"),
            TemplateError::UnresolvedReference {
                reason: UnresolvedReason::Unknown,
                ..
            }
        ));
    }

    /// `*` matches any run of characters, as in IAM's `ArnLike`.
    fn glob(pattern: &str, text: &str) -> bool {
        match pattern.split_once('*') {
            None => pattern == text,
            Some((head, rest)) => {
                text.starts_with(head)
                    && (head.len()..=text.len()).any(|at| glob(rest, &text[at..]))
            }
        }
    }

    #[test]
    fn project_template_declares_the_chat_handoff_secret() {
        let template = Template::load(&Template::default_path()).unwrap();
        let (stack, account, region) = ("guichet-x", "123456789012", "ca-central-1");
        // The secret names its key's ARN: the key is created first.
        let early = template.resolved(
            SECRET_TYPE,
            stack,
            account,
            region,
            &PhysicalResources::default(),
        );
        assert!(
            matches!(&early, Err(TemplateError::UnresolvedReference { name, .. }) if name == "OperationsKey.Arn"),
            "{early:?}"
        );
        let mut resources = PhysicalResources::default();
        resources.insert_attribute("OperationsKey", "Arn", "arn:aws:kms:ca-central-1:1:key/ops");
        let secrets = template
            .resolved(SECRET_TYPE, stack, account, region, &resources)
            .unwrap();
        let [secret, reply] = secrets.as_slice() else {
            panic!("two secrets expected: {secrets:?}")
        };
        assert_eq!(secret.logical_id, "ChatHandoffSecret");
        assert_eq!(reply.logical_id, "MailReplySecret");
        assert_eq!(reply.text("Name").unwrap(), "guichet-x/mail-reply");
        assert_eq!(secret.text("Name").unwrap(), "guichet-x/chat-handoff");
        // Found by its name before anything exists, as provisioning and the drift check do.
        assert_eq!(
            template.names(SECRET_TYPE, stack, account, region).unwrap(),
            [
                (
                    "ChatHandoffSecret".to_owned(),
                    "guichet-x/chat-handoff".to_owned()
                ),
                (
                    "MailReplySecret".to_owned(),
                    "guichet-x/mail-reply".to_owned()
                )
            ]
        );
        assert_eq!(
            secret.text("KmsKeyId").unwrap(),
            "arn:aws:kms:ca-central-1:1:key/ops"
        );
        assert_eq!(
            secret.get("GenerateSecretString").unwrap(),
            &serde_json::json!({"PasswordLength": 64, "ExcludePunctuation": true})
        );

        // The function gets the secret's `Ref` (its ARN), and the route asks for no token.
        let mut ids: BTreeMap<String, String> = (template.resource_env_vars().unwrap())
            .into_iter()
            .map(|(_, logical_id)| (logical_id.clone(), format!("value-of-{logical_id}")))
            .collect();
        ids.insert("ChatHandoffSecret".to_owned(), "arn:secret".to_owned());
        let env = template
            .function_environment("ChatHandoffFunction", stack, &ids)
            .unwrap();
        assert_eq!(env["CHAT_HANDOFF_SECRET_ARN"], "arn:secret");
        let routes = template.http_routes().unwrap();
        let handoff = (routes.iter())
            .find(|r| r.function == "ChatHandoffFunction")
            .unwrap();
        assert!(handoff.public);

        // A property provisioning would not apply is refused.
        let yaml = std::fs::read_to_string(Template::default_path()).unwrap();
        let rotating = yaml.replace(
            "        ExcludePunctuation: true\n",
            "        ExcludePunctuation: true\n      ReplicaRegions: [{Region: ca-west-1}]\n",
        );
        assert!(matches!(
            Template::parse(&rotating).unwrap().resolved(SECRET_TYPE, stack, account, region, &resources),
            Err(TemplateError::UnsupportedProperty { path })
                if path == "Resources.ChatHandoffSecret.Properties.ReplicaRegions"
        ));
    }

    #[test]
    fn every_log_group_and_the_alarm_topic_use_the_operations_key() {
        let template = Template::load(&Template::default_path()).unwrap();
        let (stack, account, region) = ("guichet-x", "123456789012", "ca-central-1");
        let resolver = template.deployed_resolver(stack, account, region, None);
        let uses_the_key = |node: Option<Node<'_>>| {
            node.and_then(|n| get_att_of(&n, "Arn")).as_deref() == Some("OperationsKey")
        };
        let keys = resolved_keys(&template, stack, account, region);
        let key = keys
            .iter()
            .find(|k| k.logical_id == "OperationsKey")
            .unwrap();
        let statements = key.get("KeyPolicy").unwrap()["Statement"]
            .as_array()
            .unwrap();
        let logs = (statements.iter())
            .find(|s| s["Principal"]["Service"] == "logs.ca-central-1.amazonaws.com")
            .unwrap();
        let pattern = logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
            .as_str()
            .unwrap();

        let mut groups = 0;
        for group in template.resources_of("AWS::Logs::LogGroup") {
            let properties = resource_properties(group);
            assert!(
                uses_the_key(properties.opt("KmsKeyId").unwrap()),
                "{} is not encrypted with OperationsKey",
                group.logical_id
            );
            // CloudWatch Logs could not use the key for a log group its policy does not name:
            // the stack would fail to create it.
            let name = resolver
                .string(&properties.get("LogGroupName").unwrap())
                .unwrap();
            let arn = format!("arn:aws:logs:{region}:{account}:log-group:{name}");
            assert!(glob(pattern, &arn), "{arn} is outside {pattern}");
            groups += 1;
        }
        assert_eq!(groups, 27);
        assert!(!glob(
            pattern,
            "arn:aws:logs:ca-central-1:123456789012:log-group:/aws/lambda/other/x"
        ));

        // The alarm topic and the two mail topics (receipts, bounces and complaints: players'
        // addresses).
        let topics = template
            .resources_of("AWS::SNS::Topic")
            .map(resource_properties)
            .collect::<Vec<_>>();
        assert_eq!(topics.len(), 3);
        for topic in &topics {
            assert!(uses_the_key(topic.opt("KmsMasterKeyId").unwrap()));
        }
        // CloudWatch alarms publish to the encrypted topic only with a data key of their own.
        assert!(statements
            .iter()
            .any(|s| s["Principal"]["Service"] == "cloudwatch.amazonaws.com"
                && s["Action"]
                    .as_array()
                    .unwrap()
                    .contains(&"kms:GenerateDataKey*".into())));
    }
}
