//! Where finished request records go. The log line is the first sink; the audit trail and
//! the metrics are others, each a [`RecordSink`].

use oxiam_core::record::{RecordSink, RequestRecord};

/// One log line per request, at INFO, with every field of its record.
#[derive(Debug, Default)]
pub struct LogSink;

impl RecordSink for LogSink {
    fn record(&self, r: &RequestRecord) {
        let decision = r.decision();
        let dash = |v: Option<&str>| v.unwrap_or("-").to_owned();
        tracing::info!(
            request_id = %r.request_id,
            service = %if r.service.is_empty() { "-" } else { &r.service },
            operation = %dash(r.operation.as_deref()),
            principal = %dash(r.principal.as_deref()),
            access_key_id = %dash(r.access_key_id.as_deref()),
            action = %dash(decision.map(|v| v.action.as_str())),
            resource = %dash(decision.map(|v| v.resource.as_str())),
            decision = %dash(decision.map(|v| v.outcome.as_str())),
            decided_by = %dash(decision.map(|v| v.decided_by.as_str())),
            error_code = %dash(r.error_code.as_deref()),
            status = r.status,
            latency_us = r.latency_us,
            "request"
        );
    }
}
