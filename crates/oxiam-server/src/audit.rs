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
//! server refuses requests before they run until the trail takes an event again.
//!
//! Events are written in groups, on the requests' own threads (no writer thread to hand
//! them to: measured dearer, two wake-ups per request on two cores), and not synced to
//! disk. The first request with an event to write leads a group: it yields once to the
//! scheduler, so that the other requests ready on the workers reach their own events and
//! join it, then writes the whole group with one `write(2)` (the syscall was most of the
//! trail's cost) and wakes each member, once. Lines never interleave: every write (a
//! group's, or an abandoned request's own) takes one lock, once per group, so lines stay
//! whole where a write is not appended whole (a pipe, a short write on a full disk). A
//! group's leader dropped before it wrote (its
//! client gone) writes the group as it is dropped, so no member waits for nothing.

use std::fs::{File, OpenOptions};
use std::future::Future;
use std::io::Write as _;
use std::path::Path;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

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
    /// The group being gathered, if one is: taken by its leader when it writes.
    gathering: Mutex<Option<Arc<Group>>>,
    /// Held across a write and the `failing` flag it sets: two groups written at once (one
    /// gathered while the last was being written) must not interleave where a write is
    /// not appended whole (a pipe, a full disk's short write), nor race on the flag.
    /// Taken once per group, not per event.
    writing: Mutex<()>,
}

/// Events written together: one write for all, each member woken once it is done.
#[derive(Debug, Default)]
struct Group {
    state: Mutex<GroupState>,
}

#[derive(Debug, Default)]
struct GroupState {
    lines: Vec<u8>,
    /// How the write went, once it went (an `io::Error` is not `Clone`: its kind and text).
    written: Option<Result<(), (std::io::ErrorKind, String)>>,
    waiting: Vec<Waker>,
}

/// Locks, whether or not a holder panicked: the state stays consistent at every step.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A request's event, in a group, until the group is written.
#[must_use = "an event is in the trail only once `written` has returned"]
pub struct Queued {
    trail: Arc<AuditTrail>,
    group: Arc<Group>,
    leads: bool,
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
        // An existing trail readable by others is made private, as the data directory is
        // (a file: a device or a pipe named as the trail is left as it is).
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let metadata = file.metadata()?;
            if metadata.is_file() && metadata.permissions().mode() & 0o077 != 0 {
                file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
            }
        }
        Ok(Self::over(Out::File(file)))
    }

    fn over(out: Out) -> Self {
        Self {
            out,
            failing: AtomicBool::new(false),
            gathering: Mutex::new(None),
            writing: Mutex::new(()),
        }
    }

    /// Whether the last write failed. The server then refuses requests before they run
    /// (a write that ran and then could not be recorded stays done: only the first request
    /// to meet a failing trail can be in that case), and the refusal's own event tries
    /// the trail again.
    pub fn failing(&self) -> bool {
        self.failing.load(Ordering::Relaxed)
    }

    /// Writes one request's event alone, at once; returns once it is in the file (written,
    /// not synced). For a request abandoned before its answer, with no task left to wait.
    pub fn write(&self, record: &RequestRecord) -> std::io::Result<()> {
        let mut line = Vec::with_capacity(2048);
        Self::append_event(&mut line, record)?;
        self.write_lines(line)
    }

    /// Writes whole lines, after a newline if the last write failed (it may have left part
    /// of a line); records whether this one failed.
    fn write_lines(&self, mut lines: Vec<u8>) -> std::io::Result<()> {
        let _one_writer = lock(&self.writing);
        if self.failing() {
            lines.insert(0, b'\n');
        }
        let result = self.out.write_line(&lines);
        self.failing.store(result.is_err(), Ordering::Relaxed);
        result
    }

    /// Puts one request's event in the group being gathered (leading a new one if none
    /// is); `Queued::written` then returns once the group is in the file. From here on the
    /// event will be written, whether or not the request waits for it.
    pub fn enqueue(self: &Arc<Self>, record: &RequestRecord) -> std::io::Result<Queued> {
        let mut line = Vec::with_capacity(2048);
        Self::append_event(&mut line, record)?;
        let mut gathering = lock(&self.gathering);
        if let Some(group) = gathering.as_ref() {
            lock(&group.state).lines.extend_from_slice(&line);
            return Ok(Queued {
                trail: self.clone(),
                group: group.clone(),
                leads: false,
            });
        }
        let group = Arc::new(Group::default());
        lock(&group.state).lines = line;
        *gathering = Some(group.clone());
        Ok(Queued {
            trail: self.clone(),
            group,
            leads: true,
        })
    }

    fn append_event(line: &mut Vec<u8>, record: &RequestRecord) -> std::io::Result<()> {
        serde_json::to_writer(&mut *line, &Event::of(record)).map_err(std::io::Error::other)?;
        line.push(b'\n');
        Ok(())
    }

    /// Closes `group` to newcomers and writes it; wakes its members. Returns how the write
    /// went (each member gets it too).
    fn write_group(&self, group: &Arc<Group>) -> std::io::Result<()> {
        {
            let mut gathering = lock(&self.gathering);
            if gathering.as_ref().is_some_and(|g| Arc::ptr_eq(g, group)) {
                *gathering = None;
            }
        }
        let lines = std::mem::take(&mut lock(&group.state).lines);
        let result = self.write_lines(lines);
        let waiting = {
            let mut state = lock(&group.state);
            state.written = Some(result.as_ref().copied().map_err(|e| (e.kind(), e.to_string())));
            std::mem::take(&mut state.waiting)
        };
        for waker in waiting {
            waker.wake();
        }
        result
    }
}

