//! SigV4 signing keys, kept once derived.
//!
//! Checking a signature takes the signing key of the caller's secret for the request's
//! credential scope: the secret unsealed (ChaCha20-Poly1305), then four HMACs over it. On
//! a GetUser answered from the read cache that was about a tenth of the server's CPU, for a
//! result that changes only with the day, the region and the service signed for.
//!
//! What is kept decides nothing by itself:
//! - the key is still looked up on every request, and its status, owner and session token
//!   checked, before its signature is;
//! - an entry serves only the very sealed secret it was derived from (a key id given a new
//!   secret, as a test server's reset does, derives again);
//! - a key is kept only after a signature made with it checked out, so that callers without
//!   the secret cannot fill the cache (with made-up regions, say).

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
    /// Checks a signature (`check`) with the signing key for `scope` of the secret sealed as
    /// `sealed`: the one kept, or one derived from what `open` unseals. A derived key is kept
    /// only once `check` has accepted it, so a caller who knows a key id but not its secret
    /// adds nothing here (made-up regions cannot crowd the keys in use out).
    pub(crate) fn check<E>(
        &self,
        scope: &Scope<'_>,
        sealed: &str,
        open: impl FnOnce() -> Result<String, E>,
        check: impl FnOnce(&[u8; 32]) -> Result<(), E>,
    ) -> Result<(), E> {
        // Every signed request looks its key up: the name joined by hand, not by `format!`.
        let name = [scope.access_key_id, scope.date, scope.region, scope.service].join("/");
        let kept = self
            .lock()
            .get(&name)
            .filter(|entry| *entry.sealed == *sealed)
            .map(|entry| entry.key);
        if let Some(key) = kept {
            return check(&key);
        }
        // Unsealed and derived outside the lock: another worker may do the same meanwhile,
        // and both get the same key.
        let secret = open()?;
        let key = oxiam_sigv4::signing_key(&secret, scope.date, scope.region, scope.service);
        check(&key)?;
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
        Ok(())
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

    /// Checks a request signed with `signed_with` for `scope`, the key's secret being
    /// `secret` sealed as `sealed` (the check compares signing keys, as comparing the
    /// signatures they make would); counts how often it unsealed.
    fn check(
        keys: &SigningKeys,
        scope: &Scope<'_>,
        sealed: &str,
        secret: &str,
        signed_with: &str,
        opened: &mut u32,
    ) -> Result<(), &'static str> {
        let claimed = oxiam_sigv4::signing_key(signed_with, scope.date, scope.region, scope.service);
        keys.check(
            scope,
            sealed,
            || {
                *opened += 1;
                Ok(secret.to_owned())
            },
            |key| {
                if *key == claimed {
                    Ok(())
                } else {
                    Err("SignatureDoesNotMatch")
                }
            },
        )
    }

    #[test]
    fn a_key_is_derived_once_per_scope_and_sealed_secret() {
        let keys = SigningKeys::default();
        let mut opened = 0;
        let first = scope("AKIAONE", "20261206", "us-east-1", "iam");
        assert_eq!(check(&keys, &first, "sealed-1", SECRET, SECRET, &mut opened), Ok(()));
        assert_eq!(check(&keys, &first, "sealed-1", SECRET, SECRET, &mut opened), Ok(()));
        assert_eq!(opened, 1, "the second request is checked with the kept key");
        // The kept key is the secret's: a request signed with another still fails.
        assert!(check(&keys, &first, "sealed-1", SECRET, "not-the-secret", &mut opened).is_err());
        assert_eq!(opened, 1);

        // Each part of the scope is a scope of its own, and gets its own key.
        for other in [
            scope("AKIATWO", "20261206", "us-east-1", "iam"),
            scope("AKIAONE", "20261207", "us-east-1", "iam"),
            scope("AKIAONE", "20261206", "eu-west-1", "iam"),
            scope("AKIAONE", "20261206", "us-east-1", "sts"),
        ] {
            let before = opened;
            assert_eq!(check(&keys, &other, "sealed-1", SECRET, SECRET, &mut opened), Ok(()));
            assert_eq!(opened, before + 1);
        }

        // The same key id sealed anew, with another secret: derived again, from that one.
        assert!(check(&keys, &first, "sealed-2", "another-secret", SECRET, &mut opened).is_err());
        for _ in 0..2 {
            let signed = check(
                &keys,
                &first,
                "sealed-2",
                "another-secret",
                "another-secret",
                &mut opened,
            );
            assert_eq!(signed, Ok(()));
        }
        assert_eq!(opened, 7);
    }

    #[test]
    fn only_a_key_that_checked_out_is_kept() {
        let keys = SigningKeys::default();
        let first = scope("AKIAONE", "20261206", "us-east-1", "iam");
        let unopened = keys.check(&first, "sealed-1", || Err("does not open"), |_| Ok(()));
        assert_eq!(unopened, Err("does not open"));
        let mut opened = 0;
        // Someone who knows the key id but not its secret, signing for made-up regions.
        for region in ["made-up-1", "made-up-2", "made-up-3"] {
            let made_up = scope("AKIAONE", "20261206", region, "iam");
            assert!(check(&keys, &made_up, "sealed-1", SECRET, "a-guess", &mut opened).is_err());
        }
        assert_eq!(keys.lock().len(), 0, "nothing kept for a failed check");
        assert_eq!(check(&keys, &first, "sealed-1", SECRET, SECRET, &mut opened), Ok(()));
        assert_eq!(keys.lock().len(), 1);
    }

    #[test]
    fn a_full_cache_starts_again_and_still_answers_right() {
        let keys = SigningKeys::default();
        let mut opened = 0;
        let ids: Vec<String> = (0..=CAPACITY).map(|i| format!("AKIA{i:016}")).collect();
        for id in &ids {
            let one = scope(id, "20261206", "us-east-1", "iam");
            assert_eq!(check(&keys, &one, "s", SECRET, SECRET, &mut opened), Ok(()));
        }
        assert_eq!(keys.lock().len(), 1, "the entry past the capacity is alone");
        let first = scope(&ids[0], "20261206", "us-east-1", "iam");
        assert_eq!(check(&keys, &first, "s", SECRET, SECRET, &mut opened), Ok(()));
        assert_eq!(opened as usize, CAPACITY + 2);
    }
}
