//! Where finished request records go. The log line is the first sink; the metrics are
//! another (`metrics.rs`). The audit trail is not a sink: it is written before the answer
//! is sent (`audit.rs`).

use oxiam_core::record::{RecordSink, RequestRecord};

/// The request's line at `$level`, with the extra fields given (each ending in a comma).
macro_rules! log_line {
    ($level:ident, $r:expr $(, $($extra:tt)*)?) => {{
        let r = $r;
        let decision = r.decision();
        tracing::$level!(
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
            $($($extra)*)?
            "request"
        );
    }};
}

/// One log line per request: who, what, the deciding verdict and the answer. At INFO,
/// client errors included; at ERROR with its cause for a server fault, which is logged
/// here and nowhere else. (The other verdicts, the time and the client's address are for
/// the other sinks.)
#[derive(Debug, Default)]
pub struct LogSink;

impl RecordSink for LogSink {
    fn record(&self, r: &RequestRecord) {
        match &r.fault {
            Some(fault) => log_line!(error, r, fault = %fault,),
            None => log_line!(info, r),
        }
    }
}
