//! SigV4 signing keys, kept once derived.
//!
//! Checking a signature takes the signing key of the caller's secret for the request's
//! credential scope: the secret unsealed (ChaCha20-Poly1305), then four HMACs over it. On
//! a GetUser answered from the read cache that was about a tenth of the server's CPU, for a
//! result that changes only with the day, the region and the service signed for.
//!
//! Nothing is decided here. The key is still looked up on every request, and its status,
//! owner and session token checked, before its signing key is asked for; an entry serves
//! only the very sealed secret it was derived from (a key id given a new secret, as a test
//! server's reset does, derives again).

use std::collections::HashMap;
use std::sync::Mutex;

/// Entries kept before all are dropped: many more than the keys a server sees signing in a
/// day (an entry is about 200 bytes).
const CAPACITY: usize = 4096;

/// Signing keys by access key id and credential scope.
#[derive(Default)]
pub(crate) struct SigningKeys {
    /// By `id/date/region/service`: none of the four can hold a `/` (the credential is
    /// split on it), so no two scopes share a name.
    entries: Mutex<HashMap<String, Entry>>,
}

struct Entry {
    /// The sealed secret the key was derived from.
    sealed: Box<str>,
    key: [u8; 32],
}

/// Where a signing key is for.
pub(crate) struct Scope<'a> {
    pub(crate) access_key_id: &'a str,
    pub(crate) date: &'a str,
    pub(crate) region: &'a str,
    pub(crate) service: &'a str,
}

impl std::fmt::Debug for SigningKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKeys(..)")
    }
}

impl SigningKeys {
    /// The signing key for `scope` of the secret sealed as `sealed`: kept, or derived from
    /// what `open` unseals (`None` if it does not open: nothing is kept then).
    pub(crate) fn get_or_derive(
        &self,
        scope: &Scope<'_>,
        sealed: &str,
        open: impl FnOnce() -> Option<String>,
    ) -> Option<[u8; 32]> {
        let name = format!(
            "{}/{}/{}/{}",
            scope.access_key_id, scope.date, scope.region, scope.service
        );
        if let Some(entry) = self.lock().get(&name)
            && *entry.sealed == *sealed
        {
            return Some(entry.key);
        }
        // Unsealed and derived outside the lock: another worker may do the same meanwhile,
        // and both get the same key.
        let secret = open()?;
        let key = oxiam_sigv4::signing_key(&secret, scope.date, scope.region, scope.service);
        let mut entries = self.lock();
        if entries.len() >= CAPACITY {
            // Yesterday's scopes and keys no longer used go with the rest; the keys in use
            // are derived again on their next request.
            entries.clear();
        }
        entries.insert(
            name,
            Entry {
                sealed: sealed.into(),
                key,
            },
        );
        Some(key)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        // An entry is written whole under the lock: one a panic interrupted is still sound.
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

    fn scope<'a>(access_key_id: &'a str, date: &'a str, region: &'a str, service: &'a str) -> Scope<'a> {
        Scope {
            access_key_id,
            date,
            region,
            service,
        }
    }

    /// `get_or_derive`, counting how often it unsealed.
    fn derive(keys: &SigningKeys, scope: &Scope<'_>, sealed: &str, secret: &str, opened: &mut u32) -> [u8; 32] {
        keys.get_or_derive(scope, sealed, || {
            *opened += 1;
            Some(secret.to_owned())
        })
        .unwrap()
    }

    #[test]
    fn a_key_is_derived_once_per_scope_and_sealed_secret() {
        let keys = SigningKeys::default();
        let mut opened = 0;
        let first = scope("AKIAONE", "20261206", "us-east-1", "iam");
        let want = oxiam_sigv4::signing_key(SECRET, "20261206", "us-east-1", "iam");
        assert_eq!(derive(&keys, &first, "sealed-1", SECRET, &mut opened), want);
        assert_eq!(derive(&keys, &first, "sealed-1", SECRET, &mut opened), want);
        assert_eq!(opened, 1, "the second request is answered from the kept key");

        // Each part of the scope is a scope of its own, and gets its own key.
        for other in [
            scope("AKIATWO", "20261206", "us-east-1", "iam"),
            scope("AKIAONE", "20261207", "us-east-1", "iam"),
            scope("AKIAONE", "20261206", "eu-west-1", "iam"),
            scope("AKIAONE", "20261206", "us-east-1", "sts"),
        ] {
            let before = opened;
            assert_eq!(
                derive(&keys, &other, "sealed-1", SECRET, &mut opened),
                oxiam_sigv4::signing_key(SECRET, other.date, other.region, other.service)
            );
            assert_eq!(opened, before + 1);
        }

        // The same key id sealed anew, with another secret: derived again, from that one.
        let replaced = derive(&keys, &first, "sealed-2", "another-secret", &mut opened);
        assert_eq!(
            replaced,
            oxiam_sigv4::signing_key("another-secret", "20261206", "us-east-1", "iam")
        );
        assert_eq!(
            derive(&keys, &first, "sealed-2", "another-secret", &mut opened),
            replaced
        );
        assert_eq!(opened, 6);
    }

    #[test]
    fn a_secret_that_does_not_open_gives_no_key_and_leaves_none() {
        let keys = SigningKeys::default();
        let first = scope("AKIAONE", "20261206", "us-east-1", "iam");
        assert_eq!(keys.get_or_derive(&first, "sealed-1", || None), None);
        let mut opened = 0;
        derive(&keys, &first, "sealed-1", SECRET, &mut opened);
        assert_eq!(opened, 1);
    }

    #[test]
    fn a_full_cache_starts_again_and_still_answers_right() {
        let keys = SigningKeys::default();
        let mut opened = 0;
        let ids: Vec<String> = (0..=CAPACITY).map(|i| format!("AKIA{i:016}")).collect();
        for id in &ids {
            derive(
                &keys,
                &scope(id, "20261206", "us-east-1", "iam"),
                "s",
                SECRET,
                &mut opened,
            );
        }
        assert_eq!(keys.lock().len(), 1, "the entry past the capacity is alone");
        let first = scope(&ids[0], "20261206", "us-east-1", "iam");
        assert_eq!(
            derive(&keys, &first, "s", SECRET, &mut opened),
            oxiam_sigv4::signing_key(SECRET, "20261206", "us-east-1", "iam")
        );
        assert_eq!(opened as usize, CAPACITY + 2);
    }
}
