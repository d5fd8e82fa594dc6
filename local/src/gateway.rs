//! The local HTTP gateway: API Gateway (HTTP API, JWT authorizer, payload format 2.0) played on
//! a laptop, in front of the very handler functions that run in Lambda.
//!
//! The routes come from `infra/template.yaml`, never from a list kept here, so a route added to
//! the stack is served locally as soon as its handler is wired below. Each request is turned into
//! the JSON event API Gateway would send and parsed by `lambda_http::request::from_str`, the
//! function the Lambda runtime uses; the handler therefore sees exactly the `Request` (claims,
//! path parameters, raw query string, headers, body encoding) it sees in AWS. What API Gateway
//! answers by itself (unknown route, bad token, oversized body, function crash or timeout) is
//! answered here with the same status and body.
//!
//! It plays the support pages' CloudFront distribution too (`WebDistribution` in the template):
//! `/api/...` is routed as the same path without `/api`, as the distribution's viewer-request
//! function strips it before the HTTP API sees it (the routes at the root still answer, for
//! tools and tests); any other `GET` or `HEAD` that no route takes is a file of the web root
//! (`web/dist`, what the pages are built into), `/` and a path ending in `/` its `index.html`,
//! `/console` the console's; and both carry the headers of the template's response headers
//! policy. Two paths exist only here: `/config.json`, which the deployment writes into the web
//! bucket in AWS, and `/dev/tokens`, development identities with fresh tokens.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use guichet_aws::dynamo::attachments::DynamoAttachmentStore;
use guichet_aws::dynamo::cases::DynamoCaseStore;
use guichet_aws::dynamo::tickets::DynamoTicketStore;
use guichet_aws::s3::S3DocumentStorage;
use guichet_core::attachments::service::Attachments;
use guichet_core::tickets::desk::Desk;
use guichet_core::verification::service::Verification;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{json, Map, Value};
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};

use crate::head::{self, HeadRefusal, MAX_REQUEST_TARGET_BYTES};
use crate::jwt::{claims_for_authorizer, DevKey};
use crate::template::{HttpRoute, Template, TemplateError, BUCKET_TYPE};

/// API Gateway's payload limit for HTTP APIs.
pub const MAX_REQUEST_BODY_BYTES: usize = 10 * 1024 * 1024;

/// API Gateway's maximum integration timeout for HTTP APIs: past it the client gets a 503 even
/// if the function is still running.
pub const INTEGRATION_TIMEOUT: Duration = Duration::from_secs(30);

/// What the gateway's `503` asks a client to wait before retrying: a request that ran out of
/// time usually met a burst or a stalled dependency, which an immediate retry only feeds.
pub const RETRY_AFTER_SECONDS: u64 = 5;

/// Values the deployed API has and the local one can only imitate.
const ACCOUNT_ID: &str = "000000000000";
const API_ID: &str = "local";
const STAGE: &str = "$default";

/// The prefix the pages call the API under; the distribution's function strips it.
const API_PREFIX: &str = "/api";
/// The static site's configuration, as the pages read it (in AWS a file of the web bucket).
const CONFIG_PATH: &str = "/config.json";
/// The development identities (local only: never a route of the template).
const DEV_TOKENS_PATH: &str = "/dev/tokens";
/// How long a token of `/dev/tokens` lasts: a working day, so a page left open keeps working.
const DEV_TOKEN_LIFETIME_SECONDS: i64 = 12 * 3600;
/// The stack the template's headers are resolved for: only the documents bucket's address
/// depends on it, and it is replaced by where uploads really go ([`Site::new`]).
const SITE_STACK: &str = "guichet-local";
const SITE_REGION: &str = "ca-central-1";
/// The functions' variable that names the documents bucket, whose address the CSP allows.
const DOCUMENTS_BUCKET_VARIABLE: &str = "DOCUMENTS_BUCKET";

/// One development identity of `/dev/tokens`: what a sign-in page offers to pick. The groups
/// are those the handlers read (`shared/edge/src/http.rs`): roles, and `team:<name>`.
struct DevIdentity {
    label: &'static str,
    sub: &'static str,
    groups: &'static [&'static str],
    /// The `email` claim, where the player's notifications go; none, no e-mail.
    email: Option<&'static str>,
    /// The language the page starts in for this identity (not a claim: tickets take theirs
    /// from the request).
    language: Option<&'static str>,
}

const DEV_IDENTITIES: &[DevIdentity] = &[
    DevIdentity {
        label: "Joueur 1 (player, fr)",
        sub: "player-1",
        groups: &["player"],
        email: Some("player-1@example.test"),
        language: Some("fr"),
    },
    DevIdentity {
        label: "Player 2 (player)",
        sub: "player-2",
        groups: &["player"],
        email: None,
        language: None,
    },
    DevIdentity {
        label: "Agent, technical team",
        sub: "agent-technical",
        groups: &["agent", "team:technical"],
        email: None,
        language: None,
    },
    DevIdentity {
        label: "Agent, payments team",
        sub: "agent-payments",
        groups: &["agent", "team:payments"],
        email: None,
        language: None,
    },
    DevIdentity {
        label: "Supervisor",
        sub: "supervisor-1",
        groups: &["agent", "supervisor"],
        email: None,
        language: None,
    },
    DevIdentity {
        label: "Verification reviewer",
        sub: "reviewer-1",
        groups: &["verification"],
        email: None,
        language: None,
    },
    DevIdentity {
        label: "Senior verification reviewer",
        sub: "reviewer-senior",
        groups: &["verification", "verification_senior"],
        email: None,
        language: None,
    },
];

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("cannot read the routes from the template")]
    Template(#[from] TemplateError),
    #[error(
        "route {method} {path} ({function}) runs binary `{binary}`, which has no in-process \
         handler in the local gateway; add it to HANDLERS in local/src/gateway.rs"
    )]
    NoHandler {
        method: String,
        path: String,
        function: String,
        binary: String,
    },
    #[error("route path `{path}` cannot be served locally: {reason}")]
    UnsupportedRoutePath { path: String, reason: &'static str },
    /// The template's response headers cannot be served as the gateway serves the pages.
    #[error("the support pages' headers: {reason}")]
    SiteHeaders { reason: String },
    #[error("cannot listen on 127.0.0.1:{port}")]
    Bind {
        port: u16,
        #[source]
        source: std::io::Error,
    },
}

/// What an in-process handler returns: the response its Lambda would.
type HandlerFuture<'a> = std::pin::Pin<
    Box<dyn std::future::Future<Output = lambda_http::Response<lambda_http::Body>> + Send + 'a>,
>;

/// One HTTP function run in process, on the services its Lambda builds at init.
type Handler = for<'a> fn(&'a Services, lambda_http::Request) -> HandlerFuture<'a>;

/// The one registry of the HTTP functions the gateway runs in process, by Cargo binary name
/// (the template's `Metadata.BuildProperties.Binary`). A new HTTP function is its crate, its
/// template resource, its dependency in `local/Cargo.toml` and one line here; the routes come
/// from the template.
const HANDLERS: &[(&str, Handler)] = &[
    ("create-ticket", |s, r| {
        Box::pin(create_ticket::handle(&s.desk, &s.incidents, r))
    }),
    ("get-ticket", |s, r| {
        Box::pin(get_ticket::handle(&s.desk, &s.attachments, r))
    }),
    ("list-tickets", |s, r| {
        Box::pin(list_tickets::handle(&s.desk, r))
    }),
    ("add-attachment", |s, r| {
        Box::pin(add_attachment::handle(&s.desk, &s.attachments, r))
    }),
    ("player-support", |s, r| {
        Box::pin(player_support::handle(
            &s.desk,
            &s.verification.cases,
            &s.desk.store,
            r,
        ))
    }),
    ("held-mail", |s, r| {
        Box::pin(held_mail::handle(&s.mailroom, r))
    }),
    ("complaints-report", |s, r| {
        Box::pin(complaints_report::handle(&s.desk, r))
    }),
    ("team-queue", |s, r| {
        Box::pin(team_queue::handle(&s.desk, &s.saved_replies, r))
    }),
    ("update-ticket", |s, r| {
        Box::pin(update_ticket::handle(&s.desk, r))
    }),
    ("incidents", |s, r| {
        Box::pin(incidents::handle(&s.desk, &s.incidents, r))
    }),
    ("open-case", |s, r| {
        Box::pin(open_case::handle(&s.verification, r))
    }),
    ("request-upload", |s, r| {
        Box::pin(request_upload::handle(&s.verification, r))
    }),
    ("read-case", |s, r| {
        Box::pin(read_case::handle(&s.verification, r))
    }),
    ("review-case", |s, r| {
        Box::pin(review_case::handle(&s.verification, r))
    }),
    ("eligibility", |s, r| {
        Box::pin(eligibility::handle(&s.verification, r))
    }),
    ("chat-handoff", |s, r| {
        Box::pin(chat_handoff::handle(&s.desk, &s.handoff_key, r))
    }),
    ("support-hours", |s, r| {
        Box::pin(support_hours::handle(
            &s.hours,
            &guichet_core::common::clock::SystemClock,
            r,
        ))
    }),
];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    /// `{name}`: exactly one non-empty path segment.
    Param(String),
    /// `{name+}`: the rest of the path, at least one segment; only last.
    Greedy(String),
}

#[derive(Debug, Clone)]
struct Route {
    /// Upper-case, or `ANY`.
    method: String,
    segments: Vec<Segment>,
    /// `POST /tickets`, as API Gateway reports it in `routeKey`.
    route_key: String,
    handler: Handler,
    /// No authorizer: the route is answered without a token.
    public: bool,
}

#[derive(Debug)]
struct RouteMatch<'a> {
    route: &'a Route,
    /// Decoded path parameters, by name.
    params: BTreeMap<String, String>,
}

/// The template's routes, matched the way API Gateway matches them.
#[derive(Debug, Clone)]
struct Router {
    routes: Vec<Route>,
}

