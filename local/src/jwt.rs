//! The local development signing key and the HS256 tokens the local gateway accepts.
//!
//! In AWS, API Gateway's JWT authorizer verifies the identity provider's tokens before a
//! function runs. Locally there is no identity provider, so the gateway plays the authorizer
//! with a symmetric key that exists only on the developer's machine: generated at first use
//! under `.local/` (git-ignored), never committed, never shared with any deployed stack. The
//! checks mirror the authorizer's (`exp`, `nbf`, `iat`, `iss`, `aud`) so that a request refused
//! in AWS is refused locally too.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{Map, Value};
use sha2::Sha256;

/// `iss` of every dev token; the gateway refuses any other issuer.
pub const DEV_ISSUER: &str = "guichet-local";
/// `aud` of every dev token; the gateway refuses tokens meant for another audience.
pub const DEV_AUDIENCE: &str = "guichet";

const KEY_BYTES: usize = 32;
const ALGORITHM: &str = "HS256";

type HmacSha256 = Hmac<Sha256>;

/// Why a key could not be loaded or a token was refused. Token variants carry no value taken
/// from the token, so they can be logged without leaking claims.
#[derive(Debug, thiserror::Error)]
pub enum JwtError {
    #[error("cannot {action} the dev signing key {}", path.display())]
    KeyIo {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the dev signing key {} is not {KEY_BYTES} hex-encoded bytes; delete it to generate a new one", path.display())]
    KeyFormat { path: PathBuf },
    #[error("the system random source failed")]
    Random(#[source] getrandom::Error),
    #[error("the token is not three base64url parts: {0}")]
    Malformed(&'static str),
    #[error("the token's algorithm is not HS256")]
    UnsupportedAlgorithm,
    #[error("the token's header lists critical extensions this verifier does not understand")]
    CriticalExtension,
    #[error("the token's signature does not match")]
    BadSignature,
    #[error("the token has no `{0}` claim")]
    MissingClaim(&'static str),
    #[error("the token's `{0}` claim has the wrong type")]
    InvalidClaim(&'static str),
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token was issued in the future")]
    IssuedInFuture,
    #[error("the token was not issued by {DEV_ISSUER}")]
    WrongIssuer,
    #[error("the token is not meant for {DEV_AUDIENCE}")]
    WrongAudience,
}

/// The symmetric key shared by `dev-token` (which signs) and the local gateway (which verifies).
#[derive(Clone)]
pub struct DevKey {
    bytes: [u8; KEY_BYTES],
}

// The key must never end up in a log line or a test failure message.
impl std::fmt::Debug for DevKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DevKey(..)")
    }
}

impl DevKey {
    /// `<workspace root>/.local/dev-jwt.key`, fixed at compile time so that the gateway, the
    /// `dev-token` tool and the tests share one key whatever their working directory.
    pub fn default_path() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join(".local")
            .join("dev-jwt.key")
    }

    /// A key that lives only in memory (tests, throwaway gateways).
    pub fn from_bytes(bytes: [u8; KEY_BYTES]) -> DevKey {
        DevKey { bytes }
    }

    /// A fresh random key that lives only in memory.
    pub fn generate() -> Result<DevKey, JwtError> {
        let mut bytes = [0u8; KEY_BYTES];
        getrandom::fill(&mut bytes).map_err(JwtError::Random)?;
        Ok(DevKey { bytes })
    }

    /// Reads the key at `path`, generating it (mode 0600) if there is none yet.
    ///
    /// Several processes may start at once (the gateway and a test run, say); they must all end
    /// up with the same key, so the new key is written to a private temporary file and then
    /// hard-linked into place, which fails atomically if another process won the race, in which
    /// case the winner's key is read instead. Nobody ever reads a half-written key file.
    pub fn load_or_create(path: &Path) -> Result<DevKey, JwtError> {
        match std::fs::read_to_string(path) {
            Ok(text) => return Self::parse_file(path, &text),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(JwtError::KeyIo {
                    action: "read",
                    path: path.to_path_buf(),
                    source,
                })
            }
        }
        let io = |action: &'static str, path: &Path| {
            let path = path.to_path_buf();
            move |source| JwtError::KeyIo {
                action,
                path,
                source,
            }
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io("create the directory of", path))?;
        }
        let key = Self::generate()?;
        let mut suffix = [0u8; 8];
        getrandom::fill(&mut suffix).map_err(JwtError::Random)?;
        let temporary = path.with_extension(format!("tmp-{}", to_hex(&suffix)));
        let written = write_private(&temporary, format!("{}\n", to_hex(&key.bytes)).as_bytes())
            .map_err(io("write", &temporary));
        let linked = written.and_then(|()| match std::fs::hard_link(&temporary, path) {
            Ok(()) => Ok(true),
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
            Err(source) => Err(JwtError::KeyIo {
                action: "install",
                path: path.to_path_buf(),
                source,
            }),
        });
        // Best effort: a leftover temporary file holds a key nobody uses.
        let _ = std::fs::remove_file(&temporary);
        if linked? {
            Ok(key)
        } else {
            let text = std::fs::read_to_string(path).map_err(io("read", path))?;
            Self::parse_file(path, &text)
        }
    }

    fn parse_file(path: &Path, text: &str) -> Result<DevKey, JwtError> {
        let bytes = from_hex(text.trim())
            .and_then(|bytes| <[u8; KEY_BYTES]>::try_from(bytes).ok())
            .ok_or_else(|| JwtError::KeyFormat {
                path: path.to_path_buf(),
            })?;
        Ok(DevKey { bytes })
    }

    fn mac(&self) -> HmacSha256 {
        // HMAC takes keys of any length; the error case cannot happen.
        match HmacSha256::new_from_slice(&self.bytes) {
            Ok(mac) => mac,
            Err(_) => unreachable!("HMAC accepts keys of any length"),
        }
    }

    /// Signs `claims` as an HS256 JWT. The claims are taken as given: callers set `iss`, `aud`,
    /// `exp` (see `dev-token`), so that tests can also mint deliberately invalid tokens.
    pub fn issue(&self, claims: &Map<String, Value>) -> String {
        let header = serde_json::json!({ "alg": ALGORITHM, "typ": "JWT" });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(Value::Object(claims.clone()).to_string())
        );
        let mut mac = self.mac();
        mac.update(signing_input.as_bytes());
        let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{signing_input}.{signature}")
    }

    /// Verifies `token` as API Gateway's JWT authorizer would at `now_unix` (seconds), and
    /// returns its claims.
    ///
    /// The algorithm is pinned to HS256 before anything else is looked at, so `alg: none` or an
    /// algorithm switch can never select a weaker check; the signature is compared in constant
    /// time; claims are only read once the signature holds.
    pub fn verify(&self, token: &str, now_unix: i64) -> Result<Map<String, Value>, JwtError> {
        let mut parts = token.split('.');
        let (Some(encoded_header), Some(encoded_payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JwtError::Malformed("expected header.payload.signature"));
        };

        let header = decode_object(encoded_header, "the header is not a base64url JSON object")?;
        if header.get("alg").and_then(Value::as_str) != Some(ALGORITHM) {
            return Err(JwtError::UnsupportedAlgorithm);
        }
        // RFC 7515 §4.1.11: a verifier must refuse critical extensions it does not implement.
        if header.contains_key("crit") {
            return Err(JwtError::CriticalExtension);
        }

        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| JwtError::Malformed("the signature is not base64url"))?;
        let mut mac = self.mac();
        mac.update(encoded_header.as_bytes());
        mac.update(b".");
        mac.update(encoded_payload.as_bytes());
        mac.verify_slice(&signature)
            .map_err(|_| JwtError::BadSignature)?;

        let claims = decode_object(
            encoded_payload,
            "the payload is not a base64url JSON object",
        )?;
        let exp = numeric_date(&claims, "exp")?.ok_or(JwtError::MissingClaim("exp"))?;
        if now_unix >= exp {
            return Err(JwtError::Expired);
        }
        if numeric_date(&claims, "nbf")?.is_some_and(|nbf| now_unix < nbf) {
            return Err(JwtError::NotYetValid);
        }
        if numeric_date(&claims, "iat")?.is_some_and(|iat| now_unix < iat) {
            return Err(JwtError::IssuedInFuture);
        }
        match claims.get("iss") {
            None => return Err(JwtError::MissingClaim("iss")),
            Some(Value::String(iss)) if iss == DEV_ISSUER => {}
            Some(Value::String(_)) => return Err(JwtError::WrongIssuer),
            Some(_) => return Err(JwtError::InvalidClaim("iss")),
        }
        match claims.get("aud") {
            None => return Err(JwtError::MissingClaim("aud")),
            Some(Value::String(aud)) if aud == DEV_AUDIENCE => {}
            Some(Value::Array(auds)) if auds.iter().any(|a| a.as_str() == Some(DEV_AUDIENCE)) => {}
            Some(Value::String(_) | Value::Array(_)) => return Err(JwtError::WrongAudience),
            Some(_) => return Err(JwtError::InvalidClaim("aud")),
        }
        Ok(claims)
    }
}

