//! X.509 certificates: a user's signing certificates (UploadSigningCertificate,
//! ListSigningCertificates, UpdateSigningCertificate, DeleteSigningCertificate) and the
//! account's server certificates (UploadServerCertificate, GetServerCertificate,
//! ListServerCertificates, UpdateServerCertificate, DeleteServerCertificate,
//! ListServerCertificateTags; Tag and Untag live with the other tags).
//!
//! A certificate is parsed and must be valid at upload; a server certificate's private key
//! must be its own (RSA or ECDSA P-256/P-384, unencrypted PEM), and its chain must certify
//! it link by link. The private key is sealed at rest and never returned. oxiam serves no
//! SOAP, load balancer or CDN, so the certificates are kept for the tools that manage them.

use oxiam_protocol::iam::{
    DeleteServerCertificateRequest, DeleteSigningCertificateRequest, GetServerCertificateRequest,
    GetServerCertificateResponse, ListServerCertificateTagsRequest, ListServerCertificateTagsResponse,
    ListServerCertificatesRequest, ListServerCertificatesResponse, ListSigningCertificatesRequest,
    ListSigningCertificatesResponse, ServerCertificate, ServerCertificateMetadata, SigningCertificate, StatusType,
    UpdateServerCertificateRequest, UpdateSigningCertificateRequest, UploadServerCertificateRequest,
    UploadServerCertificateResponse, UploadSigningCertificateRequest, UploadSigningCertificateResponse,
    errors as iam_errors,
};
use oxiam_protocol::{ServiceError, Timestamp};
use oxiam_store::{ServerCertificateRow, SigningCertificateRow, StoreError};
use sha1::Digest as _;

use super::users::UserOrRoot;
use super::{page, page_size, settable_active, status_of, tag_page};
use crate::x509::{Certificate, CertificateKey, PrivateKeyError};
use crate::{Oxiam, Principal, errors, ids, totp};

/// Signing certificates one user (or the root) may have (AWS's quota).
const SIGNING_CERTIFICATES_PER_USER: i64 = 2;

/// Server certificates one account may have (AWS's default quota).
const SERVER_CERTIFICATES_PER_ACCOUNT: i64 = 20;

/// The RSA key sizes a server certificate may have: what aws-lc-rs checks a private key of.
const SERVER_RSA_BITS: std::ops::RangeInclusive<usize> = 2048..=8192;

fn malformed(message: impl Into<String>) -> ServiceError {
    ServiceError::new(iam_errors::MALFORMED_CERTIFICATE, message.into())
}

/// AWS's answer to a server certificate body that is not one PEM certificate.
fn unparsable() -> ServiceError {
    malformed("Unable to parse certificate. Please ensure the certificate is in PEM format.")
}

/// A signing certificate's id: the SHA-1 digest of its DER in base32, 32 characters (the
/// length of AWS's), the same for the same certificate.
fn signing_certificate_id(certificate: &Certificate) -> String {
    totp::base32(&sha1::Sha1::digest(&certificate.der))
}

/// PEM as AWS keeps it: line ends made `\n`, white space around trimmed.
fn normalized(pem: &str) -> String {
    pem.replace("\r\n", "\n").trim().to_owned()
}

fn server_certificate_arn(account_id: &str, path: &str, name: &str) -> String {
    format!("arn:aws:iam::{account_id}:server-certificate{path}{name}")
}

fn metadata(row: &ServerCertificateRow) -> ServerCertificateMetadata {
    ServerCertificateMetadata {
        path: row.path.clone(),
        server_certificate_name: row.name.clone(),
        server_certificate_id: row.server_certificate_id.clone(),
        arn: server_certificate_arn(&row.account_id, &row.path, &row.name),
        upload_date: Some(Timestamp(row.uploaded_at)),
        expiration: Some(Timestamp(row.expires_at)),
    }
}

/// Checks a server certificate's chain: its first certificate signed the certificate, and
/// each next one the one before. The error names the first link that does not hold, by the
/// index in the chain of the certificate that is not certified (-1: the certificate
/// itself).
fn check_chain(certificate: &Certificate, chain: &[Certificate]) -> Result<(), ServiceError> {
    let links = std::iter::once(certificate).chain(chain).zip(chain);
    for (index, (signed, signer)) in (-1i64..).zip(links) {
        if !signed.is_signed_by(signer) {
            return Err(malformed(format!(
                "Unable to validate certificate chain. The certificate chain must start with the immediate signing \
                 certificate, followed by any intermediaries in order. The index within the chain of the invalid \
                 certificate is: {index}"
            )));
        }
    }
    Ok(())
}

impl Oxiam {
    /// Whose signing certificates a request is about: `(owner id, user name)`, the root's
    /// being the account's id (and named so).
    async fn certificate_owner(
        &self,
        caller: &Principal,
        user_name: Option<&str>,
    ) -> Result<(String, Option<String>), ServiceError> {
        Ok(match self.user_or_caller(caller, user_name).await? {
            UserOrRoot::User(id, name) => (id, Some(name)),
            UserOrRoot::Root => (caller.account_id.clone(), None),
        })
    }