impl Router {
    fn new(routes: &[HttpRoute]) -> Result<Router, GatewayError> {
        let routes = routes
            .iter()
            .map(|route| {
                let handler = crate::registered(HANDLERS, &route.binary).ok_or_else(|| {
                    GatewayError::NoHandler {
                        method: route.method.clone(),
                        path: route.path.clone(),
                        function: route.function.clone(),
                        binary: route.binary.clone(),
                    }
                })?;
                Ok(Route {
                    method: route.method.to_ascii_uppercase(),
                    segments: parse_route_path(&route.path)?,
                    route_key: format!("{} {}", route.method.to_ascii_uppercase(), route.path),
                    handler,
                    public: route.public,
                })
            })
            .collect::<Result<Vec<_>, GatewayError>>()?;
        Ok(Router { routes })
    }

    /// The route API Gateway would pick for `method` and the raw (still percent-encoded) `path`.
    /// When several match, the most specific wins: literal segments before `{param}` before
    /// `{proxy+}`, from left to right, then an exact method before `ANY`. A path that exists
    /// under another method is not found either: HTTP APIs answer 404 for both, never 405.
    fn find(&self, method: &str, path: &str) -> Option<RouteMatch<'_>> {
        let segments: Vec<&str> = path.strip_prefix('/')?.split('/').collect();
        self.routes
            .iter()
            .filter(|route| route.method == method || route.method == "ANY")
            .filter_map(|route| {
                let params = match_segments(&route.segments, &segments)?;
                let mut rank: Vec<u8> = route
                    .segments
                    .iter()
                    .map(|segment| match segment {
                        Segment::Literal(_) => 0,
                        Segment::Param(_) => 1,
                        Segment::Greedy(_) => 2,
                    })
                    .collect();
                rank.push(u8::from(route.method == "ANY"));
                Some((rank, RouteMatch { route, params }))
            })
            .min_by(|(a, _), (b, _)| a.cmp(b))
            .map(|(_, found)| found)
    }
}

fn parse_route_path(path: &str) -> Result<Vec<Segment>, GatewayError> {
    let unsupported = |reason| GatewayError::UnsupportedRoutePath {
        path: path.to_owned(),
        reason,
    };
    let rest = path
        .strip_prefix('/')
        .ok_or_else(|| unsupported("it does not start with `/`"))?;
    let parts: Vec<&str> = rest.split('/').collect();
    let last = parts.len() - 1;
    parts
        .iter()
        .enumerate()
        .map(|(index, part)| {
            let Some(inner) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) else {
                if part.contains(['{', '}']) {
                    return Err(unsupported("a `{parameter}` must be a whole segment"));
                }
                return Ok(Segment::Literal((*part).to_owned()));
            };
            match inner.strip_suffix('+') {
                Some(name) if index == last && !name.is_empty() => {
                    Ok(Segment::Greedy(name.to_owned()))
                }
                Some(_) => Err(unsupported("a greedy `{proxy+}` must be the last segment")),
                None if inner.is_empty() || inner.contains(['{', '}']) => {
                    Err(unsupported("a parameter needs a plain name"))
                }
                None => Ok(Segment::Param(inner.to_owned())),
            }
        })
        .collect()
}

fn match_segments(route: &[Segment], path: &[&str]) -> Option<BTreeMap<String, String>> {
    let mut params = BTreeMap::new();
    for (index, segment) in route.iter().enumerate() {
        match segment {
            Segment::Literal(literal) => {
                if path.get(index) != Some(&literal.as_str()) {
                    return None;
                }
            }
            Segment::Param(name) => {
                let value = path.get(index).filter(|v| !v.is_empty())?;
                params.insert(name.clone(), percent_decode(value));
            }
            Segment::Greedy(name) => {
                let rest = path.get(index..).filter(|rest| !rest.is_empty())?;
                let joined = rest.join("/");
                if joined.is_empty() {
                    return None;
                }
                params.insert(name.clone(), percent_decode(&joined));
                return Some(params);
            }
        }
    }
    (path.len() == route.len()).then_some(params)
}

/// What the handlers run on: the production wiring of each family of functions, built once
/// as each Lambda builds it at init.
pub struct Services {
    /// Tickets: `create-ticket`, `get-ticket`, `list-tickets`, `add-attachment`, and the
    /// agents' `team-queue` and `update-ticket`.
    pub desk: Desk<DynamoTicketStore>,
    /// Identity verification: `open-case`, `request-upload`, `read-case`, `review-case`,
    /// `eligibility`.
    pub verification: Verification<DynamoCaseStore, S3DocumentStorage>,
    /// Ticket attachments: `add-attachment`, and the attachments `get-ticket` lists.
    pub attachments: Attachments<DynamoAttachmentStore, S3DocumentStorage>,
    /// Multi-player incidents: `incidents`, and the grouping `create-ticket` does.
    pub incidents: guichet_core::incidents::service::Incidents<
        guichet_aws::dynamo::incidents::DynamoIncidentStore,
    >,
    /// The desk's published hours: `support-hours`.
    pub hours: guichet_core::calendar::hours::DeskHours,
    /// The live-chat tool's signing key: `chat-handoff`.
    pub handoff_key: guichet_core::handoffs::signature::HandoffKey,
    /// The mail records: `held-mail`.
    pub mailroom: guichet_aws::dynamo::mail::DynamoMailroom,
    /// The teams' saved replies: `team-queue`.
    pub saved_replies: guichet_core::tickets::saved_replies::SavedReplies,
}

/// The local API: the template's routes, the production services, the dev signing key.
pub struct Gateway {
    router: Router,
    services: Services,
    key: DevKey,
    /// [`INTEGRATION_TIMEOUT`], shorter in tests that need a handler to run out of time.
    integration_timeout: Duration,
    /// The API's OpenAPI description, served at `/openapi.json` (see `openapi.rs`).
    openapi: Bytes,
    /// The support pages, as the distribution serves them.
    site: Site,
}

/// The support pages as the distribution serves them: the web root's files, and the headers
/// of the template's response headers policy.
#[derive(Debug, Clone)]
pub struct Site {
    root: PathBuf,
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl Site {
    /// `<workspace root>/web/dist`, where the pages are built, whatever the working directory.
    pub fn default_root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join("web")
            .join("dist")
    }

    /// The pages of `root` (which need not exist: its paths are then 404) with the template's
    /// headers, their CSP allowing `storage_origin` (`scheme://host:port`) where the template
    /// allows the documents bucket: presigned uploads go wherever the SDK points (locally the
    /// emulator, `AWS_ENDPOINT_URL`). Strict-Transport-Security is left out: the gateway speaks
    /// plain HTTP, and a browser would pin HTTPS for 127.0.0.1 for two years (it ignores the
    /// header over HTTP anyway).
    pub fn new(
        template: &Template,
        root: PathBuf,
        storage_origin: &str,
    ) -> Result<Site, GatewayError> {
        let refused = |reason: String| GatewayError::SiteHeaders { reason };
        let documents = (template.resource_env_vars()?.into_iter())
            .find(|(variable, _)| variable == DOCUMENTS_BUCKET_VARIABLE)
            .map(|(_, logical_id)| logical_id)
            .ok_or_else(|| refused(format!("no Globals variable {DOCUMENTS_BUCKET_VARIABLE}")))?;
        let bucket = (template.names(BUCKET_TYPE, SITE_STACK, ACCOUNT_ID, SITE_REGION)?)
            .into_iter()
            .find(|(logical_id, _)| *logical_id == documents)
            .map(|(_, name)| name)
            .ok_or_else(|| refused(format!("{documents} is not a bucket of the template")))?;
        let documents_origin = format!("https://{bucket}.s3.{SITE_REGION}.amazonaws.com");
        let mut headers = Vec::new();
        for (name, value) in template.security_headers(SITE_STACK, ACCOUNT_ID, SITE_REGION)? {
            let value = match name.as_str() {
                "strict-transport-security" => continue,
                "content-security-policy" if !value.contains(&documents_origin) => {
                    return Err(refused(format!(
                        "the content security policy does not allow {documents_origin}, \
                         the documents bucket's address, which uploads go to"
                    )))
                }
                "content-security-policy" => value.replace(&documents_origin, storage_origin),
                _ => value,
            };
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| refused(format!("`{name}` is not a header name")))?;
            let value = HeaderValue::from_str(&value)
                .map_err(|_| refused(format!("the value of {name} is not a header value")))?;
            headers.push((name, value));
        }
        Ok(Site { root, headers })
    }

    /// Adds the policy's headers, replacing the answer's own, as `Override: true` does.
    fn decorate(&self, response: &mut Response<Full<Bytes>>) {
        for (name, value) in &self.headers {
            response.headers_mut().insert(name.clone(), value.clone());
        }
    }

    /// The answer to `GET`/`HEAD` of a page path: the file, or the 404 the API answers.
    fn page(&self, raw_path: &str) -> Response<Full<Bytes>> {
        let Some(file) = page_file(&self.root, raw_path) else {
            return Refusal::NotFound.response();
        };
        match std::fs::read(&file) {
            Ok(bytes) => {
                let mut response = Response::new(Full::new(Bytes::from(bytes)));
                response.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(content_type(&file)),
                );
                response
            }
            Err(error) => {
                tracing::warn!(%error, "a page file could not be read");
                Refusal::NotFound.response()
            }
        }
    }
}

/// The file of `root` a page path names, as the distribution finds its object: `/` and a path
/// ending in `/` name the directory's `index.html` (DefaultRootObject, WebPageIndex), so does
/// `/console`. Never a file outside `root`: the path is percent-decoded, then a `.` or `..`
/// segment, an empty one (`//`), a backslash, a NUL or a colon is refused, and what the path
/// finally names (symbolic links followed) must still be inside `root`.
fn page_file(root: &Path, raw_path: &str) -> Option<PathBuf> {
    let decoded = percent_encoding::percent_decode_str(raw_path)
        .decode_utf8()
        .ok()?;
    let rest = decoded.strip_prefix('/')?;
    let (rest, directory) = match rest.strip_suffix('/') {
        Some(rest) => (rest, true),
        None => (rest, rest.is_empty() || rest == "console"),
    };
    let mut relative = PathBuf::new();
    if !rest.is_empty() {
        for segment in rest.split('/') {
            if segment.is_empty()
                || segment == "."
                || segment == ".."
                || segment.contains(['\\', '\0', ':'])
            {
                return None;
            }
            relative.push(segment);
        }
    }
    if directory {
        relative.push("index.html");
    }
    let root = root.canonicalize().ok()?;
    let file = root.join(relative).canonicalize().ok()?;
    (file.starts_with(&root) && file.is_file()).then_some(file)
}

