//! Where finished request records go. The log line is the first sink; the metrics are
//! another (`metrics.rs`). The audit trail is not a sink: it is written before the answer
//! is sent (`audit.rs`).

use oxiam_core::record::{RecordSink, RequestRecord};

/// One log line per request, at INFO: who, what, the deciding verdict and the answer.
/// (The other verdicts, the time and the client's address are for the other sinks.)
#[derive(Debug, Default)]
pub struct LogSink;

impl RecordSink for LogSink {
    fn record(&self, r: &RequestRecord) {
        let decision = r.decision();
        tracing::info!(
            request_id = %r.request_id,
            service = %if r.service.is_empty() { "-" } else { r.service },
            operation = %r.operation.as_deref().unwrap_or("-"),
            principal = %r.principal.as_deref().unwrap_or("-"),
            access_key_id = %r.access_key_id.as_deref().unwrap_or("-"),
            action = %decision.map_or("-", |v| v.action.as_str()),
            resource = %decision.map_or("-", |v| v.resource.as_str()),
            decision = %decision.map_or("-", |v| v.outcome.as_str()),
            decided_by = %decision.map_or("-", |v| v.decided_by.as_str()),
            // `false`: a denial `--enforcement log` let through.
            enforced = decision.is_none_or(|v| v.enforced),
            error_code = %r.error_code.as_deref().unwrap_or("-"),
            status = r.status,
            latency_us = r.latency_us,
            "request"
        );
    }
}
