//! Identifiers in AWS's formats: `AIDA…` user ids, `AKIA…` key ids, 40-character secrets,
//! ARNs.

/// The characters of AWS's unique ids (user ids, key ids): upper-case base32.
const ID_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
/// The characters of a secret access key.
const SECRET_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn random_from(alphabet: &[u8], len: usize) -> String {
    // Both alphabets have a power-of-two size, so masking a byte draws without bias.
    debug_assert!(alphabet.len().is_power_of_two());
    let mut bytes = vec![0u8; len];
    getrandom::fill(&mut bytes).expect("the operating system's random source failed");
    bytes
        .iter()
        .map(|b| alphabet[*b as usize & (alphabet.len() - 1)] as char)
        .collect()
}

/// The characters of AWS Organizations' ids (`o-…`, `r-…`, `ou-…`, `p-…`): lower-case base32.
const ORGANIZATIONS_ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";

/// An Organizations id: `prefix` and `len` lower-case letters and digits (`o-` and 10, …).
pub fn organizations_id(prefix: &str, len: usize) -> String {
    format!("{prefix}{}", random_from(ORGANIZATIONS_ALPHABET, len))
}

/// A user id: `AIDA` and 17 characters, 21 in all.
pub fn user_id() -> String {
    format!("AIDA{}", random_from(ID_ALPHABET, 17))
}

/// A role id: `AROA` and 17 characters.
pub fn role_id() -> String {
    format!("AROA{}", random_from(ID_ALPHABET, 17))
}

/// A group id: `AGPA` and 17 characters.
pub fn group_id() -> String {
    format!("AGPA{}", random_from(ID_ALPHABET, 17))
}

/// An instance profile id: `AIPA` and 17 characters.
pub fn instance_profile_id() -> String {
    format!("AIPA{}", random_from(ID_ALPHABET, 17))
}

/// A managed policy id: `ANPA` and 17 characters.
pub fn policy_id() -> String {
    format!("ANPA{}", random_from(ID_ALPHABET, 17))
}

/// A long-term access key id: `AKIA` and 16 characters, 20 in all.
pub fn access_key_id() -> String {
    format!("AKIA{}", random_from(ID_ALPHABET, 16))
}

/// A SAML provider's private key id: 26 of `[A-Z2-7]` (AWS's are 22 to 64 of `[A-Z0-9]`).
pub fn saml_private_key_id() -> String {
    random_from(ID_ALPHABET, 26)
}

/// A secret access key: 40 characters.
pub fn secret_access_key() -> String {
    random_from(SECRET_ALPHABET, 40)
}

/// An SSH public key id: `APKA` and 16 characters, 20 in all.
pub fn ssh_public_key_id() -> String {
    format!("APKA{}", random_from(ID_ALPHABET, 16))
}

/// A server certificate id: `ASCA` and 17 characters.
pub fn server_certificate_id() -> String {
    format!("ASCA{}", random_from(ID_ALPHABET, 17))
}

/// A SAML provider's id (`SAMLProviderUUID`): `SAMLSP` and 16 upper-case letters and
/// digits, 22 in all, as AWS's.
pub fn saml_provider_uuid() -> String {
    const ALPHANUMERIC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the operating system's random source failed");
    // 36 symbols: rejection would be unbiased; the modulo's bias (256 = 7 * 36 + 4) is
    // harmless for an identifier that guards nothing.
    let tail: String = bytes
        .iter()
        .map(|b| char::from(ALPHANUMERIC[usize::from(*b) % ALPHANUMERIC.len()]))
        .collect();
    format!("SAMLSP{tail}")
}

/// A service-specific credential id: `ACCA` and 17 characters.
pub fn service_credential_id() -> String {
    format!("ACCA{}", random_from(ID_ALPHABET, 17))
}

