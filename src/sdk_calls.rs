//! One log record per DynamoDB or S3 request attempt, with its latency and
//! outcome (`-v`): what an operator needs to see where a slow acquire or a
//! failing heartbeat spends its time. An SDK interceptor, so every call is
//! covered, retries included, without touching the call sites.

use std::time::Instant;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::retries::RequestAttempts;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};

use crate::logging::CALLS;

/// The interceptor that logs each attempt.
#[derive(Debug)]
pub struct CallLog;

/// When the current attempt started, kept in the request's config bag.
#[derive(Debug, Clone)]
struct AttemptStart(Instant);

impl Storable for AttemptStart {
    type Storer = StoreReplace<Self>;
}

impl Intercept for CallLog {
    fn name(&self) -> &'static str {
        "tflock::CallLog"
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        // A retry must not be timed from the previous attempt's start.
        cfg.interceptor_state().unset::<AttemptStart>();
        Ok(())
    }

    // Timed from just before sending: credentials, endpoint resolution and
    // signing come earlier, and the first call's credential lookup (SSO,
    // instance metadata) is not the service's latency.
    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if tracing::enabled!(target: CALLS, tracing::Level::DEBUG) {
            cfg.interceptor_state()
                .store_put(AttemptStart(Instant::now()));
        }
        Ok(())
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if !tracing::enabled!(target: CALLS, tracing::Level::DEBUG) {
            return Ok(());
        }
        // No start: the attempt failed before it was sent (credentials).
        let ms = cfg
            .load::<AttemptStart>()
            .map(|start| start.0.elapsed().as_secs_f64() * 1000.0);
        let (service, operation) = cfg
            .load::<Metadata>()
            .map_or(("?", "?"), |m| (m.service(), m.name()));
        let attempt = cfg.load::<RequestAttempts>().map_or(1, |a| a.attempts());
        let status = context.response().map(|r| r.status().as_u16());
        let failure = match context.output_or_error() {
            // A service's answer ("ConditionalCheckFailedException: …") as
            // it is; a transport failure with its causes.
            Some(Err(e)) => Some(match e.as_operation_error() {
                Some(answer) => crate::aws::cause_chain(answer),
                None => crate::aws::cause_chain(e),
            }),
            _ => None,
        };
        let outcome = match (status, &failure, ms) {
            (Some(code), None, _) => format!("{code}"),
            (Some(code), Some(why), _) => format!("{code} ({why})"),
            (None, Some(why), Some(_)) => format!("no response ({why})"),
            (None, Some(why), None) => format!("not sent ({why})"),
            (None, None, _) => "no response".to_string(),
        };
        let took = ms.map_or(String::new(), |ms| format!(" in {ms:.1} ms"));
        let retry = if attempt > 1 {
            format!(", attempt {attempt}")
        } else {
            String::new()
        };
        tracing::debug!(
            target: CALLS,
            service,
            operation,
            attempt,
            status,
            latency_ms = ms.map(|ms| (ms * 10.0).round() / 10.0),
            error = failure.as_deref(),
            "{service} {operation}: {outcome}{took}{retry}"
        );
        Ok(())
    }
}
