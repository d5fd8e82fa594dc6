//! The local development signing key and the HS256 tokens the local gateway accepts.
//!
//! In AWS, API Gateway's JWT authorizer verifies the identity provider's tokens before a
//! function runs. Locally there is no identity provider, so the gateway plays the authorizer
//! with a symmetric key that exists only on the developer's machine: generated at first use
//! under `.local/` (git-ignored), never committed, never shared with any deployed stack. The
//! checks mirror the authorizer's (`exp`, `nbf`, `iat`, `iss`, `aud`) so that a request refused
//! in AWS is refused locally too.
//!
//! Tokens are signed and verified by `jsonwebtoken`, with the algorithm pinned to HS256 twice:
//! the validation accepts no other `alg`, and the crypto provider installed here ([`HS256_ONLY`])
//! can do nothing else, so `alg: none` or an algorithm switch never selects a weaker check.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use jsonwebtoken::crypto::{CryptoProvider, JwkUtils, JwtSigner, JwtVerifier};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::signature::{Signer, Verifier};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{Map, Value};
use sha2::Sha256;

/// `iss` of every dev token; the gateway refuses any other issuer.
pub const DEV_ISSUER: &str = "guichet-local";
/// `aud` of every dev token; the gateway refuses tokens meant for another audience.
pub const DEV_AUDIENCE: &str = "guichet";

const KEY_BYTES: usize = 32;

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
    #[error("the token is not header.payload.signature of base64url JSON")]
    Malformed,
    #[error("the token's algorithm is not HS256")]
    UnsupportedAlgorithm,
    #[error("the token's header lists critical extensions this verifier does not understand")]
    CriticalExtension,
    #[error("the token's signature does not match")]
    BadSignature,
    #[error("the token has no `{0}` claim of the right type")]
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
    #[error("the token cannot be verified with the dev key")]
    Unverifiable,
}

impl From<jsonwebtoken::errors::Error> for JwtError {
    // Only the kind is kept: a JSON error's message may quote the token's claims.
    fn from(error: jsonwebtoken::errors::Error) -> Self {
        let claim = |name: &str| match name {
            "exp" => "exp",
            "nbf" => "nbf",
            "iss" => "iss",
            "aud" => "aud",
            _ => "sub",
        };
        match error.kind() {
            ErrorKind::InvalidToken
            | ErrorKind::Base64(_)
            | ErrorKind::Json(_)
            | ErrorKind::Utf8(_) => JwtError::Malformed,
            ErrorKind::InvalidAlgorithm
            | ErrorKind::InvalidAlgorithmName
            | ErrorKind::MissingAlgorithm => JwtError::UnsupportedAlgorithm,
            ErrorKind::InvalidSignature => JwtError::BadSignature,
            ErrorKind::MissingRequiredClaim(name) => JwtError::MissingClaim(claim(name)),
            ErrorKind::InvalidClaimFormat(name) => JwtError::InvalidClaim(claim(name)),
            ErrorKind::ExpiredSignature => JwtError::Expired,
            ErrorKind::ImmatureSignature => JwtError::NotYetValid,
            ErrorKind::InvalidIssuer => JwtError::WrongIssuer,
            ErrorKind::InvalidAudience => JwtError::WrongAudience,
            _ => JwtError::Unverifiable,
        }
    }
}

/// jsonwebtoken's crypto backend: HMAC-SHA256 and nothing else. Its own backends (`rust_crypto`,
/// `aws_lc_rs`) would bring RSA, elliptic curves and EdDSA (or a C library) into the build for
/// tokens that are only ever HS256; with no backend at all it panics at first use.
pub static HS256_ONLY: CryptoProvider = CryptoProvider {
    signer_factory: |algorithm, key| {
        Ok(Box::new(Hs256::new(algorithm, key.try_get_hmac_secret())?))
    },
    verifier_factory: |algorithm, key| {
        Ok(Box::new(Hs256::new(algorithm, key.try_get_hmac_secret())?))
    },
    jwk_utils: JwkUtils::new_unimplemented(),
};

struct Hs256(Hmac<Sha256>);

impl Hs256 {
    fn new(
        algorithm: &Algorithm,
        secret: jsonwebtoken::errors::Result<&[u8]>,
    ) -> jsonwebtoken::errors::Result<Hs256> {
        if *algorithm != Algorithm::HS256 {
            return Err(ErrorKind::InvalidAlgorithm.into());
        }
        Hmac::new_from_slice(secret?)
            .map(Hs256)
            .map_err(|_| ErrorKind::InvalidKeyFormat.into())
    }
}

