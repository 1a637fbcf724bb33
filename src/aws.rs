//! Reaching DynamoDB and S3: SDK configuration from the resolved settings, and the
//! translation of SDK failures into tflock's errors and exit codes.

use std::time::Duration;

use aws_config::{BehaviorVersion, Region, timeout::TimeoutConfig};
use aws_credential_types::provider::error::CredentialsError;
use aws_runtime::env_config::file::{EnvConfigFileKind, EnvConfigFiles};
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

use crate::error::Error;
use crate::settings::{AwsSettings, EnvLookup};

/// A DynamoDB client and what to call it in messages.
#[derive(Clone, Debug)]
pub struct Dynamo {
    pub client: aws_sdk_dynamodb::Client,
    /// "DynamoDB at http://127.0.0.1:5000 (us-east-1)" or "DynamoDB in eu-west-1".
    pub place: String,
}

/// An S3 client and what to call it in messages.
#[derive(Clone, Debug)]
pub struct S3 {
    pub client: aws_sdk_s3::Client,
    pub place: String,
}

/// The loaded AWS configuration, from which service clients are made.
pub struct Aws {
    sdk: aws_config::SdkConfig,
    region: String,
    settings: AwsSettings,
    dynamodb_endpoint: Option<String>,
    s3_endpoint: Option<String>,
}

fn endpoint_for(explicit: &Option<String>, service_var: &str) -> Option<String> {
    explicit
        .clone()
        .or_else(|| crate::settings::process_env(service_var))
        .or_else(|| crate::settings::process_env("AWS_ENDPOINT_URL"))
}

/// Loads the configuration. Credentials are resolved lazily, on the first
/// request, so a missing credential shows up as a request failure (see
/// [`failure`]).
pub async fn load(settings: &AwsSettings) -> Result<Aws, Error> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).timeout_config(
        TimeoutConfig::builder()
            // A lock call is small: anything slower than this is a network
            // problem, and the heartbeat must find out well within a lease.
            .connect_timeout(Duration::from_secs(3))
            .operation_attempt_timeout(Duration::from_secs(5))
            .build(),
    );
    if let Some(region) = &settings.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(profile) = &settings.profile {
        loader = loader.profile_name(profile);
    }
    let backend = &settings.credentials;
    if !backend.config_files.is_empty() || !backend.credentials_files.is_empty() {
        loader = loader.profile_files(profile_files(backend));
    }
    let dynamodb_endpoint = endpoint_for(&settings.dynamodb_endpoint, "AWS_ENDPOINT_URL_DYNAMODB");
    let s3_endpoint = endpoint_for(&settings.s3_endpoint, "AWS_ENDPOINT_URL_S3");
    // A plain-HTTP lock endpoint (an emulator, a local proxy) gets a client
    // without TLS: building the default one loads and parses every system
    // root certificate, 20 ms, most of tflock's start-up. Credential sources
    // that need HTTPS (SSO, web identity) are then unavailable; against an
    // emulator, credentials are dummies from the environment anyway.
    if dynamodb_endpoint
        .as_deref()
        .is_some_and(|e| e.starts_with("http://"))
    {
        loader = loader.http_client(aws_smithy_http_client::Builder::new().build_http());
    }
    if let Some((id, secret, token)) = &backend.keys {
        loader = loader.credentials_provider(aws_credential_types::Credentials::new(
            id,
            secret,
            token.clone(),
            None,
            "the s3 backend's access_key",
        ));
    }
    let mut sdk = loader.load().await;
    let Some(region) = sdk.region().map(|r| r.to_string()) else {
        return Err(Error::config(
            "no AWS region: pass --region, set AWS_REGION, or set region in the s3 backend",
        ));
    };
    if let Some(role) = &backend.assume_role {
        sdk = assuming(sdk, role, backend.sts_endpoint.as_deref()).await?;
    }
    Ok(Aws {
        sdk,
        region,
        settings: settings.clone(),
        dynamodb_endpoint,
        s3_endpoint,
    })
}