/// The media type of a page file, by its extension; what the build produces is known.
fn content_type(file: &Path) -> &'static str {
    match file.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("json" | "map") => "application/json",
        Some("woff2") => "font/woff2",
        Some("ico") => "image/x-icon",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

impl Gateway {
    /// Fails if a template route has no in-process handler, so a new function cannot be
    /// silently unreachable locally.
    pub fn new(
        template: &Template,
        services: Services,
        key: DevKey,
    ) -> Result<Gateway, GatewayError> {
        let site = Site::new(template, Site::default_root(), "https://storage.invalid")?;
        Ok(Gateway {
            router: Router::new(&template.http_routes()?)?,
            services,
            key,
            integration_timeout: INTEGRATION_TIMEOUT,
            openapi: Bytes::from(crate::openapi::document_text()),
            site,
        })
    }

    /// The same gateway serving `site`'s pages and headers.
    pub fn with_site(mut self, site: Site) -> Gateway {
        self.site = site;
        self
    }

    /// The same gateway answering `503` after `timeout` instead of [`INTEGRATION_TIMEOUT`].
    pub fn with_integration_timeout(mut self, timeout: Duration) -> Gateway {
        self.integration_timeout = timeout;
        self
    }

    /// The route keys served, e.g. `POST /tickets`, in template order.
    pub fn route_keys(&self) -> Vec<String> {
        self.router
            .routes
            .iter()
            .map(|route| route.route_key.clone())
            .collect()
    }

    async fn respond(
        self: Arc<Self>,
        request: Request<Incoming>,
        connection: Connection,
    ) -> Response<Full<Bytes>> {
        let started = Instant::now();
        let request_id = new_request_id();
        let method = request.method().clone();
        // What the distribution's function does: the API sees the path without `/api`.
        let raw_path = request.uri().path().to_owned();
        let api_path = match raw_path.strip_prefix(API_PREFIX) {
            Some("") => Some("/".to_owned()),
            Some(rest) if rest.starts_with('/') => Some(rest.to_owned()),
            _ => None,
        };
        let path = api_path.clone().unwrap_or_else(|| raw_path.clone());
        let readable = method == hyper::Method::GET || method == hyper::Method::HEAD;
        let found = self.router.find(method.as_str(), &path).map(|found| {
            (
                found.route.route_key.clone(),
                (found.route.handler, found.route.public),
                found.params,
            )
        });
        let (route_key, mut response) = match found {
            // The contract, for tools and people: not an API route, so no token.
            None if method == hyper::Method::GET && path == crate::openapi::SERVED_AT => {
                (None, self.openapi_response())
            }
            None if api_path.is_some() || !readable => (None, Refusal::NotFound.response()),
            None if path == CONFIG_PATH => (None, json_response(&site_config())),
            None if path == DEV_TOKENS_PATH => (None, json_response(&self.dev_tokens())),
            None => (None, self.site.page(&path)),
            Some((route_key, (handler, public), params)) => {
                let target = Target {
                    route_key: &route_key,
                    handler,
                    public,
                    params: &params,
                    path: &path,
                };
                let response = self
                    .forward(request, &target, &connection, &request_id)
                    .await
                    .unwrap_or_else(Refusal::response);
                (Some(route_key), response)
            }
        };
        // The distribution adds its headers to every answer: the pages', and the API's through
        // /api/ (not at the root, which plays the API's own address).
        let through_api = api_path.is_some();
        if through_api || (route_key.is_none() && path != crate::openapi::SERVED_AT) {
            self.site.decorate(&mut response);
        }
        if let Ok(value) = HeaderValue::from_str(&request_id) {
            response.headers_mut().insert("apigw-requestid", value);
        }
        // One line per request; never the body, the token or the claims.
        tracing::info!(
            request_id = %request_id,
            method = %method,
            route = route_key.as_deref().unwrap_or("-"),
            status = response.status().as_u16(),
            duration_ms = started.elapsed().as_millis() as u64,
            "request"
        );
        response
    }

    /// Every development identity with a fresh token, signed with the gateway's key, as
    /// `dev-token` issues them.
    fn dev_tokens(&self) -> Value {
        let now = jiff::Timestamp::now().as_second();
        let identities: Vec<Value> = (DEV_IDENTITIES.iter())
            .map(|identity| {
                let mut claims = Map::new();
                claims.insert("sub".to_owned(), json!(identity.sub));
                claims.insert("cognito:groups".to_owned(), json!(identity.groups));
                if let Some(email) = identity.email {
                    claims.insert("email".to_owned(), json!(email));
                }
                claims.insert("iss".to_owned(), json!(crate::jwt::DEV_ISSUER));
                claims.insert("aud".to_owned(), json!(crate::jwt::DEV_AUDIENCE));
                claims.insert("iat".to_owned(), json!(now));
                claims.insert("exp".to_owned(), json!(now + DEV_TOKEN_LIFETIME_SECONDS));
                let mut entry = json!({
                    "label": identity.label,
                    "sub": identity.sub,
                    "groups": identity.groups,
                    "token": self.key.issue(&claims),
                });
                if let Some(language) = identity.language {
                    entry["language"] = json!(language);
                }
                entry
            })
            .collect();
        Value::Array(identities)
    }

    fn openapi_response(&self) -> Response<Full<Bytes>> {
        let mut response = Response::new(Full::new(self.openapi.clone()));
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        response
    }

    /// What API Gateway does once the route is known, in its order: authorizer, payload
    /// limit, then the integration.
    async fn forward(
        self: &Arc<Self>,
        request: Request<Incoming>,
        target: &Target<'_>,
        connection: &Connection,
        request_id: &str,
    ) -> Result<Response<Full<Bytes>>, Refusal> {
        let claims = if target.public {
            None
        } else {
            Some(self.authorize(request.headers())?)
        };
        let (parts, body) = request.into_parts();
        let body = read_body(&parts.headers, body).await?;

        let event = build_event(&EventInput {
            method: parts.method.as_str(),
            raw_path: target.path,
            raw_query: parts.uri.query().unwrap_or(""),
            version: parts.version,
            headers: &parts.headers,
            route_key: target.route_key,
            path_params: target.params,
            claims: claims.as_ref(),
            body: &body,
            connection,
            request_id,
            now: jiff::Timestamp::now(),
        });
        let lambda_request =
            lambda_http::request::from_str(&event.to_string()).map_err(|error| {
                // The serde error may quote a header value: log where it failed, not what.
                tracing::warn!(
                    line = error.line(),
                    column = error.column(),
                    category = ?error.classify(),
                    "the request could not be turned into a Lambda event"
                );
                Refusal::BadRequest
            })?;
        let response = self.invoke(target.handler, lambda_request).await?;
        Ok(to_hyper_response(response))
    }

    /// The JWT authorizer: a bearer token signed with the dev key, unexpired, for our issuer
    /// and audience. Like API Gateway, the `Bearer ` prefix is optional.
    fn authorize(&self, headers: &HeaderMap) -> Result<Map<String, Value>, Refusal> {
        let mut values = headers.get_all(header::AUTHORIZATION).iter();
        let (Some(value), None) = (values.next(), values.next()) else {
            return Err(Refusal::Unauthorized);
        };
        let value = value.to_str().map_err(|_| Refusal::Unauthorized)?.trim();
        let token = match value.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
            Some(_) => return Err(Refusal::Unauthorized),
            None => value,
        };
        self.key.verify(token).map_err(|error| {
            // The reason (expired, wrong audience...) helps a developer; it quotes nothing
            // from the token.
            tracing::debug!(reason = %error, "token refused");
            Refusal::Unauthorized
        })
    }

    /// Runs the handler in its own task, as Lambda runs it in its own process: a panic becomes
    /// API Gateway's 500 and a hang its 503, instead of killing the connection.
    async fn invoke(
        self: &Arc<Self>,
        handler: Handler,
        request: lambda_http::Request,
    ) -> Result<Response<lambda_http::Body>, Refusal> {
        let gateway = Arc::clone(self);
        let task = tokio::spawn(async move { handler(&gateway.services, request).await });
        let abort = task.abort_handle();
        match tokio::time::timeout(self.integration_timeout, task).await {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(error)) => {
                tracing::error!(panicked = error.is_panic(), "the handler failed");
                Err(Refusal::InternalServerError)
            }
            Err(_) => {
                abort.abort();
                tracing::error!("the handler timed out");
                Err(Refusal::ServiceUnavailable)
            }
        }
    }
}

/// The matched route of one request.
struct Target<'a> {
    route_key: &'a str,
    handler: Handler,
    /// No authorizer: API Gateway neither checks a token nor puts one in the event.
    public: bool,
    params: &'a BTreeMap<String, String>,
    /// The path the API sees (without `/api`).
    path: &'a str,
}

/// What the pages read first: where the API is, and that development identities are offered
/// (`/dev/tokens`). In AWS the deployment writes the same file into the web bucket, with
/// `devTokens: false` and the identity provider's sign-in address (README, Web pages).
fn site_config() -> Value {
    json!({ "api": API_PREFIX, "devTokens": true })
}

fn json_response(body: &Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    // Fresh tokens and a configuration that changes with a deployment: never from a cache.
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// What API Gateway answers by itself, without calling the function, and what the gateway's
/// own HTTP layer refuses (see `head.rs`). API Gateway's own answers carry only `message`;
/// locally they are the API's one error shape (`error`, `message`, and `field` for bad
/// input), with API Gateway's `message`, so a client reading either finds what it reads.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Refusal {
    NotFound,
    Unauthorized,
    PayloadTooLarge,
    BadRequest,
    InternalServerError,
    ServiceUnavailable,
    Head(HeadRefusal),
}