/// Renders claims the way API Gateway's JWT authorizer hands them to a function
/// (`requestContext.authorizer.jwt.claims`): every value a string, an array as `[a b]`, an
/// object as its JSON text. The handlers parse exactly this shape, so the local path must not
/// be kinder than AWS.
pub fn claims_for_authorizer(claims: &Map<String, Value>) -> HashMap<String, String> {
    claims
        .iter()
        .map(|(name, value)| (name.clone(), render_claim(value)))
        .collect()
}

fn render_claim(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(render_claim).collect();
            format!("[{}]", items.join(" "))
        }
        // Numbers, booleans and null print as their JSON text; objects too.
        other => other.to_string(),
    }
}

/// A NumericDate claim: seconds since the epoch, possibly fractional (RFC 7519 §2).
fn numeric_date(claims: &Map<String, Value>, name: &'static str) -> Result<Option<i64>, JwtError> {
    let Some(value) = claims.get(name) else {
        return Ok(None);
    };
    let seconds = value
        .as_i64()
        .or_else(|| {
            value
                .as_f64()
                .filter(|f| f.is_finite() && f.abs() < 1e15)
                // Rounded down: a fractional `exp` expires at the start of its second.
                .map(|f| f.floor() as i64)
        })
        .ok_or(JwtError::InvalidClaim(name))?;
    Ok(Some(seconds))
}