/// The profile files the backend names, as terraform reads them: a list
/// replaces the default file of its kind (which `AWS_CONFIG_FILE` or
/// `AWS_SHARED_CREDENTIALS_FILE` may name), the other kind's default stays.
/// `~/` is expanded by the SDK.
fn profile_files(backend: &crate::backend::Credentials) -> EnvConfigFiles {
    let mut files = EnvConfigFiles::builder()
        .include_default_config_file(backend.config_files.is_empty())
        .include_default_credentials_file(backend.credentials_files.is_empty());
    for file in &backend.config_files {
        files = files.with_file(EnvConfigFileKind::Config, file);
    }
    for file in &backend.credentials_files {
        files = files.with_file(EnvConfigFileKind::Credentials, file);
    }
    files.build()
}

/// The configuration with the backend's role assumed, as terraform assumes
/// it for its own lock and state: otherwise the lease would be written to
/// the caller's own account, in a table that may share the name of the
/// backend's, and exclude nobody. The role is assumed on the first request
/// (and again before the credentials expire).
async fn assuming(
    sdk: aws_config::SdkConfig,
    role: &crate::backend::AssumeRole,
    sts_endpoint: Option<&str>,
) -> Result<aws_config::SdkConfig, Error> {
    let mut provider = aws_config::sts::AssumeRoleProvider::builder(&role.role_arn)
        .session_name(role.session_name.as_deref().unwrap_or("tflock"));
    if let Some(id) = &role.external_id {
        provider = provider.external_id(id);
    }
    if let Some(text) = &role.duration {
        let length = crate::duration::parse(text)
            .map_err(|e| Error::config(format!("the s3 backend's assume_role duration: {e}")))?;
        provider = provider.session_length(length);
    }
    let base = match sts_endpoint {
        Some(url) => sdk.to_builder().endpoint_url(url).build(),
        None => sdk.clone(),
    };
    let provider = provider.configure(&base).build().await;
    Ok(sdk
        .into_builder()
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(provider),
        )
        .build())
}

/// Why the lease may not be in the backend's account: the backend assumes
/// a role with a web identity (`assume_role_with_web_identity`), which
/// tflock does not, so its requests carry this process's own credentials.
/// `None` when there is no such role, or the environment points the SDK's
/// own web-identity provider at the same role.
pub fn unassumed_web_identity(settings: &AwsSettings, env: EnvLookup) -> Option<String> {
    let role = settings.credentials.web_identity_role.as_ref()?;
    if env("AWS_ROLE_ARN").as_ref() == Some(role)
        && env("AWS_WEB_IDENTITY_TOKEN_FILE").is_some()
        && env("AWS_ACCESS_KEY_ID").is_none()
    {
        return None;
    }
    Some(format!(
        "the s3 backend assumes {role} with a web identity (assume_role_with_web_identity), \
         which tflock does not do: its lease uses this process's own AWS credentials, and is in \
         the backend's table only if those are of that account; to use the same role, set \
         AWS_ROLE_ARN={role} and AWS_WEB_IDENTITY_TOKEN_FILE (and no AWS_ACCESS_KEY_ID)"
    ))
}

/// Loads the configuration and makes the DynamoDB client.
pub async fn connect(settings: &AwsSettings) -> Result<Dynamo, Error> {
    Ok(load(settings).await?.dynamo())
}

impl Aws {
    fn place(&self, service: &str, endpoint: &Option<String>) -> String {
        // Whose credentials, when not the caller's own: the backend's
        // profile, its role.
        let mut role = match &self.settings.profile {
            Some(profile) => format!(", with the s3 backend's profile {profile}"),
            None => String::new(),
        };
        if let Some(assumed) = &self.settings.credentials.assume_role {
            role += &format!(", as the s3 backend's role {}", assumed.role_arn);
        }
        match endpoint {
            Some(url) => format!("{service} at {url} ({}{role})", self.region),
            None => format!("{service} in {}{role}", self.region),
        }
    }