    pub(super) async fn upload_signing_certificate(
        &self,
        caller: &Principal,
        input: UploadSigningCertificateRequest,
        now: i64,
    ) -> Result<UploadSigningCertificateResponse, ServiceError> {
        let (owner_id, user_name) = self.certificate_owner(caller, input.user_name.as_deref()).await?;
        let body = input.certificate_body;
        let parsed = match Certificate::all_from_pem(&body).as_deref() {
            Some([one]) if one.valid_at(now) => one.clone(),
            _ => return Err(malformed(format!("Certificate {body} is malformed."))),
        };
        let row = SigningCertificateRow {
            certificate_id: signing_certificate_id(&parsed),
            owner_id,
            body,
            active: true,
            uploaded_at: now,
        };
        self.store
            .add_signing_certificate(
                &caller.account_id,
                user_name.as_deref(),
                &row,
                SIGNING_CERTIFICATES_PER_USER,
            )
            .await
            .map_err(|e| match e {
                StoreError::LimitExceeded => ServiceError::new(
                    iam_errors::LIMIT_EXCEEDED,
                    format!("Cannot exceed quota for CertificatesPerUser: {SIGNING_CERTIFICATES_PER_USER}"),
                ),
                StoreError::Conflict { .. } => ServiceError::new(
                    iam_errors::DUPLICATE_CERTIFICATE,
                    "The request was rejected because the same certificate is associated with an IAM user in the \
                     account.",
                ),
                e => errors::store(e),
            })?;
        Ok(UploadSigningCertificateResponse {
            certificate: SigningCertificate {
                user_name: user_name.unwrap_or_else(|| caller.account_id.clone()),
                certificate_id: row.certificate_id,
                certificate_body: row.body,
                status: StatusType::Active,
                upload_date: Some(Timestamp(now)),
            },
        })
    }

    pub(super) async fn list_signing_certificates(
        &self,
        caller: &Principal,
        input: ListSigningCertificatesRequest,
    ) -> Result<ListSigningCertificatesResponse, ServiceError> {
        let (owner_id, user_name) = self.certificate_owner(caller, input.user_name.as_deref()).await?;
        let user_name = user_name.unwrap_or_else(|| caller.account_id.clone());
        let rows = self
            .store
            .list_signing_certificates(&owner_id)
            .await
            .map_err(errors::store)?;
        let keyed = rows
            .into_iter()
            .map(|row| {
                let key = format!("{:020}/{}", row.uploaded_at, row.certificate_id);
                let certificate = SigningCertificate {
                    user_name: user_name.clone(),
                    certificate_id: row.certificate_id,
                    certificate_body: row.body,
                    status: status_of(row.active),
                    upload_date: Some(Timestamp(row.uploaded_at)),
                };
                (key, certificate)
            })
            .collect();
        let (certificates, truncated, marker) = page(keyed, input.marker.as_deref(), page_size(input.max_items))?;
        Ok(ListSigningCertificatesResponse {
            certificates,
            is_truncated: Some(truncated),
            marker,
        })
    }

    pub(super) async fn update_signing_certificate(
        &self,
        caller: &Principal,
        input: UpdateSigningCertificateRequest,
    ) -> Result<(), ServiceError> {
        let active = settable_active(input.status)?;
        let (owner_id, _) = self.certificate_owner(caller, input.user_name.as_deref()).await?;
        self.store
            .set_signing_certificate_active(&owner_id, &input.certificate_id, active)
            .await
            .map_err(errors::store)
    }

    pub(super) async fn delete_signing_certificate(
        &self,
        caller: &Principal,
        input: DeleteSigningCertificateRequest,
    ) -> Result<(), ServiceError> {
        let (owner_id, _) = self.certificate_owner(caller, input.user_name.as_deref()).await?;
        self.store
            .delete_signing_certificate(&owner_id, &input.certificate_id)
            .await
            .map_err(errors::store)
    }

