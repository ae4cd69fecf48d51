//! Console passwords: argon2id hashes (each hash a PHC string that records its own
//! parameters and salt, so parameters can change without losing old hashes), and the
//! account password policy's rules, worded as IAM words its PasswordPolicyViolation.
//! Pure but for the salt, which comes from the operating system.

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use oxiam_store::PasswordPolicyRow;

/// The characters IAM counts as symbols (the API reference's list for RequireSymbols).
pub const SYMBOLS: &str = "!@#$%^&*()_+-=[]{}|'";

/// argon2id with OWASP's first recommended setting: 19 MiB, 2 passes, one lane.
fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("fixed, valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The PHC string of `password`'s hash, with a fresh salt.
pub fn hash(password: &str) -> String {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).expect("the operating system's random source failed");
    let salt = SaltString::encode_b64(&salt).expect("16 bytes make a valid salt");
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2id hashes any password up to IAM's 128 characters")
        .to_string()
}

/// Whether `password` is the one `phc` is the hash of (in constant time, by argon2's own
/// comparison). A hash that does not parse matches nothing.
pub fn verify(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|parsed| hasher().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// Why `password` breaks the account's policy (or, with none, AWS's default policy: at
/// least 8 characters, of at least three of the four kinds), in IAM's words; `None` if it
/// does not.
pub fn violation(policy: Option<&PasswordPolicyRow>, password: &str) -> Option<String> {
    let length = password.chars().count();
    let upper = password.chars().any(|c| c.is_ascii_uppercase());
    let lower = password.chars().any(|c| c.is_ascii_lowercase());
    let number = password.chars().any(|c| c.is_ascii_digit());
    let symbol = password.chars().any(|c| SYMBOLS.contains(c));
    let Some(policy) = policy else {
        if length < 8 {
            return Some("Password should have a minimum length of 8".to_owned());
        }
        let missing: Vec<&str> = [
            (upper, "Password should have at least one uppercase letter"),
            (lower, "Password should have at least one lowercase letter"),
            (number, "Password should have at least one number"),
            (symbol, "Password should have at least one symbol"),
        ]
        .into_iter()
        .filter(|(present, _)| !present)
        .map(|(_, rule)| rule)
        .collect();
        let short_by = missing.len().saturating_sub(1);
        return (short_by > 0).then(|| {
            format!(
                "Password should meet {short_by} more of the following requirements: {}",
                missing.join(", ")
            )
        });
    };
    if (length as i64) < policy.minimum_length {
        return Some(format!(
            "Password should have a minimum length of {}",
            policy.minimum_length
        ));
    }
    [
        (
            policy.require_uppercase && !upper,
            "Password should have at least one uppercase letter",
        ),
        (
            policy.require_lowercase && !lower,
            "Password should have at least one lowercase letter",
        ),
        (
            policy.require_numbers && !number,
            "Password should have at least one number",
        ),
        (
            policy.require_symbols && !symbol,
            "Password should have at least one symbol",
        ),
    ]
    .into_iter()
    .find(|(broken, _)| *broken)
    .map(|(_, rule)| rule.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let phc = hash("Correct-Horse-1");
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify("Correct-Horse-1", &phc));
        assert!(!verify("Correct-Horse-2", &phc));
        assert!(!verify("Correct-Horse-1", "not a hash"));
        assert_ne!(hash("same"), hash("same"), "salts are fresh");
    }

    #[test]
    fn the_default_policy_wants_8_characters_of_3_kinds() {
        assert_eq!(
            violation(None, "Ab1!").as_deref(),
            Some("Password should have a minimum length of 8")
        );
        assert_eq!(
            violation(None, "abcdefgh1").as_deref(),
            Some(
                "Password should meet 1 more of the following requirements: Password should have at least one uppercase letter, Password should have at least one symbol"
            )
        );
        assert_eq!(
            violation(None, "abcdefgh").as_deref(),
            Some(
                "Password should meet 2 more of the following requirements: Password should have at least one uppercase letter, Password should have at least one number, Password should have at least one symbol"
            )
        );
        assert_eq!(violation(None, "abcdefG1"), None);
        assert_eq!(violation(None, "abcdefg!1"), None);
    }

    #[test]
    fn a_custom_policy_names_the_first_rule_broken() {
        let policy = PasswordPolicyRow {
            minimum_length: 12,
            require_uppercase: true,
            require_numbers: true,
            require_symbols: true,
            ..PasswordPolicyRow::default()
        };
        let v = |p: &str| violation(Some(&policy), p);
        assert_eq!(
            v("short").as_deref(),
            Some("Password should have a minimum length of 12")
        );
        assert_eq!(
            v("lowercase only!1").as_deref(),
            Some("Password should have at least one uppercase letter")
        );
        assert_eq!(
            v("Upper but no number!").as_deref(),
            Some("Password should have at least one number")
        );
        // Only IAM's twenty symbols count: `.` and `~` are none of them.
        assert_eq!(
            v("Upper and 1 number.~").as_deref(),
            Some("Password should have at least one symbol")
        );
        assert_eq!(v("Upper, 1 number, and {}"), None);
        // A policy without rules takes any password of its length.
        let lax = PasswordPolicyRow {
            minimum_length: 6,
            ..PasswordPolicyRow::default()
        };
        assert_eq!(violation(Some(&lax), "aaaaaa"), None);
    }
}