    pub fn dynamo(&self) -> Dynamo {
        let mut builder = aws_sdk_dynamodb::config::Builder::from(&self.sdk)
            .interceptor(crate::sdk_calls::CallLog);
        if let Some(endpoint) = &self.settings.dynamodb_endpoint {
            builder = builder.endpoint_url(endpoint);
        }
        Dynamo {
            client: aws_sdk_dynamodb::Client::from_conf(builder.build()),
            place: self.place("DynamoDB", &self.dynamodb_endpoint),
        }
    }

    pub fn s3(&self) -> S3 {
        let mut builder =
            aws_sdk_s3::config::Builder::from(&self.sdk).interceptor(crate::sdk_calls::CallLog);
        if let Some(endpoint) = &self.settings.s3_endpoint {
            builder = builder.endpoint_url(endpoint);
        }
        // Emulators and S3-compatible stores serve buckets by path.
        if self.settings.s3_path_style || self.s3_endpoint.is_some() {
            builder = builder.force_path_style(true);
        }
        S3 {
            client: aws_sdk_s3::Client::from_conf(builder.build()),
            place: self.place("S3", &self.s3_endpoint),
        }
    }
}

pub type Item = std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>;

/// Every item of `table` whose key starts (`with: true`) or does not start
/// with `prefix`: a paginated, strongly consistent scan.
pub async fn scan_prefix(
    dynamo: &Dynamo,
    table: &str,
    prefix: &str,
    with: bool,
) -> Result<Vec<Item>, SdkError<aws_sdk_dynamodb::operation::scan::ScanError>> {
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let out = dynamo
            .client
            .scan()
            .table_name(table)
            .consistent_read(true)
            .filter_expression(if with {
                "begins_with(#key, :prefix)"
            } else {
                "NOT begins_with(#key, :prefix)"
            })
            .expression_attribute_names("#key", crate::lock::record::attr::KEY)
            .expression_attribute_values(
                ":prefix",
                aws_sdk_dynamodb::types::AttributeValue::S(prefix.to_string()),
            )
            .set_exclusive_start_key(start)
            .send()
            .await?;
        items.extend(out.items().iter().cloned());
        match out.last_evaluated_key() {
            Some(k) if !k.is_empty() => start = Some(k.clone()),
            _ => return Ok(items),
        }
    }
}

/// Service error codes that mean "you may not", as opposed to "not now"
/// (DynamoDB's, then S3's).
pub const REFUSALS: &[&str] = &[
    "AccessDeniedException",
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "ExpiredTokenException",
    "MissingAuthenticationTokenException",
    "IncompleteSignatureException",
    "AccessDenied",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
];

/// Translates a failed DynamoDB request into tflock's error, with the whole
/// cause chain (the SDK's own `Display` says only "dispatch failure").
///
/// `doing` completes "cannot ... ": "acquire lock state/app.tfstate".
pub fn failure<E>(dynamo: &Dynamo, table: &str, doing: &str, err: &SdkError<E>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    if let SdkError::ServiceError(service) = err
        && service.err().code() == Some("ResourceNotFoundException")
    {
        return Error::config(format!(
            "table {table} does not exist in {}; create it with `tflock setup --table {table}` \
             (or pass --table)",
            dynamo.place
        ));
    }
    request_failure(&dynamo.place, doing, err)
}

/// Translates a failed request to any service (`place` names it).
pub fn request_failure<E>(place: &str, doing: &str, err: &SdkError<E>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    if let SdkError::ServiceError(service) = err {
        let e = service.err();
        let code = e.code().unwrap_or("UnknownError");
        // An answer the SDK could not decode has neither code nor message:
        // its cause chain says what was wrong with it.
        let message = match e.message() {
            Some(m) if !m.is_empty() => m.to_string(),
            _ => cause_chain(err),
        };
        if REFUSALS.contains(&code) {
            return Error::Unavailable(format!("{place} refused to {doing}: {code}: {message}"));
        }
        return Error::Unavailable(format!("cannot {doing} in {place}: {code}: {message}"));
    }
    if let Some(creds) = find_source::<CredentialsError>(err) {
        return Error::Unavailable(format!(
            "no usable AWS credentials to {doing} ({place}): {}",
            cause_chain(creds)
        ));
    }
    Error::Unavailable(format!(
        "cannot reach {place} to {doing}: {}",
        cause_chain(err)
    ))
}