impl Refusal {
    fn response(self) -> Response<Full<Bytes>> {
        let (status, code, message) = match &self {
            Refusal::NotFound => (StatusCode::NOT_FOUND, "not_found", "Not Found"),
            Refusal::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthenticated", "Unauthorized"),
            Refusal::PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "Request Entity Too Large",
            ),
            Refusal::BadRequest => (StatusCode::BAD_REQUEST, "bad_request", "Bad Request"),
            Refusal::InternalServerError => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal Server Error",
            ),
            Refusal::ServiceUnavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Service Unavailable",
            ),
            Refusal::Head(HeadRefusal::UriTooLong) => {
                (StatusCode::URI_TOO_LONG, "uri_too_long", "URI Too Long")
            }
            Refusal::Head(HeadRefusal::HeadTooLarge) => (
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                "header_fields_too_large",
                "Request Header Fields Too Large",
            ),
            Refusal::Head(HeadRefusal::Malformed { reason, .. }) => {
                (StatusCode::BAD_REQUEST, "bad_request", *reason)
            }
        };
        let mut body = json!({ "error": code, "message": message });
        match &self {
            Refusal::PayloadTooLarge => {
                body["field"] = "body".into();
                body["rule"] = "max_bytes".into();
                body["max"] = MAX_REQUEST_BODY_BYTES.into();
            }
            Refusal::Head(HeadRefusal::UriTooLong) => {
                body["field"] = "path".into();
                body["rule"] = "max_bytes".into();
                body["max"] = MAX_REQUEST_TARGET_BYTES.into();
            }
            Refusal::Head(HeadRefusal::Malformed {
                field: Some(field), ..
            }) => body["field"] = field.as_str().into(),
            _ => {}
        }
        let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
        *response.status_mut() = status;
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        match self {
            Refusal::Unauthorized => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            Refusal::ServiceUnavailable => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
            }
            _ => {}
        }
        response
    }
}

/// Reads the body up to API Gateway's limit; a declared length over it is refused unread.
async fn read_body(headers: &HeaderMap, body: Incoming) -> Result<Vec<u8>, Refusal> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_REQUEST_BODY_BYTES as u64) {
        return Err(Refusal::PayloadTooLarge);
    }
    match Limited::new(body, MAX_REQUEST_BODY_BYTES).collect().await {
        Ok(collected) => Ok(collected.to_bytes().to_vec()),
        Err(error) if error.is::<http_body_util::LengthLimitError>() => {
            Err(Refusal::PayloadTooLarge)
        }
        Err(_) => Err(Refusal::BadRequest),
    }
}

/// Where a request came in: the client and the listening address.
#[derive(Debug, Clone, Copy)]
struct Connection {
    peer: SocketAddr,
    local: SocketAddr,
}

struct EventInput<'a> {
    method: &'a str,
    raw_path: &'a str,
    raw_query: &'a str,
    version: hyper::Version,
    headers: &'a HeaderMap,
    route_key: &'a str,
    path_params: &'a BTreeMap<String, String>,
    /// The authorizer's claims; none on a public route.
    claims: Option<&'a Map<String, Value>>,
    body: &'a [u8],
    connection: &'a Connection,
    request_id: &'a str,
    now: jiff::Timestamp,
}

/// The API Gateway HTTP API event, payload format 2.0.
fn build_event(input: &EventInput<'_>) -> Value {
    let connection = input.connection;
    // API Gateway's domain name is the host the client reached; locally the listening address.
    // The `host` and `x-forwarded-*` headers are set by the gateway, never taken from the
    // client: lambda_http builds the request URI from them and would refuse (panic on) junk.
    let host = connection.local.to_string();
    let mut headers: BTreeMap<String, String> = BTreeMap::new();
    let mut cookies: Vec<String> = Vec::new();
    let mut forwarded_for: Option<String> = None;
    for name in input.headers.keys() {
        let values: Vec<String> = input
            .headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect();
        match name.as_str() {
            // Payload 2.0 moves cookies out of the headers into their own array.
            "cookie" => cookies.extend(
                values
                    .iter()
                    .flat_map(|v| v.split(';'))
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(str::to_owned),
            ),
            "host" | "x-forwarded-proto" | "x-forwarded-port" => {}
            "x-forwarded-for" => forwarded_for = Some(values.join(",")),
            // HeaderMap names are already lower-case, as API Gateway sends them.
            other => {
                headers.insert(other.to_owned(), values.join(","));
            }
        }
    }
    let source_ip = connection.peer.ip().to_string();
    headers.insert("host".to_owned(), host.clone());
    headers.insert("x-forwarded-proto".to_owned(), "http".to_owned());
    headers.insert(
        "x-forwarded-port".to_owned(),
        connection.local.port().to_string(),
    );
    headers.insert(
        "x-forwarded-for".to_owned(),
        match forwarded_for {
            Some(earlier) => format!("{earlier}, {source_ip}"),
            None => source_ip.clone(),
        },
    );

    let protocol = match input.version {
        hyper::Version::HTTP_10 => "HTTP/1.0",
        hyper::Version::HTTP_2 => "HTTP/2.0",
        _ => "HTTP/1.1",
    };
    let zoned = input.now.to_zoned(jiff::tz::TimeZone::UTC);
    let time = jiff::fmt::strtime::format("%d/%b/%Y:%H:%M:%S %z", &zoned).unwrap_or_default();

    let mut event = json!({
        "version": "2.0",
        "routeKey": input.route_key,
        "rawPath": input.raw_path,
        "rawQueryString": input.raw_query,
        "headers": headers,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": API_ID,
            "domainName": host,
            "domainPrefix": API_ID,
            "http": {
                "method": input.method,
                "path": input.raw_path,
                "protocol": protocol,
                "sourceIp": source_ip,
                "userAgent": input.headers
                    .get(header::USER_AGENT)
                    .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                    .unwrap_or_default(),
            },
            "requestId": input.request_id,
            "routeKey": input.route_key,
            "stage": STAGE,
            "time": time,
            "timeEpoch": input.now.as_millisecond(),
        },
        "isBase64Encoded": false,
    });
    // Absent keys, not empty objects, as API Gateway sends them.
    let object = match &mut event {
        Value::Object(object) => object,
        _ => unreachable!("built as an object above"),
    };
    if let (Some(claims), Some(Value::Object(context))) =
        (input.claims, object.get_mut("requestContext"))
    {
        context.insert(
            "authorizer".to_owned(),
            json!({"jwt": {"claims": claims_for_authorizer(claims), "scopes": null}}),
        );
    }
    if !cookies.is_empty() {
        object.insert("cookies".to_owned(), json!(cookies));
    }
    let query = query_parameters(input.raw_query);
    if !query.is_empty() {
        object.insert("queryStringParameters".to_owned(), json!(query));
    }
    if !input.path_params.is_empty() {
        object.insert("pathParameters".to_owned(), json!(input.path_params));
    }
    if !input.body.is_empty() {
        let (body, encoded) = match std::str::from_utf8(input.body) {
            Ok(text) => (text.to_owned(), false),
            Err(_) => (STANDARD.encode(input.body), true),
        };
        object.insert("body".to_owned(), Value::String(body));
        object.insert("isBase64Encoded".to_owned(), Value::Bool(encoded));
    }
    event
}

/// `queryStringParameters`: names and values decoded as API Gateway decodes them (`%XX`, and `+`
/// as a space), a repeated name's values joined by `,`. (lambda_http re-parses `rawQueryString`
/// itself, the same way; this is for handlers that read the event.)
fn query_parameters(raw: &str) -> BTreeMap<String, String> {
    let mut parameters: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in form_urlencoded::parse(raw.as_bytes()) {
        parameters
            .entry(name.into_owned())
            .and_modify(|existing| {
                existing.push(',');
                existing.push_str(&value);
            })
            .or_insert_with(|| value.into_owned());
    }
    parameters
}

/// A path parameter's `%XX` escapes decoded (`+` stays a `+` in a path); an invalid escape is
/// kept as written, invalid UTF-8 is replaced.
fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

/// Writes the handler's response as API Gateway would relay it. Framing headers are the
/// server's business, not the function's.
fn to_hyper_response(response: Response<lambda_http::Body>) -> Response<Full<Bytes>> {
    let (mut parts, body) = response.into_parts();
    for name in [
        header::CONTENT_LENGTH,
        header::TRANSFER_ENCODING,
        header::CONNECTION,
    ] {
        parts.headers.remove(name);
    }
    let bytes: &[u8] = body.as_ref();
    Response::from_parts(parts, Full::new(Bytes::copy_from_slice(bytes)))
}

/// A random request id; API Gateway's ids are opaque, only unique.
fn new_request_id() -> String {
    static FALLBACK: AtomicU64 = AtomicU64::new(0);
    let mut bytes = [0u8; 12];
    if getrandom::fill(&mut bytes).is_err() {
        // Uniqueness is all that matters here; a counter keeps that if the OS source fails.
        let count = FALLBACK.fetch_add(1, Ordering::Relaxed);
        bytes[..8].copy_from_slice(&count.to_be_bytes());
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Binds 127.0.0.1:`port` (0 picks a free port) and serves until the returned task is aborted
/// or the runtime ends. Connections are owned by that task, so aborting it closes them too.
pub async fn serve(
    gateway: Arc<Gateway>,
    port: u16,
) -> Result<(SocketAddr, JoinHandle<()>), GatewayError> {
    let bind_error = |source| GatewayError::Bind { port, source };
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port))
        .await
        .map_err(bind_error)?;
    let local = listener.local_addr().map_err(bind_error)?;
    let task = tokio::spawn(accept_loop(listener, local, gateway));
    Ok((local, task))
}

