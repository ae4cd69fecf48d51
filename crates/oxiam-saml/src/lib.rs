//! SAML 2.0 responses as AssumeRoleWithSAML takes them: the response read into a hardened
//! XML tree ([`xml`]), its enveloped signatures checked ([`signature`]) over exclusive
//! canonicalization ([`c14n`]), and what its one assertion says read out ([`response`]).
//! Pure: no I/O. What the assertion must say for AWS (issuer, audience, recipient, times,
//! the Role attribute) is decided by the caller.
//!
//! Written here rather than taken from a crate: the Rust SAML crates verify signatures
//! through libxml2 and xmlsec (C libraries this project does not build), and the pure ones
//! found either skip canonicalization or check a signature without tying it to the element
//! read. The pieces are small and tested against an independent implementation (lxml's
//! canonicalization, signxml's signatures: `tests/fixtures/generate.py`).

pub mod c14n;
pub mod encryption;
pub mod response;
pub mod signature;
pub mod xml;

pub use encryption::{DecryptionError, DecryptionKey};
pub use response::{Assertion, Confirmation, ResponseError, Signed, read, read_with};
pub use signature::{RsaPublicKey, SignatureError};
