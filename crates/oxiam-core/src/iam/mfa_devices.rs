//! Virtual MFA devices with real TOTP codes: CreateVirtualMFADevice, EnableMFADevice,
//! ResyncMFADevice, DeactivateMFADevice, DeleteVirtualMFADevice, ListMFADevices,
//! ListVirtualMFADevices, GetMFADevice, ListMFADeviceTags (Tag and Untag live with the
//! other tags), and the check of a code that STS makes ([`Oxiam::verify_mfa_code`]).
//!
//! A code is good once: each accepted code moves the device's last accepted time step, and
//! a code of that step or an earlier one is refused from then on.

use oxiam_protocol::iam::{
    AssignmentStatusType, CreateVirtualMFADeviceRequest, CreateVirtualMFADeviceResponse, DeactivateMFADeviceRequest,
    DeleteVirtualMFADeviceRequest, EnableMFADeviceRequest, GetMFADeviceRequest, GetMFADeviceResponse,
    ListMFADeviceTagsRequest, ListMFADeviceTagsResponse, ListMFADevicesRequest, ListMFADevicesResponse,
    ListVirtualMFADevicesRequest, ListVirtualMFADevicesResponse, MFADevice, ResyncMFADeviceRequest, VirtualMFADevice,
    errors as iam_errors,
};
use oxiam_protocol::{ServiceError, Timestamp};
use oxiam_store::{AssignmentFilter, Guarded, MfaDeviceRow, NewMfaDevice, StoreError};

use super::users::UserOrRoot;
use super::{BLOCK_SECONDS, GUESSES_BEFORE_BLOCK, page, page_size, tag_page};
use crate::{Oxiam, Principal, PrincipalKind, errors, ids, totp};

/// MFA devices one user may have enabled (AWS's quota).
const MFA_DEVICES_PER_USER: i64 = 8;

/// How far back (in steps) the first of EnableMFADevice's two consecutive codes may be: a
/// person types two codes, 30 s apart, and sends them. (One step ahead too, for a device
/// whose clock runs a little fast.)
const ENABLE_WINDOW_STEPS: i64 = 4;

/// The longest serial number (SerialNumber's length constraint everywhere it is taken).
const MAX_SERIAL_LENGTH: usize = 256;

/// STS's answer to a code that is not the device's, spent, or not tried.
const INVALID_CODE: &str = "MultiFactorAuthentication failed with invalid MFA one time pass code.";

/// STS's answer to a serial number that is not the caller's device (or to a request that
/// gives only one of SerialNumber and TokenCode).
pub(crate) const UNABLE_TO_VALIDATE: &str = "MultiFactorAuthentication failed, unable to validate MFA code.";

/// How far either way ResyncMFADevice looks for two consecutive codes: a device whose clock
/// has drifted by up to ten minutes is found again.
const RESYNC_WINDOW_STEPS: i64 = 20;

/// The issuer authenticator apps show beside the device's name.
const ISSUER: &str = "oxiam";

fn invalid_code() -> ServiceError {
    ServiceError::new(
        iam_errors::INVALID_AUTHENTICATION_CODE,
        "Authentication code for device is not valid.",
    )
}

/// The `otpauth://` URI authenticator apps read from the QR code.
fn otpauth_uri(name: &str, account_id: &str, seed: &str) -> String {
    let label: String = format!("{ISSUER}:{name}@{account_id}")
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => char::from(b).to_string(),
            // The issuer's colon stays as it is: apps split the label on it.
            b':' => ":".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!("otpauth://totp/{label}?secret={seed}&issuer={ISSUER}&algorithm=SHA1&digits=6&period=30")
}