async fn accept_loop(listener: TcpListener, local: SocketAddr, gateway: Arc<Gateway>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let gateway = Arc::clone(&gateway);
                    connections.spawn(serve_connection(stream, Connection { peer, local }, gateway));
                }
                Err(error) => {
                    // Usually out of file descriptors: back off instead of spinning.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            // Reap finished connections so the set does not grow forever.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn serve_connection(
    mut stream: tokio::net::TcpStream,
    connection: Connection,
    gateway: Arc<Gateway>,
) {
    // The head is read and checked here first (see head.rs), so that what hyper would refuse
    // with an empty answer is refused in JSON.
    let read = match head::read_head(&mut stream).await {
        head::Head::Accepted(read) => read,
        head::Head::Refused(refusal) => {
            refuse_head(stream, refusal).await;
            return;
        }
        head::Head::Gone => return,
    };
    let service = hyper::service::service_fn(move |request| {
        let gateway = Arc::clone(&gateway);
        async move { Ok::<_, Infallible>(gateway.respond(request, connection).await) }
    });
    // One request per connection: the next request's head on a kept-alive connection would be
    // parsed by hyper alone. The answer says `connection: close`, and clients open a new one.
    if let Err(error) = hyper::server::conn::http1::Builder::new()
        .keep_alive(false)
        .serve_connection(TokioIo::new(head::Prefixed::new(read, stream)), service)
        .await
    {
        tracing::debug!(%error, "connection closed with an error");
    }
}