/// A service-specific password (CodeCommit's, Keyspaces'): 32 random bytes in base64, 44
/// characters, as in AWS's examples.
pub fn service_password() -> String {
    use base64::Engine as _;
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random source failed");
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A 12-digit account id (never starting with 0, so it survives being read as a number).
pub fn account_id() -> String {
    let mut bytes = [0u8; 12];
    getrandom::fill(&mut bytes).expect("the operating system's random source failed");
    bytes
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let digit = if i == 0 { 1 + b % 9 } else { b % 10 };
            char::from(b'0' + digit)
        })
        .collect()
}

/// A request id in AWS's form (a UUID, version 4). One per request: one allocation, and a
/// system call for every 256 ids (its random bytes come from [`pooled_random`]).
pub fn request_id() -> String {
    let mut b = [0u8; 16];
    pooled_random(&mut b);
    uuid_of(b)
}

/// A random UUID (version 4), lower-case.
pub fn uuid() -> String {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).expect("the operating system's random source failed");
    uuid_of(b)
}

/// The UUID (version 4) of 16 random bytes.
fn uuid_of(mut b: [u8; 16]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let mut id = String::with_capacity(36);
    for (i, x) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            id.push('-');
        }
        id.push(char::from(HEX[usize::from(x >> 4)]));
        id.push(char::from(HEX[usize::from(x & 0x0f)]));
    }
    id
}

/// Bytes of the operating system's random source, read 4 KiB at a time by each thread and
/// handed out once each. For the request id, which every request makes: a system call per
/// request cost more than the rest of the id (it was one of three per GetUser, beside the
/// read and the write). The bytes are the same source's; only the reads are fewer.
fn pooled_random(out: &mut [u8]) {
    const POOL: usize = 4096;
    struct Pool {
        bytes: [u8; POOL],
        /// Where the unused bytes start (`POOL`: none left).
        next: usize,
    }
    thread_local! {
        static RANDOM: std::cell::RefCell<Pool> =
            const { std::cell::RefCell::new(Pool { bytes: [0; POOL], next: POOL }) };
    }
    assert!(out.len() <= POOL, "at most {POOL} bytes at a time");
    RANDOM.with_borrow_mut(|pool| {
        if POOL - pool.next < out.len() {
            getrandom::fill(&mut pool.bytes).expect("the operating system's random source failed");
            pool.next = 0;
        }
        let taken = &mut pool.bytes[pool.next..pool.next + out.len()];
        out.copy_from_slice(taken);
        // Zeroed as handed out, so that a slip in the cursor would repeat zeros, which the
        // tests see, rather than an id.
        taken.fill(0);
        pool.next += out.len();
    });
}

/// `arn:aws:iam::ACCOUNT:KIND/PATH/NAME` (`path` starts and ends with `/`). Joined by hand,
/// not by `format!`: every request writes its caller's ARN several times.
fn iam_arn(account_id: &str, kind: &str, path: &str, name: &str) -> String {
    ["arn:aws:iam::", account_id, ":", kind, path, name].concat()
}

/// `arn:aws:iam::ACCOUNT:user/PATH/NAME` (the path starts and ends with `/`).
pub fn user_arn(account_id: &str, path: &str, name: &str) -> String {
    iam_arn(account_id, "user", path, name)
}

/// `arn:aws:iam::ACCOUNT:role/PATH/NAME`.
pub fn role_arn(account_id: &str, path: &str, name: &str) -> String {
    iam_arn(account_id, "role", path, name)
}

/// `arn:aws:iam::ACCOUNT:group/PATH/NAME`.
pub fn group_arn(account_id: &str, path: &str, name: &str) -> String {
    iam_arn(account_id, "group", path, name)
}

/// `arn:aws:iam::ACCOUNT:instance-profile/PATH/NAME`.
pub fn instance_profile_arn(account_id: &str, path: &str, name: &str) -> String {
    iam_arn(account_id, "instance-profile", path, name)
}

/// A virtual MFA device's serial number: `arn:aws:iam::ACCOUNT:mfa/PATH/NAME`.
pub fn mfa_serial_number(account_id: &str, path: &str, name: &str) -> String {
    iam_arn(account_id, "mfa", path, name)
}

