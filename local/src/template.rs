//! Reads `infra/template.yaml`, the single source of truth for the deployed stack, so that local
//! tools (the gateway's routes, table provisioning, the drift check) are derived from it instead of
//! being a second, hand-maintained copy that silently diverges.
//!
//! The template is walked as a raw [`serde_yaml::Value`] rather than deserialised into structs:
//! serde_yaml 0.9 silently strips tags when a tagged node is deserialised into a `String`, so
//! `AttributeName: !Ref Foo` would come out as `"Foo"`. Walking the tree lets every CloudFormation
//! intrinsic (short form `!Ref` / `!Sub` / `!Join`, and long form `Ref` / `Fn::Sub` / `Fn::Join`) be
//! resolved on purpose, and anything unresolvable be refused with the path where it was found.

use std::collections::BTreeMap;
use std::num::ParseIntError;
use std::path::{Path, PathBuf};

use serde_yaml::{Mapping, Value};

const TABLE_TYPE: &str = "AWS::DynamoDB::Table";
const FUNCTION_TYPE: &str = "AWS::Serverless::Function";

const KEY_TYPES: &[&str] = &["HASH", "RANGE"];
const ATTRIBUTE_TYPES: &[&str] = &["S", "N", "B"];
const BILLING_MODES: &[&str] = &["PAY_PER_REQUEST", "PROVISIONED"];
const PROJECTION_TYPES: &[&str] = &["ALL", "KEYS_ONLY", "INCLUDE"];
const STREAM_VIEW_TYPES: &[&str] = &["NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY"];
const SSE_TYPES: &[&str] = &["KMS", "AES256"];
const HTTP_METHODS: &[&str] = &[
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY",
];

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
        source: serde_yaml::Error,
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
    #[error("{function} has HttpApi events but no Metadata.BuildProperties.Binary, so no local handler can be chosen")]
    MissingBinary { function: String },
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
    #[error("the resource's physical id is not known here")]
    Resource,
    #[error("no parameter or resource has this name")]
    Unknown,
}

/// A parsed template. Cheap to query repeatedly; nothing is resolved until asked.
#[derive(Debug, Clone)]
pub struct Template {
    parameters: BTreeMap<String, Parameter>,
    globals_function: Option<Value>,
    /// In template order, so routes and tables come out in a stable, readable order.
    resources: Vec<Resource>,
}