/// Answers a refused head in JSON and closes the connection, as hyper would have (but with a
/// body). What the client still sends is read and dropped for a moment, so that closing with
/// unread bytes does not reset the connection before the client reads the answer.
async fn refuse_head(mut stream: tokio::net::TcpStream, refusal: HeadRefusal) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let request_id = new_request_id();
    let response = Refusal::Head(refusal).response();
    let status = response.status();
    tracing::info!(
        request_id = %request_id,
        status = status.as_u16(),
        "request head refused"
    );
    let mut bytes = format!(
        "HTTP/1.1 {} {}\r\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    )
    .into_bytes();
    let (parts, body) = response.into_parts();
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(never) => match never {},
    };
    for (name, value) in &parts.headers {
        bytes.extend_from_slice(name.as_str().as_bytes());
        bytes.extend_from_slice(b": ");
        bytes.extend_from_slice(value.as_bytes());
        bytes.extend_from_slice(b"\r\n");
    }
    bytes.extend(
        format!(
            "apigw-requestid: {request_id}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        )
        .bytes(),
    );
    bytes.extend_from_slice(&body);
    if stream.write_all(&bytes).await.is_err() || stream.shutdown().await.is_err() {
        return;
    }
    let mut sink = [0u8; 8192];
    let drain = async {
        let mut left = head::MAX_HEAD_BYTES;
        while left > 0 {
            match stream.read(&mut sink).await {
                Ok(0) | Err(_) => break,
                Ok(read) => left = left.saturating_sub(read),
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(1), drain).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client;
    use crate::jwt::{DEV_AUDIENCE, DEV_ISSUER};
    use lambda_http::request::RequestContext;
    use lambda_http::RequestExt;

    fn route(method: &str, path: &str, binary: &str) -> HttpRoute {
        HttpRoute {
            method: method.to_owned(),
            path: path.to_owned(),
            function: format!("{binary}-function"),
            binary: binary.to_owned(),
            public: false,
        }
    }

    fn router(routes: &[HttpRoute]) -> Router {
        Router::new(routes).unwrap()
    }

    fn project_router() -> Router {
        let template = Template::load(&Template::default_path()).unwrap();
        router(&template.http_routes().unwrap())
    }

    fn found(router: &Router, method: &str, path: &str) -> Option<(String, Vec<(String, String)>)> {
        router.find(method, path).map(|m| {
            (
                m.route.route_key.clone(),
                m.params.into_iter().collect::<Vec<_>>(),
            )
        })
    }

    #[test]
    fn every_route_of_the_project_template_has_a_handler() {
        let template = Template::load(&Template::default_path()).unwrap();
        let routes = template.http_routes().unwrap();
        assert!(!routes.is_empty());
        for route in &routes {
            assert!(
                crate::registered(HANDLERS, &route.binary).is_some(),
                "{} {} runs {}, which has no local handler",
                route.method,
                route.path,
                route.binary
            );
        }
        Router::new(&routes).unwrap();
    }

    #[test]
    fn a_route_without_handler_is_refused_at_startup() {
        let err = Router::new(&[route("GET", "/x", "no-such-binary")]).unwrap_err();
        assert!(
            matches!(err, GatewayError::NoHandler { binary, .. } if binary == "no-such-binary")
        );
    }

    #[test]
    fn matches_the_project_routes() {
        let router = project_router();
        assert_eq!(
            found(&router, "POST", "/tickets"),
            Some(("POST /tickets".to_owned(), vec![]))
        );
        assert_eq!(
            found(&router, "GET", "/tickets"),
            Some(("GET /tickets".to_owned(), vec![]))
        );
        assert_eq!(
            found(&router, "GET", "/tickets/GCH-ABC%2D12"),
            Some((
                "GET /tickets/{reference}".to_owned(),
                vec![("reference".to_owned(), "GCH-ABC-12".to_owned())]
            ))
        );
        // Other methods on a known path are 404 in HTTP APIs, like unknown paths.
        for (method, path) in [
            ("DELETE", "/tickets"),
            ("POST", "/tickets/ABC"),
            ("GET", "/tickets/"),
            ("GET", "/tickets/ABC/history"),
            ("GET", "/"),
            ("GET", "/ticket"),
            ("GET", "//tickets"),
            ("GET", "*"),
        ] {
            assert_eq!(found(&router, method, path), None, "{method} {path}");
        }
    }

    #[test]
    fn prefers_the_most_specific_route() {
        let router = router(&[
            route("ANY", "/{proxy+}", "list-tickets"),
            route("GET", "/tickets/{reference}", "get-ticket"),
            route("GET", "/tickets/mine", "list-tickets"),
            route("ANY", "/tickets/mine", "create-ticket"),
        ]);
        assert_eq!(
            found(&router, "GET", "/tickets/mine").unwrap().0,
            "GET /tickets/mine"
        );
        assert_eq!(
            found(&router, "POST", "/tickets/mine").unwrap().0,
            "ANY /tickets/mine"
        );
        assert_eq!(
            found(&router, "GET", "/tickets/other").unwrap().0,
            "GET /tickets/{reference}"
        );
        assert_eq!(
            found(&router, "DELETE", "/a/b%20c/d"),
            Some((
                "ANY /{proxy+}".to_owned(),
                vec![("proxy".to_owned(), "a/b c/d".to_owned())]
            ))
        );
        assert_eq!(found(&router, "GET", "/"), None);
    }

    #[test]
    fn refuses_route_paths_api_gateway_would_not_accept() {
        for path in ["/a/{b+}/c", "/a{b}", "/{}", "tickets"] {
            assert!(
                matches!(
                    Router::new(&[route("GET", path, "get-ticket")]),
                    Err(GatewayError::UnsupportedRoutePath { .. })
                ),
                "{path}"
            );
        }
    }

    #[test]
    fn decodes_query_parameters_like_api_gateway() {
        let query = query_parameters("a=1&a=2&b=x%20y&c&&d=&e=100%&f=%zz%41&g=a+b%2Bc");
        assert_eq!(query["a"], "1,2");
        assert_eq!(query["b"], "x y");
        assert_eq!(query["c"], "");
        assert_eq!(query["d"], "");
        // An invalid escape is kept as written.
        assert_eq!(query["e"], "100%");
        assert_eq!(query["f"], "%zzA");
        // `+` is a space in a query string, `%2B` a plus; in a path, `+` is itself.
        assert_eq!(query["g"], "a b+c");
        assert_eq!(percent_decode("a+b%2Fc%zz"), "a+b/c%zz");
    }

    fn sample_claims() -> Map<String, Value> {
        match json!({
            "sub": "player-1",
            "cognito:groups": ["agent", "supervisor"],
            "iss": DEV_ISSUER,
            "aud": DEV_AUDIENCE,
            "exp": 4_000_000_000i64,
        }) {
            Value::Object(map) => map,
            _ => unreachable!(),
        }
    }

    #[test]
    fn the_event_parses_into_the_request_lambda_would_see() {
        let mut headers = HeaderMap::new();
        headers.append("X-Custom", HeaderValue::from_static("one"));
        headers.append("x-custom", HeaderValue::from_static("two"));
        headers.append("cookie", HeaderValue::from_static("a=1; b=2"));
        // Junk the client sends in headers lambda_http builds the URI from must not reach it.
        headers.append("host", HeaderValue::from_static("not a host"));
        headers.append("x-forwarded-proto", HeaderValue::from_static("bad scheme"));
        headers.append("user-agent", HeaderValue::from_static("curl/8"));
        headers.append("content-type", HeaderValue::from_static("application/json"));
        let connection = Connection {
            peer: "127.0.0.1:50000".parse().unwrap(),
            local: "127.0.0.1:3000".parse().unwrap(),
        };
        let params = BTreeMap::from([("reference".to_owned(), "GCH-1".to_owned())]);
        let claims = sample_claims();
        let input = EventInput {
            method: "GET",
            raw_path: "/tickets/GCH-1",
            raw_query: "limit=5&status=open&status=closed",
            version: hyper::Version::HTTP_11,
            headers: &headers,
            route_key: "GET /tickets/{reference}",
            path_params: &params,
            claims: Some(&claims),
            body: br#"{"a":"\u00e9"}"#,
            connection: &connection,
            request_id: "abc123",
            now: jiff::Timestamp::from_second(1_700_000_000).unwrap(),
        };
        let event = build_event(&input);
        assert_eq!(
            event["requestContext"]["time"],
            "14/Nov/2023:22:13:20 +0000"
        );
        assert_eq!(event["requestContext"]["timeEpoch"], 1_700_000_000_000i64);
        assert_eq!(event["headers"]["x-custom"], "one,two");
        assert_eq!(event["cookies"], json!(["a=1", "b=2"]));
        assert!(event["headers"].get("cookie").is_none());

        let request = lambda_http::request::from_str(&event.to_string()).unwrap();
        assert_eq!(request.method(), "GET");
        assert_eq!(
            request.uri().to_string(),
            "http://127.0.0.1:3000/tickets/GCH-1?limit=5&status=open&status=closed"
        );
        assert_eq!(
            request
                .path_parameters_ref()
                .and_then(|p| p.first("reference")),
            Some("GCH-1")
        );
        let query = request.query_string_parameters_ref().unwrap();
        assert_eq!(query.first("limit"), Some("5"));
        assert_eq!(query.all("status"), Some(vec!["open", "closed"]));
        assert_eq!(request.headers()["x-forwarded-for"], "127.0.0.1");
        assert_eq!(request.headers()["user-agent"], "curl/8");
        assert_eq!(request.body().as_ref(), br#"{"a":"\u00e9"}"#);
        let Some(RequestContext::ApiGatewayV2(context)) = request.request_context_ref() else {
            panic!("not an API Gateway v2 request");
        };
        assert_eq!(context.request_id.as_deref(), Some("abc123"));
        assert_eq!(
            context.route_key.as_deref(),
            Some("GET /tickets/{reference}")
        );
        assert_eq!(context.stage.as_deref(), Some("$default"));
        assert_eq!(context.http.source_ip.as_deref(), Some("127.0.0.1"));
        let jwt = context.authorizer.as_ref().unwrap().jwt.as_ref().unwrap();
        assert_eq!(jwt.claims["sub"], "player-1");
        assert_eq!(jwt.claims["cognito:groups"], "[agent supervisor]");

        // The shared edge reads the caller from it exactly as in Lambda.
        let caller = guichet_edge::http::actor_of(&request).unwrap();
        assert!(caller.is_staff());

        // A binary body travels base64-encoded and arrives as the same bytes.
        let binary = [0xff, 0x00, 0xfe];
        let event = build_event(&EventInput {
            body: &binary,
            ..input
        });
        assert_eq!(event["isBase64Encoded"], true);
        let request = lambda_http::request::from_str(&event.to_string()).unwrap();
        assert_eq!(request.body().as_ref(), binary);
    }

    /// A gateway whose desk points at an address nothing listens on: enough for everything that
    /// is answered before, or without, touching DynamoDB.
    async fn offline_gateway(key: DevKey) -> (SocketAddr, JoinHandle<()>) {
        gateway_on("http://127.0.0.1:9", key, INTEGRATION_TIMEOUT).await
    }

    /// A gateway whose services all talk to `endpoint`, answering 503 after `timeout`.
    async fn gateway_on(
        endpoint: &str,
        key: DevKey,
        timeout: Duration,
    ) -> (SocketAddr, JoinHandle<()>) {
        let gateway = gateway_with(endpoint, key).with_integration_timeout(timeout);
        serve(Arc::new(gateway), 0).await.unwrap()
    }

    /// The offline gateway (see [`offline_gateway`]), not yet serving.
    fn offline_services_gateway(key: DevKey) -> Gateway {
        gateway_with("http://127.0.0.1:9", key)
    }

    /// A gateway whose services all talk to `endpoint`.
    fn gateway_with(endpoint: &str, key: DevKey) -> Gateway {
        let sdk = aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("ca-central-1"))
            // Signed like any request, so that a reachable endpoint is really asked.
            .credentials_provider(aws_sdk_dynamodb::config::SharedCredentialsProvider::new(
                aws_sdk_dynamodb::config::Credentials::new(
                    "testing", "testing", None, None, "test",
                ),
            ))
            .endpoint_url(endpoint)
            .build();
        let config = guichet_edge::config::Config {
            tickets_table: "offline".to_owned(),
            idempotency_ttl: jiff::SignedDuration::from_hours(24),
        };
        let desk = guichet_aws::wiring::desk(&config, &sdk).unwrap();
        let kyc = guichet_edge::config::KycConfig {
            tickets_table: "offline".to_owned(),
            documents_bucket: "offline".to_owned(),
            max_resubmissions: 2,
        };
        let verification = guichet_aws::wiring::verification(&kyc, &sdk);
        let attachments = guichet_aws::wiring::attachments(
            &guichet_edge::config::AttachmentsConfig {
                tickets_table: "offline".to_owned(),
                documents_bucket: "offline".to_owned(),
            },
            &sdk,
        );
        let template = Template::load(&Template::default_path()).unwrap();
        let services = Services {
            desk,
            verification,
            attachments,
            incidents: guichet_aws::wiring::incidents(
                "offline",
                guichet_core::incidents::service::IncidentConfig {
                    threshold: 3,
                    window: jiff::SignedDuration::from_mins(60),
                },
                &sdk,
            ),
            hours: guichet_core::calendar::hours::DeskHours::bundled().unwrap(),
            handoff_key: guichet_core::handoffs::signature::HandoffKey::parse(
                b"the offline gateway's hand-off secret, 32 bytes",
            )
            .unwrap(),
            mailroom: guichet_aws::dynamo::mail::DynamoMailroom::new(
                aws_sdk_dynamodb::Client::new(&sdk),
                "offline",
            ),
            saved_replies: guichet_core::tickets::saved_replies::SavedReplies::bundled().unwrap(),
        };
        Gateway::new(&template, services, key).unwrap()
    }

    fn token(key: &DevKey, groups: &[&str]) -> String {
        let mut claims = sample_claims();
        claims.insert("cognito:groups".to_owned(), json!(groups));
        claims.insert(
            "exp".to_owned(),
            json!(jiff::Timestamp::now().as_second() + 600),
        );
        key.issue(&claims)
    }

    #[tokio::test]
    async fn answers_what_api_gateway_answers_by_itself() {
        let key = DevKey::generate().unwrap();
        let (addr, server) = offline_gateway(key.clone()).await;
        let bearer = format!("Bearer {}", token(&key, &["player"]));

        for (method, path) in [
            ("GET", "/nowhere"),
            ("DELETE", "/tickets"),
            ("PUT", "/tickets/X"),
        ] {
            let response = client::send(addr, method, path, &[], None).await.unwrap();
            assert_eq!(response.status, 404, "{method} {path}");
            assert_eq!(
                response.json(),
                json!({ "error": "not_found", "message": "Not Found" })
            );
            assert!(response.header("apigw-requestid").is_some());
        }

        let other_key = DevKey::generate().unwrap();
        let forged = format!("Bearer {}", token(&other_key, &["player"]));
        for authorization in [
            None,
            Some("Bearer"),
            Some("Basic abc"),
            Some(forged.as_str()),
        ] {
            let headers: Vec<(&str, &str)> = authorization
                .map(|a| ("authorization", a))
                .into_iter()
                .collect();
            let response = client::send(addr, "GET", "/tickets", &headers, None)
                .await
                .unwrap();
            assert_eq!(response.status, 401, "{authorization:?}");
            assert_eq!(
                response.json(),
                json!({ "error": "unauthenticated", "message": "Unauthorized" })
            );
            assert_eq!(response.header("www-authenticate"), Some("Bearer"));
        }

        let too_big = vec![b'a'; MAX_REQUEST_BODY_BYTES + 1];
        let response = client::send(
            addr,
            "POST",
            "/tickets",
            &[
                ("authorization", &bearer),
                ("content-type", "application/json"),
            ],
            Some(too_big),
        )
        .await
        .unwrap();
        assert_eq!(response.status, 413);
        assert_eq!(
            response.json(),
            json!({
                "error": "payload_too_large",
                "message": "Request Entity Too Large",
                "field": "body",
                "rule": "max_bytes",
                "max": MAX_REQUEST_BODY_BYTES,
            })
        );

        server.abort();
    }

    /// A chunked body declares no length: the limit must hold while reading it.
    #[tokio::test]
    async fn refuses_an_oversized_chunked_body() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};

        let key = DevKey::generate().unwrap();
        let (addr, server) = offline_gateway(key.clone()).await;
        let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (mut reader, mut writer) = stream.into_split();
        let head = format!(
            "POST /tickets HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {}\r\n\
             content-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n",
            token(&key, &["player"])
        );
        let upload = tokio::spawn(async move {
            writer.write_all(head.as_bytes()).await?;
            let chunk = vec![b'a'; 1024 * 1024];
            for _ in 0..11 {
                writer
                    .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                    .await?;
                writer.write_all(&chunk).await?;
                writer.write_all(b"\r\n").await?;
            }
            writer.write_all(b"0\r\n\r\n").await
        });
        let mut response = Vec::new();
        // The server may close before the upload ends; what it sent first is what counts.
        let _ = reader.read_to_end(&mut response).await;
        let _ = upload.await;
        let response = String::from_utf8_lossy(&response);
        assert!(response.starts_with("HTTP/1.1 413 "), "{response}");
        assert!(
            response.contains(r#""error":"payload_too_large""#),
            "{response}"
        );
        server.abort();
    }

    /// Sends the request, checks the status, returns the JSON answer.
    async fn answer(
        addr: SocketAddr,
        (method, path): (&str, &str),
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
        status: u16,
    ) -> Value {
        let body = body.map(<[u8]>::to_vec);
        let response = client::send(addr, method, path, headers, body)
            .await
            .unwrap();
        assert_eq!(
            response.status,
            status,
            "{method} {path}: {:?}",
            response.json()
        );
        response.json()
    }

    #[tokio::test]
    async fn runs_the_lambda_handlers_in_process() {
        let key = DevKey::generate().unwrap();
        let (addr, server) = offline_gateway(key.clone()).await;

        // The handler's own checks run (these never reach DynamoDB): the shared edge's 415...
        let bearer = format!("Bearer {}", token(&key, &["player"]));
        let text = [
            ("authorization", bearer.as_str()),
            ("content-type", "text/plain"),
        ];
        let response = client::send(addr, "POST", "/tickets", &text, Some(b"hello".to_vec()));
        let response = response.await.unwrap();
        assert_eq!(response.status, 415, "{:?}", response.json());
        assert!(response
            .header("content-type")
            .is_some_and(|c| c.starts_with("application/json")));

        // ...its role check, fed by the claims the gateway rendered (a bare token works too)...
        let bare = token(&key, &["verification"]);
        let json = [
            ("authorization", bare.as_str()),
            ("content-type", "application/json"),
        ];
        answer(addr, ("POST", "/tickets"), &json, Some(b"{}"), 403).await;

        // ...and its validation of the path parameter.
        let path = ("GET", "/tickets/not%20a%20reference");
        answer(addr, path, &[("authorization", &bearer)], None, 400).await;

        server.abort();
    }

    /// The identity-verification functions are served from the template's routes too, each
    /// with the route key it is dispatched on.
    #[tokio::test]
    async fn runs_the_verification_handlers_in_process() {
        let key = DevKey::generate().unwrap();
        let (addr, server) = offline_gateway(key.clone()).await;
        let [player, reviewer, service] = ["player", "verification", "service"]
            .map(|group| format!("Bearer {}", token(&key, &[group])));
        let json = ("content-type", "application/json");

        // Role checks, before any store is touched.
        for (method, path) in [
            ("POST", "/verification/cases"),
            ("GET", "/verification/cases/VC-7K2M9Q4XW3BD"),
            ("GET", "/verification/reviews"),
            (
                "POST",
                "/verification/cases/VC-7K2M9Q4XW3BD/documents/government_id/view",
            ),
            ("POST", "/verification/cases/VC-7K2M9Q4XW3BD/decision"),
            ("GET", "/players/player-1/eligibility?action=withdrawal"),
        ] {
            let headers = [("authorization", player.as_str()), json];
            answer(addr, (method, path), &headers, Some(b"{}"), 403).await;
        }
        let case = ("GET", "/verification/case");
        answer(addr, case, &[("authorization", &reviewer)], None, 403).await;

        // Validation, dispatched on the route key the gateway put in the event.
        let documents = &br#"{"kind":"government_id","content_type":"image/gif","size":10}"#[..];
        let decision = &br#"{"version":1,"decision":"maybe"}"#[..];
        let cases = [
            (
                &reviewer,
                ("GET", "/verification/reviews?queue=urgent"),
                None,
                "queue",
            ),
            (
                &player,
                ("POST", "/verification/documents"),
                Some(documents),
                "content_type",
            ),
            (
                &reviewer,
                ("POST", "/verification/cases/VC-7K2M9Q4XW3BD/decision"),
                Some(decision),
                "decision",
            ),
            (
                &service,
                ("GET", "/players/player-1/eligibility?action=deposit"),
                None,
                "action",
            ),
        ];
        for (bearer, request, body, field) in cases {
            // A content type only with a body, as a client sends it.
            let headers = [("authorization", bearer.as_str()), json];
            let headers = &headers[..if body.is_some() { 2 } else { 1 }];
            let refused = answer(addr, request, headers, body, 400).await;
            assert_eq!(refused["field"], field, "{request:?}");
        }

        server.abort();
    }

    /// Sends raw bytes and reads the whole answer: what hyper would have refused never reaches
    /// a client that builds well-formed requests.
    async fn raw_exchange(addr: SocketAddr, request: Vec<u8>) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};

        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        stream.write_all(&request).await.unwrap();
        let mut response = Vec::new();
        let _ = tokio::time::timeout(client::TIMEOUT, stream.read_to_end(&mut response)).await;
        String::from_utf8_lossy(&response).into_owned()
    }

    /// The status line, the headers (lower-case names) and the body as JSON.
    fn parse_raw(response: &str) -> (String, Vec<(String, String)>, Value) {
        let (head, body) = response.split_once("\r\n\r\n").unwrap_or((response, ""));
        let mut lines = head.split("\r\n");
        let status = lines.next().unwrap_or("").to_owned();
        let headers = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        (
            status,
            headers,
            serde_json::from_str(body).unwrap_or(Value::Null),
        )
    }

    #[tokio::test]
    async fn what_the_http_parser_refuses_is_answered_in_the_error_shape() {
        let key = DevKey::generate().unwrap();
        let (addr, server) = offline_gateway(key.clone()).await;

        // A path over hyper's 64 KiB limit: hyper alone answers an empty 414.
        let long_path = format!("/tickets/{}", "A".repeat(70_000));
        let request = format!("GET {long_path} HTTP/1.1\r\nhost: {addr}\r\n\r\n");
        let (status, headers, body) = parse_raw(&raw_exchange(addr, request.into_bytes()).await);
        assert!(status.starts_with("HTTP/1.1 414 "), "{status}");
        assert_eq!(body["error"], "uri_too_long");
        assert_eq!(body["field"], "path");
        assert!(body["message"].is_string());
        assert!(headers.contains(&("content-type".to_owned(), "application/json".to_owned())));

        // A NUL byte in a header value: hyper alone answers an empty 400.
        let request = format!(
            "POST /tickets HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {}\r\n\
             content-type: application/json\r\nidempotency-key: abcd\0efgh\r\n\
             content-length: 2\r\n\r\n{{}}",
            token(&key, &["player"])
        );
        let (status, _, body) = parse_raw(&raw_exchange(addr, request.into_bytes()).await);
        assert!(status.starts_with("HTTP/1.1 400 "), "{status}");
        assert_eq!(body["error"], "bad_request");
        assert_eq!(body["field"], "idempotency-key");

        // Two different lengths: hyper alone answers an empty 400.
        let request = format!(
            "POST /tickets HTTP/1.1\r\nhost: {addr}\r\ncontent-length: 2\r\n\
             content-length: 3\r\n\r\n{{}}"
        );
        let (status, _, body) = parse_raw(&raw_exchange(addr, request.into_bytes()).await);
        assert!(status.starts_with("HTTP/1.1 400 "), "{status}");
        assert_eq!(body["field"], "Content-Length");

        // A well-formed request after them is served as before.
        let response = client::send(addr, "GET", "/nowhere", &[], None)
            .await
            .unwrap();
        assert_eq!(response.status, 404);
        server.abort();
    }

    #[tokio::test]
    async fn serves_the_api_description_without_a_token() {
        let key = DevKey::generate().unwrap();
        let (addr, server) = offline_gateway(key).await;
        let response = client::send(addr, "GET", crate::openapi::SERVED_AT, &[], None)
            .await
            .unwrap();
        assert_eq!(response.status, 200);
        assert_eq!(response.json(), crate::openapi::document());
        server.abort();
    }

    #[tokio::test]
    async fn a_handler_out_of_time_is_a_503_in_the_error_shape_with_retry_after() {
        // DynamoDB that accepts connections and never answers: the handler waits forever.
        let silent = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .unwrap();
        let endpoint = format!("http://{}", silent.local_addr().unwrap());
        let key = DevKey::generate().unwrap();
        let (addr, server) = gateway_on(&endpoint, key.clone(), Duration::from_millis(300)).await;
        let bearer = format!("Bearer {}", token(&key, &["player"]));
        let response = client::send(addr, "GET", "/tickets", &[("authorization", &bearer)], None)
            .await
            .unwrap();
        assert_eq!(response.status, 503, "{:?}", response.json());
        assert_eq!(
            response.json(),
            json!({ "error": "unavailable", "message": "Service Unavailable" })
        );
        assert_eq!(
            response.header("retry-after"),
            Some(RETRY_AFTER_SECONDS.to_string().as_str())
        );
        server.abort();
        drop(silent);
    }

    /// A web root with the pages' layout, beside a file it must never serve; removed on drop.
    struct WebRoot {
        base: PathBuf,
    }

    impl WebRoot {
        fn new() -> WebRoot {
            let base = std::env::temp_dir().join(format!("guichet-site-{}", new_request_id()));
            let site = base.join("site");
            for (file, text) in [
                ("secret.txt", "outside the web root"),
                ("site/index.html", "<!doctype html><title>Guichet</title>"),
                (
                    "site/console/index.html",
                    "<!doctype html><title>Console</title>",
                ),
                ("site/assets/app.js", "console.log(1)"),
                ("site/assets/app.css", "body{}"),
                ("site/assets/logo.svg", "<svg/>"),
                ("site/assets/font.woff2", "wOF2"),
            ] {
                let path = base.join(file);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(path, text).unwrap();
            }
            #[cfg(unix)]
            std::os::unix::fs::symlink(base.join("secret.txt"), site.join("assets/link.txt"))
                .unwrap();
            WebRoot { base }
        }

        fn site(&self) -> PathBuf {
            self.base.join("site")
        }
    }

    impl Drop for WebRoot {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.base);
        }
    }

    const EMULATOR: &str = "http://127.0.0.1:4566";

    /// `GET path` without a token.
    async fn get(addr: SocketAddr, path: &str) -> client::ClientResponse {
        client::send(addr, "GET", path, &[], None).await.unwrap()
    }

    /// The offline gateway serving `root`'s pages, uploads going to the emulator.
    async fn site_gateway(key: DevKey, root: PathBuf) -> (SocketAddr, JoinHandle<()>) {
        let template = Template::load(&Template::default_path()).unwrap();
        let site = Site::new(&template, root, EMULATOR).unwrap();
        let gateway = offline_services_gateway(key).with_site(site);
        serve(Arc::new(gateway), 0).await.unwrap()
    }

    /// The template's content security policy with the emulator where the documents bucket is.
    fn local_csp() -> String {
        let template = Template::load(&Template::default_path()).unwrap();
        let headers = template
            .security_headers(SITE_STACK, ACCOUNT_ID, SITE_REGION)
            .unwrap();
        let csp = &headers
            .iter()
            .find(|(name, _)| name == "content-security-policy")
            .unwrap()
            .1;
        let bucket =
            format!("https://{SITE_STACK}-documents-{ACCOUNT_ID}.s3.{SITE_REGION}.amazonaws.com");
        assert!(csp.contains(&bucket), "{csp}");
        csp.replace(&bucket, EMULATOR)
    }

    #[test]
    fn page_paths_never_leave_the_web_root() {
        let root = WebRoot::new();
        let site = root.site();
        let file = |path: &str| {
            page_file(&site, path).map(|f| {
                f.strip_prefix(site.canonicalize().unwrap())
                    .unwrap()
                    .display()
                    .to_string()
            })
        };
        assert_eq!(file("/").as_deref(), Some("index.html"));
        assert_eq!(file("/console").as_deref(), Some("console/index.html"));
        assert_eq!(file("/console/").as_deref(), Some("console/index.html"));
        assert_eq!(file("/assets/app.js").as_deref(), Some("assets/app.js"));
        assert_eq!(file("/assets/app%2Ejs").as_deref(), Some("assets/app.js"));
        for path in [
            "/../secret.txt",
            "/assets/../../secret.txt",
            "/%2e%2e/secret.txt",
            "/assets/..%2f..%2fsecret.txt",
            "/assets%2f..%2f..%2fsecret.txt",
            "/..%5csecret.txt",
            "//secret.txt",
            "/%2fetc/passwd",
            "/C:/secret.txt",
            "/./index.html",
            "/assets/link.txt",
            "/assets/%00.js",
            "/assets/%ff.js",
            "/assets",
            "/missing.html",
            "index.html",
            "",
        ] {
            assert_eq!(file(path), None, "{path}");
        }
        // No web root at all: nothing is a page.
        assert_eq!(page_file(&root.base.join("absent"), "/"), None);
    }

    #[tokio::test]
    async fn serves_the_pages_with_the_templates_headers() {
        let root = WebRoot::new();
        let key = DevKey::generate().unwrap();
        let (addr, server) = site_gateway(key, root.site()).await;
        let csp = local_csp();
        for (method, path, content_type, body) in [
            (
                "GET",
                "/",
                "text/html; charset=utf-8",
                "<!doctype html><title>Guichet</title>",
            ),
            (
                "GET",
                "/index.html",
                "text/html; charset=utf-8",
                "<!doctype html><title>Guichet</title>",
            ),
            (
                "GET",
                "/console",
                "text/html; charset=utf-8",
                "<!doctype html><title>Console</title>",
            ),
            (
                "GET",
                "/console/",
                "text/html; charset=utf-8",
                "<!doctype html><title>Console</title>",
            ),
            (
                "GET",
                "/assets/app.js",
                "text/javascript; charset=utf-8",
                "console.log(1)",
            ),
            (
                "GET",
                "/assets/app.css",
                "text/css; charset=utf-8",
                "body{}",
            ),
            ("GET", "/assets/logo.svg", "image/svg+xml", "<svg/>"),
            ("GET", "/assets/font.woff2", "font/woff2", "wOF2"),
            (
                "HEAD",
                "/assets/app.js",
                "text/javascript; charset=utf-8",
                "",
            ),
        ] {
            let response = client::send(addr, method, path, &[], None).await.unwrap();
            assert_eq!(response.status, 200, "{method} {path}");
            assert_eq!(
                response.header("content-type"),
                Some(content_type),
                "{path}"
            );
            assert_eq!(
                String::from_utf8_lossy(&response.body),
                body,
                "{method} {path}"
            );
            assert_eq!(
                response.header("content-security-policy"),
                Some(csp.as_str())
            );
            assert_eq!(response.header("x-content-type-options"), Some("nosniff"));
            assert_eq!(response.header("x-frame-options"), Some("DENY"));
            assert_eq!(response.header("referrer-policy"), Some("no-referrer"));
            assert_eq!(
                response.header("permissions-policy"),
                Some("camera=(), microphone=(), geolocation=()")
            );
            // Plain HTTP locally: no HSTS.
            assert_eq!(response.header("strict-transport-security"), None);
        }
        assert!(
            csp.contains("connect-src 'self' http://127.0.0.1:4566;"),
            "{csp}"
        );
        assert!(!csp.contains("amazonaws.com"), "{csp}");

        // Missing, outside the root, or not read: the API's 404, with the headers too.
        for (method, path) in [
            ("GET", "/missing.js"),
            ("GET", "/../secret.txt"),
            ("GET", "/%2e%2e/secret.txt"),
            ("GET", "/assets/..%2f..%2fsecret.txt"),
            ("POST", "/index.html"),
            ("DELETE", "/"),
        ] {
            let response = client::send(addr, method, path, &[], None).await.unwrap();
            assert_eq!(response.status, 404, "{method} {path}");
            assert_eq!(
                response.json(),
                json!({ "error": "not_found", "message": "Not Found" })
            );
            assert_eq!(
                response.header("content-security-policy"),
                Some(csp.as_str())
            );
        }
        server.abort();
    }

    #[tokio::test]
    async fn routes_api_paths_as_the_distribution_does() {
        let key = DevKey::generate().unwrap();
        let root = WebRoot::new();
        let (addr, server) = site_gateway(key.clone(), root.site()).await;
        let bearer = format!("Bearer {}", token(&key, &["player"]));

        // The same answer under /api as at the root: the token is checked, then the handler's
        // own validation runs on the path without the prefix.
        for path in ["/tickets", "/api/tickets"] {
            let response = get(addr, path).await;
            assert_eq!(response.status, 401, "{path}");
            assert_eq!(response.header("www-authenticate"), Some("Bearer"));
        }
        for path in [
            "/tickets/not%20a%20reference",
            "/api/tickets/not%20a%20reference",
        ] {
            let refused = answer(
                addr,
                ("GET", path),
                &[("authorization", &bearer)],
                None,
                400,
            )
            .await;
            assert_eq!(refused["field"], "reference", "{path}");
        }
        // The distribution's headers on what goes through it; the API's own address has none.
        let through = get(addr, "/api/tickets").await;
        assert_eq!(through.header("x-frame-options"), Some("DENY"));
        let direct = get(addr, "/tickets").await;
        assert_eq!(direct.header("x-frame-options"), None);

        // Under /api, what no route takes is the API's 404, never a page.
        for (method, path) in [
            ("GET", "/api"),
            ("GET", "/api/"),
            ("GET", "/api/index.html"),
            ("GET", "/api/nowhere"),
            ("DELETE", "/api/tickets"),
        ] {
            let response = client::send(addr, method, path, &[], None).await.unwrap();
            assert_eq!(response.status, 404, "{method} {path}");
            assert_eq!(response.json()["error"], "not_found");
        }
        // Not a prefix of a longer name.
        let response = get(addr, "/apitickets").await;
        assert_eq!(response.status, 404);
        let response = get(addr, "/api/openapi.json").await;
        assert_eq!(response.status, 200);
        assert_eq!(response.json(), crate::openapi::document());
        server.abort();
    }

    #[tokio::test]
    async fn without_a_web_root_the_api_still_answers() {
        let key = DevKey::generate().unwrap();
        let root = WebRoot::new();
        let (addr, server) = site_gateway(key, root.base.join("absent")).await;
        for path in ["/", "/console/", "/assets/app.js"] {
            let response = get(addr, path).await;
            assert_eq!(response.status, 404, "{path}");
        }
        for path in ["/api/tickets", "/tickets"] {
            let response = get(addr, path).await;
            assert_eq!(response.status, 401, "{path}");
        }
        let response = get(addr, "/config.json").await;
        assert_eq!(response.status, 200);
        server.abort();
    }

    #[tokio::test]
    async fn serves_the_site_config_and_the_development_identities() {
        let key = DevKey::generate().unwrap();
        let root = WebRoot::new();
        let (addr, server) = site_gateway(key.clone(), root.site()).await;

        let config = get(addr, "/config.json").await;
        assert_eq!(config.status, 200);
        assert_eq!(config.json(), json!({ "api": "/api", "devTokens": true }));
        assert_eq!(config.header("cache-control"), Some("no-store"));
        assert!(config.header("content-security-policy").is_some());

        let response = get(addr, "/dev/tokens").await;
        assert_eq!(response.status, 200);
        let identities = response.json();
        let identities = identities.as_array().unwrap();
        let subs: Vec<&str> = identities
            .iter()
            .map(|i| i["sub"].as_str().unwrap())
            .collect();
        assert_eq!(
            subs,
            [
                "player-1",
                "player-2",
                "agent-technical",
                "agent-payments",
                "supervisor-1",
                "reviewer-1",
                "reviewer-senior"
            ]
        );
        let now = jiff::Timestamp::now().as_second();
        for identity in identities {
            assert!(identity["label"].as_str().is_some_and(|l| !l.is_empty()));
            // Signed with the gateway's key, for the groups it lists, for 12 hours.
            let claims = key.verify(identity["token"].as_str().unwrap()).unwrap();
            assert_eq!(claims["sub"], identity["sub"]);
            assert_eq!(claims["cognito:groups"], identity["groups"]);
            let lifetime = claims["exp"].as_i64().unwrap() - now;
            assert!(
                (12 * 3600 - 60..=12 * 3600).contains(&lifetime),
                "{lifetime}"
            );
        }
        let by_sub = |sub: &str| identities.iter().find(|i| i["sub"] == sub).unwrap();
        assert_eq!(
            by_sub("agent-technical")["groups"],
            json!(["agent", "team:technical"])
        );
        assert_eq!(
            by_sub("agent-payments")["groups"],
            json!(["agent", "team:payments"])
        );
        assert_eq!(
            by_sub("supervisor-1")["groups"],
            json!(["agent", "supervisor"])
        );
        assert_eq!(
            by_sub("reviewer-senior")["groups"],
            json!(["verification", "verification_senior"])
        );
        assert_eq!(by_sub("player-1")["language"], "fr");
        let player = key
            .verify(by_sub("player-1")["token"].as_str().unwrap())
            .unwrap();
        assert_eq!(player["email"], "player-1@example.test");

        // The handlers read them as the identity provider's: a team's agent reads its queue.
        let bearer = format!("Bearer {}", by_sub("player-2")["token"].as_str().unwrap());
        let refused = client::send(
            addr,
            "GET",
            "/api/queues/technical",
            &[("authorization", &bearer)],
            None,
        )
        .await
        .unwrap();
        assert_eq!(refused.status, 403, "{:?}", refused.json());

        // Another key's gateway does not take them.
        let other = DevKey::generate().unwrap();
        assert!(other
            .verify(by_sub("player-1")["token"].as_str().unwrap())
            .is_err());
        server.abort();
    }
}