/// A PNG of `text`'s QR code: black modules on white, with the standard four-module quiet
/// zone, `scale` pixels per module, one bit per pixel; `None` if the text does not fit in
/// a QR code.
fn qr_png(text: &str, scale: usize) -> Option<Vec<u8>> {
    let code = qrcode::QrCode::new(text.as_bytes()).ok()?;
    let width = code.width();
    let colors = code.to_colors();
    let quiet = 4;
    let side = (width + 2 * quiet) * scale;
    let row_bytes = side.div_ceil(8);
    let mut pixels = vec![0xffu8; row_bytes * side];
    for y in 0..side {
        for x in 0..side {
            let (mx, my) = ((x / scale).wrapping_sub(quiet), (y / scale).wrapping_sub(quiet));
            let dark = mx < width && my < width && colors[my * width + mx] == qrcode::Color::Dark;
            if dark {
                pixels[y * row_bytes + x / 8] &= !(0x80 >> (x % 8));
            }
        }
    }
    let mut out = Vec::new();
    let side = u32::try_from(side).expect("a QR code is a few hundred pixels wide");
    let mut encoder = png::Encoder::new(&mut out, side, side);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::One);
    let mut writer = encoder.write_header().expect("writing a PNG to memory cannot fail");
    writer
        .write_image_data(&pixels)
        .expect("the image data is exactly the header's size");
    writer.finish().expect("writing a PNG to memory cannot fail");
    Some(out)
}

/// The first step `t` within `steps` at which `first` and `second` are the codes of `t` and
/// `t + 1`.
fn consecutive(seed: &[u8], steps: std::ops::RangeInclusive<i64>, first: &str, second: &str) -> Option<i64> {
    steps
        .into_iter()
        .find(|&t| totp::is_code(seed, t, first) && totp::is_code(seed, t + 1, second))
}

impl Oxiam {
    /// The seed of a stored device, or a server fault if it does not open.
    fn mfa_seed(&self, device: &MfaDeviceRow) -> Result<Vec<u8>, ServiceError> {
        self.secrets
            .open(&device.serial_number, &device.seed_sealed)
            .ok()
            .and_then(|text| totp::from_base32(&text))
            .ok_or_else(|| errors::service_failure(&format_args!("the seed of {} does not open", device.serial_number)))
    }

    /// The user a request names, else the calling user: `(user_id, name)`, or `None` for the
    /// account root (which has no virtual MFA device of its own in oxiam).
    async fn mfa_user(
        &self,
        caller: &Principal,
        user_name: Option<&str>,
    ) -> Result<Option<(String, String)>, ServiceError> {
        Ok(match self.user_or_caller(caller, user_name).await? {
            UserOrRoot::User(id, name) => Some((id, name)),
            UserOrRoot::Root => None,
        })
    }

    pub(super) async fn create_virtual_mfa_device(
        &self,
        caller: &Principal,
        input: CreateVirtualMFADeviceRequest,
        now: i64,
    ) -> Result<CreateVirtualMFADeviceResponse, ServiceError> {
        let path = input.path.as_deref().unwrap_or("/");
        let name = &input.virtual_mfa_device_name;
        let tags = crate::tags::pairs(input.tags)?;
        let serial = ids::mfa_serial_number(&caller.account_id, path, name);
        // Every operation that names the device takes a serial number of at most 256
        // characters: a longer one would make a device nothing could enable or delete.
        if serial.len() > MAX_SERIAL_LENGTH {
            return Err(ServiceError::new(
                oxiam_protocol::common_errors::VALIDATION_ERROR,
                format!(
                    "1 validation error detected: Value at 'virtualMFADeviceName' failed to satisfy constraint: the serial number it makes with the path, {serial}, must have length less than or equal to {MAX_SERIAL_LENGTH}"
                ),
            ));
        }
        let mut seed = [0u8; totp::SEED_BYTES];
        getrandom::fill(&mut seed).expect("the operating system's random source failed");
        let seed = totp::base32(&seed);
        // Made before anything is stored: a device is never kept without its QR code shown.
        let qr = qr_png(&otpauth_uri(name, &caller.account_id, &seed), 6)
            .ok_or_else(|| errors::service_failure(&"the otpauth URI does not fit in a QR code"))?;
        self.store
            .create_mfa_device(NewMfaDevice {
                serial_number: &serial,
                account_id: &caller.account_id,
                name,
                path,
                seed_sealed: &self.secrets.seal(&serial, &seed),
                created_at: now,
                tags: &tags,
            })
            .await
            .map_err(errors::store)?;
        Ok(CreateVirtualMFADeviceResponse {
            virtual_mfa_device: VirtualMFADevice {
                serial_number: serial,
                base32_string_seed: Some(seed.into_bytes()),
                qr_code_png: Some(qr),
                user: None,
                enable_date: None,
                tags: crate::tags::to_tags(&tags),
            },
        })
    }

