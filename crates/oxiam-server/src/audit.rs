//! The audit trail: every request as one line of JSON in a file, shaped like a CloudTrail
//! record (`eventTime`, `eventSource`, `eventName`, `awsRegion`, `sourceIPAddress`,
//! `userAgent`, `userIdentity` with its `sessionContext`, `requestParameters`,
//! `responseElements`, `errorCode`, `errorMessage`, `requestID`, `eventID`, `readOnly`,
//! `eventType`, `recipientAccountId`), with an `oxiam` section saying what authorization
//! decided and by which statement (policy, Sid, index, the condition keys it tested),
//! access by access. Parameters and elements are the generated wire layer's, with every
//! value the service model marks sensitive (secret keys, passwords, private keys) written
//! as CloudTrail writes it: `HIDDEN_DUE_TO_SECURITY_REASONS`.
//!
//! An event is written before its response is sent, and a request whose event cannot be
//! written fails (500) rather than go unrecorded: an audit trail that can silently miss
//! events is not one. A write that already ran stays done, though, so after a failure the
//! server refuses requests before they run until the trail takes an event again. Each
//! event is one line written to a file opened for appending (no buffer to lose, no thread
//! to hand it to: measured cheaper than either), on the request's own thread (a slow disk
//! slows the requests), and not synced to disk. Lines never interleave: each is one
//! `write(2)` to a file opened `O_APPEND`, which the kernel appends whole, so requests
//! don't queue on a lock of ours (measured: that lock's futex waits cost more than the
//! writes); standard output, maybe a pipe, is written under its own lock.

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use oxiam_core::record::RequestRecord;
use serde::Serialize;
use serde_json::value::RawValue;

/// The audit trail's file.
#[derive(Debug)]
pub struct AuditTrail {
    out: Out,
    /// Set when a write failed, cleared when one succeeds: while it is set, requests are
    /// refused before they run (see [`AuditTrail::failing`]). A failed write may also
    /// have left part of a line, so the next one starts on a line of its own.
    failing: AtomicBool,
}

/// Where the events go: a file opened for appending, or standard output (`--audit-log -`).
#[derive(Debug)]
enum Out {
    File(File),
    Stdout,
}

impl Out {
    /// Writes `line` whole, as one write where the file allows it.
    fn write_line(&self, line: &[u8]) -> std::io::Result<()> {
        match self {
            Out::File(file) => {
                let mut file: &File = file;
                // One write(2) on an O_APPEND file is appended whole, untouched by other
                // writers; only a full disk writes less, and then the rest fails too.
                let written = file.write(line)?;
                if written < line.len() {
                    file.write_all(&line[written..])?;
                }
                Ok(())
            }
            Out::Stdout => {
                // Standard output's own lock keeps lines whole.
                let mut stdout = std::io::stdout().lock();
                stdout.write_all(line).and_then(|()| stdout.flush())
            }
        }
    }
}

impl AuditTrail {
    /// Appends to `path` (created private, 0600, if missing), or writes to standard output
    /// if `path` is `-`.
    pub fn open(path: &Path) -> std::io::Result<Self> {
        if path == Path::new("-") {
            return Ok(Self::over(Out::Stdout));
        }
        let mut options = OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(path)?;
        // An existing trail readable by others is made private, as the data directory is.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            if file.metadata()?.permissions().mode() & 0o077 != 0 {
                file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
            }
        }
        Ok(Self::over(Out::File(file)))
    }

    fn over(out: Out) -> Self {
        Self {
            out,
            failing: AtomicBool::new(false),
        }
    }

    /// Whether the last write failed. The server then refuses requests before they run
    /// (a write that ran and then could not be recorded stays done: only the first request
    /// to meet a failing trail can be in that case), and the refusal's own event tries
    /// the trail again.
    pub fn failing(&self) -> bool {
        self.failing.load(Ordering::Relaxed)
    }

    /// Writes one request's event; returns once it is in the file (written, not synced).
    pub fn write(&self, record: &RequestRecord) -> std::io::Result<()> {
        let mut line = Vec::with_capacity(2048);
        if self.failing() {
            line.push(b'\n');
        }
        serde_json::to_writer(&mut line, &Event::of(record)).map_err(std::io::Error::other)?;
        line.push(b'\n');
        let result = self.out.write_line(&line);
        self.failing.store(result.is_err(), Ordering::Relaxed);
        result
    }
}

