//! The audit trail: every request as one line of JSON in a file, shaped like a CloudTrail
//! record (`eventTime`, `eventSource`, `eventName`, `awsRegion`, `sourceIPAddress`,
//! `userAgent`, `userIdentity`, `errorCode`, `requestID`, `eventID`, `readOnly`,
//! `recipientAccountId`), with an `oxiam` section saying what authorization decided and by
//! which statement, access by access.
//!
//! An event is written before its response is sent, and a request whose event cannot be
//! written fails (500) rather than go unrecorded: an audit trail that can silently miss
//! events is not one. One thread writes, in batches: each request waits for the `write`
//! of its batch (not for an fsync), and a full queue makes requests wait, never drops.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write as _};
use std::path::Path;

use oxiam_core::record::RequestRecord;
use serde_json::json;
use tokio::sync::{mpsc, oneshot};

/// How many events may wait for the writer before requests wait for room.
const QUEUE: usize = 4096;

/// One event, and who waits for it to be written.
type Pending = (String, oneshot::Sender<Result<(), String>>);

/// The audit trail's file, fed by a writer thread.
#[derive(Debug)]
pub struct AuditTrail {
    /// `None` once the trail is closing.
    queue: Option<mpsc::Sender<Pending>>,
    writer: Option<std::thread::JoinHandle<()>>,
}

impl AuditTrail {
    /// Appends to `path` (created private, 0600, if missing).
    pub fn open(path: &Path) -> std::io::Result<Self> {
        let mut options = OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(path)?;
        let (queue, events) = mpsc::channel(QUEUE);
        let writer = std::thread::Builder::new()
            .name("oxiam-audit".to_owned())
            .spawn(move || write_events(file, events))?;
        Ok(Self {
            queue: Some(queue),
            writer: Some(writer),
        })
    }

    /// Writes one request's event; returns once it is in the file (written, not synced).
    pub async fn write(&self, record: &RequestRecord) -> Result<(), String> {
        let Some(queue) = &self.queue else {
            return Err("the audit trail is closed".to_owned());
        };
        let (done, written) = oneshot::channel();
        queue
            .send((to_json(record).to_string(), done))
            .await
            .map_err(|_| "the audit trail's writer stopped".to_owned())?;
        written
            .await
            .map_err(|_| "the audit trail's writer stopped".to_owned())?
    }

    /// Queues one event without waiting (for a request abandoned before its answer, which
    /// has no one left to wait).
    pub fn write_behind(&self, record: &RequestRecord) {
        if let Some(queue) = &self.queue {
            let (done, _) = oneshot::channel();
            if queue.try_send((to_json(record).to_string(), done)).is_err() {
                tracing::error!(request_id = %record.request_id, "an abandoned request could not be audited: the queue is full");
            }
        }
    }
}

/// Writes events in batches as they come; each batch is one `write` of the buffer, after
/// which its requests are told. Ends when the trail is dropped (the server stopped).
fn write_events(file: File, mut events: mpsc::Receiver<Pending>) {
    let mut out = BufWriter::new(file);
    let mut batch: Vec<oneshot::Sender<Result<(), String>>> = Vec::new();
    while let Some((line, done)) = events.blocking_recv() {
        let mut result = writeln!(out, "{line}");
        batch.push(done);
        while let Ok((line, done)) = events.try_recv() {
            result = result.and_then(|()| writeln!(out, "{line}"));
            batch.push(done);
        }
        let result = result.and_then(|()| out.flush()).map_err(|e| e.to_string());
        if let Err(e) = &result {
            tracing::error!(error = %e, "the audit trail could not be written: requests fail until it can");
            // What is left in the buffer was never written: start afresh.
            let (file, _unwritten) = out.into_parts();
            out = BufWriter::new(file);
        }
        for done in batch.drain(..) {
            let _ = done.send(result.clone());
        }
    }
}

/// The server stopped: every queued event is written before the trail is gone.
impl Drop for AuditTrail {
    fn drop(&mut self) {
        drop(self.queue.take());
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

/// Whether an action only reads (its access level is List or Read), as CloudTrail's
/// `readOnly` says.
fn read_only(action: &str) -> Option<bool> {
    let level = oxiam_catalogue::action_named(action)?.access_level;
    Some(matches!(
        level,
        oxiam_catalogue::AccessLevel::List | oxiam_catalogue::AccessLevel::Read
    ))
}

/// One request's event, as the audit trail writes it.
pub fn to_json(r: &RequestRecord) -> serde_json::Value {
    let decision = r.decision();
    json!({
        "eventVersion": "1.09",
        "eventTime": oxiam_protocol::Timestamp(r.time).to_iso8601(),
        "eventSource": if r.service.is_empty() { None } else { Some(format!("{}.amazonaws.com", r.service)) },
        "eventName": r.operation,
        "awsRegion": r.region,
        "sourceIPAddress": r.source_ip.map(|ip| ip.to_string()),
        "userAgent": r.user_agent,
        "userIdentity": {
            "type": r.principal_type,
            "principalId": r.principal_id,
            "arn": r.principal,
            "accountId": r.account_id,
            "accessKeyId": r.access_key_id,
        },
        "errorCode": r.error_code,
        "requestID": r.request_id,
        "eventID": oxiam_core::ids::request_id(),
        "readOnly": decision.and_then(|v| read_only(&v.action)),
        "recipientAccountId": r.account_id,
        "oxiam": {
            "decision": decision.map(|v| v.outcome.as_str()),
            "decidedBy": decision.map(|v| v.decided_by.as_str()),
            "verdicts": r.verdicts.iter().map(|v| json!({
                "action": v.action,
                "resource": v.resource,
                "decision": v.outcome.as_str(),
                "decidedBy": v.decided_by,
            })).collect::<Vec<_>>(),
            "httpStatus": r.status,
            "latencyMicros": r.latency_us,
        },
    })
}