    pub(super) async fn enable_mfa_device(
        &self,
        caller: &Principal,
        input: EnableMFADeviceRequest,
        now: i64,
    ) -> Result<(), ServiceError> {
        let user = self
            .store
            .get_user(&caller.account_id, &input.user_name)
            .await
            .map_err(errors::store)?;
        let device = self
            .store
            .get_mfa_device(&caller.account_id, &input.serial_number)
            .await
            .map_err(errors::store)?;
        if device.user.is_some() {
            return Err(device_in_use());
        }
        let seed = self.mfa_seed(&device)?;
        let current = totp::step_at(now);
        let first = consecutive(
            &seed,
            current - ENABLE_WINDOW_STEPS..=current + 1,
            &input.authentication_code1,
            &input.authentication_code2,
        )
        .ok_or_else(invalid_code)?;
        self.store
            .enable_mfa_device(
                &caller.account_id,
                &device.serial_number,
                (&user.user_id, &user.name),
                now,
                first + 1,
                MFA_DEVICES_PER_USER,
            )
            .await
            .map_err(|e| match e {
                StoreError::Conflict { .. } => device_in_use(),
                StoreError::LimitExceeded => ServiceError::new(
                    iam_errors::LIMIT_EXCEEDED,
                    format!("Cannot exceed quota for MFADevicesPerUser: {MFA_DEVICES_PER_USER}"),
                ),
                e => errors::store(e),
            })
    }

    /// The device enabled for the user a request names (else the calling user), or
    /// NoSuchEntity.
    async fn enabled_device(
        &self,
        caller: &Principal,
        user_name: Option<&str>,
        serial: &str,
    ) -> Result<(MfaDeviceRow, (String, String)), ServiceError> {
        let user = self.mfa_user(caller, user_name).await?;
        let device = self
            .store
            .get_mfa_device(&caller.account_id, serial)
            .await
            .map_err(errors::store)?;
        match (user, &device.user) {
            (Some(user), Some((enabled_for, _))) if *enabled_for == user.0 => Ok((device, user)),
            _ => Err(not_enabled(serial)),
        }
    }

    pub(super) async fn resync_mfa_device(
        &self,
        caller: &Principal,
        input: ResyncMFADeviceRequest,
        now: i64,
    ) -> Result<(), ServiceError> {
        let (device, (user_id, _)) = self
            .enabled_device(caller, Some(&input.user_name), &input.serial_number)
            .await?;
        let seed = self.mfa_seed(&device)?;
        let current = totp::step_at(now);
        let first = consecutive(
            &seed,
            current - RESYNC_WINDOW_STEPS..=current + RESYNC_WINDOW_STEPS,
            &input.authentication_code1,
            &input.authentication_code2,
        )
        .ok_or_else(invalid_code)?;
        let accepted = self
            .store
            .accept_mfa_step(&device.serial_number, &user_id, first + 1, Some(first + 1 - current))
            .await
            .map_err(errors::store)?;
        if accepted { Ok(()) } else { Err(invalid_code()) }
    }

    pub(super) async fn deactivate_mfa_device(
        &self,
        caller: &Principal,
        input: DeactivateMFADeviceRequest,
    ) -> Result<(), ServiceError> {
        let (device, (user_id, _)) = self
            .enabled_device(caller, input.user_name.as_deref(), &input.serial_number)
            .await?;
        self.store
            .deactivate_mfa_device(&caller.account_id, &device.serial_number, &user_id)
            .await
            .map_err(|e| match e {
                StoreError::NotFound { .. } => not_enabled(&input.serial_number),
                e => errors::store(e),
            })
    }

    pub(super) async fn delete_virtual_mfa_device(
        &self,
        caller: &Principal,
        input: DeleteVirtualMFADeviceRequest,
    ) -> Result<(), ServiceError> {
        self.store
            .delete_mfa_device(&caller.account_id, &input.serial_number)
            .await
            .map_err(|e| match e {
                StoreError::DeleteConflict(_) => {
                    ServiceError::new(iam_errors::DELETE_CONFLICT, "MFA device is still in use.")
                }
                e => errors::store(e),
            })
    }

