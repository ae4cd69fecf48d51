//! The audit trail: every request's record as one line of JSON in a file, with the field
//! names CloudTrail uses where it has one (`eventTime`, `eventSource`, `eventName`,
//! `userIdentity`, `sourceIPAddress`, `errorCode`, `requestID`), and what authorization
//! decided, statement by statement.
//!
//! Records are written by a thread of their own, through a bounded queue: a request never
//! waits for the disk. Should the disk fall behind by more than the queue holds, records
//! are dropped and counted (`oxiam_audit_records_dropped_total` in the metrics), and a
//! warning is logged, never silently.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write as _};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};

use oxiam_core::record::{RecordSink, RequestRecord};
use serde_json::json;

/// How many records may wait for the disk.
const QUEUE: usize = 65_536;

/// The audit trail's file, fed by a writer thread.
#[derive(Debug)]
pub struct AuditTrail {
    /// `None` once the trail is closing.
    queue: Option<SyncSender<String>>,
    dropped: Arc<AtomicU64>,
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
        let (queue, lines) = sync_channel(QUEUE);
        let path = path.to_owned();
        let writer = std::thread::Builder::new()
            .name("oxiam-audit".to_owned())
            .spawn(move || write_lines(&path, file, &lines))?;
        Ok(Self {
            queue: Some(queue),
            dropped: Arc::new(AtomicU64::new(0)),
            writer: Some(writer),
        })
    }

    /// How many records the queue had no room for.
    pub fn dropped(&self) -> Arc<AtomicU64> {
        self.dropped.clone()
    }
}

/// Writes lines as they come, flushing whenever the queue is empty; ends when the trail is
/// dropped (the server stopped).
fn write_lines(path: &Path, file: File, lines: &Receiver<String>) {
    let mut out = BufWriter::new(file);
    while let Ok(line) = lines.recv() {
        let mut result = writeln!(out, "{line}");
        while let Ok(line) = lines.try_recv() {
            result = result.and_then(|()| writeln!(out, "{line}"));
        }
        if let Err(e) = result.and_then(|()| out.flush()) {
            tracing::error!(path = %path.display(), error = %e, "the audit trail could not be written");
        }
    }
}

/// One record as the audit trail writes it.
pub fn to_json(r: &RequestRecord) -> serde_json::Value {
    let decision = r.decision();
    json!({
        "eventVersion": "oxiam-1",
        "eventTime": oxiam_protocol::Timestamp(r.time).to_iso8601(),
        "requestID": r.request_id,
        "eventSource": if r.service.is_empty() { None } else { Some(format!("{}.amazonaws.com", r.service)) },
        "eventName": r.operation,
        "userIdentity": {
            "arn": r.principal,
            "accessKeyId": r.access_key_id,
        },
        "sourceIPAddress": r.source_ip.map(|ip| ip.to_string()),
        "decision": decision.map(|v| v.outcome.as_str()),
        "decidedBy": decision.map(|v| v.decided_by.as_str()),
        "verdicts": r.verdicts.iter().map(|v| json!({
            "action": v.action,
            "resource": v.resource,
            "decision": v.outcome.as_str(),
            "decidedBy": v.decided_by,
        })).collect::<Vec<_>>(),
        "errorCode": r.error_code,
        "httpStatus": r.status,
        "latencyMicros": r.latency_us,
    })
}

/// The server stopped: every queued record is written before the trail is gone.
impl Drop for AuditTrail {
    fn drop(&mut self) {
        drop(self.queue.take());
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

impl RecordSink for AuditTrail {
    fn record(&self, record: &RequestRecord) {
        let Some(queue) = &self.queue else { return };
        match queue.try_send(to_json(record).to_string()) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                // One warning per power of two, not one per record.
                if dropped.is_power_of_two() {
                    tracing::warn!(dropped, "the audit trail falls behind: records dropped");
                }
            }
            Err(TrySendError::Disconnected(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}