#[derive(Debug, Clone)]
struct Parameter {
    /// The default rendered as CloudFormation would pass it to `Ref` (always a string).
    default: Option<String>,
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
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyElement {
    pub attribute_name: String,
    /// `HASH` or `RANGE`.
    pub key_type: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throughput {
    pub read_capacity_units: i64,
    pub write_capacity_units: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexSpec {
    pub index_name: String,
    pub key_schema: Vec<KeyElement>,
    /// `ALL`, `KEYS_ONLY` or `INCLUDE`.
    pub projection_type: String,
    /// Only for `INCLUDE` projections.
    pub non_key_attributes: Vec<String>,
    /// Only for `PROVISIONED` tables.
    pub provisioned_throughput: Option<Throughput>,
}

/// A DynamoDB table as declared, with intrinsics resolved for one stack name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSpec {
    pub logical_id: String,
    pub table_name: String,
    pub key_schema: Vec<KeyElement>,
    /// `(AttributeName, AttributeType)` pairs, in template order.
    pub attributes: Vec<(String, String)>,
    pub global_secondary_indexes: Vec<IndexSpec>,
    /// The TTL attribute when TTL is enabled; `None` when absent or disabled.
    pub ttl_attribute: Option<String>,
    pub point_in_time_recovery: bool,
    /// `None` when the table has no stream.
    pub stream_view_type: Option<String>,
    pub sse_enabled: bool,
    /// `KMS` or `AES256` when given.
    pub sse_type: Option<String>,
    /// `PAY_PER_REQUEST` or `PROVISIONED` (CloudFormation's default when absent).
    pub billing_mode: String,
    pub provisioned_throughput: Option<Throughput>,
    pub deletion_protection: bool,
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
        let root: Value = serde_yaml::from_str(yaml).map_err(|source| TemplateError::Yaml {
            origin: origin.to_owned(),
            source,
        })?;
        let root = Node::new(&root, String::new());

        let mut parameters = BTreeMap::new();
        if let Some(section) = root.opt("Parameters")? {
            for (name, parameter) in section.entries()? {
                // A default is a scalar; `Ref` to a parameter yields it as a string.
                let default = parameter.opt("Default")?.map(|d| d.scalar()).transpose()?;
                parameters.insert(name, Parameter { default });
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
            globals_function,
            resources,
        })
    }

    /// Every `AWS::DynamoDB::Table`, with names resolved for `stack_name`.
    pub fn tables(&self, stack_name: &str) -> Result<Vec<TableSpec>, TemplateError> {
        let resolver = self.resolver(stack_name, None);
        self.resources_of(TABLE_TYPE)
            .map(|resource| table_spec(&resolver, resource))
            .collect()
    }

    /// Every `HttpApi` event of every `AWS::Serverless::Function`.
    pub fn http_routes(&self) -> Result<Vec<HttpRoute>, TemplateError> {
        // Routes do not depend on a stack name; intrinsics in them would only resolve to defaults.
        let resolver = self.resolver("", None);
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
                });
            }
        }
        Ok(routes)
    }

    /// Environment variables that hold a table's name, as `(variable, table logical id)`, taken
    /// from `Globals.Function.Environment.Variables` (`TICKETS_TABLE: !Ref TicketsTable`): this is
    /// the contract the functions read, so local tools export the same names.
    pub fn table_env_vars(&self) -> Result<Vec<(String, String)>, TemplateError> {
        let tables: Vec<&str> = self
            .resources_of(TABLE_TYPE)
            .map(|r| r.logical_id.as_str())
            .collect();
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
                if function == "Ref" && tables.contains(&target.as_str()) {
                    found.push((name, target.clone()));
                }
            }
        }
        Ok(found)
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
        let resolver = self.resolver(stack_name, Some(physical_ids));
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

    fn resources_of<'a>(&'a self, resource_type: &'a str) -> impl Iterator<Item = &'a Resource> {
        self.resources
            .iter()
            .filter(move |r| r.resource_type == resource_type)
    }

    fn resolver<'a>(
        &'a self,
        stack_name: &'a str,
        physical_ids: Option<&'a BTreeMap<String, String>>,
    ) -> Resolver<'a> {
        Resolver {
            template: self,
            stack_name,
            physical_ids,
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

fn table_spec(resolver: &Resolver<'_>, resource: &Resource) -> Result<TableSpec, TemplateError> {
    let logical_id = resource.logical_id.clone();
    let properties = Node::new(
        &resource.properties,
        format!("Resources.{logical_id}.Properties"),
    );

    // Properties whose absence locally would make the emulator's table silently differ.
    for unsupported in ["LocalSecondaryIndexes", "ImportSourceSpecification"] {
        if properties.opt(unsupported)?.is_some() {
            return Err(TemplateError::UnsupportedProperty {
                path: properties.child_path(unsupported),
            });
        }
    }

    let table_name = match properties.opt("TableName")? {
        Some(name) => resolver.string(&name)?,
        // CloudFormation would generate `<stack>-<LogicalId>-<random>`; locally a stable name is
        // more useful and still unique per stack.
        None => format!("{}-{logical_id}", resolver.stack_name),
    };

    let key_schema = parse_key_schema(resolver, &properties.get("KeySchema")?)?;

    let mut attributes = Vec::new();
    for attribute in properties.get("AttributeDefinitions")?.items()? {
        let name = resolver.string(&attribute.get("AttributeName")?)?;
        let kind_node = attribute.get("AttributeType")?;
        let kind = resolver.string(&kind_node)?;
        check_allowed(&kind_node, &kind, ATTRIBUTE_TYPES)?;
        attributes.push((name, kind));
    }

    let billing_mode = match properties.opt("BillingMode")? {
        Some(node) => {
            let mode = resolver.string(&node)?;
            check_allowed(&node, &mode, BILLING_MODES)?;
            mode
        }
        None => "PROVISIONED".to_owned(),
    };
    let provisioned_throughput = properties
        .opt("ProvisionedThroughput")?
        .map(|node| throughput(resolver, &node))
        .transpose()?;

    let mut global_secondary_indexes = Vec::new();
    if let Some(indexes) = properties.opt("GlobalSecondaryIndexes")? {
        for index in indexes.items()? {
            let projection = index.get("Projection")?;
            let projection_node = projection.get("ProjectionType")?;
            let projection_type = resolver.string(&projection_node)?;
            check_allowed(&projection_node, &projection_type, PROJECTION_TYPES)?;
            let non_key_attributes = match projection.opt("NonKeyAttributes")? {
                Some(list) => list
                    .items()?
                    .iter()
                    .map(|a| resolver.string(a))
                    .collect::<Result<_, _>>()?,
                None => Vec::new(),
            };
            global_secondary_indexes.push(IndexSpec {
                index_name: resolver.string(&index.get("IndexName")?)?,
                key_schema: parse_key_schema(resolver, &index.get("KeySchema")?)?,
                projection_type,
                non_key_attributes,
                provisioned_throughput: index
                    .opt("ProvisionedThroughput")?
                    .map(|node| throughput(resolver, &node))
                    .transpose()?,
            });
        }
    }

    let ttl_attribute = match properties.opt("TimeToLiveSpecification")? {
        Some(ttl) => {
            let enabled = resolver.bool(&ttl.get("Enabled")?)?;
            let attribute = ttl.opt("AttributeName")?;
            match (enabled, attribute) {
                (true, Some(attribute)) => Some(resolver.string(&attribute)?),
                (true, None) => {
                    return Err(TemplateError::Missing {
                        path: ttl.child_path("AttributeName"),
                    })
                }
                (false, _) => None,
            }
        }
        None => None,
    };

    let point_in_time_recovery = match properties.opt("PointInTimeRecoverySpecification")? {
        Some(pitr) => match pitr.opt("PointInTimeRecoveryEnabled")? {
            Some(enabled) => resolver.bool(&enabled)?,
            None => false,
        },
        None => false,
    };

    let stream_view_type = match properties.opt("StreamSpecification")? {
        Some(stream) => {
            let node = stream.get("StreamViewType")?;
            let view = resolver.string(&node)?;
            check_allowed(&node, &view, STREAM_VIEW_TYPES)?;
            Some(view)
        }
        None => None,
    };

    let (sse_enabled, sse_type) = match properties.opt("SSESpecification")? {
        Some(sse) => {
            let enabled = resolver.bool(&sse.get("SSEEnabled")?)?;
            let sse_type = match sse.opt("SSEType")? {
                Some(node) => {
                    let value = resolver.string(&node)?;
                    check_allowed(&node, &value, SSE_TYPES)?;
                    Some(value)
                }
                None => None,
            };
            (enabled, sse_type)
        }
        None => (false, None),
    };

    let deletion_protection = match properties.opt("DeletionProtectionEnabled")? {
        Some(node) => resolver.bool(&node)?,
        None => false,
    };

    Ok(TableSpec {
        logical_id,
        table_name,
        key_schema,
        attributes,
        global_secondary_indexes,
        ttl_attribute,
        point_in_time_recovery,
        stream_view_type,
        sse_enabled,
        sse_type,
        billing_mode,
        provisioned_throughput,
        deletion_protection,
    })
}

fn parse_key_schema(
    resolver: &Resolver<'_>,
    node: &Node<'_>,
) -> Result<Vec<KeyElement>, TemplateError> {
    node.items()?
        .iter()
        .map(|element| {
            let key_type_node = element.get("KeyType")?;
            let key_type = resolver.string(&key_type_node)?;
            check_allowed(&key_type_node, &key_type, KEY_TYPES)?;
            Ok(KeyElement {
                attribute_name: resolver.string(&element.get("AttributeName")?)?,
                key_type,
            })
        })
        .collect()
}

fn throughput(resolver: &Resolver<'_>, node: &Node<'_>) -> Result<Throughput, TemplateError> {
    Ok(Throughput {
        read_capacity_units: resolver.int(&node.get("ReadCapacityUnits")?)?,
        write_capacity_units: resolver.int(&node.get("WriteCapacityUnits")?)?,
    })
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

/// Resolves intrinsics the way CloudFormation would, with what is known locally: the stack name,
/// parameter defaults and, when given, physical ids of resources.
struct Resolver<'a> {
    template: &'a Template,
    stack_name: &'a str,
    physical_ids: Option<&'a BTreeMap<String, String>>,
}

impl Resolver<'_> {
    fn string(&self, node: &Node<'_>) -> Result<String, TemplateError> {
        if let Some((function, argument)) = intrinsic(node.value) {
            let argument = Node::new(argument, format!("{}.{function}", node.display_path()));
            return match function.as_str() {
                "Ref" => self.reference(argument.literal()?, &node.path),
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

    fn bool(&self, node: &Node<'_>) -> Result<bool, TemplateError> {
        if let Value::Bool(b) = node.value {
            return Ok(*b);
        }
        // CloudFormation also accepts the strings "true" / "false" (and `!Ref` to them).
        let value = self.string(node)?;
        match value.to_ascii_lowercase().as_str() {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(TemplateError::NotABoolean {
                path: node.display_path(),
                value,
            }),
        }
    }

    fn int(&self, node: &Node<'_>) -> Result<i64, TemplateError> {
        let value = self.string(node)?;
        value
            .trim()
            .parse()
            .map_err(|source| TemplateError::NotAnInteger {
                path: node.display_path(),
                value,
                source,
            })
    }

    fn reference(&self, name: &str, path: &str) -> Result<String, TemplateError> {
        let unresolved = |reason| TemplateError::UnresolvedReference {
            path: path.to_owned(),
            name: name.to_owned(),
            reason,
        };
        if name == "AWS::StackName" {
            return Ok(self.stack_name.to_owned());
        }
        if name.starts_with("AWS::") {
            return Err(unresolved(UnresolvedReason::PseudoParameter));
        }
        if name.contains('.') {
            return Err(unresolved(UnresolvedReason::Attribute));
        }
        if let Some(parameter) = self.template.parameters.get(name) {
            return parameter
                .default
                .clone()
                .ok_or_else(|| unresolved(UnresolvedReason::ParameterWithoutDefault));
        }
        if self.template.resources.iter().any(|r| r.logical_id == name) {
            return self
                .physical_ids
                .and_then(|ids| ids.get(name))
                .cloned()
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
                out.push_str(&self.reference(name.trim(), &argument.display_path())?);
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
        let parts = parts
            .items()?
            .iter()
            .map(|part| self.string(part))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(parts.join(delimiter.literal()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINI: &str = r#"
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
    fn resolves_sub_ref_and_join_in_table_names() {
        let tables = fixture().tables("dev").unwrap();
        let names: Vec<_> = tables.iter().map(|t| t.table_name.as_str()).collect();
        assert_eq!(names, ["dev-things", "dev-plain"]);
    }

    #[test]
    fn reads_table_spec_with_defaults() {
        let tables = fixture().tables("dev").unwrap();
        let things = &tables[0];
        assert_eq!(things.logical_id, "ThingsTable");
        assert_eq!(things.billing_mode, "PAY_PER_REQUEST");
        assert_eq!(
            things.attributes,
            [
                ("pk".to_owned(), "S".to_owned()),
                ("n".to_owned(), "N".to_owned())
            ]
        );
        assert_eq!(things.ttl_attribute.as_deref(), Some("gone_at"));
        assert!(!things.point_in_time_recovery);
        assert_eq!(things.stream_view_type, None);
        assert!(!things.sse_enabled);
        let gsi = &things.global_secondary_indexes[0];
        assert_eq!(gsi.index_name, "by-n");
        assert_eq!(gsi.projection_type, "INCLUDE");
        assert_eq!(gsi.non_key_attributes, ["a", "b"]);

        let plain = &tables[1];
        // CloudFormation's default billing mode.
        assert_eq!(plain.billing_mode, "PROVISIONED");
        assert_eq!(
            plain.provisioned_throughput,
            Some(Throughput {
                read_capacity_units: 5,
                write_capacity_units: 2
            })
        );
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
            }]
        );
    }

    #[test]
    fn environment_overlays_globals_and_resolves_refs() {
        let template = fixture();
        assert_eq!(
            template.table_env_vars().unwrap(),
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
        let get_att = MINI.replace(
            r#"TableName: !Sub "${AWS::StackName}-${Suffix}""#,
            "TableName: !GetAtt Other.Name",
        );
        let err = Template::parse(&get_att)
            .unwrap()
            .tables("dev")
            .unwrap_err();
        assert!(
            matches!(&err, TemplateError::UnsupportedIntrinsic { function, path }
                if function == "Fn::GetAtt" && path == "Resources.ThingsTable.Properties.TableName"),
            "{err}"
        );

        let no_default = MINI.replace("${Suffix}", "${NoDefault}");
        let err = Template::parse(&no_default)
            .unwrap()
            .tables("dev")
            .unwrap_err();
        assert!(matches!(
            err,
            TemplateError::UnresolvedReference {
                reason: UnresolvedReason::ParameterWithoutDefault,
                ..
            }
        ));

        // serde_yaml would strip the tag if this were deserialised into a String; the key must
        // not silently become an attribute named "X.Y".
        let tagged_name = MINI.replace(
            "{AttributeName: pk, KeyType: HASH}",
            "{AttributeName: !GetAtt X.Y, KeyType: HASH}",
        );
        let err = Template::parse(&tagged_name)
            .unwrap()
            .tables("dev")
            .unwrap_err();
        assert!(
            matches!(&err, TemplateError::UnsupportedIntrinsic { path, .. }
                if path == "Resources.ThingsTable.Properties.KeySchema[0].AttributeName"),
            "{err}"
        );
    }

    #[test]
    fn rejects_invalid_values_with_their_path() {
        let bad = MINI.replace("BillingMode: PAY_PER_REQUEST", "BillingMode: ON_DEMAND");
        let err = Template::parse(&bad).unwrap().tables("dev").unwrap_err();
        assert!(
            matches!(&err, TemplateError::NotAllowed { path, value, .. }
                if path == "Resources.ThingsTable.Properties.BillingMode" && value == "ON_DEMAND"),
            "{err}"
        );

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
    fn sub_supports_variables_and_escapes() {
        let yaml = r#"
Resources:
  T:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: !Sub ["${AWS::StackName}-${Kind}-${!Literal}", {Kind: !Ref "AWS::StackName"}]
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]
"#;
        let tables = Template::parse(yaml).unwrap().tables("s").unwrap();
        assert_eq!(tables[0].table_name, "s-s-${Literal}");
    }

    #[test]
    fn project_template_has_the_expected_shape() {
        let template = Template::load(&Template::default_path()).unwrap();

        let mut routes: Vec<_> = template
            .http_routes()
            .unwrap()
            .into_iter()
            .map(|r| (r.method, r.path, r.function, r.binary))
            .collect();
        routes.sort();
        let expected = [
            ("GET", "/tickets", "ListTicketsFunction", "list-tickets"),
            (
                "GET",
                "/tickets/{reference}",
                "GetTicketFunction",
                "get-ticket",
            ),
            ("POST", "/tickets", "CreateTicketFunction", "create-ticket"),
        ]
        .map(|(m, p, f, b)| (m.to_owned(), p.to_owned(), f.to_owned(), b.to_owned()));
        assert_eq!(routes, expected);

        let tables = template.tables("guichet-local").unwrap();
        assert_eq!(tables.len(), 1);
        let tickets = &tables[0];
        assert_eq!(tickets.logical_id, "TicketsTable");
        assert_eq!(tickets.table_name, "guichet-local-tickets");
        assert_eq!(tickets.billing_mode, "PAY_PER_REQUEST");
        let key = |name: &str, key_type: &str| KeyElement {
            attribute_name: name.to_owned(),
            key_type: key_type.to_owned(),
        };
        assert_eq!(tickets.key_schema, [key("pk", "HASH"), key("sk", "RANGE")]);
        let indexes: Vec<_> = tickets
            .global_secondary_indexes
            .iter()
            .map(|i| {
                (
                    i.index_name.as_str(),
                    i.key_schema.clone(),
                    i.projection_type.as_str(),
                )
            })
            .collect();
        assert_eq!(
            indexes,
            [
                (
                    "gsi1",
                    vec![key("gsi1pk", "HASH"), key("gsi1sk", "RANGE")],
                    "ALL"
                ),
                (
                    "gsi2",
                    vec![key("gsi2pk", "HASH"), key("gsi2sk", "RANGE")],
                    "ALL"
                ),
            ]
        );
        assert_eq!(tickets.attributes.len(), 6);
        assert!(tickets.attributes.iter().all(|(_, t)| t == "S"));
        assert_eq!(tickets.ttl_attribute.as_deref(), Some("expires_at"));
        assert!(tickets.point_in_time_recovery);
        assert_eq!(
            tickets.stream_view_type.as_deref(),
            Some("NEW_AND_OLD_IMAGES")
        );
        assert!(tickets.sse_enabled);
        assert_eq!(tickets.sse_type.as_deref(), Some("KMS"));
        assert!(tickets.deletion_protection);

        assert_eq!(
            template.table_env_vars().unwrap(),
            [("TICKETS_TABLE".to_owned(), "TicketsTable".to_owned())]
        );
        let ids = BTreeMap::from([("TicketsTable".to_owned(), "x-tickets".to_owned())]);
        let env = template
            .function_environment("CreateTicketFunction", "x", &ids)
            .unwrap();
        assert_eq!(env["TICKETS_TABLE"], "x-tickets");
        assert_eq!(env["IDEMPOTENCY_KEY_TTL_HOURS"], "24");
        assert_eq!(env["RUST_LOG"], "info");
    }
}