    pub(super) async fn list_mfa_devices(
        &self,
        caller: &Principal,
        input: ListMFADevicesRequest,
    ) -> Result<ListMFADevicesResponse, ServiceError> {
        let Some((user_id, _)) = self.mfa_user(caller, input.user_name.as_deref()).await? else {
            return Ok(ListMFADevicesResponse {
                mfa_devices: Vec::new(),
                is_truncated: Some(false),
                marker: None,
            });
        };
        let devices = self
            .store
            .list_mfa_devices(&caller.account_id, AssignmentFilter::Assigned, Some(&user_id))
            .await
            .map_err(errors::store)?;
        let keyed = devices
            .into_iter()
            .filter_map(|d| {
                let (_, user_name) = d.user?;
                let entry = MFADevice {
                    user_name,
                    serial_number: d.serial_number.clone(),
                    enable_date: Timestamp(d.enabled_at.unwrap_or(d.created_at)),
                };
                Some((d.serial_number, entry))
            })
            .collect();
        let (mfa_devices, truncated, marker) = page(keyed, input.marker.as_deref(), page_size(input.max_items))?;
        Ok(ListMFADevicesResponse {
            mfa_devices,
            is_truncated: Some(truncated),
            marker,
        })
    }

    pub(super) async fn list_virtual_mfa_devices(
        &self,
        caller: &Principal,
        input: ListVirtualMFADevicesRequest,
    ) -> Result<ListVirtualMFADevicesResponse, ServiceError> {
        let filter = match input.assignment_status {
            Some(AssignmentStatusType::Assigned) => AssignmentFilter::Assigned,
            Some(AssignmentStatusType::Unassigned) => AssignmentFilter::Unassigned,
            _ => AssignmentFilter::Any,
        };
        let devices = self
            .store
            .list_mfa_devices(&caller.account_id, filter, None)
            .await
            .map_err(errors::store)?;
        let mut keyed = Vec::with_capacity(devices.len());
        for device in devices {
            let user = match &device.user {
                Some((_, name)) => match self.store.get_user(&caller.account_id, name).await {
                    Ok(row) => Some(super::users::user_of(&row, false)),
                    // Deleted meanwhile: listed as it now is, unassigned.
                    Err(StoreError::NotFound { .. }) => None,
                    Err(e) => return Err(errors::store(e)),
                },
                None => None,
            };
            let entry = VirtualMFADevice {
                serial_number: device.serial_number.clone(),
                base32_string_seed: None,
                qr_code_png: None,
                enable_date: user.as_ref().and(device.enabled_at).map(Timestamp),
                user,
                tags: None,
            };
            keyed.push((device.serial_number, entry));
        }
        let (virtual_mfa_devices, truncated, marker) =
            page(keyed, input.marker.as_deref(), page_size(input.max_items))?;
        Ok(ListVirtualMFADevicesResponse {
            virtual_mfa_devices,
            is_truncated: Some(truncated),
            marker,
        })
    }

    pub(super) async fn get_mfa_device(
        &self,
        caller: &Principal,
        input: GetMFADeviceRequest,
    ) -> Result<GetMFADeviceResponse, ServiceError> {
        let (device, (_, user_name)) = self
            .enabled_device(caller, input.user_name.as_deref(), &input.serial_number)
            .await?;
        Ok(GetMFADeviceResponse {
            user_name: Some(user_name),
            serial_number: device.serial_number,
            enable_date: device.enabled_at.map(Timestamp),
            certifications: None,
        })
    }

    pub(super) async fn list_mfa_device_tags(
        &self,
        caller: &Principal,
        input: ListMFADeviceTagsRequest,
    ) -> Result<ListMFADeviceTagsResponse, ServiceError> {
        let device = self
            .store
            .get_mfa_device(&caller.account_id, &input.serial_number)
            .await
            .map_err(errors::store)?;
        let (tags, truncated, marker) = tag_page(&device.tags, input.marker.as_deref(), input.max_items)?;
        Ok(ListMFADeviceTagsResponse {
            tags,
            is_truncated: Some(truncated),
            marker,
        })
    }