/// Whether an operation of the Query protocol only reads: CloudTrail records no
/// `responseElements` for those.
pub(crate) fn read_only_operation(service: oxiam_core::Service, operation: &str) -> bool {
    oxiam_catalogue::action(service.signing_name(), operation).is_some_and(reads_only)
}

/// Whether an action only reads (its access level is List or Read), as CloudTrail's
/// `readOnly` says.
fn read_only(action: &str) -> Option<bool> {
    oxiam_catalogue::action_named(action).map(reads_only)
}

fn reads_only(action: &oxiam_catalogue::Action) -> bool {
    matches!(
        action.access_level,
        oxiam_catalogue::AccessLevel::List | oxiam_catalogue::AccessLevel::Read
    )
}

/// One request's event, as the audit trail writes it (borrowed from its record).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Event<'r> {
    event_version: &'static str,
    event_time: String,
    event_source: Option<String>,
    event_name: Option<&'r str>,
    aws_region: Option<&'r str>,
    #[serde(rename = "sourceIPAddress")]
    source_ip_address: Option<String>,
    user_agent: Option<&'r str>,
    user_identity: UserIdentity<'r>,
    request_parameters: Option<Box<RawValue>>,
    response_elements: Option<Box<RawValue>>,
    error_code: Option<&'r str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_message: Option<&'r str>,
    #[serde(rename = "requestID")]
    request_id: &'r str,
    #[serde(rename = "eventID")]
    event_id: String,
    read_only: Option<bool>,
    event_type: &'static str,
    recipient_account_id: Option<&'r str>,
    oxiam: Oxiam<'r>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UserIdentity<'r> {
    #[serde(rename = "type")]
    kind: Option<&'r str>,
    principal_id: Option<&'r str>,
    arn: Option<&'r str>,
    account_id: Option<&'r str>,
    access_key_id: Option<&'r str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_name: Option<&'r str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    session_context: Option<SessionContext<'r>>,
}

/// How temporary credentials were issued (`userIdentity.sessionContext`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SessionContext<'r> {
    #[serde(skip_serializing_if = "Option::is_none")]
    session_issuer: Option<SessionIssuer<'r>>,
    attributes: SessionAttributes,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SessionIssuer<'r> {
    #[serde(rename = "type")]
    kind: &'static str,
    principal_id: &'r str,
    arn: &'r str,
    account_id: &'r str,
    user_name: &'r str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SessionAttributes {
    creation_date: String,
    /// oxiam issues no session through MFA (yet): always `"false"`, as text, as CloudTrail
    /// writes it.
    mfa_authenticated: &'static str,
}

/// oxiam's own section: what authorization decided, and the answer.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Oxiam<'r> {
    decision: Option<&'static str>,
    decided_by: Option<&'r str>,
    verdicts: Vec<Verdict<'r>>,
    http_status: u16,
    latency_micros: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Verdict<'r> {
    action: &'r str,
    resource: &'r str,
    decision: &'static str,
    decided_by: &'r str,
    /// The statement that decided, when one did.
    #[serde(skip_serializing_if = "Option::is_none")]
    statement: Option<Statement<'r>>,
    /// `false`: a denial `--enforcement log` let through.
    enforced: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Statement<'r> {
    policy: &'r str,
    sid: Option<&'r str>,
    index: usize,
    condition_keys: &'r [String],
}