impl Signer<Vec<u8>> for Hs256 {
    fn try_sign(&self, message: &[u8]) -> Result<Vec<u8>, jsonwebtoken::signature::Error> {
        Ok(self
            .0
            .clone()
            .chain_update(message)
            .finalize()
            .into_bytes()
            .to_vec())
    }
}

impl Verifier<Vec<u8>> for Hs256 {
    /// Constant-time comparison (`verify_slice`).
    fn verify(&self, message: &[u8], tag: &Vec<u8>) -> Result<(), jsonwebtoken::signature::Error> {
        self.0
            .clone()
            .chain_update(message)
            .verify_slice(tag)
            .map_err(jsonwebtoken::signature::Error::from_source)
    }
}

impl JwtSigner for Hs256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }
}

impl JwtVerifier for Hs256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }
}

/// What API Gateway's JWT authorizer checks, as jsonwebtoken's validation.
fn validation() -> Validation {
    let mut validation = Validation::new(Algorithm::HS256);
    // The authorizer allows no clock skew; both ends share this machine's clock anyway.
    validation.leeway = 0;
    // RFC 7519 §4.1.4: a token is refused *on or after* `exp` (jsonwebtoken alone accepts one
    // at exactly `exp`).
    validation.reject_tokens_expiring_in_less_than = 1;
    validation.validate_nbf = true;
    validation.set_issuer(&[DEV_ISSUER]);
    validation.set_audience(&[DEV_AUDIENCE]);
    validation.set_required_spec_claims(&["exp", "iss", "aud"]);
    validation
}