fn decode_object(part: &str, problem: &'static str) -> Result<Map<String, Value>, JwtError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| JwtError::Malformed(problem))?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(JwtError::Malformed(problem)),
    }
}

fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn from_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_750_000_000;

    fn key() -> DevKey {
        DevKey::from_bytes([7; KEY_BYTES])
    }

    fn claims(extra: Value) -> Map<String, Value> {
        let mut claims = json!({
            "sub": "player-123",
            "cognito:groups": ["player"],
            "iss": DEV_ISSUER,
            "aud": DEV_AUDIENCE,
            "iat": NOW - 10,
            "exp": NOW + 3600,
        });
        if let (Value::Object(base), Value::Object(extra)) = (&mut claims, extra) {
            base.extend(extra);
        }
        match claims {
            Value::Object(map) => map,
            _ => unreachable!(),
        }
    }

    fn parts(token: &str) -> Vec<String> {
        token.split('.').map(str::to_owned).collect()
    }

    #[test]
    fn accepts_a_good_token() {
        let claims = claims(json!({}));
        let token = key().issue(&claims);
        assert_eq!(key().verify(&token, NOW).unwrap(), claims);
    }

    #[test]
    fn refuses_a_token_signed_with_another_key() {
        let token = DevKey::from_bytes([8; KEY_BYTES]).issue(&claims(json!({})));
        assert!(matches!(
            key().verify(&token, NOW),
            Err(JwtError::BadSignature)
        ));
    }

    #[test]
    fn refuses_a_tampered_payload() {
        let token = key().issue(&claims(json!({})));
        let p = parts(&token);
        let forged = URL_SAFE_NO_PAD
            .encode(Value::Object(claims(json!({ "cognito:groups": ["supervisor"] }))).to_string());
        let tampered = format!("{}.{}.{}", p[0], forged, p[2]);
        assert!(matches!(
            key().verify(&tampered, NOW),
            Err(JwtError::BadSignature)
        ));
    }

    #[test]
    fn refuses_a_tampered_signature() {
        let token = key().issue(&claims(json!({})));
        let p = parts(&token);
        let mut signature = URL_SAFE_NO_PAD.decode(&p[2]).unwrap();
        signature[0] ^= 1;
        let tampered = format!("{}.{}.{}", p[0], p[1], URL_SAFE_NO_PAD.encode(signature));
        assert!(matches!(
            key().verify(&tampered, NOW),
            Err(JwtError::BadSignature)
        ));
        let truncated = format!("{}.{}.{}", p[0], p[1], &p[2][..10]);
        assert!(key().verify(&truncated, NOW).is_err());
    }

    #[test]
    fn refuses_alg_none_and_other_algorithms() {
        let payload = URL_SAFE_NO_PAD.encode(Value::Object(claims(json!({}))).to_string());
        for alg in ["none", "None", "HS512", "RS256", "hs256"] {
            let header = URL_SAFE_NO_PAD.encode(json!({ "alg": alg, "typ": "JWT" }).to_string());
            for signature in ["", "AAAA"] {
                let token = format!("{header}.{payload}.{signature}");
                assert!(
                    matches!(
                        key().verify(&token, NOW),
                        Err(JwtError::UnsupportedAlgorithm)
                    ),
                    "{alg}"
                );
            }
        }
        let header = URL_SAFE_NO_PAD.encode(json!({ "typ": "JWT" }).to_string());
        let token = format!("{header}.{payload}.");
        assert!(matches!(
            key().verify(&token, NOW),
            Err(JwtError::UnsupportedAlgorithm)
        ));
    }

    #[test]
    fn refuses_malformed_tokens() {
        for token in ["", "a", "a.b", "a.b.c.d", "!!.!!.!!", "e30.e30"] {
            assert!(
                matches!(key().verify(token, NOW), Err(JwtError::Malformed(_))),
                "{token}"
            );
        }
    }

    #[test]
    fn refuses_expired_and_not_yet_valid_tokens() {
        let token = key().issue(&claims(json!({})));
        assert!(matches!(
            key().verify(&token, NOW + 3600),
            Err(JwtError::Expired)
        ));
        assert!(key().verify(&token, NOW + 3599).is_ok());

        let mut without_exp = claims(json!({}));
        without_exp.remove("exp");
        assert!(matches!(
            key().verify(&key().issue(&without_exp), NOW),
            Err(JwtError::MissingClaim("exp"))
        ));

        let token = key().issue(&claims(json!({ "exp": "tomorrow" })));
        assert!(matches!(
            key().verify(&token, NOW),
            Err(JwtError::InvalidClaim("exp"))
        ));

        let token = key().issue(&claims(json!({ "nbf": NOW + 60 })));
        assert!(matches!(
            key().verify(&token, NOW),
            Err(JwtError::NotYetValid)
        ));
        assert!(key().verify(&token, NOW + 60).is_ok());

        let token = key().issue(&claims(json!({ "iat": NOW + 60 })));
        assert!(matches!(
            key().verify(&token, NOW),
            Err(JwtError::IssuedInFuture)
        ));
    }

    #[test]
    fn refuses_wrong_issuer_and_audience() {
        let token = key().issue(&claims(json!({ "iss": "https://cognito-idp.example" })));
        assert!(matches!(
            key().verify(&token, NOW),
            Err(JwtError::WrongIssuer)
        ));
        let mut without_iss = claims(json!({}));
        without_iss.remove("iss");
        assert!(matches!(
            key().verify(&key().issue(&without_iss), NOW),
            Err(JwtError::MissingClaim("iss"))
        ));

        let token = key().issue(&claims(json!({ "aud": "other" })));
        assert!(matches!(
            key().verify(&token, NOW),
            Err(JwtError::WrongAudience)
        ));
        let token = key().issue(&claims(json!({ "aud": ["other", "more"] })));
        assert!(matches!(
            key().verify(&token, NOW),
            Err(JwtError::WrongAudience)
        ));
        let token = key().issue(&claims(json!({ "aud": ["other", DEV_AUDIENCE] })));
        assert!(key().verify(&token, NOW).is_ok());
        let mut without_aud = claims(json!({}));
        without_aud.remove("aud");
        assert!(matches!(
            key().verify(&key().issue(&without_aud), NOW),
            Err(JwtError::MissingClaim("aud"))
        ));
    }

    #[test]
    fn renders_claims_as_api_gateway_does() {
        let rendered = claims_for_authorizer(&claims(json!({
            "cognito:groups": ["agent", "supervisor"],
            "email_verified": true,
            "score": 1.5,
            "nested": { "a": 1 },
            "empty": [],
        })));
        assert_eq!(rendered["sub"], "player-123");
        assert_eq!(rendered["cognito:groups"], "[agent supervisor]");
        assert_eq!(rendered["exp"], (NOW + 3600).to_string());
        assert_eq!(rendered["email_verified"], "true");
        assert_eq!(rendered["score"], "1.5");
        assert_eq!(rendered["nested"], r#"{"a":1}"#);
        assert_eq!(rendered["empty"], "[]");
        // The handlers' parser reads this rendering back as roles.
        assert_eq!(
            guichet_edge::http::parse_groups(&rendered["cognito:groups"]),
            [
                guichet_core::common::access::Role::Agent,
                guichet_core::common::access::Role::Supervisor
            ]
        );
    }

    #[test]
    fn creates_the_key_once_and_reads_it_back() {
        let dir = std::env::temp_dir().join(format!("guichet-jwt-test-{}", std::process::id()));
        let path = dir.join("nested").join("dev-jwt.key");
        let _ = std::fs::remove_dir_all(&dir);

        let created = DevKey::load_or_create(&path).unwrap();
        let loaded = DevKey::load_or_create(&path).unwrap();
        assert_eq!(created.bytes, loaded.bytes);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.trim().len(), KEY_BYTES * 2);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // No temporary file is left behind.
        let entries = std::fs::read_dir(path.parent().unwrap()).unwrap().count();
        assert_eq!(entries, 1);

        std::fs::write(&path, "not hex").unwrap();
        assert!(matches!(
            DevKey::load_or_create(&path),
            Err(JwtError::KeyFormat { .. })
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn debug_does_not_print_the_key() {
        assert_eq!(format!("{:?}", key()), "DevKey(..)");
    }
}