    pub(super) async fn upload_server_certificate(
        &self,
        caller: &Principal,
        input: UploadServerCertificateRequest,
        now: i64,
    ) -> Result<UploadServerCertificateResponse, ServiceError> {
        let body = normalized(&input.certificate_body);
        let certificate = match Certificate::all_from_pem(&body) {
            Some(mut all) if all.len() == 1 => all.remove(0),
            _ => return Err(unparsable()),
        };
        if !certificate.valid_at(now) {
            return Err(malformed(format!(
                "The certificate is not valid at this time: it is valid from {} to {}.",
                Timestamp(certificate.not_before).to_iso8601(),
                Timestamp(certificate.not_after).to_iso8601()
            )));
        }
        match certificate.key {
            CertificateKey::Rsa { bits, .. } if SERVER_RSA_BITS.contains(&bits) => {}
            CertificateKey::Ec { .. } => {}
            _ => {
                return Err(malformed(
                    "The certificate's key must be RSA of 2048 to 8192 bits, or ECDSA on P-256 or P-384.",
                ));
            }
        }
        let chain = match input.certificate_chain.as_deref().map(normalized) {
            Some(text) => {
                let links = Certificate::all_from_pem(&text).ok_or_else(|| {
                    malformed("Unable to parse certificate chain. Please ensure the chain is in PEM format.")
                })?;
                check_chain(&certificate, &links)?;
                Some(text)
            }
            None => None,
        };
        let private_key = input.private_key.0;
        certificate.check_private_key(&private_key).map_err(|e| match e {
            PrivateKeyError::Unreadable => {
                malformed("Unable to parse private key. Please ensure it is one unencrypted key in PEM format.")
            }
            PrivateKeyError::Mismatch => ServiceError::new(
                iam_errors::KEY_PAIR_MISMATCH,
                "The public key of the certificate does not match the private key.",
            ),
        })?;
        let tags = crate::tags::pairs(input.tags)?;
        let server_certificate_id = ids::server_certificate_id();
        let row = ServerCertificateRow {
            private_key_sealed: self.secrets.seal(&server_certificate_id, &private_key),
            server_certificate_id,
            account_id: caller.account_id.clone(),
            name: input.server_certificate_name,
            path: input.path.unwrap_or_else(|| "/".to_owned()),
            body,
            chain,
            expires_at: certificate.not_after,
            uploaded_at: now,
            tags,
        };
        self.store
            .create_server_certificate(&row, SERVER_CERTIFICATES_PER_ACCOUNT)
            .await
            .map_err(|e| match e {
                StoreError::LimitExceeded => ServiceError::new(
                    iam_errors::LIMIT_EXCEEDED,
                    format!("Cannot exceed quota for ServerCertificatesPerAccount: {SERVER_CERTIFICATES_PER_ACCOUNT}"),
                ),
                e => errors::store(e),
            })?;
        Ok(UploadServerCertificateResponse {
            server_certificate_metadata: Some(metadata(&row)),
            tags: crate::tags::to_tags(&row.tags),
        })
    }

    pub(super) async fn get_server_certificate(
        &self,
        caller: &Principal,
        input: GetServerCertificateRequest,
    ) -> Result<GetServerCertificateResponse, ServiceError> {
        let row = self
            .store
            .get_server_certificate(&caller.account_id, &input.server_certificate_name)
            .await
            .map_err(errors::store)?;
        Ok(GetServerCertificateResponse {
            server_certificate: ServerCertificate {
                server_certificate_metadata: metadata(&row),
                certificate_body: row.body.clone(),
                certificate_chain: row.chain.clone(),
                // Always sent, empty when there are none, as AWS does.
                tags: Some(crate::tags::to_tags(&row.tags).unwrap_or_default()),
            },
        })
    }

    pub(super) async fn list_server_certificates(
        &self,
        caller: &Principal,
        input: ListServerCertificatesRequest,
    ) -> Result<ListServerCertificatesResponse, ServiceError> {
        let rows = self
            .store
            .list_server_certificates(&caller.account_id, input.path_prefix.as_deref().unwrap_or("/"))
            .await
            .map_err(errors::store)?;
        let keyed = rows.iter().map(|row| (row.name.clone(), metadata(row))).collect();
        let (list, truncated, marker) = page(keyed, input.marker.as_deref(), page_size(input.max_items))?;
        Ok(ListServerCertificatesResponse {
            server_certificate_metadata_list: list,
            is_truncated: Some(truncated),
            marker,
        })
    }

    pub(super) async fn update_server_certificate(
        &self,
        caller: &Principal,
        input: UpdateServerCertificateRequest,
    ) -> Result<(), ServiceError> {
        self.store
            .update_server_certificate(
                &caller.account_id,
                &input.server_certificate_name,
                input.new_server_certificate_name.as_deref(),
                input.new_path.as_deref(),
            )
            .await
            .map_err(errors::store)
    }

    pub(super) async fn delete_server_certificate(
        &self,
        caller: &Principal,
        input: DeleteServerCertificateRequest,
    ) -> Result<(), ServiceError> {
        self.store
            .delete_server_certificate(&caller.account_id, &input.server_certificate_name)
            .await
            .map_err(errors::store)
    }

    pub(super) async fn list_server_certificate_tags(
        &self,
        caller: &Principal,
        input: ListServerCertificateTagsRequest,
    ) -> Result<ListServerCertificateTagsResponse, ServiceError> {
        let row = self
            .store
            .get_server_certificate(&caller.account_id, &input.server_certificate_name)
            .await
            .map_err(errors::store)?;
        let (tags, truncated, marker) = tag_page(&row.tags, input.marker.as_deref(), input.max_items)?;
        Ok(ListServerCertificateTagsResponse {
            tags,
            is_truncated: Some(truncated),
            marker,
        })
    }
}