/// The first error of type `T` in `err`'s source chain.
fn find_source<'a, T: std::error::Error + 'static>(
    err: &'a (dyn std::error::Error + 'static),
) -> Option<&'a T> {
    let mut next = Some(err);
    while let Some(e) = next {
        if let Some(found) = e.downcast_ref::<T>() {
            return Some(found);
        }
        next = e.source();
    }
    None
}

/// "dispatch failure: io error: connection refused", on one line: each
/// cause's message once (SDK errors often repeat their source's text), and
/// multi-line messages (the credential chain's list of attempts) joined.
pub fn cause_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next {
        let text = one_line(&e.to_string());
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}

/// Joins a multi-line message: "Attempted:\n  A: x\n  B: y" → "Attempted: A: x; B: y".
fn one_line(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if !out.is_empty() {
            out.push_str(if out.ends_with(':') { " " } else { "; " });
        }
        out.push_str(line);
    }
    out
}

/// Whether a failed write may nevertheless have been applied: the request
/// may have reached the service and its answer was lost (a timeout, a broken
/// connection, a server error). A service refusal, a request never sent
/// (no credentials) or a connection never made (refused) did not write.
pub fn may_have_landed<E>(err: &SdkError<E>) -> bool
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match err {
        SdkError::ServiceError(s) => {
            let status = s.raw().status().as_u16();
            status >= 500
                || matches!(
                    s.err().code(),
                    Some("InternalServerError" | "ServiceUnavailable")
                )
        }
        SdkError::ConstructionFailure(_) => false,
        _ if find_source::<CredentialsError>(err).is_some() => false,
        SdkError::DispatchFailure(_) => {
            !find_source::<hyper_util::client::legacy::Error>(err).is_some_and(|e| e.is_connect())
        }
        _ => true,
    }
}

/// True when the failure is a service answer that retrying will not change.
pub fn is_permanent<E>(err: &SdkError<E>) -> bool
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match err {
        SdkError::ServiceError(s) => {
            let code = s.err().code().unwrap_or("");
            code == "ResourceNotFoundException"
                || code == "ValidationException"
                || REFUSALS.contains(&code)
        }
        SdkError::ConstructionFailure(_) => true,
        _ => find_source::<CredentialsError>(err).is_some(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_web_identity_role_is_said_unless_the_environment_assumes_the_same() {
        let role = "arn:aws:iam::1:role/ci";
        let mut settings = AwsSettings::default();
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(
            unassumed_web_identity(&settings, &env(&[])),
            None,
            "no role"
        );
        settings.credentials.web_identity_role = Some(role.into());
        assert!(unassumed_web_identity(&settings, &env(&[])).is_some_and(|w| w.contains(role)));
        let same: &[(&str, &str)] = &[
            ("AWS_ROLE_ARN", "arn:aws:iam::1:role/ci"),
            ("AWS_WEB_IDENTITY_TOKEN_FILE", "/run/token"),
        ];
        assert_eq!(unassumed_web_identity(&settings, &env(same)), None);
        // Static keys in the environment come first in the SDK's chain.
        let keys_too: &[(&str, &str)] = &[
            ("AWS_ROLE_ARN", "arn:aws:iam::1:role/ci"),
            ("AWS_WEB_IDENTITY_TOKEN_FILE", "/run/token"),
            ("AWS_ACCESS_KEY_ID", "AKIA"),
        ];
        assert!(unassumed_web_identity(&settings, &env(keys_too)).is_some());
        let other: &[(&str, &str)] = &[
            ("AWS_ROLE_ARN", "arn:aws:iam::1:role/other"),
            ("AWS_WEB_IDENTITY_TOKEN_FILE", "/run/token"),
        ];
        assert!(unassumed_web_identity(&settings, &env(other)).is_some());
    }
}