impl<'r> Event<'r> {
    /// The event of a request.
    pub fn of(r: &'r RequestRecord) -> Self {
        let decision = r.decision();
        Event {
            event_version: "1.09",
            event_time: oxiam_protocol::Timestamp(r.time).to_iso8601(),
            event_source: (!r.service.is_empty()).then(|| format!("{}.amazonaws.com", r.service)),
            event_name: r.operation.as_deref(),
            aws_region: r.region.as_deref(),
            source_ip_address: r.source_ip.map(|ip| ip.to_string()),
            user_agent: r.user_agent.as_deref(),
            user_identity: UserIdentity {
                kind: r.principal_type,
                principal_id: r.principal_id.as_deref(),
                arn: r.principal.as_deref(),
                account_id: r.account_id.as_deref(),
                access_key_id: r.access_key_id.as_deref(),
                user_name: r.user_name.as_deref(),
                session_context: r.session_context.as_ref().map(|s| SessionContext {
                    session_issuer: s.issuer.as_ref().map(|i| SessionIssuer {
                        kind: i.kind,
                        principal_id: &i.principal_id,
                        arn: &i.arn,
                        account_id: &i.account_id,
                        user_name: &i.user_name,
                    }),
                    attributes: SessionAttributes {
                        creation_date: oxiam_protocol::Timestamp(s.issued_at).to_iso8601(),
                        mfa_authenticated: if s.mfa_authenticated { "true" } else { "false" },
                    },
                }),
            },
            request_parameters: raw_json(r.request_parameters.as_deref()),
            response_elements: raw_json(r.response_elements.as_deref()),
            error_code: r.error_code.as_deref(),
            error_message: r.error_message.as_deref(),
            request_id: &r.request_id,
            event_id: event_id(&r.request_id),
            read_only: decision.and_then(|v| read_only(&v.action)),
            event_type: "AwsApiCall",
            recipient_account_id: r.account_id.as_deref(),
            oxiam: Oxiam {
                decision: decision.map(|v| v.outcome.as_str()),
                decided_by: decision.map(|v| v.decided_by.as_str()),
                verdicts: r
                    .verdicts
                    .iter()
                    .map(|v| Verdict {
                        action: &v.action,
                        resource: &v.resource,
                        decision: v.outcome.as_str(),
                        decided_by: &v.decided_by,
                        statement: v.statement.as_ref().map(|s| Statement {
                            policy: &s.policy,
                            sid: s.sid.as_deref(),
                            index: s.index,
                            condition_keys: &s.condition_keys,
                        }),
                        enforced: v.enforced,
                    })
                    .collect(),
                http_status: r.status,
                latency_micros: r.latency_us,
            },
        }
    }
}

/// The event's id: unique as its request's id is, of the same form, and not equal to it:
/// each hex digit of the request id but the UUID's version and variant digits inverted (a
/// bijection; no second draw from the operating system's random source per request).
fn event_id(request_id: &str) -> String {
    request_id
        .char_indices()
        .map(|(i, c)| match c.to_digit(16) {
            Some(d) if i != 14 && i != 19 => char::from_digit(15 - d, 16).unwrap_or(c),
            _ => c,
        })
        .collect()
}

/// JSON the wire layer wrote, embedded as it is (`None` if it is somehow not JSON: the
/// event is still written, without it).
fn raw_json(text: Option<&str>) -> Option<Box<RawValue>> {
    RawValue::from_string(text?.to_owned()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_id_is_its_requests_id_transformed_one_to_one() {
        let id = "0f3a9c12-77b0-4e1d-9a2b-c3d4e5f60718";
        let event = event_id(id);
        assert_eq!(event, "f0c563ed-884f-41e2-95d4-3c2b1a09f8e7");
        assert_ne!(event, id);
        // Inverting twice gives the request id back: distinct requests, distinct events.
        assert_eq!(event_id(&event), id);
    }
}