/// `arn:aws:iam::ACCOUNT:policy/PATH/NAME`.
pub fn policy_arn(account_id: &str, path: &str, name: &str) -> String {
    iam_arn(account_id, "policy", path, name)
}

/// `v3` for version 3 of a managed policy.
pub fn version_id(version: i64) -> String {
    format!("v{version}")
}

/// The number of a version id (`v3` is 3); `None` for anything else.
pub fn parse_version_id(id: &str) -> Option<i64> {
    id.strip_prefix('v')?.parse().ok().filter(|n| *n > 0)
}

/// `arn:aws:iam::ACCOUNT:root`.
pub fn root_arn(account_id: &str) -> String {
    ["arn:aws:iam::", account_id, ":root"].concat()
}

/// `arn:aws:sts::ACCOUNT:federated-user/NAME`: a GetFederationToken session.
pub fn federated_user_arn(account_id: &str, name: &str) -> String {
    ["arn:aws:sts::", account_id, ":federated-user/", name].concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_aws_shapes() {
        let u = user_id();
        assert!(u.starts_with("AIDA") && u.len() == 21 && u.bytes().all(|c| ID_ALPHABET.contains(&c)));
        let k = access_key_id();
        assert!(k.starts_with("AKIA") && k.len() == 20);
        assert_eq!(secret_access_key().len(), 40);
        let a = account_id();
        assert!(a.len() == 12 && a.bytes().all(|c| c.is_ascii_digit()) && !a.starts_with('0'));
        assert_ne!(user_id(), user_id());
        let r = request_id();
        assert_eq!(r.len(), 36);
        assert_eq!(&r[14..15], "4");
    }

    /// The pool is refilled as it runs out (256 ids a fill), each thread has its own, and no
    /// byte is handed out twice: ids across several fills, on two threads, are all distinct
    /// UUIDs of version 4 and variant 1.
    #[test]
    fn request_ids_stay_distinct_across_pool_refills_and_threads() {
        let draw = || (0..1_000).map(|_| request_id()).collect::<Vec<_>>();
        let other = std::thread::spawn(draw);
        let mut ids = draw();
        ids.extend(other.join().expect("the other thread draws"));
        for id in &ids {
            let hex: String = id.chars().filter(|c| *c != '-').collect();
            assert_eq!(id.len(), 36, "{id}");
            assert_eq!([8, 13, 18, 23].map(|i| id.as_bytes()[i]), [b'-'; 4], "{id}");
            assert!(
                hex.bytes().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()),
                "{id}"
            );
            assert_eq!(&id[14..15], "4", "{id}");
            assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"), "{id}");
        }
        let distinct: std::collections::HashSet<&String> = ids.iter().collect();
        assert_eq!(distinct.len(), ids.len(), "a request id repeated");
    }

    #[test]
    fn arns_join_path_and_name() {
        assert_eq!(
            user_arn("123456789012", "/", "bob"),
            "arn:aws:iam::123456789012:user/bob"
        );
        assert_eq!(
            user_arn("123456789012", "/a/b/", "bob"),
            "arn:aws:iam::123456789012:user/a/b/bob"
        );
        let a = "123456789012";
        assert_eq!(role_arn(a, "/r/", "x"), "arn:aws:iam::123456789012:role/r/x");
        assert_eq!(group_arn(a, "/", "g"), "arn:aws:iam::123456789012:group/g");
        assert_eq!(
            instance_profile_arn(a, "/p/", "i"),
            "arn:aws:iam::123456789012:instance-profile/p/i"
        );
        assert_eq!(mfa_serial_number(a, "/", "m"), "arn:aws:iam::123456789012:mfa/m");
        assert_eq!(policy_arn(a, "/q/", "p"), "arn:aws:iam::123456789012:policy/q/p");
        assert_eq!(root_arn(a), "arn:aws:iam::123456789012:root");
        assert_eq!(federated_user_arn(a, "f"), "arn:aws:sts::123456789012:federated-user/f");
    }
}