impl Queued {
    /// Returns once the event's group is in the file (written, not synced), or could not
    /// be written.
    pub async fn written(mut self) -> std::io::Result<()> {
        if self.leads {
            // Let the other requests ready to run reach their events and join the group.
            tokio::task::yield_now().await;
            self.leads = false;
            // The outcome reaches this request as a member's does, just below.
            let _ = self.trail.write_group(&self.group);
        }
        MemberOf(&self.group).await
    }
}

impl Drop for Queued {
    /// A leader dropped before it wrote (its request abandoned) writes its group now: the
    /// members wait for it, and every event in it is to be written.
    fn drop(&mut self) {
        if self.leads
            && let Err(error) = self.trail.write_group(&self.group)
        {
            // No request is left to answer with it: the log says so.
            tracing::error!(%error, "an abandoned request's group of audit events could not be written");
        }
    }
}

/// Waits for a group's write.
struct MemberOf<'g>(&'g Group);

impl Future for MemberOf<'_> {
    type Output = std::io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = lock(&self.0.state);
        if let Some(written) = &state.written {
            return Poll::Ready(written.clone().map_err(|(kind, text)| std::io::Error::new(kind, text)));
        }
        if !state.waiting.iter().any(|w| w.will_wake(cx.waker())) {
            state.waiting.push(cx.waker().clone());
        }
        Poll::Pending
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
    #[serde(skip_serializing_if = "Option::is_none")]
    source_identity: Option<&'r str>,
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
    /// Whether an MFA code stood behind the session, as text, as CloudTrail writes it.
    mfa_authenticated: &'static str,
}

/// oxiam's own section: what authorization decided, and the answer.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Oxiam<'r> {
    decision: Option<&'static str>,
    decided_by: Option<&'r str>,
    verdicts: Vec<Verdict<'r>>,
    /// What `--lint-policies` found in the identity policy the request writes.
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    policy_findings: &'r [String],
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
                    source_identity: s.source_identity.as_deref(),
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
                policy_findings: &r.policy_findings,
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

    fn record(n: usize) -> RequestRecord {
        RequestRecord {
            request_id: format!("request-{n}"),
            ..RequestRecord::default()
        }
    }

    fn request_ids(path: &Path) -> Vec<String> {
        let mut ids: Vec<String> = std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(|line| {
                let event: serde_json::Value = serde_json::from_str(line).unwrap();
                event["requestID"].as_str().unwrap().to_owned()
            })
            .collect();
        ids.sort();
        ids
    }

    #[test]
    fn requests_written_in_groups_each_get_one_whole_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let trail = Arc::new(AuditTrail::open(&path).unwrap());
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        runtime.block_on(async {
            let tasks: Vec<_> = (0..500)
                .map(|n| {
                    let trail = trail.clone();
                    tokio::spawn(async move { trail.enqueue(&record(n)).unwrap().written().await })
                })
                .collect();
            for task in tasks {
                task.await.unwrap().unwrap();
            }
        });
        let mut expected: Vec<String> = (0..500).map(|n| format!("request-{n}")).collect();
        expected.sort();
        assert_eq!(request_ids(&path), expected);
    }

    #[test]
    fn a_leader_dropped_before_it_wrote_writes_its_group() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let trail = Arc::new(AuditTrail::open(&path).unwrap());
        let leader = trail.enqueue(&record(1)).unwrap();
        let member = trail.enqueue(&record(2)).unwrap();
        assert!(leader.leads && !member.leads);
        drop(leader);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        // Without the leader's write on drop, the member would wait for ever.
        runtime
            .block_on(async { tokio::time::timeout(std::time::Duration::from_secs(10), member.written()).await })
            .expect("the member's group was written")
            .unwrap();
        assert_eq!(request_ids(&path), ["request-1", "request-2"]);
        // The next event leads a group of its own.
        assert!(trail.enqueue(&record(3)).unwrap().leads);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn every_member_of_a_group_that_cannot_be_written_fails() {
        let trail = Arc::new(AuditTrail::open(Path::new("/dev/full")).unwrap());
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let leader = trail.enqueue(&record(1)).unwrap();
        let member = trail.enqueue(&record(2)).unwrap();
        runtime.block_on(async {
            let (led, joined) = tokio::join!(leader.written(), member.written());
            assert!(led.is_err() && joined.is_err());
        });
        assert!(trail.failing());
    }
}