fn install_provider() {
    // Err: a provider is installed already (ours, by an earlier call); nothing else in the
    // process uses jsonwebtoken.
    let _ = HS256_ONLY.install_default();
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

    /// Signs `claims` as an HS256 JWT. The claims are taken as given: callers set `iss`, `aud`,
    /// `exp` (see `dev-token`), so that tests can also mint deliberately invalid tokens.
    pub fn issue(&self, claims: &Map<String, Value>) -> String {
        install_provider();
        let key = EncodingKey::from_secret(&self.bytes);
        match jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &key) {
            Ok(token) => token,
            // A JSON object always serialises, and HMAC takes a key of any length.
            Err(error) => unreachable!("HS256 signing cannot fail: {error}"),
        }
    }

    /// Verifies `token` as API Gateway's JWT authorizer would, now, and returns its claims.
    ///
    /// jsonwebtoken checks, in this order: the shape, `alg` (HS256 only), the signature (in
    /// constant time), then `exp`, `nbf`, `iss` and `aud`; claims are only read once the
    /// signature holds.
    pub fn verify(&self, token: &str) -> Result<Map<String, Value>, JwtError> {
        install_provider();
        let key = DecodingKey::from_secret(&self.bytes);
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation())?;
        // RFC 7515 §4.1.11: a verifier must refuse critical extensions it does not implement.
        if data.header.crit.is_some() {
            return Err(JwtError::CriticalExtension);
        }
        // The authorizer refuses a token issued in the future; jsonwebtoken ignores `iat`.
        if let Some(iat) = data.claims.get("iat") {
            let iat = iat.as_f64().ok_or(JwtError::InvalidClaim("iat"))?;
            if iat > jsonwebtoken::get_current_timestamp() as f64 {
                return Err(JwtError::IssuedInFuture);
            }
        }
        // Cognito issues groups as an array of names without white space, which is what makes
        // API Gateway's `[a b]` rendering unambiguous; a token it could not issue is refused
        // rather than rendered into something the handlers might read as other groups.
        if let Some(groups) = data.claims.get("cognito:groups") {
            let valid = groups.as_array().is_some_and(|names| {
                names.iter().all(|name| {
                    name.as_str().is_some_and(|name| {
                        (1..=128).contains(&name.chars().count())
                            && !name.chars().any(|c| c.is_whitespace() || c.is_control())
                    })
                })
            });
            if !valid {
                return Err(JwtError::InvalidClaim("cognito:groups"));
            }
        }
        Ok(data.claims)
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
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use serde_json::json;

    fn now() -> i64 {
        jsonwebtoken::get_current_timestamp() as i64
    }

    fn key() -> DevKey {
        DevKey::from_bytes([7; KEY_BYTES])
    }

    fn claims(extra: Value) -> Map<String, Value> {
        let mut claims = json!({
            "sub": "player-123",
            "cognito:groups": ["player"],
            "iss": DEV_ISSUER,
            "aud": DEV_AUDIENCE,
            "iat": now() - 10,
            "exp": now() + 3600,
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

    fn encode(value: &Value) -> String {
        URL_SAFE_NO_PAD.encode(value.to_string())
    }

    /// A token whose header says `alg` and whose signature is a real HMAC with the dev key, of
    /// the hash `alg` names (SHA-256 for the others): only the algorithm pin refuses it.
    fn signed_as(alg: &str) -> String {
        let input = format!(
            "{}.{}",
            encode(&json!({ "alg": alg, "typ": "JWT" })),
            encode(&Value::Object(claims(json!({}))))
        );
        let secret = &key().bytes;
        let signature = match alg {
            "HS384" => Hmac::<sha2::Sha384>::new_from_slice(secret)
                .unwrap()
                .chain_update(&input)
                .finalize()
                .into_bytes()
                .to_vec(),
            "HS512" => Hmac::<sha2::Sha512>::new_from_slice(secret)
                .unwrap()
                .chain_update(&input)
                .finalize()
                .into_bytes()
                .to_vec(),
            _ => Hs256(Hmac::new_from_slice(secret).unwrap())
                .try_sign(input.as_bytes())
                .unwrap(),
        };
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    #[test]
    fn accepts_a_good_token() {
        let claims = claims(json!({}));
        let token = key().issue(&claims);
        assert_eq!(key().verify(&token).unwrap(), claims);
        assert_eq!(
            jsonwebtoken::decode_header(&token).unwrap().alg,
            Algorithm::HS256
        );
    }

    #[test]
    fn refuses_a_token_signed_with_another_key() {
        let token = DevKey::from_bytes([8; KEY_BYTES]).issue(&claims(json!({})));
        assert!(matches!(key().verify(&token), Err(JwtError::BadSignature)));
    }

    #[test]
    fn refuses_a_tampered_payload() {
        let token = key().issue(&claims(json!({})));
        let p = parts(&token);
        let forged = encode(&Value::Object(claims(
            json!({ "cognito:groups": ["supervisor"] }),
        )));
        let tampered = format!("{}.{}.{}", p[0], forged, p[2]);
        assert!(matches!(
            key().verify(&tampered),
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
            key().verify(&tampered),
            Err(JwtError::BadSignature)
        ));
        let truncated = format!("{}.{}.{}", p[0], p[1], &p[2][..10]);
        assert!(key().verify(&truncated).is_err());
    }

    #[test]
    fn refuses_alg_none_and_other_algorithms() {
        // Correctly signed with the dev key, but not HS256: refused by the pin alone.
        for token in [
            signed_as("HS384"),
            signed_as("HS512"),
            signed_as("RS256"),
            signed_as("ES256"),
        ] {
            assert!(
                matches!(key().verify(&token), Err(JwtError::UnsupportedAlgorithm)),
                "{token}"
            );
        }
        // Unsigned or with an algorithm jsonwebtoken does not even know: refused before any
        // signature is looked at.
        let payload = encode(&Value::Object(claims(json!({}))));
        let headers = ["none", "None", "hs256"]
            .map(|alg| json!({ "alg": alg, "typ": "JWT" }))
            .into_iter()
            .chain([json!({ "typ": "JWT" })]);
        for header in headers {
            for signature in ["", "AAAA"] {
                let token = format!("{}.{payload}.{signature}", encode(&header));
                assert!(
                    matches!(
                        key().verify(&token),
                        Err(JwtError::UnsupportedAlgorithm | JwtError::Malformed)
                    ),
                    "{header}"
                );
            }
        }
    }

    #[test]
    fn each_pin_alone_refuses_other_algorithms() {
        // The validation names HS256 only, and the provider can do nothing else: the test above
        // passes while either holds.
        assert_eq!(validation().algorithms, [Algorithm::HS256]);
        let secret = DecodingKey::from_secret(&key().bytes);
        for algorithm in [Algorithm::HS384, Algorithm::HS512, Algorithm::RS256] {
            assert!((HS256_ONLY.verifier_factory)(&algorithm, &secret).is_err());
        }
        assert!((HS256_ONLY.verifier_factory)(&Algorithm::HS256, &secret).is_ok());
    }

    #[test]
    fn refuses_critical_extensions() {
        let header = Header {
            crit: Some(vec!["exp".to_owned()]),
            ..Header::new(Algorithm::HS256)
        };
        install_provider();
        let token = jsonwebtoken::encode(
            &header,
            &claims(json!({})),
            &EncodingKey::from_secret(&key().bytes),
        )
        .unwrap();
        assert!(matches!(
            key().verify(&token),
            Err(JwtError::CriticalExtension)
        ));
    }

    #[test]
    fn refuses_malformed_tokens() {
        for token in ["", "a", "a.b", "a.b.c.d", "!!.!!.!!", "e30.e30"] {
            assert!(
                matches!(key().verify(token), Err(JwtError::Malformed)),
                "{token}"
            );
        }
    }

    #[test]
    fn refuses_expired_and_not_yet_valid_tokens() {
        // Refused on or after `exp` (RFC 7519 §4.1.4), with no leeway.
        let token = key().issue(&claims(json!({ "exp": now() })));
        assert!(matches!(key().verify(&token), Err(JwtError::Expired)));
        let token = key().issue(&claims(json!({ "exp": now() - 1 })));
        assert!(matches!(key().verify(&token), Err(JwtError::Expired)));
        let token = key().issue(&claims(json!({ "exp": now() + 60 })));
        assert!(key().verify(&token).is_ok());

        let mut without_exp = claims(json!({}));
        without_exp.remove("exp");
        assert!(matches!(
            key().verify(&key().issue(&without_exp)),
            Err(JwtError::MissingClaim("exp"))
        ));

        let token = key().issue(&claims(json!({ "exp": "tomorrow" })));
        assert!(matches!(
            key().verify(&token),
            Err(JwtError::MissingClaim("exp") | JwtError::InvalidClaim("exp"))
        ));

        let token = key().issue(&claims(json!({ "nbf": now() + 60 })));
        assert!(matches!(key().verify(&token), Err(JwtError::NotYetValid)));
        let token = key().issue(&claims(json!({ "nbf": now() })));
        assert!(key().verify(&token).is_ok());

        let token = key().issue(&claims(json!({ "iat": now() + 60 })));
        assert!(matches!(
            key().verify(&token),
            Err(JwtError::IssuedInFuture)
        ));
        let token = key().issue(&claims(json!({ "iat": "yesterday" })));
        assert!(matches!(
            key().verify(&token),
            Err(JwtError::InvalidClaim("iat"))
        ));
    }

    #[test]
    fn refuses_groups_cognito_could_not_issue() {
        for groups in [
            json!(["team:technical team:payments"]),
            json!(["supervisor "]),
            json!(["agent", ""]),
            json!(["agent\tsupervisor"]),
            json!("supervisor"),
            json!([["supervisor"]]),
            json!([1]),
        ] {
            let token = key().issue(&claims(json!({ "cognito:groups": groups })));
            assert!(
                matches!(
                    key().verify(&token),
                    Err(JwtError::InvalidClaim("cognito:groups"))
                ),
                "{groups}"
            );
        }
        let token = key().issue(&claims(
            json!({ "cognito:groups": ["agent", "team:games"] }),
        ));
        assert!(key().verify(&token).is_ok());
    }

    #[test]
    fn refuses_wrong_issuer_and_audience() {
        let token = key().issue(&claims(json!({ "iss": "https://cognito-idp.example" })));
        assert!(matches!(key().verify(&token), Err(JwtError::WrongIssuer)));
        let mut without_iss = claims(json!({}));
        without_iss.remove("iss");
        assert!(matches!(
            key().verify(&key().issue(&without_iss)),
            Err(JwtError::MissingClaim("iss"))
        ));

        let token = key().issue(&claims(json!({ "aud": "other" })));
        assert!(matches!(key().verify(&token), Err(JwtError::WrongAudience)));
        let token = key().issue(&claims(json!({ "aud": ["other", "more"] })));
        assert!(matches!(key().verify(&token), Err(JwtError::WrongAudience)));
        let token = key().issue(&claims(json!({ "aud": ["other", DEV_AUDIENCE] })));
        assert!(key().verify(&token).is_ok());
        let mut without_aud = claims(json!({}));
        without_aud.remove("aud");
        assert!(matches!(
            key().verify(&key().issue(&without_aud)),
            Err(JwtError::MissingClaim("aud"))
        ));
    }

    #[test]
    fn renders_claims_as_api_gateway_does() {
        let rendered = claims_for_authorizer(&claims(json!({
            "exp": 1_750_003_600,
            "cognito:groups": ["agent", "supervisor"],
            "email_verified": true,
            "score": 1.5,
            "nested": { "a": 1 },
            "empty": [],
        })));
        assert_eq!(rendered["sub"], "player-123");
        assert_eq!(rendered["cognito:groups"], "[agent supervisor]");
        assert_eq!(rendered["exp"], "1750003600");
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