    /// Checks an MFA code that STS is given (GetSessionToken, AssumeRole) for the device
    /// `serial` enabled for `caller`, a user: the code of the current time step (after the
    /// device's drift) or of the one either side, not used before. Each accepted code is
    /// spent; after [`GUESSES_BEFORE_BLOCK`] codes without a good one the device takes
    /// none for [`BLOCK_SECONDS`]. Any failure is AWS's AccessDenied, whatever the reason.
    pub(crate) async fn verify_mfa_code(
        &self,
        caller: &Principal,
        serial: &str,
        code: &str,
        now: i64,
    ) -> Result<(), ServiceError> {
        let refused = |message: &str| ServiceError::new(oxiam_protocol::common_errors::ACCESS_DENIED, message);
        let PrincipalKind::User { user_id, .. } = &caller.kind else {
            return Err(refused(UNABLE_TO_VALIDATE));
        };
        let device = match self.store.get_mfa_device(&caller.account_id, serial).await {
            Ok(device) if device.user.as_ref().is_some_and(|(id, _)| id == user_id) => device,
            Ok(_) | Err(StoreError::NotFound { .. }) => return Err(refused(UNABLE_TO_VALIDATE)),
            Err(e) => return Err(errors::store(e)),
        };
        // Counted before the code is looked at, so that parallel guesses are counted too.
        let guarded = Guarded::MfaDevice(&device.serial_number);
        let may_try = self
            .store
            .reserve_guess(guarded, now, GUESSES_BEFORE_BLOCK)
            .await
            .map_err(errors::store)?;
        if !may_try {
            return Err(refused(INVALID_CODE).with_cause(&"the device is blocked after too many wrong codes"));
        }
        let seed = self.mfa_seed(&device)?;
        let current = totp::step_at(now) + device.drift_steps;
        let accepted = match (current - 1..=current + 1).find(|&t| totp::is_code(&seed, t, code)) {
            Some(step) => self
                .store
                .accept_mfa_step(&device.serial_number, user_id, step, None)
                .await
                .map_err(errors::store)?,
            None => false,
        };
        if accepted {
            return Ok(());
        }
        // (A good code starts the count again in the update that spends it.)
        self.store
            .wrong_guess(guarded, now + BLOCK_SECONDS, GUESSES_BEFORE_BLOCK)
            .await
            .map_err(errors::store)?;
        Err(refused(INVALID_CODE))
    }
}

/// NoSuchEntity for a device that is not enabled for the user named (oxiam's wording).
fn not_enabled(serial: &str) -> ServiceError {
    ServiceError::new(
        iam_errors::NO_SUCH_ENTITY,
        format!("MFA Device with serial number {serial} does not exist."),
    )
}

fn device_in_use() -> ServiceError {
    ServiceError::new(iam_errors::ENTITY_ALREADY_EXISTS, "MFA Device is already in use.")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The PNG scans: decoded as an image and read by a QR decoder (rqrr), it gives the URI.
    #[test]
    fn the_qr_code_scans_as_the_uri() {
        let uri = otpauth_uri("phone", "123456789012", "JBSWY3DPEHPK3PXP");
        let png = qr_png(&uri, 6).unwrap();
        let mut decoder = png::Decoder::new(std::io::Cursor::new(&png));
        decoder.set_transformations(png::Transformations::EXPAND);
        let mut reader = decoder.read_info().unwrap();
        let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
        let frame = reader.next_frame(&mut pixels).unwrap();
        assert_eq!(frame.width, frame.height);
        let (width, height) = (frame.width as usize, frame.height as usize);
        let stride = frame.line_size;
        let mut image = rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| pixels[y * stride + x]);
        let grids = image.detect_grids();
        assert_eq!(grids.len(), 1);
        let (_, content) = grids[0].decode().unwrap();
        assert_eq!(content, uri);
    }

    #[test]
    fn the_uri_names_the_issuer_and_the_seed() {
        assert_eq!(
            otpauth_uri("my phone", "123456789012", "ABC"),
            "otpauth://totp/oxiam:my%20phone%40123456789012?secret=ABC&issuer=oxiam&algorithm=SHA1&digits=6&period=30"
        );
    }

    #[test]
    fn two_codes_must_be_consecutive() {
        let seed = b"12345678901234567890";
        let (a, b, c) = (totp::code(seed, 10), totp::code(seed, 11), totp::code(seed, 12));
        assert_eq!(consecutive(seed, 6..=10, &a, &b), Some(10));
        assert_eq!(consecutive(seed, 6..=11, &b, &c), Some(11));
        assert_eq!(consecutive(seed, 6..=10, &a, &c), None);
        assert_eq!(consecutive(seed, 6..=10, &b, &a), None);
        assert_eq!(consecutive(seed, 6..=10, &a, &a), None);
    }
}
